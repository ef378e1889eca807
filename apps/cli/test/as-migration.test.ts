/**
 * Authorization server migration (SEP-2352) through the built binary: two real testkit IdPs, an
 * upstream whose PRM switches from AS1 to AS2 and that then rejects AS1's tokens with 401. An
 * interactive proxy logs in at AS2 inline (its own registration); a detached one turns
 * `unauthenticated` and `bastion login` signs in at AS2. AS1's client id never reaches AS2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  freePort,
  type McpUpstream,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { BIN, createSandbox, ensureBuilt, printedUrl, type Sandbox } from './helpers/cli.js';
import { textOf, withClient } from './helpers/mcp.js';
import { waitForOutput } from './helpers/oauth.js';

interface MovingRemote {
  as1: TestIdp;
  as2: TestIdp;
  up: McpUpstream;
  /** Switch the PRM and the accepted issuer to AS2. */
  move(): void;
  /** `client_id` claims of the tokens the upstream accepted, in order. */
  clients: string[];
  close(): Promise<void>;
}

/** `openInitialize`: as the conformance scenario, `initialize` and notifications need no token (the start-up probe finds the remote open). */
async function startMovingRemote(options: { openInitialize?: boolean } = {}): Promise<MovingRemote> {
  const as1 = await startTestIdp({ accessTokenTtlSeconds: 3600 });
  const as2 = await startTestIdp({ accessTokenTtlSeconds: 3600 });
  const jwks = new Map([as1, as2].map((idp) => [idp, createRemoteJWKSet(new URL(idp.jwksUri))]));
  const servers = [as1.issuer]; // read by the upstream on every PRM request
  let accepted = as1;
  let audience = '';
  const clients: string[] = [];
  const port = await freePort();
  const up = await startMcpUpstream({
    port,
    authorizationServers: servers,
    wwwAuthenticate: `Bearer error="invalid_token", scope="mcp:tools", resource_metadata="http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp"`,
    requireAuth: async (req) => {
      if (
        options.openInitialize &&
        (req.rpcMethod === 'initialize' || req.rpcMethod?.startsWith('notifications/'))
      )
        return true;
      const m = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''));
      if (!m?.[1]) return false;
      try {
        await jwtVerify(m[1], jwks.get(accepted)!, { issuer: accepted.issuer, audience });
        clients.push(String(decodeJwt(m[1]).client_id));
        return true;
      } catch {
        return false;
      }
    },
  });
  audience = up.url;
  for (const idp of [as1, as2]) idp.addResource(up.url, { format: 'jwt', scopes: ['mcp:tools'] });
  return {
    as1,
    as2,
    up,
    clients,
    move() {
      servers.splice(0, servers.length, as2.issuer);
      accepted = as2;
    },
    async close() {
      await up.close();
      await as1.close();
      await as2.close();
    },
  };
}

const URL_LINE = /^\s+(http:\/\/127\.0\.0\.1:\d+\/\S*auth\S*)$/gm;

async function nthAuthorizeUrl(stderr: () => string, n: number): Promise<URL> {
  await waitForOutput(stderr, new RegExp(`(?:${URL_LINE.source}[\\s\\S]*){${n}}`, 'm'));
  const all = [...stderr().matchAll(URL_LINE)].map((m) => m[1] as string);
  return new URL(all[n - 1] as string);
}

const echo = { name: 'echo', arguments: { text: 'moved' } };

let sb: Sandbox;
beforeAll(() => {
  ensureBuilt();
  sb = createSandbox();
});
afterAll(() => sb?.cleanup());

