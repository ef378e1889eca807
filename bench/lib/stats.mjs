// Statistics for interleaved benchmark rounds: per-round paired differences against the direct baseline
// measured in the neighbouring window, their median, and a bootstrap confidence interval of that median.
// Pairing cancels the slow drift of a shared machine's load; the interval says whether a difference
// between two figures is real or noise.

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Deterministic PRNG (mulberry32): the same rounds always give the same interval. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Percentile bootstrap interval of the median.
 * @param {number[]} values
 * @param {{ confidence?: number, iterations?: number, seed?: number }} [o]
 * @returns {{ median: number, low: number, high: number }}
 */
export function medianWithInterval(values, o = {}) {
  const confidence = o.confidence ?? 0.9;
  const iterations = o.iterations ?? 4000;
  const random = prng(o.seed ?? 0x5eed);
  const m = median(values);
  if (values.length < 2) return { median: m, low: Number.NaN, high: Number.NaN };
  const boots = new Float64Array(iterations);
  const sample = new Array(values.length);
  for (let b = 0; b < iterations; b++) {
    for (let i = 0; i < values.length; i++) sample[i] = values[Math.floor(random() * values.length)];
    boots[b] = median(sample);
  }
  boots.sort();
  const tail = (1 - confidence) / 2;
  return {
    median: m,
    low: boots[Math.floor(tail * (iterations - 1))],
    high: boots[Math.ceil((1 - tail) * (iterations - 1))],
  };
}

/** `variant[i] - baseline[i]` for every round both were measured in. */
export function pairedDifferences(variant, baseline) {
  const n = Math.min(variant.length, baseline.length);
  const out = [];
  for (let i = 0; i < n; i++) out.push(variant[i] - baseline[i]);
  return out;
}
