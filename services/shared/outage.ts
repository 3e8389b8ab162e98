/**
 * Storage failures are values with a state: an operation is up or down. The first failure of an
 * outage is logged at once, repeats at most once per `intervalMs` (with how many were suppressed),
 * and the recovery once; every failure is counted. `status()` feeds `/readyz`.
 */
import type { Logger } from 'pino';

interface Outage {
  since: number;
  reason: string;
  failures: number;
  lastLoggedAt: number;
  suppressed: number;
}

export interface OutageStatus {
  ok: boolean;
  failing: Array<{ op: string; reason: string; since: string; failures: number }>;
}

export class OutageReporter {
  private readonly outages = new Map<string, Outage>();

  constructor(
    private readonly log: Logger,
    private readonly count: (op: string) => void,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = 30_000,
  ) {}

  failed(op: string, err: unknown): void {
    this.count(op);
    const reason = err instanceof Error ? err.message : String(err);
    const t = this.now();
    const o = this.outages.get(op);
    if (!o) {
      this.outages.set(op, { since: t, reason, failures: 1, lastLoggedAt: t, suppressed: 0 });
      this.log.error({ op, reason }, 'storage operation failing');
      return;
    }
    o.failures++;
    o.reason = reason;
    if (t - o.lastLoggedAt < this.intervalMs) {
      o.suppressed++;
      return;
    }
    this.log.error({ op, reason, failures: o.failures, suppressedSinceLast: o.suppressed, sinceMs: t - o.since }, 'storage operation still failing');
    o.lastLoggedAt = t;
    o.suppressed = 0;
  }

  ok(op: string): void {
    const o = this.outages.get(op);
    if (!o) return;
    this.outages.delete(op);
    this.log.warn({ op, failures: o.failures, downMs: this.now() - o.since }, 'storage operation recovered');
  }

  isFailing(op: string): boolean {
    return this.outages.has(op);
  }

  status(): OutageStatus {
    return {
      ok: this.outages.size === 0,
      failing: [...this.outages].map(([op, o]) => ({ op, reason: o.reason, since: new Date(o.since).toISOString(), failures: o.failures })),
    };
  }
}
