/**
 * The embedded reading log's writer, run in a worker thread (SqliteReadingLog starts it) so the
 * broker's thread never waits on an INSERT, an fsync or a lock: it posts batches and goes on. It is
 * the only writer of readings.db (readings-database.ts), so it never waits for the main thread either.
 *
 * One batch is one transaction (group commit: the main thread sends the next batch while this one
 * commits, so a burst costs a commit per batch, not per message). De-duplication is the write
 * itself, so "seen" and "stored" are one fact:
 *   - a device timestamp and a `seq`: the unique index (device_id, channel, seq, ts) — INSERT OR
 *     IGNORE changes nothing for a reading the table already holds;
 *   - a `seq` but no device timestamp (`server_ts` = 1, ts is our receive time): the same seq with
 *     the same fields from the same device and channel received within DEDUPE_WINDOW_MS is the
 *     same message re-sent (MQTT 3.1.1 §4.4 redelivery carries the identical payload); a different
 *     value under a seen seq, or the same seq after that window, is a new reading (a device that
 *     rebooted and restarted its count);
 *   - no `seq`: every message is a new reading (the device gave us no way to tell).
 * A write error (SQLITE_BUSY past busy_timeout, SQLITE_FULL, SQLITE_IOERR) fails the whole batch;
 * nothing of it is committed and the main thread refuses the PUBACKs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DEDUPE_WINDOW_MS } from '../../log/reading-log.js';
import { openDatabase } from './database.js';


/** deviceId, buildingId, street, point, kind, channel, ts, seq, receivedAt, fieldsJson, serverTs */
export type LogRow = [string, string | null, string | null, string | null, string, string, number, number | null, number, string, 0 | 1];

export interface WriterOptions {
  file: string;
  synchronous: 'full' | 'normal';
  busyTimeoutMs: number;
}

export type ToWriter =
  | { type: 'append'; batch: number; rows: LogRow[] }
  | { type: 'probe'; batch: number }
  | { type: 'prune'; batch: number; cutoff: number; maxId: number; chunk: number }
  | { type: 'close' };
export type FromWriter =
  | { type: 'appended'; batch: number; ids: number[] }
  | { type: 'failed'; batch: number; message: string; code: string }
  | { type: 'probed'; batch: number; ok: boolean; message?: string }
  | { type: 'pruned'; batch: number; deleted: number; message?: string }
  | { type: 'ready' }
  | { type: 'closed' };

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'UNKNOWN';
}

export function createWriter(opts: WriterOptions) {
  const db = openDatabase(opts.file, { synchronous: opts.synchronous, busyTimeoutMs: opts.busyTimeoutMs, integrityCheck: false, migrate: false });
  const insert = db.prepare(
    `INSERT OR IGNORE INTO readings (device_id, building_id, street, point, kind, channel, ts, seq, received_at, fields, server_ts)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const seenUntimed = db
    .prepare('SELECT 1 FROM readings WHERE device_id = ? AND channel = ? AND seq = ? AND server_ts = 1 AND received_at >= ? AND fields = ? LIMIT 1')
    .pluck();
  const probe = db.prepare('INSERT INTO log_probe (id, n) VALUES (1, 0) ON CONFLICT(id) DO UPDATE SET n = n + 1');
  // the oldest rows first (ids grow with arrival), never past what every consumer has processed
  const prune = db.prepare('DELETE FROM readings WHERE id IN (SELECT id FROM readings WHERE id <= ? ORDER BY id LIMIT ?) AND received_at < ?');
  const appendTx = db.transaction((rows: LogRow[]) => {
    const ids: number[] = new Array<number>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r[10] === 1 && r[7] !== null && seenUntimed.get(r[0], r[5], r[7], r[8] - DEDUPE_WINDOW_MS, r[9]) !== undefined) {
        ids[i] = 0;
        continue;
      }
      const res = insert.run(r);
      ids[i] = res.changes === 1 ? Number(res.lastInsertRowid) : 0;
    }
    return ids;
  });
  return {
    append(rows: LogRow[]): number[] {
      return appendTx(rows);
    },
    /** A tiny write that fails exactly when appends would (lock held, disk full). */
    probe(): void {
      probe.run();
    },
    /** Delete one chunk of rows received before `cutoff` and at or below `maxId`; how many. */
    prune(cutoff: number, maxId: number, chunk: number): number {
      return prune.run(maxId, chunk, cutoff).changes;
    },
    close(): void {
      db.close();
    },
  };
}

if (parentPort && workerData && (workerData as { role?: string }).role === 'firewatch-log-writer') {
  const port = parentPort;
  const writer = createWriter((workerData as { options: WriterOptions }).options);
  port.postMessage({ type: 'ready' } satisfies FromWriter);
  port.on('message', (m: ToWriter) => {
    if (m.type === 'close') {
      writer.close();
      port.postMessage({ type: 'closed' } satisfies FromWriter);
      return;
    }
    if (m.type === 'prune') {
      try {
        port.postMessage({ type: 'pruned', batch: m.batch, deleted: writer.prune(m.cutoff, m.maxId, m.chunk) } satisfies FromWriter);
      } catch (err) {
        port.postMessage({ type: 'pruned', batch: m.batch, deleted: 0, message: err instanceof Error ? err.message : String(err) } satisfies FromWriter);
      }
      return;
    }
    if (m.type === 'probe') {
      try {
        writer.probe();
        port.postMessage({ type: 'probed', batch: m.batch, ok: true } satisfies FromWriter);
      } catch (err) {
        port.postMessage({ type: 'probed', batch: m.batch, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies FromWriter);
      }
      return;
    }
    try {
      const ids = writer.append(m.rows);
      port.postMessage({ type: 'appended', batch: m.batch, ids } satisfies FromWriter);
    } catch (err) {
      port.postMessage({ type: 'failed', batch: m.batch, message: err instanceof Error ? err.message : String(err), code: errorCode(err) } satisfies FromWriter);
    }
  });
}
