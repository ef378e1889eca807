export { createTokenExchangeMiddleware } from './middleware.js';
export type { TokenExchangeMiddleware, TokenExchangeNote } from './middleware.js';
export { GRANT_TOKEN_EXCHANGE, TokenType } from './options.js';
export type { ClientAuthMethod, HeaderInjectionOptions, TokenExchangeOptions } from './options.js';
export { cacheKey, hashToken, TokenCache } from './cache.js';
export type { Loaded, Lookup, LookupSource, TokenCacheOptions } from './cache.js';
export {
  bearerChallenge,
  NoSubjectTokenError,
  TokenExchangeBadResponseError,
  TokenExchangeConfigError,
  TokenExchangeError,
  TokenExchangeErrorCode,
  TokenExchangeRefusedError,
  TokenExchangeRejectedError,
  TokenExchangeUnavailableError,
} from './errors.js';
export type { ChallengeOptions, StsFailureDetail } from './errors.js';
