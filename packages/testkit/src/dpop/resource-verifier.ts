/**
 * A DPoP-checking resource server for tests (RFC 9449 §4.3, §7.1, §9): everything an MCP server
 * that accepts DPoP-bound tokens checks, with jose. Wire it into `startMcpUpstream({ onRequest })`
 * with `respondDPoPFailure` to answer failures the way a real server does.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, type JWTPayload, jwtVerify } from 'jose';

export interface DPoPResourceVerifierOptions {
  /** Verifies the access token itself (signature, issuer, audience) and returns its claims. */
  verifyAccessToken: (token: string) => Promise<JWTPayload>;
  /** The URL clients must name in `htu` (query and fragment are never part of it). */
  resourceUrl: string;
  /**
   * Require this server nonce in every proof (a function: the current one, so tests can rotate it);
   * a proof without it gets `use_dpop_nonce`. Default: none.
   */
  nonce?: string | (() => string | undefined) | undefined;
  /** Accepted |now − iat|, in seconds. Default 300. */
  iatWindowSeconds?: number | undefined;
  /** Accepted proof algorithms. Default `['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256']`. */
  algorithms?: readonly string[] | undefined;
}

export interface DPoPRequestLike {
  method: string;
  headers: Readonly<IncomingHttpHeaders>;
}

export type DPoPCheckResult =
  | { ok: true; claims: JWTPayload; jti: string; jkt: string; nonce: string | undefined }
  | {
      ok: false;
      /** `invalid_token` (no/unbound/Bearer token), `invalid_dpop_proof`, or `use_dpop_nonce`. */
      error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce';
      reason: string;
    };

export interface DPoPResourceVerifier {
  check(request: DPoPRequestLike): Promise<DPoPCheckResult>;
  /** `jti` of every accepted proof, in order (a replay is refused with `invalid_dpop_proof`). */
  readonly acceptedJtis: readonly string[];
  /** Every refusal, in order. */
  readonly failures: ReadonlyArray<Extract<DPoPCheckResult, { ok: false }>>;
  /** The current server nonce, sent with `use_dpop_nonce` by `respondDPoPFailure`. */
  readonly nonce: string | undefined;
}

const DEFAULT_ALGS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'];

function htuOf(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function single(value: string | string[] | undefined): string | undefined | null {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : null;
  return value;
}

export function createDPoPResourceVerifier(options: DPoPResourceVerifierOptions): DPoPResourceVerifier {
  const window = options.iatWindowSeconds ?? 300;
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGS)];
  const expectedHtu = htuOf(options.resourceUrl);
  const acceptedJtis: string[] = [];
  const seen = new Set<string>();
  const failures: Array<Extract<DPoPCheckResult, { ok: false }>> = [];
  const fail = (error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce', reason: string) => {
    const f = { ok: false as const, error, reason };
    failures.push(f);
    return f;
  };

  const currentNonce = (): string | undefined =>
    typeof options.nonce === 'function' ? options.nonce() : options.nonce;
  return {
    acceptedJtis,
    failures,
    get nonce() {
      return currentNonce();
    },
    async check(request) {
      const authorization = single(request.headers.authorization);
      const m = typeof authorization === 'string' ? /^DPoP\s+(\S+)$/i.exec(authorization) : null;
      if (!m?.[1]) return fail('invalid_token', 'the token is not presented with the DPoP scheme');
      const token = m[1];
      const proof = single(request.headers.dpop);
      if (proof === null) return fail('invalid_dpop_proof', 'more than one DPoP header');
      if (!proof) return fail('invalid_dpop_proof', 'no DPoP proof');
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(proof);
      } catch {
        return fail('invalid_dpop_proof', 'the proof is not a JWS');
      }
      if (header.typ !== 'dpop+jwt') return fail('invalid_dpop_proof', 'typ is not dpop+jwt');
      if (!header.jwk || 'd' in header.jwk) return fail('invalid_dpop_proof', 'jwk missing or private');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(proof, EmbeddedJWK, { algorithms, typ: 'dpop+jwt' }));
      } catch {
        return fail('invalid_dpop_proof', 'the proof signature does not verify');
      }
      if (payload['htm'] !== request.method) return fail('invalid_dpop_proof', 'htm mismatch');
      const htu = payload['htu'];
      if (typeof htu !== 'string' || htu.includes('?') || htu.includes('#') || htu !== expectedHtu)
        return fail('invalid_dpop_proof', 'htu mismatch');
      if (typeof payload.iat !== 'number' || Math.abs(Date.now() / 1000 - payload.iat) > window)
        return fail('invalid_dpop_proof', 'iat outside the window');
      if (typeof payload.jti !== 'string' || payload.jti.length < 8)
        return fail('invalid_dpop_proof', 'jti missing');
      const ath = createHash('sha256').update(token, 'ascii').digest('base64url');
      if (payload['ath'] !== ath) return fail('invalid_dpop_proof', 'ath mismatch');
      const nonce = typeof payload['nonce'] === 'string' ? payload['nonce'] : undefined;
      const required = currentNonce();
      if (required !== undefined && nonce !== required)
        return fail('use_dpop_nonce', 'the proof lacks the server nonce');
      if (seen.has(payload.jti)) return fail('invalid_dpop_proof', 'replayed jti');
      let claims: JWTPayload;
      try {
        claims = await options.verifyAccessToken(token);
      } catch {
        return fail('invalid_token', 'the access token does not verify');
      }
      const jkt = await calculateJwkThumbprint(header.jwk, 'sha256');
      const cnf = claims['cnf'] as { jkt?: unknown } | undefined;
      if (cnf?.jkt !== jkt) return fail('invalid_token', 'the token is not bound to the proof key');
      seen.add(payload.jti);
      acceptedJtis.push(payload.jti);
      return { ok: true, claims, jti: payload.jti, jkt, nonce };
    },
  };
}

/** Answers a refused request as RFC 9449 §7.1 / §9 describe (401, `WWW-Authenticate: DPoP …`). */
export function respondDPoPFailure(
  res: ServerResponse,
  result: Extract<DPoPCheckResult, { ok: false }>,
  verifier: Pick<DPoPResourceVerifier, 'nonce'>,
  extra: { resourceMetadata?: string | undefined } = {},
): void {
  const params = [`error="${result.error}"`, 'algs="ES256"'];
  if (extra.resourceMetadata) params.push(`resource_metadata="${extra.resourceMetadata}"`);
  res.statusCode = 401;
  res.setHeader('www-authenticate', `DPoP ${params.join(', ')}`);
  if (verifier.nonce !== undefined) res.setHeader('dpop-nonce', verifier.nonce);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ error: result.error, error_description: result.reason }));
}
