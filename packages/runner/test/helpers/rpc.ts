/** Minimal MCP-over-HTTP calls for tests that need raw status codes and headers. */
export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};

export interface RpcAnswer {
  status: number;
  headers: Headers;
  /** The JSON-RPC message (from a JSON body or the first SSE `data:` event), or the JSON body. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read loosely shaped JSON-RPC answers
  body: any;
}

export async function rpc(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<RpcAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }),
  });
  const text = await res.text();
  let body: unknown;
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const line = text.split('\n').find((l) => l.startsWith('data:'));
    body = line ? JSON.parse(line.slice(5)) : undefined;
  } else {
    body = text ? JSON.parse(text) : undefined;
  }
  return { status: res.status, headers: res.headers, body };
}
