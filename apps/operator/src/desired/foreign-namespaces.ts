/** Paths of references that name another namespace. */
export function foreignNamespaces(value: unknown, own: string, path = 'spec'): string[] {
  if (!value || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => foreignNamespaces(v, own, `${path}[${i}]`));
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (k === 'podTemplateSpec') continue;
    if (k === 'namespace' && typeof v === 'string' && v !== '' && v !== own)
      out.push(`${path}.namespace is "${v}"`);
    else out.push(...foreignNamespaces(v, own, `${path}.${k}`));
  }
  return out;
}
