/** JSON logs in the Kubernetes structured style: `ts`, `level`, `msg`, then key/value pairs. */
import { pino, type Logger, type DestinationStream } from 'pino';

export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { logger: 'bastion-operator' },
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization'], remove: true },
    },
    destination,
  );
}
