/**
 * examples/token-exchange.json run by the real binary: the inbound token is exchanged at the testkit
 * IdP (RFC 8693) for an upstream token, Cedar policies from examples/policies/demo.cedar decide, and
 * audit events go to a file.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream, startTestIdp, type TestIdp } from '@bastion-mcp/testkit';
import { decodeJwt } from 'jose';
import { localise, readExample } from './helpers/examples.js';
import {
  EXAMPLES,
  ensureBuilt,
  type RunnerProcess,
  startRunner,
  writeConfig,
} from './helpers/runner-process.js';

let idp: TestIdp;
let upstream: McpUpstream;
let runner: RunnerProcess;
let url: string;
const auditFile = join(mkdtempSync(join(tmpdir(), 'bastion-audit-')), 'audit.jsonl');

async function call(token: string, name: string, args: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name, arguments: args } }),
  });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  ensureBuilt();
  idp = await startTestIdp();
  upstream = await startMcpUpstream({ stateless: true, jsonResponse: true });
  // The STS only issues tokens for resources it knows: register the remote MCP server.
  idp.addResource(upstream.url, { format: 'jwt' });
  const example = readExample('token-exchange.json');
  const cfg = localise(example, upstream.url);
  cfg.auth = { ...example.auth, issuer: idp.issuer, audience: idp.resource };
  cfg.tokenExchange = {
    ...example.tokenExchange,
    tokenUrl: idp.tokenEndpoint,
    clientId: idp.clients.exchanger.clientId,
    audience: upstream.url,
  };
  cfg.authz = { ...example.authz, policyFile: join(EXAMPLES, 'policies/demo.cedar') };
  cfg.audit = { enabled: true, sinks: [{ type: 'file', path: auditFile }] };
  runner = startRunner(['--config', writeConfig(cfg)], {
    STS_CLIENT_SECRET: idp.clients.exchanger.clientSecret as string,
  });
  url = String((await runner.listening()).url);
}, 300_000);

afterAll(async () => {
  await runner?.stop();
  await upstream?.close();
  await idp?.close();
});

describe('token-exchange mode', () => {
  it('exchanges the inbound token: the upstream only sees a token issued for itself', async () => {
    const inbound = await idp.issueAccessToken({ sub: 'alice', resource: idp.resource, scope: 'mcp:tools' });
    upstream.clearRequests();
    const before = idp.hits.tokenExchange;
    const res = await call(inbound, 'echo', { text: 'exchanged' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('exchanged');
    const sent = String(upstream.rpcRequests('tools/call')[0]?.headers.authorization);
    expect(sent).toMatch(/^Bearer /);
    const upstreamToken = sent.slice('Bearer '.length);
    expect(upstreamToken).not.toBe(inbound);
    const claims = decodeJwt(upstreamToken);
    expect([claims.aud].flat()).toContain(upstream.url);
    expect(claims.sub).toBe('alice');
    expect(idp.hits.tokenExchange).toBe(before + 1);
    // A second call reuses the cached exchanged token.
    expect((await call(inbound, 'echo', { text: 'again' })).status).toBe(200);
    expect(idp.hits.tokenExchange).toBe(before + 1);
  });

  it('applies the Cedar policy: a user outside engineering is denied, delete_repo is forbidden', async () => {
    const bob = await idp.issueAccessToken({ sub: 'bob', resource: idp.resource, scope: 'mcp:tools' });
    upstream.clearRequests();
    expect((await call(bob, 'echo', { text: 'hi' })).status).toBe(403);
    const alice = await idp.issueAccessToken({ sub: 'alice', resource: idp.resource, scope: 'mcp:tools' });
    expect((await call(alice, 'delete_repo', { name: 'x' })).status).toBe(403);
    expect(upstream.rpcRequests('tools/call')).toHaveLength(0);
  });

  it('refuses a token without the required scope with 403 insufficient_scope', async () => {
    const noScope = await idp.issueAccessToken({ sub: 'alice', resource: idp.resource, scope: 'mcp:read' });
    const res = await call(noScope, 'echo', { text: 'x' });
    expect(res.status).toBe(403);
  });

  it('writes audit events to the configured file', async () => {
    await runner.waitFor((l) => l.msg === 'request' && l.status === 403);
    // The audit queue writes asynchronously; the access log line of the last request is the cue.
    let events: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50 && events.filter((e) => e.outcome === 'denied').length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      events = readFileSync(auditFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    }
    expect(events.some((e) => e.type === 'mcp_tool_call' && e.outcome === 'success')).toBe(true);
    expect(events.filter((e) => e.outcome === 'denied').length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(auditFile, 'utf8')).not.toContain(idp.clients.exchanger.clientSecret as string);
  });
});
