/**
 * readings.db's second migration (issue #9, bench/REPORT.md run 6): the unique key (device,
 * channel, ts, seq) replaces the dedupe index and the history index, and readings without a device
 * time keep a partial index of their own. Checked on a real file upgraded from schema 1: the rows
 * stay, de-duplication means what it meant, and SQLite plans each query on the intended index.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';
import { READINGS_MIGRATIONS } from '../../services/storage/sqlite/migrations.js';
import { openReadingsDatabase } from '../../services/storage/sqlite/readings-database.js';
import { SqliteReadingsTable } from '../../services/storage/sqlite/sqlite-readings-table.js';
import { tempDir } from '../support/service.js';

const INSERT = `INSERT OR IGNORE INTO readings (device_id, building_id, street, point, kind, channel, ts, seq, received_at, fields, server_ts)
  VALUES (?, NULL, NULL, NULL, 'water_pressure', 'telemetry', ?, ?, ?, ?, ?)`;

function plan(db: Db, sql: string, ...args: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
}

describe('readings.db: one unique key serves de-duplication and history', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('upgrades a schema-1 file in place, keeps its rows, and de-duplicates as before', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'readings.db');
    const old = openDatabase(file, { migrations: READINGS_MIGRATIONS.slice(0, 1) });
    const ins = old.prepare(INSERT);
    for (let i = 1; i <= 100; i++) ins.run('dev-a', 1_000 + i, i, 5_000 + i, `{"pressureMpa":0.3${i % 10}}`, 0);
    ins.run('dev-a', 2_000, null, 6_000, '{"pressureMpa":0.4}', 0);
    old.close();

    const db = openReadingsDatabase(file);
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'readings' ORDER BY name").pluck().all() as string[]);
    expect(indexes).toEqual(['readings_key', 'readings_untimed']);
    expect(db.prepare('SELECT COUNT(*) FROM readings').pluck().get()).toBe(101);

    const again = db.prepare(INSERT);
    // the same device, seq and ts: a QoS 1 re-send, ignored
    expect(again.run('dev-a', 1_050, 50, 9_000, '{"pressureMpa":0.30}', 0).changes).toBe(0);
    // the same seq at another time, or on another device: a new reading
    expect(again.run('dev-a', 1_051, 50, 9_000, '{"pressureMpa":0.30}', 0).changes).toBe(1);
    expect(again.run('dev-b', 1_050, 50, 9_000, '{"pressureMpa":0.30}', 0).changes).toBe(1);
    // without a seq nothing conflicts, as with the old partial index: both are kept
    expect(again.run('dev-a', 2_000, null, 9_000, '{"pressureMpa":0.4}', 0).changes).toBe(1);

    const table = new SqliteReadingsTable(db);
    const newest = table.query({ deviceId: 'dev-a', from: 1_049, to: 1_051, limit: 10 });
    expect(newest.map((r) => [r.ts, r.seq])).toEqual([
      [1_051, 51],
      [1_051, 50],
      [1_050, 50],
      [1_049, 49],
    ]);
    db.close();
  });

  it('plans history on the key without a sort, and the untimed lookup on its partial index', () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = openReadingsDatabase(join(dir, 'readings.db'));
    const history = plan(
      db,
      `SELECT ts, seq, fields FROM readings WHERE device_id = ? AND channel = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC, seq DESC, id DESC LIMIT ?`,
      'd', 'telemetry', 0, 1, 10,
    );
    expect(history).toContain('USING INDEX readings_key');
    expect(history).not.toContain('TEMP B-TREE');
    const untimed = plan(
      db,
      'SELECT 1 FROM readings WHERE device_id = ? AND channel = ? AND seq = ? AND server_ts = 1 AND received_at >= ? AND fields = ? LIMIT 1',
      'd', 'telemetry', 1, 0, '{}',
    );
    expect(untimed).toContain('USING INDEX readings_untimed');
    db.close();
  });
});
