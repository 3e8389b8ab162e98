/**
 * The durable reading log: the line between "accepted" and "processed".
 *
 *   broker ─► pipeline (limit → decode → validate → enrich) ─► ReadingLog.append ─► PUBACK
 *                                                                   │ committed, in order
 *                                                                   ▼
 *                                             processors (rules → alerts → live feed, uplink),
 *                                             store forwarder (InfluxDB), each from its cursor
 *
 * `append` resolves only once the readings are committed (fsync'd with the default
 * SQLITE_SYNCHRONOUS=full), and de-duplication is part of that same write: a reading the log
 * already holds comes back as a duplicate, so "seen" and "stored" are one fact and nothing is
 * remembered before the commit (docs/adr/0006-reading-log.md). A failed or timed-out append
 * rejects with a LogError; the broker then does not acknowledge and the device re-sends.
 *
 * De-duplication (ADR 0006): a reading with a device timestamp is unique on (device, channel, seq,
 * ts); one stamped with our receive time is a duplicate when the same seq and the same fields came
 * within DEDUPE_WINDOW_MS; a reading without `seq` is never a duplicate. The log keeps copies: a
 * caller changing a reading after the append changes nothing in the log. After `close()` (which
 * first commits what was appended before it) appends reject with `log_closed`. The contract suite
 * that every implementation passes, fakes included, is tests/support/reading-log-contract.ts.
 *
 * Implementations: SqliteReadingLog (embedded: the `readings` table, written by a worker thread
 * with group commit) and PgReadingLog (services/storage/postgres/pg-readings.ts: the same table
 * on PostgreSQL, committed before append resolves, group-committed, in id order across nodes);
 * JetStreamReadingLog (services/storage/nats/jetstream-reading-log.ts, cluster mode, not wired yet:
 * a replicated NATS JetStream stream, logIds = stream sequences, de-duplication within the stream's
 * window; docs/adr/0009-jetstream-reading-log.md).
 */
import type { Reading } from '../telemetry/telemetry.js';
import type { Awaitable, Settled } from '../shared/awaitable.js';

export interface AppendResult {
  /** the readings now durable, in log order, each with its `logId` */
  appended: Reading[];
  /** readings the log already held (a QoS 1 redelivery, a re-sent backlog) */
  duplicates: number;
}

export interface LogHealth {
  ok: boolean;
  /** why not, while appends fail (e.g. "database is locked", "database or disk is full") */
  reason?: string;
  /** epoch ms of the first failure of the current outage */
  failingSince?: number;
  /** appends refused since start */
  failures: number;
}

export type AppendListener = (appended: readonly Reading[]) => void;

export interface ReadingLog {
  readonly name: string;
  /** Make the readings durable; resolves after the commit, rejects with LogError. */
  append(readings: readonly Reading[]): Promise<AppendResult>;
  /** Committed readings with logId > afterId, oldest first, at most `limit`. */
  readAfter(afterId: number, limit: number): Promise<Reading[]>;
  /** The newest committed logId (0 when empty). */
  lastId(): Promise<number>;
  /** Called after every commit, in log order, with what it appended (also for appends whose caller timed out). */
  onAppend(listener: AppendListener): void;
  health(): LogHealth;
  start(): Promise<void>;
  /** Commits what is in flight, then stops. */
  close(): Promise<void>;
}

/** A reading with `seq` but no device time is a re-send when the same seq and values came from the device within this (ms). */
export const DEDUPE_WINDOW_MS = 10 * 60_000;

/** A failed append: the readings are not durable and must not be acknowledged. */
export class LogError extends Error {
  constructor(
    message: string,
    readonly code: 'log_write_failed' | 'log_timeout' | 'log_closed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LogError';
  }
}

/**
 * A log's health as /readyz shows it, kept the same way by every implementation: failing from the
 * first failure (its reason the latest one's), ok again at the first success; `failures` counts
 * every failure since start. The hooks report an outage's start and end (metrics, a log line).
 */
export class LogHealthState {
  private state: LogHealth = { ok: true, failures: 0 };

