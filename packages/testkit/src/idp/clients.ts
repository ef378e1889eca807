import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { generateClientKey } from './keys.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** A client pre-registered at the test IdP. */
export interface TestClient {
  clientId: string;
  /** Absent for public and `private_key_jwt` clients. */
  clientSecret?: string;
  tokenEndpointAuthMethod: ClientAuthMethod;
  grantTypes: string[];
  redirectUris: string[];
  /** Private ES256 JWK (with `kid`) of a `private_key_jwt` client, to sign client assertions. */
  privateJwk?: JWK;
}

export interface TestClients {
  /** The proxy's own client: `client_secret_basic`; client_credentials, token exchange, introspection. */
  proxy: TestClient;
  /** Introspection-only confidential client, `client_secret_basic`. */
  introspector: TestClient;
  /** Token-exchange client, `client_secret_basic`. */
  exchanger: TestClient;
  /** Token-exchange client, `client_secret_post`. */
  exchangerPost: TestClient;
  /** Token-exchange client, `private_key_jwt` (ES256; `privateJwk` signs its assertions). */
  exchangerJwt: TestClient;
  /**
   * Public native client (`none`, PKCE S256 required): authorization code with loopback redirect
   * URIs `http://127.0.0.1/callback` and `http://localhost/callback` (any port, RFC 8252 §7.3),
   * refresh tokens (rotated), device code. Default client of tokens from `issueAccessToken`.
   */
  cli: TestClient;
}

const secret = (): string => randomBytes(24).toString('base64url');

/** Builds fresh credentials for the pre-registered clients and their oidc-provider metadata. */
export function createClients(): {
  clients: TestClients;
  /** Metadata of the clients given to oidc-provider as static configuration. */
  staticMetadata: ClientMetadata[];
  /**
   * Metadata of clients with inline `jwks`, to be stored through the adapter instead: oidc-provider
   * `structuredClone`s static clients and then checks each JWK with `constructor === Object`, which
   * fails inside jest's VM realm (its `structuredClone` builds objects of the outer realm); clients
   * loaded from the adapter are not cloned that way. A `jwks_uri` is no way out: oidc-provider's
   * SSRF guard refuses loopback fetches (outside jest).
   */
  storedMetadata: ClientMetadata[];
} {
  const jwtKey = generateClientKey('exchanger-jwt-1');
  const confidential = (clientId: string, method: ClientAuthMethod, grantTypes: string[]): TestClient => ({
    clientId,
    ...(method === 'client_secret_basic' || method === 'client_secret_post'
      ? { clientSecret: secret() }
      : {}),
    tokenEndpointAuthMethod: method,
    grantTypes,
    redirectUris: [],
  });
  const clients: TestClients = {
    proxy: confidential('bastion-proxy', 'client_secret_basic', ['client_credentials', TOKEN_EXCHANGE_GRANT]),
    introspector: confidential('introspector', 'client_secret_basic', ['client_credentials']),
    exchanger: confidential('exchanger', 'client_secret_basic', [TOKEN_EXCHANGE_GRANT, 'client_credentials']),
    exchangerPost: confidential('exchanger-post', 'client_secret_post', [
      TOKEN_EXCHANGE_GRANT,
      'client_credentials',
    ]),
    exchangerJwt: {
      ...confidential('exchanger-jwt', 'private_key_jwt', [TOKEN_EXCHANGE_GRANT, 'client_credentials']),
      privateJwk: jwtKey.privateJwk,
    },
    cli: {
      clientId: 'bastion-cli',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
      redirectUris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
    },
  };
  const all: ClientMetadata[] = Object.values(clients).map((c: TestClient) => {
    const interactive = c.grantTypes.includes('authorization_code');
    return {
      client_id: c.clientId,
      ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
      token_endpoint_auth_method: c.tokenEndpointAuthMethod,
      grant_types: c.grantTypes,
      response_types: interactive ? ['code'] : [],
      redirect_uris: c.redirectUris,
      ...(interactive ? { application_type: 'native' as const } : {}),
      ...(c.tokenEndpointAuthMethod === 'private_key_jwt'
        ? { jwks: { keys: [jwtKey.publicJwk] }, token_endpoint_auth_signing_alg: 'ES256' }
        : {}),
    };
  });
  return {
    clients,
    staticMetadata: all.filter((m) => m.jwks === undefined),
    storedMetadata: all.filter((m) => m.jwks !== undefined),
  };
}
