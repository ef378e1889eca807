/**
 * OAuth through the built binary against the testkit IdP (oidc-provider) and an upstream that
 * verifies tokens for real. The login pages are completed with the IdP's own headless driver here;
 * test/browser-login.test.ts does the same with a real headless Chromium.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '@bastion-mcp/testkit';
import { createSandbox, ensureBuilt, printedUrl, runCli, type Sandbox } from './helpers/cli.js';
import { textOf, withClient } from './helpers/mcp.js';
import { type ProtectedRemote, startProtectedRemote, waitForOutput } from './helpers/oauth.js';

let remote: ProtectedRemote;
let sb: Sandbox;

beforeAll(async () => {
  ensureBuilt();
  remote = await startProtectedRemote();
  sb = createSandbox();
});

afterAll(async () => {
  sb?.cleanup();
  await remote?.close();
});

/** Run a command that prints an authorization URL, and complete the login as `username`. */
async function withLogin(args: string[], username = 'alice') {
  let stderr = '';
  const done = sb.run(args, { onStderr: (_c, all) => (stderr = all) });
  const [, url] = await waitForOutput(() => stderr, /^\s+(http:\/\/127\.0\.0\.1:\d+\/\S*auth\S*)$/m);
  const result = await remote.idp.authorize(url as string, { username, deliver: true });
  expect([result.error, result.errorDescription, url]).toEqual([undefined, undefined, url]);
  return { result: await done, authorizeUrl: new URL(url as string) };
}

function tokenFiles(): string[] {
  const dir = join(sb.bastionHome, 'tokens');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('bastion run against an OAuth-protected remote', () => {
  let url: string;

  it('detects OAuth, registers a client (DCR), logs in with PKCE in the foreground, then detaches', async () => {
    // No --scopes: the challenge names none, so the scope comes from PRM `scopes_supported`.
    // A free callback port: the one derived from the URL may be taken on a shared machine.
    const { result, authorizeUrl } = await withLogin([
      'run',
      remote.up.url,
      '--name',
      'secure',
      '--no-browser',
      '--callback-port',
      String(await freePort()),
    ]);
    expect(result.code).toBe(0);
    const q = authorizeUrl.searchParams;
    expect(q.get('scope')).toBe('mcp:tools offline_access'); // the IdP lists offline_access (SEP-2207)
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('resource')).toBe(remote.up.url);
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(q.get('state')).toBeTruthy();
    expect(remote.idp.hits.registration).toBeGreaterThanOrEqual(1);
    url = printedUrl(result.stdout);
    expect(result.stdout).toContain('secure is running');
  });

  it('sends the access token upstream; the client never sees it', async () => {
    const before = remote.accepted.length;
    const text = await withClient(url, async (c) =>
      textOf(await c.callTool({ name: 'echo', arguments: { text: 'hi' } })),
    );
    expect(text).toBe('hi');
    const claims = remote.accepted.slice(before);
    expect(claims.length).toBeGreaterThan(0);
    expect(claims[0]).toMatchObject({ sub: 'alice', aud: remote.up.url, iss: remote.idp.issuer });
  });

  it('stores tokens encrypted with mode 0600, never in plain text', async () => {
    const dir = join(sb.bastionHome, 'tokens');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = tokenFiles().filter((f) => !f.endsWith('.lock'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) continue;
      expect(statSync(p).mode & 0o077).toBe(0);
      expect(readFileSync(p, 'utf8')).not.toMatch(/eyJ[\w-]+\.eyJ/);
    }
    const def = readFileSync(join(sb.bastionHome, 'workloads', 'secure', 'workload.json'), 'utf8');
    expect(def).not.toMatch(/eyJ|refresh/i);
  });

  it('restarts with the stored tokens: no login, no new registration', async () => {
    const registrations = remote.idp.hits.registration;
    expect((await sb.run(['stop', 'secure'])).code).toBe(0);
    const r = await sb.run(['restart', 'secure', '--no-browser']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('Sign in');
    expect(printedUrl(r.stdout)).toBe(url);
    expect(remote.idp.hits.registration).toBe(registrations);
    const text = await withClient(url, async (c) =>
      textOf(await c.callTool({ name: 'echo', arguments: { text: 'back' } })),
    );
    expect(text).toBe('back');
  });

  it('logout makes the running proxy unauthenticated: 503 + Retry-After, status says how to fix it', async () => {
    const r = await sb.run(['logout', 'secure']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Logged out');
    let res: Response | undefined;
    for (let i = 0; i < 40; i++) {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      });
      if (res.status === 503) break;
      await res.body?.cancel();
      await new Promise((r2) => setTimeout(r2, 50));
    }
    expect(res?.status).toBe(503);
    expect(Number(res?.headers.get('retry-after'))).toBeGreaterThan(0);
    await res?.body?.cancel();
    const s = await sb.run(['status', 'secure']);
    expect(s.stdout).toMatch(/Status:\s+unauthenticated/);
    expect(s.stdout).toContain('bastion login secure');
  });

  it('login signs in again and the running proxy picks it up without a restart', async () => {
    const { result } = await withLogin(['login', 'secure', '--no-browser']);
    expect(result.code).toBe(0);
    const text = await withClient(url, async (c) =>
      textOf(await c.callTool({ name: 'echo', arguments: { text: 'relogged' } })),
    );
    expect(text).toBe('relogged');
    const s = await sb.run(['status', 'secure', '--json']);
    const view = JSON.parse(s.stdout);
    expect(view.status).toBe('running');
    expect(view.login).toMatchObject({
      issuer: remote.idp.issuer,
      grantType: 'authorization_code',
      tokenBinding: 'bearer',
      discovery: 'prm',
    });
    expect(Date.parse(view.login.expiresAt)).toBeGreaterThan(Date.now());
    expect(s.stdout).not.toMatch(/eyJ/);
  });

  it('rm deletes the token entry, the state and the workload', async () => {
    const before = tokenFiles().length;
    const r = await sb.run(['rm', 'secure']);
    expect(r.code).toBe(0);
    expect(tokenFiles().length).toBeLessThan(before);
    expect(existsSync(join(sb.bastionHome, 'workloads', 'secure'))).toBe(false);
  });
});

