/**
 * Row access for the `readings` table: the embedded reading store and, at once, the embedded
 * reading log (its `id` is the reading's logId; docs/adr/0006-reading-log.md).
 */
import type { Reading } from '../../telemetry/telemetry.js';
import type { ReadingQuery, StoredReading } from '../reading-store.js';
import type { Db } from './database.js';
import type { LogRow } from './sqlite-log-writer.js';

export interface ReadingRow {
  id: number;
  device_id: string;
  building_id: string | null;
  street: string | null;
  point: string | null;
  kind: string;
  channel: string;
  ts: number;
  seq: number | null;
  received_at: number;
  fields: string;
  server_ts: number;
}

/** A reading as the row values of an INSERT into `readings` (the log's writer uses the same order). */
export function readingRow(r: Reading): LogRow {
  return [
    r.deviceId,
    r.buildingId ?? null,
    r.street ?? null,
    r.point ?? null,
    r.kind,
    r.channel,
    r.ts,
    r.seq ?? null,
    r.receivedAt ?? Date.now(),
    JSON.stringify(r.fields),
    r.serverTs ? 1 : 0,
  ];
}

export function rowToReading(r: ReadingRow): Reading {
  const reading: Reading = {
    deviceId: r.device_id,
    kind: r.kind as Reading['kind'],
    channel: r.channel as Reading['channel'],
    ts: r.ts,
    fields: JSON.parse(r.fields) as Reading['fields'],
  };
  if (r.seq !== null) reading.seq = r.seq;
  reading.receivedAt = r.received_at;
  if (r.building_id !== null) reading.buildingId = r.building_id;
  if (r.street !== null) reading.street = r.street;
  if (r.point !== null) reading.point = r.point;
  if (r.server_ts === 1) reading.serverTs = true;
  reading.logId = r.id;
  return reading;
}

export class SqliteReadingsTable {
  private readonly insertStmt;
  private readonly queryStmt;
  private readonly pingStmt;
  readonly insertMany: (readings: readonly Reading[]) => number;

  constructor(db: Db) {
    const table = 'readings';
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO ${table} (device_id, building_id, street, point, kind, channel, ts, seq, received_at, fields, server_ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.queryStmt = db.prepare(
      `SELECT ts, seq, fields FROM ${table}
       WHERE device_id = ? AND channel = ? AND ts >= ? AND ts <= ?
       ORDER BY ts DESC, seq DESC, id DESC LIMIT ?`,
    );
    this.pingStmt = db.prepare(`SELECT id FROM ${table} ORDER BY id DESC LIMIT 1`);
    this.insertMany = db.transaction((readings: readonly Reading[]) => {
      let inserted = 0;
      for (const r of readings) {
        inserted += this.insertStmt.run(readingRow(r)).changes;
      }
      return inserted;
    });
  }

  query(q: ReadingQuery): StoredReading[] {
    const rows = this.queryStmt.all(
      q.deviceId,
      q.channel ?? 'telemetry',
      q.from ?? 0,
      q.to ?? Number.MAX_SAFE_INTEGER,
      q.limit,
    ) as Array<{ ts: number; seq: number | null; fields: string }>;
    return rows.map((r) => ({
      ts: r.ts,
      ...(r.seq !== null ? { seq: r.seq } : {}),
      fields: JSON.parse(r.fields) as Record<string, unknown>,
    }));
  }


  /** The cheapest read that proves the table answers. */
  ping(): void {
    this.pingStmt.get();
  }
}
