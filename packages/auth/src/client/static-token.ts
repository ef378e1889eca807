/**
 * Static bearer tokens (`--bearer-token-file`, or a value the CLI read from an environment
 * variable). They are held in memory only and never written to the token store or any file.
 */
import { readFile, stat } from 'node:fs/promises';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import type { AccessTokenProvider, OAuthSessionStatus, OAuthStatusChange } from './session.js';

export interface StaticTokenFileInfo {
  token: string;
  /** True when the file is readable by group or others (the CLI should warn). */
  looseFileMode: boolean;
}

/** Reads a bearer token from a file (trimmed; the first line only). */
export async function readBearerTokenFile(path: string): Promise<StaticTokenFileInfo> {
  if (typeof path !== 'string' || path === '') throw new TypeError('"path" must be a file path');
  let text: string;
  let mode = 0;
  try {
    text = await readFile(path, 'utf8');
    mode = (await stat(path)).mode;
  } catch (cause) {
    throw new OAuthClientError(
      OAuthClientErrorCode.StaticToken,
      `Cannot read the bearer token file ${path}`,
      { cause },
    );
  }
  const token = (text.split(/\r?\n/)[0] ?? '').trim();
  if (token === '')
    throw new OAuthClientError(OAuthClientErrorCode.StaticToken, `The bearer token file ${path} is empty`);
  return { token, looseFileMode: process.platform !== 'win32' && (mode & 0o077) !== 0 };
}

/** An `AccessTokenProvider` for a static token: a 401 upstream makes it `unauthenticated` for good. */
export function createStaticTokenProvider(token: string, options: { name: string }): AccessTokenProvider {
  if (typeof token !== 'string' || token.trim() === '' || /[\s]/.test(token.trim())) {
    throw new TypeError('"token" must be a non-empty bearer token without whitespace');
  }
  const value = token.trim();
  let status: OAuthSessionStatus = 'authenticated';
  const listeners = new Set<(change: OAuthStatusChange) => void>();
  const rejected = () =>
    new OAuthClientError(
      OAuthClientErrorCode.Unauthenticated,
      `The upstream rejected the static bearer token of "${options.name}"; provide a new token and restart the workload`,
    );
  return {
    get status() {
      return status;
    },
    async getAccessToken() {
      if (status === 'unauthenticated') throw rejected();
      return value;
    },
    async handleUnauthorized() {
      const error = rejected();
      if (status !== 'unauthenticated') {
        const previous = status;
        status = 'unauthenticated';
        for (const l of [...listeners]) l({ status, previous, error });
      }
      throw error;
    },
    retryAfterSeconds: () => 30,
    onStatusChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
    },
  };
}
