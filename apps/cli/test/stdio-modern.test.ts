/**
 * `bastion run --stdio` with a 2026-07-28 (stateless) stdio client: newline-delimited JSON-RPC written
 * by hand (the SDK has no modern client) through the built binary and the full local proxy chain to
 * the conformance package's stateless reference upstream, which checks every mirrored header
 * (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`) against the body.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type ModernReferenceUpstream, startModernReferenceUpstream } from '@bastion-mcp/conformance';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { BIN, createSandbox, ensureBuilt, type Sandbox } from './helpers/cli.js';

const VERSION = '2026-07-28';

type Message = {
  jsonrpc: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: Record<string, unknown> };
};

/** A hand-written modern stdio client on `bastion run --stdio <url>`. */
class ModernStdioClient {
  readonly received: Message[] = [];
  readonly rawLines: string[] = [];
  readonly child: ChildProcessWithoutNullStreams;
  stderr = '';
  #waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void; reject: (e: Error) => void }[] =
    [];
  #exited = false;

  constructor(url: string, name: string, env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [BIN, 'run', '--stdio', url, '--name', name], { env });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.rawLines.push(line);
      const m = JSON.parse(line) as Message;
      this.received.push(m);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    this.child.once('exit', () => {
      this.#exited = true;
      for (const w of this.#waiters) w.reject(new Error(`bastion exited; stderr:\n${this.stderr}`));
      this.#waiters = [];
    });
  }

  static meta(extra: Record<string, unknown> = {}, version = VERSION) {
    return {
      'io.modelcontextprotocol/protocolVersion': version,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'stdio-modern-test', version: '1.0.0' },
      ...extra,
    };
  }

  write(message: object): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  waitFor(match: (m: Message) => boolean): Promise<Message> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.#exited) return Promise.reject(new Error(`bastion exited; stderr:\n${this.stderr}`));
    return new Promise((resolve, reject) => this.#waiters.push({ match, resolve, reject }));
  }

  /** Send a request (with the revision's `_meta` unless `params._meta` is given) and await its response. */
  request(id: string | number, method: string, params: Record<string, unknown> = {}): Promise<Message> {
    this.write({ jsonrpc: '2.0', id, method, params: { _meta: ModernStdioClient.meta(), ...params } });
    return this.response(id);
  }

  response(id: string | number): Promise<Message> {
    return this.waitFor((m) => m.id === id && m.method === undefined);
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    await exited;
  }
}

let up: ModernReferenceUpstream;
let sb: Sandbox;
const clients: ModernStdioClient[] = [];

function connect(url = up.url, name = 'modern'): ModernStdioClient {
  const client = new ModernStdioClient(url, name, sb.env);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  ensureBuilt();
  up = await startModernReferenceUpstream();
  sb = createSandbox();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  sb?.cleanup();
  await up?.close();
});

const textOf = (m: Message) => (m.result?.content as { text?: string }[] | undefined)?.[0]?.text;

