/**
 * The stdio bridge's 2026-07-28 POST path (createModernBridge) against a real node:http server that
 * records what arrives and answers as each test scripts it: mirrored headers, JSON and SSE bodies,
 * HTTP errors without a JSON-RPC body, broken streams, cancellation, x-mcp-header learning.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BRIDGE_ERROR_CODE,
  createModernBridge,
  type IncomingMessage as BridgeMessage,
  type ModernBridge,
} from '../src/serve/modern-bridge.js';
import { encodeMcpHeaderValue, mcpHeaderNeedsBase64 } from '@bastion-mcp/proxy-core';
import { modernVersionOf } from '../src/serve/modern-wire.js';
import { toolParamHeaders } from '../src/serve/param-headers.js';

const VERSION = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': VERSION,
  'io.modelcontextprotocol/clientCapabilities': {},
};

interface Seen {
  headers: IncomingMessage['headers'];
  method: string | undefined;
  body: { id?: unknown; method?: string; params?: Record<string, unknown> };
}

type Handler = (seen: Seen, res: ServerResponse, req: IncomingMessage) => void;

let server: Server;
let url: string;
let handler: Handler;
let answerToolsList = true;
const seen: Seen[] = [];
const sockets = new Set<Socket>();
const silent = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: Seen = {
        headers: req.headers,
        method: req.method,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      };
      seen.push(entry);
      // A tools/call before any tools/list makes the bridge list the tools first (x-mcp-header learning).
      if (entry.body.method === 'tools/list' && answerToolsList) {
        return json(res, 200, { jsonrpc: '2.0', id: entry.body.id, result: { tools: [] } });
      }
      handler(entry, res, req);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const bridges: ModernBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.close()));
  seen.length = 0;
  answerToolsList = true;
});

function bridge(target = url): { bridge: ModernBridge; delivered: BridgeMessage[] } {
  const delivered: BridgeMessage[] = [];
  const b = createModernBridge({ url: target, logger: silent, deliver: (m) => void delivered.push(m) });
  bridges.push(b);
  return { bridge: b, delivered };
}

function json(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const request = (id: string | number, method: string, params: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0' as const,
  id,
  method,
  params: { _meta: META, ...params },
});

describe('modern wire helpers', () => {
  it('treats only non-session-era _meta versions as modern', () => {
    expect(modernVersionOf(request(1, 'tools/list'))).toBe(VERSION);
    for (const v of ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']) {
      const m = request(1, 'tools/list');
      m.params._meta = { ...META, 'io.modelcontextprotocol/protocolVersion': v };
      expect(modernVersionOf(m)).toBeUndefined();
    }
    expect(modernVersionOf({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })).toBeUndefined();
    expect(modernVersionOf({ jsonrpc: '2.0', id: 1, result: { _meta: META } })).toBeUndefined();
  });

  it('base64-encodes exactly the values a header cannot carry as they are', () => {
    expect(encodeMcpHeaderValue('us west 1')).toBe('us west 1');
    expect(encodeMcpHeaderValue('my-hyphenated-tool')).toBe('my-hyphenated-tool');
    for (const v of ['météo', ' padded', 'trailing ', '\tindented', 'line1\nline2', '=?base64?SGVsbG8=?=']) {
      expect(mcpHeaderNeedsBase64(v)).toBe(true);
      const m = /^=\?base64\?(.*)\?=$/.exec(encodeMcpHeaderValue(v));
      expect(Buffer.from(m?.[1] ?? '', 'base64').toString('utf8')).toBe(v);
    }
  });

  it('rejects invalid x-mcp-header annotations', () => {
    const schema = (props: Record<string, unknown>) => ({ type: 'object', properties: props });
    expect(toolParamHeaders(schema({ r: { type: 'string', 'x-mcp-header': 'Region' } }))).toEqual({
      headers: new Map([['r', 'Region']]),
    });
    for (const bad of [
      { a: { type: 'string', 'x-mcp-header': '' } },
      { a: { type: 'string', 'x-mcp-header': 'My Region' } },
      { a: { type: 'string', 'x-mcp-header': 'Region:Primary' } },
      { a: { type: 'string', 'x-mcp-header': 'Région' } },
      { a: { type: 'object', 'x-mcp-header': 'Data' } },
      { a: { type: 'number', 'x-mcp-header': 'Score' } },
      { a: { type: 'string', 'x-mcp-header': 'MyField' }, b: { type: 'string', 'x-mcp-header': 'myfield' } },
    ]) {
      expect(toolParamHeaders(schema(bad))).toHaveProperty('invalid');
    }
  });
});

describe('createModernBridge', () => {
  it('POSTs each message with the mirrored headers and no session id, and relays the JSON answer', async () => {
    handler = (s, res) =>
      json(res, 200, { jsonrpc: '2.0', id: s.body.id, result: { resultType: 'complete' } });
    const { bridge: b, delivered } = bridge();
    await b.post(request(1, 'tools/call', { name: 'météo', arguments: {} }), VERSION);
    // first the bridge's own tools/list (it has not seen one yet), with the client's _meta
    expect(seen.map((x) => x.body.method)).toEqual(['tools/list', 'tools/call']);
    expect(seen[0]?.body.params?._meta).toEqual(META);
    const call = seen[1];
    expect(call?.method).toBe('POST');
    expect(call?.headers).toMatchObject({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': VERSION,
      'mcp-method': 'tools/call',
      'mcp-name': `=?base64?${Buffer.from('météo').toString('base64')}?=`,
    });
    expect(call?.headers['mcp-session-id']).toBeUndefined();
    expect(call?.body.params?.name).toBe('météo');
    expect(delivered).toEqual([{ jsonrpc: '2.0', id: 1, result: { resultType: 'complete' } }]);
  });

  it('mirrors resources/read uri in Mcp-Name and sends none for tools/list', async () => {
    answerToolsList = false;
    handler = (s, res) => json(res, 200, { jsonrpc: '2.0', id: s.body.id, result: {} });
    const { bridge: b } = bridge();
    await b.post(request(1, 'resources/read', { uri: 'file:///a%20b.txt' }), VERSION);
    await b.post(request(2, 'tools/list'), VERSION);
    expect(seen[0]?.headers['mcp-name']).toBe('file:///a%20b.txt');
    expect(seen[1]?.headers['mcp-name']).toBeUndefined();
    expect(seen[1]?.headers['mcp-method']).toBe('tools/list');
  });

  it('posts a notification and delivers nothing for its 202', async () => {
    handler = (_s, res) => res.writeHead(202).end();
    const { bridge: b, delivered } = bridge();
    await b.post({ jsonrpc: '2.0', method: 'notifications/roots/list_changed', params: {} }, VERSION);
    expect(seen[0]?.headers['mcp-method']).toBe('notifications/roots/list_changed');
    expect(delivered).toEqual([]);
  });

  it('turns an HTTP error without a JSON-RPC body into a JSON-RPC error naming the status', async () => {
    answerToolsList = false;
    handler = (_s, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
    const { bridge: b, delivered } = bridge();
    await b.post(request('x', 'tools/list'), VERSION);
    expect(delivered).toEqual([
      {
        jsonrpc: '2.0',
        id: 'x',
        error: {
          code: BRIDGE_ERROR_CODE,
          message: 'The MCP server answered HTTP 503 to tools/list',
          data: { status: 503 },
        },
      },
    ]);
  });

  it('relays a JSON-RPC error body of a 400, giving an id-less one the request id', async () => {
    answerToolsList = false;
    handler = (_s, res) =>
      json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32020, message: 'header mismatch' } });
    const { bridge: b, delivered } = bridge();
    await b.post(request(9, 'tools/list'), VERSION);
    expect(delivered).toEqual([
      { jsonrpc: '2.0', id: 9, error: { code: -32020, message: 'header mismatch' } },
    ]);
  });

  it('relays SSE events in order and reports a stream that ends without the response', async () => {
    handler = (s, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\n');
      res.write(
        `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } })}\n\n`,
      );
      if (s.body.id === 'complete') {
        res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: 'complete', result: { ok: true } })}\n\n`);
      }
      res.end();
    };
    const { bridge: b, delivered } = bridge();
    await b.post(request('complete', 'tools/call', { name: 't' }), VERSION);
    expect(delivered.map((m) => m.method ?? m.id)).toEqual(['notifications/progress', 'complete']);
    delivered.length = 0;
    await b.post(request('cut', 'tools/call', { name: 't' }), VERSION);
    expect(delivered[0]?.method).toBe('notifications/progress');
    expect(delivered[1]).toMatchObject({
      id: 'cut',
      error: {
        code: BRIDGE_ERROR_CODE,
        message: 'The MCP server ended the HTTP 200 response to tools/call without a result',
      },
    });
  });

  it('reports a stream that breaks off mid-body', async () => {
    handler = (_s, res, req) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: {} })}\n\n`,
        () => req.socket.destroy(),
      );
    };
    const { bridge: b, delivered } = bridge();
    await b.post(request(1, 'tools/call', { name: 't' }), VERSION);
    expect(delivered).toHaveLength(2);
    expect(delivered[1]?.error).toMatchObject({ code: BRIDGE_ERROR_CODE });
    expect(String((delivered[1]?.error as { message?: string } | undefined)?.message)).toMatch(
      /^The response to tools\/call broke off: /,
    );
  });

  it('answers a JSON-RPC error when the proxy cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const { bridge: b, delivered } = bridge(`http://127.0.0.1:${port}/mcp`);
    await b.post(request(1, 'tools/list'), VERSION);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ id: 1, error: { code: BRIDGE_ERROR_CODE } });
    expect(String((delivered[0]?.error as { message?: string } | undefined)?.message)).toMatch(
      /^Bastion could not reach the proxy: /,
    );
  });

  it('cancel() closes the request stream and nothing more is delivered for it', async () => {
    let closedByClient!: () => void;
    const upstreamSawClose = new Promise<void>((r) => (closedByClient = r));
    handler = (_s, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: {} })}\n\n`,
      );
      res.once('close', () => closedByClient());
    };
    const { bridge: b, delivered } = bridge();
    const done = b.post(request('slow', 'tools/call', { name: 't' }), VERSION);
    while (delivered.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(b.inFlight).toBe(1);
    expect(b.cancel('slow')).toBe(true);
    await upstreamSawClose;
    await done;
    expect(b.inFlight).toBe(0);
    expect(delivered.map((m) => m.method)).toEqual(['notifications/progress']);
    expect(b.cancel('slow')).toBe(false);
  });

  it('learns x-mcp-header tools from tools/list, hides invalid ones, and mirrors the arguments', async () => {
    const tools = [
      {
        name: 'valid_tool',
        inputSchema: {
          type: 'object',
          properties: {
            region: { type: 'string', 'x-mcp-header': 'Region' },
            priority: { type: 'integer', 'x-mcp-header': 'Priority' },
            debug: { type: 'boolean', 'x-mcp-header': 'Debug' },
            verbose: { type: 'boolean', 'x-mcp-header': 'Verbose' },
            query: { type: 'string' },
          },
        },
      },
      {
        name: 'invalid_empty_header',
        inputSchema: { type: 'object', properties: { v: { type: 'string', 'x-mcp-header': '' } } },
      },
      { name: 'plain', inputSchema: { type: 'object', properties: {} } },
    ];
    answerToolsList = false;
    handler = (s, res) =>
      json(res, 200, {
        jsonrpc: '2.0',
        id: s.body.id,
        result: s.body.method === 'tools/list' ? { resultType: 'complete', tools } : { content: [] },
      });
    const { bridge: b, delivered } = bridge();
    await b.post(request(1, 'tools/list'), VERSION);
    const listed = (delivered[0]?.result as { tools?: { name: string }[] } | undefined)?.tools?.map(
      (t) => t.name,
    );
    expect(listed).toEqual(['valid_tool', 'plain']);
    await b.post(
      request(2, 'tools/call', {
        name: 'valid_tool',
        arguments: { region: 'Zürich', priority: 42, debug: false, verbose: null, query: 'SELECT 1' },
      }),
      VERSION,
    );
    const call = seen.at(-1)?.headers ?? {};
    expect(call['mcp-param-region']).toBe(`=?base64?${Buffer.from('Zürich').toString('base64')}?=`);
    expect(call['mcp-param-priority']).toBe('42');
    expect(call['mcp-param-debug']).toBe('false');
    expect(call['mcp-param-verbose']).toBeUndefined();
    expect(
      Object.keys(call)
        .filter((h) => h.startsWith('mcp-param-'))
        .sort(),
    ).toEqual(['mcp-param-debug', 'mcp-param-priority', 'mcp-param-region']);
  });

  it('close() aborts what is in flight without delivering anything', async () => {
    handler = (_s, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
    const { bridge: b, delivered } = bridge();
    const pending = b.post(request(1, 'subscriptions/listen', { notifications: {} }), VERSION);
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(b.inFlight).toBe(1);
    await b.close();
    await pending;
    expect(delivered).toEqual([]);
    expect(b.inFlight).toBe(0);
  });
});
