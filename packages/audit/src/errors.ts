/** Errors of @bastion-mcp/audit. */
import { BastionError } from '@bastion-mcp/proxy-core';

export const AuditErrorCode = {
  /** A file sink could not open (or create) its log file. */
  SinkOpen: 'ERR_BASTION_AUDIT_SINK_OPEN',
  /** A sink failed to write a batch of events (the events are counted as dropped). */
  SinkWrite: 'ERR_BASTION_AUDIT_SINK_WRITE',
} as const;
export type AuditErrorCode = (typeof AuditErrorCode)[keyof typeof AuditErrorCode];

export class AuditSinkError extends BastionError {
  static override readonly code: string = AuditErrorCode.SinkWrite;
  /** Name of the sink that failed. */
  readonly sink: string;

  constructor(message: string, init: { sink: string; code?: AuditErrorCode; cause?: unknown }) {
    super(message, { code: init.code ?? AuditErrorCode.SinkWrite, cause: init.cause });
    this.sink = init.sink;
  }
}