describe('bastion run --stdio with a 2026-07-28 client', () => {
  it('lists tools and calls one without initialize; stdout carries JSON-RPC only', async () => {
    const client = connect();
    const list = await client.request(1, 'tools/list');
    const names = (list.result?.tools as { name: string }[] | undefined)?.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['test_simple_text', 'test_custom_header']));
    expect(list.result?.resultType).toBe('complete');
    const call = await client.request(2, 'tools/call', { name: 'test_simple_text', arguments: {} });
    expect(textOf(call)).toBe('This is a simple text response for testing.');
    await client.close();
    expect(client.rawLines.length).toBe(2);
    for (const line of client.rawLines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    expect(client.stderr).toContain('listening on');
  });

  it('base64-encodes a non-ASCII tool name in Mcp-Name and a non-ASCII argument in Mcp-Param-*', async () => {
    const client = connect();
    await client.request(1, 'tools/list');
    // The upstream compares the decoded header with the body: a wrong encoding would be -32020.
    const region = await client.request(2, 'tools/call', {
      name: 'test_custom_header',
      arguments: { region: 'Zürich ' },
    });
    expect(textOf(region)).toBe('region=Zürich ');
    const unknown = await client.request(3, 'tools/call', { name: 'météo', arguments: {} });
    expect(unknown.error).toEqual({ code: -32602, message: 'Unknown tool: météo' });
  });

  it('learns x-mcp-header parameters itself when the client calls before listing', async () => {
    const client = connect();
    const call = await client.request('first', 'tools/call', {
      name: 'test_custom_header',
      arguments: { region: 'eu-west-1' },
    });
    expect(textOf(call)).toBe('region=eu-west-1');
    // the bridge's own tools/list never reaches the client
    expect(client.received.map((m) => m.id)).toEqual(['first']);
  });

  it('relays an SSE response: progress notifications first, then the result', async () => {
    const client = connect();
    client.write({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: {
        name: 'test_tool_with_progress',
        arguments: {},
        _meta: ModernStdioClient.meta({ progressToken: 'tok' }),
      },
    });
    const result = await client.response(7);
    expect(textOf(result)).toBe('tok');
    expect(client.received.map((m) => (m.method ? m.params?.progress : `result ${m.id}`))).toEqual([
      0,
      50,
      100,
      'result 7',
    ]);
  });

  it('runs requests concurrently: a call completes while a listen stream stays open; cancelling closes it', async () => {
    const client = connect();
    client.write({
      jsonrpc: '2.0',
      id: 'listen',
      method: 'subscriptions/listen',
      params: { _meta: ModernStdioClient.meta(), notifications: { toolsListChanged: true } },
    });
    await client.waitFor((m) => m.method === 'notifications/subscriptions/acknowledged');
    expect(up.listenerCount).toBe(1);
    // the open stream does not hold this call back
    const trigger = await client.request(2, 'tools/call', {
      name: 'test_trigger_tool_change',
      arguments: {},
    });
    expect(textOf(trigger)).toBe('tools/list_changed sent');
    const changed = await client.waitFor((m) => m.method === 'notifications/tools/list_changed');
    expect(changed.params?._meta).toMatchObject({ 'io.modelcontextprotocol/subscriptionId': 'listen' });
    // notifications/cancelled closes the request's stream (the revision's HTTP cancellation)
    client.write({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'listen' } });
    await waitUntil(() => up.listenerCount === 0);
    const ping = await client.request(3, 'tools/list');
    expect(ping.result?.tools).toBeDefined();
    expect(client.received.some((m) => m.id === 'listen')).toBe(false);
  });

  it('relays the upstream -32022 for an unsupported protocol version', async () => {
    const client = connect();
    client.write({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { _meta: ModernStdioClient.meta({}, '2099-01-01') },
    });
    const answer = await client.response(1);
    expect(answer.error?.code).toBe(-32022);
    expect(answer.error?.data).toEqual({ supported: ['2026-07-28'], requested: '2099-01-01' });
  });

  it('relays the upstream 400 for a request missing the required _meta capabilities', async () => {
    const client = connect();
    client.write({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { _meta: { 'io.modelcontextprotocol/protocolVersion': VERSION } },
    });
    const answer = await client.response(1);
    expect(answer.error?.code).toBe(-32602);
    expect(answer.error?.message).toContain('clientCapabilities');
  });

  it('answers a JSON-RPC error naming the failure when the remote is gone', async () => {
    const dead = await startModernReferenceUpstream();
    const client = connect(dead.url, 'gone');
    try {
      expect((await client.request(1, 'tools/list')).result?.tools).toBeDefined();
    } finally {
      await dead.close();
    }
    const answer = await client.request(2, 'tools/call', { name: 'test_simple_text', arguments: {} });
    // the local proxy's 502 carries a JSON-RPC error for this id: relayed as is
    expect(answer.error).toMatchObject({ code: -32603, message: 'Upstream MCP server unreachable' });
    await client.close();
    for (const line of client.rawLines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
  });
});

/** Wait for a condition the upstream reports asynchronously (no time bound asserted; jest's timeout applies). */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
}
