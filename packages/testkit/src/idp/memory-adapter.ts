import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number | undefined;
}

/**
 * Per-IdP in-memory storage for oidc-provider models. oidc-provider's bundled MemoryAdapter keeps a
 * module-wide store shared by every provider in the process; this one is owned by one test IdP, so
 * several IdPs never see each other's grants, and the store survives the provider being rebuilt on
 * key rotation and the server being stopped/started.
 */
export class MemoryStore {
  readonly #models = new Map<string, Map<string, Entry>>();

  model(name: string): Map<string, Entry> {
    let model = this.#models.get(name);
    if (!model) {
      model = new Map();
      this.#models.set(name, model);
    }
    return model;
  }

  /** Live payloads of one model (expired ones are skipped). */
  *live(name: string): Iterable<[string, AdapterPayload]> {
    const now = Date.now();
    for (const [id, entry] of this.model(name)) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) continue;
      yield [id, entry.payload];
    }
  }

  adapterFor(name: string): Adapter {
    return new MemoryAdapter(this, name);
  }

  /** Removes every entry of every model that belongs to `grantId`. */
  revokeByGrantId(grantId: string): void {
    for (const model of this.#models.values()) {
      for (const [id, entry] of model) {
        if (entry.payload.grantId === grantId) model.delete(id);
      }
    }
  }
}

/**
 * Deep copy through JSON: payloads are JSON by contract, and unlike `structuredClone` the copies are
 * plain objects of the caller's realm (oidc-provider checks `constructor === Object`, which a
 * `structuredClone` from outside jest's VM realm fails).
 */
function clone(payload: AdapterPayload): AdapterPayload {
  return JSON.parse(JSON.stringify(payload)) as AdapterPayload;
}

class MemoryAdapter implements Adapter {
  readonly #store: MemoryStore;
  readonly #name: string;

  constructor(store: MemoryStore, name: string) {
    this.#store = store;
    this.#name = name;
  }

  #get(id: string): AdapterPayload | undefined {
    const model = this.#store.model(this.#name);
    const entry = model.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      model.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.#store.model(this.#name).set(id, {
      payload: clone(payload),
      expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const payload = this.#get(id);
    return payload ? clone(payload) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    for (const [, payload] of this.#store.live(this.#name)) {
      if (payload.userCode === userCode) return clone(payload);
    }
    return undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    for (const [, payload] of this.#store.live(this.#name)) {
      if (payload.uid === uid) return clone(payload);
    }
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.#get(id);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.#store.model(this.#name).delete(id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.#store.revokeByGrantId(grantId);
  }
}
