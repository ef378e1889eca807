import { Readable } from 'node:stream';
import type { Exchange, Middleware, Next, ProxyResponse, SseEvent } from '@bastion-mcp/proxy-core';
import { jsonResponse, ProxyHttpError } from '@bastion-mcp/proxy-core';
import { describe, expect, it } from '@jest/globals';
import { createAuditMiddleware } from '../src/middleware.js';
import type { AuditOptions } from '../src/options.js';
import type { AuditSink } from '../src/sinks/sink.js';
import { assertValidEvent, drain, identity, makeExchange, memorySink, run } from './helpers.js';

const call = (name: string, args: Record<string, unknown> = {}, id = 1) => ({
  jsonrpc: '2.0' as const,
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

function setup(options: AuditOptions = {}) {
  const sink = memorySink();
  const audit = createAuditMiddleware({ sinks: [sink], ...options });
  const events = async () => {
    await audit.flush(1000);
    for (const e of sink.events) assertValidEvent(e);
    return sink.events;
  };
  return { audit, sink, events };
}

/** An inner layer that refuses like auth does. */
const rejectUnauthenticated: Middleware = {
  name: 'auth',
  async handle() {
    throw new ProxyHttpError({
      status: 401,
      rpcCode: -32001,
      publicMessage: 'authentication required',
      code: 'ERR_BASTION_AUTH_MISSING_TOKEN',
      oauthError: { error: 'invalid_token' },
    });
  },
};

/** An inner layer that authenticates like auth does. */
const authenticate = (claims: Record<string, unknown> = { sub: 'u1' }): Middleware => ({
  name: 'auth',
  async handle(ex: Exchange, next: Next) {
    ex.identity = identity({ claims });
    return next();
  },
});

const ok = (result: Record<string, unknown> = { content: [] }, id = 1) =>
  jsonResponse(200, { jsonrpc: '2.0', id, result });

function sseResponse(events: SseEvent[], onReturn?: () => void): ProxyResponse {
  async function* gen() {
    try {
      for (const e of events) {
        await new Promise((r) => setImmediate(r));
        yield e;
      }
    } finally {
      onReturn?.();
    }
  }
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    body: { type: 'sse', events: gen() },
  };
}

describe('audit middleware: outcomes', () => {
  it('records a successful tool call with subject, source, target, duration and status', async () => {
    const { audit, events } = setup();
    const ex = makeExchange({
      rpc: call('echo', { text: 'hi' }),
      headers: { 'user-agent': 't/1', 'mcp-session-id': 's-1' },
    });
    ex.notes.authz = { decision: 'allow', policyIds: ['policy0'] };
    const res = await run(
      [audit, authenticate({ sub: 'u1', act: { sub: 'agent1', iss: 'https://idp.test' } })],
      ex,
      async () => ok(),
    );
    expect(res.status).toBe(200);
    const [e, ...rest] = await events();
    expect(rest).toHaveLength(0);
    expect(e).toMatchObject({
      type: 'mcp_tool_call',
      outcome: 'success',
      status: 200,
      subject: { userId: 'u1', name: 'Ann', email: 'ann@example.com', tokenKind: 'jwt' },
      source: { ip: '127.0.0.1', userAgent: 't/1', requestId: ex.requestId },
      target: {
        server: 'demo',
        endpoint: '/mcp',
        httpMethod: 'POST',
        method: 'tools/call',
        tool: 'echo',
        rpcId: 1,
        sessionId: 's-1',
      },
      authz: { decision: 'allow', policyIds: ['policy0'] },
      delegation: { chain: [{ sub: 'agent1', iss: 'https://idp.test' }], truncated: false, malformed: false },
    });
    expect(e?.durationMs).toBeGreaterThanOrEqual(0);
    expect(e?.data).toBeUndefined(); // payloads are off by default
  });

  it('records a 401 from an inner layer as denied and rethrows the error for the edge', async () => {
    const { audit, events } = setup();
    const ex = makeExchange({ rpc: call('echo') });
    await expect(run([audit, rejectUnauthenticated], ex, async () => ok())).rejects.toBeInstanceOf(
      ProxyHttpError,
    );
    const [e] = await events();
    expect(e).toMatchObject({
      type: 'mcp_tool_call',
      outcome: 'denied',
      status: 401,
      errorCode: 'ERR_BASTION_AUTH_MISSING_TOKEN',
    });
    expect(e?.subject).toEqual({});
    expect(e?.rpcError).toBeUndefined(); // an OAuth-style answer, not a JSON-RPC error
  });

  it('records a Cedar 403 with the deciding policy ids and the JSON-RPC error', async () => {
    const { audit, events } = setup();
    const authz: Middleware = {
      name: 'authz',
      async handle(ex) {
        ex.notes.authz = { decision: 'deny', policyIds: ['forbid-delete'] };
        ex.notes.rejectedBy = 'authz';
        throw new ProxyHttpError({
          status: 403,
          rpcCode: 403,
          publicMessage: 'Unauthorized',
          code: 'ERR_BASTION_AUTHZ_DENIED',
        });
      },
    };
    await expect(
      run([audit, authenticate(), authz], makeExchange({ rpc: call('delete_repo') }), async () => ok()),
    ).rejects.toThrow();
    const [e] = await events();
    expect(e).toMatchObject({
      outcome: 'denied',
      status: 403,
      rejectedBy: 'authz',
      authz: { decision: 'deny', policyIds: ['forbid-delete'] },
      rpcError: { code: 403, message: 'Unauthorized' },
      target: { tool: 'delete_repo' },
    });
  });

  it('records upstream failures as error (a 502 answer and a thrown unreachable error)', async () => {
    const { audit, events } = setup();
    await run([audit], makeExchange({ rpc: call('echo') }), async () =>
      jsonResponse(502, { error: 'bad gateway' }),
    );
    await expect(
      run([audit], makeExchange({ rpc: call('echo', {}, 2) }), async () => {
        throw new ProxyHttpError({
          status: 502,
          rpcCode: -32603,
          publicMessage: 'Upstream unreachable',
          code: 'ERR_BASTION_PROXY_UPSTREAM_UNREACHABLE',
        });
      }),
    ).rejects.toThrow();
    await expect(
      run([audit], makeExchange({ rpc: call('echo', {}, 3) }), async () => Promise.reject(new Error('bug'))),
    ).rejects.toThrow('bug');
    const [a, b, c] = await events();
    expect(a).toMatchObject({ outcome: 'error', status: 502 });
    expect(b).toMatchObject({
      outcome: 'error',
      status: 502,
      errorCode: 'ERR_BASTION_PROXY_UPSTREAM_UNREACHABLE',
      rpcError: { code: -32603 },
    });
    expect(c).toMatchObject({ outcome: 'error', status: 500 });
    expect(c?.errorCode).toBeUndefined();
  });

  it('records other 4xx answers as failure', async () => {
    const { audit, events } = setup();
    await run([audit], makeExchange({ rpc: call('echo') }), async () =>
      jsonResponse(404, { jsonrpc: '2.0', id: 1, error: { code: -32001, message: 'Session not found' } }),
    );
    const [e] = await events();
    expect(e).toMatchObject({
      outcome: 'failure',
      status: 404,
      rpcError: { code: -32001, message: 'Session not found' },
    });
  });

  it('records a JSON-RPC error answered with 200 as application_error', async () => {
    const { audit, events } = setup();
    await run([audit], makeExchange({ rpc: call('throw', {}, 9) }), async () =>
      jsonResponse(200, { jsonrpc: '2.0', id: 9, error: { code: -32000, message: 'boom' } }),
    );
    const [e] = await events();
    expect(e).toMatchObject({ outcome: 'application_error', rpcError: { code: -32000, message: 'boom' } });
  });

  it('reads a raw JSON byte stream as it flows by (bytes unchanged) to find an isError result', async () => {
    const { audit, events } = setup();
    const bytes = JSON.stringify({
      jsonrpc: '2.0',
      id: 4,
      result: { content: [{ type: 'text', text: 'nope' }], isError: true },
    });
    const res = await run([audit], makeExchange({ rpc: call('fail', {}, 4) }), async () => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': String(bytes.length) },
      body: {
        type: 'stream',
        stream: Readable.from([Buffer.from(bytes.slice(0, 10)), Buffer.from(bytes.slice(10))]),
      },
    }));
    expect(res.headers['content-length']).toBe(String(bytes.length));
    expect(await events()).toHaveLength(0); // not before the body has flowed
    expect(await drain(res)).toBe(bytes);
    const [e] = await events();
    expect(e).toMatchObject({ outcome: 'application_error', toolError: true, target: { tool: 'fail' } });
  });
});

