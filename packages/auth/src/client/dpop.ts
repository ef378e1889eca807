/**
 * DPoP (RFC 9449, MCP SEP-1932): sender-constrained access tokens. One ES256 key pair per workload
 * grant, generated at login and stored with the tokens it binds (the private JWK is a secret: it
 * lives only in the encrypted token store). Token requests get their proof from openid-client's
 * DPoP handle (which also retries once on `use_dpop_nonce`); requests to the MCP server get a
 * fresh proof per request from a `DPoPProver` (htm, htu without query and fragment, iat, unique
 * jti, ath of the access token, and the latest `DPoP-Nonce` of the server's origin).
 */
import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import {
  type Configuration,
  type CryptoKey,
  type CryptoKeyPair,
  type DPoPHandle,
  getDPoPHandle,
  type TokenEndpointResponse,
} from 'openid-client';
import type { RemoteAuthRequirement } from './detect.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

/**
 * When a login requests a DPoP-bound token:
 * - `auto` (default): when the authorization server advertises ES256 in
 *   `dpop_signing_alg_values_supported` AND the MCP server signals DPoP support (a `DPoP` challenge
 *   in its 401, or `dpop_signing_alg_values_supported` / `dpop_bound_access_tokens_required` in its
 *   protected-resource metadata). An AS advertising DPoP in front of a Bearer-only server keeps Bearer.
 * - `always`: every login sends proofs, and a login whose token comes back `Bearer` fails.
 * - `never`: Bearer tokens only.
 */
export type DPoPMode = 'auto' | 'always' | 'never';

export const DPOP_MODES: readonly DPoPMode[] = ['auto', 'always', 'never'];

/** The only proof algorithm Bastion signs with. */
export const DPOP_ALG = 'ES256';

/** The DPoP key of a grant, as stored with it. */
export interface StoredDPoPKey {
  alg: 'ES256';
  /** The private P-256 JWK (`kty`, `crv`, `x`, `y`, `d`). A secret: only in the encrypted store. */
  privateJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of the tokens it binds. */
  jkt: string;
  createdAt: number;
}

/** Signs DPoP proofs for requests to resource servers with one key, remembering nonces per origin. */
export interface DPoPProver {
  /** RFC 7638 thumbprint of the public key (`cnf.jkt` of the bound tokens). */
  readonly jkt: string;
  /**
   * A fresh proof for one request: `htm` = `method`, `htu` = `url` without query and fragment, `iat`
   * now, a random `jti`, `ath` = base64url(SHA-256(`accessToken`)) when given, and the last nonce
   * remembered for the origin of `url`.
   */
  proof(request: { method: string; url: string | URL; accessToken?: string | undefined }): Promise<string>;
  /** Remember a `DPoP-Nonce` the server at `url` sent (any response); invalid values are ignored. */
  rememberNonce(url: string | URL, nonce: string | undefined): void;
  /** The nonce remembered for the origin of `url`. */
  nonceFor(url: string | URL): string | undefined;
}

/** @throws TypeError when `mode` is not `auto`, `always` or `never`. */
export function validateDPoPMode(mode: unknown, option = 'dpop'): DPoPMode {
  if (mode === undefined) return 'auto';
  if (typeof mode !== 'string' || !(DPOP_MODES as readonly string[]).includes(mode)) {
    throw new TypeError(`"${option}" must be one of ${DPOP_MODES.join(', ')}`);
  }
  return mode as DPoPMode;
}

