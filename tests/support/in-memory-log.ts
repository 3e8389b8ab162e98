/**
 * A real in-memory ReadingLog (house style: fakes, not mocks): appends assign increasing logIds,
 * de-duplicate like the SQLite log (sqlite-log-writer.ts: (device, channel, seq, ts) for a device
 * timestamp; the same seq and fields within DEDUPE_WINDOW_MS for a server timestamp), keep copies,
 * notify listeners after the "commit", refuse appends once closed, and can be told to refuse the
 * next N appends (a storage fault). It passes the same contract as the SQLite log
 * (tests/support/reading-log-contract.ts).
 */
import { DEDUPE_WINDOW_MS, LogError, type AppendListener, type AppendResult, type LogHealth, type ReadingLog } from '../../services/log/reading-log.js';
import type { Reading } from '../../services/telemetry/telemetry.js';

export class InMemoryReadingLog implements ReadingLog {
  readonly name = 'memory';
  /** what the log holds, in log order (a test may read it; it is the log's own copy) */
  readonly rows: Reading[] = [];
  private readonly keys = new Set<string>();
  /** server-timestamped readings by (device, channel, seq): when received, and their fields */
  private readonly untimed = new Map<string, Array<{ receivedAt: number; fields: string }>>();
  private readonly listeners: AppendListener[] = [];
  private refuse = 0;
  private failures = 0;
  private ok = true;
  private closed = false;

  failNext(n: number): void {
    this.refuse += n;
  }

  append(readings: readonly Reading[]): Promise<AppendResult> {
    if (readings.length === 0) return Promise.resolve({ appended: [], duplicates: 0 });
    // decided when called, as the SQLite log does: an append made before close() is committed
    if (this.closed) return Promise.reject(new LogError('the reading log is closed', 'log_closed'));
    const receivedAt = Date.now();
    return Promise.resolve().then(() => this.commit(readings, receivedAt));
  }

  private commit(readings: readonly Reading[], receivedAt: number): AppendResult {
    if (this.refuse > 0) {
      this.refuse--;
      this.failures++;
      this.ok = false;
      throw new LogError('log append failed: disk I/O error', 'log_write_failed');
    }
    this.ok = true;
    const appended: Reading[] = [];
    for (const r of readings) {
      const stored = structuredClone(r);
      stored.receivedAt ??= receivedAt;
      if (this.isDuplicate(stored)) continue;
      stored.logId = this.rows.length + 1;
      r.logId = stored.logId;
      this.rows.push(stored);
      appended.push(r);
    }
    if (appended.length > 0) for (const l of this.listeners) l(appended);
    return { appended, duplicates: readings.length - appended.length };
  }

  /** Remembers the reading when it is new. */
  private isDuplicate(r: Reading): boolean {
    if (r.seq === undefined) return false;
    const key = `${r.deviceId}\u0000${r.channel}\u0000${r.seq}\u0000${r.ts}`;
    if (this.keys.has(key)) return true;
    const untimedKey = `${r.deviceId}\u0000${r.channel}\u0000${r.seq}`;
    const fields = JSON.stringify(r.fields);
    const seen = r.serverTs ? (this.untimed.get(untimedKey) ?? []) : undefined;
    if (seen?.some((s) => s.fields === fields && s.receivedAt >= r.receivedAt! - DEDUPE_WINDOW_MS)) return true;
    this.keys.add(key);
    if (seen) this.untimed.set(untimedKey, [...seen, { receivedAt: r.receivedAt!, fields }]);
    return false;
  }

  async readAfter(afterId: number, limit: number): Promise<Reading[]> {
    return this.rows.slice(Math.max(0, afterId), Math.max(0, afterId) + limit).map((r) => structuredClone(r));
  }

  async lastId(): Promise<number> {
    return this.rows.length;
  }

  onAppend(listener: AppendListener): void {
    this.listeners.push(listener);
  }

  health(): LogHealth {
    return { ok: this.ok, failures: this.failures };
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}
