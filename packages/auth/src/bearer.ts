/**
 * Extraction of the bearer token from the `Authorization` header (RFC 6750 §2.1). Only the header
 * is accepted (no query or form tokens). The scheme is matched case-insensitively (RFC 7235 §2.1),
 * the token must be a `b64token`, and oversized tokens are refused before any parsing.
 */
import { AuthErrorCode, TokenRejectedError } from './errors.js';

/** Default {@link extractBearerToken} limit: 16 KiB, node:http's default header budget. */
export const DEFAULT_MAX_TOKEN_BYTES = 16 * 1024;

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME = /^bearer$/i;

/**
 * Returns the bearer token of an `Authorization` header value.
 *
 * @param header the raw header value (`undefined` when absent). A repeated header joined by node
 *   (`string[]`) is refused as malformed.
 * @param maxTokenBytes tokens longer than this are refused. Default {@link DEFAULT_MAX_TOKEN_BYTES}.
 * @throws {TokenRejectedError} `ERR_BASTION_AUTH_MISSING_TOKEN` (no header, or another scheme),
 *   `ERR_BASTION_AUTH_MALFORMED_TOKEN`, `ERR_BASTION_AUTH_TOKEN_TOO_LARGE`.
 */
export function extractBearerToken(
  header: string | readonly string[] | undefined,
  maxTokenBytes: number = DEFAULT_MAX_TOKEN_BYTES,
): string {
  const token = bearerCredential(header, maxTokenBytes);
  assertB64Token(token);
  return token;
}

/**
 * {@link extractBearerToken} without the final `b64token` check, for a caller that first looks the
 * token up among tokens it verified earlier (a verified JWT is a `b64token`) and calls
 * {@link assertB64Token} only on a miss.
 */
export function bearerCredential(
  header: string | readonly string[] | undefined,
  maxTokenBytes: number = DEFAULT_MAX_TOKEN_BYTES,
): string {
  if (header === undefined || header === '') {
    throw new TokenRejectedError(AuthErrorCode.MissingToken, 'Missing bearer token');
  }
  if (typeof header !== 'string') {
    throw new TokenRejectedError(AuthErrorCode.MalformedToken, 'Malformed Authorization header');
  }
  // Cheap length gate first: never scan or split a huge header.
  if (header.length > maxTokenBytes + 7 + 16) {
    throw new TokenRejectedError(AuthErrorCode.TokenTooLarge, 'The access token is too large');
  }
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme !== 'Bearer' && !SCHEME.test(scheme)) {
    // Another scheme (Basic, DPoP, …) is "no bearer credential" for this resource (RFC 6750 §3.1).
    throw new TokenRejectedError(AuthErrorCode.MissingToken, 'Missing bearer token');
  }
  const token = space === -1 ? '' : header.slice(space + 1).trim();
  if (token === '') throw new TokenRejectedError(AuthErrorCode.MalformedToken, 'Empty bearer token');
  if (token.length > maxTokenBytes) {
    throw new TokenRejectedError(AuthErrorCode.TokenTooLarge, 'The access token is too large');
  }
  return token;
}

/** @throws {TokenRejectedError} `ERR_BASTION_AUTH_MALFORMED_TOKEN` unless `token` is an RFC 6750 `b64token`. */
export function assertB64Token(token: string): void {
  if (!B64TOKEN.test(token)) {
    throw new TokenRejectedError(AuthErrorCode.MalformedToken, 'Malformed bearer token');
  }
}
