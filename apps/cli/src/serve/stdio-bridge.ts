/**
 * stdio ↔ HTTP bridge: JSON-RPC messages read from stdin are posted to a local proxy endpoint, and
 * everything the endpoint sends back is written to stdout. Only MCP messages ever reach stdout; logs
 * go to stderr or a file.
 *
 * The era is chosen per message: a message whose `_meta` names a 2026-07-28-or-later protocol version
 * goes through the stateless path (modern-bridge.ts: one POST per message with the mirrored headers);
 * everything else (initialize and the session era) goes through the MCP SDK's client transport.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { CliLogger } from './logger.js';
import { createModernBridge, type IncomingMessage, type OutgoingMessage } from './modern-bridge.js';
import { modernVersionOf, paramsOf } from './modern-wire.js';

export interface BridgeOptions {
  url: string;
  transport: 'streamable-http' | 'sse';
  logger: CliLogger;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

/** Runs until stdin ends or the remote side closes. */
export async function runStdioBridge(options: BridgeOptions): Promise<void> {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { StreamableHTTPClientTransport } = await import(
    '@modelcontextprotocol/sdk/client/streamableHttp.js'
  );
  const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
  const { logger } = options;
  const local = new StdioServerTransport(
    (options.stdin ?? process.stdin) as never,
    (options.stdout ?? process.stdout) as never,
  );
  const remote =
    options.transport === 'sse'
      ? new SSEClientTransport(new URL(options.url))
      : new StreamableHTTPClientTransport(new URL(options.url));
  const pendingInit = new Set<string | number>();
  // The stateless (2026-07-28) path exists only on Streamable HTTP; the deprecated SSE transport is
  // session-era by definition.
  const modern =
    options.transport === 'streamable-http'
      ? createModernBridge({
          url: options.url,
          logger,
          deliver: (m: IncomingMessage) => local.send(m as JSONRPCMessage),
        })
      : undefined;
  /** Version of the last modern request: notifications without `_meta` follow the client's era. */
  let modernVersion: string | undefined;
  let legacyStarted = false;

  return new Promise<void>((resolve) => {
    let done = false;
    const finish = async (why: string) => {
      if (done) return;
      done = true;
      logger.info({ event: 'bridge_closed', why }, `stdio bridge closed (${why})`);
      await modern?.close().catch(() => {});
      await remote.close().catch(() => {});
      await local.close().catch(() => {});
      resolve();
    };
    local.onmessage = (msg: JSONRPCMessage) => {
      const m = msg as { id?: string | number; method?: string };
      if (modern && m.method !== undefined) {
        const version = modernVersionOf(msg);
        if (version !== undefined) modernVersion = version;
        const isNotification = m.id === undefined;
        if (version !== undefined || (isNotification && modernVersion !== undefined && !legacyStarted)) {
          if (m.method === 'notifications/cancelled') {
            // Over HTTP the stateless revision cancels by closing the request's stream.
            const requestId = paramsOf(msg)?.requestId;
            if (typeof requestId === 'string' || typeof requestId === 'number') modern.cancel(requestId);
            return;
          }
          void modern.post(msg as OutgoingMessage, version ?? (modernVersion as string));
          return;
        }
      }
      legacyStarted = true;
      if (m.method === 'initialize' && m.id !== undefined) pendingInit.add(m.id);
      logger.debug({ event: 'bridge_to_remote', method: m.method, id: m.id }, 'message to the proxy');
      remote.send(msg).catch((e: Error) => {
        logger.error({ event: 'bridge_send_failed', method: m.method }, e.message);
        if (m.id !== undefined && m.method !== undefined) {
          void local.send({
            jsonrpc: '2.0',
            id: m.id,
            error: { code: -32000, message: `Bastion could not reach the proxy: ${e.message}` },
          } as JSONRPCMessage);
        }
      });
    };
    remote.onmessage = (msg: JSONRPCMessage) => {
      const r = msg as { id?: string | number; method?: string; result?: { protocolVersion?: string } };
      logger.debug({ event: 'bridge_from_remote', method: r.method, id: r.id }, 'message from the proxy');
      if (r.id !== undefined && pendingInit.has(r.id)) {
        pendingInit.delete(r.id);
        const version = r.result?.protocolVersion;
        if (version && 'setProtocolVersion' in remote) remote.setProtocolVersion(version);
      }
      void local.send(msg);
    };
    remote.onerror = (e: Error) => logger.warn({ event: 'bridge_remote_error' }, e.message);
    local.onerror = (e: Error) => logger.warn({ event: 'bridge_stdio_error' }, e.message);
    local.onclose = () => void finish('stdin closed');
    remote.onclose = () => void finish('remote closed');
    (options.stdin ?? process.stdin).once('end', () => void finish('stdin ended'));
    remote
      .start()
      .then(() => local.start())
      .catch((e: Error) => {
        logger.error({ event: 'bridge_start_failed' }, e.message);
        void finish('start failed');
      });
  });
}
