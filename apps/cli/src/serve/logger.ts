/**
 * Logs of proxy processes: JSON lines (pino) to a file descriptor — the workload's log file for a
 * detached proxy, stderr for `--foreground` and the stdio bridge (stdout is the MCP channel there).
 * Credentials are redacted by path, and the CLI never passes tokens to the logger.
 */
import { openSync } from 'node:fs';
import type { ExchangeLogger } from '@bastion-mcp/proxy-core';
import pino from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface CliLogger extends ExchangeLogger {
  flush(): void;
}

export function createLogger(level: string, destination: { fd: number } | { file: string }): CliLogger {
  const fd = 'fd' in destination ? destination.fd : openSync(destination.file, 'a', 0o600);
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: [
          'headers.authorization',
          'headers.cookie',
          '*.headers.authorization',
          'token',
          'accessToken',
          'refreshToken',
          'clientSecret',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd, sync: true }),
  );
  return {
    debug: (o, m) => logger.debug(o, m),
    info: (o, m) => logger.info(o, m),
    warn: (o, m) => logger.warn(o, m),
    error: (o, m) => logger.error(o, m),
    flush: () => logger.flush(),
  };
}
