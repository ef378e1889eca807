import { BastionError } from '@bastion-mcp/proxy-core';

export const ConformanceErrorCode = {
  /** No Node.js 22+ binary to run the conformance suite with. */
  NoNode22: 'ERR_BASTION_CONFORMANCE_NO_NODE22',
  /** The suite process could not run or wrote no results. */
  SuiteFailed: 'ERR_BASTION_CONFORMANCE_SUITE_FAILED',
} as const;
export type ConformanceErrorCode = (typeof ConformanceErrorCode)[keyof typeof ConformanceErrorCode];

export class ConformanceError extends BastionError {
  constructor(code: ConformanceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code });
  }
}
