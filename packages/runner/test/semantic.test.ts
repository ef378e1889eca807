import { describe, expect, it } from '@jest/globals';
import { RunConfigError, type RunConfigInput, validateRunConfig } from '../src/index.js';

const oidc = {
  mode: 'oidc' as const,
  issuer: 'https://idp.example.com',
  audience: 'bastion',
  resourceUrl: 'https://bastion.example.com/mcp',
};
const base: RunConfigInput = {
  schemaVersion: 1,
  name: 'x',
  remoteUrl: 'https://mcp.example.com/mcp',
  auth: oidc,
};

function issues(value: unknown): Array<{ path: string; message: string }> {
  try {
    validateRunConfig(value);
  } catch (err) {
    expect(err).toBeInstanceOf(RunConfigError);
    return [...(err as RunConfigError).issues];
  }
  throw new Error('expected a RunConfigError');
}

describe('RunConfig cross-field checks', () => {
  it('refuses a config without auth with a message that names anonymous mode', () => {
    const { auth: _auth, ...noAuth } = base;
    const found = issues(noAuth);
    expect(found).toEqual([{ path: 'auth', message: expect.stringMatching(/"anonymous" \} explicitly/) }]);
  });

  it('allows plain http identity providers only on loopback with insecureLoopback', () => {
    const http = { ...oidc, issuer: 'http://127.0.0.1:9000', jwksUrl: 'http://idp.example.com/jwks' };
    const found = issues({ ...base, auth: http });
    expect(found.map((i) => i.path).sort()).toEqual(['auth.issuer', 'auth.jwksUrl']);
    const dev = issues({ ...base, insecureLoopback: true, auth: http });
    expect(dev.map((i) => i.path)).toEqual(['auth.jwksUrl']);
    expect(() =>
      validateRunConfig({
        ...base,
        insecureLoopback: true,
        remoteUrl: 'http://localhost:3000/mcp',
        auth: { ...oidc, issuer: 'http://localhost:9000' },
        tokenExchange: { tokenUrl: 'http://127.0.0.1:9000/token', clientId: 'c', clientSecretEnv: 'S' },
      }),
    ).not.toThrow();
  });

  it('refuses a secret referenced both by env and file', () => {
    const found = issues({ ...base, upstreamAuth: { bearerTokenEnv: 'T', bearerTokenFile: '/run/t' } });
    expect(found).toEqual([
      { path: 'upstreamAuth.bearerTokenFile', message: expect.stringMatching(/not both/) },
    ]);
    expect(issues({ ...base, upstreamAuth: {} })[0]?.path).toBe('upstreamAuth');
  });

  it('refuses two settings that would both write the upstream Authorization header', () => {
    const found = issues({
      ...base,
      upstreamAuth: { bearerTokenEnv: 'T' },
      headerForward: { fromEnv: { Authorization: 'OTHER' } },
    });
    expect(found).toEqual([
      { path: 'headerForward.fromEnv.Authorization', message: expect.stringMatching(/upstreamAuth/) },
    ]);
    const te = issues({
      ...base,
      auth: { ...oidc, passthroughToken: true },
      tokenExchange: { tokenUrl: 'https://sts.example.com/t', clientId: 'c', clientSecretEnv: 'S' },
    });
    expect(te.map((i) => i.path)).toEqual(['auth.passthroughToken']);
  });

  it('refuses a forwarded header that collides with the exchanged-token header or another forwarded one', () => {
    const found = issues({
      ...base,
      tokenExchange: {
        tokenUrl: 'https://sts.example.com/t',
        clientId: 'c',
        clientSecretEnv: 'S',
        header: { name: 'X-Upstream-Token' },
      },
      headerForward: { plain: { 'x-upstream-token': 'a', 'X-A': '1' }, fromEnv: { 'x-a': 'A' } },
    });
    expect(found.map((i) => i.path).sort()).toEqual([
      'headerForward.fromEnv.x-a',
      'headerForward.plain.x-upstream-token',
    ]);
  });

  it('refuses private key and client secret mixed up with clientAuth', () => {
    const found = issues({
      ...base,
      tokenExchange: {
        tokenUrl: 'https://sts.example.com/t',
        clientId: 'c',
        clientSecretEnv: 'S',
        privateKeyFile: '/k.pem',
      },
    });
    expect(found.map((i) => i.path)).toEqual(['tokenExchange.privateKeyFile']);
  });

  it('requires a client id next to an introspection client secret', () => {
    const found = issues({ ...base, auth: { ...oidc, clientSecretEnv: 'S' } });
    expect(found.map((i) => i.path)).toEqual(['auth.clientId']);
  });
});

describe('literal secrets and restricted headers', () => {
  it('refuses a token pasted where an environment variable name belongs, without echoing it', () => {
    for (const value of [
      'ghp_0123456789abcdef0123456789abcdef0123',
      'sk-live0123456789',
      'aB3dE5gH7jK9mN1pQ3sT5vX7zA',
    ]) {
      const found = issues({ ...base, upstreamAuth: { bearerTokenEnv: value } });
      expect(found.map((i) => i.path)).toEqual(['upstreamAuth.bearerTokenEnv']);
      expect(found[0]?.message).not.toContain(value);
    }
    expect(() =>
      validateRunConfig({
        ...base,
        upstreamAuth: { bearerTokenEnv: 'GITHUB_PERSONAL_ACCESS_TOKEN_FOR_CRM' },
      }),
    ).not.toThrow();
  });

  it('explains why a forwarded header name is refused', () => {
    const found = issues({ ...base, headerForward: { plain: { Host: 'evil.example' } } });
    expect(found).toEqual([
      { path: 'headerForward.plain.Host', message: expect.stringMatching(/restricted/) },
    ]);
  });
});
