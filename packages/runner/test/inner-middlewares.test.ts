/**
 * `StartProxyOptions.innerMiddlewares`: an app's own middlewares appended after the RunConfig's
 * chain, right before the forwarder (the CLI's upstream OAuth credential), with the proxy owning
 * their lifecycle. Real proxy-core server, real testkit upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Middleware } from '@bastion-mcp/proxy-core';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import {
  type RunConfigInput,
  type RunningProxy,
  SecretUnavailableError,
  startProxy,
  validateRunConfig,
} from '../src/index.js';
import { rpc } from './helpers/rpc.js';

let upstream: McpUpstream;

beforeAll(async () => {
  upstream = await startMcpUpstream({ stateless: true, jsonResponse: true });
});

afterAll(async () => {
  await upstream?.close();
});

const config = (over: Partial<RunConfigInput> = {}) =>
  validateRunConfig({
    schemaVersion: 1,
    name: 'inner',
    remoteUrl: upstream.url,
    insecureLoopback: true,
    listen: { port: 0 },
    auth: { mode: 'anonymous' },
    tools: { filter: ['echo'] },
    upstreamAuth: { bearerTokenEnv: 'STATIC_TOKEN' },
    ...over,
  });

/** A middleware that records what it saw and sets the upstream Authorization header. */
function credential(token: string) {
  const seen: string[] = [];
  let closed = 0;
  const mw: Middleware = {
    name: 'app-credential',
    async handle(exchange, next) {
      const rpc = exchange.rpc;
      seen.push(rpc && 'method' in rpc ? rpc.method : 'other');
      exchange.upstreamHeaders.authorization = `Bearer ${token}`;
      return next();
    },
    async close() {
      closed++;
    },
  };
  return { mw, seen, closed: () => closed };
}

describe('startProxy innerMiddlewares', () => {
  let proxy: RunningProxy;
  const cred = credential('app-token');

  beforeAll(async () => {
    proxy = await startProxy(config(), {
      env: { STATIC_TOKEN: 'static-token' },
      innerMiddlewares: [cred.mw],
    });
  });

  afterAll(async () => {
    await proxy?.close({ graceMs: 0 });
  });

  it('appends them after the configured chain, innermost', () => {
    expect(proxy.chain).toEqual(['auth', 'tool-filter', 'upstream-credential', 'app-credential']);
  });

  it('runs after upstream-credential, so what it sets is what the remote receives', async () => {
    upstream.clearRequests();
    const res = await rpc(proxy.url, 'tools/call', { name: 'echo', arguments: { text: 'hi' } });
    expect(res.status).toBe(200);
    expect(res.body.result.content[0].text).toContain('hi');
    // The static upstreamAuth token was set first, then replaced by the inner middleware.
    expect(upstream.rpcRequests('tools/call')[0]?.headers.authorization).toBe('Bearer app-token');
  });

  it('sees only requests that passed the configured layers', async () => {
    cred.seen.length = 0;
    const denied = await rpc(proxy.url, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } });
    expect(denied.body.error).toBeDefined(); // tool-filter refused the hidden tool
    expect(cred.seen).toEqual([]);
    await rpc(proxy.url, 'tools/list');
    expect(cred.seen).toEqual(['tools/list']);
  });

  it('closes them when the proxy closes', async () => {
    const own = credential('x');
    const p = await startProxy(config(), { env: { STATIC_TOKEN: 's' }, innerMiddlewares: [own.mw] });
    expect(own.closed()).toBe(0);
    await p.close({ graceMs: 0 });
    expect(own.closed()).toBe(1);
  });
});

describe('startProxy innerMiddlewares on failure', () => {
  it('closes them when the start fails (missing secret)', async () => {
    const own = credential('x');
    const err = await startProxy(config(), { env: {}, innerMiddlewares: [own.mw] }).catch((e) => e);
    expect(err).toBeInstanceOf(SecretUnavailableError);
    expect(own.closed()).toBe(1);
  });

  it('closes them when the listener cannot start (port taken)', async () => {
    const first = await startProxy(config(), { env: { STATIC_TOKEN: 's' } });
    try {
      const own = credential('x');
      const err = await startProxy(config({ listen: { port: first.port } }), {
        env: { STATIC_TOKEN: 's' },
        innerMiddlewares: [own.mw],
      }).catch((e) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
      expect(own.closed()).toBe(1);
    } finally {
      await first.close({ graceMs: 0 });
    }
  });

  it('refuses what is not a middleware with a TypeError naming the option', async () => {
    await expect(startProxy(config(), { innerMiddlewares: {} as unknown as Middleware[] })).rejects.toThrow(
      /"innerMiddlewares" must be an array/,
    );
    await expect(
      startProxy(config(), { innerMiddlewares: [{ name: 'x' } as unknown as Middleware] }),
    ).rejects.toThrow(/"innerMiddlewares\[0\]" must be a middleware/);
  });
});
