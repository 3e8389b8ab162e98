/**
 * Forwards the reading log to a remote store (InfluxDB) from its own cursor, in batches, so the
 * store being down or slow never holds up the PUBACK or the alerts (Telegraf's "every output owns
 * a buffer", where the buffer is the durable log itself).
 *
 *   log (committed) ──readAfter(cursor, batchSize)──► store.write(batch) ──► cursor := last logId
 *
 * A retryable failure keeps the cursor and backs off (1 s doubling to 60 s, with jitter); a
 * non-retryable one (a point the store refuses) is logged, counted as dropped, and passed, so one
 * poison batch cannot block the district. A replay after a crash re-sends a batch whose cursor was
 * not saved: the points carry the same times (from the logId), so InfluxDB overwrites, never adds.
 */
import type { Logger } from 'pino';
import type { SyncCursorStore, ReadingLog } from '../log/reading-log.js';
import { backoffDelay } from '../shared/backoff.js';
import { SinkError, type ReadingStore } from '../storage/reading-store.js';

export interface ForwarderStatus {
  name: string;
  /** the remote store took the last batch (false while it fails) */
  ready: boolean;
  /** readings in the log not yet forwarded */
  backlog: number;
  /** age in seconds of the oldest reading not yet forwarded */
  backlogAgeS: number;
  lastError?: string;
}

export interface ForwarderOptions {
  batchSize: number;
  flushIntervalMs: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Whether this node forwards now (PostgreSQL: the holder of the processors' lease; the log is
   * shared and one node forwards it). Absent: always. `resume()` once it turns true.
   */
  active?: () => boolean;
}

export interface ForwarderEvents {
  onBatch?(store: string, size: number, ok: boolean): void;
  onDropped?(store: string, count: number): void;
  /** saving the forwarding position failed (it is tried again with the next batch) / worked */
  onPositionError?(err: unknown): void;
  onPositionSaved?(): void;
}

export class StoreForwarder {
  readonly name: string;
  private cursor = 0;
  private newest = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: string | undefined;
  private storeUp = true;
  private oldestWaitingAt: number | undefined;

  constructor(
    private readonly log: ReadingLog,
    private readonly cursors: SyncCursorStore,
    private readonly store: ReadingStore,
    private readonly opts: ForwarderOptions,
    private readonly logger: Logger,
    private readonly events: ForwarderEvents = {},
  ) {
    this.name = store.name;
  }

  private get cursorName(): string {
    return `store:${this.store.name}`;
  }

  async start(): Promise<void> {
    this.newest = await this.log.lastId();
    // no saved position (a store added to an existing installation): forward everything the log
    // still holds, so the store gets the history the embedded store kept
    this.cursor = this.cursors.get(this.cursorName) ?? 0;
    this.log.onAppend((batch) => {
      const last = batch[batch.length - 1]?.logId ?? 0;
      if (last > this.newest) this.newest = last;
      if (this.oldestWaitingAt === undefined) this.oldestWaitingAt = batch[0]?.receivedAt;
      this.kick();
    });
    this.timer = setInterval(() => this.kick(), this.opts.flushIntervalMs);
    this.timer.unref();
    this.kick();
  }

  position(): number {
    return this.cursor;
  }

  /** This node forwards again (it took the lease over): from the stored position, which another node moved. */
  resume(): void {
    this.cursor = this.cursors.get(this.cursorName) ?? 0;
    this.kick();
  }

  kick(): void {
    if (this.closed || this.draining || Date.now() < this.nextAttemptAt) return;
    if (this.opts.active && !this.opts.active()) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Forward until caught up or a failure. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.closed || (this.opts.active && !this.opts.active())) return;
      const rows = await this.log.readAfter(this.cursor, this.opts.batchSize);
      if (rows.length === 0) {
        this.oldestWaitingAt = undefined;
        return;
      }
      const last = rows[rows.length - 1]!.logId!;
      // the oldest reading not yet forwarded: also after a restart with a backlog, and all through a long drain
      this.oldestWaitingAt = rows[0]!.receivedAt;
      try {
        await this.store.write(rows);
        this.advance(last);
        this.events.onBatch?.(this.name, rows.length, true);
        if (!this.storeUp) this.logger.info({ sink: this.name, backlog: this.newest - this.cursor }, 'store recovered; forwarding the backlog');
        this.storeUp = true;
        this.failures = 0;
        this.lastError = undefined;
        this.nextAttemptAt = 0;
      } catch (err) {
        this.events.onBatch?.(this.name, rows.length, false);
        const retryable = err instanceof SinkError ? err.retryable : true;
        this.lastError = err instanceof Error ? err.message : String(err);
        if (!retryable) {
          this.logger.error({ sink: this.name, err, dropped: rows.length }, 'store refused a batch; dropped');
          this.advance(last);
          this.events.onDropped?.(this.name, rows.length);
          continue;
        }
        if (this.storeUp) this.logger.warn({ sink: this.name, err }, 'store unavailable; readings wait in the log');
        this.storeUp = false;
        this.failures++;
        this.nextAttemptAt = Date.now() + backoffDelay(this.failures, { minMs: this.opts.minBackoffMs ?? 1000, maxMs: this.opts.maxBackoffMs ?? 60_000 });
        this.oldestWaitingAt = rows[0]!.receivedAt;
        return;
      }
    }
  }

  private advance(position: number): void {
    this.cursor = position;
    try {
      this.cursors.set(this.cursorName, position);
      this.events.onPositionSaved?.();
    } catch (err) {
      // the batch is in the store; if the position is lost, a restart re-sends it (same points)
      if (this.events.onPositionError) this.events.onPositionError(err);
      else this.logger.warn({ sink: this.name, err }, 'could not save the forwarding position');
    }
  }

  status(): ForwarderStatus {
    const backlog = Math.max(0, this.newest - this.cursor);
    const oldest = backlog > 0 ? this.oldestWaitingAt : undefined;
    return {
      name: this.name,
      ready: this.storeUp,
      backlog,
      backlogAgeS: oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.draining;
    await this.store.close();
  }
}
