/**
 * Validates custom resources against the GENERATED CRD files (deploy/crds/*.yaml) the way an API
 * server would: structural OpenAPI checks with defaulting (ajv), plus the CEL
 * `x-kubernetes-validations`, which ajv cannot evaluate: each CEL rule is mapped to the JavaScript
 * twin declared next to it in src/api/rules.ts (an unknown rule fails the validation).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { allRules } from '../../src/api/rules.js';
import { APP_DIR } from './cluster.js';

interface Crd {
  spec: { names: { kind: string; plural: string }; versions: Array<{ schema: { openAPIV3Schema: object } }> };
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields' });
  ajv.addKeyword({ keyword: 'x-kubernetes-list-type' });
  ajv.addKeyword({ keyword: 'x-kubernetes-list-map-keys' });
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    errors: true,
    validate: function celTwin(
      this: unknown,
      rules: Array<{ rule: string; message: string }>,
      data: unknown,
    ) {
      const errors: Partial<ErrorObject>[] = [];
      for (const r of rules) {
        const twin = allRules.get(r.rule);
        if (!twin) errors.push({ message: `no JavaScript twin for CEL rule ${r.rule}` });
        else if (!twin.check(data as Record<string, unknown>)) errors.push({ message: r.message });
      }
      (celTwin as unknown as { errors: Partial<ErrorObject>[] }).errors = errors;
      return errors.length === 0;
    },
  });
  return ajv;
}

const ajv = makeAjv();
const validators = new Map<string, ReturnType<Ajv['compile']>>();

export function crdFile(plural: string): Crd {
  return parse(readFileSync(join(APP_DIR, 'deploy/crds', `bastion-mcp.dev_${plural}.yaml`), 'utf8')) as Crd;
}

for (const plural of ['mcpremoteproxies', 'mcpexternalauthconfigs', 'mcptoolconfigs', 'mcpoidcconfigs']) {
  const crd = crdFile(plural);
  const schema = crd.spec.versions[0]?.schema.openAPIV3Schema;
  if (!schema) throw new Error(`no schema in ${plural}`);
  validators.set(crd.spec.names.kind, ajv.compile(schema));
}

/** Validate (and default, in place) one custom resource; returns the error messages. */
export function validateResource(obj: Record<string, unknown>): string[] {
  const validate = validators.get(String(obj.kind));
  if (!validate) throw new Error(`no CRD for kind ${String(obj.kind)}`);
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
}
