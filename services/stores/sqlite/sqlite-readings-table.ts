/**
 * Row access for a readings-shaped SQLite table. Used by the embedded store (`readings`) and by
 * the InfluxDB outbox (`influx_outbox`): same columns, same dedupe index.
 */
import type { Db } from '../../stores/sqlite/database.js';
import type { Reading } from '../../telemetry/telemetry.js';
import type { ReadingQuery, StoredReading } from '../sink.js';

export type ReadingsTableName = 'readings' | 'influx_outbox';

interface Row {
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
}

export function rowToReading(r: Row): Reading {
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
  return reading;
}

export class SqliteReadingsTable {
  private readonly insertStmt;
  private readonly queryStmt;
  private readonly oldestStmt;
  private readonly countStmt;
  private readonly deleteUpToStmt;
  private readonly minTsStmt;
  private readonly pruneStmt;
  readonly insertMany: (readings: readonly Reading[]) => number;

  constructor(
    db: Db,
    readonly table: ReadingsTableName,
  ) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO ${table} (device_id, building_id, street, point, kind, channel, ts, seq, received_at, fields)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.queryStmt = db.prepare(
      `SELECT ts, seq, fields FROM ${table}
       WHERE device_id = ? AND channel = ? AND ts >= ? AND ts <= ?
       ORDER BY ts DESC, id DESC LIMIT ?`,
    );
    this.oldestStmt = db.prepare(`SELECT * FROM ${table} ORDER BY id LIMIT ?`);
    this.countStmt = db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).pluck();
    this.minTsStmt = db.prepare(`SELECT received_at FROM ${table} ORDER BY id LIMIT 1`).pluck();
    this.deleteUpToStmt = db.prepare(`DELETE FROM ${table} WHERE id <= ?`);
    this.pruneStmt = db.prepare(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} ORDER BY id LIMIT ?) AND received_at < ?`);
    this.insertMany = db.transaction((readings: readonly Reading[]) => {
      let inserted = 0;
      for (const r of readings) {
        inserted += this.insertStmt.run(
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
        ).changes;
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

  /** Oldest rows first, with their ids (outbox draining). */
  oldest(limit: number): Array<{ id: number; reading: Reading }> {
    return (this.oldestStmt.all(limit) as Row[]).map((r) => ({ id: r.id, reading: rowToReading(r) }));
  }

  count(): number {
    return this.countStmt.get() as number;
  }

  /** When the oldest waiting row was received (epoch ms), or null when empty. */
  oldestReceivedAt(): number | null {
    return (this.minTsStmt.get() as number | null) ?? null;
  }

  /**
   * Delete up to `maxRows` of the oldest rows received before `cutoff` (epoch ms); returns how many.
   * Ids grow with arrival, so the oldest rows are a primary-key range: no index on time needed.
   */
  pruneReceivedBefore(cutoff: number, maxRows: number): number {
    return this.pruneStmt.run(maxRows, cutoff).changes;
  }

  deleteUpTo(id: number): void {
    this.deleteUpToStmt.run(id);
  }
}
