/**
 * The embedded ReadingLog: the `readings` table of readings.db is the log (docs/adr/0006), written
 * by one worker thread (sqlite-log-writer.ts) and read here, on the main thread's connection.
 *
 *   append() ─► pending ──(4 batches in flight)───► worker: BEGIN; INSERT OR IGNORE…; COMMIT
 *                  ▲                                     │
 *                  └── next batch goes when ◄────────────┘ ids (0 = duplicate) or the error
 *
 * While one batch commits, the next ones wait at the writer and more gather here, so the commit
 * rate adapts to the load (group commit), a burst costs one fsync per batch, and neither thread
 * waits for the other to finish its part. A batch that fails is refused whole; one that
 * takes longer than `appendTimeoutMs` is refused to its callers (the device re-sends), and if it
 * commits after all, its readings still reach the processors and the re-send is a duplicate.
 * While appends fail, a probe runs every `probeMs` so health comes back without traffic.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CommittedReadings, LogError, LogHealthState, type AppendListener, type AppendResult, type LogHealth, type ReadingLog } from '../../log/reading-log.js';
import type { Reading } from '../../telemetry/telemetry.js';
import type { Db } from './database.js';
import type { FromWriter, ToWriter, WriterOptions } from './sqlite-log-writer.js';
import { readingRow, rowToReading, type ReadingRow } from './sqlite-readings-table.js';

export interface SqliteLogOptions extends WriterOptions {
  appendTimeoutMs: number;
  /** most readings per commit (default 400) */
  maxBatch?: number;
  probeMs?: number;
  log: Logger;
  onBatch?: (size: number) => void;
  onFailure?: (err: LogError) => void;
  onRecovered?: () => void;
}

/**
 * Batches on their way to the writer at once, and readings per batch: measured on 2 cores (bench),
 * four batches of at most 400 kept the writer and the broker thread both busy (fsync ~3 ms a commit),
 * where one or two large batches left each waiting for the other.
 */
const MAX_IN_FLIGHT = 4;

interface Waiter {
  readings: readonly Reading[];
  resolve: (r: AppendResult) => void;
  reject: (e: LogError) => void;
  settled: boolean;
}

interface Batch {
  no: number;
  waiters: Waiter[];
  readings: Reading[];
  sentAt: number;
}

/**
 * The worker's code: the compiled JavaScript next to this file, or — running from source (tests,
 * `node --import tsx`) — the TypeScript through tsx's loader, registered inside the worker
 * (loader hooks given to the main thread do not reach worker threads on Node 20).
 */
