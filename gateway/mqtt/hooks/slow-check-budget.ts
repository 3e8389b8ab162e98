/**
 * The budget for slow credential checks (scrypt, ~50 ms of CPU each) that unauthenticated peers
 * can cause. Only legacy device hashes still need one (docs/adr/0007-device-credential-hashing.md);
 * everything else is checked in microseconds and never asks.
 *
 * - Global: at most `maxConcurrent` slow checks run at once (each occupies a libuv thread and a
 *   core), so a flood from many addresses costs at most that many cores, never the broker's thread.
 * - Per address: a token bucket of `perAddressBurst` checks, refilled one per `perAddressRefillMs`.
 *   A check that succeeds gives its token back (an honest device is checked once and upgraded), so
 *   only failures spend the budget and a building's devices behind one NAT do not starve each other.
 *
 * When either is spent the CONNECT is refused at once (CONNACK 3, "server unavailable"); the
 * device retries as it would after any refusal.
 */
import { availableParallelism } from 'node:os';

export interface SlowCheckLimits {
  maxConcurrent: number;
  perAddressBurst: number;
  perAddressRefillMs: number;
}

export const DEFAULT_SLOW_CHECK_LIMITS: SlowCheckLimits = {
  // leave a core for the broker's thread
  maxConcurrent: Math.max(1, Math.min(4, availableParallelism() - 1)),
  perAddressBurst: 5,
  perAddressRefillMs: 12_000,
};

/** Entries beyond this are swept (full buckets dropped) so many addresses cannot grow the map for ever. */
const SWEEP_AT = 4096;

export type SlowCheckRefusal = 'global' | 'address';

export class SlowCheckBudget {
  private running = 0;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limits: SlowCheckLimits = DEFAULT_SLOW_CHECK_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admit one slow check for `addr`: a function to call with its outcome when done, or why not. */
  acquire(addr: string): ((ok: boolean) => void) | SlowCheckRefusal {
    const t = this.now();
    const bucket = this.refill(addr, t);
    if (bucket.tokens < 1) return 'address';
    if (this.running >= this.limits.maxConcurrent) return 'global';
    bucket.tokens -= 1;
    this.running++;
    let done = false;
    return (ok: boolean) => {
      if (done) return;
      done = true;
      this.running--;
      if (ok) {
        const b = this.refill(addr, this.now());
        b.tokens = Math.min(this.limits.perAddressBurst, b.tokens + 1);
      }
    };
  }

  /** slow checks running now */
  inFlight(): number {
    return this.running;
  }

  private refill(addr: string, t: number): { tokens: number; at: number } {
    const { perAddressBurst: burst, perAddressRefillMs: every } = this.limits;
    let b = this.buckets.get(addr);
    if (!b) {
      if (this.buckets.size >= SWEEP_AT) this.sweep(t);
      b = { tokens: burst, at: t };
      this.buckets.set(addr, b);
      return b;
    }
    if (b.tokens < burst) {
      const add = Math.floor((t - b.at) / every);
      if (add > 0) {
        b.tokens = Math.min(burst, b.tokens + add);
        b.at = b.tokens === burst ? t : b.at + add * every;
      }
    } else b.at = t;
    return b;
  }

  private sweep(t: number): void {
    const { perAddressBurst: burst, perAddressRefillMs: every } = this.limits;
    for (const [addr, b] of this.buckets) if (b.tokens + (t - b.at) / every >= burst) this.buckets.delete(addr);
  }
}
