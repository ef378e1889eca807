/**
 * Property tests of RunConfig loading: any JSON value, any text, and mutations of a valid config are
 * either accepted or refused with a `RunConfigError` naming what is wrong — never another exception.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseRunConfig, RunConfigError, validateRunConfig } from '@bastion-mcp/runner';
import fc from 'fast-check';

const VALID = JSON.parse(
  readFileSync(new URL('../../../../examples/full-chain.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

function outcome(fn: () => unknown): 'ok' | 'refused' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(RunConfigError);
    const e = err as RunConfigError;
    expect(e.code).toBe('ERR_BASTION_RUNCONFIG_INVALID');
    expect(e.issues.length).toBeGreaterThan(0);
    for (const issue of e.issues) expect(typeof issue.message).toBe('string');
    return 'refused';
  }
}

describe('RunConfig fuzzing', () => {
  it('the example config is valid (the mutations below start from an accepted file)', () => {
    expect(outcome(() => validateRunConfig(structuredClone(VALID)))).toBe('ok');
  });

  it('any JSON value is accepted or refused with RunConfigError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        outcome(() => validateRunConfig(v));
      }),
      { numRuns: 300 },
    );
  });

  it('any text (JSON or YAML) is accepted or refused with RunConfigError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          outcome(() => parseRunConfig(text, { source: 'fuzz.json' }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('replacing any top-level field of a valid config with junk never throws anything else', () => {
    const keys = Object.keys(VALID);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, junk) => {
        const cfg = { ...structuredClone(VALID), [key]: junk };
        outcome(() => validateRunConfig(cfg));
      }),
      { numRuns: 300 },
    );
  });

  it('refusals name the offending path', () => {
    fc.assert(
      fc.property(fc.constantFrom('remoteUrl', 'listen', 'auth', 'limits'), fc.integer(), (key, n) => {
        try {
          validateRunConfig({ ...structuredClone(VALID), [key]: n });
        } catch (err) {
          expect((err as RunConfigError).issues.some((i) => i.path.startsWith(key))).toBe(true);
          return;
        }
        throw new Error(`an integer ${key} was accepted`);
      }),
      { numRuns: 40 },
    );
  });
});
