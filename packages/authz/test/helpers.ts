import { Exchange, type Identity, type JsonRpcMessage } from '@bastion-mcp/proxy-core';

export function identity(partial: Partial<Identity> & { subject: string }): Identity {
  return {
    groups: [],
    roles: [],
    scopes: [],
    claims: { sub: partial.subject },
    tokenKind: 'jwt',
    ...partial,
  };
}

/** A bare exchange for driving a middleware through proxy-core's composeChain. */
export function makeExchange(
  rpc: JsonRpcMessage | undefined,
  init: { identity?: Identity; headers?: Record<string, string>; method?: string; serverName?: string } = {},
): Exchange {
  const headers = { 'content-type': 'application/json', ...(init.headers ?? {}) };
  const ex = new Exchange({
    request: {
      method: init.method ?? 'POST',
      path: '/mcp',
      query: '',
      headers,
      body: Buffer.from(rpc ? JSON.stringify(rpc) : ''),
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    },
    requestId: 'r1',
    serverName: init.serverName ?? 'demo',
    route: 'streamable',
    rpc,
    upstreamHeaders: { ...headers },
    signal: new AbortController().signal,
  });
  if (init.identity) ex.identity = init.identity;
  return ex;
}

export function call(
  name: string,
  args: Record<string, unknown> = {},
  id: number | string = 1,
): JsonRpcMessage {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}
