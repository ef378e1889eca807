/**
 * The decision cache behind the middleware and `checkRequest` (`evaluateTarget` / `evaluateListAction`):
 * a request is looked up by a key built from its parts (the principal's share computed once per
 * frozen principal) and the Cedar request is built only on a miss. These tests pin that a hit never
 * gives another request's answer, whatever part differs, and that the LRU keeps what is used.
 */
import { describe, expect, it } from '@jest/globals';
import { composeChain, jsonResponse, ProxyHttpError } from '@bastion-mcp/proxy-core';
import { evaluateListAction, evaluateTarget } from '../src/decide.js';
import { EVALUATE_KEYED, PolicyEngine } from '../src/engine.js';
import { buildPrincipal, buildRequest, type PrincipalPart, requestFrom } from '../src/entity-model.js';
import { LISTS } from '../src/methods.js';
import { createAuthzMiddleware } from '../src/middleware.js';
import { call, identity, makeExchange } from './helpers.js';

const model = { groupEntityType: 'Group', roleEntityType: 'Role' };
const policies = [
  '@id("eng") permit(principal in Group::"eng", action == Action::"call_tool", resource in MCP::"demo");',
  '@id("eng-prompts") permit(principal in Group::"eng", action == Action::"get_prompt", resource == Prompt::"add");',
  '@id("ctx-n") forbid(principal, action, resource) when { context has arg_n && context.arg_n > 5 };',
  '@id("res-mode") forbid(principal, action, resource) when { resource has arg_mode && resource.arg_mode == "rm" };',
  '@id("destructive") forbid(principal, action, resource) when { resource has destructiveHint && resource.destructiveHint };',
  '@id("vip") permit(principal, action == Action::"list_tools", resource) when { principal has claim_vip && principal.claim_vip };',
];

const principal = (groups: string[], claims: Record<string, unknown> = {}) =>
  buildPrincipal(identity({ subject: 'alice', groups, claims: { sub: 'alice', ...claims } }), model);

