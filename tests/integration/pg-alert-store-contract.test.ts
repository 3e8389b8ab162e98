/**
 * PgAlertStore and PgMaintenanceStore against their contracts (tests/support/alert-store-contract.ts),
 * the suites store-contracts.test.ts runs on SQLite. Each case gets a fresh database on the local
 * server opened as the service opens it (every migration); `reopen` closes it and opens the same database again, as after a
 * restart. Below the contracts, what only PostgreSQL can show: two nodes, each with its own pool,
 * raising the alert of one device and rule at once, and the incident record's free text matched
 * as SQLite matches it, side by side with it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, AlertStore } from '../../services/alerts/model.js';
import { openPostgres, uniqueViolation, type PgDatabase } from '../../services/storage/postgres/database.js';
import { ALERTS_ONE_ACTIVE, PgAlertStore, PgMaintenanceStore } from '../../services/storage/postgres/pg-alert-store.js';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';
import { SqliteAlertStore } from '../../services/storage/sqlite/sqlite-alert-store.js';
import { alertStoreContract, alert as contractAlert, maintenanceStoreContract } from '../support/alert-store-contract.js';
import { onPostgres, twoNodes } from '../support/pg-harness.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';


alertStoreContract('postgres', () => onPostgres((db) => new PgAlertStore(db)));
maintenanceStoreContract('postgres', () => onPostgres((db) => new PgMaintenanceStore(db)));

const T0 = Date.UTC(2026, 10, 29, 8);
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const MSG = { zh: '水压过低', en: 'Pressure low' };

/** An open alert of a device (a hazard), or of the service itself (deviceId null: a fault, no building). */
function alert(id: string, deviceId: string | null, rule: Alert['rule'], over: Partial<Alert> = {}): Alert {
  const system = { class: 'fault', buildingId: null, buildingName: null, street: null, kind: null, point: null } as const;
  return contractAlert(id, { rule, deviceId, ...(deviceId === null ? system : {}), openedAt: iso(0), ...over });
}

/** How the call ended: 'ok', or the error it was refused with. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok' as const,
    (err: unknown) => err,
  );

describe('PgAlertStore: two nodes raising the alert of one device and rule', () => {
  let nodes: PgDatabase[] = [];
  let closeNodes: () => Promise<void>;
  let a: PgAlertStore;
  let b: PgAlertStore;

  beforeEach(async () => {
    ({ nodes, close: closeNodes } = await twoNodes());
    a = new PgAlertStore(nodes[0]!);
    b = new PgAlertStore(nodes[1]!);
  });

  afterEach(async () => {
    await closeNodes();
  });

  /** the number of alert_history rows of an alert */
  async function entries(id: string): Promise<number> {
    const rows = await nodes[0]!.query<{ n: number }>('SELECT count(*)::integer AS n FROM alert_history WHERE alert_id = $1', [id]);
    return rows[0]!.n;
  }

  it('both insert at once: exactly one succeeds, the other is refused by alerts_one_active and leaves nothing', async () => {
    // device alerts and system alerts (no device), 20 keys, each raised by both nodes at once
    const keys = Array.from({ length: 20 }, (_, i) => ({ deviceId: i % 5 === 4 ? null : `d-${i}`, rule: i % 5 === 4 ? ('service_outage' as const) : ('pressure_low' as const), i }));
    const distinct = keys.filter((k, i) => k.deviceId !== null || keys.findIndex((o) => o.deviceId === null) === i);
    const results = await Promise.all(
      distinct.flatMap((k) => [
        outcome(a.insert(alert(`al-a-${k.i}`, k.deviceId, k.rule, { openedAt: iso(k.i) }))),
        outcome(b.insert(alert(`al-b-${k.i}`, k.deviceId, k.rule, { openedAt: iso(k.i) }))),
      ]),
    );
    for (const [n, k] of distinct.entries()) {
      const pair = [results[2 * n], results[2 * n + 1]];
      expect(pair.filter((r) => r === 'ok'), `${k.deviceId} ${k.rule}`).toHaveLength(1);
      const refused = pair.find((r) => r !== 'ok');
      expect(uniqueViolation(refused)).toBe(ALERTS_ONE_ACTIVE);
      // the winner is what either node finds; the loser left no row and no history
      const winner = results[2 * n] === 'ok' ? `al-a-${k.i}` : `al-b-${k.i}`;
      const loser = winner === `al-a-${k.i}` ? `al-b-${k.i}` : `al-a-${k.i}`;
      expect((await a.findActive(k.deviceId, k.rule))?.id).toBe(winner);
      expect((await b.findActive(k.deviceId, k.rule))?.id).toBe(winner);
      expect(await b.get(loser)).toBeUndefined();
      expect(await entries(loser)).toBe(0);
    }
    expect(await a.unclosed()).toHaveLength(distinct.length);
  });

  it("an insert waits for the other node's uncommitted one: refused once it commits, let in once it rolls back", async () => {
    const held = await nodes[0]!.pool.connect();
    /** node A's raise, stopped between its insert and its commit */
    const holdInsert = async (id: string) => {
      await held.query('BEGIN');
      await held.query("INSERT INTO alerts (id, rule, device_id, status, severity, opened_at, doc) VALUES ($1, 'pressure_low', 'd-1', 'open', 'major', $2, '{}')", [id, iso(0)]);
    };
    /** until node B's insert waits on a lock */
    const untilWaiting = async () => {
      for (let i = 0; i < 200; i++) {
        const rows = await nodes[0]!.query<{ n: number }>(
          "SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (rows[0]!.n > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the second insert never waited for the first');
    };
    try {
      await holdInsert('al-held-1');
      const second = outcome(b.insert(alert('al-b-1', 'd-1', 'pressure_low')));
      await untilWaiting();
      await held.query('COMMIT');
      expect(uniqueViolation(await second)).toBe(ALERTS_ONE_ACTIVE);
      expect(await b.get('al-b-1')).toBeUndefined();
      expect(await entries('al-b-1')).toBe(0);

      // the same with another rule, and node A giving up: B's alert is the one
      await held.query('BEGIN');
      await held.query("INSERT INTO alerts (id, rule, device_id, status, severity, opened_at, doc) VALUES ('al-held-2', 'pressure_high', 'd-1', 'open', 'major', $1, '{}')", [iso(0)]);
      const third = outcome(b.insert(alert('al-b-2', 'd-1', 'pressure_high')));
      await untilWaiting();
      await held.query('ROLLBACK');
      expect(await third).toBe('ok');
      expect((await a.findActive('d-1', 'pressure_high'))?.id).toBe('al-b-2');
      expect(await entries('al-b-2')).toBe(1);
    } finally {
      // after a failed expectation: let the held insert go, so nothing waits on its lock
      await held.query('ROLLBACK').catch(() => undefined);
      held.release();
    }
  });

  it('an update onto a key taken by an unclosed alert is refused whole: neither the row nor the added entries change', async () => {
    await a.insert(alert('al-1', 'd-1', 'pressure_low'));
    await a.insert(alert('al-2', 'd-2', 'pressure_low'));
    const moved = { ...(await b.get('al-2'))!, deviceId: 'd-1', count: 9 };
    const entry = { at: iso(5), action: 'recurred' as const, by: 'system', detail: MSG.zh, byName: null, info: { code: 'message' as const, message: MSG } };
    moved.history.push(entry);
    expect(uniqueViolation(await outcome(b.update(moved, [entry])))).toBe(ALERTS_ONE_ACTIVE);
    const after = (await a.get('al-2'))!;
    expect(after).toMatchObject({ deviceId: 'd-2', count: 1 });
    expect(after.history.map((h) => h.action)).toEqual(['raised']);
  });
});