describe('audit middleware: SSE', () => {
  it('determines the outcome of an SSE answer from the stream and emits when it ends', async () => {
    const { audit, events } = setup({ payloads: { maxBytes: 4096 } });
    const res = await run([audit], makeExchange({ rpc: call('progress', {}, 5) }), async () =>
      sseResponse([
        {
          event: 'message',
          data: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } }),
        },
        { data: JSON.stringify({ jsonrpc: '2.0', id: 5, error: { code: -32002, message: 'late failure' } }) },
      ]),
    );
    expect(await events()).toHaveLength(0);
    const text = await drain(res);
    expect(text).toContain('late failure'); // events pass untouched
    const [e] = await events();
    expect(e).toMatchObject({
      outcome: 'application_error',
      rpcError: { code: -32002, message: 'late failure' },
    });
    expect(e?.data?.response).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32002, message: 'late failure' },
    });
  });

  it('emits once, marked incomplete, when the client abandons the stream before the answer', async () => {
    const { audit, events } = setup();
    let upstreamReleased = false;
    const res = await run([audit], makeExchange({ rpc: call('progress', {}, 6) }), async () =>
      sseResponse(
        [{ data: '{"jsonrpc":"2.0","method":"notifications/progress","params":{}}' }, { data: '{}' }],
        () => {
          upstreamReleased = true;
        },
      ),
    );
    if (res.body.type !== 'sse') throw new Error('expected sse');
    const it = res.body.events[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
    const [e, ...rest] = await events();
    expect(rest).toHaveLength(0);
    expect(e).toMatchObject({ outcome: 'error', streamIncomplete: true });
    expect(upstreamReleased).toBe(true);
  });

  it('records a GET stream as sse_connection as soon as it opens', async () => {
    const { audit, events } = setup();
    const never = new Readable({ read() {} });
    const res = await run(
      [audit, authenticate()],
      makeExchange({ method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': 's-9' } }),
      async () => ({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: { type: 'stream', stream: never },
      }),
    );
    const [e] = await events();
    expect(e).toMatchObject({
      type: 'sse_connection',
      outcome: 'success',
      target: { httpMethod: 'GET', sessionId: 's-9' },
      subject: { userId: 'u1' },
    });
    never.destroy();
    expect(res.status).toBe(200);
  });

  it('reads the answer out of a raw SSE byte stream split at awkward places', async () => {
    const { audit, events } = setup();
    const raw = `: keepalive\r\n\r\nevent: message\r\ndata: {"jsonrpc":"2.0","id":7,\r\ndata: "result":{"isError":true,"content":[]}}\r\n\r\n`;
    const parts = [raw.slice(0, 17), raw.slice(17, 40), raw.slice(40, 41), raw.slice(41)].map((s) =>
      Buffer.from(s),
    );
    const res = await run([audit], makeExchange({ rpc: call('fail', {}, 7) }), async () => ({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'stream', stream: Readable.from(parts) },
    }));
    expect(await drain(res)).toBe(raw);
    const [e] = await events();
    expect(e).toMatchObject({ outcome: 'application_error', toolError: true });
  });
});

