/**
 * Reading policy, schema and entities sources (inline text or files) and splitting policy text into
 * individual policies with stable ids and their position in the source, so every later error can
 * name the source file, the policy id and the line.
 */
import { readFileSync } from 'node:fs';
import type { Cedar, DetailedError } from './cedar.js';
import { type AuthzConfigIssue, AuthzConfigError, AuthzErrorCode } from './errors.js';
import { byteLength, lineColumnAt } from './source-location.js';

/** One text a policy set is built from. */
export interface PolicySource {
  /** `policies[0]`, or the file path. */
  readonly name: string;
  readonly text: string;
}

/** One policy after splitting, with where it came from. */
export interface PolicyEntry {
  readonly id: string;
  readonly text: string;
  readonly source: string;
  /** Byte offset of the policy text inside its source (to map Cedar locations back to lines). */
  readonly offset: number;
  /** Full text of the source (for line numbers). */
  readonly sourceText: string;
}

export function readSourceFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuthzConfigError(
      AuthzErrorCode.SourceUnreadable,
      `Cannot read the ${what} file "${path}": ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      [],
      { cause: err },
    );
  }
}

export function describeCedarError(e: DetailedError): string {
  const help = e.help ? ` (${e.help})` : '';
  const label = e.sourceLocations?.find((l) => l.label)?.label;
  return `${e.message}${label ? `: ${label}` : ''}${help}`;
}

/** Issues for Cedar errors whose locations are byte offsets into `text` (starting at `base`). */
export function issuesFromCedarErrors(
  errors: readonly DetailedError[],
  source: string,
  text: string,
  base = 0,
  policyId?: string,
): AuthzConfigIssue[] {
  return errors.map((e) => {
    const loc = e.sourceLocations?.[0];
    const lc = loc ? lineColumnAt(text, base + loc.start) : undefined;
    return { source, policyId, line: lc?.line, column: lc?.column, message: describeCedarError(e) };
  });
}

const ID_ANNOTATION = 'id';

/**
 * Split every source into single policies. Ids come from an `@id("…")` annotation when present,
 * otherwise `policy<N>` numbered across all sources in order (the reference's scheme).
 * @throws AuthzConfigError `ERR_BASTION_AUTHZ_POLICY_INVALID` with one issue per broken source (line and column),
 *   for templates (not supported) and for duplicate ids.
 */
export function splitPolicies(cedar: Cedar, sources: readonly PolicySource[]): PolicyEntry[] {
  const issues: AuthzConfigIssue[] = [];
  const entries: PolicyEntry[] = [];
  const seen = new Map<string, string>();
  let counter = 0;
  for (const src of sources) {
    const parts = cedar.policySetTextToParts(src.text);
    if (parts.type === 'failure') {
      issues.push(...issuesFromCedarErrors(parts.errors, src.name, src.text));
      continue;
    }
    if (parts.policy_templates.length > 0) {
      issues.push({
        source: src.name,
        message: 'policy templates (?principal / ?resource slots) are not supported',
      });
      continue;
    }
    if (parts.policies.length === 0) {
      issues.push({ source: src.name, message: 'contains no policy' });
      continue;
    }
    let cursor = 0;
    for (const text of parts.policies) {
      const at = src.text.indexOf(text, cursor);
      const offset = at < 0 ? 0 : byteLength(src.text.slice(0, at));
      if (at >= 0) cursor = at + text.length;
      const json = cedar.policyToJson(text);
      const annotated = json.type === 'success' ? json.json.annotations?.[ID_ANNOTATION] : undefined;
      const id = annotated ?? `policy${counter}`;
      counter += 1;
      const previous = seen.get(id);
      if (previous !== undefined) {
        const lc = lineColumnAt(src.text, offset);
        issues.push({
          source: src.name,
          policyId: id,
          line: lc.line,
          column: lc.column,
          message: `duplicate policy id (also used in ${previous})`,
        });
        continue;
      }
      seen.set(id, src.name);
      entries.push({ id, text, source: src.name, offset, sourceText: src.text });
    }
  }
  if (issues.length > 0) {
    throw new AuthzConfigError(AuthzErrorCode.PolicyInvalid, 'Invalid Cedar policies', issues);
  }
  return entries;
}
