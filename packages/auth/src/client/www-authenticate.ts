/**
 * `WWW-Authenticate` parsing per RFC 9110 §11.6.1 / RFC 6750 §3 / RFC 9728 §5.1: several challenges
 * in one header value (or several header lines joined with `, `), case-insensitive schemes and
 * parameter names, quoted strings with backslash escapes, token68 credentials.
 */

export interface AuthChallenge {
  /** The auth scheme, lower-cased (`bearer`, `basic`, `dpop`, …). */
  scheme: string;
  /** Parameters with lower-cased names; the first occurrence of a name wins. */
  params: Record<string, string>;
  /** A token68 value (`Negotiate abc==`), when the challenge carries one instead of parameters. */
  token68?: string | undefined;
}

export interface BearerChallenge {
  /** RFC 9728 `resource_metadata` URL. */
  resourceMetadata?: string | undefined;
  /** Scopes of the `scope` parameter (split on spaces), when present. */
  scope?: string[] | undefined;
  /** RFC 6750 `error` (`invalid_token`, `insufficient_scope`, …). */
  error?: string | undefined;
  errorDescription?: string | undefined;
  realm?: string | undefined;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

class Cursor {
  pos = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? '';
  }
  skipWs(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  /** Skips whitespace and commas (empty list elements are allowed by RFC 9110 §5.6.1). */
  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  quoted(): string | undefined {
    if (this.peek() !== '"') return undefined;
    this.pos++;
    let out = '';
    while (!this.done) {
      const c = this.peek();
      if (c === '\\') {
        this.pos++;
        out += this.peek();
        this.pos++;
      } else if (c === '"') {
        this.pos++;
        return out;
      } else {
        out += c;
        this.pos++;
      }
    }
    return out; // unterminated: keep what we have
  }
}

/** Tries to read `name = value` at the cursor; restores the position and returns undefined if it is not one. */
function readParam(c: Cursor): [string, string] | undefined {
  const start = c.pos;
  const name = c.token();
  if (name === '') return undefined;
  c.skipWs();
  if (c.peek() !== '=') {
    c.pos = start;
    return undefined;
  }
  c.pos++;
  c.skipWs();
  const value = c.peek() === '"' ? c.quoted() : c.token();
  if (value === undefined || (value === '' && c.s[c.pos - 1] !== '"')) {
    c.pos = start;
    return undefined;
  }
  return [name.toLowerCase(), value];
}

function readToken68(c: Cursor): string | undefined {
  const start = c.pos;
  while (!c.done && TOKEN68_CHAR.test(c.peek())) c.pos++;
  if (c.pos === start) return undefined;
  while (c.peek() === '=') c.pos++;
  const end = c.pos;
  c.skipWs();
  if (!c.done && c.peek() !== ',') {
    c.pos = start;
    return undefined;
  }
  return c.s.slice(start, end);
}

/**
 * Parses every challenge of a `WWW-Authenticate` value. Garbage is skipped rather than thrown:
 * servers in the wild send malformed headers and the caller falls back to well-known discovery.
 */
export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge[] {
  if (!header) return [];
  const c = new Cursor(header);
  const challenges: AuthChallenge[] = [];
  let current: AuthChallenge | undefined;
  while (!c.done) {
    c.skipSeparators();
    if (c.done) break;
    if (current) {
      const param = readParam(c);
      if (param) {
        if (!(param[0] in current.params)) current.params[param[0]] = param[1];
        continue;
      }
    }
    const scheme = c.token();
    if (scheme === '') {
      c.pos++; // skip an unexpected character
      continue;
    }
    current = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(current);
    c.skipWs();
    if (c.done || c.peek() === ',') continue;
    const save = c.pos;
    const param = readParam(c);
    if (param) {
      current.params[param[0]] = param[1];
      continue;
    }
    c.pos = save;
    const t68 = readToken68(c);
    if (t68 !== undefined) current.token68 = t68;
  }
  return challenges;
}

/** The parameters of the first `Bearer` challenge, or `undefined` when there is none. */
export function parseBearerChallenge(header: string | null | undefined): BearerChallenge | undefined {
  const bearer = parseWwwAuthenticate(header).find((ch) => ch.scheme === 'bearer');
  if (!bearer) return undefined;
  const p = bearer.params;
  const scope = p['scope']
    ?.split(/\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    resourceMetadata: p['resource_metadata'] || undefined,
    scope: scope && scope.length > 0 ? scope : undefined,
    error: p['error'] || undefined,
    errorDescription: p['error_description'] || undefined,
    realm: p['realm'] || undefined,
  };
}