/** `late`: the remote's initialize is open, so the first login happens at the first tool call's 401. */
async function interactiveMove(remote: MovingRemote, name: string, late: boolean): Promise<void> {
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
  const client = new Client({ name: 'as-migration-test', version: '1.0.0' });
  try {
    const connected = client.connect(transport);
    if (late) await connected;
    const firstCall = late ? client.callTool(echo) : undefined;
    const first = await nthAuthorizeUrl(() => stderr, 1);
    expect(first.origin).toBe(remote.as1.issuer);
    const as1Client = first.searchParams.get('client_id')!;
    await remote.as1.authorize(first.href, { username: 'alice', deliver: true });
    await connected;
    expect(textOf(await (firstCall ?? client.callTool(echo)))).toBe('moved');

    remote.move();
    const call = client.callTool(echo);
    const second = await nthAuthorizeUrl(() => stderr, 2);
    expect(second.origin).toBe(remote.as2.issuer);
    const as2Client = second.searchParams.get('client_id');
    expect(as2Client).not.toBe(as1Client);
    await remote.as2.authorize(second.href, { username: 'alice', deliver: true });
    expect(textOf(await call)).toBe('moved');
    expect(stderr).toContain(`now uses the authorization server ${remote.as2.issuer}`);
    expect(remote.as2.hits.registration).toBe(1);
    expect(JSON.stringify(remote.as2.requests)).not.toContain(as1Client);
    expect(remote.clients.at(-1)).toBe(as2Client);
    // Later calls use the AS2 token without another login.
    expect(textOf(await client.callTool(echo))).toBe('moved');
    expect([...stderr.matchAll(URL_LINE)]).toHaveLength(2);
  } finally {
    await client.close();
  }
}

describe('interactive (--stdio)', () => {
  let remote: MovingRemote;
  beforeAll(async () => {
    remote = await startMovingRemote();
  });
  afterAll(() => remote?.close());

  it('logs in at the new AS with its own registration and retries the call once', () =>
    interactiveMove(remote, 'moving', false));
});

describe('interactive, remote whose initialize is open (late 401, as the conformance scenario)', () => {
  let remote: MovingRemote;
  beforeAll(async () => {
    remote = await startMovingRemote({ openInitialize: true });
  });
  afterAll(() => remote?.close());

  it('logs in from the first 401 at AS1, then at AS2 after the move', () =>
    interactiveMove(remote, 'late-moving', true));
});

describe('detached', () => {
  let remote: MovingRemote;
  beforeAll(async () => {
    remote = await startMovingRemote();
  });
  afterAll(() => remote?.close());

  async function withLogin(idp: TestIdp, args: string[]) {
    let stderr = '';
    const done = sb.run(args, { onStderr: (_c, all) => (stderr = all) });
    const url = await nthAuthorizeUrl(() => stderr, 1);
    await idp.authorize(url.href, { username: 'alice', deliver: true });
    return { result: await done, url };
  }

  it('turns unauthenticated with the fix, and `bastion login` signs in at the new AS', async () => {
    const started = await withLogin(remote.as1, [
      'run',
      remote.up.url,
      '--name',
      'detached-move',
      '--no-browser',
      '--callback-port',
      String(await freePort()),
    ]);
    expect(started.result.code).toBe(0);
    const as1Client = started.url.searchParams.get('client_id')!;
    const url = printedUrl(started.result.stdout);
    expect(await withClient(url, async (c) => textOf(await c.callTool(echo)))).toBe('moved');

    remote.move();
    await expect(withClient(url, (c) => c.callTool(echo))).rejects.toThrow();
    const statePath = join(sb.bastionHome, 'workloads', 'detached-move', 'state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { status: string; reason: string };
    expect(state.status).toBe('unauthenticated');
    expect(state.reason).toBe(
      `the remote now uses the authorization server ${remote.as2.issuer} (was ${remote.as1.issuer}): run \`bastion login detached-move\``,
    );
    expect(remote.as2.hits.registration).toBe(0); // nothing is sent to AS2 without a login

    const login = await withLogin(remote.as2, ['login', 'detached-move', '--no-browser']);
    expect(login.result.code).toBe(0);
    expect(login.url.origin).toBe(remote.as2.issuer);
    expect(login.url.searchParams.get('client_id')).not.toBe(as1Client);
    expect(remote.as2.hits.registration).toBe(1);
    await waitForOutput(() => readFileSync(statePath, 'utf8'), /"status":\s*"running"/);
    expect(await withClient(url, async (c) => textOf(await c.callTool(echo)))).toBe('moved');
    expect(JSON.stringify(remote.as2.requests)).not.toContain(as1Client);
    expect((await sb.run(['stop', 'detached-move'])).code).toBe(0);
  });
});
