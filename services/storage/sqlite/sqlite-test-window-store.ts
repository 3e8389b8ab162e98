/** Scheduled tests of fire-water points (services/devices/test-windows.ts) in `device_tests`. */
import type { TestKind, TestWindow, TestWindowStore } from '../../devices/test-windows.js';
import type { Db } from './database.js';

interface Row {
  id: number;
  device_id: string;
  building_id: string;
  kind: TestKind;
  note: string | null;
  started_by: string;
  started_at: number;
  ends_at: number;
  ended_at: number | null;
  ended_by: string | null;
  min_mpa: number | null;
  max_mpa: number | null;
  readings: number;
}

const toWindow = (r: Row): TestWindow => ({
  id: r.id,
  deviceId: r.device_id,
  buildingId: r.building_id,
  kind: r.kind,
  note: r.note,
  startedBy: r.started_by,
  startedAt: r.started_at,
  endsAt: r.ends_at,
  endedAt: r.ended_at,
  endedBy: r.ended_by,
  minMpa: r.min_mpa,
  maxMpa: r.max_mpa,
  readings: r.readings,
});

export class SqliteTestWindowStore implements TestWindowStore {
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly activeStmt;
  private readonly listStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO device_tests (device_id, building_id, kind, note, started_by, started_at, ends_at, ended_at, ended_by, min_mpa, max_mpa, readings)
       VALUES (@deviceId, @buildingId, @kind, @note, @startedBy, @startedAt, @endsAt, @endedAt, @endedBy, @minMpa, @maxMpa, @readings)`,
    );
    this.updateStmt = db.prepare('UPDATE device_tests SET ended_at = @endedAt, ended_by = @endedBy, min_mpa = @minMpa, max_mpa = @maxMpa, readings = @readings WHERE id = @id');
    this.activeStmt = db.prepare('SELECT * FROM device_tests WHERE ended_at IS NULL AND ends_at > ?');
    this.listStmt = db.prepare('SELECT * FROM device_tests WHERE device_id = ? ORDER BY started_at DESC, id DESC LIMIT ?');
  }

  insert(t: Omit<TestWindow, 'id'>): TestWindow {
    const r = this.insertStmt.run(t);
    return { ...t, id: Number(r.lastInsertRowid) };
  }

  update(t: TestWindow): void {
    this.updateStmt.run({ id: t.id, endedAt: t.endedAt, endedBy: t.endedBy, minMpa: t.minMpa, maxMpa: t.maxMpa, readings: t.readings });
  }

  active(at: number): TestWindow[] {
    return (this.activeStmt.all(at) as Row[]).map(toWindow);
  }

  list(deviceId: string, limit: number): TestWindow[] {
    return (this.listStmt.all(deviceId, limit) as Row[]).map(toWindow);
  }
}
