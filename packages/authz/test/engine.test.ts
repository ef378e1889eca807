import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PolicyEngine } from '../src/engine.js';
import { buildPrincipal, buildRequest } from '../src/entity-model.js';
import { AuthzConfigError, AuthzErrorCode } from '../src/errors.js';
import { identity } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'authz-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = { groupEntityType: 'Group', roleEntityType: 'Role' };

async function loadError(input: Parameters<typeof PolicyEngine.create>[0]): Promise<AuthzConfigError> {
  try {
    await PolicyEngine.create(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AuthzConfigError);
    return err as AuthzConfigError;
  }
  throw new Error('expected the load to fail');
}

describe('PolicyEngine.create', () => {
  it('rejects a malformed policy naming the source, line and column', async () => {
    const err = await loadError({
      policies: [
        'permit(principal, action, resource);',
        '// second source\npermit(principal, action, resource)\n  when { principal.claim_a == };',
      ],
    });
    expect(err.code).toBe(AuthzErrorCode.PolicyInvalid);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ source: 'policies[1]', line: 3, column: 31 });
    expect(err.message).toContain('policies[1]:3:31');
    expect(err.message).toContain('unexpected token');
  });

  it('reads .cedar files and reports their path in errors', async () => {
    const good = join(dir, 'good.cedar');
    const bad = join(dir, 'bad.cedar');
    writeFileSync(good, '@id("from-file")\npermit(principal, action, resource);\n');
    writeFileSync(bad, 'permit(principal, action, resource);\n\nforbid(principal action, resource);\n');
    const engine = await PolicyEngine.create({ policyFiles: [good] });
    expect(engine.policies.map((p) => p.id)).toEqual(['from-file']);
    const err = await loadError({ policyFiles: [bad] });
    expect(err.issues[0]).toMatchObject({ source: bad, line: 3 });
  });

  it('fails with a typed error when a file cannot be read', async () => {
    const err = await loadError({ policyFiles: [join(dir, 'missing.cedar')] });
    expect(err.code).toBe(AuthzErrorCode.SourceUnreadable);
    expect(err.message).toContain('missing.cedar');
  });

  it('requires at least one policy', async () => {
    const err = await loadError({ policies: [] });
    expect(err.code).toBe(AuthzErrorCode.NoPolicies);
  });

  it('numbers policies policy0..N across sources and honours @id annotations', async () => {
    const engine = await PolicyEngine.create({
      policies: [
        'permit(principal, action, resource);\n@id("named")\nforbid(principal, action, resource);',
        'permit(principal, action, resource);',
      ],
    });
    expect(engine.policies.map((p) => p.id)).toEqual(['policy0', 'named', 'policy2']);
  });

  it('rejects duplicate @id annotations', async () => {
    const err = await loadError({
      policies: [
        '@id("x")\npermit(principal, action, resource);',
        '@id("x")\npermit(principal, action, resource);',
      ],
    });
    expect(err.issues[0]).toMatchObject({ source: 'policies[1]', policyId: 'x', line: 1 });
  });

  it('rejects policy templates', async () => {
    const err = await loadError({ policies: ['permit(principal == ?principal, action, resource);'] });
    expect(err.message).toContain('templates');
  });

  it('validates against a schema, naming the policy id and its line in the source', async () => {
    const schema = `entity Group; entity Client in [Group] { claim_email?: String };
entity MCP; entity Tool in [MCP] { name: String, destructiveHint?: Bool };
action call_tool appliesTo { principal: Client, resource: Tool, context: {} };`;
    const err = await loadError({
      schema,
      policies: [
        'permit(principal, action == Action::"call_tool", resource);\n\n@id("typo")\npermit(principal, action == Action::"call_tool", resource)\nwhen { resource.nme == "x" };',
      ],
    });
    expect(err.code).toBe(AuthzErrorCode.PolicyValidation);
    expect(err.issues[0]).toMatchObject({ source: 'policies[0]', policyId: 'typo', line: 5 });
    expect(err.issues[0]?.message).toContain('nme');
    await expect(
      PolicyEngine.create({
        schema,
        policies: [
          'permit(principal, action == Action::"call_tool", resource) when { resource.name == "x" };',
        ],
      }),
    ).resolves.toBeInstanceOf(PolicyEngine);
  });

  it('rejects a schema that does not parse, with its line', async () => {
    const err = await loadError({
      schema: 'entity Foo {\n  x: Strin\n};',
      policies: ['permit(principal, action, resource);'],
    });
    expect(err.code).toBe(AuthzErrorCode.SchemaInvalid);
    expect(err.issues[0]).toMatchObject({ source: 'schema', line: 2 });
  });

  it('rejects entities JSON that is not an array or does not parse', async () => {
    const a = await loadError({ policies: ['permit(principal, action, resource);'], entities: '{"uid":1}' });
    expect(a.code).toBe(AuthzErrorCode.EntitiesInvalid);
    const b = await loadError({
      policies: ['permit(principal, action, resource);'],
      entities: [{ uid: { type: 'Group', id: 'a' }, attrs: {}, parents: 'x' as never }],
    });
    expect(b.code).toBe(AuthzErrorCode.EntitiesInvalid);
  });

  it('validates option types with TypeError', async () => {
    await expect(PolicyEngine.create({ policies: 'permit' as never })).rejects.toThrow(TypeError);
    await expect(
      PolicyEngine.create({
        policies: ['permit(principal, action, resource);'],
        onEvaluationError: 'maybe' as never,
      }),
    ).rejects.toThrow('"onEvaluationError"');
  });
});