describe('decision cache on the request path', () => {
  it('never serves one principal the decision of another with the same subject', async () => {
    const engine = await PolicyEngine.create({ policies });
    const eng = principal(['eng']);
    const sales = principal(['sales']);
    const tool = { kind: 'tool', name: 'add' } as const;
    expect(evaluateTarget(engine, eng, 'demo', tool).decision).toBe('allow');
    expect(evaluateTarget(engine, sales, 'demo', tool).decision).toBe('deny');
    expect(evaluateTarget(engine, eng, 'demo', tool).decision).toBe('allow');
    expect(evaluateTarget(engine, sales, 'demo', tool).decision).toBe('deny');
    // Same groups, other claims: another principal entity.
    const vip = principal(['sales'], { vip: true });
    const list = LISTS['tools/list'] as { item: 'tools'; listAction: 'list_tools' };
    const cls = { kind: 'list', ...list } as const;
    expect(evaluateListAction(engine, sales, 'demo', cls).decision).toBe('deny');
    expect(evaluateListAction(engine, vip, 'demo', cls).decision).toBe('allow');
    expect(evaluateListAction(engine, sales, 'demo', cls).decision).toBe('deny');
    expect(engine.cachedDecisions).toBe(4);
  });

  it('keeps arguments apart, in the context and on the resource entity', async () => {
    const engine = await PolicyEngine.create({ policies });
    const eng = principal(['eng']);
    const add = { kind: 'tool', name: 'add' } as const;
    expect(evaluateTarget(engine, eng, 'demo', add, { n: 1 }).decision).toBe('allow');
    expect(evaluateTarget(engine, eng, 'demo', add, { n: 9 })).toMatchObject({
      decision: 'deny',
      policyIds: ['ctx-n'],
    });
    expect(evaluateTarget(engine, eng, 'demo', add, { n: 1 }).decision).toBe('allow');
    expect(evaluateTarget(engine, eng, 'demo', add, { mode: 'ls' }).decision).toBe('allow');
    expect(evaluateTarget(engine, eng, 'demo', add, { mode: 'rm' })).toMatchObject({
      decision: 'deny',
      policyIds: ['res-mode'],
    });
    expect(evaluateTarget(engine, eng, 'demo', add).decision).toBe('allow');
    // A string "9" is not the number 9 (comparing it is an evaluation error, which denies too).
    expect(evaluateTarget(engine, eng, 'demo', add, { n: '9' }).reason).toBe('evaluation error in "ctx-n"');
    expect(evaluateTarget(engine, eng, 'demo', add, { n: 9 }).reason).toBe('forbidden by "ctx-n"');
    expect(evaluateTarget(engine, eng, 'demo', add, { n: '9' }).reason).toBe('evaluation error in "ctx-n"');
  });

  it('keeps servers, target kinds, names and annotations apart', async () => {
    const engine = await PolicyEngine.create({ policies });
    const eng = principal(['eng']);
    expect(evaluateTarget(engine, eng, 'demo', { kind: 'tool', name: 'add' }).decision).toBe('allow');
    expect(evaluateTarget(engine, eng, 'other', { kind: 'tool', name: 'add' }).decision).toBe('deny');
    // Same name, another kind (another action and entity type).
    expect(evaluateTarget(engine, eng, 'demo', { kind: 'prompt', name: 'add' }).decision).toBe('allow');
    expect(evaluateTarget(engine, eng, 'demo', { kind: 'prompt', name: 'sub' }).decision).toBe('deny');
    expect(evaluateTarget(engine, eng, 'demo', { kind: 'resource', uri: 'add' }).decision).toBe('deny');
    const hinted = (destructiveHint: boolean) =>
      evaluateTarget(engine, eng, 'demo', { kind: 'tool', name: 'add', annotations: { destructiveHint } });
    expect(hinted(true)).toMatchObject({ decision: 'deny', policyIds: ['destructive'] });
    expect(hinted(false).decision).toBe('allow');
    expect(hinted(true).decision).toBe('deny');
  });

  it('gives the same answers as the uncached engine, with what was evaluated', async () => {
    const cached = await PolicyEngine.create({ policies });
    const uncached = await PolicyEngine.create({ policies, decisionCacheSize: 0 });
    const eng = principal(['eng']);
    const cases = [
      { kind: 'tool', name: 'add' },
      { kind: 'prompt', name: 'add' },
      { kind: 'resource', uri: 'demo://x' },
    ] as const;
    for (const target of cases) {
      for (let i = 0; i < 2; i++) {
        const d = evaluateTarget(cached, eng, 'demo', target, { n: 7 });
        const request = buildRequest(eng, 'demo', target, { n: 7 });
        expect(d).toEqual({
          ...uncached.evaluate(request),
          action: request.action.id,
          resource: request.resource,
        });
      }
    }
    expect(uncached.cachedDecisions).toBe(0);
  });

  it('hands out copies on the request path too', async () => {
    const engine = await PolicyEngine.create({ policies });
    const eng = principal(['eng']);
    const d = evaluateTarget(engine, eng, 'demo', { kind: 'tool', name: 'add' });
    d.policyIds.push('tampered');
    expect(evaluateTarget(engine, eng, 'demo', { kind: 'tool', name: 'add' }).policyIds).toEqual(['eng']);
  });

  it('does not cache requests with a large key', async () => {
    const engine = await PolicyEngine.create({ policies });
    const eng = principal(['eng']);
    const d = evaluateTarget(engine, eng, 'demo', { kind: 'tool', name: 'add' }, { text: 'x'.repeat(5000) });
    expect(d.decision).toBe('allow');
    expect(engine.cachedDecisions).toBe(0);
  });
});

