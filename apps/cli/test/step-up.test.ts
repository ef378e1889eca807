/**
 * Step-up authorization (MCP 2025-11-25): the remote answers 403 `insufficient_scope` for the `add`
 * tool unless the token carries `required`. Real testkit IdP (it grants only the scopes the resource
 * accepts) and upstream verifying the token; the built binary with a real SDK client.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  freePort,
  type McpUpstream,
  type RecordedRequest,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { BIN, createSandbox, ensureBuilt, printedUrl, type Sandbox } from './helpers/cli.js';
import { textOf, withClient } from './helpers/mcp.js';
import { waitForOutput } from './helpers/oauth.js';

interface ScopedRemote {
  idp: TestIdp;
  up: McpUpstream;
  /** Scope claims of the tokens that reached the protected tool. */
  toolScopes: string[];
  close(): Promise<void>;
}

/** `add` needs `required`; the IdP's resource accepts `accepted` (so it may grant too few). */
async function startScopedRemote(required: string, accepted: string[]): Promise<ScopedRemote> {
  const idp = await startTestIdp({ accessTokenTtlSeconds: 3600 });
  const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
  const toolScopes: string[] = [];
  let audience = '';
  const verify = async (req: RecordedRequest): Promise<JWTPayload | undefined> => {
    const m = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''));
    if (!m?.[1]) return undefined;
    try {
      return (await jwtVerify(m[1], jwks, { issuer: idp.issuer, audience })).payload;
    } catch {
      return undefined;
    }
  };
  const up = await startMcpUpstream({
    authorizationServers: [idp.issuer],
    scopesSupported: ['mcp:tools'],
    requireAuth: async (req) => (await verify(req)) !== undefined,
    onRequest: async (req, res) => {
      const body = req.body as { method?: string; params?: { name?: string } } | undefined;
      if (body?.method !== 'tools/call' || body.params?.name !== 'add') return false;
      const claims = await verify(req);
      if (!claims) return false; // requireAuth answers 401
      const scopes = String(claims.scope ?? '').split(' ');
      toolScopes.push(String(claims.scope ?? ''));
      if (scopes.includes(required)) return false;
      res.writeHead(403, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer error="insufficient_scope", scope="${required}", resource_metadata="${new URL(up.url).origin}/.well-known/oauth-protected-resource/mcp"`,
      });
      res.end(JSON.stringify({ error: 'insufficient_scope' }));
      return true;
    },
  });
  audience = up.url;
  idp.addResource(up.url, { format: 'jwt', scopes: accepted });
  return {
    idp,
    up,
    toolScopes,
    async close() {
      await up.close();
      await idp.close();
    },
  };
}

const URL_LINE = /^\s+(http:\/\/127\.0\.0\.1:\d+\/\S*auth\S*)$/gm;

/** The n-th (1-based) authorization URL printed on stderr. */
async function nthAuthorizeUrl(stderr: () => string, n: number): Promise<URL> {
  await waitForOutput(stderr, new RegExp(`(?:${URL_LINE.source}[\\s\\S]*){${n}}`, 'm'));
  const all = [...stderr().matchAll(URL_LINE)].map((m) => m[1] as string);
  return new URL(all[n - 1] as string);
}

let sb: Sandbox;

beforeAll(() => {
  ensureBuilt();
  sb = createSandbox();
});

afterAll(() => {
  sb?.cleanup();
});

async function stdioSession(remote: ScopedRemote, name: string) {
  let stderr = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      BIN,
      'run',
      '--stdio',
      remote.up.url,
      '--name',
      name,
      '--no-browser',
      '--callback-port',
      String(await freePort()),
    ],
    env: sb.env as Record<string, string>,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: 'step-up-test', version: '1.0.0' });
  const connected = client.connect(transport);
  const first = await nthAuthorizeUrl(() => stderr, 1);
  await remote.idp.authorize(first.href, { username: 'alice', deliver: true });
  await connected;
  return { client, stderr: () => stderr, first };
}

const addArgs = { name: 'add', arguments: { a: 2, b: 3 } };

describe('step-up on 403 insufficient_scope, interactive (--stdio)', () => {
  let remote: ScopedRemote;
  beforeAll(async () => {
    remote = await startScopedRemote('mcp:admin', ['mcp:tools', 'mcp:admin']);
  });
  afterAll(async () => {
    await remote?.close();
  });

  it('logs in again inline with the union of scopes (prompt on stderr) and retries the call once', async () => {
    const { client, stderr, first } = await stdioSession(remote, 'stepup');
    try {
      expect(first.searchParams.get('scope')).toBe('mcp:tools offline_access');
      const call = client.callTool(addArgs);
      const second = await nthAuthorizeUrl(stderr, 2);
      expect(second.searchParams.get('scope')?.split(' ').sort()).toEqual([
        'mcp:admin',
        'mcp:tools',
        'offline_access',
      ]);
      await remote.idp.authorize(second.href, { username: 'alice', deliver: true });
      const r = await call;
      expect(textOf(r)).toBe('5');
      // the first attempt went with the narrow token, the retry with the stepped-up one
      expect(remote.toolScopes.at(-2)).toBe('mcp:tools');
      expect(remote.toolScopes.at(-1)?.split(' ').sort()).toEqual(['mcp:admin', 'mcp:tools']);
      // the other tools keep working with the new token, without another login
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still' } }))).toBe('still');
      expect([...stderr().matchAll(URL_LINE)]).toHaveLength(2);
    } finally {
      await client.close();
    }
  });
});

describe('step-up bound: the AS keeps granting too few scopes', () => {
  let remote: ScopedRemote;
  beforeAll(async () => {
    // the resource does not accept `mcp:admin`: the IdP drops it from every token
    remote = await startScopedRemote('mcp:admin', ['mcp:tools']);
  });
  afterAll(async () => {
    await remote?.close();
  });

  it('logs in once for the request, then gives the 403 to the client; later calls do not log in again', async () => {
    const { client, stderr } = await stdioSession(remote, 'stingy');
    try {
      const call = client.callTool(addArgs);
      const second = await nthAuthorizeUrl(stderr, 2);
      await remote.idp.authorize(second.href, { username: 'alice', deliver: true });
      await expect(call).rejects.toThrow();
      const before = remote.toolScopes.length;
      await expect(client.callTool(addArgs)).rejects.toThrow();
      // the second call reached the upstream once and no third login started
      expect(remote.toolScopes.length).toBe(before + 1);
      expect([...stderr().matchAll(URL_LINE)]).toHaveLength(2);
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'ok' } }))).toBe('ok');
    } finally {
      await client.close();
    }
  });
});

describe('step-up while detached', () => {
  let remote: ScopedRemote;
  beforeAll(async () => {
    remote = await startScopedRemote('mcp:admin', ['mcp:tools', 'mcp:admin']);
  });
  afterAll(async () => {
    await remote?.close();
  });

  async function withLogin(args: string[]) {
    let stderr = '';
    const done = sb.run(args, { onStderr: (_c, all) => (stderr = all) });
    const url = await nthAuthorizeUrl(() => stderr, 1);
    await remote.idp.authorize(url.href, { username: 'alice', deliver: true });
    return { result: await done, url };
  }

  it('passes the 403 through, sets the status with the fix, and `bastion login` asks for the union', async () => {
    const port = String(await freePort());
    const { result } = await withLogin([
      'run',
      remote.up.url,
      '--name',
      'detached',
      '--no-browser',
      '--callback-port',
      port,
    ]);
    expect(result.code).toBe(0);
    const url = printedUrl(result.stdout);
    await expect(withClient(url, (c) => c.callTool(addArgs))).rejects.toThrow(/insufficient_scope/);
    const state = JSON.parse(
      readFileSync(join(sb.bastionHome, 'workloads', 'detached', 'state.json'), 'utf8'),
    ) as { status: string; reason: string; requiredScopes: string[] };
    expect(state.status).toBe('unauthenticated');
    expect(state.reason).toBe('the remote requires scope(s) mcp:admin: run `bastion login detached`');
    expect([...state.requiredScopes].sort()).toEqual(['mcp:admin', 'mcp:tools']);
    const status = await sb.run(['status', 'detached']);
    expect(status.stdout + status.stderr).toContain('bastion login detached');
    // other tools still work with the current token
    expect(
      await withClient(url, async (c) =>
        textOf(await c.callTool({ name: 'echo', arguments: { text: 'x' } })),
      ),
    ).toBe('x');

    const login = await withLogin(['login', 'detached', '--no-browser']);
    expect(login.result.code).toBe(0);
    expect(login.result.stderr).toContain('The running proxy of detached picked up the new login.');
    expect(login.url.searchParams.get('scope')?.split(' ').sort()).toEqual([
      'mcp:admin',
      'mcp:tools',
      'offline_access',
    ]);
    // the running proxy re-read the login (SIGUSR2): the tool works now
    await waitForOutput(
      () => readFileSync(join(sb.bastionHome, 'workloads', 'detached', 'state.json'), 'utf8'),
      /"status":\s*"running"/,
    );
    expect(await withClient(url, async (c) => textOf(await c.callTool(addArgs)))).toBe('5');
  });
});

/** Open remote except for `add`, which needs a valid token (401 with a Bearer challenge otherwise). */
async function startPartlyProtectedRemote(): Promise<ScopedRemote> {
  const idp = await startTestIdp({ accessTokenTtlSeconds: 3600 });
  const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
  const toolScopes: string[] = [];
  let audience = '';
  const up = await startMcpUpstream({
    authorizationServers: [idp.issuer],
    scopesSupported: ['mcp:tools'],
    requireAuth: async (req) => {
      const body = req.body as { method?: string; params?: { name?: string } } | undefined;
      if (body?.method !== 'tools/call' || body.params?.name !== 'add') return true;
      const m = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''));
      if (!m?.[1]) return false;
      try {
        const { payload } = await jwtVerify(m[1], jwks, { issuer: idp.issuer, audience });
        toolScopes.push(String(payload.scope ?? ''));
        return true;
      } catch {
        return false;
      }
    },
  });
  audience = up.url;
  idp.addResource(up.url, { format: 'jwt', scopes: ['mcp:tools'] });
  return {
    idp,
    up,
    toolScopes,
    async close() {
      await up.close();
      await idp.close();
    },
  };
}

describe('401 from a remote that start-up detection found open', () => {
  let remote: ScopedRemote;
  beforeAll(async () => {
    remote = await startPartlyProtectedRemote();
  });
  afterAll(async () => {
    await remote?.close();
  });

  it('interactive: logs in from the 401 challenge and retries once', async () => {
    let stderr = '';
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        BIN,
        'run',
        '--stdio',
        remote.up.url,
        '--name',
        'partly',
        '--no-browser',
        '--callback-port',
        String(await freePort()),
      ],
      env: sb.env as Record<string, string>,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const client = new Client({ name: 'late-auth-test', version: '1.0.0' });
    try {
      await client.connect(transport); // no login: the probe was not challenged
      expect(stderr).not.toContain('Sign in');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'open' } }))).toBe('open');
      const call = client.callTool(addArgs);
      const url = await nthAuthorizeUrl(() => stderr, 1);
      expect(url.searchParams.get('scope')).toBe('mcp:tools offline_access');
      await remote.idp.authorize(url.href, { username: 'alice', deliver: true });
      expect(textOf(await call)).toBe('5');
      expect(remote.toolScopes).toEqual(['mcp:tools']);
      expect(textOf(await client.callTool(addArgs))).toBe('5');
      expect([...stderr.matchAll(URL_LINE)]).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('detached: passes the 401 through, sets the status, and `bastion login` logs in from the recorded challenge', async () => {
    const result = await sb.run([
      'run',
      remote.up.url,
      '--name',
      'partlydetached',
      '--no-browser',
      '--callback-port',
      String(await freePort()),
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('Sign in');
    const url = printedUrl(result.stdout);
    await expect(withClient(url, (c) => c.callTool(addArgs))).rejects.toThrow();
    const statePath = join(sb.bastionHome, 'workloads', 'partlydetached', 'state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { status: string; reason: string };
    expect(state.status).toBe('unauthenticated');
    expect(state.reason).toContain('run `bastion login partlydetached`');

    let stderr = '';
    const login = sb.run(['login', 'partlydetached', '--no-browser'], {
      onStderr: (_c, all) => (stderr = all),
    });
    const authorize = await nthAuthorizeUrl(() => stderr, 1);
    await remote.idp.authorize(authorize.href, { username: 'alice', deliver: true });
    const done = await login;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('bastion restart partlydetached');
    const restarted = await sb.run(['restart', 'partlydetached', '--no-browser']);
    expect(restarted.code).toBe(0);
    expect(await withClient(url, async (c) => textOf(await c.callTool(addArgs)))).toBe('5');
  });
});
