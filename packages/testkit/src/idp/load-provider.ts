import type ProviderClass from 'oidc-provider';

let loading: Promise<typeof ProviderClass> | undefined;

/**
 * Imports `oidc-provider` once. On Node 20 the module prints "Unsupported runtime. Use Node.js v22.x
 * LTS" at import time although it works (TOOLCHAIN.md); that single line is filtered out while the
 * module evaluates so test output stays clean. Every other warning passes through.
 */
export function loadProvider(): Promise<typeof ProviderClass> {
  loading ??= (async () => {
    const original = console.warn;
    console.warn = (...args: unknown[]): void => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      original.apply(console, args);
    };
    try {
      const mod = await import('oidc-provider');
      return mod.default;
    } finally {
      console.warn = original;
    }
  })();
  return loading;
}
