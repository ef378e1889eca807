/**
 * examples/direct.json run by the real binary: OIDC auth against the testkit IdP, a static upstream
 * credential and forwarded headers from the environment, the tool filter, audit to stdout, metrics,
 * health/readiness, and JSON logs with request ids and no secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream, startTestIdp, type TestIdp } from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { localise, readExample } from './helpers/examples.js';
import {
  ensureBuilt,
  type LogLine,
  type RunnerProcess,
  startRunner,
  writeConfig,
} from './helpers/runner-process.js';

const API_TOKEN = 'crm-static-token-9f8e7d6c';
const API_KEY = 'crm-api-key-1a2b3c';

let idp: TestIdp;
let upstream: McpUpstream;
let runner: RunnerProcess;
let url: string;
let metricsUrl: string;
let token: string;

beforeAll(async () => {
  ensureBuilt();
  idp = await startTestIdp();
  upstream = await startMcpUpstream();
  const example = readExample('direct.json');
  const cfg = localise(example, upstream.url);
  cfg.auth = { ...example.auth, issuer: idp.issuer, audience: idp.resource };
  runner = startRunner(['--config', writeConfig(cfg)], { CRM_API_TOKEN: API_TOKEN, CRM_API_KEY: API_KEY });
  const listening = await runner.listening();
  url = String(listening.url);
  metricsUrl = String(listening.metricsUrl);
  token = await idp.issueAccessToken({ sub: 'alice', resource: idp.resource, scope: 'mcp:tools' });
}, 300_000);

afterAll(async () => {
  await runner?.stop();
  await upstream?.close();
  await idp?.close();
});

describe('direct mode (static upstream credential)', () => {
  it('serves an MCP client with a valid token and sends only the configured credential upstream', async () => {
    upstream.clearRequests();
    const client = new Client({ name: 'direct-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['echo']);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hello crm' } });
      expect(JSON.stringify(result.content)).toContain('hello crm');
    } finally {
      await client.close();
    }
    const call = upstream.rpcRequests('tools/call')[0];
    expect(call?.headers.authorization).toBe(`Bearer ${API_TOKEN}`);
    expect(call?.headers['x-api-key']).toBe(API_KEY);
    expect(call?.headers['x-tenant']).toBe('acme');
  });

  it('answers 401 with a challenge without a token', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/resource_metadata="/);
  });

  it('serves /health, /ready (JWKS fetched) and Prometheus metrics', async () => {
    const origin = new URL(url).origin;
    expect((await fetch(`${origin}/health`)).status).toBe(200);
    const ready = await fetch(`${origin}/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, { ready: boolean }> }).checks.auth?.ready).toBe(
      true,
    );
    expect(idp.hits.jwks).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(metricsUrl)).text();
    expect(metrics).toMatch(/bastion_mcp_requests_total\{[^}]*mcp_method="tools\/call"/);
  });

  it('logs JSON lines with request ids, audits to stdout, and never logs a secret', async () => {
    const access = await runner.waitFor((l) => l.msg === 'request' && l.rpcMethod === 'tools/call');
    expect(access.requestId).toEqual(expect.any(String));
    expect(access.status).toBe(200);
    expect(access.user).toBe('alice');
    const auditEvent = await runner.waitFor((l: LogLine) => l.type === 'mcp_tool_call');
    expect(auditEvent).toMatchObject({
      outcome: 'success',
      target: expect.objectContaining({ tool: 'echo' }),
    });
    const text = runner.output();
    for (const secret of [API_TOKEN, API_KEY, token]) expect(text).not.toContain(secret);
  });
});
