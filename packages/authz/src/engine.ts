/**
 * The policy engine: a Cedar policy set parsed and validated once, kept pre-parsed inside the wasm
 * module, plus the static entities (group hierarchy …). `evaluate` is the decision function every
 * request and every list item goes through.
 */
import { randomUUID } from 'node:crypto';
import type { Cedar, CedarValueJson, EntityJson, EntityUidJson, Schema, TypeAndId } from './cedar.js';
import { loadCedar } from './cedar.js';
import { type AuthzConfigIssue, AuthzConfigError, AuthzErrorCode } from './errors.js';
import {
  describeCedarError,
  issuesFromCedarErrors,
  type PolicyEntry,
  type PolicySource,
  readSourceFile,
  splitPolicies,
} from './policy-source.js';

/** What the engine is built from. Files are read when the engine is created. */
export interface PolicySetInput {
  /** Inline Cedar policy texts; each may hold several policies. */
  readonly policies?: readonly string[] | undefined;
  /** Paths of `.cedar` files. */
  readonly policyFiles?: readonly string[] | undefined;
  /** Static entities: a Cedar entities JSON array, or its JSON text. */
  readonly entities?: readonly EntityJson[] | string | undefined;
  /** Path of a Cedar entities JSON file. */
  readonly entitiesFile?: string | undefined;
  /** Cedar schema (text or JSON) to validate the policies against at load. */
  readonly schema?: Schema | undefined;
  /** Path of a Cedar schema file (`.cedarschema` text, or `.json`). */
  readonly schemaFile?: string | undefined;
  /** What an evaluation error in any policy means: `deny` (default, fail closed) or `ignore` (Cedar's own semantics). */
  readonly onEvaluationError?: 'deny' | 'ignore' | undefined;
  /**
   * How many decisions to remember (least recently used evicted first: a hit moves a decision to the
   * young end once it has aged past half the cache). Cedar evaluation is a pure
   * function of the policy set, the static entities and the request, so an identical request (same
   * principal with the same claims, action, resource, arguments) gets the remembered decision without
   * a round trip through the wasm engine. Requests whose serialised form exceeds 4 KiB are never
   * cached. Default 1000; `0` disables.
   */
  readonly decisionCacheSize?: number | undefined;
}

/** A Cedar authorization request. */
export interface EvaluationRequest {
  readonly principal: TypeAndId;
  readonly action: TypeAndId;
  readonly resource: TypeAndId;
  readonly context: Record<string, CedarValueJson>;
  /** Per-request entities (principal, resource); they replace static entities with the same uid. */
  readonly entities: readonly EntityJson[];
}

export interface EvaluationError {
  readonly policyId: string;
  readonly message: string;
}

export interface Decision {
  readonly decision: 'allow' | 'deny';
  /** Ids of the policies that determined the decision (permits for allow, forbids for deny). */
  readonly policyIds: string[];
  /** Short human-readable explanation; names policy ids, never policy text or claim values. */
  readonly reason: string;
  readonly errors: readonly EvaluationError[];
}

function uidKey(uid: EntityUidJson): string {
  const t = '__entity' in uid ? uid.__entity : uid;
  return `${t.type}\u0000${t.id}`;
}

function asArray(value: unknown, source: string): EntityJson[] {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new AuthzConfigError(AuthzErrorCode.EntitiesInvalid, 'Invalid Cedar entities', [
        { source, message: `not JSON: ${(err as Error).message}` },
      ]);
    }
  }
  if (!Array.isArray(parsed)) {
    throw new AuthzConfigError(AuthzErrorCode.EntitiesInvalid, 'Invalid Cedar entities', [
      { source, message: 'must be a JSON array of entities' },
    ]);
  }
  return parsed as EntityJson[];
}

