import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import type { TestClient } from './clients.js';

export interface OAuthPostResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: Record<string, unknown> | undefined;
  text: string;
}

/**
 * POSTs an `application/x-www-form-urlencoded` request to an OAuth endpoint, authenticating as
 * `client` with its registered method: Basic credentials, `client_id`/`client_secret` fields, a
 * freshly signed `private_key_jwt` assertion (audience = `url`), or `client_id` only for public
 * clients. Never throws on HTTP errors — the status and body are returned for assertions.
 */
export async function oauthPost(
  url: string,
  form: Record<string, string | string[]>,
  client?: TestClient,
): Promise<OAuthPostResult> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    for (const v of Array.isArray(value) ? value : [value]) body.append(key, v);
  }
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client) {
    switch (client.tokenEndpointAuthMethod) {
      case 'client_secret_basic': {
        const user = encodeURIComponent(client.clientId);
        const pass = encodeURIComponent(client.clientSecret ?? '');
        headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
        break;
      }
      case 'client_secret_post':
        body.set('client_id', client.clientId);
        body.set('client_secret', client.clientSecret ?? '');
        break;
      case 'private_key_jwt': {
        if (!client.privateJwk) throw new TypeError('client.privateJwk is required for private_key_jwt');
        const key = await importJWK(client.privateJwk, 'ES256');
        const assertion = await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: client.privateJwk.kid as string })
          .setIssuer(client.clientId)
          .setSubject(client.clientId)
          .setAudience(url)
          .setJti(randomUUID())
          .setIssuedAt()
          .setExpirationTime('60s')
          .sign(key);
        body.set('client_id', client.clientId);
        body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
        body.set('client_assertion', assertion);
        break;
      }
      case 'none':
        body.set('client_id', client.clientId);
        break;
    }
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    json = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}
