import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { base64url, CompactSign, type JWK } from 'jose';
import { assertFault, type EndpointFault, SlowGate, writeFault } from './faults.js';
import { RestartableServer } from './restartable-server.js';

/** Algorithms `mint()` can produce. `'none'` yields an unsigned token (`header.payload.`). */
export type MintAlg =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'EdDSA'
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'none';

export const MINT_ALGS: readonly MintAlg[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
  'HS256',
  'HS384',
  'HS512',
  'none',
];

export interface MintOptions {
  /**
   * Payload claims, merged over the defaults `{ iss: minter.issuer, iat: now, exp: now +
   * expiresInSeconds }`. A claim set to `undefined` removes that default (e.g. `{ exp: undefined }`
   * mints a token without `exp`).
   */
  claims?: Record<string, unknown>;
  /** Default `'RS256'`. */
  alg?: MintAlg;
  /** Overrides the header `kid` (e.g. a kid that is not in the JWKS). Default: the signing key's kid. */
  kid?: string;
  /**
   * Extra protected-header parameters merged over `{ alg, typ: 'JWT', kid }`; `undefined` removes
   * one (e.g. `{ typ: undefined }`). `crit` is honoured: the token is signed even when it names
   * extensions nobody understands.
   */
  header?: Record<string, unknown>;
  /** Lifetime used for the default `exp`. Default 300. May be negative to mint an expired token. */
  expiresInSeconds?: number;
  /**
   * HMAC secret for `HS*`. Default: the current RSA public key as SPKI PEM bytes — the classic
   * algorithm-confusion attack against verifiers that feed a "public key" to an HMAC check.
   */
  hmacSecret?: Uint8Array | string;
}

export interface TokenMinterOptions {
  /** `iss` of minted tokens and of the discovery document. Default: the minter's own origin. */
  issuer?: string;
}

export interface TokenMinter {
  /** Default `iss` of minted tokens. */
  readonly issuer: string;
  /** `http://127.0.0.1:<port>` of the JWKS server. */
  readonly origin: string;
  /** `<origin>/jwks`. Also served at `/.well-known/jwks.json`. */
  readonly jwksUri: string;
  /** `<origin>/.well-known/openid-configuration` (`{ issuer, jwks_uri }`, also at the RFC 8414 path). */
  readonly discoveryUrl: string;
  /** Number of JWKS documents served (both JWKS paths; faults and discovery documents not counted). */
  readonly jwksHits: number;
  /** Current RSA public key as SPKI PEM (the default HMAC secret). */
  readonly rsaPublicKeyPem: string;
  /** kids of the current signing keys per key family. */
  readonly kids: { rsa: string; ec256: string; ec384: string; ed25519: string };
  mint(options?: MintOptions): Promise<string>;
  /** Signs arbitrary payload bytes (not necessarily JSON) with the given header; `alg` picks the key. */
  mintRaw(header: Record<string, unknown> & { alg: MintAlg }, payload: Uint8Array | string): Promise<string>;
  /** The JWKS document currently served (public keys only). */
  jwks(): { keys: JWK[] };
  /**
   * New key for every family; the new keys sign from now on. The previous public keys leave the
   * JWKS unless `keepPrevious` is true (then they stay until the next rotation without it).
   */
  rotate(options?: { keepPrevious?: boolean }): void;
  /** Makes the JWKS endpoint answer with a fault until cleared with `null`. */
  setJwksFault(fault: EndpointFault | null): void;
  /** Stops the JWKS server (connections refused) without forgetting its port. */
  stopJwks(): Promise<void>;
  /** Starts it again on the same port. */
  startJwks(): Promise<void>;
  close(): Promise<void>;
}

type Family = 'rsa' | 'ec256' | 'ec384' | 'ed25519';

interface KeyEntry {
  family: Family;
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

const FAMILY_OF: Partial<Record<MintAlg, Family>> = {
  RS256: 'rsa',
  RS384: 'rsa',
  RS512: 'rsa',
  PS256: 'rsa',
  PS384: 'rsa',
  PS512: 'rsa',
  ES256: 'ec256',
  ES384: 'ec384',
  EdDSA: 'ed25519',
};

function generate(family: Family, generation: number): KeyEntry {
  const pair =
    family === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : family === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: family === 'ec256' ? 'P-256' : 'P-384' });
  const kid = `${family}-${generation}`;
  const publicJwk: JWK = { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid, use: 'sig' };
  return { family, kid, privateKey: pair.privateKey, publicJwk };
}

const FAMILIES: readonly Family[] = ['rsa', 'ec256', 'ec384', 'ed25519'];

/**
 * Starts a tiny JWKS server on 127.0.0.1 (port 0) and returns a minter of arbitrary JWTs signed by
 * its keys — any algorithm, header, claims and expiry, including invalid ones (`alg: none`,
 * algorithm confusion, unknown `crit`, foreign `kid`). Use it for negative validation tests; use
 * `startTestIdp()` for tokens a real authorization server issues.
 */
