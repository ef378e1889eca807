import { describe, expect, it } from '@jest/globals';
import { AuthErrorCode, extractBearerToken, TokenRejectedError } from '../src/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TokenRejectedError);
    return (err as TokenRejectedError).code;
  }
  return undefined;
}

describe('extractBearerToken', () => {
  it('returns the token of a Bearer header', () => {
    expect(extractBearerToken('Bearer abc.def-ghi_jkl~+/==')).toBe('abc.def-ghi_jkl~+/==');
  });

  it('matches the scheme case-insensitively (RFC 7235)', () => {
    expect(extractBearerToken('bearer tok')).toBe('tok');
    expect(extractBearerToken('BEARER tok')).toBe('tok');
  });

  it('treats a missing header or another scheme as a missing token', () => {
    expect(codeOf(() => extractBearerToken(undefined))).toBe(AuthErrorCode.MissingToken);
    expect(codeOf(() => extractBearerToken(''))).toBe(AuthErrorCode.MissingToken);
    expect(codeOf(() => extractBearerToken('Basic Zm9vOmJhcg=='))).toBe(AuthErrorCode.MissingToken);
    expect(codeOf(() => extractBearerToken('Bearertok'))).toBe(AuthErrorCode.MissingToken);
  });

  it('rejects an empty or malformed token', () => {
    expect(codeOf(() => extractBearerToken('Bearer'))).toBe(AuthErrorCode.MalformedToken);
    expect(codeOf(() => extractBearerToken('Bearer    '))).toBe(AuthErrorCode.MalformedToken);
    expect(codeOf(() => extractBearerToken('Bearer a b'))).toBe(AuthErrorCode.MalformedToken);
    expect(codeOf(() => extractBearerToken('Bearer tok"en'))).toBe(AuthErrorCode.MalformedToken);
    expect(codeOf(() => extractBearerToken('Bearer =abc'))).toBe(AuthErrorCode.MalformedToken);
    expect(codeOf(() => extractBearerToken(['Bearer a', 'Bearer b']))).toBe(AuthErrorCode.MalformedToken);
  });

  it('rejects tokens over the limit before parsing them', () => {
    const big = 'a'.repeat(64 * 1024);
    expect(codeOf(() => extractBearerToken(`Bearer ${big}`))).toBe(AuthErrorCode.TokenTooLarge);
    expect(codeOf(() => extractBearerToken(`Bearer ${'a'.repeat(101)}`, 100))).toBe(
      AuthErrorCode.TokenTooLarge,
    );
    expect(extractBearerToken(`Bearer ${'a'.repeat(100)}`, 100)).toHaveLength(100);
  });

  it('never puts the token in the error message', () => {
    try {
      extractBearerToken('Bearer secret"token');
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('secret');
      expect((err as TokenRejectedError).publicDescription).not.toContain('secret');
    }
  });
});
