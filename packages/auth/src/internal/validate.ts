/** Option guards: programmer mistakes throw `TypeError` naming the option. */

export function assertNonNegativeInteger(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`"${name}" must be a non-negative integer`);
  }
}

export function assertPositiveInteger(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`"${name}" must be a positive integer`);
  }
}

export function assertNonEmptyString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`"${name}" must be a non-empty string`);
  }
}

export function assertStringArray(name: string, value: unknown): asserts value is readonly string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new TypeError(`"${name}" must be an array of non-empty strings`);
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Parses an identity-provider URL: it must be absolute, carry no credentials or fragment, and use
 * https — plain http is accepted only for loopback hosts or when `allowInsecureHttp` is set.
 */
export function parseIdpUrl(name: string, value: unknown, allowInsecureHttp: boolean): URL {
  assertNonEmptyString(name, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`"${name}" must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`"${name}" must be an http(s) URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError(`"${name}" must not contain credentials`);
  }
  if (url.hash !== '') throw new TypeError(`"${name}" must not contain a fragment`);
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    throw new TypeError(
      `"${name}" must use https (set "allowInsecureHttp" to allow http for non-loopback hosts)`,
    );
  }
  return url;
}

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
