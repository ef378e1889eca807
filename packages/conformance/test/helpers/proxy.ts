/** Proxies for fault tests: passthrough or the full chain, short pool keep-alive so sockets settle fast. */
import { type Middleware, type ProxyServer, startProxyServer } from '@bastion-mcp/proxy-core';
import type { ProxyServerTimeouts, UpstreamOptions } from '@bastion-mcp/proxy-core';
import { createFullChain, type FullChain } from '../../src/chain.js';

export interface TestProxy {
  readonly proxy: ProxyServer;
  readonly url: string;
  readonly chain: FullChain | undefined;
  close(): Promise<void>;
}

export async function startTestProxy(
  upstreamUrl: string,
  options: {
    chain?: 'none' | 'full';
    middlewares?: Middleware[];
    upstream?: UpstreamOptions;
    server?: ProxyServerTimeouts;
  } = {},
): Promise<TestProxy> {
  const chain = options.chain === 'full' ? await createFullChain({ telemetry: false }) : undefined;
  const proxy = await startProxyServer({
    upstreamUrl,
    middlewares: options.middlewares ?? chain?.middlewares ?? [],
    upstream: { keepAliveTimeoutMs: 500, ...options.upstream },
    closeGraceMs: 0,
    server: options.server,
  });
  return {
    proxy,
    url: proxy.url,
    chain,
    async close() {
      await proxy.close({ graceMs: 0 });
      await chain?.close();
    },
  };
}