describe('audit middleware: classification and filtering', () => {
  it('maps methods to event types and honours excludeTypes (ping) and includeTypes', async () => {
    const { audit, events } = setup({ excludeTypes: ['mcp_ping'] });
    const send = (rpc: Parameters<typeof makeExchange>[0]) =>
      run([audit], makeExchange(rpc), async () => ({ status: 202, headers: {}, body: { type: 'empty' } }));
    await send({ rpc: { jsonrpc: '2.0', id: 1, method: 'ping' } });
    await send({ rpc: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
    await send({ rpc: { jsonrpc: '2.0', id: 3, method: 'prompts/get', params: { name: 'greeting' } } });
    await send({
      rpc: { jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: 'demo://readme' } },
    });
    await send({ rpc: { jsonrpc: '2.0', method: 'notifications/initialized' } });
    await send({ rpc: { jsonrpc: '2.0', id: 'srv-1', result: {} } });
    await send({ rpc: { jsonrpc: '2.0', id: 5, method: 'completion/complete' } });
    await send({ method: 'DELETE', headers: { 'mcp-session-id': 's-1' } });
    await send({ method: 'POST', body: Buffer.from('not json') });
    const got = (await events()).map((e) => [
      e.type,
      e.target.prompt ?? e.target.resource ?? e.target.rpcId ?? null,
    ]);
    expect(got).toEqual([
      ['mcp_list_tools', 2],
      ['mcp_prompt_get', 'greeting'],
      ['mcp_resource_read', 'demo://readme'],
      ['mcp_notification', null],
      ['mcp_response', 'srv-1'],
      ['mcp_request', 5],
      ['session_delete', null],
      ['http_request', null],
    ]);
    expect(audit.stats().filtered).toBe(1);

    const only = setup({ includeTypes: ['mcp_tool_call'] });
    await run([only.audit, rejectUnauthenticated], makeExchange({ method: 'GET' }), async () => ok()).catch(
      () => {},
    );
    await run([only.audit], makeExchange({ rpc: call('echo') }), async () => ok());
    expect((await only.events()).map((e) => e.type)).toEqual(['mcp_tool_call']);
  });

  it('takes client name/version from initialize and the session id the upstream assigned', async () => {
    const { audit, events } = setup();
    await run(
      [audit],
      makeExchange({
        rpc: {
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            clientInfo: { name: 'claude', version: '1.2' },
            capabilities: {},
          },
        },
      }),
      async () => ({
        ...ok({ protocolVersion: '2025-06-18' }, 0),
        headers: { 'content-type': 'application/json', 'mcp-session-id': 'new-s' },
      }),
    );
    const [e] = await events();
    expect(e).toMatchObject({
      type: 'mcp_initialize',
      subject: { clientName: 'claude', clientVersion: '1.2' },
      target: { sessionId: 'new-s' },
    });
  });

  it('records the user-facing and the real name of a renamed tool', async () => {
    const { audit, events } = setup();
    const rename: Middleware = {
      name: 'tool-filter',
      async handle(ex, next) {
        ex.notes.clientToolName = 'sum';
        ex.replaceRpc(call('add'));
        return next();
      },
    };
    await run([audit, rename], makeExchange({ rpc: call('sum') }), async () => ok());
    const [e] = await events();
    expect(e?.target).toMatchObject({ tool: 'add', clientToolName: 'sum' });
  });

  it('records a call the tool filter refused (JSON-RPC error with 200) as denied', async () => {
    const { audit, events } = setup();
    const filter: Middleware = {
      name: 'tool-filter',
      async handle(ex) {
        ex.notes.clientToolName = 'delete_repo';
        ex.notes.rejectedBy = 'tool-filter';
        return jsonResponse(200, {
          jsonrpc: '2.0',
          id: 1,
          error: { code: -32602, message: 'tool not found' },
        });
      },
    };
    await run([audit, filter], makeExchange({ rpc: call('delete_repo') }), async () => ok());
    const [e] = await events();
    expect(e).toMatchObject({
      outcome: 'denied',
      status: 200,
      rejectedBy: 'tool-filter',
      rpcError: { code: -32602, message: 'tool not found' },
    });
    expect(e?.upstreamStatus).toBeUndefined();
  });

  it('passes everything through untouched and records nothing when disabled', async () => {
    const sink = memorySink();
    const audit = createAuditMiddleware({ enabled: false, sinks: [sink] });
    const res = await run([audit], makeExchange({ rpc: call('echo') }), async () => ok());
    expect(res.body.type).toBe('json');
    await audit.flush(100);
    expect(sink.events).toHaveLength(0);
    await audit.close();
  });
});

