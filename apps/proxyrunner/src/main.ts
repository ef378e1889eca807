#!/usr/bin/env node
/**
 * `bastion-proxyrunner --config <file>`: the Bastion proxy as a stateless service (container
 * entrypoint). See README.md for flags, environment variables and exit codes.
 */
import { run } from './run.js';
import { VERSION } from './version.js';

process.on('unhandledRejection', (reason) => {
  process.stderr.write(
    `bastion-proxyrunner: unhandled rejection: ${String((reason as Error)?.stack ?? reason)}\n`,
  );
  process.exit(1);
});

const code = await run({
  argv: process.argv,
  env: process.env,
  version: VERSION,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  onSignal: (handler) => {
    process.on('SIGTERM', () => handler('SIGTERM'));
    process.on('SIGINT', () => handler('SIGINT'));
  },
});
process.exit(code);
