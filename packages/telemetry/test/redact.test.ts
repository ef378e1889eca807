import { describe, expect, it } from '@jest/globals';
import { REDACTED, redactArguments, redactValue } from '../src/redact.js';

const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImF1ZCI6Im1jcCJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';

describe('redactValue', () => {
  it('replaces values under secret-looking keys at any depth and keeps the rest', () => {
    const out = redactValue({
      q: 'hi',
      password: 'x',
      nested: { apiKey: 'k', Authorization: 'Basic abc', list: [{ client_secret: 's', ok: 1 }] },
      privateData: 'p',
      credentials: { user: 'u' },
    });
    expect(out).toEqual({
      q: 'hi',
      password: REDACTED,
      nested: { apiKey: REDACTED, Authorization: REDACTED, list: [{ client_secret: REDACTED, ok: 1 }] },
      privateData: REDACTED,
      credentials: REDACTED,
    });
  });

  it('replaces JWT-shaped strings inside ordinary values', () => {
    expect(redactValue({ note: `token is ${JWT} ok` })).toEqual({ note: `token is ${REDACTED} ok` });
  });

  it("replaces every occurrence of the request's own bearer token and Bearer credentials", () => {
    const secret = 'opaque-token-1234567890';
    expect(redactValue({ text: `a ${secret} b ${secret}` }, { secrets: [secret, undefined] })).toEqual({
      text: `a ${REDACTED} b ${REDACTED}`,
    });
    expect(redactValue('header Bearer abcdefghijklmnop')).toBe(`header Bearer ${REDACTED}`);
  });

  it('cuts long strings and survives cycles and deep nesting without mutating the input', () => {
    const input: Record<string, unknown> = { long: 'a'.repeat(300) };
    input.self = input;
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 40; i++) {
      deep.d = {};
      deep = deep.d as Record<string, unknown>;
    }
    input.deep = root;
    const out = redactValue(input, { maxStringLength: 10 }) as Record<string, unknown>;
    expect(out.long).toBe(`${'a'.repeat(10)}…`);
    expect(out.self).toBe('[CIRCULAR]');
    expect(JSON.stringify(out.deep)).toContain('[TOO_DEEP]');
    expect(input.long).toHaveLength(300);
  });

  it('honours a custom key pattern', () => {
    expect(redactValue({ ssn: '1', password: '2' }, { keys: /^ssn$/ })).toEqual({
      ssn: REDACTED,
      password: '2',
    });
  });
});

describe('redactArguments', () => {
  it('serialises redacted arguments as JSON (password hidden, q kept)', () => {
    const text = redactArguments({ password: 'x', q: 'hi' });
    expect(JSON.parse(text)).toEqual({ password: REDACTED, q: 'hi' });
    expect(text).not.toContain('"x"');
  });

  it('cuts the serialised text at maxLength', () => {
    expect(redactArguments({ a: 'b'.repeat(100) }, { maxLength: 20 })).toHaveLength(21);
  });

  it('turns bigint values into strings instead of throwing', () => {
    expect(redactArguments({ n: 10n })).toBe('{"n":"10"}');
  });
});
