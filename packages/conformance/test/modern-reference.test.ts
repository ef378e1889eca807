/**
 * The 2026-07-28 endpoint of the reference upstream over real HTTP: per-request validation order and
 * HTTP statuses, MRTR with signed requestState, subscriptions/listen, and era routing of the dual-era
 * upstream (a session-era initialize still opens a session).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  isModernRequest,
  type ModernReferenceUpstream,
  type ReferenceUpstream,
  startModernReferenceUpstream,
  startReferenceUpstream,
} from '../src/index.js';

const V = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientCapabilities': { elicitation: {}, sampling: {}, roots: {} },
};

let nextId = 1;

async function post(
  url: string,
  method: string,
  params: Record<string, unknown> = { _meta: META },
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string; json: Record<string, unknown> | undefined }> {
  const name = params.name ?? params.uri;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': V,
      'mcp-method': method,
      ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  });
  const body = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body, json };
}

const errorOf = (r: { json?: Record<string, unknown> | undefined }) =>
  r.json?.error as { code: number; data?: Record<string, unknown> } | undefined;
const resultOf = (r: { json?: Record<string, unknown> | undefined }) =>
  r.json?.result as Record<string, unknown> | undefined;

describe('2026-07-28 reference endpoint', () => {
  let up: ModernReferenceUpstream;
  beforeAll(async () => {
    up = await startModernReferenceUpstream();
  });
  afterAll(async () => {
    await up.close();
  });

  it('serves server/discover with versions, capabilities, cache hints and serverInfo in _meta', async () => {
    const r = await post(up.url, 'server/discover');
    expect(r.status).toBe(200);
    expect(resultOf(r)).toMatchObject({
      resultType: 'complete',
      supportedVersions: [V],
      capabilities: { tools: { listChanged: true }, prompts: { listChanged: true } },
      ttlMs: 30_000,
      cacheScope: 'public',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'bastion-conformance-reference' } },
    });
  });

  it('rejects in the order the revision distinguishes: Mcp-Method, _meta, version header, version', async () => {
    expect(
      errorOf(await post(up.url, 'tools/list', { _meta: META }, { 'mcp-method': 'prompts/list' }))?.code,
    ).toBe(-32020);
    const noMeta = await post(up.url, 'server/discover', {});
    expect([noMeta.status, errorOf(noMeta)?.code]).toEqual([400, -32602]);
    const mismatch = await post(up.url, 'server/discover', {
      _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' },
    });
    expect([mismatch.status, errorOf(mismatch)?.code]).toEqual([400, -32020]);
    const unsupported = await post(
      up.url,
      'server/discover',
      { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } },
      { 'mcp-protocol-version': 'v999.0.0' },
    );
    expect([unsupported.status, errorOf(unsupported)]).toEqual([
      400,
      expect.objectContaining({ code: -32022, data: { supported: [V], requested: 'v999.0.0' } }),
    ]);
  });

  it('checks Mcp-Name (base64 sentinel decoded) and Mcp-Param-* against the body', async () => {
    const wrong = await post(
      up.url,
      'tools/call',
      { name: 'test_simple_text', arguments: {}, _meta: META },
      { 'mcp-name': 'other' },
    );
    expect([wrong.status, errorOf(wrong)?.code]).toEqual([400, -32020]);
    const b64 = Buffer.from('test_simple_text').toString('base64');
    const ok = await post(
      up.url,
      'tools/call',
      { name: 'test_simple_text', arguments: {}, _meta: META },
      { 'mcp-name': `=?base64?${b64}?=` },
    );
    expect(resultOf(ok)?.content).toEqual([
      { type: 'text', text: 'This is a simple text response for testing.' },
    ]);
    const call = { name: 'test_custom_header', arguments: { region: 'eu' }, _meta: META };
    expect(errorOf(await post(up.url, 'tools/call', call))?.code).toBe(-32020);
    expect(
      errorOf(await post(up.url, 'tools/call', call, { 'mcp-param-region': '=?base64?ZXU?=' }))?.code,
    ).toBe(-32020);
    expect(resultOf(await post(up.url, 'tools/call', call, { 'mcp-param-region': 'eu' }))?.resultType).toBe(
      'complete',
    );
  });

  it('answers removed and unknown methods with 404/-32601 echoing the id, and GET with 405', async () => {
    for (const m of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'nope/nope']) {
      const r = await post(up.url, m);
      expect([m, r.status, errorOf(r)?.code, typeof r.json?.id]).toEqual([m, 404, -32601, 'number']);
    }
    const get = await fetch(up.url, { headers: { 'mcp-protocol-version': V } });
    await get.arrayBuffer();
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
  });

  it('rejects a missing client capability with -32021 naming it as a ClientCapabilities object', async () => {
    const r = await post(up.url, 'tools/call', {
      name: 'test_missing_capability',
      arguments: {},
      _meta: { ...META, 'io.modelcontextprotocol/clientCapabilities': {} },
    });
    expect([r.status, errorOf(r)]).toEqual([
      400,
      expect.objectContaining({ code: -32021, data: { requiredCapabilities: { sampling: {} } } }),
    ]);
  });

  it('runs a multi-round MRTR flow with signed requestState and rejects a tampered one', async () => {
    const name = 'test_input_required_result_multi_round';
    const r1 = resultOf(await post(up.url, 'tools/call', { name, arguments: {}, _meta: META }));
    expect(r1).toMatchObject({
      resultType: 'input_required',
      inputRequests: { step1: { method: 'elicitation/create' } },
    });
    const accept = (content: Record<string, unknown>) => ({ action: 'accept', content });
    const r2 = resultOf(
      await post(up.url, 'tools/call', {
        name,
        arguments: {},
        inputResponses: { step1: accept({ name: 'Ada' }) },
        requestState: r1?.requestState,
        _meta: META,
      }),
    );
    expect(r2).toMatchObject({ resultType: 'input_required', inputRequests: { step2: {} } });
    expect(r2?.requestState).not.toBe(r1?.requestState);
    const r3 = resultOf(
      await post(up.url, 'tools/call', {
        name,
        arguments: {},
        inputResponses: { step2: accept({ color: 'blue' }) },
        requestState: r2?.requestState,
        _meta: META,
      }),
    );
    expect(r3).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'Ada likes blue' }] });

    const tampered = await post(up.url, 'tools/call', {
      name,
      arguments: {},
      inputResponses: { step2: accept({ color: 'red' }) },
      requestState: `${String(r2?.requestState)}x`,
      _meta: META,
    });
    expect(errorOf(tampered)?.code).toBe(-32602);
    // A valid state of another tool is not accepted either.
    const foreign = await post(up.url, 'tools/call', {
      name: 'test_input_required_result_request_state',
      arguments: {},
      inputResponses: { confirm: accept({ ok: true }) },
      requestState: r2?.requestState,
      _meta: META,
    });
    expect(errorOf(foreign)?.code).toBe(-32602);
    const badAnswer = await post(up.url, 'tools/call', {
      name: 'test_input_required_result_elicitation',
      arguments: {},
      inputResponses: { user_name: 12345 },
      _meta: META,
    });
    expect(errorOf(badAnswer)?.code).toBe(-32602);
  });

  it('streams progress as SSE only when a progressToken is sent', async () => {
    const plain = await post(up.url, 'tools/call', {
      name: 'test_tool_with_progress',
      arguments: {},
      _meta: META,
    });
    expect(plain.type).toContain('application/json');
    const streamed = await post(up.url, 'tools/call', {
      name: 'test_tool_with_progress',
      arguments: {},
      _meta: { ...META, progressToken: 'p1' },
    });
    expect(streamed.type).toContain('text/event-stream');
    const events = streamed.body
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map(
        (l) =>
          JSON.parse(l.slice(6)) as { method?: string; params?: { progress?: number }; result?: unknown },
      );
    expect(events.map((e) => e.method ?? 'result')).toEqual([
      'notifications/progress',
      'notifications/progress',
      'notifications/progress',
      'result',
    ]);
    expect(events.slice(0, 3).map((e) => e.params?.progress)).toEqual([0, 50, 100]);
  });

  it('acknowledges subscriptions/listen first and delivers only the subscribed list changes', async () => {
    const ac = new AbortController();
    const res = await fetch(up.url, {
      method: 'POST',
      signal: ac.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'mcp-protocol-version': V,
        'mcp-method': 'subscriptions/listen',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'listen-1',
        method: 'subscriptions/listen',
        params: { _meta: META, notifications: { toolsListChanged: true } },
      }),
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const frames: { method?: string; params?: Record<string, unknown> }[] = [];
    let buf = '';
    const readFrame = async () => {
      while (!buf.includes('\n\n')) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buf += value;
      }
      const [event, ...rest] = buf.split('\n\n');
      buf = rest.join('\n\n');
      const data = event!.split('\n').find((l) => l.startsWith('data: '));
      frames.push(JSON.parse(data!.slice(6)));
    };
    await readFrame();
    expect(up.listenerCount).toBe(1);
    await post(up.url, 'tools/call', { name: 'test_trigger_prompt_change', arguments: {}, _meta: META });
    await post(up.url, 'tools/call', { name: 'test_trigger_tool_change', arguments: {}, _meta: META });
    await readFrame();
    ac.abort();
    await reader.cancel().catch(() => {});
    expect(frames).toEqual([
      {
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: {
          notifications: { toolsListChanged: true },
          _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' },
        },
      },
      {
        jsonrpc: '2.0',
        method: 'notifications/tools/list_changed',
        params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' } },
      },
    ]);
  });

  it('validates its options', async () => {
    await expect(startModernReferenceUpstream({ port: -1 })).rejects.toThrow(/"port"/);
    await expect(startModernReferenceUpstream({ requestStateTtlMs: 0 })).rejects.toThrow(
      /"requestStateTtlMs"/,
    );
  });
});

describe('dual-era routing', () => {
  let up: ReferenceUpstream;
  beforeAll(async () => {
    up = await startReferenceUpstream();
  });
  afterAll(async () => {
    await up.close();
  });

  it('classifies requests by session id, MCP-Protocol-Version and _meta version', () => {
    expect(isModernRequest({ 'mcp-protocol-version': V })).toBe(true);
    expect(isModernRequest({ 'mcp-protocol-version': 'v999.0.0' })).toBe(true);
    expect(isModernRequest({ 'mcp-protocol-version': '2025-11-25' })).toBe(false);
    expect(isModernRequest({ 'mcp-protocol-version': V, 'mcp-session-id': 's' })).toBe(false);
    expect(isModernRequest({}, { params: { _meta: META } })).toBe(true);
    expect(isModernRequest({}, { method: 'initialize', params: {} })).toBe(false);
  });

  it('opens a session for a legacy initialize and answers a modern one with 404/-32601', async () => {
    const legacy = await fetch(up.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    await legacy.arrayBuffer();
    expect([legacy.status, typeof legacy.headers.get('mcp-session-id')]).toEqual([200, 'string']);
    expect(up.sessionCount).toBe(1);
    const modern = await post(up.url, 'initialize');
    expect([modern.status, errorOf(modern)?.code]).toEqual([404, -32601]);
    expect(up.sessionCount).toBe(1);
  });
});
