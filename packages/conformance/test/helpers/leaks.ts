/**
 * Leak checks for fault tests: active libuv resources (sockets, servers, timers) by type, and heap
 * after a forced GC. `gc` is exposed at run time (`--expose-gc` cannot be passed to jest workers).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as () => void;

/** Full GC (twice: weak callbacks of the first pass free more on the second). */
export function gc(): void {
  gcFn();
  gcFn();
}

export function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const;
export type ResourceCounts = Record<(typeof WATCHED)[number], number>;

export function resources(): ResourceCounts {
  const info = process.getActiveResourcesInfo();
  const out = { TCPSocketWrap: 0, TCPServerWrap: 0, Timeout: 0 } as ResourceCounts;
  for (const name of info)
    if ((WATCHED as readonly string[]).includes(name)) out[name as keyof ResourceCounts]++;
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits (up to `withinMs`, polling) until no watched resource count exceeds `baseline` + `slack`;
 * returns the last counts. Sockets close asynchronously, so this is eventual, not timed.
 */
export async function settleTo(
  baseline: ResourceCounts,
  options: { withinMs?: number; slack?: Partial<ResourceCounts> } = {},
): Promise<ResourceCounts> {
  const deadline = Date.now() + (options.withinMs ?? 5_000);
  for (;;) {
    const now = resources();
    const ok = WATCHED.every((k) => now[k] <= baseline[k] + (options.slack?.[k] ?? 0));
    if (ok || Date.now() > deadline) return now;
    await sleep(25);
  }
}

/** The counts that grew past `baseline` (empty when nothing leaked). */
export function grown(now: ResourceCounts, baseline: ResourceCounts): Partial<ResourceCounts> {
  const out: Partial<ResourceCounts> = {};
  for (const k of WATCHED) if (now[k] > baseline[k]) out[k] = now[k];
  return out;
}

/** Settles, then returns what still exceeds the baseline (`{}` = no leak). */
export async function leakedSince(
  baseline: ResourceCounts,
  withinMs?: number,
): Promise<Partial<ResourceCounts>> {
  return grown(await settleTo(baseline, { withinMs }), baseline);
}
