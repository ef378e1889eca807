/**
 * Client authentication at a token endpoint, for every grant: the openid-client `Configuration` of
 * a stored client identity (loading a `private_key_jwt` key when the identity has one), and the
 * identity of a pre-registered client for the grants that never register dynamically (jwt-bearer,
 * ID-JAG) or that sign with a private key.
 */
import type { ClientAuth, Configuration } from 'openid-client';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import type { ClientAssertionKeySpec, ClientIdentity, TokenEndpointAuthMethod } from './credentials.js';
import { buildConfiguration, type TransportOptions } from './openid.js';
import { privateKeyJwtAuth, validateClientAssertionKey } from './private-key-jwt.js';

/**
 * The id openid-client is given for a grant sent without client identification; never sent (the
 * client authentication below adds nothing to the request).
 */
const UNIDENTIFIED_CLIENT = 'urn:bastion:unidentified-client';
const noClientAuth: ClientAuth = () => {};

/** The openid-client configuration for `client` at `as` (reads the assertion key file when needed). */
export async function configurationFor(
  as: AuthorizationServerMetadata,
  client: ClientIdentity,
  transport: TransportOptions,
): Promise<Configuration> {
  if (client.clientId === '') {
    return buildConfiguration(
      as,
      { ...client, clientId: UNIDENTIFIED_CLIENT, tokenEndpointAuthMethod: 'none' },
      { ...transport, clientAuth: noClientAuth },
    );
  }
  if (client.tokenEndpointAuthMethod === 'private_key_jwt') {
    if (!client.assertionKey) {
      throw new TypeError(`the private_key_jwt client ${client.clientId} has no assertion key`);
    }
    return buildConfiguration(as, client, {
      ...transport,
      clientAuth: await privateKeyJwtAuth(client.assertionKey),
    });
  }
  return buildConfiguration(as, client, transport);
}

/** A pre-registered client for the grants that do not register: id, optional secret or signing key. */
export interface StaticClientOptions {
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined;
  /** Authenticate with `private_key_jwt`, signing with this key (excludes a secret). */
  assertionKey?: ClientAssertionKeySpec | undefined;
}

export function validateStaticClient(client: StaticClientOptions | undefined, option: string): void {
  if (client === undefined) return;
  if (typeof client !== 'object' || client === null) throw new TypeError(`"${option}" must be an object`);
  for (const key of ['clientId', 'clientSecret'] as const) {
    const v = client[key];
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      throw new TypeError(`"${option}.${key}" must be a non-empty string`);
  }
  if ((client.clientSecret || client.assertionKey) && !client.clientId) {
    throw new TypeError(`"${option}.clientSecret" and "${option}.assertionKey" need "${option}.clientId"`);
  }
  if (client.clientSecret && client.assertionKey) {
    throw new TypeError(`"${option}.clientSecret" and "${option}.assertionKey" are exclusive`);
  }
  if (client.assertionKey !== undefined)
    validateClientAssertionKey(client.assertionKey, `${option}.assertionKey`);
}

/**
 * The identity of a pre-registered client at `as`: `private_key_jwt` with a key, the secret method
 * the AS supports (basic unless it lists only post) with a secret, `none` with only an id, and no
 * identification at all without an id (`clientId` '').
 */
export function staticClientIdentity(
  as: Pick<AuthorizationServerMetadata, 'token_endpoint_auth_methods_supported'>,
  client: StaticClientOptions | undefined,
): ClientIdentity {
  const clientId = client?.clientId ?? '';
  if (client?.assertionKey) {
    return {
      clientId,
      tokenEndpointAuthMethod: 'private_key_jwt',
      assertionKey: { ...client.assertionKey },
      source: 'static',
    };
  }
  if (!client?.clientSecret) return { clientId, tokenEndpointAuthMethod: 'none', source: 'static' };
  let method = client.tokenEndpointAuthMethod;
  if (method === undefined || method === 'none' || method === 'private_key_jwt') {
    const supported = as.token_endpoint_auth_methods_supported;
    method =
      Array.isArray(supported) &&
      !supported.includes('client_secret_basic') &&
      supported.includes('client_secret_post')
        ? 'client_secret_post'
        : 'client_secret_basic';
  }
  return { clientId, clientSecret: client.clientSecret, tokenEndpointAuthMethod: method, source: 'static' };
}
