/**
 * Entity model end to end: group parents (with a hierarchy from entities JSON), claims with arrays
 * and nested objects, call arguments as typed context.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Stack, startStack } from './stack.js';

const POLICIES = [
  // group membership through parents: eng ∈ staff (entities JSON)
  '@id("staff-echo") permit(principal in Group::"staff", action == Action::"call_tool", resource == Tool::"echo");',
  // roles as their own parent type
  '@id("admin-weather") permit(principal in Role::"admin", action == Action::"call_tool", resource == Tool::"get_weather");',
  // claims: array and nested object, on the principal and in the context
  `@id("claims-greeting") permit(principal, action == Action::"get_prompt", resource == Prompt::"greeting")
   when { principal has claim_teams && principal.claim_teams.contains("blue") &&
          context has claim_org && context.claim_org.dept.name == "research" && context.claim_org.level >= 2 };`,
  // claims only a real IdP token carries (registered claims of the testkit IdP's access tokens)
  `@id("issued-to-cli") permit(principal, action == Action::"call_tool", resource == Tool::"fail")
   when { principal has claim_client_id && principal.claim_client_id == "bastion-cli" &&
          principal has claim_aud && principal.claim_aud == "https://mcp.bastion.test/jwt" };`,
  // arguments: JSON 5 is a Cedar long
  '@id("add-five") permit(principal, action == Action::"call_tool", resource == Tool::"add") when { context has arg_a && context.arg_a == 5 };',
];

const ENTITIES = [
  { uid: { type: 'Group', id: 'eng' }, attrs: {}, parents: [{ type: 'Group', id: 'staff' }] },
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ policies: POLICIES, entities: ENTITIES }, { stateless: true });
});
afterAll(async () => {
  await stack.close();
});

const call = (name: string, args: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('entity model end to end', () => {
  it('allows through a group parent and the hierarchy from entities JSON', async () => {
    expect((await stack.post({ sub: 'a', groups: ['eng'] }, call('echo', { text: 'x' }))).status).toBe(200);
    expect((await stack.post({ sub: 'b', groups: ['sales'] }, call('echo', { text: 'x' }))).status).toBe(403);
    expect((await stack.post({ sub: 'c' }, call('echo', { text: 'x' }))).status).toBe(403);
  });

  it('maps roles to Role parents', async () => {
    expect(
      (await stack.post({ sub: 'a', roles: ['admin'] }, call('get_weather', { city: 'Oslo' }))).status,
    ).toBe(200);
    expect(
      (await stack.post({ sub: 'a', groups: ['admin'] }, call('get_weather', { city: 'Oslo' }))).status,
    ).toBe(403);
  });

  it('evaluates claims with arrays and nested objects', async () => {
    const get = {
      jsonrpc: '2.0',
      id: 2,
      method: 'prompts/get',
      params: { name: 'greeting', arguments: { name: 'Ann' } },
    };
    const good = { sub: 'r', teams: ['red', 'blue'], org: { dept: { name: 'research' }, level: 3 } };
    expect((await stack.post(good, get)).status).toBe(200);
    expect((await stack.post({ ...good, teams: ['red'] }, get)).status).toBe(403);
    expect((await stack.post({ ...good, org: { dept: { name: 'sales' }, level: 3 } }, get)).status).toBe(403);
  });

  it('evaluates the registered claims of the real IdP token and never runs without a valid token', async () => {
    const failCall = call('fail', {});
    // Allowed by the policy: the upstream's tool runs and reports its own error (not a 403).
    const allowed = await stack.post({ sub: 'z' }, failCall);
    expect(allowed.status).toBe(200);
    expect(JSON.stringify(allowed.body)).toContain('isError');
    const before = stack.upstream.requests.length;
    for (const authorization of [undefined, 'Bearer not-a-token']) {
      const res = await fetch(stack.url, {
        method: 'POST',
        headers: {
          ...(authorization ? { authorization } : {}),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify(failCall),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    expect(stack.upstream.requests.length).toBe(before);
  });

  it('matches context.arg_a == 5 for a JSON 5, and not for 5.5 or "5"', async () => {
    const ok = await stack.post({ sub: 'n' }, call('add', { a: 5, b: 1 }));
    expect(ok.status).toBe(200);
    expect(JSON.stringify(ok.body)).toContain('6');
    expect((await stack.post({ sub: 'n' }, call('add', { a: 5.5, b: 1 }))).status).toBe(403);
    expect((await stack.post({ sub: 'n' }, call('add', { a: '5', b: 1 }))).status).toBe(403);
  });
});