describe("PgAlertStore: the incident record's free text, as SQLite matches it", () => {
  let fresh: FreshDatabase;
  let pgDb: PgDatabase;
  let dir: string;
  let sqliteDb: Db;
  let stores: Array<[string, AlertStore]>;

  beforeEach(async () => {
    fresh = await freshDatabase();
    pgDb = await openPostgres(fresh.url, { max: 2 });
    dir = await mkdtemp(join(tmpdir(), 'firewatch-pg-alerts-'));
    sqliteDb = openDatabase(join(dir, 'firewatch.db'));
    stores = [
      ['sqlite', new SqliteAlertStore(sqliteDb)],
      ['postgres', new PgAlertStore(pgDb)],
    ];
  });

  afterEach(async () => {
    sqliteDb.close();
    await rm(dir, { recursive: true, force: true });
    await pgDb.close();
    await fresh.drop();
  });

  it('folds A–Z and nothing else; %, _ and \\ are characters; the id matches too', async () => {
    const names: Array<[string, string | null]> = [
      ['B-Tower', 'Tower A_B'],
      ['b-tower-2', 'TOWER a%b'],
      ['b-e1', 'École É'],
      ['b-e2', 'école é'],
      ['b-sigma', 'ΣΙΓΜΑ Σ'],
      ['b-sigma-2', 'σιγμα σ'],
      ['b-back', 'C\\D 楼'],
      ['B-NULL', null],
      ['b-zh', '解放碑大厦'],
    ];
    for (const [, s] of stores) {
      for (const [i, [buildingId, buildingName]] of names.entries()) {
        await s.insert(alert(`al-${i}`, `d-${i}`, 'pressure_low', { buildingId, buildingName, openedAt: iso(i) }));
      }
    }
    const texts = ['tower', 'TOWER', 'a_b', 'A%B', '_', '%', 'a\\b', '\\', 'c\\d', 'école', 'ÉCOLE', 'É', 'é', 'σ', 'Σ', 'b-null', 'B-', '大厦', '', 'x'];
    for (const q of texts) {
      const [sqlite, postgres] = await Promise.all(stores.map(async ([, s]) => (await s.records({ class: 'hazard', dateField: 'opened', q, limit: 100 })).map((r) => r.id)));
      expect(postgres, JSON.stringify(q)).toEqual(sqlite);
    }
    // what SQLite answers, spelled out for the cases that matter
    const ids = async (q: string) => (await stores[1]![1].records({ class: 'hazard', dateField: 'opened', q, limit: 100 })).map((r) => r.id);
    expect(await ids('a_b')).toEqual(['al-0']);
    expect(await ids('tower')).toEqual(['al-1', 'al-0']);
    expect(await ids('É')).toEqual(['al-2']);
    expect(await ids('b-null')).toEqual(['al-7']);
  });
});
