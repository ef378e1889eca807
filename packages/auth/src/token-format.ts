/**
 * Token kind routing: a compact JWS (three base64url segments whose first decodes to a JSON object
 * with an `alg`) takes the JWT path; anything else is opaque (introspection).
 */

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** The decoded protected header of a JWT-looking token, or `undefined` when it is not one. */
export function decodeJwtHeader(token: string): Record<string, unknown> | undefined {
  const first = token.indexOf('.');
  if (first <= 0) return undefined;
  const second = token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) return undefined;
  const header = token.slice(0, first);
  const payload = token.slice(first + 1, second);
  const signature = token.slice(second + 1);
  if (!SEGMENT.test(header) || !SEGMENT.test(payload) || (signature !== '' && !SEGMENT.test(signature))) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    if (typeof (parsed as Record<string, unknown>).alg !== 'string') return undefined;
    return parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** `true` when the token is shaped like a compact JWS (see {@link decodeJwtHeader}). */
export function looksLikeJwt(token: string): boolean {
  return decodeJwtHeader(token) !== undefined;
}
