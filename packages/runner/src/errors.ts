import { BastionError } from '@bastion-mcp/proxy-core';

/** One problem found in a RunConfig: the JSON path of the field and what is expected there. */
export interface RunConfigIssue {
  /** Dotted JSON path (`auth.issuer`, `tools.overrides.my_tool.name`); `(root)` for the top level. */
  readonly path: string;
  readonly message: string;
}

/** The RunConfig is invalid. `issues` lists every problem found, not only the first. */
export class RunConfigError extends BastionError {
  static override readonly code = 'ERR_BASTION_RUNCONFIG_INVALID';
  readonly issues: readonly RunConfigIssue[];
  readonly source: string | undefined;

  constructor(issues: readonly RunConfigIssue[], source?: string, options?: { cause?: unknown }) {
    const where = source ? ` (${source})` : '';
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n');
    super(`Invalid RunConfig${where}:\n${lines}`, options);
    this.issues = issues;
    this.source = source;
  }
}

/** The remote URL (or an address it resolves or redirects to) is refused by the SSRF rules. */
export class RemoteUrlRefusedError extends BastionError {
  static override readonly code: string = 'ERR_BASTION_REMOTE_URL_REFUSED';
  readonly url: string;
  readonly address: string | undefined;
  readonly reason: string;

  constructor(url: string, reason: string, address?: string) {
    super(`Remote URL ${url} refused: ${reason}${address ? ` (address ${address})` : ''}`);
    this.url = url;
    this.reason = reason;
    this.address = address;
  }
}

/** A secret referenced by the RunConfig (environment variable or file) is missing or empty. */
export class SecretUnavailableError extends BastionError {
  static override readonly code = 'ERR_BASTION_SECRET_UNAVAILABLE';
  readonly field: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.field = field;
  }
}

/**
 * The remote URL's host name could not be resolved at start. A subclass of `RemoteUrlRefusedError`
 * (nothing was reached) with its own code, because a DNS failure may be transient while a refusal is not.
 */
export class RemoteUrlUnresolvableError extends RemoteUrlRefusedError {
  static override readonly code = 'ERR_BASTION_REMOTE_URL_UNRESOLVABLE';
  /** The resolver's error code (`ENOTFOUND`, `EAI_AGAIN`, ...). */
  readonly dnsCode: string | undefined;

  constructor(url: string, host: string, dnsCode: string | undefined, options?: { cause?: unknown }) {
    super(url, `cannot resolve ${host}: ${dnsCode ?? 'error'}`);
    this.dnsCode = dnsCode;
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause });
  }
}