describe('audit middleware: source address', () => {
  const xff = { 'x-forwarded-for': '198.51.100.7, 203.0.113.9, 10.0.0.1' };
  it('uses X-Forwarded-For only through trusted proxies', async () => {
    const trusted = setup({ trustedProxies: ['10.0.0.0/8'] });
    await run(
      [trusted.audit],
      makeExchange({ rpc: call('echo'), headers: xff, remoteAddress: '10.0.0.2' }),
      async () => ok(),
    );
    await run(
      [trusted.audit],
      makeExchange({ rpc: call('echo'), headers: xff, remoteAddress: '192.0.2.1' }),
      async () => ok(),
    );
    const [viaProxy, direct] = await trusted.events();
    expect(viaProxy?.source).toMatchObject({ ip: '203.0.113.9', peer: '10.0.0.2' });
    expect(direct?.source.ip).toBe('192.0.2.1');
    expect(direct?.source.peer).toBeUndefined();

    const untrusted = setup();
    await run(
      [untrusted.audit],
      makeExchange({ rpc: call('echo'), headers: xff, remoteAddress: '10.0.0.2' }),
      async () => ok(),
    );
    const [e] = await untrusted.events();
    expect(e?.source.ip).toBe('10.0.0.2');
  });
});

describe('audit middleware: payloads and secrets', () => {
  const JWT =
    'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSIsImV4cCI6OTk5OTk5OTk5OX0.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

  it('redacts keys, JWT-shaped values and the bearer token itself, even inside tool arguments', async () => {
    const { audit, events } = setup({ payloads: {} });
    const opaque = 'opaque-access-token-0123456789';
    const ex = makeExchange({
      rpc: call('echo', {
        text: `my token is ${opaque}`,
        password: 'hunter2',
        nested: { jwt: JWT, api_key: 'k' },
        note: JWT,
      }),
      headers: { authorization: `Bearer ${opaque}`, 'user-agent': `agent ${JWT}` },
    });
    await run([audit, authenticate()], ex, async () =>
      ok({ content: [{ type: 'text', text: `echo: ${opaque} ${JWT}` }], token: 'x' }),
    );
    const [e] = await events();
    const line = JSON.stringify(e);
    expect(line).not.toContain(opaque);
    expect(line).not.toContain('eyJ');
    expect(line).not.toContain('hunter2');
    expect(e?.data?.request).toMatchObject({
      params: {
        name: 'echo',
        arguments: {
          text: 'my token is [REDACTED]',
          password: '[REDACTED]',
          nested: { jwt: '[REDACTED]', api_key: '[REDACTED]' },
          note: '[REDACTED]',
        },
      },
    });
    expect(e?.data?.response).toMatchObject({
      result: { token: '[REDACTED]', content: [{ text: 'echo: [REDACTED] [REDACTED]' }] },
    });
    expect(e?.source.userAgent).toBe('agent [REDACTED]');
  });

  it('scans every string of the event for the bearer token and JWTs, field by field', async () => {
    const { audit, events } = setup();
    const T = 'opaque-access-token-0123456789';
    const leak = (label: string) => `${label}-${T}`;
    const ex = makeExchange({
      path: `/mcp/${T}`,
      rpc: call(leak('tool')),
      headers: {
        authorization: `Bearer ${T}`,
        'user-agent': `agent ${JWT}`,
        'mcp-session-id': leak('session'),
      },
    });
    const layer: Middleware = {
      name: 'inner',
      async handle(inner: Exchange, next: Next) {
        inner.identity = identity({
          subject: leak('user'),
          name: `Ann ${JWT}`,
          email: leak('mail'),
          claims: { sub: 'u1', act: { sub: leak('agent'), iss: `https://${T}.test`, client_id: JWT } },
        });
        inner.notes.clientToolName = leak('asked');
        inner.notes.rejectedBy = leak('by');
        inner.notes.authz = { decision: 'deny', policyIds: [leak('policy'), 'plain'], reason: `Bearer ${T}` };
        inner.notes.upstreamCredential = leak('cred');
        inner.notes['token-exchange'] = { audience: leak('aud'), cached: true, n: 2 };
        await next();
        return jsonResponse(200, { jsonrpc: '2.0', id: 1, error: { code: -32000, message: `bad ${T}` } });
      },
    };
    await run([audit, layer], ex, async () => ok());
    const [e] = await events();
    const line = JSON.stringify(e);
    expect(line).not.toContain(T);
    expect(line).not.toContain('eyJ');
    expect(e).toMatchObject({
      outcome: 'denied',
      subject: { userId: 'user-[REDACTED]', name: 'Ann [REDACTED]', email: 'mail-[REDACTED]' },
      source: { userAgent: 'agent [REDACTED]' },
      target: {
        endpoint: '/mcp/[REDACTED]',
        tool: 'tool-[REDACTED]',
        clientToolName: 'asked-[REDACTED]',
        sessionId: 'session-[REDACTED]',
      },
      rpcError: { code: -32000, message: 'bad [REDACTED]' },
      rejectedBy: 'by-[REDACTED]',
      authz: { decision: 'deny', policyIds: ['policy-[REDACTED]', 'plain'], reason: 'Bearer [REDACTED]' },
      upstreamCredential: 'cred-[REDACTED]',
      tokenExchange: { audience: 'aud-[REDACTED]', cached: true, n: 2 },
      delegation: {
        chain: [{ sub: 'agent-[REDACTED]', iss: 'https://[REDACTED].test', clientId: '[REDACTED]' }],
      },
    });
  });

  it('decides on the values as received, before they are scanned', async () => {
    const { audit, events } = setup();
    const T = 'opaque-access-token-0123456789';
    // the client's name and the real name differ only inside the token: still a rename
    const ex = makeExchange({ rpc: call(`a-${T}`), headers: { authorization: `Bearer ${T}` } });
    const rename: Middleware = {
      name: 'tool-filter',
      async handle(inner: Exchange, next: Next) {
        inner.notes.clientToolName = `a-${T}`;
        inner.replaceRpc(call(`b-${T}`));
        return next();
      },
    };
    await run([audit, rename], ex, async () => ok());
    const [e] = await events();
    expect(e?.target).toMatchObject({ tool: 'b-[REDACTED]', clientToolName: 'a-[REDACTED]' });
  });

  it('redacts a secret nested deep in the arguments and leaves the request and answer objects untouched', async () => {
    const { audit, events } = setup({ payloads: {} });
    const T = 'opaque-access-token-0123456789';
    let nested: Record<string, unknown> = { text: `deep ${T}`, fine: 'ok' };
    for (let i = 0; i < 20; i++) nested = { level: i, inner: nested, list: [1, 'two'] };
    const rpc = call('echo', { nested, plain: 'hello' });
    const answer = { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'nothing secret' }] } };
    const rpcBefore = JSON.stringify(rpc);
    const answerBefore = JSON.stringify(answer);
    const ex = makeExchange({ rpc, headers: { authorization: `Bearer ${T}` } });
    await run([audit], ex, async () => jsonResponse(200, answer));
    const [e] = await events();
    expect(JSON.stringify(e)).not.toContain(T);
    expect(JSON.stringify(e?.data?.request)).toBe(rpcBefore.replace(T, '[REDACTED]'));
    expect(e?.data?.response).toEqual(answer);
    expect(JSON.stringify(rpc)).toBe(rpcBefore);
    expect(JSON.stringify(answer)).toBe(answerBefore);
  });

  it('cuts payload nesting where the scan of the whole event did: 62 levels below data.request', async () => {
    const { audit, events } = setup({ payloads: { maxBytes: 100_000 } });
    let nested: unknown = 'bottom';
    for (let i = 0; i < 70; i++) nested = { n: nested };
    // rpc (0) → params (1) → arguments (2) → deep (3) → n … : the object at depth 62 is cut
    await run([audit], makeExchange({ rpc: call('echo', { deep: nested }) }), async () => ok());
    const [e] = await events();
    const request = e?.data?.request as { params: { arguments: { deep: unknown } } };
    let at: unknown = request.params.arguments.deep;
    let depth = 3;
    while (typeof at === 'object' && at !== null) {
      at = (at as { n: unknown }).n;
      depth++;
    }
    expect(at).toBe('[TOO_DEEP]');
    expect(depth).toBe(62);
  });

  it('leaves out payloads over maxBytes and says how big they were', async () => {
    const { audit, events } = setup({ payloads: { maxBytes: 200, response: false } });
    await run([audit], makeExchange({ rpc: call('echo', { text: 'x'.repeat(500) }) }), async () => ok());
    await run([audit], makeExchange({ rpc: call('echo', { text: 'small' }) }), async () => ok());
    const [big, small] = await events();
    expect(big?.data?.request).toBeUndefined();
    expect(big?.data?.requestOmitted?.reason).toBe('too_large');
    expect(big?.data?.requestOmitted?.bytes).toBeGreaterThan(500);
    expect(small?.data?.request).toMatchObject({ params: { arguments: { text: 'small' } } });
    expect(small?.data?.response).toBeUndefined();
  });

  it('honours custom redactKeys (exact names, case-insensitive)', async () => {
    const { audit, events } = setup({ payloads: { redactKeys: ['ssn'] } });
    await run(
      [audit],
      makeExchange({ rpc: call('echo', { SSN: '123', password: 'visible-by-choice' }) }),
      async () => ok(),
    );
    const [e] = await events();
    expect(e?.data?.request).toMatchObject({
      params: { arguments: { SSN: '[REDACTED]', password: 'visible-by-choice' } },
    });
  });
});

describe('audit middleware: slow sinks', () => {
  it('keeps answering while a sink is blocked; overflow is dropped and counted', async () => {
    const blocked: AuditSink = { name: 'blocked', write: () => new Promise<void>(() => {}) };
    const audit = createAuditMiddleware({ sinks: [blocked], queueSize: 2, closeTimeoutMs: 20 });
    for (let i = 0; i < 8; i++) {
      const res = await run([audit], makeExchange({ rpc: call('echo', {}, i) }), async () =>
        ok({ content: [] }, i),
      );
      expect(res.status).toBe(200);
      await new Promise((r) => setImmediate(r));
    }
    expect(audit.droppedEvents).toBe(5); // 1 in the stuck write, 2 queued, 5 dropped
    expect(audit.stats().sinks.blocked).toMatchObject({ dropped: 5, pending: 2 });
    await audit.close();
    expect(audit.droppedEvents).toBe(7);
  });
});