describe('PolicyEngine.evaluate', () => {
  const alice = identity({
    subject: 'alice',
    groups: ['eng'],
    claims: {
      sub: 'alice',
      email: 'alice@company.com',
      teams: ['red', 'blue'],
      org: { name: 'acme', level: 3, tags: ['x'] },
    },
  });
  const principal = buildPrincipal(alice, model);

  it('allows through group parents, including a hierarchy from the entities JSON', async () => {
    const engine = await PolicyEngine.create({
      policies: ['permit(principal in Group::"staff", action == Action::"call_tool", resource);'],
      entities: JSON.stringify([
        { uid: { type: 'Group', id: 'eng' }, attrs: {}, parents: [{ type: 'Group', id: 'staff' }] },
      ]),
    });
    const d = engine.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'echo' }));
    expect(d).toMatchObject({ decision: 'allow', policyIds: ['policy0'] });
    const bob = buildPrincipal(identity({ subject: 'bob', groups: ['sales'] }), model);
    expect(engine.evaluate(buildRequest(bob, 'demo', { kind: 'tool', name: 'echo' })).decision).toBe('deny');
  });

  it('sees claims with arrays and nested objects, on the principal and in the context', async () => {
    const engine = await PolicyEngine.create({
      policies: [
        `permit(principal, action, resource) when {
           principal.claim_teams.contains("blue") && principal.claim_org.name == "acme" &&
           principal.claim_org.level >= 3 && context.claim_org.tags.contains("x")
         };`,
      ],
    });
    expect(engine.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'echo' })).decision).toBe(
      'allow',
    );
  });

  it('matches context.arg_n == 5 for JSON 5, and compares decimals', async () => {
    const engine = await PolicyEngine.create({
      policies: [
        '@id("n5") permit(principal, action, resource) when { context has arg_n && context.arg_n == 5 };',
        '@id("cheap") permit(principal, action, resource) when { context has arg_price && context.arg_price.lessThan(decimal("10.0")) };',
      ],
    });
    const args = JSON.parse('{"n": 5}') as Record<string, unknown>;
    expect(
      engine.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'add' }, args)),
    ).toMatchObject({
      decision: 'allow',
      policyIds: ['n5'],
    });
    expect(
      engine.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'add' }, { n: 6 })).decision,
    ).toBe('deny');
    expect(
      engine.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'add' }, { price: 9.99 }))
        .decision,
    ).toBe('allow');
    expect(
      engine.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'add' }, { price: 10.5 }))
        .decision,
    ).toBe('deny');
  });

  it('denies on an evaluation error by default and reports the policy id', async () => {
    const policies = [
      '@id("ok") permit(principal, action, resource);',
      '@id("broken") forbid(principal, action, resource) when { principal.claim_missing == "x" };',
    ];
    const strict = await PolicyEngine.create({ policies });
    const d = strict.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'echo' }));
    expect(d.decision).toBe('deny');
    expect(d.policyIds).toEqual(['broken']);
    expect(d.errors[0]).toMatchObject({ policyId: 'broken' });
    expect(d.errors[0]?.message).toContain('claim_missing');
    const lenient = await PolicyEngine.create({ policies, onEvaluationError: 'ignore' });
    expect(lenient.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'echo' })).decision).toBe(
      'allow',
    );
  });

  it('puts every resource under MCP::"<server>"', async () => {
    const engine = await PolicyEngine.create({
      policies: ['permit(principal, action, resource in MCP::"sf");'],
    });
    expect(engine.evaluate(buildRequest(principal, 'sf', { kind: 'tool', name: 'add' })).decision).toBe(
      'allow',
    );
    expect(
      engine.evaluate(buildRequest(principal, 'sf', { kind: 'resource', uri: 'demo://readme' })).decision,
    ).toBe('allow');
    expect(
      engine.evaluate(buildRequest(principal, 'other', { kind: 'prompt', name: 'greeting' })).decision,
    ).toBe('deny');
  });

  it('gives "forbidden by" and "no policy permits" reasons', async () => {
    const engine = await PolicyEngine.create({
      policies: [
        'permit(principal, action, resource);',
        '@id("no-delete") forbid(principal, action, resource == Tool::"delete_repo");',
      ],
    });
    const forbidden = engine.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'delete_repo' }));
    expect(forbidden).toMatchObject({
      decision: 'deny',
      policyIds: ['no-delete'],
      reason: 'forbidden by "no-delete"',
    });
    const none = await PolicyEngine.create({
      policies: ['permit(principal, action, resource == Tool::"x");'],
    });
    expect(none.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'y' })).reason).toBe(
      'no policy permits',
    );
  });

  it('never lets per-request entities duplicate static ones', async () => {
    const engine = await PolicyEngine.create({
      policies: ['permit(principal, action, resource) when { principal has claim_email };'],
      entities: [{ uid: { type: 'Client', id: 'alice' }, attrs: {}, parents: [] }],
    });
    expect(engine.evaluate(buildRequest(principal, 'demo', { kind: 'tool', name: 'echo' })).decision).toBe(
      'allow',
    );
  });
});

