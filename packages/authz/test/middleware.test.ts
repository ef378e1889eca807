/**
 * The middleware driven through proxy-core's real composeChain. The terminal stands in for the
 * forwarder so that each test controls the upstream answer exactly (JSON or SSE framing, pagination);
 * the same behaviours are checked against the real testkit upstream in e2e.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import {
  composeChain,
  errorToResponse,
  type Exchange,
  type JsonRpcMessage,
  jsonResponse,
  type ProxyResponse,
  ProxyHttpError,
  type SseEvent,
} from '@bastion-mcp/proxy-core';
import { AuthzErrorCode } from '../src/errors.js';
import { createAuthzMiddleware } from '../src/middleware.js';
import { call, identity, makeExchange } from './helpers.js';

const TOOLS = [
  { name: 'echo', annotations: { readOnlyHint: true } },
  { name: 'delete_repo', annotations: { destructiveHint: true } },
  { name: 'add' },
];

function sse(messages: JsonRpcMessage[]): ProxyResponse {
  async function* events(): AsyncGenerator<SseEvent> {
    for (const m of messages) yield { event: 'message', data: JSON.stringify(m) } as SseEvent;
  }
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    body: { type: 'sse', events: events() },
  };
}

async function sseMessages(res: ProxyResponse): Promise<JsonRpcMessage[]> {
  if (res.body.type !== 'sse') throw new Error(`expected sse, got ${res.body.type}`);
  const out: JsonRpcMessage[] = [];
  for await (const ev of res.body.events) out.push(JSON.parse(ev.data) as JsonRpcMessage);
  return out;
}

/** A terminal that records what reached it and answers like an MCP server would. */
function upstream(answer?: (ex: Exchange) => ProxyResponse) {
  const seen: JsonRpcMessage[] = [];
  const terminal = async (ex: Exchange): Promise<ProxyResponse> => {
    const rpc = ex.rpc as JsonRpcMessage;
    seen.push(rpc);
    if (answer) return answer(ex);
    if ('method' in rpc && rpc.method === 'tools/list' && 'id' in rpc) {
      return jsonResponse(200, { jsonrpc: '2.0', id: rpc.id, result: { tools: TOOLS } });
    }
    return jsonResponse(200, { jsonrpc: '2.0', id: 'id' in rpc ? rpc.id : null, result: { content: [] } });
  };
  return { seen, terminal };
}

const alice = identity({ subject: 'alice', claims: { sub: 'alice', email: 'alice@company.com' } });

async function denial(p: Promise<unknown>): Promise<ProxyHttpError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyHttpError);
    return err as ProxyHttpError;
  }
  throw new Error('expected a denial');
}