function algs(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

/**
 * Whether a login for `auth` requests a DPoP-bound token (see `DPoPMode`).
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_DISCOVERY` for `always` when the authorization server
 *   or the MCP server lists DPoP algorithms without ES256.
 */
export function shouldUseDPoP(mode: DPoPMode, auth: RemoteAuthRequirement): boolean {
  if (mode === 'never') return false;
  const asAlgs = algs(auth.authorizationServer.dpop_signing_alg_values_supported);
  const prm = auth.resourceMetadata;
  const rsAlgs = algs(prm['dpop_signing_alg_values_supported']);
  const unsupported = [
    asAlgs && !asAlgs.includes(DPOP_ALG) ? `the authorization server ${auth.authorizationServer.issuer}` : '',
    rsAlgs && !rsAlgs.includes(DPOP_ALG) ? `the MCP server ${auth.serverUrl}` : '',
  ].filter(Boolean);
  if (mode === 'always') {
    if (unsupported.length > 0) {
      throw new OAuthClientError(
        OAuthClientErrorCode.Discovery,
        `DPoP was required (--dpop always) but ${unsupported.join(' and ')} does not accept ${DPOP_ALG} proofs; use --dpop auto or never`,
      );
    }
    return true;
  }
  if (unsupported.length > 0) return false;
  if (prm['dpop_bound_access_tokens_required'] === true) return true;
  if (!asAlgs) return false;
  return rsAlgs !== undefined || (auth.challengeSchemes ?? []).includes('dpop');
}

/** A new ES256 key pair for a grant (a new login always makes a new key). */
export async function generateDPoPKey(): Promise<StoredDPoPKey> {
  const { privateKey } = await generateKeyPair(DPOP_ALG, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return {
    alg: DPOP_ALG,
    privateJwk,
    jkt: await calculateJwkThumbprint(publicJwkOf(privateJwk)),
    createdAt: Date.now(),
  };
}

function publicJwkOf(jwk: JWK): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

function storedKeyError(workload: string | undefined): OAuthClientError {
  const who = workload ? ` of "${workload}"` : '';
  return new OAuthClientError(
    OAuthClientErrorCode.Store,
    `The stored DPoP key${who} is unusable; log in again${workload ? ` (bastion login ${workload})` : ''}`,
  );
}

/**
 * The WebCrypto key pair of a stored key (public key extractable, as openid-client requires).
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_STORE` when the stored key is malformed.
 */
export async function importDPoPKeyPair(key: StoredDPoPKey, workload?: string): Promise<CryptoKeyPair> {
  const jwk = key?.privateJwk;
  if (
    key?.alg !== DPOP_ALG ||
    typeof jwk !== 'object' ||
    jwk === null ||
    jwk.kty !== 'EC' ||
    jwk.crv !== 'P-256' ||
    typeof jwk.d !== 'string'
  ) {
    throw storedKeyError(workload);
  }
  try {
    const privateKey = (await importJWK(jwk, DPOP_ALG)) as CryptoKey;
    const publicKey = (await importJWK(publicJwkOf(jwk), DPOP_ALG, { extractable: true })) as CryptoKey;
    return { privateKey, publicKey };
  } catch {
    // The cause may quote key material: not attached.
    throw storedKeyError(workload);
  }
}

/** RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E. */
const NONCE_RE = /^[\x21\x23-\x5b\x5d-\x7e]{1,1024}$/;
/** Origins whose nonce is remembered (oldest forgotten first). */
const MAX_NONCE_ORIGINS = 100;

function originOf(url: string | URL): string {
  return (typeof url === 'string' ? new URL(url) : url).origin;
}

/** RFC 9449 §4.2 `htu`: the request URI without query and fragment. */
export function dpopHtu(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.origin}${u.pathname}`;
}

/** RFC 9449 §4.2 `ath`: base64url(SHA-256(ASCII access token)). */
export function dpopAth(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * A prover for `key`.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_STORE` when the stored key is malformed.
 */
export async function createDPoPProver(key: StoredDPoPKey, workload?: string): Promise<DPoPProver> {
  const { privateKey } = await importDPoPKeyPair(key, workload);
  const header = { alg: DPOP_ALG, typ: 'dpop+jwt', jwk: publicJwkOf(key.privateJwk) };
  const nonces = new Map<string, string>();
  return {
    jkt: key.jkt,
    async proof({ method, url, accessToken }) {
      if (typeof method !== 'string' || !/^[A-Z]+$/.test(method))
        throw new TypeError('"method" must be an upper-case HTTP method');
      const nonce = nonces.get(originOf(url));
      const payload: Record<string, unknown> = {
        htm: method,
        htu: dpopHtu(url),
        jti: randomBytes(16).toString('base64url'),
      };
      if (accessToken !== undefined) payload['ath'] = dpopAth(accessToken);
      if (nonce !== undefined) payload['nonce'] = nonce;
      return new SignJWT(payload).setProtectedHeader(header).setIssuedAt().sign(privateKey);
    },
    rememberNonce(url, nonce) {
      if (typeof nonce !== 'string' || !NONCE_RE.test(nonce)) return;
      const origin = originOf(url);
      nonces.delete(origin);
      if (nonces.size >= MAX_NONCE_ORIGINS) nonces.delete(nonces.keys().next().value as string);
      nonces.set(origin, nonce);
    },
    nonceFor(url) {
      return nonces.get(originOf(url));
    },
  };
}

/** Whether a `WWW-Authenticate` value is a DPoP `use_dpop_nonce` challenge (RFC 9449 §9). */
export function isUseDPoPNonceChallenge(wwwAuthenticate: string | readonly string[] | undefined): boolean {
  const header = Array.isArray(wwwAuthenticate) ? wwwAuthenticate.join(', ') : wwwAuthenticate;
  if (typeof header !== 'string') return false;
  return parseWwwAuthenticate(header).some(
    (c) => c.scheme === 'dpop' && c.params['error'] === 'use_dpop_nonce',
  );
}

/** Whether a token response is DPoP-bound (`token_type` `DPoP`, any case). */
export function isDPoPBound(response: Pick<TokenEndpointResponse, 'token_type'>): boolean {
  return typeof response.token_type === 'string' && response.token_type.toLowerCase() === 'dpop';
}

/** The DPoP material of one login: a new key, and the handle its token requests use. */
export interface LoginDPoP {
  readonly mode: DPoPMode;
  readonly key: StoredDPoPKey;
  /** `{ DPoP }` options for an openid-client grant call with `config`. */
  options(config: Configuration): { DPoP: DPoPHandle };
  /**
   * The key to store with the tokens of `response`: the key when the token is DPoP-bound, undefined
   * for a Bearer token.
   *
   * @throws OAuthClientError `ERR_BASTION_OAUTH_TOKEN_REQUEST` for mode `always` and a Bearer token.
   */
  keyFor(response: Pick<TokenEndpointResponse, 'token_type'>): StoredDPoPKey | undefined;
}

/**
 * Prepares DPoP for a login (a new key) when `shouldUseDPoP` says so; undefined otherwise.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_DISCOVERY` (see `shouldUseDPoP`).
 */
export async function prepareLoginDPoP(
  mode: DPoPMode | undefined,
  auth: RemoteAuthRequirement,
): Promise<LoginDPoP | undefined> {
  const m = validateDPoPMode(mode);
  if (!shouldUseDPoP(m, auth)) return undefined;
  const key = await generateDPoPKey();
  const keyPair = await importDPoPKeyPair(key);
  let handle: DPoPHandle | undefined;
  return {
    mode: m,
    key,
    options(config) {
      // One handle per login: it keeps the AS nonce across the retries of this login.
      handle ??= getDPoPHandle(config, keyPair);
      return { DPoP: handle };
    },
    keyFor(response) {
      if (isDPoPBound(response)) return key;
      if (m === 'always') {
        throw new OAuthClientError(
          OAuthClientErrorCode.TokenRequest,
          `DPoP was required (--dpop always) but the authorization server ${auth.authorizationServer.issuer} issued a Bearer token`,
        );
      }
      return undefined;
    },
  };
}
