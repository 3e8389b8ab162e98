/**
 * The processors: everything that happens to a reading after it is durable — rules → alerts →
 * live feed, the platform uplink's reading items — runs here, off the PUBACK path, in log order
 * (so in order per device), from a saved position.
 *
 *   ReadingLog ──onAppend──► queue (bounded) ──┐
 *        └──── readAfter(cursor) ◄── catch-up ─┴─► transaction { each processor(batch);
 *                                                                 beforeCommit (rule state);
 *                                                                 cursor := last logId }
 *
 * One batch, its effects and the cursor commit together, so a crash (kill -9) in the middle of a
 * batch leaves no trace of it and the restart replays it from the cursor: each alert is raised
 * once, each uplink item queued once. Newly committed readings come straight from the log's
 * notification (no read back); after a restart, a failure or a queue overflow the processors read
 * from the log until they are caught up. A failing batch (the database is locked or full) is
 * rolled back, in-memory state is reloaded from disk, and the batch is retried with backoff.
 * Light traffic is paced (`minIntervalMs`, PROCESSORS_MIN_INTERVAL_MS): a batch starts no sooner
 * than that after the previous one unless a full batch waits, so a trickle of small log commits becomes
 * a few larger batches instead of a commit each (bench/REPORT.md, runs 8 and 9).
 */
import type { SyncCursorStore, ReadingLog } from '../log/reading-log.js';
import { nominalDelay } from '../shared/backoff.js';
import type { OutageReporter } from '../shared/outage.js';
import type { Reading } from '../telemetry/telemetry.js';

export interface Processor {
  readonly name: string;
  /** Synchronous: runs inside the batch's transaction; what it writes commits with the cursor. */
  process(readings: readonly Reading[]): void;
}

export interface LogProcessorsDeps {
  log: ReadingLog;
  cursors: SyncCursorStore;
  processors: readonly Processor[];
  /**
   * Run `fn` (synchronous) as one transaction, and hold back side effects such as live-feed pushes
   * until it committed. SQLite: one better-sqlite3 transaction, returning at once; PostgreSQL: a
   * write scope (services/shared/write-scope.ts), resolving once its writes committed.
   */
  transaction: <T>(fn: () => T) => T | Promise<T>;
  /** inside the transaction, after the processors (e.g. save the rule state the batch changed) */
  beforeCommit?: () => void;
  /** after a failed batch: drop in-memory state that the rollback undid (reload it from disk) */
  onRollback?: () => void | Promise<void>;
  outages: OutageReporter;
  onLag?: (lag: number) => void;
  batchSize?: number;
  maxQueued?: number;
  /**
   * Least time between the starts of two batches while fewer than `batchSize` readings wait
   * (default 4 ms; 0: none). Light traffic would otherwise commit a batch per log commit — at 5,000
   * readings/s some 480 commits of ~11 readings a second, a fifth of the main thread (bench/REPORT.md
   * run 8); a full batch never waits.
   */
  minIntervalMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * A log that several nodes append to (PostgreSQL, ADR 0008): the processors read every batch
   * from the log, in id order, because this node's own appends (onAppend) are not all there is — a
   * queue of them would carry gaps where other nodes' readings go, and the cursor would pass those
   * by. An append here starts a read at once; `pollMs` reads again for the other nodes' appends.
   */
  shared?: { pollMs: number };
  /**
   * Whether this node may process now (PostgreSQL: it holds the processors' lease, pg-lease.ts;
   * one node at a time consumes the shared log). Absent: always. `resume()` after it turns true.
   */
  active?: () => boolean;
}

export const PROCESSORS_CURSOR = 'processors';

/**
 * Readings read back from the log whose commit this process did not see (appended before a
 * restart, or by another node): the time they were read back stands in for their commit, an upper
 * bound (an alert's `durableAt`, issue #15 item 4; services/alerts/alarm-clocks.ts).
 */
function readBack(batch: Reading[], now: number): void {
  for (const r of batch) {
    if (r.durableAt !== undefined) continue;
    r.durableAt = now;
    r.durableReadBack = true;
  }
}