  constructor(private readonly hooks: { onFailure?: (err: LogError) => void; onRecovered?: () => void }) {}

  get ok(): boolean {
    return this.state.ok;
  }

  fail(err: LogError): void {
    this.state.failures++;
    if (this.state.ok) this.state = { ok: false, reason: err.message, failingSince: Date.now(), failures: this.state.failures };
    else this.state.reason = err.message;
    this.hooks.onFailure?.(err);
  }

  recovered(): void {
    if (this.state.ok) return;
    this.state = { ok: true, failures: this.state.failures };
    this.hooks.onRecovered?.();
  }

  health(): LogHealth {
    return { ...this.state };
  }
}

/**
 * When the log's recent commits happened (issue #15 item 4: an alert's `durableAt`), kept by the
 * process that made them, in memory: `committed` stamps the appended readings (before the callers
 * and the listeners hear of them) and remembers the commit's range of logIds; `stamp` gives a
 * reading read back from the log its commit's time while that commit is among the last `max`. A
 * commit's ids form one range (one writer, or appends serialised by a lock, hand them out in order).
 */
export class CommitTimes {
  /** [first logId, last logId, epoch ms], in id order */
  private readonly commits: Array<[number, number, number]> = [];

  constructor(private readonly max = 50_000) {}

  committed(appended: readonly Reading[], at: number): void {
    let first = Infinity;
    let last = -Infinity;
    for (const r of appended) {
      r.durableAt = at;
      const id = r.logId ?? 0;
      if (id < first) first = id;
      if (id > last) last = id;
    }
    if (appended.length === 0) return;
    this.commits.push([first, last, at]);
    // trimmed in steps of a quarter: one shift of the array per max / 4 commits, not one per commit
    if (this.commits.length > this.max + (this.max >> 2)) this.commits.splice(0, this.commits.length - this.max);
  }

  stamp(readings: readonly Reading[]): void {
    const c = this.commits;
    if (c.length === 0) return;
    for (const r of readings) {
      const id = r.logId;
      if (id === undefined || r.durableAt !== undefined || id < c[0]![0] || id > c[c.length - 1]![1]) continue;
      let lo = 0;
      let hi = c.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (c[mid]![1] < id) lo = mid + 1;
        else hi = mid;
      }
      if (c[lo]![0] <= id) r.durableAt = c[lo]![2];
    }
  }
}

/**
 * What every log does after a commit, in one place: the appended readings get their commit time
 * (CommitTimes), then each listener hears of them in log order; a listener that throws is logged,
 * never the append's failure. `stamp` gives readings read back the times of this process's commits.
 */
export class CommittedReadings {
  private readonly listeners: AppendListener[] = [];
  private readonly times = new CommitTimes();

  constructor(private readonly log: { error(obj: object, msg: string): void }) {}

  listen(listener: AppendListener): void {
    this.listeners.push(listener);
  }

  committed(appended: Reading[], at = Date.now()): void {
    this.times.committed(appended, at);
    if (appended.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(appended);
      } catch (err) {
        this.log.error({ err }, 'a log listener threw');
      }
    }
  }

  stamp(readings: readonly Reading[]): void {
    this.times.stamp(readings);
  }
}

/**
 * Where each consumer keeps its position in the log.
 * The contract suite that every implementation passes, fakes included, is tests/support/cursor-store-contract.ts.
 */
export interface CursorStore {
  get(name: string): Awaitable<number | undefined>;
  /** Runs inside the consumer's own transaction where the store supports one. */
  set(name: string, position: number): Awaitable<void>;
}

/** CursorStore answering at once (SQLite): what its service takes while it calls the store synchronously (ADR 0008). */
export type SyncCursorStore = Settled<CursorStore>;

/** The real in-memory fake (tests). */
export class InMemoryCursorStore implements CursorStore {
  private readonly positions = new Map<string, number>();
  get(name: string): number | undefined {
    return this.positions.get(name);
  }
  set(name: string, position: number): void {
    this.positions.set(name, position);
  }
}
