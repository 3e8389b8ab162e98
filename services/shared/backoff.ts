/**
 * Retry delays: exponential from `minMs`, doubling per failed attempt up to `maxMs`, with "equal
 * jitter" (half fixed, half random) so that many lanes recovering together do not retry in step,
 * yet a retry never comes sooner than half the nominal delay. Pure; `random` is injectable.
 */
export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 1000, maxMs: 5 * 60_000 };

/** Nominal delay before retry number `attempt` (1 = first retry). */
export function nominalDelay(attempt: number, p: BackoffPolicy = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempt));
  // 2 ** 60 is still finite; cap the exponent so that huge attempt counts do not overflow to Infinity
  return Math.min(p.maxMs, p.minMs * 2 ** Math.min(n - 1, 60));
}

/** Delay with jitter, in [nominal / 2, nominal]. */
export function backoffDelay(attempt: number, p: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const base = nominalDelay(attempt, p);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base / 2 + r * (base / 2));
}
