export { createDPoPResourceVerifier, respondDPoPFailure } from './resource-verifier.js';
export type {
  DPoPCheckResult,
  DPoPRequestLike,
  DPoPResourceVerifier,
  DPoPResourceVerifierOptions,
} from './resource-verifier.js';
