import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { validateRunConfig } from '@bastion-mcp/runner';
import { desiredState } from '../../src/desired/desired-state.js';
import type { KubeObject, ProxyObject, RefKind } from '../../src/desired/types.js';
import { APP_DIR } from '../helpers/cluster.js';
import { validateResource } from '../helpers/schema-validator.js';

const dir = join(APP_DIR, 'examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('examples/*.yaml', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s is valid and deploys', (file) => {
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map(
      (d) => d.toJS() as KubeObject & Record<string, unknown>,
    );
    const objects = new Map<string, KubeObject>();
    const proxies: ProxyObject[] = [];
    for (const doc of docs) {
      if (doc.apiVersion === 'bastion-mcp.dev/v1alpha1') expect(validateResource(doc)).toEqual([]);
      if (doc.kind === 'Secret' && doc.stringData) {
        // what the API server does with stringData
        doc.data = Object.fromEntries(
          Object.entries(doc.stringData as Record<string, string>).map(([k, v]) => [
            k,
            Buffer.from(v).toString('base64'),
          ]),
        );
      }
      doc.metadata = { ...doc.metadata, uid: `uid-${doc.metadata?.name}`, resourceVersion: '1' };
      if (doc.kind === 'MCPRemoteProxy') proxies.push(doc as ProxyObject);
      else objects.set(`${doc.kind}/${doc.metadata?.name}`, doc);
    }
    expect(proxies.length).toBeGreaterThan(0);
    for (const p of proxies) {
      const d = desiredState(p, (kind: RefKind, name: string) => objects.get(`${kind}/${name}`), {
        image: 'img',
        clusterDomain: 'cluster.local',
        insecureLoopback: false,
      });
      expect(d.conditions).toMatchObject({
        ConfigValid: { status: 'True' },
        ReferencesResolved: { status: 'True' },
        AuthConfigured: { status: 'True' },
      });
      const cm = d.children?.find((c) => c.kind === 'ConfigMap');
      expect(() => validateRunConfig(JSON.parse(cm?.data?.['runconfig.json'] ?? ''))).not.toThrow();
    }
  });
});