describe('headless grants', () => {
  it('logs in with the device authorization grant', async () => {
    let stderr = '';
    const done = sb.run(
      ['run', remote.up.url, '--name', 'device', '--device-code', '--scopes', 'mcp:tools'],
      { onStderr: (_c, all) => (stderr = all) },
    );
    const [, code] = await waitForOutput(() => stderr, /enter the code (\S+)/);
    await remote.idp.approveDevice(code as string, { username: 'bob' });
    const r = await done;
    expect(r.code).toBe(0);
    const before = remote.accepted.length;
    await withClient(printedUrl(r.stdout), (c) => c.listTools());
    expect(remote.accepted.slice(before)[0]).toMatchObject({ sub: 'bob' });
    expect((await sb.run(['rm', 'device'])).code).toBe(0);
  });
});

describe('rm --purge-registration', () => {
  const clientExists = async (id: string) => Boolean(await remote.idp.provider.Client.find(id));

  it('keeps a registration another workload shares, then deletes it at the AS (RFC 7592) with the last one', async () => {
    // One explicit free callback port: the port derived from the URL may be taken on a shared machine.
    const callbackPort = String(await freePort());
    const args = (name: string) => [
      'run',
      remote.up.url,
      '--name',
      name,
      '--no-browser',
      '--scopes',
      'mcp:tools',
      '--callback-port',
      callbackPort,
    ];
    const first = await withLogin(args('purge-a'));
    expect(first.result.code).toBe(0);
    const second = await withLogin(args('purge-b'));
    expect(second.result.code).toBe(0);
    const clientId = second.authorizeUrl.searchParams.get('client_id') as string;
    expect(first.authorizeUrl.searchParams.get('client_id')).toBe(clientId); // cached registration reused
    expect(await clientExists(clientId)).toBe(true);

    const a = await sb.run(['rm', 'purge-a', '--purge-registration']);
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/also used by purge-b; it is kept/);
    expect(await clientExists(clientId)).toBe(true);

    const b = await sb.run(['rm', 'purge-b', '--purge-registration']);
    expect(b.code).toBe(0);
    expect(b.stderr).toContain(`Deleted the client registration ${clientId} at ${remote.idp.issuer}`);
    expect(await clientExists(clientId)).toBe(false);
    // Nothing secret on the terminal.
    expect(`${a.stdout}${a.stderr}${b.stdout}${b.stderr}`).not.toMatch(/registration_access_token|Bearer /);

    // The next login registers a fresh client instead of reusing the deleted one.
    const before = remote.idp.hits.registration;
    const again = await withLogin(args('purge-c'));
    expect(again.result.code).toBe(0);
    expect(remote.idp.hits.registration).toBe(before + 1);
    expect(again.authorizeUrl.searchParams.get('client_id')).not.toBe(clientId);
    expect((await sb.run(['rm', 'purge-c'])).code).toBe(0);
  });
});

describe('OAuth error paths print one line with the fix', () => {
  let blocker: Server;
  let blockedPort: number;
  let closedPort: number;

  beforeAll(async () => {
    blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    blockedPort = (blocker.address() as { port: number }).port;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

  it('a taken callback port', async () => {
    const r = await sb.run([
      'run',
      remote.up.url,
      '--name',
      'cbport',
      '--no-browser',
      '--callback-port',
      String(blockedPort),
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/--callback-port/);
    expect(existsSync(join(sb.bastionHome, 'workloads', 'cbport'))).toBe(false);
  });

  it('a login that is not finished in time', async () => {
    const port = String(await freePort()); // the port derived from the URL may be taken on a shared machine
    const r = await sb.run([
      'run',
      remote.up.url,
      '--name',
      'slow',
      '--no-browser',
      '--login-timeout',
      '1',
      '--callback-port',
      port,
    ]);
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/not completed.*Run the command again/);
  });

  it('an unreachable remote is an error, never a silent unauthenticated start', async () => {
    const r = await runCli(['run', `http://127.0.0.1:${closedPort}/mcp`, '--name', 'down'], { env: sb.env });
    expect(r.code).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('Check the URL and your network connection');
  });
});
