/**
 * The platform uplink: turns alerts, device presence, readings and building changes into items
 * in a durable outbox, and drains it through each configured adapter (HTTP, MQTT, GB/T 26875.3).
 *
 *   feed alert.* / device.* ─┐                        ┌─► lane "http"    cursor ─► adapter.send(batch)
 *   readings (sink commit) ──┼─► outbox (SQLite) ─────┼─► lane "mqtt"    cursor ─► …
 *   building changes ────────┘   one row per item     └─► lane "gb26875" cursor ─► …
 *
 * Guarantees (issue #6):
 * - at least once: an item leaves the outbox only after every adapter's cursor passed it, and a
 *   cursor moves only after the remote accepted (or the item was dead-lettered);
 * - idempotency: each item's `id` is stable across restarts and redeliveries (the feed sequence
 *   number for alerts and presence, device + seq + ts for readings), so the platform de-duplicates;
 * - order: one cursor per adapter walks the outbox in insertion order, so no item is sent before
 *   an earlier item of the same device (a failing head blocks its lane; that is the price of order);
 * - retries back off exponentially with jitter (backoff.ts) on the injected clock;
 * - dead letters: items older than `deadLetterAfterS` while undelivered, and items the remote
 *   refuses for good (4xx except 429). A refused batch is re-sent one item at a time so that only
 *   the refused item is dead-lettered;
 * - backfill: the outbox simply keeps everything through an outage or a restart; alert and
 *   presence events written to the feed while the uplink was not listening (a crash between the
 *   feed's commit and ours) are picked up from the feed log at start.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { LiveFeed } from '../live-feed/live-feed.js';
import type { FeedEvent } from '../live-feed/model.js';
import type { Building } from '../devices/model.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Reading } from '../telemetry/telemetry.js';
import type { ReadingsPolicies } from '../config/config.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from '../shared/backoff.js';
import {
  UplinkError,
  type DeadLetter,
  type StoredUplinkItem,
  type UplinkAdapter,
  type UplinkAdapterStatus,
  type UplinkItem,
  type UplinkStatusSource,
  type SyncUplinkStore,
} from './model.js';

export type { ReadingsPolicies, ReadingsPolicy } from '../config/config.js';

export interface UplinkEvents {
  onSent?(adapter: string, n: number): void;
  onRetry?(adapter: string): void;
  onDeadLetter?(adapter: string, n: number): void;
}

export interface UplinkServiceDeps {
  store: SyncUplinkStore;
  adapters: readonly UplinkAdapter[];
  feed: LiveFeed;
  clock: Clock;
  log: Logger;
  readings: ReadingsPolicies;
  deadLetterAfterS: number;
  backoff?: BackoffPolicy;
  random?: () => number;
  events?: UplinkEvents;
}

export type BuildingChange = { type: 'building.created' | 'building.updated' | 'building.deleted'; building: Building };

/** Feed event → item. The feed's sequence number makes the key unique and stable. */
export function itemFromFeedEvent(e: FeedEvent): UplinkItem | undefined {
  if (e.type.startsWith('alert.')) {
    const alert = e.data.alert as ({ id: string; deviceId: string | null; buildingId: string | null; history?: unknown[] } & Record<string, unknown>) | undefined;
    if (!alert) return undefined;
    // an installer's test on a device being commissioned never reaches the platform (issue #17 item 6)
    if (alert.commissioning === true) return undefined;
    const { history, ...rest } = alert;
    const change = Array.isArray(history) && history.length > 0 ? history[history.length - 1] : null;
    return {
      id: `${e.type}:${alert.id}:${e.seq}`,
      type: e.type,
      occurredAt: e.at,
      deviceId: alert.deviceId,
      buildingId: e.buildingId ?? alert.buildingId,
      street: e.street,
      data: { alert: rest, change },
    };
  }
  const deviceId = typeof e.data.deviceId === 'string' ? e.data.deviceId : null;
  return { id: `${e.type}:${deviceId ?? '-'}:${e.seq}`, type: e.type, occurredAt: e.at, deviceId, buildingId: e.buildingId, street: e.street, data: { ...e.data } };
}

export function itemFromReading(r: Reading): UplinkItem {
  return {
    // with a seq the key is deterministic (the store keeps one row per device, seq and ts);
    // without one two readings may share a ts, so the key gets a random part (it is stored, and
    // every redelivery reuses it)
    id: `reading:${r.deviceId}:${r.channel}:${r.seq !== undefined ? `${r.seq}:${r.ts}` : `t${r.ts}:${randomBytes(4).toString('hex')}`}`,
    type: 'reading',
    occurredAt: new Date(r.ts).toISOString(),
    deviceId: r.deviceId,
    buildingId: r.buildingId ?? null,
    street: r.street ?? null,
    data: { kind: r.kind, channel: r.channel, ...(r.point ? { point: r.point } : {}), ...(r.seq !== undefined ? { seq: r.seq } : {}), fields: r.fields },
  };
}