describe('principals', () => {
  it('buildPrincipal returns a deeply frozen part, so a key derived from it cannot go stale', () => {
    const p = principal(['eng'], { org: { kind: 'employee' }, teams: ['red'] });
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.entity)).toBe(true);
    expect(Object.isFrozen(p.entity.parents)).toBe(true);
    expect(Object.isFrozen(p.claims)).toBe(true);
    expect(Object.isFrozen(p.claims.claim_org)).toBe(true);
    expect(Object.isFrozen(p.claims.claim_teams)).toBe(true);
    expect(() => {
      (p.entity.parents as unknown[]).push({ type: 'Group', id: 'admins' });
    }).toThrow(TypeError);
    // The key is not part of the data: equal parts stay equal and serialise as before.
    expect(p).toEqual(principal(['eng'], { org: { kind: 'employee' }, teams: ['red'] }));
    expect(Object.keys(p)).toEqual(['uid', 'entity', 'claims']);
  });

  it('a principal built by hand is keyed by its content on every call, so changing it is seen', async () => {
    const engine = await PolicyEngine.create({ policies });
    const uid = { type: 'Client', id: 'alice' };
    const parents = [{ type: 'Group', id: 'eng' }];
    const claims = {};
    const hand: PrincipalPart = { uid, entity: { uid, attrs: claims, parents }, claims };
    const tool = { kind: 'tool', name: 'add' } as const;
    expect(evaluateTarget(engine, hand, 'demo', tool).decision).toBe('allow');
    parents[0] = { type: 'Group', id: 'sales' };
    expect(evaluateTarget(engine, hand, 'demo', tool).decision).toBe('deny');
    parents[0] = { type: 'Group', id: 'eng' };
    expect(evaluateTarget(engine, hand, 'demo', tool).decision).toBe('allow');
    // Equal content built by buildPrincipal is another key (a hash), never a wrong answer.
    expect(evaluateTarget(engine, principal(['eng']), 'demo', tool).decision).toBe('allow');
    expect(evaluateTarget(engine, principal(['sales']), 'demo', tool).decision).toBe('deny');
  });

  it('content-equal principals built separately share decisions', async () => {
    const engine = await PolicyEngine.create({ policies });
    const tool = { kind: 'tool', name: 'add' } as const;
    evaluateTarget(engine, principal(['eng']), 'demo', tool);
    evaluateTarget(engine, principal(['eng']), 'demo', tool);
    expect(engine.cachedDecisions).toBe(1);
  });
});

describe('LRU order', () => {
  /** The cached decision object itself comes back on a hit; a fresh one after an eviction. */
  async function keyed(size: number) {
    const engine = await PolicyEngine.create({ policies, decisionCacheSize: size });
    const p = principal(['eng']);
    const request = () => requestFrom(p, 'demo', { kind: 'tool', name: 'add' }, {});
    return (key: string) => engine[EVALUATE_KEYED](key, request);
  }

  it('evicts the least recently used entry of a small cache', async () => {
    const get = await keyed(2);
    const a = get('a');
    const b = get('b');
    expect(get('a')).toBe(a);
    get('c');
    // 'b' was the least recently used when 'c' came in.
    expect(get('a')).toBe(a);
    expect(get('b')).not.toBe(b);
  });

  it('keeps an entry that is used while it drifts towards eviction', async () => {
    const size = 10;
    const get = await keyed(size);
    const first = get('k0');
    for (let i = 1; i < 50; i++) {
      get(`k${i}`);
      expect(get('k0')).toBe(first);
    }
    const unused = get('k1');
    expect(get('k1')).toBe(unused);
    for (let i = 100; i < 100 + size; i++) get(`k${i}`);
    expect(get('k1')).not.toBe(unused);
  });
});

describe('the middleware', () => {
  it('never lets a cached decision cross identities with the same subject', async () => {
    const mw = await createAuthzMiddleware({ policies });
    // The policies read destructiveHint, so authz fetches the upstream's tools/list once.
    const run = composeChain([mw], async (ex) => {
      const rpc = ex.rpc;
      const id = rpc && 'id' in rpc ? rpc.id : null;
      const listing = rpc && 'method' in rpc && rpc.method === 'tools/list';
      return jsonResponse(200, { jsonrpc: '2.0', id, result: listing ? { tools: [{ name: 'add' }] } : {} });
    });
    const eng = identity({ subject: 'alice', groups: ['eng'] });
    const sales = identity({ subject: 'alice', groups: ['sales'] });
    const attempt = async (who: typeof eng, args: Record<string, unknown>) => {
      const ex = makeExchange(call('add', args), { identity: who });
      try {
        await run(ex);
      } catch (err) {
        expect(err).toBeInstanceOf(ProxyHttpError);
      }
      return ex.notes.authz?.decision;
    };
    for (let i = 0; i < 2; i++) {
      expect(await attempt(eng, { n: 1 })).toBe('allow');
      expect(await attempt(sales, { n: 1 })).toBe('deny');
      expect(await attempt(eng, { n: 9 })).toBe('deny');
      expect(await attempt(eng, { mode: 'rm' })).toBe('deny');
    }
    expect(mw.engine.cachedDecisions).toBe(4);
  });
});
