/**
 * The owner of the buffer in front of a remote store (Telegraf's "every output owns a bounded
 * buffer", made durable). accept() commits to the on-disk outbox and resolves; a drain loop
 * writes the oldest rows in order, `batchSize` at a time, and deletes them only after the store
 * accepted them. A retryable failure keeps the batch and backs off (1 s doubling to 60 s, with
 * jitter); a non-retryable one (e.g. a point InfluxDB refuses) is logged and the batch dropped,
 * counted as dropped, so one poison batch cannot block the district.
 *
 *   accept ──► outbox (SQLite, WAL) ──► drain ──► store.write(batch) ──► delete ≤ last id
 */
import type { Logger } from 'pino';
import type { Db } from '../stores/sqlite/database.js';
import type { Reading } from '../telemetry/telemetry.js';
import { GroupCommit } from './group-commit.js';
import { SinkError, type CommitHook, type ReadingSink, type ReadingStore, type SinkStatus } from './sink.js';
import { SqliteReadingsTable } from './sqlite/sqlite-readings-table.js';

export interface OutboxOptions {
  batchSize: number;
  flushIntervalMs: number;
  /** first retry delay; doubles up to maxBackoffMs */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface OutboxEvents {
  onBatch?(store: string, size: number, ok: boolean): void;
  onDropped?(store: string, count: number): void;
}

export class OutboxSink implements ReadingSink {
  readonly name: string;
  private readonly outbox: SqliteReadingsTable;
  private readonly group: GroupCommit<Reading>;
  private readonly hooks: CommitHook[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: string | undefined;
  private storeUp = true;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    db: Db,
    private readonly store: ReadingStore,
    private readonly opts: OutboxOptions,
    private readonly log: Logger,
    private readonly events: OutboxEvents = {},
  ) {
    this.name = store.name;
    this.outbox = new SqliteReadingsTable(db, 'influx_outbox');
    const commit = db.transaction((items: Reading[]) => {
      this.outbox.insertMany(items);
      for (const hook of this.hooks) hook(items);
    });
    this.group = new GroupCommit((items) => {
      commit(items);
    });
    this.minBackoffMs = opts.minBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => this.kick(), this.opts.flushIntervalMs);
    this.timer.unref();
    this.kick();
  }

  onCommit(hook: CommitHook): void {
    this.hooks.push(hook);
  }

  accept(readings: readonly Reading[]): Promise<void> {
    const done = this.group.add(readings).catch((err: unknown) => {
      throw new SinkError(`outbox write failed: ${err instanceof Error ? err.message : String(err)}`, true, 'outbox_write_failed', {
        cause: err,
      });
    });
    return done;
  }

  /** Start a drain unless one runs or we are backing off. */
  kick(): void {
    if (this.closed || this.draining || Date.now() < this.nextAttemptAt) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Drain until empty or a failure; resolves when this pass ends. Exposed for tests and close(). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const rows = this.outbox.oldest(this.opts.batchSize);
      if (rows.length === 0) return;
      const lastId = rows[rows.length - 1]!.id;
      try {
        await this.store.write(rows.map((r) => r.reading));
        this.outbox.deleteUpTo(lastId);
        this.events.onBatch?.(this.name, rows.length, true);
        if (!this.storeUp) this.log.info({ sink: this.name, backlog: this.outbox.count() }, 'store recovered; draining backlog');
        this.storeUp = true;
        this.failures = 0;
        this.lastError = undefined;
        this.nextAttemptAt = 0;
      } catch (err) {
        this.events.onBatch?.(this.name, rows.length, false);
        const retryable = err instanceof SinkError ? err.retryable : true;
        this.lastError = err instanceof Error ? err.message : String(err);
        if (!retryable) {
          this.log.error({ sink: this.name, err, dropped: rows.length }, 'store refused a batch; dropped');
          this.outbox.deleteUpTo(lastId);
          this.events.onDropped?.(this.name, rows.length);
          continue;
        }
        if (this.storeUp) this.log.warn({ sink: this.name, err }, 'store unavailable; readings wait in the outbox');
        this.storeUp = false;
        this.failures++;
        const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** (this.failures - 1));
        this.nextAttemptAt = Date.now() + base / 2 + Math.random() * (base / 2);
        return;
      }
    }
  }

  status(): SinkStatus {
    const backlog = this.outbox.count();
    const oldest = this.outbox.oldestReceivedAt();
    return {
      name: this.name,
      ready: this.storeUp,
      backlog,
      backlogAgeS: oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async close(): Promise<void> {
    this.group.flush();
    if (this.timer) clearInterval(this.timer);
    this.closed = true;
    await this.draining;
    await this.store.close();
  }
}
