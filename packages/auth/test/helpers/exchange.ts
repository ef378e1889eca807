import { Exchange, type ProxyResponse, jsonResponse } from '@bastion-mcp/proxy-core';

/** A POST /mcp exchange carrying the given headers (what the server builds for each request). */
export function makeExchange(headers: Record<string, string | undefined> = {}): Exchange {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) clean[k] = v;
  return new Exchange({
    request: {
      method: 'POST',
      path: '/mcp',
      query: '',
      headers: clean,
      body: Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/list"}'),
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    },
    requestId: 'req-1',
    serverName: 'demo',
    route: 'streamable',
    rpc: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    upstreamHeaders: {},
    signal: new AbortController().signal,
  });
}

/** A terminal `next` that records the exchanges it saw. */
export function recordingNext(): { next: () => Promise<ProxyResponse>; calls: number } {
  const state = {
    calls: 0,
    next: async (): Promise<ProxyResponse> => {
      state.calls++;
      return jsonResponse(200, { ok: true });
    },
  };
  return state;
}
