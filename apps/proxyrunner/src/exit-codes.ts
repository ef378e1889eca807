/**
 * Process exit codes of `bastion-proxyrunner` (documented in the README):
 *
 * | code | meaning |
 * |---|---|
 * | 0 | stopped cleanly (SIGTERM/SIGINT drained within the deadline), or `--check` passed |
 * | 1 | runtime failure: cannot listen, remote name does not resolve, drain deadline exceeded, unexpected error |
 * | 2 | configuration error: bad flags, no RunConfig, invalid RunConfig, missing secret, refused remote URL |
 */
export const ExitCode = {
  Ok: 0,
  Runtime: 1,
  Config: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
