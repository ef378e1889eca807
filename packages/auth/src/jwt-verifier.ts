/**
 * JWT access-token verification with jose: asymmetric algorithms only, `iss` exact, `aud` containing
 * the configured audience, `exp` required, `nbf`, clock skew, optional `typ`, no `crit` extension.
 * Successfully verified tokens are remembered (per SHA-256 of the token, at most until `exp`), so a
 * client reusing its token costs one hash and a map lookup instead of a signature verification.
 */
import type { Exchange } from '@bastion-mcp/proxy-core';
import {
  type CryptoKey,
  errors as joseErrors,
  type JWK,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyResult,
  jwtVerify,
  type KeyObject,
} from 'jose';
import { AuthError, AuthErrorCode, TokenRejectedError } from './errors.js';
import { TtlCache, tokenHash } from './internal/ttl-cache.js';
import { assertNonEmptyString, assertNonNegativeInteger, assertStringArray } from './internal/validate.js';
import { decodeJwtHeader } from './token-format.js';

/** Every algorithm the verifier accepts; HMAC (`HS*`) and `none` are never allowed. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Default allow-list: RS*, PS*, ES*, EdDSA. */
export const DEFAULT_ALGORITHMS: readonly AsymmetricAlgorithm[] = ASYMMETRIC_ALGORITHMS.filter(
  (a) => a !== 'Ed25519',
);

/** Anything that resolves the verification key of a JWS header (a {@link JwksCache} does). */
export interface KeySource {
  getKey(header: JWSHeaderParameters, exchange?: Exchange): Promise<CryptoKey | KeyObject | JWK | Uint8Array>;
}

export interface JwtVerifierOptions {
  /** Expected `iss`, compared exactly. */
  readonly issuer: string;
  /** The token's `aud` (string or array) must contain one of these. */
  readonly audience: string | readonly string[];
  /** Where verification keys come from (usually a {@link JwksCache}). */
  readonly keys: KeySource;
  /** Accepted `alg` values, a subset of {@link ASYMMETRIC_ALGORITHMS}. Default {@link DEFAULT_ALGORITHMS}. */
  readonly algorithms?: readonly string[];
  /** Tolerated clock skew for `exp`/`nbf`, ms. Default 30000. */
  readonly clockToleranceMs?: number;
  /** Required `typ` header (e.g. `'at+jwt'`, RFC 9068; `application/` prefix optional). Default: not checked. */
  readonly typ?: string | undefined;
  /** Claims that must be present besides `exp`. Default `[]`. */
  readonly requiredClaims?: readonly string[];
  /** How long a verified token is remembered (never past its `exp`), ms; `0` disables. Default 60000. */
  readonly cacheTtlMs?: number;
  /** Most remembered tokens. Default 10000. */
  readonly cacheMaxEntries?: number;
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

export interface VerifiedJwt {
  readonly payload: JWTPayload;
  readonly header: JWSHeaderParameters;
}

export interface JwtVerifier {
  /**
   * Verifies a compact JWS access token.
   *
   * @throws {TokenRejectedError} with an `ERR_BASTION_AUTH_*` code for every invalid token.
   * @throws {AuthUnavailableError} when keys cannot be obtained at all (fail closed).
   */
  verify(token: string, exchange?: Exchange): Promise<VerifiedJwt>;
  /**
   * The remembered verification of exactly this token while it is within its `exp` (plus the clock
   * tolerance), synchronously and without I/O; `undefined` when {@link verify} has to decide.
   */
  cached(token: string): VerifiedJwt | undefined;
}

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  if (options === null || typeof options !== 'object') throw new TypeError('"options" must be an object');
  assertNonEmptyString('issuer', options.issuer);
  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience;
  assertStringArray('audience', audience);
  if (audience.length === 0) throw new TypeError('"audience" must not be empty');
  if (!options.keys || typeof options.keys.getKey !== 'function') {
    throw new TypeError('"keys" must provide a getKey(header) function');
  }
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  assertStringArray('algorithms', algorithms);
  if (algorithms.length === 0) throw new TypeError('"algorithms" must not be empty');
  for (const alg of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new TypeError(`"algorithms" contains "${alg}", which is not an allowed asymmetric algorithm`);
    }
  }
  const clockToleranceMs = options.clockToleranceMs ?? 30_000;
  assertNonNegativeInteger('clockToleranceMs', clockToleranceMs);
  if (options.typ !== undefined) assertNonEmptyString('typ', options.typ);
  const requiredClaims = ['exp', ...(options.requiredClaims ?? [])];
  assertStringArray('requiredClaims', requiredClaims);
  const cacheTtlMs = options.cacheTtlMs ?? 60_000;
  assertNonNegativeInteger('cacheTtlMs', cacheTtlMs);
  const cacheMaxEntries = options.cacheMaxEntries ?? 10_000;
  assertNonNegativeInteger('cacheMaxEntries', cacheMaxEntries);
  const now = options.now ?? Date.now;
  const keys = options.keys;
  const allowed = new Set(algorithms);
  const cache = new TtlCache<VerifiedJwt>(cacheTtlMs === 0 ? 0 : cacheMaxEntries, now);

  const verifyOptions = {
    issuer: options.issuer,
    audience: [...audience],
    algorithms: [...algorithms],
    requiredClaims,
    typ: options.typ,
    clockTolerance: clockToleranceMs / 1000,
  };

  async function verifyUncached(token: string, exchange?: Exchange): Promise<VerifiedJwt> {
    const header = decodeJwtHeader(token);
    if (!header) throw new TokenRejectedError(AuthErrorCode.MalformedToken, 'Malformed access token');
    if (header.crit !== undefined) {
      // No JWS extension is understood here, so any `crit` is unsupported (RFC 7515 §4.1.11).
      throw new TokenRejectedError(
        AuthErrorCode.UnsupportedCritical,
        'The token uses an unsupported critical header parameter',
      );
    }
    if (typeof header.alg !== 'string' || !allowed.has(header.alg)) {
      throw new TokenRejectedError(
        AuthErrorCode.AlgorithmNotAllowed,
        'The token signing algorithm is not allowed',
      );
    }
    const opts = { ...verifyOptions, currentDate: new Date(now()) };
    let result: JWTVerifyResult;
    try {
      result = await jwtVerify(token, (h: JWSHeaderParameters) => keys.getKey(h, exchange), opts);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw mapJoseError(err);
      result = await verifyWithCandidates(token, err, opts);
    }
    return { payload: result.payload, header: result.protectedHeader };
  }

  /** A remembered verification, `exp` re-checked on every use (a cached result never outlives the token). */
  function remembered(key: string): VerifiedJwt | undefined {
    const hit = cache.get(key);
    if (!hit) return undefined;
    const exp = hit.payload.exp as number;
    if (now() < exp * 1000 + clockToleranceMs) return hit;
    cache.delete(key);
    return undefined;
  }

  return {
    cached(token: string): VerifiedJwt | undefined {
      if (cacheTtlMs === 0 || typeof token !== 'string' || token === '') return undefined;
      return remembered(tokenHash(token));
    },
    async verify(token: string, exchange?: Exchange): Promise<VerifiedJwt> {
      if (typeof token !== 'string' || token === '') {
        throw new TokenRejectedError(AuthErrorCode.MalformedToken, 'Malformed access token');
      }
      const key = cacheTtlMs === 0 ? undefined : tokenHash(token);
      if (key !== undefined) {
        const hit = remembered(key);
        if (hit) return hit;
      }
      const verified = await verifyUncached(token, exchange);
      if (key !== undefined) {
        const exp = verified.payload.exp as number;
        cache.set(key, verified, Math.min(cacheTtlMs, exp * 1000 - now()));
      }
      return verified;
    },
  };
}

