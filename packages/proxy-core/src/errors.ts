/**
 * Errors of Bastion. Every class has a stable `code` (`ERR_BASTION_<AREA>_<WHAT>`) and is branded
 * with a `Symbol.for` key so `instanceof` works across duplicate copies of the package.
 */
const kBastionError = Symbol.for('bastion-mcp.error');

export class BastionError extends Error {
  static readonly code: string = 'ERR_BASTION';
  readonly code: string;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? (new.target as typeof BastionError).code;
    Object.defineProperty(this, kBastionError, { value: true });
    if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(this, new.target);
  }

  static isInstance(value: unknown): value is BastionError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[kBastionError] === true
    );
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === BastionError) return BastionError.isInstance(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/**
 * An error that maps to a specific HTTP answer. The edge mapper (`errorToResponse`) is the only place
 * that turns errors into responses; `publicMessage` is what the client sees (never a secret, never an
 * upstream's raw error text).
 */
export class ProxyHttpError extends BastionError {
  static override readonly code: string = 'ERR_BASTION_HTTP';
  readonly status: number;
  /** JSON-RPC error code for the body when the request was JSON-RPC. */
  readonly rpcCode: number;
  readonly publicMessage: string;
  readonly headers: Record<string, string>;
  /** OAuth-style error body (`{error, error_description}`) instead of a JSON-RPC error. */
  readonly oauthError?: { error: string; error_description?: string | undefined } | undefined;

  constructor(init: {
    status: number;
    rpcCode: number;
    publicMessage: string;
    code: string;
    headers?: Record<string, string> | undefined;
    oauthError?: { error: string; error_description?: string | undefined } | undefined;
    cause?: unknown;
    message?: string | undefined;
  }) {
    super(init.message ?? init.publicMessage, { cause: init.cause, code: init.code });
    this.status = init.status;
    this.rpcCode = init.rpcCode;
    this.publicMessage = init.publicMessage;
    this.headers = init.headers ?? {};
    this.oauthError = init.oauthError;
  }
}

/** Codes raised by proxy-core itself. */
export const ProxyCoreErrorCode = {
  BodyTooLarge: 'ERR_BASTION_PROXY_BODY_TOO_LARGE',
  ParseError: 'ERR_BASTION_PROXY_PARSE_ERROR',
  InvalidRequest: 'ERR_BASTION_PROXY_INVALID_REQUEST',
  BatchRejected: 'ERR_BASTION_PROXY_BATCH_REJECTED',
  OriginRejected: 'ERR_BASTION_PROXY_ORIGIN_REJECTED',
  HostRejected: 'ERR_BASTION_PROXY_HOST_REJECTED',
  MethodNotAllowed: 'ERR_BASTION_PROXY_METHOD_NOT_ALLOWED',
  NotFound: 'ERR_BASTION_PROXY_NOT_FOUND',
  LoopDetected: 'ERR_BASTION_PROXY_LOOP_DETECTED',
  UpstreamUnreachable: 'ERR_BASTION_PROXY_UPSTREAM_UNREACHABLE',
  UpstreamBadResponse: 'ERR_BASTION_PROXY_UPSTREAM_BAD_RESPONSE',
  UpstreamTimeout: 'ERR_BASTION_PROXY_UPSTREAM_TIMEOUT',
  UpstreamResponseTooLarge: 'ERR_BASTION_PROXY_UPSTREAM_RESPONSE_TOO_LARGE',
  UpstreamRedirectRefused: 'ERR_BASTION_PROXY_UPSTREAM_REDIRECT_REFUSED',
  ShuttingDown: 'ERR_BASTION_PROXY_SHUTTING_DOWN',
  Internal: 'ERR_BASTION_PROXY_INTERNAL',
} as const;
export type ProxyCoreErrorCode = (typeof ProxyCoreErrorCode)[keyof typeof ProxyCoreErrorCode];
