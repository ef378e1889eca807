/**
 * The real thing: `bastion run --no-browser` prints the authorization URL, a headless Chromium
 * (Debian `chromium` driven by playwright-core) opens it, signs in on the test IdP's login page and
 * follows the redirect to the CLI's loopback callback. Full DCR + PKCE; the token is then used
 * upstream through the detached proxy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type BrowserContext, chromium } from 'playwright-core';
import { freePort } from '@bastion-mcp/testkit';
import { createSandbox, ensureBuilt, printedUrl, type Sandbox } from './helpers/cli.js';
import { textOf, withClient } from './helpers/mcp.js';
import { type ProtectedRemote, startProtectedRemote, waitForOutput } from './helpers/oauth.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let remote: ProtectedRemote;
let sb: Sandbox;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  ensureBuilt();
  remote = await startProtectedRemote();
  sb = createSandbox();
  profile = mkdtempSync(join(tmpdir(), 'bastion-chromium-'));
  // A fresh profile directory (--user-data-dir) per run.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  sb?.cleanup();
  await remote?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('browser login with a real headless Chromium', () => {
  it('completes DCR + PKCE through the IdP login page and uses the token upstream', async () => {
    let stderr = '';
    const done = sb.run(
      [
        'run',
        remote.up.url,
        '--name',
        'chromium',
        '--no-browser',
        '--scopes',
        'mcp:tools',
        '--callback-port',
        String(await freePort()),
      ],
      {
        onStderr: (_c, all) => (stderr = all),
        timeoutMs: 60_000,
      },
    );
    const [, authorizeUrl] = await waitForOutput(
      () => stderr,
      /^\s+(http:\/\/127\.0\.0\.1:\d+\/\S*auth\S*)$/m,
    );
    expect(stderr).toContain('Sign in to chromium');

    const page = await browser.newPage();
    await page.goto(authorizeUrl as string);
    await page.fill('#username', 'alice');
    await Promise.all([page.waitForURL(/127\.0\.0\.1:\d+\/callback/), page.click('#submit')]);
    expect(await page.content()).not.toMatch(/failed/i);
    await page.close();

    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Logged in to chromium');
    const url = printedUrl(r.stdout);
    const before = remote.accepted.length;
    const text = await withClient(url, async (c) =>
      textOf(await c.callTool({ name: 'echo', arguments: { text: 'from chromium' } })),
    );
    expect(text).toBe('from chromium');
    expect(remote.accepted.slice(before)[0]).toMatchObject({ sub: 'alice', aud: remote.up.url });
    expect(remote.idp.hits.registration).toBe(1);
    expect((await sb.run(['rm', 'chromium'])).code).toBe(0);
  }, 60_000);
});
