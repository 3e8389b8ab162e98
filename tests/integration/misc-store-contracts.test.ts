/**
 * The settings store and the GB/T 26875.3 test-record store against their contracts
 * (tests/support/settings-store-contract.ts, gb26875-test-store-contract.ts) on both engines:
 * SQLite on a real temp firewatch.db opened as the service opens it (openDatabase: WAL, foreign
 * keys, every migration) and reopened from that file; PostgreSQL on a fresh database per case
 * with every migration (the tables of schema-misc.ts among them), reopened as after a restart. Below the contracts, what only PostgreSQL can show: two
 * nodes, each with its own pool, beginning the same point (or setting the same key) at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gb26875TestStore } from '../../services/devices/gb26875-points.js';
import { uniqueViolation, type PgDatabase } from '../../services/storage/postgres/database.js';
import { PgGb26875TestStore } from '../../services/storage/postgres/pg-gb26875-store.js';
import { PgSettingsStore } from '../../services/storage/postgres/pg-settings-store.js';
import { SqliteGb26875TestStore } from '../../services/storage/sqlite/sqlite-gb26875-store.js';
import { SqliteSettingsStore } from '../../services/storage/sqlite/sqlite-settings-store.js';
import { gb26875TestStoreContract } from '../support/gb26875-test-store-contract.js';
import { onPostgres, twoNodes } from '../support/pg-harness.js';
import { settingsStoreContract } from '../support/settings-store-contract.js';
import { onSqlite } from '../support/sqlite-harness.js';


settingsStoreContract('sqlite', () => onSqlite((db) => new SqliteSettingsStore(db)));
settingsStoreContract('postgres', () => onPostgres((db) => new PgSettingsStore(db)));

gb26875TestStoreContract('sqlite', () => onSqlite((db) => new SqliteGb26875TestStore(db)));
gb26875TestStoreContract('postgres', () => onPostgres((db) => new PgGb26875TestStore(db)));

describe('PostgreSQL, two nodes on one database', () => {
  const T0 = Date.UTC(2026, 10, 29, 8);
  const POINT = 'comp:1:1:40:10-2';
  let nodes: PgDatabase[] = [];
  let close: () => Promise<void>;

  const signal = (point: string, at: number, bits: { fireAlarm: boolean; supervisory: boolean }): Parameters<Gb26875TestStore['begin']>[0] => ({
    deviceId: 'u-1',
    point,
    name: `感烟火灾探测器 ${point}`,
    description: null,
    at,
    ...bits,
  });

  beforeEach(async () => {
    ({ nodes, close } = await twoNodes());
  });

  afterEach(async () => {
    await close();
  });

  it('a begin waits for the other node\'s uncommitted begin of the point, then merges into its record', async () => {
    const a = new PgGb26875TestStore(nodes[0]!);
    const b = new PgGb26875TestStore(nodes[1]!);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const began = new Promise<void>((resolve) => (inserted = resolve));
    // node a's begin, held open between its insert and its commit
    const held = nodes[0]!.transaction(async () => {
      await a.begin(signal(POINT, T0, { fireAlarm: true, supervisory: false }));
      inserted();
      await gate;
    });
    let bDone = false;
    try {
      await began;
      const fromB = b.begin(signal(POINT, T0 + 1000, { fireAlarm: false, supervisory: true })).then(() => (bDone = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(bDone).toBe(false); // waiting on the open record's index entry, not inserting a second one
      expect(await b.list('u-1', 10)).toEqual([]); // a's record is not committed yet
      release();
      await held;
      await fromB;
    } finally {
      release();
      await held.catch(() => undefined);
    }
    for (const store of [a, b]) {
      const rows = await store.list('u-1', 10);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ point: POINT, fireAlarm: true, supervisory: true, startedAt: T0, endedAt: null });
    }
  });

  it('begins of the same points from both nodes at once leave one open record per point, with both nodes\' bits', async () => {
    const a = new PgGb26875TestStore(nodes[0]!);
    const b = new PgGb26875TestStore(nodes[1]!);
    const points = Array.from({ length: 25 }, (_, i) => `comp:1:1:40:${i}-1`);
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        points.flatMap((p, i) => [
          a.begin(signal(p, T0 + round * 60_000 + i, { fireAlarm: true, supervisory: false })),
          b.begin(signal(p, T0 + round * 60_000 + i, { fireAlarm: false, supervisory: true })),
        ]),
      );
      const rows = (await a.list('u-1', 1000)).filter((r) => r.endedAt === null);
      expect(rows.map((r) => r.point).sort()).toEqual([...points].sort());
      for (const r of rows) expect([r.fireAlarm, r.supervisory]).toEqual([true, true]);
      // both nodes end every point at once: each open record is closed, none is left open
      await Promise.all(points.flatMap((p) => [a.end('u-1', p, T0 + round * 60_000 + 30_000), b.end('u-1', p, T0 + round * 60_000 + 30_000)]));
      expect((await b.list('u-1', 1000)).filter((r) => r.endedAt === null)).toEqual([]);
    }
    expect(await b.list('u-1', 1000)).toHaveLength(points.length * 4);
  });

  it('the partial unique index gb26875_tests_open refuses a second open record written around the store', async () => {
    const a = new PgGb26875TestStore(nodes[0]!);
    await a.begin(signal(POINT, T0, { fireAlarm: true, supervisory: false }));
    const insert = `INSERT INTO gb26875_tests (device_id, point, name, description, fire_alarm, supervisory, started_at, ended_at)
      VALUES ('u-1', $1, 'x', NULL, false, true, $2, $3)`;
    const err = await nodes[1]!.query(insert, [POINT, T0 + 1, null]).then(() => undefined, (e: unknown) => e);
    expect(uniqueViolation(err)).toBe('gb26875_tests_open');
    await nodes[1]!.query(insert, [POINT, T0 - 10_000, T0 - 5_000]); // a closed one is fine
    expect(await a.list('u-1', 10)).toHaveLength(2);
  });

  it('two nodes setting one key at once leave one value, the same on both', async () => {
    const a = new PgSettingsStore(nodes[0]!);
    const b = new PgSettingsStore(nodes[1]!);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).set('gb26875_components', `{"writer":${i}}`)));
    const fromA = await a.get('gb26875_components');
    expect(fromA).toMatch(/^\{"writer":\d+\}$/);
    expect(await b.get('gb26875_components')).toBe(fromA);
    expect(await nodes[0]!.query('SELECT count(*)::integer AS n FROM settings')).toEqual([{ n: 1 }]);
  });
});
