/**
 * GB/T 26875.3 test-mode alarms over PostgreSQL (table: schema-misc.ts PG_GB26875_SQL), the twin
 * of ../sqlite/sqlite-gb26875-store.ts; both pass tests/support/gb26875-test-store-contract.ts.
 *
 * One open record per (device, point), decided by the database (ADR 0008): begin is one
 * `INSERT … ON CONFLICT (device_id, point) WHERE ended_at IS NULL DO UPDATE`, inferred on the
 * partial unique index gb26875_tests_open. With no open record it inserts one; with one it only
 * ORs in the bits it saw (name, description and start stay those of the first begin, as on
 * SQLite). When another node's begin of the same point is inserting at the same moment, this one
 * waits for it to commit and then updates its row, so the two leave one record with both bits.
 */
import type { Gb26875TestRecord, Gb26875TestStore } from '../../devices/gb26875-points.js';
import type { PgDatabase } from './database.js';

/** A row as node-postgres gives it: bigint as a string. */
interface Row {
  id: string;
  device_id: string;
  point: string;
  name: string;
  description: string | null;
  fire_alarm: boolean;
  supervisory: boolean;
  started_at: string;
  ended_at: string | null;
}

const toRecord = (r: Row): Gb26875TestRecord => ({
  id: Number(r.id),
  deviceId: r.device_id,
  point: r.point,
  name: r.name,
  description: r.description,
  fireAlarm: r.fire_alarm,
  supervisory: r.supervisory,
  startedAt: Number(r.started_at),
  endedAt: r.ended_at === null ? null : Number(r.ended_at),
});

const COLS = 'id, device_id, point, name, description, fire_alarm, supervisory, started_at, ended_at';
const BEGIN = `
  INSERT INTO gb26875_tests AS t (device_id, point, name, description, fire_alarm, supervisory, started_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (device_id, point) WHERE ended_at IS NULL DO UPDATE SET
    fire_alarm = t.fire_alarm OR excluded.fire_alarm, supervisory = t.supervisory OR excluded.supervisory`;
const END = 'UPDATE gb26875_tests SET ended_at = $3 WHERE device_id = $1 AND point = $2 AND ended_at IS NULL';
const LIST = `SELECT ${COLS} FROM gb26875_tests WHERE device_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`;

export class PgGb26875TestStore implements Gb26875TestStore {
  constructor(private readonly db: PgDatabase) {}

  async begin(r: Parameters<Gb26875TestStore['begin']>[0]): Promise<void> {
    await this.db.query(BEGIN, [r.deviceId, r.point, r.name, r.description, r.fireAlarm, r.supervisory, r.at]);
  }

  async end(deviceId: string, point: string, at: number): Promise<void> {
    await this.db.query(END, [deviceId, point, at]);
  }

  async list(deviceId: string, limit: number): Promise<Gb26875TestRecord[]> {
    const rows = await this.db.query<Row>(LIST, [deviceId, limit]);
    return rows.map(toRecord);
  }
}
