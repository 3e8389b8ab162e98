/**
 * Time, injected. Everything time-based in the alert layer (for/clear timers, deadlines,
 * escalation, offline detection) asks a Clock, so tests drive it with ManualClock instead of
 * sleeping (house style: only the clock and the logger may be faked).
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** run `fn` once at or after `at` (epoch ms) */
  at(at: number, fn: () => void): TimerHandle;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  at(at: number, fn: () => void): TimerHandle {
    // setTimeout's limit is ~24.8 days; re-arm for later deadlines
    const MAX = 2 ** 31 - 1;
    let handle: NodeJS.Timeout;
    const arm = () => {
      const delay = at - Date.now();
      handle = setTimeout(delay > MAX ? arm : fn, Math.max(0, Math.min(delay, MAX)));
      handle.unref();
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  }
}

/**
 * Run `fn` now and then every `periodMs` on `clock` (so a ManualClock drives it in tests), until
 * the handle is cancelled. `fn` handles its own errors: a throw here is a bug, and it still re-arms.
 */
export function repeat(clock: Clock, periodMs: number, fn: () => void): TimerHandle {
  let timer: TimerHandle | undefined;
  let cancelled = false;
  const run = () => {
    try {
      fn();
    } finally {
      if (!cancelled) timer = clock.at(clock.now() + periodMs, run);
    }
  };
  run();
  return {
    cancel: () => {
      cancelled = true;
      timer?.cancel();
    },
  };
}

/** A clock that moves only when told to; due callbacks run in time order during advance(). */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 10, 29, 0, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  at(at: number, fn: () => void): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at, fn });
    return { cancel: () => this.timers.delete(id) };
  }

  /** Move time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let nextId: number | undefined;
      let next: { at: number; fn: () => void } | undefined;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (!next || timer.at < next.at)) {
          next = timer;
          nextId = id;
        }
      }
      if (!next || nextId === undefined) break;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }

  set(t: number): void {
    this.advance(Math.max(0, t - this.t));
  }
}
