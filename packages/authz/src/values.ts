/**
 * JSON → Cedar value mapping, used for call arguments (`context.arg_<name>`) and token claims
 * (`principal.claim_<name>`, `context.claim_<name>`).
 *
 * | JSON                                   | Cedar                                   |
 * |----------------------------------------|-----------------------------------------|
 * | string                                 | String                                  |
 * | true / false                           | Boolean                                 |
 * | integer (safe: ≤ 2^53-1 in magnitude)   | Long (`5` → `5`, so `== 5` matches)     |
 * | other integer (unsafe, already rounded by JSON) | String of the number           |
 * | number with ≤ 4 fraction digits, within ±922337203685477.5807 | `decimal("…")` |
 * | any other number (more digits, exponent, out of range) | String of the number     |
 * | array                                  | Set (elements mapped the same way)      |
 * | object                                 | Record (keys kept as they are)          |
 * | object with a key `__entity`, `__extn` or `__expr` | String (the JSON text)      |
 * | null                                   | omitted (Cedar has no null)             |
 * | nested deeper than `MAX_DEPTH`         | omitted                                 |
 *
 * Rounding a decimal would let `4.99999` pass a check against `decimal("5.0")`, so numbers Cedar's
 * decimal cannot hold exactly become strings: a policy that compares them as decimals then errors,
 * and an evaluation error denies. Objects with Cedar's reserved JSON keys are turned into strings so
 * that a client cannot smuggle an entity reference (`{"__entity": …}`) into a policy's context.
 */
import type { CedarValueJson } from './cedar.js';

/** Records and sets nested deeper than this are dropped (the reference uses 10 too). */
export const MAX_DEPTH = 10;

const RESERVED_KEYS = new Set(['__entity', '__extn', '__expr']);
const DECIMAL_RE = /^-?\d+(?:\.(\d{1,4}))?$/;
/** Largest integer part of a Cedar decimal (i64 / 10^4). */
const DECIMAL_MAX_INT = 922337203685477n;

function decimalOrString(n: number): CedarValueJson {
  const text = String(n);
  const match = DECIMAL_RE.exec(text);
  if (!match) return text;
  const [intPart, frac = ''] = text.replace('-', '').split('.');
  const whole = BigInt(intPart ?? '0');
  if (whole > DECIMAL_MAX_INT) return text;
  if (whole === DECIMAL_MAX_INT && Number(frac.padEnd(4, '0')) > (text.startsWith('-') ? 5808 : 5807)) {
    return text;
  }
  return { __extn: { fn: 'decimal', arg: frac === '' ? `${text}.0` : text } };
}

/**
 * Convert a JSON value to a Cedar JSON value, or `undefined` when it has no Cedar counterpart
 * (`null`, `undefined`, functions, too deep).
 */
export function toCedarValue(value: unknown, depth = 0): CedarValueJson | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) return undefined;
      if (Number.isInteger(value)) return Number.isSafeInteger(value) ? value : String(value);
      return decimalOrString(value);
    case 'bigint':
      return value >= -(2n ** 63n) && value < 2n ** 63n ? Number(value) : value.toString();
    case 'object': {
      if (value === null || depth >= MAX_DEPTH) return undefined;
      if (Array.isArray(value)) {
        const out: CedarValueJson[] = [];
        for (const item of value) {
          const v = toCedarValue(item, depth + 1);
          if (v !== undefined) out.push(v);
        }
        return out;
      }
      const record: Record<string, CedarValueJson> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (RESERVED_KEYS.has(k)) return JSON.stringify(value);
        const mapped = toCedarValue(v, depth + 1);
        if (mapped !== undefined) record[k] = mapped;
      }
      return record;
    }
    default:
      return undefined;
  }
}

/** `{ <prefix><key>: <cedar value> }` for every mappable entry of a JSON object. */
export function prefixedAttributes(
  prefix: string,
  source: Readonly<Record<string, unknown>> | undefined,
): Record<string, CedarValueJson> {
  const out: Record<string, CedarValueJson> = {};
  if (!source || typeof source !== 'object' || Array.isArray(source)) return out;
  for (const [k, v] of Object.entries(source)) {
    const mapped = toCedarValue(v);
    if (mapped !== undefined) out[`${prefix}${k}`] = mapped;
  }
  return out;
}
