/**
 * A small recording HTTP proxy in front of the real testkit IdP: every request the middleware sends
 * to the "STS" is recorded (method, path, headers, parsed form) and forwarded unchanged to the IdP.
 * Tests can also make it answer a canned response instead, to produce STS behaviours the real IdP
 * cannot be made to produce (5xx, malformed bodies); that is the only non-real part.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedStsRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The urlencoded form, as ordered entries (repeated keys kept). */
  readonly form: [string, string][];
}

export interface CannedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

export interface RecordingSts {
  readonly origin: string;
  /** Token endpoint on the recorder (same path as the IdP's). */
  readonly tokenEndpoint: string;
  readonly requests: RecordedStsRequest[];
  /** Answer the next requests with this response instead of forwarding (until `forward()`). */
  respondWith(response: CannedResponse): void;
  forward(): void;
  close(): Promise<void>;
}

export async function startRecordingSts(target: { tokenEndpoint: string }): Promise<RecordingSts> {
  const upstream = new URL(target.tokenEndpoint);
  const requests: RecordedStsRequest[] = [];
  let canned: CannedResponse | undefined;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      form: [...new URLSearchParams(raw.toString('utf8')).entries()],
    });
    if (canned) {
      res.writeHead(canned.status, { 'content-type': 'application/json', ...canned.headers });
      res.end(canned.body);
      return;
    }
    try {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
      }
      const answer = await fetch(new URL(req.url ?? '/', upstream.origin), {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : raw,
        redirect: 'manual',
      });
      const body = Buffer.from(await answer.arrayBuffer());
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k))
          out[k] = v;
      });
      res.writeHead(answer.status, out);
      res.end(body);
    } catch {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"recorder_upstream_failed"}');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    tokenEndpoint: `${origin}${upstream.pathname}${upstream.search}`,
    requests,
    respondWith(response) {
      canned = response;
    },
    forward() {
      canned = undefined;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