describe('PolicyEngine decision cache', () => {
  const model2 = { groupEntityType: 'Group', roleEntityType: 'Role' };
  const policies = [
    '@id("eng") permit(principal in Group::"eng", action == Action::"call_tool", resource);',
    '@id("no-big") forbid(principal, action, resource) when { context has arg_n && context.arg_n > 5 };',
  ];

  it('answers a repeated request from the cache with the same decision', async () => {
    const engine = await PolicyEngine.create({ policies });
    const alice = buildPrincipal(identity({ subject: 'alice', groups: ['eng'] }), model2);
    const first = engine.evaluate(buildRequest(alice, 'demo', { kind: 'tool', name: 'add' }, { n: 1 }));
    expect(engine.cachedDecisions).toBe(1);
    const second = engine.evaluate(buildRequest(alice, 'demo', { kind: 'tool', name: 'add' }, { n: 1 }));
    expect(engine.cachedDecisions).toBe(1);
    expect(second).toEqual(first);
    expect(second).toMatchObject({ decision: 'allow', policyIds: ['eng'] });
  });

  it('never reuses a decision across a different principal, claims, resource or arguments', async () => {
    const engine = await PolicyEngine.create({ policies });
    const alice = buildPrincipal(identity({ subject: 'alice', groups: ['eng'] }), model2);
    const aliceSales = buildPrincipal(identity({ subject: 'alice', groups: ['sales'] }), model2);
    const tool = (name: string, args?: Record<string, unknown>) =>
      buildRequest(alice, 'demo', { kind: 'tool', name }, args);
    expect(engine.evaluate(tool('add', { n: 1 })).decision).toBe('allow');
    // Same principal id, other groups: a different entity, so a different decision.
    expect(
      engine.evaluate(buildRequest(aliceSales, 'demo', { kind: 'tool', name: 'add' }, { n: 1 })).decision,
    ).toBe('deny');
    // Other arguments.
    expect(engine.evaluate(tool('add', { n: 9 }))).toMatchObject({ decision: 'deny', policyIds: ['no-big'] });
    expect(engine.evaluate(tool('add', { n: 1 })).decision).toBe('allow');
    expect(engine.cachedDecisions).toBe(3);
  });

  it('hands out copies: altering a returned decision does not alter later answers', async () => {
    const engine = await PolicyEngine.create({ policies });
    const alice = buildPrincipal(identity({ subject: 'alice', groups: ['eng'] }), model2);
    const d = engine.evaluate(buildRequest(alice, 'demo', { kind: 'tool', name: 'echo' }));
    d.policyIds.push('tampered');
    expect(engine.evaluate(buildRequest(alice, 'demo', { kind: 'tool', name: 'echo' })).policyIds).toEqual([
      'eng',
    ]);
  });

  it('evicts the least recently used decision beyond decisionCacheSize', async () => {
    const engine = await PolicyEngine.create({ policies, decisionCacheSize: 2 });
    const alice = buildPrincipal(identity({ subject: 'alice', groups: ['eng'] }), model2);
    for (const n of [1, 2, 3, 4])
      engine.evaluate(buildRequest(alice, 'demo', { kind: 'tool', name: 'add' }, { n }));
    expect(engine.cachedDecisions).toBe(2);
  });

  it('does not cache requests whose serialised form is large, nor anything when disabled', async () => {
    const engine = await PolicyEngine.create({ policies });
    const alice = buildPrincipal(identity({ subject: 'alice', groups: ['eng'] }), model2);
    const big = engine.evaluate(
      buildRequest(alice, 'demo', { kind: 'tool', name: 'echo' }, { text: 'x'.repeat(5000) }),
    );
    expect(big.decision).toBe('allow');
    expect(engine.cachedDecisions).toBe(0);
    const off = await PolicyEngine.create({ policies, decisionCacheSize: 0 });
    off.evaluate(buildRequest(alice, 'demo', { kind: 'tool', name: 'echo' }));
    expect(off.cachedDecisions).toBe(0);
  });

  it('rejects a malformed decisionCacheSize', async () => {
    await expect(PolicyEngine.create({ policies, decisionCacheSize: -1 })).rejects.toThrow(
      '"decisionCacheSize" must be a non-negative integer',
    );
  });
});
