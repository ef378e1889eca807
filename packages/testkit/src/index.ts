// testkit is private; its two halves are owned separately, so the barrel re-exports them whole.
export * from './idp/index.js';
export * from './mcp/index.js';
export * from './dpop/index.js';
