/** Reverse index: referenced object (`Kind/namespace/name`) → keys of the proxies that reference it. */
import type { Reference } from '../desired/types.js';

export class ReferenceIndex {
  readonly #byRef = new Map<string, Set<string>>();
  readonly #byProxy = new Map<string, string[]>();

  static refKey(kind: string, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  /** Replace the references of one proxy (`namespace/name`). */
  set(proxyKey: string, namespace: string, refs: readonly Reference[]): void {
    this.remove(proxyKey);
    const keys = refs.map((r) => ReferenceIndex.refKey(r.kind, namespace, r.name));
    this.#byProxy.set(proxyKey, keys);
    for (const k of keys) {
      let set = this.#byRef.get(k);
      if (!set) {
        set = new Set();
        this.#byRef.set(k, set);
      }
      set.add(proxyKey);
    }
  }

  remove(proxyKey: string): void {
    for (const k of this.#byProxy.get(proxyKey) ?? []) {
      const set = this.#byRef.get(k);
      set?.delete(proxyKey);
      if (set?.size === 0) this.#byRef.delete(k);
    }
    this.#byProxy.delete(proxyKey);
  }

  proxiesReferencing(kind: string, namespace: string, name: string): string[] {
    return [...(this.#byRef.get(ReferenceIndex.refKey(kind, namespace, name)) ?? [])];
  }
}
