import { describe, expect, it } from '@jest/globals';
import { bearerOf, DEFAULT_REDACT_KEYS, REDACTED, scrub } from '../src/redact.js';

const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSIsImF1ZCI6Im1jcCJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtZm9yLXRlc3Q';

describe('scrub', () => {
  it('replaces values of keys that match the default pattern, at any depth', () => {
    const input = {
      params: {
        arguments: { password: 'hunter2', apiKey: 'k-1', nested: [{ client_secret: 's' }], q: 'hello' },
        Authorization: 'Basic abc',
      },
    };
    const out = scrub(input, { keys: DEFAULT_REDACT_KEYS }) as typeof input;
    expect(out.params.arguments).toEqual({
      password: REDACTED,
      apiKey: REDACTED,
      nested: [{ client_secret: REDACTED }],
      q: 'hello',
    });
    expect(out.params.Authorization).toBe(REDACTED);
    expect(input.params.arguments.password).toBe('hunter2'); // input untouched
  });

  it('removes JWT-shaped strings wherever they are, even under innocent keys and inside text', () => {
    const out = scrub({ note: `use ${JWT} please`, list: [JWT], n: 3 }, { keys: DEFAULT_REDACT_KEYS });
    expect(JSON.stringify(out)).not.toContain('eyJhbGci');
    expect(out).toEqual({ note: `use ${REDACTED} please`, list: [REDACTED], n: 3 });
  });

  it('removes every occurrence of the request bearer token, even an opaque one', () => {
    const token = 'opaque-token-value-1234';
    const out = scrub({ args: { text: `x${token}y`, other: token } }, { secrets: [token] });
    expect(JSON.stringify(out)).not.toContain(token);
    expect(out).toEqual({ args: { text: `x${REDACTED}y`, other: REDACTED } });
  });

  it('ignores very short secrets (would redact ordinary words) and survives cycles', () => {
    const a: Record<string, unknown> = { word: 'abc' };
    a.self = a;
    const out = scrub(a, { secrets: ['abc'] }) as Record<string, unknown>;
    expect(out.word).toBe('abc');
    expect(out.self).toBe('[CIRCULAR]');
  });

  it('keeps the key scan off when no pattern is given (value scan only)', () => {
    expect(scrub({ token: 'plain' })).toEqual({ token: 'plain' });
  });
});

describe('bearerOf', () => {
  it('extracts the bearer credential, case-insensitively, and nothing else', () => {
    expect(bearerOf('Bearer abc.def')).toBe('abc.def');
    expect(bearerOf('bearer  xyz ')).toBe('xyz');
    expect(bearerOf('Basic Zm9v')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });
});