function schemaFrom(
  input: PolicySetInput,
): { schema: Schema; text: string | undefined; source: string } | undefined {
  if (input.schema !== undefined) {
    return {
      schema: input.schema,
      text: typeof input.schema === 'string' ? input.schema : undefined,
      source: 'schema',
    };
  }
  if (input.schemaFile === undefined) return undefined;
  const text = readSourceFile(input.schemaFile, 'schema');
  if (input.schemaFile.endsWith('.json')) {
    try {
      return { schema: JSON.parse(text) as Schema, text: undefined, source: input.schemaFile };
    } catch (err) {
      throw new AuthzConfigError(AuthzErrorCode.SchemaInvalid, 'Invalid Cedar schema', [
        { source: input.schemaFile, message: `not JSON: ${(err as Error).message}` },
      ]);
    }
  }
  return { schema: text, text, source: input.schemaFile };
}

let engineCounter = 0;

/** Requests longer than this (serialised) are evaluated without the decision cache. */
const MAX_CACHED_KEY_LENGTH = 4096;

/**
 * The engine's internal entry point for callers that identify a request by a key of their own (see
 * `requestKey` in entity-model.ts) and build it only when it must be evaluated. Not exported from
 * the package.
 */
export const EVALUATE_KEYED: unique symbol = Symbol('bastion.authz.evaluateKeyed');

/** Keys of EVALUATE_KEYED entries start with this; `cacheKey`'s JSON starts with `[`. */
const KEYED_PREFIX = '\u0001';

interface CachedDecision {
  readonly decision: Decision;
  /** When the entry was inserted or last moved to the young end (`#seq` then). */
  seq: number;
}

function cacheKey(request: EvaluationRequest): string {
  return JSON.stringify([
    request.principal,
    request.action,
    request.resource,
    request.context,
    request.entities,
  ]);
}

/** A cached decision handed out: arrays copied so a caller cannot alter the cached one. */
function copyDecision(d: Decision): Decision {
  return { ...d, policyIds: [...d.policyIds] };
}

export class PolicyEngine {
  readonly #cedar: Cedar;
  readonly #policySetId: string;
  readonly #staticEntities: EntityJson[];
  readonly #staticKeys: Map<string, number>;
  readonly #failClosed: boolean;
  readonly #cacheSize: number;
  /** A hit older than this many insertions is moved to the young end of the LRU order. */
  readonly #bumpAge: number;
  /** Decisions by request key; Map order is the LRU order (oldest first), approximately (see `#hit`). */
  readonly #decisions = new Map<string, CachedDecision>();
  #seq = 0;
  /** The policies, in order, with their ids and sources. */
  readonly policies: readonly PolicyEntry[];

  private constructor(
    cedar: Cedar,
    policySetId: string,
    policies: PolicyEntry[],
    entities: EntityJson[],
    failClosed: boolean,
    cacheSize: number,
  ) {
    this.#cedar = cedar;
    this.#policySetId = policySetId;
    this.policies = policies;
    this.#staticEntities = entities;
    this.#staticKeys = new Map(entities.map((e, i) => [uidKey(e.uid), i]));
    this.#failClosed = failClosed;
    this.#cacheSize = cacheSize;
    this.#bumpAge = Math.max(1, Math.floor(cacheSize / 2));
  }

  /**
   * Read, parse, validate and pre-parse a policy set.
   * @throws AuthzConfigError on any problem, listing every issue with its source, policy id and line.
   */
  static async create(input: PolicySetInput): Promise<PolicyEngine> {
    const sources: PolicySource[] = [];
    if (input.policies !== undefined && !Array.isArray(input.policies)) {
      throw new TypeError('"policies" must be an array of Cedar policy strings');
    }
    if (input.policyFiles !== undefined && !Array.isArray(input.policyFiles)) {
      throw new TypeError('"policyFiles" must be an array of file paths');
    }
    (input.policies ?? []).forEach((text, i) => {
      if (typeof text !== 'string') throw new TypeError(`"policies[${i}]" must be a string`);
      sources.push({ name: `policies[${i}]`, text });
    });
    for (const path of input.policyFiles ?? []) {
      if (typeof path !== 'string' || path === '')
        throw new TypeError('"policyFiles" entries must be non-empty strings');
      sources.push({ name: path, text: readSourceFile(path, 'policy') });
    }
    if (sources.length === 0) {
      throw new AuthzConfigError(
        AuthzErrorCode.NoPolicies,
        'No Cedar policies configured: set "policies" or "policyFiles" (an empty policy set denies everything)',
      );
    }
    const onError = input.onEvaluationError ?? 'deny';
    if (onError !== 'deny' && onError !== 'ignore') {
      throw new TypeError('"onEvaluationError" must be "deny" or "ignore"');
    }
    const cacheSize = input.decisionCacheSize ?? 1000;
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
      throw new TypeError('"decisionCacheSize" must be a non-negative integer');
    }