describe('createAuthzMiddleware', () => {
  it('denies with 403 and records the decision; the upstream is not contacted', async () => {
    const mw = await createAuthzMiddleware({
      policies: ['permit(principal, action, resource == Tool::"echo");'],
    });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    const ok = makeExchange(call('echo'), { identity: alice });
    await run(ok);
    expect(ok.notes.authz).toEqual({
      decision: 'allow',
      policyIds: ['policy0'],
      reason: 'permitted by "policy0"',
    });
    const no = makeExchange(call('add', {}, 7), { identity: alice });
    const err = await denial(run(no));
    expect(err).toMatchObject({
      status: 403,
      rpcCode: 403,
      code: AuthzErrorCode.Denied,
      publicMessage: 'Access denied by policy',
    });
    expect(no.notes.authz).toMatchObject({ decision: 'deny', policyIds: [], reason: 'no policy permits' });
    expect(no.notes.rejectedBy).toBe('authz');
    expect(up.seen).toHaveLength(1);
  });

  it('denies when there is no identity', async () => {
    const mw = await createAuthzMiddleware({ policies: ['permit(principal, action, resource);'] });
    const ex = makeExchange(call('echo'));
    await denial(composeChain([mw], upstream().terminal)(ex));
    expect(ex.notes.authz?.reason).toBe('no authenticated identity');
  });

  it('forwards methods without a target and client responses; denies unknown methods by default', async () => {
    const mw = await createAuthzMiddleware({ policies: ['forbid(principal, action, resource);'] });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    for (const method of [
      'initialize',
      'ping',
      'notifications/initialized',
      'logging/setLevel',
      'completion/complete',
    ]) {
      await run(makeExchange({ jsonrpc: '2.0', id: 1, method, params: {} }, { identity: alice }));
    }
    await run(
      makeExchange(
        { jsonrpc: '2.0', id: 'srv-1', result: { action: 'accept', content: {} } },
        { identity: alice },
      ),
    );
    expect(up.seen).toHaveLength(6);
    // `constructor` / `toString` are no targets or lists just because objects have such keys.
    for (const method of [
      'sampling/createMessage',
      'elicitation/create',
      'tasks/list',
      'foo/bar',
      'constructor',
      'toString',
      '__proto__',
    ]) {
      const ex = makeExchange({ jsonrpc: '2.0', id: 9, method }, { identity: alice });
      await denial(run(ex));
      expect(ex.notes.authz?.reason).toBe('unknown method denied by defaultUnknownMethod');
    }
    expect(up.seen).toHaveLength(6);
    const lenient = await createAuthzMiddleware({
      policies: ['forbid(principal, action, resource);'],
      defaultUnknownMethod: 'allow',
    });
    await composeChain(
      [lenient],
      up.terminal,
    )(makeExchange({ jsonrpc: '2.0', id: 9, method: 'foo/bar' }, { identity: alice }));
    expect(up.seen).toHaveLength(7);
  });

  it('answers an unknown method like a server without it: -32601 on 200 before 2026-07-28, audited as a denial', async () => {
    const mw = await createAuthzMiddleware({ policies: ['permit(principal, action, resource);'] });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    for (const headers of [
      {} as Record<string, string>,
      { 'mcp-protocol-version': '2025-11-25' },
      { 'mcp-protocol-version': '2025-06-18' },
    ]) {
      const ex = makeExchange(
        { jsonrpc: '2.0', id: 'q-1', method: 'foo/bar', params: {} },
        { identity: alice, headers },
      );
      const err = await denial(run(ex));
      expect(err).toMatchObject({
        status: 200,
        rpcCode: -32601,
        publicMessage: 'Method not found',
        code: AuthzErrorCode.MethodNotFound,
      });
      // The wire answer proxy-core's edge mapper makes of it echoes the id.
      const wire = errorToResponse(err, ex);
      expect(wire.status).toBe(200);
      expect(wire.body).toEqual({
        type: 'json',
        value: { jsonrpc: '2.0', id: 'q-1', error: { code: -32601, message: 'Method not found' } },
      });
      expect(ex.notes.authz).toEqual({
        decision: 'deny',
        policyIds: [],
        reason: 'unknown method denied by defaultUnknownMethod',
      });
      expect(ex.notes.rejectedBy).toBe('authz');
    }
    expect(up.seen).toHaveLength(0);
  });

  it('answers an unknown method of a 2026-07-28+ request with 404 / -32601, without contacting the upstream', async () => {
    const mw = await createAuthzMiddleware({ policies: ['permit(principal, action, resource);'] });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    for (const version of ['2026-07-28', '2027-01-15']) {
      const ex = makeExchange(
        {
          jsonrpc: '2.0',
          id: 601,
          method: 'unknown/method',
          params: { _meta: { 'io.modelcontextprotocol/protocolVersion': version } },
        },
        { identity: alice, headers: { 'mcp-protocol-version': version, 'mcp-method': 'unknown/method' } },
      );
      const err = await denial(run(ex));
      expect(err).toMatchObject({ status: 404, rpcCode: -32601, publicMessage: 'Method not found' });
      expect(errorToResponse(err, ex)).toMatchObject({
        status: 404,
        body: {
          type: 'json',
          value: { jsonrpc: '2.0', id: 601, error: { code: -32601, message: 'Method not found' } },
        },
      });
      expect(ex.notes).toMatchObject({
        authz: { decision: 'deny', policyIds: [], reason: 'unknown method denied by defaultUnknownMethod' },
        rejectedBy: 'authz',
      });
    }
    expect(up.seen).toHaveLength(0);
  });

  it('accepts an unknown notification with 202 without forwarding it, and still records the denial', async () => {
    const mw = await createAuthzMiddleware({ policies: ['permit(principal, action, resource);'] });
    const up = upstream();
    const ex = makeExchange({ jsonrpc: '2.0', method: 'custom/ping' }, { identity: alice });
    const res = await composeChain([mw], up.terminal)(ex);
    expect(res).toEqual({ status: 202, headers: {}, body: { type: 'empty' } });
    expect(ex.notes.authz?.decision).toBe('deny');
    expect(ex.notes.rejectedBy).toBe('authz');
    expect(up.seen).toHaveLength(0);
  });

  it('treats resources/subscribe and unsubscribe as removed methods from 2026-07-28 on, as resource reads before', async () => {
    const mw = await createAuthzMiddleware({
      policies: [
        'permit(principal, action == Action::"read_resource", resource == Resource::"demo://readme");',
      ],
    });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    const modern = { 'mcp-protocol-version': '2026-07-28' };
    for (const method of ['resources/subscribe', 'resources/unsubscribe']) {
      // Modern: a removed method, even with a permitted URI (and without one, as the suite probes).
      for (const params of [{ uri: 'demo://readme' }, {}]) {
        const ex = makeExchange(
          { jsonrpc: '2.0', id: 500, method, params },
          { identity: alice, headers: { ...modern, 'mcp-method': method } },
        );
        const err = await denial(run(ex));
        expect(err).toMatchObject({ status: 404, rpcCode: -32601 });
        expect(ex.notes.authz?.reason).toBe('unknown method denied by defaultUnknownMethod');
      }
      expect(up.seen).toHaveLength(0);
      // Legacy: authorized like resources/read on the URI.
      await run(
        makeExchange(
          { jsonrpc: '2.0', id: 1, method, params: { uri: 'demo://readme' } },
          { identity: alice },
        ),
      );
      const no = makeExchange(
        { jsonrpc: '2.0', id: 2, method, params: { uri: 'demo://secret' } },
        { identity: alice },
      );
      expect(await denial(run(no))).toMatchObject({ status: 403, rpcCode: 403 });
      expect(up.seen.map((m) => ('method' in m ? m.method : ''))).toEqual([method]);
      up.seen.length = 0;
    }
  });

  it('forwards a removed method of a 2026-07-28 request when defaultUnknownMethod is allow', async () => {
    const mw = await createAuthzMiddleware({
      policies: ['forbid(principal, action, resource);'],
      defaultUnknownMethod: 'allow',
    });
    const up = upstream();
    const ex = makeExchange(
      { jsonrpc: '2.0', id: 500, method: 'resources/subscribe', params: { uri: 'demo://readme' } },
      {
        identity: alice,
        headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'resources/subscribe' },
      },
    );
    await composeChain([mw], up.terminal)(ex);
    expect(up.seen).toHaveLength(1);
    expect(ex.notes.authz).toMatchObject({
      decision: 'allow',
      reason: 'unknown method allowed by defaultUnknownMethod',
    });
  });

  it('answers a target request without its name or URI with 400 / -32602 Invalid params, not a policy denial', async () => {
    const mw = await createAuthzMiddleware({ policies: ['permit(principal, action, resource);'] });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    const cases: Array<[string, Record<string, unknown> | undefined, string]> = [
      ['tools/call', { arguments: {} }, 'tool'],
      ['tools/call', { name: 42 }, 'tool'],
      ['prompts/get', undefined, 'prompt'],
      ['resources/read', { name: 'demo://readme' }, 'resource'],
    ];
    for (const [method, params, kind] of cases) {
      for (const headers of [{} as Record<string, string>, { 'mcp-protocol-version': '2025-11-25' }]) {
        const rpc = { jsonrpc: '2.0' as const, id: 'bad', method, ...(params ? { params } : {}) };
        const ex = makeExchange(rpc, { identity: alice, headers });
        const err = await denial(run(ex));
        expect(err).toMatchObject({
          status: 400,
          rpcCode: -32602,
          publicMessage: 'Invalid params',
          code: AuthzErrorCode.InvalidParams,
        });
        expect(errorToResponse(err, ex).body).toEqual({
          type: 'json',
          value: { jsonrpc: '2.0', id: 'bad', error: { code: -32602, message: 'Invalid params' } },
        });
        expect(ex.notes).toMatchObject({
          authz: { decision: 'deny', policyIds: [], reason: `malformed ${kind} request` },
          rejectedBy: 'authz',
        });
      }
    }
    // From 2026-07-28 the missing name cannot match the required Mcp-Name: the header check answers first.
    const modern = makeExchange(
      { jsonrpc: '2.0', id: 'bad', method: 'tools/call', params: {} },
      { identity: alice, headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' } },
    );
    expect(await denial(run(modern))).toMatchObject({ status: 400, rpcCode: -32020 });
    expect(up.seen).toHaveLength(0);
  });

  it('takes annotations from the upstream tools/list (side fetch), never from the client', async () => {
    const mw = await createAuthzMiddleware({
      policies: [
        'permit(principal, action, resource);',
        '@id("no-destructive") forbid(principal, action == Action::"call_tool", resource) when { resource has destructiveHint && resource.destructiveHint };',
      ],
    });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    const lying = {
      jsonrpc: '2.0' as const,
      id: 3,
      method: 'tools/call',
      params: {
        name: 'delete_repo',
        arguments: { destructiveHint: false },
        annotations: { destructiveHint: false },
      },
    };
    const ex = makeExchange(lying, { identity: alice });
    await denial(run(ex));
    expect(ex.notes.authz).toMatchObject({ decision: 'deny', policyIds: ['no-destructive'] });
    expect(up.seen.map((m) => ('method' in m ? m.method : 'response'))).toEqual(['tools/list']);
    await run(makeExchange(call('echo'), { identity: alice }));
    // the cache answered: no second tools/list
    expect(up.seen.map((m) => ('method' in m ? m.method : 'response'))).toEqual(['tools/list', 'tools/call']);
  });

  it('denies a call when annotations are needed but the upstream list fails', async () => {
    const mw = await createAuthzMiddleware({
      policies: [
        'permit(principal, action, resource) unless { resource has destructiveHint && resource.destructiveHint };',
      ],
    });
    const run = composeChain([mw], async () => jsonResponse(500, { error: 'boom' }));
    const ex = makeExchange(call('delete_repo'), { identity: alice });
    await denial(run(ex));
    expect(ex.notes.authz?.reason).toBe('tool annotations unavailable');
  });

  it('filters a JSON tools/list, keeps nextCursor and marks 2026-07-28 results private', async () => {
    const mw = await createAuthzMiddleware({
      policies: ['permit(principal, action == Action::"call_tool", resource == Tool::"echo");'],
    });
    const run = composeChain([mw], async (ex) =>
      jsonResponse(200, {
        jsonrpc: '2.0',
        id: (ex.rpc as { id: number }).id,
        result: { tools: TOOLS, nextCursor: 'page2', ttlMs: 60000, cacheScope: 'public' },
      }),
    );
    const rpc = { jsonrpc: '2.0' as const, id: 4, method: 'tools/list', params: {} };
    const res = await run(
      makeExchange(rpc, {
        identity: alice,
        headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      }),
    );
    expect(res.body).toEqual({
      type: 'json',
      value: {
        jsonrpc: '2.0',
        id: 4,
        result: { tools: [TOOLS[0]], nextCursor: 'page2', ttlMs: 60000, cacheScope: 'private' },
      },
    });
  });

  it('filters an SSE-framed list event by event, passing other events through', async () => {
    const mw = await createAuthzMiddleware({
      policies: ['permit(principal, action == Action::"get_prompt", resource == Prompt::"greeting");'],
    });
    const progress = { jsonrpc: '2.0' as const, method: 'notifications/progress', params: { progress: 1 } };
    const run = composeChain([mw], async () =>
      sse([
        progress,
        {
          jsonrpc: '2.0',
          id: 5,
          result: { prompts: [{ name: 'greeting' }, { name: 'hidden' }], nextCursor: 'c' },
        },
      ]),
    );
    const res = await run(
      makeExchange({ jsonrpc: '2.0', id: 5, method: 'prompts/list' }, { identity: alice }),
    );
    expect(await sseMessages(res)).toEqual([
      progress,
      { jsonrpc: '2.0', id: 5, result: { prompts: [{ name: 'greeting' }], nextCursor: 'c' } },
    ]);
  });

  it('refuses to pass on a list response it cannot read', async () => {
    const mw = await createAuthzMiddleware({ policies: ['permit(principal, action, resource);'] });
    const { Readable } = await import('node:stream');
    const run = composeChain([mw], async () => ({
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: { type: 'stream' as const, stream: Readable.from([Buffer.from('{"tools":[]}')]) },
    }));
    const err = await denial(
      run(makeExchange({ jsonrpc: '2.0', id: 5, method: 'tools/list' }, { identity: alice })),
    );
    expect(err).toMatchObject({ status: 502, code: AuthzErrorCode.UnfilterableResponse });
  });

  it('evaluates list_* on MCP::"<server>" when authorizeListRequests is set', async () => {
    const mw = await createAuthzMiddleware({
      authorizeListRequests: true,
      policies: ['permit(principal, action == Action::"list_tools", resource == MCP::"demo");'],
    });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    await run(makeExchange({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { identity: alice }));
    await denial(run(makeExchange({ jsonrpc: '2.0', id: 2, method: 'prompts/list' }, { identity: alice })));
    expect(up.seen).toHaveLength(1);
  });

  it('authorizes each resource of subscriptions/listen like resources/read', async () => {
    const mw = await createAuthzMiddleware({
      policies: [
        'permit(principal, action == Action::"read_resource", resource == Resource::"demo://readme");',
      ],
    });
    const up = upstream();
    const run = composeChain([mw], up.terminal);
    const listen = (uris: string[]) =>
      makeExchange(
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'subscriptions/listen',
          params: { notifications: { resourceSubscriptions: uris } },
        },
        { identity: alice },
      );
    await run(listen(['demo://readme']));
    await denial(run(listen(['demo://readme', 'demo://secret'])));
    expect(up.seen).toHaveLength(1);
  });

  it('rejects a header/body mismatch before evaluating, and records it', async () => {
    const mw = await createAuthzMiddleware({ policies: ['permit(principal, action, resource);'] });
    const up = upstream();
    const ex = makeExchange(call('delete_repo'), {
      identity: alice,
      headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
    });
    const err = await denial(composeChain([mw], up.terminal)(ex));
    expect(err).toMatchObject({ status: 400, rpcCode: -32020 });
    expect(ex.notes.rejectedBy).toBe('authz');
    expect(up.seen).toHaveLength(0);
  });

  it('logs evaluation errors with the policy id and denies', async () => {
    const mw = await createAuthzMiddleware({
      policies: [
        '@id("needs-email") permit(principal, action, resource) when { principal.claim_email like "*@company.com" };',
      ],
    });
    const logs: Array<{ obj: Record<string, unknown>; msg?: string }> = [];
    const ex = makeExchange(call('echo'), { identity: identity({ subject: 'svc' }) });
    Object.defineProperty(ex, 'log', {
      value: {
        debug() {},
        info() {},
        warn: (obj: Record<string, unknown>, msg?: string) => logs.push({ obj, msg }),
        error() {},
      },
    });
    await denial(composeChain([mw], upstream().terminal)(ex));
    expect(ex.notes.authz).toMatchObject({ decision: 'deny', policyIds: ['needs-email'] });
    expect(logs[0]).toMatchObject({
      obj: { policyId: 'needs-email', target: 'Tool::"echo"' },
      msg: 'Cedar policy evaluation error',
    });
  });

  it('validates its options', async () => {
    await expect(
      createAuthzMiddleware({ policies: ['permit(principal, action, resource);'], groupEntityType: 'a b' }),
    ).rejects.toThrow('"groupEntityType"');
    await expect(
      createAuthzMiddleware({
        policies: ['permit(principal, action, resource);'],
        defaultUnknownMethod: 'nope' as never,
      }),
    ).rejects.toThrow('"defaultUnknownMethod"');
  });
});