export function itemFromBuildingChange(c: BuildingChange, at: number): UplinkItem {
  return {
    id: `${c.type}:${c.building.id}:${c.type === 'building.deleted' ? at : c.building.updatedAt}`,
    type: c.type,
    occurredAt: new Date(at).toISOString(),
    deviceId: null,
    buildingId: c.building.id,
    street: c.building.street,
    data: { building: c.building },
  };
}

/** One adapter's delivery loop. */
class Lane {
  private running: Promise<void> | undefined;
  private retryTimer: TimerHandle | undefined;
  private attempts = 0;
  /** after a refused batch: send one item at a time up to this seq, to find the refused item */
  private isolateUntil = 0;
  private closed = false;
  private up = true;

  constructor(
    readonly adapter: UplinkAdapter,
    private readonly deps: UplinkServiceDeps,
    private readonly onDelivered: () => void,
  ) {}

  kick(): void {
    if (this.closed || this.running || this.retryTimer) return;
    this.running = this.drain()
      .catch((err: unknown) => this.deps.log.error({ err, adapter: this.adapter.name }, 'uplink lane failed'))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Drain until the lane is empty or the adapter fails. Resolves when this pass ends. */
  private async drain(): Promise<void> {
    const { store, clock, events } = this.deps;
    const name = this.adapter.name;
    for (;;) {
      if (this.closed) return;
      this.expire();
      const isolating = this.isolateUntil > 0;
      const batch = store.next(name, isolating ? 1 : this.adapter.maxBatch);
      if (batch.length === 0) {
        this.isolateUntil = 0;
        return;
      }
      const last = batch[batch.length - 1]!;
      try {
        await this.adapter.send(batch);
      } catch (err) {
        if (this.closed) return;
        const e = err instanceof UplinkError ? err : new UplinkError(err instanceof Error ? err.message : String(err), true, { cause: err });
        if (!e.retryable) {
          if (batch.length > 1) {
            this.isolateUntil = last.seq;
            continue;
          }
          this.deps.log.warn({ adapter: name, item: last.id, reason: e.message }, 'platform refused an item; dead-lettered');
          store.deadLetter(name, batch, e.message, clock.now());
          events?.onDeadLetter?.(name, batch.length);
          this.attempts = 0;
          continue;
        }
        store.failed(name, e.message);
        events?.onRetry?.(name);
        if (this.up) this.deps.log.warn({ adapter: name, err: e.message }, 'platform unavailable; items wait in the outbox');
        this.up = false;
        this.attempts++;
        const delay = backoffDelay(this.attempts, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.random);
        this.retryTimer = clock.at(clock.now() + delay, () => {
          this.retryTimer = undefined;
          this.kick();
        });
        return;
      }
      store.delivered(name, last.seq, batch.length, clock.now());
      events?.onSent?.(name, batch.length);
      if (!this.up) this.deps.log.info({ adapter: name, backlog: store.backlog(name).count }, 'platform reachable again; sending the backlog');
      this.up = true;
      this.attempts = 0;
      if (this.isolateUntil > 0 && last.seq >= this.isolateUntil) this.isolateUntil = 0;
      this.onDelivered();
    }
  }

  /** Dead-letter the head of the lane while it is older than UPLINK_DEAD_LETTER_AFTER_S. */
  private expire(): void {
    const { store, clock, events, deadLetterAfterS } = this.deps;
    const cutoff = clock.now() - deadLetterAfterS * 1000;
    for (;;) {
      const old = store.expired(this.adapter.name, cutoff, 500);
      if (old.length === 0) return;
      store.deadLetter(this.adapter.name, old, `not accepted within ${deadLetterAfterS} s`, clock.now());
      events?.onDeadLetter?.(this.adapter.name, old.length);
      this.deps.log.warn({ adapter: this.adapter.name, count: old.length }, 'uplink items expired; dead-lettered');
    }
  }

  /** Stop taking new batches; an adapter's close() aborts the one in flight. */
  stop(): void {
    this.closed = true;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
  }

  async settled(): Promise<void> {
    await this.running;
  }
}

export class UplinkService implements UplinkStatusSource {
  private readonly lanes: Lane[];
  private unsubscribe: (() => void) | undefined;
  private readonly lastSampled = new Map<string, number>();
  private pruneDue = false;

