import { describe, expect, it } from '@jest/globals';
import { parseRunConfig, RunConfigError, validateRunConfig } from '../src/index.js';

const minimal = {
  schemaVersion: 1,
  name: 'github',
  remoteUrl: 'https://mcp.example.com/mcp',
  auth: { mode: 'anonymous' },
};

function issuesOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RunConfigError);
    expect((err as RunConfigError).code).toBe('ERR_BASTION_RUNCONFIG_INVALID');
    return [...(err as RunConfigError).issues];
  }
  throw new Error('expected a RunConfigError');
}

describe('validateRunConfig', () => {
  it('applies defaults and freezes the result', () => {
    const cfg = validateRunConfig(minimal);
    expect(cfg.transport).toBe('streamable-http');
    expect(cfg.listen).toEqual({ host: '127.0.0.1', port: 8080, path: '/mcp' });
    expect(cfg.limits.maxBodyBytes).toBe(8 * 1024 * 1024);
    expect(Object.isFrozen(cfg.listen)).toBe(true);
  });

  it('names the path of an unknown key, also nested', () => {
    const issues = issuesOf(() =>
      validateRunConfig({ ...minimal, listn: {}, auth: { mode: 'anonymous', usr: 'x' } }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['auth.usr', 'listn']);
    expect(issues[0]?.message).toMatch(/unknown key/);
  });

  it('reports every issue at once with the field path', () => {
    const issues = issuesOf(() =>
      validateRunConfig({
        schemaVersion: 2,
        name: 'Bad Name',
        remoteUrl: 'not a url',
        auth: { mode: 'oidc', issuer: 'https://idp', audience: 'a' },
      }),
    );
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['schemaVersion', 'name', 'remoteUrl', 'auth.resourceUrl']));
  });

  it('refuses a literal secret where an environment variable name is expected', () => {
    const issues = issuesOf(() =>
      validateRunConfig({
        ...minimal,
        auth: {
          mode: 'oidc',
          issuer: 'https://idp.example.com',
          audience: 'bastion',
          resourceUrl: 'https://bastion.example.com/mcp',
          introspectionUrl: 'https://idp.example.com/introspect',
          clientId: 'bastion',
          clientSecretEnv: 's3cr3t-value/with+chars==',
        },
      }),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('auth.clientSecretEnv');
    expect(issues[0]?.message).toMatch(/environment variable/);
    expect(issues[0]?.message).not.toContain('s3cr3t');
  });

  it('refuses restricted and credential-looking forwarded headers', () => {
    const issues = issuesOf(() =>
      validateRunConfig({
        ...minimal,
        headerForward: { plain: { Host: 'x', 'X-Api-Key': 'Bearer abcdefghijkl' } },
      }),
    );
    expect(issues.map((i) => i.path)).toEqual(['headerForward.plain.Host']);
    const secretIssues = issuesOf(() =>
      validateRunConfig({ ...minimal, headerForward: { plain: { 'X-Api-Key': 'Bearer abcdefghijkl' } } }),
    );
    expect(secretIssues[0]?.path).toBe('headerForward.plain.X-Api-Key');
    expect(secretIssues[0]?.message).toMatch(/fromEnv/);
  });

  it('requires a client secret reference for token exchange and an inbound token', () => {
    const issues = issuesOf(() =>
      validateRunConfig({
        ...minimal,
        tokenExchange: { tokenUrl: 'https://sts.example.com/token', clientId: 'c' },
      }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'tokenExchange.clientSecretEnv',
      'tokenExchange.grant',
    ]);
  });
});

describe('parseRunConfig', () => {
  it('accepts YAML and JSON', () => {
    const yaml = parseRunConfig(
      'schemaVersion: 1\nname: demo\nremoteUrl: https://x.example.com/mcp\nauth:\n  mode: anonymous\n',
    );
    const json = parseRunConfig(
      JSON.stringify({ ...minimal, name: 'demo', remoteUrl: 'https://x.example.com/mcp' }),
    );
    expect(yaml).toEqual(json);
  });

  it('reports a syntax error with the source name', () => {
    try {
      parseRunConfig('{"schemaVersion": 1,', { source: 'run.json' });
      throw new Error('expected failure');
    } catch (err) {
      expect((err as RunConfigError).issues[0]?.message).toMatch(/not valid JSON/);
      expect((err as Error).message).toContain('run.json');
    }
  });

  it('rejects duplicate YAML keys instead of silently keeping the last', () => {
    const issues = issuesOf(() => parseRunConfig('schemaVersion: 1\nname: a\nname: b\n'));
    expect(issues[0]?.message).toMatch(/not valid YAML/);
  });
});

describe('limits: inbound client timeouts', () => {
  it('are optional (proxy-core defaults apply) and validated', () => {
    const cfg = validateRunConfig(minimal);
    expect(cfg.limits.clientHeadersTimeoutMs).toBeUndefined();
    expect(cfg.limits.clientRequestTimeoutMs).toBeUndefined();
    const set = validateRunConfig({
      ...minimal,
      limits: { clientHeadersTimeoutMs: 5_000, clientRequestTimeoutMs: 20_000 },
    });
    expect(set.limits).toMatchObject({ clientHeadersTimeoutMs: 5_000, clientRequestTimeoutMs: 20_000 });
    const bad = issuesOf(() => validateRunConfig({ ...minimal, limits: { clientRequestTimeoutMs: 0 } }));
    expect(bad.map((i) => i.path)).toEqual(['limits.clientRequestTimeoutMs']);
  });

  it('refuses a headers timeout longer than the request timeout (also against the 30 000 default)', () => {
    const explicit = issuesOf(() =>
      validateRunConfig({
        ...minimal,
        limits: { clientHeadersTimeoutMs: 9_000, clientRequestTimeoutMs: 8_000 },
      }),
    );
    expect(explicit.map((i) => [i.path, i.message])).toEqual([
      ['limits.clientHeadersTimeoutMs', 'must not exceed limits.clientRequestTimeoutMs (8000)'],
    ]);
    const againstDefault = issuesOf(() =>
      validateRunConfig({ ...minimal, limits: { clientHeadersTimeoutMs: 40_000 } }),
    );
    expect(againstDefault.map((i) => i.path)).toEqual(['limits.clientHeadersTimeoutMs']);
  });
});