function workerSource(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './sqlite-log-writer.ts' : './sqlite-log-writer.js', import.meta.url).href;
  return fromSource
    ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`
    : `import(${JSON.stringify(url)});`;
}

export class SqliteReadingLog implements ReadingLog {
  readonly name = 'sqlite';
  private worker: Worker | undefined;
  private pending: Waiter[] = [];
  /** sent to the writer, oldest first: while it commits one, the next is already on its way */
  private inFlight: Batch[] = [];
  private probing = false;
  private batchNo = 0;
  private scheduled = false;
  private closed = false;
  /** the listeners, and the recent commits' times: the processors' readings carry them, read back or not (issue #15 item 4) */
  private readonly commits: CommittedReadings;
  private readonly state: LogHealthState;
  private timer: NodeJS.Timeout | undefined;
  private closedWorker: (() => void) | undefined;
  /** resolves start(): the writer opened readings.db */
  private ready: (() => void) | undefined;
  private lastProbeAt: number | undefined;
  /** prune requests by their (negative, never a batch's) number */
  private readonly prunes = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();
  private pruneNo = 0;
  private readonly afterStmt;
  private readonly lastIdStmt;

  constructor(
    db: Db,
    private readonly opts: SqliteLogOptions,
  ) {
    this.state = new LogHealthState(opts);
    this.commits = new CommittedReadings(opts.log);
    this.afterStmt = db.prepare('SELECT * FROM readings WHERE id > ? ORDER BY id LIMIT ?');
    this.lastIdStmt = db.prepare('SELECT IFNULL(MAX(id), 0) FROM readings').pluck();
  }

  async start(): Promise<void> {
    await this.spawn();
    this.timer = setInterval(() => this.sweep(), Math.min(250, this.opts.appendTimeoutMs / 4));
    this.timer.unref();
  }

  private spawn(): Promise<void> {
    const options: WriterOptions = { file: this.opts.file, synchronous: this.opts.synchronous, busyTimeoutMs: this.opts.busyTimeoutMs };
    const worker = new Worker(workerSource(), { eval: true, workerData: { role: 'firewatch-log-writer', options } });
    this.worker = worker;
    worker.on('message', (m: FromWriter) => this.onMessage(m));
    worker.on('error', (err) => {
      this.opts.log.error({ err }, 'log writer thread failed');
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.closedWorker?.();
      if (this.closed) return;
      // a crashed writer is an outage like any other: refuse, report, start a new one
      const err = new LogError(`log writer thread exited (code ${code})`, 'log_write_failed');
      this.state.fail(err);
      for (const b of this.inFlight.splice(0)) this.settleFailed(b, err);
      setTimeout(() => {
        if (!this.closed) this.spawn().then(() => this.send(), () => undefined);
      }, 1000).unref();
    });
    return new Promise((resolve, reject) => {
      this.ready = resolve;
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`log writer thread exited (code ${code}) before it was ready`)));
    });
  }

  onAppend(listener: AppendListener): void {
    this.commits.listen(listener);
  }

  append(readings: readonly Reading[]): Promise<AppendResult> {
    if (readings.length === 0) return Promise.resolve({ appended: [], duplicates: 0 });
    if (this.closed) return Promise.reject(new LogError('the reading log is closed', 'log_closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ readings, resolve, reject, settled: false });
      if (this.inFlight.length < MAX_IN_FLIGHT && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.send();
        });
      }
    });
  }

  /** Send what is pending, in batches, while fewer than MAX_IN_FLIGHT are at the writer. */
  private send(): void {
    while (this.inFlight.length < MAX_IN_FLIGHT && this.worker && this.pending.length > 0) this.sendOne(this.worker);
  }

  private sendOne(worker: Worker): void {
    const max = this.opts.maxBatch ?? 400;
    const waiters: Waiter[] = [];
    const readings: Reading[] = [];
    while (this.pending.length > 0 && (readings.length === 0 || readings.length + this.pending[0]!.readings.length <= max)) {
      const w = this.pending.shift()!;
      if (w.settled) continue; // timed out while it waited: the device re-sends it
      waiters.push(w);
      for (const r of w.readings) readings.push(r);
    }
    if (readings.length === 0) return;
    const batch: Batch = { no: ++this.batchNo, waiters, readings, sentAt: Date.now() };
    this.inFlight.push(batch);
    this.opts.onBatch?.(readings.length);
    worker.postMessage({ type: 'append', batch: batch.no, rows: readings.map(readingRow) } satisfies ToWriter);
  }

  private onMessage(m: FromWriter): void {
    if (m.type === 'ready') {
      this.ready?.();
      this.ready = undefined;
      return;
    }
    if (m.type === 'closed') return this.closedWorker?.();
    if (m.type === 'pruned') {
      const p = this.prunes.get(m.batch);
      this.prunes.delete(m.batch);
      if (m.message !== undefined) p?.reject(new Error(m.message));
      else p?.resolve(m.deleted);
      return;
    }
    if (m.type === 'probed') {
      this.probing = false;
      if (m.ok) this.state.recovered();
      else this.state.fail(new LogError(m.message ?? 'probe failed', 'log_write_failed'));
      return this.send();
    }
    const batch = this.inFlight[0];
    if (!batch || batch.no !== m.batch) return;
    this.inFlight.shift();
    if (m.type === 'failed') {
      const err = new LogError(`log append failed: ${m.message}`, 'log_write_failed');
      this.state.fail(err);
      this.settleFailed(batch, err);
    } else {
      this.state.recovered();
      const appended: Reading[] = [];
      let i = 0;
      for (const w of batch.waiters) {
        const mine: Reading[] = [];
        for (const r of w.readings) {
          const id = m.ids[i++]!;
          if (id > 0) {
            r.logId = id;
            mine.push(r);
            appended.push(r);
          }
        }
        if (!w.settled) {
          w.settled = true;
          w.resolve({ appended: mine, duplicates: w.readings.length - mine.length });
        }
      }
      this.commits.committed(appended);
    }
    this.send();
  }

  private settleFailed(batch: Batch, err: LogError): void {
    for (const w of batch.waiters) {
      if (w.settled) continue;
      w.settled = true;
      w.reject(err);
    }
  }

  /** Refuse appends that waited too long; probe while failing and idle. */
  private sweep(): void {
    const now = Date.now();
    const limit = this.opts.appendTimeoutMs;
    const timeout = () => new LogError(`log append took longer than ${limit} ms`, 'log_timeout');
    const oldest = this.inFlight[0];
    if (oldest && now - oldest.sentAt > limit) {
      const err = timeout();
      this.state.fail(err);
      for (const b of this.inFlight) if (now - b.sentAt > limit) this.settleFailed(b, err);
    }
    if (oldest && this.pending.length > 0 && now - oldest.sentAt > limit) {
      // the writer is stuck (a lock, a hung disk): what waits behind it is refused too
      const err = timeout();
      for (const w of this.pending.splice(0)) {
        if (!w.settled) {
          w.settled = true;
          w.reject(err);
        }
      }
    }
    if (!this.state.ok && this.inFlight.length === 0 && this.pending.length === 0 && !this.probing && this.worker) {
      const probeMs = this.opts.probeMs ?? 1000;
      if (now - (this.lastProbeAt ?? 0) >= probeMs) {
        this.lastProbeAt = now;
        this.probing = true;
        this.worker.postMessage({ type: 'probe', batch: 0 } satisfies ToWriter);
      }
    }
  }

  health(): LogHealth {
    return this.state.health();
  }

  /**
   * Retention, done by the writer between appends: delete rows received before `cutoff` and at or
   * below `maxId` (what every consumer has processed), a chunk per message so appends interleave.
   */
  async prune(cutoff: number, maxId: number, chunk = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const worker = this.worker;
      if (!worker || this.closed) return total;
      const no = --this.pruneNo; // negative: never a batch number
      const n = await new Promise<number>((resolve, reject) => {
        this.prunes.set(no, { resolve, reject });
        worker.postMessage({ type: 'prune', batch: no, cutoff, maxId, chunk } satisfies ToWriter);
      });
      total += n;
      if (n < chunk) return total;
    }
  }

  async readAfter(afterId: number, limit: number): Promise<Reading[]> {
    const out = (this.afterStmt.all(afterId, limit) as ReadingRow[]).map(rowToReading);
    this.commits.stamp(out);
    return out;
  }

  async lastId(): Promise<number> {
    return this.lastIdStmt.get() as number;
  }

  /** Commit what was accepted into the queue (bounded: about 5 s), without closing. */
  async drain(): Promise<void> {
    for (let i = 0; i < 1000 && !this.closed && (this.inFlight.length > 0 || this.pending.some((w) => !w.settled)) && this.worker; i++) {
      this.send();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // commit what was accepted into the queue before stopping
    await this.drain();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      this.closedWorker = resolve;
      worker.postMessage({ type: 'close' } satisfies ToWriter);
      setTimeout(resolve, 2000).unref();
    });
    this.worker = undefined;
    await worker.terminate();
    const err = new LogError('the reading log is closed', 'log_closed');
    for (const w of this.pending.splice(0)) if (!w.settled) w.reject(err);
  }
}
