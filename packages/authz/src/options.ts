/** Options of `createAuthzMiddleware`, their defaults and their validation. */
import type { PolicySetInput } from './engine.js';

export interface AuthzOptions extends PolicySetInput {
  /** Entity type of the principal's group parents (from `identity.groups`). Default `Group`. */
  readonly groupEntityType?: string | undefined;
  /** Entity type of the principal's role parents (from `identity.roles`). Default `Role`. */
  readonly roleEntityType?: string | undefined;
  /** What happens to methods authz does not know (sampling, elicitation, tasks, custom). Default `deny`. */
  readonly defaultUnknownMethod?: 'deny' | 'allow' | undefined;
  /** Extra methods forwarded without a decision (in addition to initialize, ping, notifications/* …). Default `[]`. */
  readonly passthroughMethods?: readonly string[] | undefined;
  /**
   * Also evaluate `list_tools` / `list_prompts` / `list_resources` on `MCP::"<server>"` before a list
   * request is forwarded (deny → 403). Default `false`: lists are always answered, and filtered.
   */
  readonly authorizeListRequests?: boolean | undefined;
  /**
   * When to look up the upstream's tool annotations for a `tools/call`: `auto` (default) only when a
   * policy mentions an annotation hint, `always`, or `never`.
   */
  readonly toolAnnotations?: 'auto' | 'always' | 'never' | undefined;
  /** How long cached annotations are trusted, ms. Default 300000 (5 min). */
  readonly annotationCacheTtlMs?: number | undefined;
  /** Minimum time between two `tools/list` side fetches per server, ms. Default 5000. */
  readonly annotationRefreshMinIntervalMs?: number | undefined;
  /** Most `tools/list` pages one side fetch follows. Default 50. */
  readonly maxListPages?: number | undefined;
  /** Reject requests whose `Mcp-Method` / `Mcp-Name` headers disagree with the body. Default `true`. */
  readonly checkMirroredHeaders?: boolean | undefined;
}

export interface ResolvedOptions {
  readonly groupEntityType: string;
  readonly roleEntityType: string;
  readonly defaultUnknownMethod: 'deny' | 'allow';
  readonly passthroughMethods: ReadonlySet<string>;
  readonly authorizeListRequests: boolean;
  readonly toolAnnotations: 'auto' | 'always' | 'never';
  readonly annotationCacheTtlMs: number;
  readonly annotationRefreshMinIntervalMs: number;
  readonly maxListPages: number;
  readonly checkMirroredHeaders: boolean;
}

const ENTITY_TYPE = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;

function entityType(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !ENTITY_TYPE.test(value)) {
    throw new TypeError(`"${name}" must be a Cedar entity type name (e.g. "Group" or "App::Group")`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new TypeError(`"${name}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  return value as T;
}

function nonNegativeInt(value: unknown, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`"${name}" must be an integer >= ${min}`);
  }
  return value;
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`"${name}" must be a boolean`);
  return value;
}

export function resolveOptions(options: AuthzOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const pass = options.passthroughMethods ?? [];
  if (!Array.isArray(pass) || pass.some((m) => typeof m !== 'string' || m === '')) {
    throw new TypeError('"passthroughMethods" must be an array of method names');
  }
  return {
    groupEntityType: entityType(options.groupEntityType, 'groupEntityType', 'Group'),
    roleEntityType: entityType(options.roleEntityType, 'roleEntityType', 'Role'),
    defaultUnknownMethod: oneOf(
      options.defaultUnknownMethod,
      'defaultUnknownMethod',
      ['deny', 'allow'],
      'deny',
    ),
    passthroughMethods: new Set(pass),
    authorizeListRequests: bool(options.authorizeListRequests, 'authorizeListRequests', false),
    toolAnnotations: oneOf(options.toolAnnotations, 'toolAnnotations', ['auto', 'always', 'never'], 'auto'),
    annotationCacheTtlMs: nonNegativeInt(options.annotationCacheTtlMs, 'annotationCacheTtlMs', 300_000),
    annotationRefreshMinIntervalMs: nonNegativeInt(
      options.annotationRefreshMinIntervalMs,
      'annotationRefreshMinIntervalMs',
      5_000,
    ),
    maxListPages: nonNegativeInt(options.maxListPages, 'maxListPages', 50, 1),
    checkMirroredHeaders: bool(options.checkMirroredHeaders, 'checkMirroredHeaders', true),
  };
}