    const cedar = await loadCedar();
    const policies = splitPolicies(cedar, sources);
    const staticPolicies: Record<string, string> = {};
    for (const p of policies) staticPolicies[p.id] = p.text;

    const schema = schemaFrom(input);
    if (schema) {
      const parsed = cedar.checkParseSchema(schema.schema);
      if (parsed.type === 'failure') {
        throw new AuthzConfigError(
          AuthzErrorCode.SchemaInvalid,
          'Invalid Cedar schema',
          schema.text === undefined
            ? parsed.errors.map((e) => ({ source: schema.source, message: describeCedarError(e) }))
            : issuesFromCedarErrors(parsed.errors, schema.source, schema.text),
        );
      }
      const answer = cedar.validate({ schema: schema.schema, policies: { staticPolicies } });
      if (answer.type === 'failure') {
        throw new AuthzConfigError(
          AuthzErrorCode.PolicyValidation,
          'Cedar validation failed',
          answer.errors.map((e) => ({ source: schema.source, message: describeCedarError(e) })),
        );
      }
      if (answer.validationErrors.length > 0) {
        const byId = new Map(policies.map((p) => [p.id, p]));
        const issues: AuthzConfigIssue[] = answer.validationErrors.map((v) => {
          const p = byId.get(v.policyId);
          if (!p) return { source: 'policies', policyId: v.policyId, message: describeCedarError(v.error) };
          return issuesFromCedarErrors(
            [v.error],
            p.source,
            p.sourceText,
            p.offset,
            p.id,
          )[0] as AuthzConfigIssue;
        });
        throw new AuthzConfigError(
          AuthzErrorCode.PolicyValidation,
          'Cedar policies do not match the schema',
          issues,
        );
      }
    }

    let entities: EntityJson[] = [];
    let entitiesSource = 'entities';
    if (input.entities !== undefined) entities = asArray(input.entities, 'entities');
    else if (input.entitiesFile !== undefined) {
      entitiesSource = input.entitiesFile;
      entities = asArray(readSourceFile(input.entitiesFile, 'entities'), input.entitiesFile);
    }
    if (entities.length > 0) {
      const check = cedar.checkParseEntities({ entities, schema: schema?.schema ?? null });
      if (check.type === 'failure') {
        throw new AuthzConfigError(
          AuthzErrorCode.EntitiesInvalid,
          'Invalid Cedar entities',
          check.errors.map((e) => ({ source: entitiesSource, message: describeCedarError(e) })),
        );
      }
    }

