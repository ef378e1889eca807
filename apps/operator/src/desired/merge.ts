/**
 * Merge of a user's `podTemplateSpec` over the generated pod template, in the spirit of a strategic
 * merge patch: objects merge key by key, lists of named objects (containers, volumes, env, ports,
 * volumeMounts, ...) merge item by item on `name`, any other list or scalar from the override
 * replaces the generated value. A `null` in the override deletes the key.
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNamedList = (v: unknown): v is Obj[] =>
  Array.isArray(v) && v.length > 0 && v.every((i) => isObj(i) && typeof i.name === 'string');

export function mergeOverrides(base: unknown, override: unknown): unknown {
  if (isObj(base) && isObj(override)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(override)) {
      if (v === null) delete out[k];
      else out[k] = k in base ? mergeOverrides(base[k], v) : v;
    }
    return out;
  }
  if (isNamedList(base) && isNamedList(override)) {
    const out = base.map((item) => {
      const match = override.find((o) => o.name === item.name);
      return match ? (mergeOverrides(item, match) as Obj) : item;
    });
    for (const o of override) if (!base.some((b) => b.name === o.name)) out.push(o);
    return out;
  }
  return override;
}
