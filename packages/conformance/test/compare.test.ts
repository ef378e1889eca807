import { describe, expect, it } from '@jest/globals';
import { differences, signature } from '../src/compare.js';
import { checkIdOf } from '../src/known-differences.js';
import type { ScenarioResult } from '../src/suite.js';

const result = (checks: Array<[string, ScenarioResult['checks'][number]['status']]>): ScenarioResult => ({
  scenario: 's',
  checks: checks.map(([id, status]) => ({ id, status })),
  passed: checks.filter(([, s]) => s === 'SUCCESS').length,
  failed: checks.filter(([, s]) => s === 'FAILURE').length,
});

describe('differences', () => {
  it('is empty for the same checks in another order', () => {
    const a = result([
      ['a', 'SUCCESS'],
      ['b', 'INFO'],
    ]);
    const b = result([
      ['b', 'INFO'],
      ['a', 'SUCCESS'],
    ]);
    expect(differences(a, b)).toEqual([]);
  });

  it('reports a status change on both sides', () => {
    expect(differences(result([['a', 'SUCCESS']]), result([['a', 'FAILURE']]))).toEqual([
      'a:FAILURE only proxied',
      'a:SUCCESS only direct',
    ]);
  });

  it('counts repeated check ids', () => {
    const a = result([
      ['wire', 'SUCCESS'],
      ['wire', 'SUCCESS'],
    ]);
    expect(differences(a, result([['wire', 'SUCCESS']]))).toEqual(['wire:SUCCESS only direct']);
  });

  it('treats a scenario that did not run on one side as a difference', () => {
    expect(signature(undefined)).toEqual(['<scenario did not run>']);
    expect(differences(result([['a', 'SUCCESS']]), undefined)).toHaveLength(2);
  });
});

describe('known-differences baseline', () => {
  it('takes the check id from a difference line, keeping colons inside the id', () => {
    expect(checkIdOf('sep-2575-http-server-method-not-found-404:FAILURE only proxied')).toBe(
      'sep-2575-http-server-method-not-found-404',
    );
    expect(checkIdOf('a:b:SUCCESS only direct (×2)')).toBe('a:b');
  });
});
