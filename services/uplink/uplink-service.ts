/**
 * The platform uplink: turns alerts, device presence, readings and building changes into items
 * in a durable outbox, and drains it through each configured adapter (HTTP, MQTT, GB/T 26875.3).
 *
 *   feed alert.* / device.* ─┐                        ┌─► lane "http"    cursor ─► adapter.send(batch)
 *   readings (sink commit) ──┼─► outbox (store) ──────┼─► lane "mqtt"    cursor ─► …
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
 *
 * The store is awaitable (docs/adr/0008): SqliteUplinkStore answers at once, PgUplinkStore later.
 * Three kinds of call, by where they run:
 * - *Awaited*, in the service's own asynchronous work: the lanes (next, delivered, failed,
 *   deadLetter, expired, backlog), `start` (lanes, the feed catch-up), `prune`, and the reads for
 *   the API (`readStatus`, `deadLetters`, `readPending`). Each store call is its own transaction.
 * - *Staged*, inside someone else's transaction: `queueReadings` runs synchronously inside the
 *   processors' batch, which must commit the reading items with the rules' writes and the log
 *   position or not at all. With `stage` (PostgreSQL: `(w) => scope.write(w)`, the batch's write
 *   scope) the enqueues are queued there and commit with the batch; without it the store is called
 *   at once and must answer at once (SQLite: it joins the batch's better-sqlite3 transaction). It
 *   never awaits: the batch is synchronous, and an await would let the batch commit first.
 * - *After someone else's commit*, in order: feed events and building changes reach the service
 *   from listeners that run once the producing transaction committed (LiveFeed pushes after the
 *   commit: `holding` on SQLite, the scope's afterCommit on PostgreSQL; the registry emits building
 *   changes from its unit of work's afterCommit, on both engines). No transaction is open there to
 *   join, so each enqueue is its own transaction, run one after the other in arrival order (so the
 *   feed position only moves forward), and kicks the lanes once it committed. Over a store that
 *   answers at once (SQLite) it runs at once, in the listener, as it always did. These are not
 *   staged: a write scope's implicit scope would commit them too, but the service could not tell
 *   when to kick its lanes, and a failure would reload every mirror of the node.
 * - `status()` (the metrics, read at scrape time, synchronously) answers from what the lanes last
 *   read: counters re-read after each delivery, retry and dead letter, the backlog read when a lane
 *   empties or fails and at each status()/readStatus(). Over a store that answers at once that read
 *   happens inside the call, so the answer is exact, as before; over PostgreSQL status() answers
 *   with the last read and starts the next, so the backlog gauges lag by one scrape at most.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { LiveFeed } from '../live-feed/live-feed.js';
import type { FeedEvent } from '../live-feed/model.js';
import type { Building } from '../devices/model.js';
import type { Awaitable } from '../shared/awaitable.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { isThenable } from '../shared/unit-of-work.js';
import type { Reading } from '../telemetry/telemetry.js';
import type { ReadingsPolicies } from '../config/config.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from '../shared/backoff.js';
import {
  UplinkError,
  type AdapterCounters,
  type DeadLetter,
  type StoredUplinkItem,
  type UplinkAdapter,
  type UplinkAdapterStatus,
  type UplinkItem,
  type UplinkStatusSource,
  type UplinkStore,
} from './model.js';

export type { ReadingsPolicies, ReadingsPolicy } from '../config/config.js';

export interface UplinkEvents {
  onSent?(adapter: string, n: number): void;
  /** the remote accepted `items`: the send started at `sentAt` and resolved at `confirmedAt` (epoch ms; an alert's clocks, issue #15 item 4) */
  onDelivered?(adapter: string, items: readonly StoredUplinkItem[], sentAt: number, confirmedAt: number): void;
  onRetry?(adapter: string): void;
  onDeadLetter?(adapter: string, n: number): void;
}

export interface UplinkServiceDeps {
  store: UplinkStore;
  adapters: readonly UplinkAdapter[];
  feed: LiveFeed;
  clock: Clock;
  log: Logger;
  readings: ReadingsPolicies;
  deadLetterAfterS: number;
  backoff?: BackoffPolicy;
  random?: () => number;
  events?: UplinkEvents;
  /**
   * Queues a store write in the transaction the caller of `queueReadings` is in, to commit with it
   * (PostgreSQL: `(w) => scope.write(w)`, the processors' write scope). Absent, queueReadings calls
   * the store at once, and the store must answer at once (SQLite, inside the batch's transaction).
   */
  stage?: (write: () => Awaitable<unknown>) => void;
  /**
   * Whether this node sends now (PostgreSQL: the holder of the processors' lease; the outbox is
   * shared, and two nodes draining one lane would send its items twice). Absent: always. Kick the
   * service once it turns true.
   */
  active?: () => boolean;
}

