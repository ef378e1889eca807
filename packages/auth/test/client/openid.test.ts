/**
 * `client_secret_basic` encoding (RFC 6749 §2.3.1): id and secret are form-urlencoded, so ids made of
 * unreserved characters (`pre-registered-client`) reach the AS exactly as registered.
 */
import { describe, expect, it } from '@jest/globals';
import { clientSecretBasic } from '../../src/client/openid.js';

function basicOf(clientId: string, secret: string): string {
  const headers = new Headers();
  clientSecretBasic(secret)(
    { issuer: 'https://as.example' },
    { client_id: clientId },
    new URLSearchParams(),
    headers,
  );
  const value = headers.get('authorization') ?? '';
  expect(value).toMatch(/^Basic /);
  return Buffer.from(value.slice(6), 'base64').toString('utf8');
}

describe('clientSecretBasic', () => {
  it('leaves unreserved characters of the client id and secret as they are', () => {
    expect(basicOf('pre-registered-client', 'pre_registered.secret*1')).toBe(
      'pre-registered-client:pre_registered.secret*1',
    );
  });

  it('form-urlencodes the characters that need it (":" cannot split the pair)', () => {
    expect(basicOf('id:with space', 's3cr3t/+=:é')).toBe('id%3Awith+space:s3cr3t%2F%2B%3D%3A%C3%A9');
  });
});
