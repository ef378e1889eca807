export { createAuthzMiddleware, AUTHZ_MIDDLEWARE_NAME } from './middleware.js';
export type { AuthzMiddleware } from './middleware.js';
export type { AuthzOptions } from './options.js';
export { PolicyEngine } from './engine.js';
export type { Decision, EvaluationError, EvaluationRequest, PolicySetInput } from './engine.js';
export type { PolicyEntry } from './policy-source.js';
export { checkRequest, identityFromClaims } from './check.js';
export type { CheckRequestInput, CheckRequestResult } from './check.js';
export { ACTIONS, ANNOTATION_HINTS, buildPrincipal, buildRequest, pickAnnotations } from './entity-model.js';
export type { ActionId, EntityModelOptions, PrincipalPart, Target, ToolAnnotations } from './entity-model.js';
export { MAX_DEPTH, prefixedAttributes, toCedarValue } from './values.js';
export { filterListMessage, listKindOfResult } from './list-filter.js';
export type { ListFilterContext, ListFilterResult, ListItemKind } from './list-filter.js';
export { checkMirroredHeaders, isModernRevision, MODERN_REVISION } from './headers.js';
export { classify, PASS_METHODS, REMOVED_IN_MODERN } from './methods.js';
export type { MethodClass } from './methods.js';
export {
  AuthzConfigError,
  AuthzErrorCode,
  DENIED_MESSAGE,
  DENIED_RPC_CODE,
  HEADER_MISMATCH_RPC_CODE,
} from './errors.js';
export type { AuthzConfigIssue } from './errors.js';
export type { CedarValueJson, EntityJson, EntityUidJson, TypeAndId } from './cedar.js';