  constructor(private readonly deps: UplinkServiceDeps) {
    this.lanes = deps.adapters.map((a) => new Lane(a, deps, () => (this.pruneDue = true)));
  }

  async start(): Promise<void> {
    for (const a of this.deps.adapters) this.deps.store.lane(a.name);
    // catch up with feed events committed while we were not listening (crash, first start)
    const known = this.deps.store.feedSeq();
    if (known === undefined) this.deps.store.setFeedSeq(this.deps.feed.lastSeq());
    else {
      for (let after = known; ; ) {
        const events = this.deps.feed.since(after, 1000);
        if (events.length === 0) break;
        for (const e of events) this.onFeedEvent(e, false);
        after = events[events.length - 1]!.seq;
      }
    }
    this.unsubscribe = this.deps.feed.subscribe((e) => this.onFeedEvent(e, true));
    for (const a of this.deps.adapters) await a.start?.();
    this.kick();
  }

  private onFeedEvent(e: FeedEvent, live: boolean): void {
    try {
      const item = itemFromFeedEvent(e);
      if (item) this.deps.store.enqueue(item, this.deps.clock.now(), e.seq);
      else this.deps.store.setFeedSeq(e.seq);
    } catch (err) {
      // never let the uplink break the alert path; the event is still in the feed log for the next start
      this.deps.log.error({ err, seq: e.seq }, 'could not queue a feed event for the uplink');
      return;
    }
    if (live) this.kick();
  }

  /**
   * Log processor: queue the items for durable readings (per UPLINK_READINGS). Runs inside the
   * processors' transaction, so a storage failure must propagate (the batch rolls back and is
   * retried); the caller kicks the lanes once the transaction committed. Returns how many were queued.
   */
  queueReadings(readings: readonly Reading[]): number {
    const { default: fallback, byKind } = this.deps.readings;
    if (fallback.mode === 'none' && Object.values(byKind).every((p) => p.mode === 'none')) return 0;
    let queued = 0;
    for (const r of readings) {
      if (r.channel !== 'telemetry') continue; // events become alerts, which are forwarded anyway
      const policy = byKind[r.kind] ?? fallback;
      if (policy.mode === 'none') continue;
      if (policy.mode === 'sample') {
        const last = this.lastSampled.get(r.deviceId);
        if (last !== undefined && r.ts - last < policy.intervalMs && r.ts >= last) continue;
        this.lastSampled.set(r.deviceId, r.ts);
      }
      if (this.deps.store.enqueue(itemFromReading(r), this.deps.clock.now())) queued++;
    }
    return queued;
  }

  /** After a rolled-back batch: forget sampling decisions the rollback undid. */
  resetSampling(): void {
    this.lastSampled.clear();
  }

  onBuildingChange(c: BuildingChange): void {
    try {
      this.deps.store.enqueue(itemFromBuildingChange(c, this.deps.clock.now()), this.deps.clock.now());
    } catch (err) {
      this.deps.log.error({ err, buildingId: c.building.id }, 'could not queue a building change for the uplink');
      return;
    }
    this.kick();
  }

  kick(): void {
    if (this.pruneDue) {
      this.pruneDue = false;
      this.deps.store.prune(this.deps.adapters.map((a) => a.name));
    }
    for (const l of this.lanes) l.kick();
  }

  status(): UplinkAdapterStatus[] {
    const now = this.deps.clock.now();
    return this.deps.adapters.map((a) => {
      const c = this.deps.store.lane(a.name);
      const b = this.deps.store.backlog(a.name);
      return {
        name: a.name,
        backlog: b.count,
        oldestAgeS: b.oldestCreatedAt === null ? 0 : Math.max(0, (now - b.oldestCreatedAt) / 1000),
        retries: c.retries,
        deadLetters: c.deadLetters,
        sent: c.sent,
        lastError: c.lastError,
        lastSuccessAt: c.lastSuccessAt === null ? null : new Date(c.lastSuccessAt).toISOString(),
      };
    });
  }

  deadLetters(adapter: string | undefined, afterId: number, limit: number): DeadLetter[] {
    return this.deps.store.deadLetters(adapter, afterId, limit);
  }

  /** Items waiting for `adapter` (tests, diagnostics). */
  pending(adapter: string, limit = 1000): StoredUplinkItem[] {
    return this.deps.store.next(adapter, limit);
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    for (const l of this.lanes) l.stop();
    for (const a of this.deps.adapters) await a.close();
    await Promise.all(this.lanes.map((l) => l.settled()));
  }
}
