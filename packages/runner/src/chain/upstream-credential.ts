/**
 * Chain position 8 (PRODUCT.md §1.2): what the remote server gets besides the client's forwardable
 * headers — configured headers (plain and from env/secret) and the static upstream credential.
 * Innermost before the forwarder, so authz side requests (its own `tools/list`) carry them too.
 */
import type { Middleware } from '@bastion-mcp/proxy-core';

export interface UpstreamCredentialOptions {
  /** Headers added to (or replacing) the upstream request's headers. Values are secrets when from env. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Static bearer token sent as `Authorization: Bearer <token>`. */
  readonly bearerToken?: string | undefined;
  /** Send the client's own validated token upstream (token passthrough; off unless configured). */
  readonly passthroughToken?: boolean | undefined;
}

export const UPSTREAM_CREDENTIAL_MIDDLEWARE_NAME = 'upstream-credential';

const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Create the header-forward / upstream-credential middleware.
 * @throws {TypeError} naming the option when a header name or value is invalid.
 */
export function createUpstreamCredentialMiddleware(options: UpstreamCredentialOptions): Middleware {
  if (options === null || typeof options !== 'object') throw new TypeError('"options" must be an object');
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!HEADER.test(name))
      throw new TypeError(`"headers" has an invalid header name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw new TypeError(`"headers.${name}" must be a string without line breaks`);
    }
    headers.push([name.toLowerCase(), value]);
  }
  const bearer = options.bearerToken;
  if (bearer !== undefined && (typeof bearer !== 'string' || bearer === '' || /[\s\0]/.test(bearer))) {
    throw new TypeError('"bearerToken" must be a non-empty token without whitespace');
  }
  const passthrough = options.passthroughToken === true;
  if (bearer !== undefined && passthrough) {
    throw new TypeError('"bearerToken" and "passthroughToken" cannot both be set');
  }
  return {
    name: UPSTREAM_CREDENTIAL_MIDDLEWARE_NAME,
    handle(exchange, next) {
      for (const [name, value] of headers) exchange.upstreamHeaders[name] = value;
      if (bearer !== undefined) {
        exchange.upstreamHeaders.authorization = `Bearer ${bearer}`;
        exchange.notes.upstreamCredential = 'static';
      } else if (passthrough && exchange.inboundToken) {
        exchange.upstreamHeaders.authorization = `Bearer ${exchange.inboundToken}`;
        exchange.notes.upstreamCredential = 'passthrough';
      }
      return next();
    },
  };
}
