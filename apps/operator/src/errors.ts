/** Errors of the operator. */
import { BastionError } from '@bastion-mcp/proxy-core';

/** The Kubernetes API answered with an error status (or could not be reached: `status` 0). */
export class KubeApiError extends BastionError {
  static override readonly code = 'ERR_BASTION_OPERATOR_KUBE_API';
  readonly status: number;
  /** `reason` of the API's Status object (`NotFound`, `Conflict`, `Invalid`, `Forbidden`, ...). */
  readonly reason: string;

  constructor(
    method: string,
    path: string,
    status: number,
    reason: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${method} ${path}: ${status || 'unreachable'} ${reason}: ${detail}`, options);
    this.status = status;
    this.reason = reason;
  }

  /** Worth retrying with backoff: network errors, 409, 429 and 5xx. */
  get transient(): boolean {
    return this.status === 0 || this.status === 409 || this.status === 429 || this.status >= 500;
  }
}

/** An option of the operator is invalid. */
export class OperatorConfigError extends BastionError {
  static override readonly code = 'ERR_BASTION_OPERATOR_CONFIG';
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isTransient(err: unknown): boolean {
  return !(err instanceof KubeApiError) || err.transient;
}
