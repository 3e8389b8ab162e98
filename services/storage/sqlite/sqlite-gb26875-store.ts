/**
 * GB/T 26875.3 gateway records (issue #16 item 7): test-mode alarms of a UITD's points in
 * `gb26875_tests` (services/devices/gb26875-points.ts), answering at once (SyncGb26875TestStore).
 * One open record per point is the partial unique index gb26875_tests_open's job. Its PostgreSQL
 * twin is ../postgres/pg-gb26875-store.ts; both pass tests/support/gb26875-test-store-contract.ts.
 */
import type { Gb26875TestRecord, Gb26875TestStore, SyncGb26875TestStore } from '../../devices/gb26875-points.js';
import type { Db } from './database.js';

interface Row {
  id: number;
  device_id: string;
  point: string;
  name: string;
  description: string | null;
  fire_alarm: number;
  supervisory: number;
  started_at: number;
  ended_at: number | null;
}

const toRecord = (r: Row): Gb26875TestRecord => ({
  id: r.id,
  deviceId: r.device_id,
  point: r.point,
  name: r.name,
  description: r.description,
  fireAlarm: r.fire_alarm === 1,
  supervisory: r.supervisory === 1,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

export class SqliteGb26875TestStore implements SyncGb26875TestStore {
  private readonly beginStmt;
  private readonly endStmt;
  private readonly listStmt;

  constructor(db: Db) {
    // one open record per point: a second begin only adds the bits it saw
    this.beginStmt = db.prepare(
      `INSERT INTO gb26875_tests (device_id, point, name, description, fire_alarm, supervisory, started_at)
       VALUES (@deviceId, @point, @name, @description, @fireAlarm, @supervisory, @at)
       ON CONFLICT (device_id, point) WHERE ended_at IS NULL DO UPDATE SET
         fire_alarm = max(fire_alarm, excluded.fire_alarm), supervisory = max(supervisory, excluded.supervisory)`,
    );
    this.endStmt = db.prepare('UPDATE gb26875_tests SET ended_at = ? WHERE device_id = ? AND point = ? AND ended_at IS NULL');
    this.listStmt = db.prepare('SELECT * FROM gb26875_tests WHERE device_id = ? ORDER BY started_at DESC, id DESC LIMIT ?');
  }

  begin(r: Parameters<Gb26875TestStore['begin']>[0]): void {
    this.beginStmt.run({ ...r, fireAlarm: r.fireAlarm ? 1 : 0, supervisory: r.supervisory ? 1 : 0 });
  }

  end(deviceId: string, point: string, at: number): void {
    this.endStmt.run(at, deviceId, point);
  }

  list(deviceId: string, limit: number): Gb26875TestRecord[] {
    return (this.listStmt.all(deviceId, limit) as Row[]).map(toRecord);
  }
}
