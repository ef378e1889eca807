import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkRequest, identityFromClaims } from '../src/check.js';
import { AuthzConfigError } from '../src/errors.js';

const POLICIES = [
  '@id("company") permit(principal, action == Action::"call_tool", resource) when { principal has claim_email && principal.claim_email like "*@company.com" };',
  '@id("no-destructive") forbid(principal, action, resource) when { resource has destructiveHint && resource.destructiveHint };',
];
const call = (name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0' as const,
  id: 1,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('checkRequest', () => {
  it('returns the decision, the deciding policy ids and reasons', async () => {
    const r = await checkRequest({
      policies: POLICIES,
      claims: { sub: 'a', email: 'a@company.com' },
      request: call('echo'),
    });
    expect(r).toMatchObject({
      decision: 'allow',
      policyIds: ['company'],
      reasons: ['permitted by "company"'],
      principal: { type: 'Client', id: 'a' },
      action: 'call_tool',
      resource: { type: 'Tool', id: 'echo' },
    });
  });

  it('uses given tool annotations in place of the upstream’s', async () => {
    const r = await checkRequest({
      policies: POLICIES,
      claims: { sub: 'a', email: 'a@company.com' },
      request: call('delete_repo'),
      toolAnnotations: { destructiveHint: true },
    });
    expect(r).toMatchObject({ decision: 'deny', policyIds: ['no-destructive'] });
  });

  it('explains methods that need no decision, lists and unknown methods', async () => {
    const claims = { sub: 'a' };
    expect(
      (await checkRequest({ policies: POLICIES, claims, request: { jsonrpc: '2.0', id: 1, method: 'ping' } }))
        .decision,
    ).toBe('allow');
    const list = await checkRequest({
      policies: POLICIES,
      claims,
      request: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    });
    expect(list.reasons[0]).toContain('call_tool');
    const unknown = await checkRequest({
      policies: POLICIES,
      claims,
      request: { jsonrpc: '2.0', id: 1, method: 'x/y' },
    });
    expect(unknown).toMatchObject({
      decision: 'deny',
      reasons: ['unknown method denied by defaultUnknownMethod'],
    });
  });

  it('treats resources/subscribe as removed when the request _meta says 2026-07-28, as a read before', async () => {
    const policies = ['permit(principal, action == Action::"read_resource", resource);'];
    const subscribe = (meta?: Record<string, unknown>) => ({
      jsonrpc: '2.0' as const,
      id: 1,
      method: 'resources/subscribe',
      params: { uri: 'demo://readme', ...(meta ? { _meta: meta } : {}) },
    });
    const legacy = await checkRequest({ policies, claims: { sub: 'a' }, request: subscribe() });
    expect(legacy).toMatchObject({ decision: 'allow', action: 'read_resource' });
    const modern = await checkRequest({
      policies,
      claims: { sub: 'a' },
      request: subscribe({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28' }),
    });
    expect(modern).toMatchObject({
      decision: 'deny',
      reasons: ['unknown method denied by defaultUnknownMethod'],
    });
  });

  it('reports evaluation errors with the policy id in the reasons', async () => {
    const r = await checkRequest({
      policies: ['@id("strict") permit(principal, action, resource) when { principal.claim_email == "x" };'],
      claims: { sub: 'a' },
      request: call('echo'),
    });
    expect(r.decision).toBe('deny');
    expect(r.reasons[1]).toMatch(/^policy "strict" failed to evaluate: .*claim_email/);
  });

  it('rejects bad input and malformed policies', async () => {
    await expect(checkRequest({ policies: POLICIES, claims: {}, request: call('echo') })).rejects.toThrow(
      '"sub"',
    );
    await expect(
      checkRequest({ policies: POLICIES, claims: { sub: 'a' }, request: {} as never }),
    ).rejects.toThrow(TypeError);
    await expect(
      checkRequest({ policies: ['permit('], claims: { sub: 'a' }, request: call('echo') }),
    ).rejects.toThrow(AuthzConfigError);
  });

  it('builds identities from claims with dotted group paths', () => {
    const id = identityFromClaims(
      { sub: 'a', realm: { roles: ['r1'] }, groups: 'g1 g2' },
      { rolesClaim: 'realm.roles' },
    );
    expect(id).toMatchObject({ subject: 'a', groups: ['g1', 'g2'], roles: ['r1'] });
  });
});

describe('bin/authz-check.mjs', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const bin = join(here, '..', 'bin', 'authz-check.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'authz-bin-'));
  const run = promisify(execFile);
  beforeAll(async () => {
    // the bin script runs the built package: build it once (tsup, a few seconds)
    await run('npx', ['tsup', '--silent'], { cwd: join(here, '..') });
    writeFileSync(join(dir, 'p.cedar'), POLICIES.join('\n'));
    writeFileSync(join(dir, 'claims.json'), JSON.stringify({ sub: 'a', email: 'a@company.com' }));
    writeFileSync(join(dir, 'req.json'), JSON.stringify(call('echo')));
    writeFileSync(join(dir, 'bad.cedar'), 'permit(principal, action, resource)\nwhen { };');
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the decision and exits 0 on allow, 2 on deny', async () => {
    const args = [
      '--policy',
      join(dir, 'p.cedar'),
      '--token',
      join(dir, 'claims.json'),
      '--request',
      join(dir, 'req.json'),
    ];
    const ok = await run(process.execPath, [bin, ...args]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ decision: 'allow', policyIds: ['company'] });
    const denied = await run(process.execPath, [
      bin,
      ...args,
      '--annotations',
      '{"destructiveHint":true}',
    ]).catch((e) => e);
    expect(denied.code).toBe(2);
    expect(JSON.parse(denied.stdout)).toMatchObject({ decision: 'deny', policyIds: ['no-destructive'] });
  });

  it('exits 1 with a precise message for a malformed policy file', async () => {
    const bad = join(dir, 'bad.cedar');
    const err = await run(process.execPath, [
      bin,
      '--policy',
      bad,
      '--token',
      join(dir, 'claims.json'),
      '--request',
      join(dir, 'req.json'),
    ]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(`${bad}:2:`);
  });
});
