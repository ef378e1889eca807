/**
 * zod → JSON Schema → Kubernetes structural schema (apiextensions.k8s.io/v1 `openAPIV3Schema`).
 * Structural schemas forbid `additionalProperties` next to `properties`, `$schema`, `const` and
 * `propertyNames`; unbounded integers carry no ±2^53 limits; everything else zod emits for the
 * constructs used in `api/schemas.ts` is already valid.
 */
import { z } from 'zod';

type Json = Record<string, unknown>;

const SAFE_MAX = Number.MAX_SAFE_INTEGER;

export function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (!node || typeof node !== 'object') return node;
  const src = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === '$schema' || k === 'propertyNames' || k === 'id' || k === '$id') continue;
    if (k === 'additionalProperties' && v === false) continue;
    if ((k === 'maximum' && v === SAFE_MAX) || (k === 'minimum' && v === -SAFE_MAX)) continue;
    if (k === 'const') {
      out.enum = [v];
      continue;
    }
    if (k === 'properties' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, structural(s)]));
      continue;
    }
    out[k] = structural(v);
  }
  // `preserve-unknown-fields` objects: zod emits additionalProperties {} for z.record(string, unknown)
  if (out['x-kubernetes-preserve-unknown-fields'] === true) delete out.additionalProperties;
  return out;
}

/** The structural OpenAPI v3 schema of one zod type (input side: defaults are optional). */
export function toOpenApi(schema: z.ZodType): Json {
  return structural(z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' })) as Json;
}
