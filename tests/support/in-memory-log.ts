/**
 * A real in-memory ReadingLog (house style: fakes, not mocks): appends assign increasing logIds,
 * de-duplicate on (device, channel, seq, ts) like the SQLite log, notify listeners after the
 * "commit", and can be told to refuse the next N appends (a storage fault).
 */
import { LogError, type AppendListener, type AppendResult, type LogHealth, type ReadingLog } from '../../services/log/reading-log.js';
import type { Reading } from '../../services/telemetry/telemetry.js';

export class InMemoryReadingLog implements ReadingLog {
  readonly name = 'memory';
  readonly rows: Reading[] = [];
  private readonly keys = new Set<string>();
  private readonly listeners: AppendListener[] = [];
  private refuse = 0;
  private failures = 0;
  private ok = true;

  failNext(n: number): void {
    this.refuse += n;
  }

  async append(readings: readonly Reading[]): Promise<AppendResult> {
    await Promise.resolve();
    if (this.refuse > 0) {
      this.refuse--;
      this.failures++;
      this.ok = false;
      throw new LogError('log append failed: disk I/O error', 'log_write_failed');
    }
    this.ok = true;
    const appended: Reading[] = [];
    for (const r of readings) {
      const key = r.seq === undefined ? undefined : `${r.deviceId}\u0000${r.channel}\u0000${r.seq}\u0000${r.ts}`;
      if (key !== undefined && this.keys.has(key)) continue;
      if (key !== undefined) this.keys.add(key);
      const stored = { ...r, logId: this.rows.length + 1 };
      r.logId = stored.logId;
      this.rows.push(stored);
      appended.push(r);
    }
    if (appended.length > 0) for (const l of this.listeners) l(appended);
    return { appended, duplicates: readings.length - appended.length };
  }

  async readAfter(afterId: number, limit: number): Promise<Reading[]> {
    return this.rows.slice(afterId, afterId + limit).map((r) => ({ ...r }));
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
  async close(): Promise<void> {}
}
