/**
 * pino JSON logs. Secrets never reach a log line: pino's `redact` handles the usual header paths, and
 * a log formatter replaces the value of any key that looks like a credential (`authorization`,
 * `cookie`, `*token*`, `*secret*`, `password`, `*api-key*`), at any depth.
 */
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SENSITIVE = /authorization|cookie|token|secret|password|passwd|api[-_]?key|credential|private[-_]?key/i;
const REDACTED = '[REDACTED]';

/** A copy of `value` with credential-looking keys redacted (depth-limited, cycle-safe). */
export function scrubLogObject(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value; // pino's err serializer handles it
  if (depth > 8) return '[Truncated]';
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrubLogObject(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SENSITIVE.test(k) ? REDACTED : scrubLogObject(v, depth + 1, seen);
  }
  return out;
}

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: 'bastion-proxyrunner' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'authorization',
        'cookie',
        '*.authorization',
        '*.cookie',
        'headers.authorization',
        'headers.cookie',
      ],
      censor: REDACTED,
    },
    formatters: {
      level: (label: string) => ({ level: label }),
      log: (obj: Record<string, unknown>) => scrubLogObject(obj) as Record<string, unknown>,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
