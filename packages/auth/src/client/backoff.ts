/** Exponential backoff for transient authorization-server failures. */

export interface RetryOptions {
  /** First retry delay, in ms. Default: 1000. */
  initialDelayMs?: number | undefined;
  /** Upper bound of the delay, in ms. Default: 60000. */
  maxDelayMs?: number | undefined;
  /** Growth factor between attempts. Default: 2. */
  multiplier?: number | undefined;
}

export interface Backoff {
  /** Delay before the next attempt (grows on each call, ±10 % jitter). */
  next(): number;
  reset(): void;
}

export function validateRetryOptions(retry: RetryOptions | undefined): Required<RetryOptions> {
  const initialDelayMs = retry?.initialDelayMs ?? 1_000;
  const maxDelayMs = retry?.maxDelayMs ?? 60_000;
  const multiplier = retry?.multiplier ?? 2;
  if (!Number.isFinite(initialDelayMs) || initialDelayMs <= 0)
    throw new TypeError('"retry.initialDelayMs" must be a positive number');
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < initialDelayMs)
    throw new TypeError('"retry.maxDelayMs" must be >= "retry.initialDelayMs"');
  if (!Number.isFinite(multiplier) || multiplier < 1) throw new TypeError('"retry.multiplier" must be >= 1');
  return { initialDelayMs, maxDelayMs, multiplier };
}

export function createBackoff(options: Required<RetryOptions>): Backoff {
  let attempt = 0;
  return {
    next() {
      const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.multiplier ** attempt);
      attempt++;
      const jitter = base * 0.1 * (Math.random() * 2 - 1);
      return Math.max(1, Math.round(Math.min(options.maxDelayMs, base + jitter)));
    },
    reset() {
      attempt = 0;
    },
  };
}
