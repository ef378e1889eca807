import { describe, expect, it } from '@jest/globals';
import { staleCrdFiles } from '../../src/crd/files.js';
import { join } from 'node:path';
import { APP_DIR } from '../helpers/cluster.js';
import { crdFile, validateResource } from '../helpers/schema-validator.js';

const cr = (kind: string, spec: unknown, name = 'p') => ({
  apiVersion: 'bastion-mcp.dev/v1alpha1',
  kind,
  metadata: { name, namespace: 'ns' },
  spec,
});
const mrp = (spec: Record<string, unknown>, name?: string) => cr('MCPRemoteProxy', spec, name);

describe('generated CRD files', () => {
  it('are up to date with src/api/schemas.ts', async () => {
    expect(await staleCrdFiles(join(APP_DIR, 'deploy/crds'))).toEqual([]);
  });

  it('declare names, short name, categories, status subresource and printer columns', () => {
    const crd = crdFile('mcpremoteproxies') as unknown as {
      spec: {
        names: { shortNames: string[]; categories: string[] };
        versions: Array<{
          subresources: object;
          additionalPrinterColumns: Array<{ name: string; jsonPath: string }>;
        }>;
      };
    };
    expect(crd.spec.names.shortNames).toEqual(['mrp']);
    expect(crd.spec.names.categories).toEqual(['bastion']);
    const v = crd.spec.versions[0];
    expect(v?.subresources).toEqual({ status: {} });
    expect(v?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Phase',
      'Remote URL',
      'URL',
      'Ready',
      'Age',
    ]);
  });

  it('carry no constructs a structural schema forbids', () => {
    const text = JSON.stringify(crdFile('mcpremoteproxies'));
    expect(text).not.toContain('"additionalProperties":false');
    expect(text).not.toContain('$schema');
    expect(text).not.toContain('propertyNames');
    expect(text).not.toContain('9007199254740991');
    expect(text).not.toContain('"const"');
  });
});

describe('MCPRemoteProxy schema', () => {
  it('accepts a minimal proxy and applies the defaults', () => {
    const obj = mrp({ remoteUrl: 'https://mcp.example.com/mcp', anonymous: true });
    expect(validateResource(obj)).toEqual([]);
    expect(obj.spec).toMatchObject({ port: 8080, transport: 'streamable-http', allowPrivateEndpoint: false });
    expect(obj.spec).not.toHaveProperty('replicas');
  });

  it.each([
    ['remoteUrl missing', { anonymous: true }, /remoteUrl/],
    ['remoteUrl not http(s)', { remoteUrl: 'ftp://x.example.com', anonymous: true }, /pattern/],
    ['port out of range', { remoteUrl: 'https://x.example.com', anonymous: true, port: 0 }, /port/],
    [
      'transport not in enum',
      { remoteUrl: 'https://x.example.com', anonymous: true, transport: 'stdio' },
      /allowed values/,
    ],
    ['negative replicas', { remoteUrl: 'https://x.example.com', anonymous: true, replicas: -1 }, /replicas/],
    [
      'bad quantity',
      { remoteUrl: 'https://x.example.com', anonymous: true, resources: { limits: { cpu: 'lots' } } },
      /pattern/,
    ],
    [
      'oidc without audience',
      { remoteUrl: 'https://x.example.com', oidcConfig: { issuer: 'https://i.example.com' } },
      /audience/,
    ],
    [
      'bad secret name',
      {
        remoteUrl: 'https://x.example.com',
        anonymous: true,
        headerForward: { fromSecret: [{ header: 'X-K', valueSecretRef: { name: 'Bad_Name', key: 'k' } }] },
      },
      /pattern/,
    ],
  ])('rejects %s (structural rule, enforced by every server)', (_label, spec, message) => {
    expect(validateResource(mrp(spec)).join('\n')).toMatch(message);
  });

  it('rejects names too long for the child objects', () => {
    expect(
      validateResource(mrp({ remoteUrl: 'https://x.example.com', anonymous: true }, 'a'.repeat(58))).join(),
    ).toMatch(/metadata\/name/);
  });

  // CEL rules: dropped by a 1.20 API server, enforced by >= 1.25 and by the operator (ConfigValid=False)
  it.each([
    [
      'no authentication at all',
      { remoteUrl: 'https://x.example.com' },
      /inbound authentication must be explicit/,
    ],
    ['anonymous: false alone', { remoteUrl: 'https://x.example.com', anonymous: false }, /must be explicit/],
    [
      'anonymous together with oidc',
      {
        remoteUrl: 'https://x.example.com',
        anonymous: true,
        oidcConfig: { issuer: 'https://i.example.com', audience: 'a' },
      },
      /exactly one/,
    ],
    [
      'inline and shared oidc',
      {
        remoteUrl: 'https://x.example.com',
        oidcConfig: { issuer: 'https://i.example.com', audience: 'a' },
        oidcConfigRef: { name: 'o', audience: 'a' },
      },
      /exactly one/,
    ],
    [
      'authz with both policies and configMapRef',
      {
        remoteUrl: 'https://x.example.com',
        anonymous: true,
        authz: { policies: ['permit(principal, action, resource);'], configMapRef: { name: 'c' } },
      },
      /exactly one of authz.policies/,
    ],
    [
      'authz with neither',
      { remoteUrl: 'https://x.example.com', anonymous: true, authz: {} },
      /exactly one of authz.policies/,
    ],
    [
      'client secret without client id',
      {
        remoteUrl: 'https://x.example.com',
        oidcConfig: {
          issuer: 'https://i.example.com',
          audience: 'a',
          clientSecretRef: { name: 's', key: 'k' },
        },
      },
      /clientSecretRef needs clientId/,
    ],
    [
      'a header both plain and from a Secret',
      {
        remoteUrl: 'https://x.example.com',
        anonymous: true,
        headerForward: {
          plain: { 'X-A': '1' },
          fromSecret: [{ header: 'X-A', valueSecretRef: { name: 's', key: 'k' } }],
        },
      },
      /both in headerForward.plain/,
    ],
  ])('rejects %s (CEL rule)', (_label, spec, message) => {
    expect(validateResource(mrp(spec)).join('\n')).toMatch(message);
  });
});

