import { describe, expect, it } from '@jest/globals';
import { MAX_DEPTH, prefixedAttributes, toCedarValue } from '../src/values.js';

describe('toCedarValue', () => {
  it('maps JSON integers to Cedar longs', () => {
    expect(toCedarValue(5)).toBe(5);
    expect(toCedarValue(-42)).toBe(-42);
    expect(toCedarValue(JSON.parse('5.0'))).toBe(5);
  });

  it('maps non-integers with at most 4 fraction digits to Cedar decimals', () => {
    expect(toCedarValue(1.5)).toEqual({ __extn: { fn: 'decimal', arg: '1.5' } });
    expect(toCedarValue(-0.1234)).toEqual({ __extn: { fn: 'decimal', arg: '-0.1234' } });
  });

  it('maps numbers a Cedar decimal cannot hold exactly to strings (never rounds)', () => {
    expect(toCedarValue(4.99999)).toBe('4.99999');
    expect(toCedarValue(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(toCedarValue(1.5e-7)).toBe('1.5e-7');
    expect(toCedarValue(922337203685478.5)).toBe('922337203685478.5');
    expect(toCedarValue(2 ** 60)).toBe(String(2 ** 60));
  });

  it('keeps strings and booleans, drops null and non-finite numbers', () => {
    expect(toCedarValue('x')).toBe('x');
    expect(toCedarValue(false)).toBe(false);
    expect(toCedarValue(null)).toBeUndefined();
    expect(toCedarValue(Number.NaN)).toBeUndefined();
  });

  it('maps arrays to sets and objects to records, recursively, without nulls', () => {
    expect(toCedarValue([1, 'a', null, { b: [true] }])).toEqual([1, 'a', { b: [true] }]);
    expect(toCedarValue({ a: 1, n: null, o: { d: 2.25 } })).toEqual({
      a: 1,
      o: { d: { __extn: { fn: 'decimal', arg: '2.25' } } },
    });
  });

  it('turns objects with Cedar reserved keys into their JSON text (no entity smuggling)', () => {
    const sneaky = { __entity: { type: 'Client', id: 'admin' } };
    expect(toCedarValue(sneaky)).toBe(JSON.stringify(sneaky));
    expect(toCedarValue({ nested: { __extn: { fn: 'ip', arg: '1.2.3.4' } } })).toEqual({
      nested: JSON.stringify({ __extn: { fn: 'ip', arg: '1.2.3.4' } }),
    });
  });

  it('drops values nested deeper than MAX_DEPTH', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < MAX_DEPTH + 2; i++) deep = { d: deep };
    let cur = toCedarValue(deep) as Record<string, unknown>;
    let depth = 0;
    while (cur && typeof cur === 'object' && 'd' in cur) {
      cur = cur.d as Record<string, unknown>;
      depth++;
    }
    expect(depth).toBeLessThan(MAX_DEPTH + 2);
  });
});

describe('prefixedAttributes', () => {
  it('prefixes every mappable key and skips the rest', () => {
    expect(prefixedAttributes('arg_', { n: 5, s: 'x', z: null })).toEqual({ arg_n: 5, arg_s: 'x' });
    expect(prefixedAttributes('arg_', undefined)).toEqual({});
  });
});
