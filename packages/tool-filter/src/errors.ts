/** Codes of @bastion-mcp/tool-filter (recorded in `exchange.notes['tool-filter']`, never thrown at clients). */
export const ToolFilterErrorCode = {
  /** `tools/call` named a tool that is filtered out, hidden by a rename, or unknown to the filter. */
  ToolNotFound: 'ERR_BASTION_TOOL_FILTER_TOOL_NOT_FOUND',
  /** `tools/call` without a string `params.name`. */
  InvalidCall: 'ERR_BASTION_TOOL_FILTER_INVALID_CALL',
  /** 2026-07-28: the `Mcp-Name` header disagrees with `params.name` of a call that would be renamed. */
  HeaderMismatch: 'ERR_BASTION_TOOL_FILTER_HEADER_MISMATCH',
} as const;
export type ToolFilterErrorCode = (typeof ToolFilterErrorCode)[keyof typeof ToolFilterErrorCode];
