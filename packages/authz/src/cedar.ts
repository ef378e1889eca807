/**
 * Lazy loader of the Cedar WebAssembly engine. The Node build of `@cedar-policy/cedar-wasm` compiles
 * its module synchronously on first import; keeping the import dynamic means that importing this
 * package costs nothing until a policy set is actually loaded.
 */
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';

export type Cedar = typeof CedarWasm;
export type {
  AuthorizationAnswer,
  CedarValueJson,
  DetailedError,
  EntityJson,
  EntityUidJson,
  Schema,
  TypeAndId,
} from '@cedar-policy/cedar-wasm/nodejs';

let loading: Promise<Cedar> | undefined;

/** The Cedar engine, loaded once per process. */
export function loadCedar(): Promise<Cedar> {
  loading ??= import('@cedar-policy/cedar-wasm/nodejs').then((m) => {
    // Depending on the loader, the CommonJS build arrives with named exports or under `default`.
    const mod = m as Cedar & { default?: Cedar };
    return typeof mod.statefulIsAuthorized === 'function' ? mod : (mod.default as Cedar);
  });
  return loading;
}
