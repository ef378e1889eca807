/**
 * Parsing and validating RunConfig text (JSON or YAML). Every problem is reported with its JSON path;
 * the result is deep-frozen so the configuration cannot change after start-up.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { RunConfigError, type RunConfigIssue } from '../errors.js';
import { type RunConfig, runConfigSchema } from './schema.js';
import { semanticIssues } from './semantic-checks.js';

const JWT_LIKE = /^(?:Bearer\s+)?eyJ[\w-]*\.[\w-]+\.[\w-]*$/i;
const BEARER_LIKE = /^(?:Bearer|Basic|Token)\s+\S{8,}/i;

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function issuesFromZod(error: z.ZodError): RunConfigIssue[] {
  const out: RunConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          path: formatPath([...issue.path, key]),
          message: 'unknown key (check the spelling; see the RunConfig reference)',
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A record key refused by its own rule (e.g. a restricted header name): report that rule's message.
      const inner = issue.issues.map((i) => i.message).join('; ');
      out.push({ path: formatPath(issue.path), message: inner ? `invalid key: ${inner}` : issue.message });
      continue;
    }
    if (issue.code === 'invalid_union' && 'discriminator' in issue) {
      out.push({ path: formatPath(issue.path), message: issue.message });
      continue;
    }
    out.push({ path: formatPath(issue.path), message: issue.message });
  }
  return out;
}

/** Known credential prefixes (GitHub, GitLab, Slack, Stripe, OpenAI-style, AWS access keys). */
const TOKEN_PREFIX = /^(?:gh[pousr]_|github_pat_|glpat-|xox[abprs]-|sk_(?:live|test)_|sk-|AKIA[0-9A-Z]{12})/;

/** An environment-variable *name* that is really a secret value pasted in its place. */
function looksLikeSecretValue(name: string): boolean {
  if (TOKEN_PREFIX.test(name)) return true;
  // Variable names are words; long mixed-case alphanumeric runs are keys and tokens.
  return name.length >= 24 && /[a-z]/.test(name) && /[A-Z0-9]/.test(name) && !/_[A-Za-z]+_/.test(name);
}

function envNameFields(cfg: RunConfig): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (cfg.auth.mode === 'oidc' && cfg.auth.clientSecretEnv)
    out.push(['auth.clientSecretEnv', cfg.auth.clientSecretEnv]);
  const te = cfg.tokenExchange;
  if (te?.clientSecretEnv) out.push(['tokenExchange.clientSecretEnv', te.clientSecretEnv]);
  if (te?.privateKeyEnv) out.push(['tokenExchange.privateKeyEnv', te.privateKeyEnv]);
  if (cfg.upstreamAuth?.bearerTokenEnv)
    out.push(['upstreamAuth.bearerTokenEnv', cfg.upstreamAuth.bearerTokenEnv]);
  for (const [h, v] of Object.entries(cfg.headerForward?.fromEnv ?? {}))
    out.push([`headerForward.fromEnv.${h}`, v]);
  return out;
}

/** Values that look like a credential typed straight into a non-secret field. */
function literalSecretIssues(cfg: RunConfig): RunConfigIssue[] {
  const out: RunConfigIssue[] = [];
  for (const [path, name] of envNameFields(cfg)) {
    if (looksLikeSecretValue(name)) {
      out.push({
        path,
        message: `must name an environment variable that holds the secret, not the secret itself (got a value of ${name.length} characters that looks like a credential)`,
      });
    }
  }
  for (const [name, value] of Object.entries(cfg.headerForward?.plain ?? {})) {
    if (name.toLowerCase() === 'authorization' || JWT_LIKE.test(value) || BEARER_LIKE.test(value)) {
      out.push({
        path: `headerForward.plain.${name}`,
        message:
          'looks like a credential; secrets never go in the RunConfig: put it in an environment variable and use headerForward.fromEnv (or upstreamAuth.bearerTokenEnv)',
      });
    }
  }
  return out;
}

const MISSING_AUTH =
  'required: configure inbound authentication ({ "mode": "oidc", ... }), or set { "mode": "anonymous" } explicitly to run without it';

/** Validate an already-parsed value as a RunConfig. Throws `RunConfigError` listing every issue. */
export function validateRunConfig(value: unknown, source?: string): RunConfig {
  const parsed = runConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error);
    const authMissing =
      value !== null && typeof value === 'object' && (value as { auth?: unknown }).auth === undefined;
    throw new RunConfigError(
      issues.map((i) => (authMissing && i.path === 'auth' ? { path: 'auth', message: MISSING_AUTH } : i)),
      source,
    );
  }
  const extra = [...literalSecretIssues(parsed.data), ...semanticIssues(parsed.data)];
  if (extra.length > 0) throw new RunConfigError(extra, source);
  return deepFreeze(parsed.data);
}

/** Parse RunConfig text; JSON when it starts with `{`, YAML otherwise (or as `format` says). */
export function parseRunConfig(
  text: string,
  options: { source?: string; format?: 'json' | 'yaml' } = {},
): RunConfig {
  const format = options.format ?? (/^\s*\{/.test(text) ? 'json' : 'yaml');
  let value: unknown;
  try {
    value = format === 'json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new RunConfigError(
      [{ path: '(root)', message: `not valid ${format.toUpperCase()}: ${detail}` }],
      options.source,
      {
        cause: err,
      },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RunConfigError([{ path: '(root)', message: 'must be an object (mapping)' }], options.source);
  }
  return validateRunConfig(value, options.source);
}

/** Read and validate a RunConfig file (`.json`, `.yaml` or `.yml`). */
export async function loadRunConfigFile(path: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RunConfigError([{ path: '(file)', message: `cannot read ${path}: ${code ?? 'error'}` }], path, {
      cause: err,
    });
  }
  const format = /\.json$/i.test(path) ? 'json' : /\.ya?ml$/i.test(path) ? 'yaml' : undefined;
  return parseRunConfig(text, { source: path, ...(format ? { format } : {}) });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
