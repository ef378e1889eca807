export {
  startReferenceUpstream,
  startModernReferenceUpstream,
  isLocalRequest,
  isModernRequest,
  createReferenceServer,
} from './reference/index.js';
export type {
  ReferenceUpstream,
  ReferenceUpstreamOptions,
  ReferenceSessionHooks,
  ModernReferenceUpstream,
  ModernReferenceUpstreamOptions,
} from './reference/index.js';
export { KNOWN_DIFFERENCES } from './known-differences.js';
export type { KnownDifference } from './known-differences.js';
export { runServerSuite } from './suite.js';
export type { CheckResult, CheckStatus, ScenarioResult, SuiteRunOptions } from './suite.js';
export { conformanceCli, findNode22 } from './node22.js';
export { ConformanceError, ConformanceErrorCode } from './errors.js';
export { createFullChain, PERMIT_ALL_POLICY } from './chain.js';
export type { FullChain, FullChainOptions } from './chain.js';
export { differences, signature } from './compare.js';
export { DEFAULT_SPEC_VERSIONS, runConformance, TARGETS } from './run.js';
export type { ConformanceOptions, ConformanceReport, ConformanceRow, Target } from './run.js';
export { formatReport } from './table.js';
