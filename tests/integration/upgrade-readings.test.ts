/**
 * Upgrading an installation from before the reading log (issue #9): readings and InfluxDB outbox
 * rows in firewatch.db move once into readings.db with their ids; the processors start after them
 * (the old code had already run the rules on them), so an old breaching reading raises nothing again.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../services/storage/sqlite/database.js';
import { MIGRATIONS } from '../../services/storage/sqlite/migrations.js';
import { provisionDevice, startService, tempDir, type TestService } from '../support/service.js';

describe('upgrade: legacy readings move into readings.db', () => {
  let svc: TestService | undefined;
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  it('keeps every old reading with its id, forwards the old outbox, and replays nothing through the rules', async () => {
    const dataDir = tempDir();
    // a device registered by the current code, then the database put back to schema 6 with old rows
    svc = await startService({}, dataDir);
    const d = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top' });
    await svc.stop({ keepData: true });
    svc = undefined;
    const file = join(dataDir, 'firewatch.db');
    const old = new Database(file);
    old.exec(MIGRATIONS[0]!.slice(MIGRATIONS[0]!.indexOf('CREATE TABLE readings'), MIGRATIONS[0]!.indexOf('CREATE INDEX readings_device_ts')));
    old.exec(`CREATE TABLE influx_outbox AS SELECT * FROM readings WHERE 0`);
    const insert = old.prepare(
      'INSERT INTO readings (id, device_id, building_id, street, point, kind, channel, ts, seq, received_at, fields) VALUES (?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?)',
    );
    const t0 = Date.now() - 3_600_000;
    // 0.01 MPa: far below every hydrant_top minimum — the old code raised its alert when it came in
    for (let i = 1; i <= 50; i++) insert.run(100 + i, d.deviceId, 'hydrant_top', 'water_pressure', 'telemetry', t0 + i * 1000, i, t0 + i * 1000, JSON.stringify({ pressureMpa: 0.01 }));
    old.prepare('INSERT INTO influx_outbox (id, device_id, point, kind, channel, ts, seq, received_at, fields) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.deviceId, 'hydrant_top', 'water_pressure', 'telemetry', t0 + 60_000, 60, t0 + 60_000, JSON.stringify({ pressureMpa: 0.3 }));
    backToSchema(old, 6);
    old.close();
    rmReadingsDb(dataDir);

    svc = await startService({}, dataDir);
    const r = await svc.api.get(`/api/v1/devices/${d.deviceId}/readings?limit=100`);
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(51);
    const rdb = openDatabase(join(dataDir, 'readings.db'), { migrate: false, integrityCheck: false });
    try {
      const ids = rdb.prepare('SELECT id FROM readings WHERE seq < 60 ORDER BY id').pluck().all() as number[];
      expect(ids[0]).toBe(101);
      expect(ids.at(-1)).toBe(150);
    } finally {
      rdb.close();
    }
    const main = new Database(file, { readonly: true });
    try {
      const tables = main.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('readings', 'influx_outbox')").pluck().all();
      expect(tables).toEqual([]);
      const cursors = Object.fromEntries((main.prepare('SELECT name, position FROM log_cursors').all() as Array<{ name: string; position: number }>).map((c) => [c.name, c.position]));
      expect(cursors.processors).toBe(151); // after the moved readings and the outbox row
      expect(cursors['store:influxdb-v1']).toBe(150); // the outbox row (151) still goes to InfluxDB
    } finally {
      main.close();
    }
    await svc.fw.processors.idle();
    await svc.stop({ keepData: true }); // rule state saved
    svc = undefined;
    const after = new Database(file, { readonly: true });
    try {
      // had the old readings gone through the rules again, 0.01 MPa would have left a pending or active state
      expect(after.prepare('SELECT COUNT(*) FROM rule_state WHERE device_id = ?').pluck().get(d.deviceId)).toBe(0);
    } finally {
      after.close();
    }
    svc = await startService({}, dataDir);
    const alerts = await svc.api.get(`/api/v1/alerts?deviceId=${d.deviceId}`);
    expect(alerts.body.items.filter((a: any) => a.rule === 'pressure_low')).toEqual([]);
  });
});

function rmReadingsDb(dataDir: string): void {
  for (const f of ['readings.db', 'readings.db-wal', 'readings.db-shm']) {
    try {
      rmSync(join(dataDir, f));
    } catch {
      /* absent */
    }
  }
}

/**
 * Put a database of the current schema back to schema `version`: drop every table and column that
 * the migrations after it added (found by building that version in memory), then set user_version.
 */
function backToSchema(db: InstanceType<typeof Database>, version: number): void {
  const ref = new Database(':memory:');
  for (const m of MIGRATIONS.slice(0, version)) ref.exec(m);
  const tables = (d: InstanceType<typeof Database>) => d.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  const columns = (d: InstanceType<typeof Database>, t: string) => (d.prepare(`PRAGMA table_info(${JSON.stringify(t)})`).all() as Array<{ name: string }>).map((c) => c.name);
  const keep = new Set(tables(ref));
  // the test's own tables (readings, influx_outbox) are the old schema's: keep them
  keep.add('readings');
  keep.add('influx_outbox');
  for (const t of tables(db)) {
    if (!keep.has(t)) {
      db.exec(`DROP TABLE ${JSON.stringify(t)}`);
      continue;
    }
    if (t === 'readings' || t === 'influx_outbox') continue;
    const want = new Set(columns(ref, t));
    for (const c of columns(db, t)) {
      if (want.has(c)) continue;
      // an index on the column must go first
      for (const ix of db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`).all(t) as Array<{ name: string; sql: string }>) {
        if (ix.sql.includes(c)) db.exec(`DROP INDEX ${JSON.stringify(ix.name)}`);
      }
      db.exec(`ALTER TABLE ${JSON.stringify(t)} DROP COLUMN ${JSON.stringify(c)}`);
    }
  }
  ref.close();
  db.pragma(`user_version = ${version}`);
}