    engineCounter += 1;
    const id = `bastion-authz-${engineCounter}-${randomUUID()}`;
    const pre = cedar.preparsePolicySet(id, { staticPolicies });
    if (pre.type === 'failure') {
      throw new AuthzConfigError(
        AuthzErrorCode.PolicyInvalid,
        'Invalid Cedar policies',
        pre.errors.map((e) => ({ source: 'policies', message: describeCedarError(e) })),
      );
    }
    return new PolicyEngine(cedar, id, policies, entities, onError === 'deny', cacheSize);
  }

  /** Whether any policy text mentions one of `words` (used to skip work no policy needs). */
  mentions(words: readonly string[]): boolean {
    return this.policies.some((p) => words.some((w) => p.text.includes(w)));
  }

  #entities(request: readonly EntityJson[]): EntityJson[] {
    if (this.#staticEntities.length === 0) return request as EntityJson[];
    let shadowed: Set<number> | undefined;
    for (const e of request) {
      const i = this.#staticKeys.get(uidKey(e.uid));
      if (i === undefined) continue;
      shadowed ??= new Set();
      shadowed.add(i);
    }
    const base = shadowed ? this.#staticEntities.filter((_, i) => !shadowed.has(i)) : this.#staticEntities;
    return base.concat(request);
  }

  /** Decisions currently remembered (diagnostics and tests). */
  get cachedDecisions(): number {
    return this.#decisions.size;
  }

  /** The decision function. Never throws for a well-formed request; problems deny. */
  evaluate(request: EvaluationRequest): Decision {
    if (this.#cacheSize === 0) return this.#evaluate(request);
    const key = cacheKey(request);
    if (key.length > MAX_CACHED_KEY_LENGTH) return this.#evaluate(request);
    const decision = this.#hit(key) ?? this.#remember(key, this.#evaluate(request));
    return copyDecision(decision);
  }

  /**
   * The decision for the request `key` stands for, built by `build` only when it has to be evaluated.
   * `key` must determine the request exactly (equal keys, equal requests). The answer is the cached
   * object itself: the caller copies what it hands out.
   */
  [EVALUATE_KEYED](key: string, build: () => EvaluationRequest): Decision {
    if (this.#cacheSize === 0 || key.length > MAX_CACHED_KEY_LENGTH) return this.#evaluate(build());
    const prefixed = KEYED_PREFIX + key;
    return this.#hit(prefixed) ?? this.#remember(prefixed, this.#evaluate(build()));
  }

  #hit(key: string): Decision | undefined {
    const hit = this.#decisions.get(key);
    if (hit === undefined) return undefined;
    // Moving every hit to the young end (Map delete + set) costs O(size) amortised once the map is
    // full (~1 µs per hit at 1000 entries); an entry in the younger half is far from eviction anyway.
    if (this.#seq - hit.seq >= this.#bumpAge) {
      this.#decisions.delete(key);
      hit.seq = ++this.#seq;
      this.#decisions.set(key, hit);
    }
    return hit.decision;
  }

  #remember(key: string, decision: Decision): Decision {
    this.#decisions.set(key, { decision, seq: ++this.#seq });
    if (this.#decisions.size > this.#cacheSize) {
      const oldest = this.#decisions.keys().next().value as string;
      this.#decisions.delete(oldest);
    }
    return decision;
  }

  #evaluate(request: EvaluationRequest): Decision {
    const answer = this.#cedar.statefulIsAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context,
      entities: this.#entities(request.entities),
      preparsedPolicySetId: this.#policySetId,
    });
    if (answer.type === 'failure') {
      const message = answer.errors.map(describeCedarError).join('; ');
      return {
        decision: 'deny',
        policyIds: [],
        reason: 'request could not be evaluated',
        errors: [{ policyId: '', message }],
      };
    }
    const { decision, diagnostics } = answer.response;
    const errors = diagnostics.errors.map((e) => ({
      policyId: e.policyId,
      message: describeCedarError(e.error),
    }));
    const policyIds = [...diagnostics.reason];
    if (errors.length > 0 && this.#failClosed) {
      const ids = [...new Set(errors.map((e) => e.policyId))];
      return {
        decision: 'deny',
        policyIds: ids,
        reason: `evaluation error in ${ids.map((i) => `"${i}"`).join(', ')}`,
        errors,
      };
    }
    if (decision === 'allow') {
      return {
        decision,
        policyIds,
        reason: `permitted by ${policyIds.map((i) => `"${i}"`).join(', ')}`,
        errors,
      };
    }
    return {
      decision: 'deny',
      policyIds,
      reason:
        policyIds.length > 0
          ? `forbidden by ${policyIds.map((i) => `"${i}"`).join(', ')}`
          : 'no policy permits',
      errors,
    };
  }
}
