import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AuthErrorCode,
  AuthUnavailableError,
  discoverAuthorizationServer,
  discoveryUrls,
  IssuerMetadataSource,
} from '../src/index.js';

/** A real server answering only the RFC 8414 path (no OIDC document), with a configurable issuer. */
let server: Server;
let origin: string;
let advertisedIssuer: (issuer: string) => string = (i) => i;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/.well-known/oauth-authorization-server/tenant') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ issuer: advertisedIssuer(`${origin}/tenant`), jwks_uri: `${origin}/tenant/jwks` }),
      );
      return;
    }
    if (req.url === '/oidc/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: `${origin}/oidc`, jwks_uri: `${origin}/oidc/jwks` }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('discoveryUrls', () => {
  it('lists the OIDC then the RFC 8414 location', () => {
    expect(discoveryUrls('https://idp.test/realms/a')).toEqual([
      'https://idp.test/realms/a/.well-known/openid-configuration',
      'https://idp.test/.well-known/oauth-authorization-server/realms/a',
    ]);
    expect(discoveryUrls('https://idp.test')).toEqual([
      'https://idp.test/.well-known/openid-configuration',
      'https://idp.test/.well-known/oauth-authorization-server',
    ]);
  });
});

describe('discoverAuthorizationServer', () => {
  it('uses OpenID Connect discovery', async () => {
    const md = await discoverAuthorizationServer({ issuer: `${origin}/oidc` });
    expect(md.jwks_uri).toBe(`${origin}/oidc/jwks`);
  });

  it('falls back to RFC 8414 with the path inserted after the well-known segment', async () => {
    const md = await discoverAuthorizationServer({ issuer: `${origin}/tenant` });
    expect(md.jwks_uri).toBe(`${origin}/tenant/jwks`);
  });

  it('refuses a document whose issuer differs from the configured one', async () => {
    advertisedIssuer = () => 'https://evil.test';
    try {
      const err = await discoverAuthorizationServer({ issuer: `${origin}/tenant` }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthUnavailableError);
      expect((err as AuthUnavailableError).code).toBe(AuthErrorCode.DiscoveryFailed);
    } finally {
      advertisedIssuer = (i) => i;
    }
  });
});

describe('IssuerMetadataSource', () => {
  it('discovers once and caches the document', async () => {
    const source = new IssuerMetadataSource({ issuer: `${origin}/oidc` });
    hits.length = 0;
    await Promise.all([source.get(), source.get(), source.get()]);
    await source.get();
    expect(hits).toEqual(['/oidc/.well-known/openid-configuration']);
    source.close();
  });

  it('waits retryMs after a failure before trying again', async () => {
    let t = 0;
    const source = new IssuerMetadataSource({ issuer: `${origin}/missing`, retryMs: 5_000, now: () => t });
    hits.length = 0;
    await expect(source.get()).rejects.toBeInstanceOf(AuthUnavailableError);
    await expect(source.get()).rejects.toBeInstanceOf(AuthUnavailableError);
    expect(hits).toHaveLength(2); // both discovery URLs, once
    t += 5_000;
    await expect(source.get()).rejects.toBeInstanceOf(AuthUnavailableError);
    expect(hits).toHaveLength(4);
    source.close();
  });
});
