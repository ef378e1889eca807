/**
 * A small real issuer for the auth tests, used until/alongside the testkit IdP: a node:http server on
 * 127.0.0.1 serving OIDC discovery, a JWKS and an RFC 7662 introspection endpoint, with jose-minted
 * tokens. Everything the auth package sees goes over real HTTP.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';

type Alg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';
interface SigningKey {
  kid: string;
  alg: Alg;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

export interface IntrospectionCall {
  authorization: string | undefined;
  form: URLSearchParams;
}

export interface LocalIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly introspectionEndpoint: string;
  readonly hits: { jwks: number; discovery: number; introspection: number };
  readonly introspectionCalls: IntrospectionCall[];
  /** Set what the introspection endpoint answers for a token (default `{active:false}`). */
  setIntrospection(token: string, response: Record<string, unknown>): void;
  /** Make the introspection endpoint answer this status / hang up / delay. */
  introspectionMode: 'ok' | 'error500' | 'hangup';
  /** Delay every introspection answer until this promise resolves. */
  introspectionGate: Promise<void> | undefined;
  /** Make the JWKS endpoint hang up (connection destroyed) instead of answering. */
  jwksDown: boolean;
  /** Mint a token; `alg` defaults to RS256 with the current RSA key. */
  mint(
    claims: Record<string, unknown>,
    options?: {
      alg?: Alg | 'HS256' | 'none';
      kid?: string;
      header?: Record<string, unknown>;
      expiresIn?: number | null;
    },
  ): Promise<string>;
  /** New keys for every algorithm; the old ones leave the JWKS. */
  rotate(): Promise<void>;
  /** The RSA public key as PEM (for the algorithm-confusion case). */
  readonly rsaPublicPem: string;
  close(): Promise<void>;
}

async function makeKey(alg: Alg, n: number): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${n}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

/** Lets jose sign tokens carrying any `crit` extension (the verifier under test must refuse them). */
function critOption(
  header: Record<string, unknown> | undefined,
): { crit: Record<string, boolean> } | undefined {
  const crit = header?.crit;
  if (!Array.isArray(crit)) return undefined;
  return { crit: Object.fromEntries(crit.map((c) => [String(c), true])) };
}

const ALGS: Alg[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

export async function startLocalIssuer(options: { audience?: string } = {}): Promise<LocalIssuer> {
  let generation = 1;
  let keys = await Promise.all(ALGS.map((a) => makeKey(a, generation)));
  const introspections = new Map<string, Record<string, unknown>>();
  const hits = { jwks: 0, discovery: 0, introspection: 0 };
  const calls: IntrospectionCall[] = [];

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', issuerUrl);
    if (url.pathname === '/.well-known/openid-configuration') {
      hits.discovery++;
      send(200, {
        issuer: issuerUrl,
        jwks_uri: `${issuerUrl}/jwks`,
        introspection_endpoint: `${issuerUrl}/introspect`,
        token_endpoint: `${issuerUrl}/token`,
      });
      return;
    }
    if (url.pathname === '/jwks') {
      hits.jwks++;
      if (self.jwksDown) {
        req.socket.destroy();
        return;
      }
      send(200, { keys: keys.map((k) => k.publicJwk) });
      return;
    }
    if (url.pathname === '/introspect' && req.method === 'POST') {
      hits.introspection++;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        calls.push({ authorization: req.headers.authorization, form });
        if (self.introspectionGate) await self.introspectionGate;
        if (self.introspectionMode === 'hangup') {
          req.socket.destroy();
          return;
        }
        if (self.introspectionMode === 'error500') {
          send(500, { error: 'server_error' });
          return;
        }
        send(200, introspections.get(form.get('token') ?? '') ?? { active: false });
      });
      return;
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuerUrl = `http://127.0.0.1:${port}`;
  const audience = options.audience;

  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

  const self: LocalIssuer = {
    issuer: issuerUrl,
    jwksUri: `${issuerUrl}/jwks`,
    introspectionEndpoint: `${issuerUrl}/introspect`,
    hits,
    introspectionCalls: calls,
    introspectionMode: 'ok',
    introspectionGate: undefined,
    jwksDown: false,
    get rsaPublicPem() {
      return (keys[0] as SigningKey).publicPem;
    },
    setIntrospection(token, response) {
      introspections.set(token, response);
    },
    async mint(claims, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: issuerUrl,
        ...(audience ? { aud: audience } : {}),
        iat: now,
        ...(opts.expiresIn === null ? {} : { exp: now + (opts.expiresIn ?? 3600) }),
        ...claims,
      };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      const alg = opts.alg ?? 'RS256';
      if (alg === 'none') {
        return `${b64({ alg: 'none', typ: 'JWT', ...opts.header })}.${b64(payload)}.`;
      }
      if (alg === 'HS256') {
        const rsa = keys[0] as SigningKey;
        return new SignJWT(payload)
          .setProtectedHeader({ alg: 'HS256', kid: opts.kid ?? rsa.kid, ...opts.header })
          .sign(new TextEncoder().encode(rsa.publicPem));
      }
      const key = keys.find((k) => k.alg === alg) as SigningKey;
      return new SignJWT(payload)
        .setProtectedHeader({ alg, kid: opts.kid ?? key.kid, typ: 'JWT', ...opts.header })
        .sign(key.privateKey, critOption(opts.header));
    },
    async rotate() {
      generation++;
      keys = await Promise.all(ALGS.map((a) => makeKey(a, generation)));
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return self;
}