describe('companion kinds', () => {
  const secretRef = { name: 's', key: 'k' };
  it('MCPExternalAuthConfig needs the block named by type', () => {
    const ok = cr('MCPExternalAuthConfig', {
      type: 'clientCredentials',
      clientCredentials: {
        tokenUrl: 'https://t.example.com/token',
        clientId: 'c',
        clientSecretRef: secretRef,
      },
    });
    expect(validateResource(ok)).toEqual([]);
    const mismatch = cr('MCPExternalAuthConfig', {
      type: 'tokenExchange',
      clientCredentials: {
        tokenUrl: 'https://t.example.com/token',
        clientId: 'c',
        clientSecretRef: secretRef,
      },
    });
    expect(validateResource(mismatch).join()).toMatch(/exactly the block named by type/);
    expect(validateResource(cr('MCPExternalAuthConfig', { type: 'basic' })).join()).toMatch(/allowed values/);
  });

  it('MCPExternalAuthConfig headerInjection defaults the header to Authorization', () => {
    const obj = cr('MCPExternalAuthConfig', {
      type: 'headerInjection',
      headerInjection: { valueSecretRef: secretRef },
    });
    expect(validateResource(obj)).toEqual([]);
    expect(obj.spec).toMatchObject({ headerInjection: { headerName: 'Authorization' } });
  });

  it('MCPToolConfig and MCPOIDCConfig validate their fields', () => {
    expect(validateResource(cr('MCPToolConfig', { filter: ['a'], overrides: { a: { name: 'b' } } }))).toEqual(
      [],
    );
    expect(validateResource(cr('MCPToolConfig', { filter: [''] })).join()).toMatch(/fewer than 1/);
    expect(validateResource(cr('MCPOIDCConfig', { issuer: 'https://i.example.com' }))).toEqual([]);
    expect(validateResource(cr('MCPOIDCConfig', { jwksUrl: 'https://i.example.com/jwks' })).join()).toMatch(
      /issuer/,
    );
  });
});
