/** CustomResourceDefinition objects for every kind of `api/schemas.ts`. */
import { API_GROUP, API_VERSION, KINDS, type KindDefinition } from '../api/schemas.js';
import { toOpenApi } from './openapi.js';

export const CRD_CATEGORY = 'bastion';

export function crdFor(def: KindDefinition): Record<string, unknown> {
  const metadataSchema: Record<string, unknown> = { type: 'object' };
  if (def.maxNameLength) {
    metadataSchema.properties = {
      name: {
        type: 'string',
        maxLength: def.maxNameLength,
        pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
      },
    };
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${API_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'bastion', 'app.kubernetes.io/name': 'bastion-operator' },
    },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [CRD_CATEGORY],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: metadataSchema,
                spec: toOpenApi(def.spec),
                status: toOpenApi(def.status),
              },
            },
          },
        },
      ],
    },
  };
}

/** Every CRD, keyed by its file name under deploy/crds/. */
export function allCrds(): Array<{ file: string; crd: Record<string, unknown> }> {
  return KINDS.map((def) => ({ file: `${API_GROUP}_${def.plural}.yaml`, crd: crdFor(def) }));
}