type Backlog = { count: number; oldestCreatedAt: number | null };

const noop = (): void => undefined;

/**
 * Runs `write`, then `ok` with its result or `failed` with its error: at once when it answered at
 * once (SQLite), once it settled when it answered with a promise. Never throws nor rejects for `write`.
 */
function settle<T>(write: () => Awaitable<T>, ok: (v: T) => void, failed: (err: unknown) => void): Awaitable<void> {
  let out: Awaitable<T>;
  try {
    out = write();
  } catch (err) {
    failed(err);
    return;
  }
  if (!isThenable(out)) {
    ok(out as T);
    return;
  }
  return Promise.resolve(out).then(ok, failed);
}

export type BuildingChange = { type: 'building.created' | 'building.updated' | 'building.deleted'; building: Building };

/** Feed event → item. The feed's sequence number makes the key unique and stable. */
export function itemFromFeedEvent(e: FeedEvent): UplinkItem | undefined {
  // the centre's duty checks are between the duty room and that centre, not items for the platforms;
  // an incident is the duty board's grouping of alerts the platforms receive one by one
  if (e.type.startsWith('duty_check.') || e.type.startsWith('incident.')) return undefined;
  // an alert's clocks (shown on a console, forwarded) are the duty room's; a change that matters to
  // the platform comes as its own event, and forwarding them would time their own forwarding
  if (e.type === 'alert.clocks') return undefined;
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
  /** kicked while a pass was running: run another once it ends (it may have read before the kick's items committed) */
  private again = false;
  private retryTimer: TimerHandle | undefined;
  private attempts = 0;
  /** after a refused batch: send one item at a time up to this seq, to find the refused item */
  private isolateUntil = 0;
  private closed = false;
  private up = true;
  /** what status() answers from: the last counters and backlog read, each with the ticket of its read */
  private counters: AdapterCounters | undefined;
  private backlog: Backlog | undefined;
  private countersTicket = 0;
  private backlogTicket = 0;
  private tickets = 0;

  constructor(
    readonly adapter: UplinkAdapter,
    private readonly deps: UplinkServiceDeps,
    private readonly onDelivered: () => void,
  ) {}

  kick(): void {
    if (this.closed || this.retryTimer) return;
    if (this.deps.active && !this.deps.active()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    this.running = this.drain()
      .catch((err: unknown) => this.deps.log.error({ err, adapter: this.adapter.name }, 'uplink lane failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) this.kick();
      });
  }

  /** Drain until the lane is empty or the adapter fails. Resolves when this pass ends. */
  private async drain(): Promise<void> {
    const { store, clock, events } = this.deps;
    const name = this.adapter.name;
    for (;;) {
      if (this.closed || (this.deps.active && !this.deps.active())) return;
      await this.expire();
      if (this.closed) return;
      const isolating = this.isolateUntil > 0;
      const ticket = this.ticket();
      const batch = await store.next(name, isolating ? 1 : this.adapter.maxBatch);
      if (batch.length === 0) {
        this.isolateUntil = 0;
        this.observeBacklog(ticket, { count: 0, oldestCreatedAt: null });
        return;
      }
      const last = batch[batch.length - 1]!;
      const sentAt = clock.now();
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
          await store.deadLetter(name, batch, e.message, clock.now());
          events?.onDeadLetter?.(name, batch.length);
          this.attempts = 0;
          await this.reread(false);
          continue;
        }
        await store.failed(name, e.message);
        events?.onRetry?.(name);
        if (this.up) this.deps.log.warn({ adapter: name, err: e.message }, 'platform unavailable; items wait in the outbox');
        this.up = false;
        this.attempts++;
        if (this.closed) return;
        const delay = backoffDelay(this.attempts, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.random);
        this.retryTimer = clock.at(clock.now() + delay, () => {
          this.retryTimer = undefined;
          this.kick();
        });
        await this.reread(true);
        return;
      }
      const confirmedAt = clock.now();
      await store.delivered(name, last.seq, batch.length, confirmedAt);
      events?.onSent?.(name, batch.length);
      events?.onDelivered?.(name, batch, sentAt, confirmedAt);
      if (!this.up) {
        const ticket = this.ticket();
        const backlog = await store.backlog(name);
        this.observeBacklog(ticket, backlog);
        this.deps.log.info({ adapter: name, backlog: backlog.count }, 'platform reachable again; sending the backlog');
      }
      this.up = true;
      this.attempts = 0;
      if (this.isolateUntil > 0 && last.seq >= this.isolateUntil) this.isolateUntil = 0;
      await this.reread(false);
      this.onDelivered();
    }
  }

  /** Dead-letter the head of the lane while it is older than UPLINK_DEAD_LETTER_AFTER_S. */
  private async expire(): Promise<void> {
    const { store, clock, events, deadLetterAfterS } = this.deps;
    const cutoff = clock.now() - deadLetterAfterS * 1000;
    for (;;) {
      const old = await store.expired(this.adapter.name, cutoff, 500);
      if (old.length === 0) return;
      await store.deadLetter(this.adapter.name, old, `not accepted within ${deadLetterAfterS} s`, clock.now());
      events?.onDeadLetter?.(this.adapter.name, old.length);
      this.deps.log.warn({ adapter: this.adapter.name, count: old.length }, 'uplink items expired; dead-lettered');
      await this.reread(false);
    }
  }

  /**
   * Counters (and the backlog, when asked) as stored now, for status(). Best effort: the
   * delivery it follows is stored already, and a failed read only leaves status() a step behind.
   */
  private async reread(backlog: boolean): Promise<void> {
    try {
      const ticket = this.ticket();
      this.observeCounters(ticket, await this.deps.store.lane(this.adapter.name));
      if (backlog) this.observeBacklog(ticket, await this.deps.store.backlog(this.adapter.name));
    } catch (err) {
      this.deps.log.debug({ err, adapter: this.adapter.name }, 'could not read the uplink lane counters');
    }
  }

  /** Reads counters and backlog for status(): at once over a store that answers at once. */
  read(): Awaitable<void> {
    const ticket = this.ticket();
    const counters = this.deps.store.lane(this.adapter.name);
    const backlog = this.deps.store.backlog(this.adapter.name);
    if (!isThenable(counters) && !isThenable(backlog)) {
      this.observe(ticket, counters as AdapterCounters, backlog as Backlog);
      return;
    }
    return Promise.all([counters, backlog]).then(([c, b]) => this.observe(ticket, c, b));
  }

  /** A read's ticket: what a read returns is kept unless a read started after it was kept first. */
  private ticket(): number {
    return ++this.tickets;
  }

  private observe(ticket: number, counters: AdapterCounters, backlog: Backlog): void {
    this.observeCounters(ticket, counters);
    this.observeBacklog(ticket, backlog);
  }

  private observeCounters(ticket: number, counters: AdapterCounters): void {
    if (ticket < this.countersTicket) return;
    this.countersTicket = ticket;
    this.counters = counters;
  }

  private observeBacklog(ticket: number, backlog: Backlog): void {
    if (ticket < this.backlogTicket) return;
    this.backlogTicket = ticket;
    this.backlog = backlog;
  }

  /** Creates the lane's row when it is new (at the newest item) and keeps its counters. */
  async open(): Promise<void> {
    const ticket = this.ticket();
    this.observeCounters(ticket, await this.deps.store.lane(this.adapter.name));
  }

  status(now: number): UplinkAdapterStatus {
    const c = this.counters;
    const b = this.backlog ?? { count: 0, oldestCreatedAt: null };
    return {
      name: this.adapter.name,
      backlog: b.count,
      oldestAgeS: b.oldestCreatedAt === null ? 0 : Math.max(0, (now - b.oldestCreatedAt) / 1000),
      retries: c?.retries ?? 0,
      deadLetters: c?.deadLetters ?? 0,
      sent: c?.sent ?? 0,
      lastError: c?.lastError ?? null,
      lastSuccessAt: c?.lastSuccessAt == null ? null : new Date(c.lastSuccessAt).toISOString(),
    };
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
  private pruning: Promise<void> | undefined;
  /** the last of the enqueues made after someone else's commit (feed events, building changes) still running */
  private writing: Promise<void> | undefined;
  /** status()'s read in flight over a store that answers later */
  private statusRead: Promise<void> | undefined;

  constructor(private readonly deps: UplinkServiceDeps) {
    this.lanes = deps.adapters.map((a) => new Lane(a, deps, () => (this.pruneDue = true)));
  }

  /**
   * Opens the lanes, catches up with the feed, then listens to it and kicks the lanes.
   *
   * Catching up (crash semantics, the same on both engines): an alert's feed event commits with
   * the alert (seq N in the feed log); the listener is told only after that commit, and its
   * enqueue writes the item and the feed position N in one transaction of its own. A process that
   * dies between the two has the alert and its event but not the item, and the position still
   * below N; at the next start the events after the position are read from the feed log and
   * enqueued again. Their ids are made from the feed seq, so an item that did get in is refused as
   * a duplicate and the missing one is added: none lost, none twice. What is not caught up: an
   * enqueue that failed (logged) while a later event's enqueue succeeded (the position moved past
   * it); events older than the feed log keeps (LiveFeed.prune, 7 days); and, on the first start
   * (no position yet), the feed's history, which starts at its last seq. A building change has no
   * such log: one lost to a crash between the registry's commit and its enqueue is not re-sent.
   *
   * Live events that arrive while catching up (the feed's reads are awaited on PostgreSQL) are
   * held and handled after it, those the catch-up already read skipped, so none falls in between.
   */
  async start(): Promise<void> {
    const { store, feed } = this.deps;
    for (const l of this.lanes) await l.open();
    let held: FeedEvent[] | undefined = [];
    this.unsubscribe = feed.subscribe((e) => {
      if (held) held.push(e);
      else void this.onFeedEvent(e, true);
    });
    let caughtUp: number;
    const known = await store.feedSeq();
    if (known === undefined) {
      caughtUp = await feed.lastSeq();
      await store.setFeedSeq(caughtUp);
    } else {
      caughtUp = known;
      for (;;) {
        const events = await feed.since(caughtUp, 1000);
        if (events.length === 0) break;
        for (const e of events) await this.onFeedEvent(e, false);
        caughtUp = events[events.length - 1]!.seq;
      }
    }
    const live = held;
    held = undefined;
    for (const e of live) if (e.seq > caughtUp) void this.onFeedEvent(e, true);
    for (const a of this.deps.adapters) await a.start?.();
    await this.readStatus();
    this.kick();
  }

  /** A feed event (after its commit) → an item, or just the feed position; in arrival order. */
  private onFeedEvent(e: FeedEvent, live: boolean): Awaitable<void> {
    return this.inOrder(() =>
      settle(
        () => {
          const item = itemFromFeedEvent(e);
          return item ? this.deps.store.enqueue(item, this.deps.clock.now(), e.seq) : this.deps.store.setFeedSeq(e.seq);
        },
        () => {
          if (live) this.kick();
        },
        // never let the uplink break the alert path; the event is still in the feed log for the next start
        (err) => this.deps.log.error({ err, seq: e.seq }, 'could not queue a feed event for the uplink'),
      ),
    );
  }

  /**
   * Runs `write` (one of its own transactions) after the ones before it: at once when none is
   * running and the store answers at once (SQLite), chained behind the running one otherwise.
   */
  private inOrder(write: () => Awaitable<void>): Awaitable<void> {
    const before = this.writing;
    const out = before ? before.then(write) : write();
    if (!isThenable(out)) return;
    const mine: Promise<void> = Promise.resolve(out)
      .then(noop, (err: unknown) => this.deps.log.error({ err }, 'uplink enqueue failed'))
      .then(() => {
        if (this.writing === mine) this.writing = undefined;
      });
    this.writing = mine;
    return mine;
  }

  /**
   * Log processor: queue the items for durable readings (per UPLINK_READINGS). Runs synchronously
   * inside the processors' transaction and never awaits: with `stage` the enqueues are queued in
   * that transaction (PostgreSQL: the batch's write scope), without it the store is called at once
   * (SQLite: inside the batch's better-sqlite3 transaction). Either way a storage failure fails the
   * batch (it rolls back and is retried); the caller kicks the lanes once it committed.
   *
   * Returns how many were queued. Without `stage` that is exact: the items the store took as new.
   * With `stage` it is optimistic: the items staged, counted before they are written, so it
   * includes duplicates the store will refuse (a batch replayed after a crash) and what a rollback
   * of the batch undoes.
   */
  queueReadings(readings: readonly Reading[]): number {
    const { default: fallback, byKind } = this.deps.readings;
    if (fallback.mode === 'none' && Object.values(byKind).every((p) => p.mode === 'none')) return 0;
    const { store, stage, clock } = this.deps;
    let queued = 0;
    for (const r of readings) {
      if (r.channel !== 'telemetry') continue; // events become alerts, which are forwarded anyway
      const policy = byKind[r.kind] ?? fallback;
      if (policy.mode === 'none') continue;
      if (policy.mode === 'sample') {
        // decided now, before the batch commits: a rolled-back batch is forgotten by resetSampling()
        const last = this.lastSampled.get(r.deviceId);
        if (last !== undefined && r.ts - last < policy.intervalMs && r.ts >= last) continue;
        this.lastSampled.set(r.deviceId, r.ts);
      }
      const item = itemFromReading(r);
      const at = clock.now();
      if (stage) {
        stage(() => store.enqueue(item, at));
        queued++;
        continue;
      }
      const isNew = store.enqueue(item, at);
      if (isThenable(isNew)) {
        isNew.then(undefined, noop);
        throw new Error(
          'UplinkService.queueReadings: the uplink store answered with a promise, so the enqueue would not commit with the batch; ' +
            'give the service `stage` (the batch\'s write scope)',
        );
      }
      if (isNew) queued++;
    }
    return queued;
  }

  /** After a rolled-back batch: forget sampling decisions the rollback undid. */
  resetSampling(): void {
    this.lastSampled.clear();
  }

  /** A registry building change, told after its commit: its item, in its own transaction, then the lanes. */
  onBuildingChange(c: BuildingChange): void {
    void this.inOrder(() =>
      settle(
        () => {
          const at = this.deps.clock.now();
          return this.deps.store.enqueue(itemFromBuildingChange(c, at), at);
        },
        () => this.kick(),
        (err) => this.deps.log.error({ err, buildingId: c.building.id }, 'could not queue a building change for the uplink'),
      ),
    );
  }

  kick(): void {
    if (this.pruneDue && !this.pruning) {
      this.pruneDue = false;
      const done = settle(
        () => this.deps.store.prune(this.deps.adapters.map((a) => a.name)),
        noop,
        (err) => {
          this.pruneDue = true; // the next kick tries again
          this.deps.log.warn({ err }, 'could not prune the uplink outbox');
        },
      );
      if (done) {
        const p: Promise<void> = done.then(() => {
          if (this.pruning === p) this.pruning = undefined;
        });
        this.pruning = p;
      }
    }
    for (const l of this.lanes) l.kick();
  }

  /**
   * Per adapter, for the metrics (synchronous, at scrape time): over a store that answers at once,
   * read now; over one that answers later, what the lanes and the last read saw, and a new read
   * starts for the next call (file comment).
   */
  status(): UplinkAdapterStatus[] {
    if (!this.statusRead) {
      const read = this.readLanes();
      if (read) {
        const p: Promise<void> = read
          .catch((err: unknown) => this.deps.log.debug({ err }, 'could not read the uplink status'))
          .then(() => {
            if (this.statusRead === p) this.statusRead = undefined;
          });
        this.statusRead = p;
      }
    }
    return this.render();
  }

  /** Per adapter, read from the outbox now (the API). */
  async readStatus(): Promise<UplinkAdapterStatus[]> {
    await this.readLanes();
    return this.render();
  }

  private readLanes(): Promise<void> | undefined {
    const reads = this.lanes.map((l) => l.read());
    return reads.some((r) => isThenable(r)) ? Promise.all(reads).then(noop) : undefined;
  }

  private render(): UplinkAdapterStatus[] {
    const now = this.deps.clock.now();
    return this.lanes.map((l) => l.status(now));
  }

  async deadLetters(adapter: string | undefined, afterId: number, limit: number): Promise<DeadLetter[]> {
    return await this.deps.store.deadLetters(adapter, afterId, limit);
  }

  /**
   * Items waiting for `adapter`, read at once (tests, diagnostics): over a store that answers at
   * once (SQLite) only; over one that answers later it throws, use readPending.
   */
  pending(adapter: string, limit = 1000): StoredUplinkItem[] {
    const out = this.deps.store.next(adapter, limit);
    if (isThenable(out)) {
      out.then(undefined, noop);
      throw new Error('UplinkService.pending: the uplink store answers later (PostgreSQL); await readPending() instead');
    }
    return out as StoredUplinkItem[];
  }

  /** Items waiting for `adapter`, awaited (tests, diagnostics). */
  async readPending(adapter: string, limit = 1000): Promise<StoredUplinkItem[]> {
    return await this.deps.store.next(adapter, limit);
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    for (const l of this.lanes) l.stop();
    for (const a of this.deps.adapters) await a.close();
    await Promise.all(this.lanes.map((l) => l.settled()));
    // the enqueues already told (feed events, building changes) finish before the store closes
    while (this.writing) await this.writing;
    await this.pruning;
    await this.statusRead;
  }
}