export async function startTokenMinter(options: TokenMinterOptions = {}): Promise<TokenMinter> {
  if (options.issuer !== undefined && (typeof options.issuer !== 'string' || options.issuer === '')) {
    throw new TypeError('options.issuer must be a non-empty string');
  }
  let generation = 1;
  let current = new Map<Family, KeyEntry>(FAMILIES.map((f) => [f, generate(f, generation)]));
  let retained: KeyEntry[] = [];
  let jwksHits = 0;
  let fault: EndpointFault | null = null;
  const gate = new SlowGate();

  const jwks = (): { keys: JWK[] } => ({
    keys: [...current.values(), ...retained].map((k) => ({ ...k.publicJwk })),
  });
  const key = (family: Family): KeyEntry => current.get(family) as KeyEntry;
  // The public half of the current RSA key, as the PEM text a confused verifier would hold.
  const rsaPublicKeyPem = (): string =>
    createPublicKey(key('rsa').privateKey).export({ format: 'pem', type: 'spki' }).toString();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const isJwks = path === '/jwks' || path === '/.well-known/jwks.json';
    const isDiscovery =
      path === '/.well-known/openid-configuration' || path === '/.well-known/oauth-authorization-server';
    if (req.method !== 'GET' || (!isJwks && !isDiscovery)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
      return;
    }
    if (isJwks && fault !== null) {
      if (writeFault(res, fault)) return;
      await gate.hold();
    }
    res.writeHead(200, { 'content-type': isJwks ? 'application/jwk-set+json' : 'application/json' });
    if (isJwks) {
      jwksHits += 1;
      res.end(JSON.stringify(jwks()));
    } else {
      res.end(JSON.stringify({ issuer, jwks_uri: `${server.origin}/jwks` }));
    }
  };

  const server = new RestartableServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await server.start();
  const issuer = options.issuer ?? server.origin;

  const signAny = async (
    header: Record<string, unknown>,
    payload: Uint8Array,
    hmacSecret?: Uint8Array | string,
  ): Promise<string> => {
    const alg = header.alg as MintAlg;
    if (alg === 'none') {
      return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(payload)}.`;
    }
    // Sign even with unknown `crit` names: producing tokens verifiers must reject is the point.
    const crit = Array.isArray(header.crit)
      ? Object.fromEntries((header.crit as unknown[]).map((name) => [String(name), true]))
      : undefined;
    const jws = new CompactSign(payload).setProtectedHeader(header as { alg: string });
    if (alg === 'HS256' || alg === 'HS384' || alg === 'HS512') {
      const secret =
        hmacSecret === undefined
          ? new TextEncoder().encode(rsaPublicKeyPem())
          : typeof hmacSecret === 'string'
            ? new TextEncoder().encode(hmacSecret)
            : hmacSecret;
      return jws.sign(secret, crit ? { crit } : undefined);
    }
    return jws.sign(key(FAMILY_OF[alg] as Family).privateKey, crit ? { crit } : undefined);
  };

  return {
    issuer,
    origin: server.origin,
    jwksUri: `${server.origin}/jwks`,
    discoveryUrl: `${server.origin}/.well-known/openid-configuration`,
    get jwksHits() {
      return jwksHits;
    },
    get rsaPublicKeyPem() {
      return rsaPublicKeyPem();
    },
    get kids() {
      return {
        rsa: key('rsa').kid,
        ec256: key('ec256').kid,
        ec384: key('ec384').kid,
        ed25519: key('ed25519').kid,
      };
    },
    async mint(mintOptions: MintOptions = {}) {
      const alg = mintOptions.alg ?? 'RS256';
      if (!MINT_ALGS.includes(alg)) throw new TypeError(`options.alg must be one of ${MINT_ALGS.join(', ')}`);
      const expiresIn = mintOptions.expiresInSeconds ?? 300;
      if (!Number.isFinite(expiresIn))
        throw new TypeError('options.expiresInSeconds must be a finite number');
      const now = Math.floor(Date.now() / 1000);
      const payload = dropUndefined({ iss: issuer, iat: now, exp: now + expiresIn, ...mintOptions.claims });
      const family = FAMILY_OF[alg];
      const defaultKid = family === undefined ? undefined : key(family).kid;
      const header = dropUndefined({
        alg,
        typ: 'JWT',
        kid: mintOptions.kid ?? defaultKid,
        ...mintOptions.header,
      });
      header.alg = alg;
      return signAny(header, new TextEncoder().encode(JSON.stringify(payload)), mintOptions.hmacSecret);
    },
    async mintRaw(header, payload) {
      if (!MINT_ALGS.includes(header.alg))
        throw new TypeError(`header.alg must be one of ${MINT_ALGS.join(', ')}`);
      const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
      return signAny({ ...header }, bytes);
    },
    jwks,
    rotate(rotateOptions = {}) {
      generation += 1;
      retained = rotateOptions.keepPrevious ? [...current.values()] : [];
      current = new Map(FAMILIES.map((f) => [f, generate(f, generation)]));
    },
    setJwksFault(next) {
      assertFault(next, 'fault');
      fault = next;
      if (next !== 'slow') gate.releaseAll();
    },
    async stopJwks() {
      gate.releaseAll();
      await server.stop();
    },
    async startJwks() {
      await server.start();
    },
    async close() {
      gate.releaseAll();
      await server.close();
    },
  };
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
