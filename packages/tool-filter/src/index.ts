export { createToolFilterMiddleware } from './middleware.js';
export type { ToolFilterMiddleware } from './middleware.js';
export { compileToolRules, resolveCall } from './config.js';
export type { ToolFilterOptions, ToolOverride, ToolRules } from './config.js';
export { rewriteToolsList } from './list.js';
export type { ListRewrite } from './list.js';
export { ToolFilterErrorCode } from './errors.js';
