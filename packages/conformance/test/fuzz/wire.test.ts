/**
 * Property tests of the wire: arbitrary request bodies, header values and upstream SSE streams through
 * the full chain. The proxy must never crash, never leave an unhandled rejection, answer only with
 * documented statuses (PRODUCT.md §2.2) and a JSON body when it answers an error itself, and keep serving.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DENIED_RPC_CODE, HEADER_MISMATCH_RPC_CODE } from '@bastion-mcp/authz';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { MCP_HEADERS, post, type RawServer, readText, rpc, startRawServer } from '../helpers/http.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

/** What the upstream will answer next: JSON (echo) or a raw SSE text under test. */
let nextSse: string | undefined;

let upstream: RawServer;
let proxy: TestProxy;
let agent: Agent;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  upstream = await startRawServer((req, res) => {
    void readText(req).then((body) => {
      let id: unknown = null;
      try {
        id = (JSON.parse(body) as { id?: unknown }).id ?? null;
      } catch {
        // keep null
      }
      if (nextSse !== undefined) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(nextSse);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id, result: { tools: [] } }));
    });
  });
  proxy = await startTestProxy(upstream.url, { chain: 'full', upstream: { headersTimeoutMs: 5_000 } });
  agent = new Agent({ connections: 4 });
});
afterAll(async () => {
  await agent.close();
  await proxy.close();
  await upstream.close();
  process.off('unhandledRejection', onUnhandled);
});

/** JSON-RPC codes of proxy-core's error table, authz's deny and mirrored-header mismatch, tool-filter's -32602. */
const DOCUMENTED_CODES = [-32700, -32600, -32601, -32602, -32603, DENIED_RPC_CODE, HEADER_MISMATCH_RPC_CODE];

/** Proxy error answers are JSON; JSON-RPC ones carry a documented code. */
function checkErrorBody(status: number, text: string): void {
  if (status === 200 || status === 202) return;
  const body = JSON.parse(text) as { error?: { code?: number } | string };
  if (typeof body.error === 'object') expect(DOCUMENTED_CODES).toContain(body.error.code);
}

async function stillServing(): Promise<void> {
  const a = await post(proxy.url, rpc('tools/list', {}, 'alive'), { dispatcher: agent });
  expect(a.status).toBe(200);
}

const jsonRpcish = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.string()),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.double(), fc.object()),
    method: fc.oneof(
      fc.constantFrom('tools/call', 'tools/list', 'prompts/get', 'resources/read', 'initialize', 'ping'),
      fc.string(),
    ),
    params: fc.oneof(
      fc.record(
        { name: fc.oneof(fc.string(), fc.integer()), arguments: fc.jsonValue() },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    ),
    result: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

describe('fuzzed request bodies', () => {
  it('answer 200, 400 or 413 with a JSON error body, never crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          jsonRpcish.map((v) => JSON.stringify(v)),
          fc.array(jsonRpcish, { maxLength: 3 }).map((v) => JSON.stringify(v)),
          fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
        async (body) => {
          nextSse = undefined;
          const a = await post(proxy.url, body, { dispatcher: agent });
          expect([200, 202, 400, 403, 413]).toContain(a.status);
          checkErrorBody(a.status, a.text);
        },
      ),
      { numRuns: 150 },
    );
    await stillServing();
    expect(unhandled).toEqual([]);
  }, 60_000);
});

describe('fuzzed header values', () => {
  // Visible ASCII and spaces: what an HTTP client can put on the wire.
  const headerValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,60}[\x21-\x7e])?$/);
  it('answer only documented statuses with JSON error bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(
            'mcp-protocol-version',
            'mcp-method',
            'mcp-name',
            'mcp-session-id',
            'last-event-id',
            'accept',
            'content-type',
            'origin',
            'x-request-id',
            'traceparent',
            'authorization',
          ),
          headerValue,
        ),
        fc.constantFrom('tools/call', 'tools/list', 'prompts/get'),
        async (headers, method) => {
          nextSse = undefined;
          const body = rpc(method, { name: 'echo', uri: 'demo://x', arguments: {} }, 7);
          const res = await request(proxy.url, {
            method: 'POST',
            headers: { ...MCP_HEADERS, ...headers },
            body,
            dispatcher: agent,
          });
          const text = await res.body.text();
          // 403 Origin/Host, 400 mirrored-header mismatch or bad version, 415 never (content-type is not checked).
          expect([200, 202, 400, 403]).toContain(res.statusCode);
          checkErrorBody(res.statusCode, text);
        },
      ),
      { numRuns: 150 },
    );
    await stillServing();
    expect(unhandled).toEqual([]);
  }, 60_000);
});

describe('fuzzed upstream SSE streams', () => {
  const line = fc.oneof(
    fc.constantFrom('event: message', 'data: {}', 'id: 1', 'retry: 10', ':', ': keep-alive', '', 'data:'),
    fc.jsonValue().map((v) => `data: ${JSON.stringify(v)}`),
    fc
      .record({
        jsonrpc: fc.constant('2.0'),
        id: fc.constant(1),
        result: fc.record({ tools: fc.jsonValue() }),
      })
      .map((v) => `data: ${JSON.stringify(v)}`),
    fc.string({ maxLength: 40 }),
  );
  const stream = fc
    .tuple(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'))
    .map(([lines, eol]) => lines.join(eol) + eol + eol);

  it('are relayed or cut (200) or refused as a bad response (502); the proxy stays up', async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.constantFrom('tools/list', 'tools/call'), async (sse, method) => {
        nextSse = sse;
        const res = await request(proxy.url, {
          method: 'POST',
          headers: MCP_HEADERS,
          body: rpc(method, { name: 'echo', arguments: {} }, 1),
          dispatcher: agent,
        });
        let text = '';
        try {
          text = await res.body.text();
        } catch {
          // a cut stream is an allowed outcome
        }
        expect([200, 502]).toContain(res.statusCode);
        if (res.statusCode === 502) checkErrorBody(502, text);
      }),
      { numRuns: 150 },
    );
    nextSse = undefined;
    await stillServing();
    expect(unhandled).toEqual([]);
  }, 60_000);
});
