import { describe, expect, it } from '@jest/globals';
import { bearerTokenOf, REDACTED, redactValue } from '../../src/index.js';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('redactValue', () => {
  it('replaces values under credential-like keys, at any depth, without touching the input', () => {
    const input = { user: 'alice', nested: { password: 'p', apiKey: 'k', list: [{ client_secret: 's' }] } };
    const out = redactValue(input) as typeof input;
    expect(out).toEqual({
      user: 'alice',
      nested: { password: REDACTED, apiKey: REDACTED, list: [{ client_secret: REDACTED }] },
    });
    expect(input.nested.password).toBe('p');
  });

  it('removes JWTs, Bearer credentials and the request token from any string', () => {
    const out = redactValue(
      { note: `token is ${jwt}`, header: 'Bearer abcdefgh12345678', echo: 'x-my-opaque-token-123-x' },
      { secrets: ['my-opaque-token-123'] },
    );
    expect(JSON.stringify(out)).not.toContain(jwt);
    expect(JSON.stringify(out)).not.toContain('abcdefgh12345678');
    expect(JSON.stringify(out)).not.toContain('my-opaque-token-123');
  });

  it('does not redact keys that merely contain "auth" as part of a word', () => {
    expect(redactValue({ author: 'ann', auth: 'x' })).toEqual({ author: 'ann', auth: REDACTED });
  });

  it('with keys: null only scans values', () => {
    expect(redactValue({ password: 'plain' }, { keys: null })).toEqual({ password: 'plain' });
  });

  it('marks cycles and deep nesting instead of throwing, and cuts long strings when asked', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(redactValue(a)).toEqual({ self: '[CIRCULAR]' });
    expect(redactValue({ a: { b: { c: 1 } } }, { maxDepth: 2 })).toEqual({ a: { b: '[TOO_DEEP]' } });
    expect(redactValue('abcdef', { maxStringLength: 3 })).toBe('abc…');
  });
});

describe('bearerTokenOf', () => {
  it('extracts only a well-formed bearer credential', () => {
    expect(bearerTokenOf('Bearer abc')).toBe('abc');
    expect(bearerTokenOf(['bearer xyz'])).toBe('xyz');
    expect(bearerTokenOf('Basic abc')).toBeUndefined();
    expect(bearerTokenOf(undefined)).toBeUndefined();
  });
});
