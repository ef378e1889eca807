/** Tool-filter configuration: validated and compiled once, at construction. */

export interface ToolOverride {
  /** New user-facing name. */
  name?: string | undefined;
  /** Human-readable title shown by clients (MCP 2025-06-18+). */
  title?: string | undefined;
  description?: string | undefined;
  /** Merged over the upstream's annotations (keys given here win). */
  annotations?: Readonly<Record<string, unknown>> | undefined;
}

export interface ToolFilterOptions {
  /** Allow-list of user-facing (post-rename) tool names. Omit to allow every tool. */
  filter?: readonly string[] | undefined;
  /** Per real (upstream) tool name: new name, title, description and/or annotations. */
  overrides?: Readonly<Record<string, ToolOverride>> | undefined;
}

/** The compiled rules. */
export interface ToolRules {
  /** User-facing names allowed, or `undefined` for all. */
  readonly allow: ReadonlySet<string> | undefined;
  /** Real name → override. */
  readonly overrides: ReadonlyMap<string, ToolOverride>;
  /** User-facing name → real name, for renamed tools. */
  readonly userToReal: ReadonlyMap<string, string>;
  /** Real names renamed away: not callable under their real name and not listed under it. */
  readonly hidden: ReadonlySet<string>;
}

const MAX_NAME = 512;

function checkName(label: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NAME || v.trim() !== v) {
    throw new TypeError(
      `${label} must be a non-empty string without surrounding spaces (at most ${MAX_NAME} characters)`,
    );
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function compileToolRules(options: ToolFilterOptions): ToolRules {
  if (!isPlainObject(options)) throw new TypeError('tool-filter options must be an object');
  const { filter, overrides } = options;
  if (filter === undefined && overrides === undefined) {
    throw new TypeError('tool-filter needs "filter" and/or "overrides"');
  }

  const ov = new Map<string, ToolOverride>();
  if (overrides !== undefined) {
    if (!isPlainObject(overrides))
      throw new TypeError('"overrides" must be an object keyed by real tool name');
    for (const [real, o] of Object.entries(overrides)) {
      checkName(`"overrides" key ${JSON.stringify(real)}`, real);
      if (!isPlainObject(o)) throw new TypeError(`"overrides.${real}" must be an object`);
      const unknown = Object.keys(o).filter(
        (k) => !['name', 'title', 'description', 'annotations'].includes(k),
      );
      if (unknown.length > 0)
        throw new TypeError(`"overrides.${real}" has unknown keys: ${unknown.join(', ')}`);
      if (o.name !== undefined) checkName(`"overrides.${real}.name"`, o.name);
      for (const k of ['title', 'description'] as const) {
        if (o[k] !== undefined && typeof o[k] !== 'string')
          throw new TypeError(`"overrides.${real}.${k}" must be a string`);
      }
      if (o.annotations !== undefined && !isPlainObject(o.annotations)) {
        throw new TypeError(`"overrides.${real}.annotations" must be an object`);
      }
      if (
        o.name === undefined &&
        o.title === undefined &&
        o.description === undefined &&
        o.annotations === undefined
      ) {
        throw new TypeError(
          `"overrides.${real}" must set at least one of name, title, description, annotations`,
        );
      }
      ov.set(real, { ...o });
    }
  }

  // Final user-facing name of every overridden tool; two tools must never end up with one name.
  const finalOwner = new Map<string, string>();
  for (const [real, o] of ov) {
    const finalName = o.name ?? real;
    const other = finalOwner.get(finalName);
    if (other !== undefined) {
      throw new TypeError(`"overrides": tools "${other}" and "${real}" would both be named "${finalName}"`);
    }
    finalOwner.set(finalName, real);
  }
  const userToReal = new Map<string, string>();
  const hidden = new Set<string>();
  for (const [real, o] of ov) {
    if (o.name !== undefined && o.name !== real) {
      userToReal.set(o.name, real);
      if (!finalOwner.has(real)) hidden.add(real);
    }
  }

  let allow: Set<string> | undefined;
  if (filter !== undefined) {
    if (!Array.isArray(filter)) throw new TypeError('"filter" must be an array of tool names');
    if (filter.length === 0) throw new TypeError('"filter" must not be empty (omit it to allow every tool)');
    allow = new Set();
    for (const [i, n] of filter.entries()) {
      const name = checkName(`"filter[${i}]"`, n);
      if (hidden.has(name)) {
        const renamed = ov.get(name)?.name;
        throw new TypeError(
          `"filter" lists "${name}", the real name of a tool renamed to "${renamed}"; list user-facing names`,
        );
      }
      allow.add(name);
    }
  }
  return { allow, overrides: ov, userToReal, hidden };
}

/** The real name to call for a user-facing name, or `undefined` when the client may not call it. */
export function resolveCall(rules: ToolRules, userName: string): string | undefined {
  if (rules.allow && !rules.allow.has(userName)) return undefined;
  const renamed = rules.userToReal.get(userName);
  if (renamed !== undefined) return renamed;
  if (rules.hidden.has(userName)) return undefined;
  return userName;
}