export class LogProcessors {
  private queue: Reading[] = [];
  private fromDisk = true;
  private cursor = 0;
  private newest = 0;
  private running = false;
  private scheduled = false;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly batchSize: number;
  private readonly maxQueued: number;
  private readonly minIntervalMs: number;
  /** performance.now() when the last batch started (pacing) */
  private lastBatchAt = -Infinity;
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly deps: LogProcessorsDeps) {
    this.batchSize = deps.batchSize ?? 1000;
    this.maxQueued = deps.maxQueued ?? 50_000;
    this.minIntervalMs = deps.minIntervalMs ?? 4;
  }

  async start(): Promise<void> {
    this.cursor = this.deps.cursors.get(PROCESSORS_CURSOR) ?? 0;
    this.newest = await this.deps.log.lastId();
    this.deps.log.onAppend((batch) => this.enqueue(batch));
    const shared = this.deps.shared;
    if (shared) {
      this.poll = setInterval(() => {
        this.fromDisk = true;
        this.kick();
      }, shared.pollMs);
      this.poll.unref();
    }
    this.kick();
  }

  /**
   * This node may process again (it took the lease over): start from the stored position, which
   * the node that processed before moved on, and read the log from there.
   */
  async resume(): Promise<void> {
    this.cursor = this.deps.cursors.get(PROCESSORS_CURSOR) ?? 0;
    // the newest id is only for the lag: a log that cannot answer now (a replicated log electing a
    // leader) must not undo the take-over
    this.newest = Math.max(this.newest, await this.deps.log.lastId().catch(() => this.newest));
    this.queue = [];
    this.fromDisk = true;
    this.kick();
  }

  /** Position of the last processed reading. */
  position(): number {
    return this.cursor;
  }

  lag(): number {
    return Math.max(0, this.newest - this.cursor);
  }

  private enqueue(batch: readonly Reading[]): void {
    const last = batch[batch.length - 1]?.logId;
    if (last !== undefined && last > this.newest) this.newest = last;
    if (this.deps.shared) this.fromDisk = true;
    else if (this.queue.length + batch.length > this.maxQueued) {
      this.queue = [];
      this.fromDisk = true;
    } else {
      for (const r of batch) this.queue.push(r);
    }
    this.kick();
  }

  private kick(): void {
    if (this.scheduled || this.running || this.closed || this.retryTimer) return;
    if (this.deps.active && !this.deps.active()) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.run();
    };
    const wait = this.lastBatchAt + this.minIntervalMs - performance.now();
    if (wait > 0 && !this.fromDisk && this.queue.length < this.batchSize) setTimeout(go, wait);
    else setImmediate(go);
  }

  private async run(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      for (;;) {
        if (this.deps.active && !this.deps.active()) break; // the lease was lost: the next holder goes on
        let batch: Reading[];
        // the position this batch follows: its commit is only valid from there
        const base = this.cursor;
        if (this.fromDisk) {
          // cleared before the read: a queue overflow during it sets it again, and we read again
          this.fromDisk = false;
          batch = await this.deps.log.readAfter(this.cursor, this.batchSize);
          if (batch.length === this.batchSize) this.fromDisk = true;
          readBack(batch, Date.now());
        } else {
          let skip = 0;
          while (skip < this.queue.length && (this.queue[skip]!.logId ?? 0) <= this.cursor) skip++;
          batch = this.queue.slice(skip, skip + this.batchSize);
          this.queue.splice(0, skip + batch.length);
        }
        if (batch.length === 0) break;
        const outcome = await this.processBatch(batch, base);
        if (outcome === 'failed') return;
        if (outcome === 'stale') {
          // the stored position moved under this batch (another node processed, or the lease was
          // taken over while it was read): read again from there
          this.cursor = this.deps.cursors.get(PROCESSORS_CURSOR) ?? 0;
          this.queue = [];
          this.fromDisk = true;
          continue;
        }
        if (this.closed) break;
      }
    } finally {
      this.running = false;
    }
    this.deps.onLag?.(this.lag());
    if (this.queue.length === 0 && !this.fromDisk) {
      for (const w of this.idleWaiters.splice(0)) w();
    } else this.kick();
  }

  /**
   * One batch, atomically: 'failed' (a retry is scheduled), 'stale' (it was read after `base`, but
   * the stored position is no longer `base`: nothing was done) or 'done'.
   */
  private async processBatch(batch: readonly Reading[], base: number): Promise<'done' | 'stale' | 'failed'> {
    const last = batch[batch.length - 1]!.logId!;
    let stale = false;
    this.lastBatchAt = performance.now();
    try {
      await this.deps.transaction(() => {
        // checked inside the step, where the position is what this batch's commit will move
        if ((this.deps.cursors.get(PROCESSORS_CURSOR) ?? 0) !== base) {
          stale = true;
          return;
        }
        for (const p of this.deps.processors) p.process(batch);
        this.deps.beforeCommit?.();
        this.deps.cursors.set(PROCESSORS_CURSOR, last);
      });
    } catch (err) {
      this.deps.outages.failed('processors', err);
      try {
        await this.deps.onRollback?.();
      } catch {
        /* reloading failed too: the retry reloads again */
      }
      this.queue = [];
      this.fromDisk = true;
      this.failures++;
      const delay = nominalDelay(this.failures, { minMs: this.deps.minBackoffMs ?? 200, maxMs: this.deps.maxBackoffMs ?? 10_000 });
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, delay);
      this.retryTimer.unref();
      return 'failed';
    }
    if (stale) return 'stale';
    this.cursor = last;
    if (this.failures > 0) {
      this.failures = 0;
      this.deps.outages.ok('processors');
    }
    return 'done';
  }

  /** Resolves once everything appended so far is processed (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled && this.queue.length === 0 && !this.fromDisk && !this.retryTimer) return Promise.resolve();
    if (this.deps.active && !this.deps.active()) return Promise.resolve(); // another node processes
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick();
    });
  }

  /** Process what is queued (bounded wait), then stop. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    if (!this.retryTimer) await Promise.race([this.idle(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.poll) clearInterval(this.poll);
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