async function verifyWithCandidates(
  token: string,
  candidates: joseErrors.JWKSMultipleMatchingKeys,
  opts: Parameters<typeof jwtVerify>[2],
): Promise<JWTVerifyResult> {
  let last: unknown = candidates;
  for await (const key of candidates) {
    try {
      return await jwtVerify(token, key, opts);
    } catch (err) {
      last = err;
      if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) break;
    }
  }
  throw mapJoseError(
    last instanceof joseErrors.JWKSMultipleMatchingKeys
      ? new joseErrors.JWSSignatureVerificationFailed()
      : last,
  );
}

/** Turns a jose (or key-source) error into a {@link TokenRejectedError} with a safe description. */
export function mapJoseError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  const reject = (code: AuthErrorCode, description: string, claim?: string): TokenRejectedError =>
    new TokenRejectedError(code, description, { cause: err, claim });
  if (err instanceof joseErrors.JWTExpired) {
    return reject(AuthErrorCode.TokenExpired, 'The access token expired', 'exp');
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return reject(AuthErrorCode.TokenNotYetValid, 'The access token is not valid yet', 'nbf');
      case 'iss':
        return reject(
          AuthErrorCode.IssuerMismatch,
          'The access token was issued by an unexpected issuer',
          'iss',
        );
      case 'aud':
        return reject(
          AuthErrorCode.AudienceMismatch,
          'The access token is not intended for this resource',
          'aud',
        );
      case 'typ':
        return reject(AuthErrorCode.TypeMismatch, 'The access token type is not accepted', 'typ');
      default:
        return reject(
          AuthErrorCode.InvalidClaim,
          `The access token has a missing or invalid ${safeClaimName(err.claim)} claim`,
          err.claim,
        );
    }
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return reject(AuthErrorCode.AlgorithmNotAllowed, 'The token signing algorithm is not allowed');
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return reject(AuthErrorCode.SignatureInvalid, 'The token signature is invalid');
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) {
    return reject(AuthErrorCode.UnknownSigningKey, 'The token was signed with an unknown key');
  }
  if (err instanceof joseErrors.JOSENotSupported) {
    if (/Extension Header Parameter/.test(err.message)) {
      return reject(
        AuthErrorCode.UnsupportedCritical,
        'The token uses an unsupported critical header parameter',
      );
    }
    return reject(AuthErrorCode.AlgorithmNotAllowed, 'The token signing algorithm is not allowed');
  }
  if (err instanceof TypeError) {
    // jose raises TypeError for keys unfit for the algorithm (e.g. an RSA modulus under 2048 bits).
    return reject(AuthErrorCode.SignatureInvalid, 'The token signature is invalid');
  }
  return reject(AuthErrorCode.MalformedToken, 'Malformed access token');
}

function safeClaimName(claim: string): string {
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(claim) ? claim : 'required';
}
