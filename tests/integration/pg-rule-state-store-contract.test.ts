/**
 * The PostgreSQL RuleStateStore (services/storage/postgres/pg-rule-state-store.ts) against the one
 * contract every RuleStateStore passes (tests/support/rule-state-store-contract.ts), the suite
 * rule-state-store-contract.test.ts runs on the in-memory fake and SQLite. Each case gets a fresh
 * database on the local server with every migration (the rules' tables: schema-rules.ts); `reopen` closes the store (which saves what is unsaved) and the database
 * and opens both again, as after a restart.
 *
 * Below the contract, what only an asynchronous store on a shared database can show: a flush
 * joined to the caller's transaction commits or rolls back with it (and `reload` then drops what
 * the rollback undid, as the processors rely on), a failing flush is all-or-nothing and keeps its
 * changes to be saved, changes made while a flush is in flight are saved by the next one, flushes
 * run one at a time, one statement saves thousands of devices, and the timer and close.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConditionState } from '../../services/rules/condition.js';
import type { RuleMemory } from '../../services/rules/rule-families/rule-family.js';
import { PgDatabase } from '../../services/storage/postgres/database.js';
import { PgRuleStateStore } from '../../services/storage/postgres/pg-rule-state-store.js';
import { onPostgres } from '../support/pg-harness.js';
import { ruleStateStoreContract } from '../support/rule-state-store-contract.js';


/** A PgRuleStateStore on a fresh database; `reopen` closes store and database and opens both again. */
async function onRuleStates() {
  const pgh = await onPostgres((db) => PgRuleStateStore.open(db));
  let store: PgRuleStateStore;
  try {
    store = await pgh.store;
  } catch (err) {
    await pgh.cleanup();
    throw err;
  }
  const first = store;
  return {
    store: first,
    db: pgh.db,
    reopen: async () => {
      await store.close();
      store = await (await pgh.reopen());
      return store;
    },
    cleanup: async () => {
      await store.close();
      await pgh.cleanup();
    },
  };
}

ruleStateStoreContract('postgres', onRuleStates);

const T0 = Date.UTC(2026, 5, 1, 8);

function pending(since = T0, value = 0.08): ConditionState {
  return { phase: 'pending', since, activeSince: null, value, peak: value, count: 1, lastAlertAt: null };
}

function active(activeSince = T0, value = 0.05): ConditionState {
  return { phase: 'active', since: null, activeSince, value, peak: value - 0.01, count: 7, lastAlertAt: activeSince };
}

const NORMAL: ConditionState = { phase: 'normal', since: null, activeSince: null, value: 0.3, peak: null, count: 0, lastAlertAt: null };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PgRuleStateStore on PostgreSQL', () => {
  let h: Awaited<ReturnType<typeof onRuleStates>>;
  let store: PgRuleStateStore;
  const db = () => h.db();
  /** connections of their own (another session: a lock holder, an outside reader), closed after the case */
  let others: pg.Client[] = [];

  beforeEach(async () => {
    h = await onRuleStates();
    store = h.store;
    others = [];
  });

  afterEach(async () => {
    for (const c of others) await c.end().catch(() => undefined);
    await h.cleanup();
  });

  async function otherSession(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: db().pool.options.connectionString });
    client.on('error', () => undefined);
    await client.connect();
    others.push(client);
    return client;
  }

  /** What is stored, read on the pool (committed rows only, outside any transaction). */
  async function stored(): Promise<{ states: Record<string, ConditionState>; memory: Record<string, RuleMemory> }> {
    return storedVia((sql) => db().pool.query(sql).then((r) => r.rows));
  }

  async function storedVia(
    query: (sql: string) => Promise<Array<Record<string, unknown>>>,
  ): Promise<{ states: Record<string, ConditionState>; memory: Record<string, RuleMemory> }> {
    const states: Record<string, ConditionState> = {};
    const memory: Record<string, RuleMemory> = {};
    for (const r of await query('SELECT device_id, rule_id, state FROM rule_state')) states[`${r.device_id}/${r.rule_id}`] = r.state as ConditionState;
    for (const r of await query('SELECT device_id, memory FROM rule_memory')) memory[r.device_id as string] = r.memory as RuleMemory;
    return { states, memory };
  }

  /** Waits until `n` statements of this database wait for a lock (a flush stuck behind a lock holder). */
  async function lockWaiters(n: number): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const r = await db().pool.query<{ n: number }>(
        "SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      if (r.rows[0]!.n >= n) return;
      await sleep(10);
    }
    throw new Error(`no ${n} statement(s) waiting for a lock`);
  }

  /** Another session holding a write lock on rule_state and rule_memory until `release`. */
  async function holdWrites(): Promise<{ release: () => Promise<void> }> {
    const locker = await otherSession();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE rule_state, rule_memory IN EXCLUSIVE MODE');
    return { release: () => locker.query('COMMIT').then(() => undefined) };
  }

  /** A trigger that makes any save of the memory of `deviceId` fail; `remove` drops it. */
  async function refuseMemoryOf(deviceId: string): Promise<{ remove: () => Promise<void> }> {
    await db().query(`
      CREATE FUNCTION refuse_memory() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.device_id = '${deviceId}' THEN RAISE EXCEPTION 'refused: %', NEW.device_id; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_memory BEFORE INSERT OR UPDATE ON rule_memory FOR EACH ROW EXECUTE FUNCTION refuse_memory();`);
    return { remove: () => db().query('DROP TRIGGER refuse_memory ON rule_memory; DROP FUNCTION refuse_memory()').then(() => undefined) };
  }

  it('a flush inside a transaction is part of it: not seen outside before the commit, stored by it', async () => {
    const outside = await otherSession();
    store.set('d-1', 'pressure_low', active());
    store.setMemory('d-1', { faultFlag: true });
    await db().transaction(async () => {
      await store.flush();
      // the transaction sees its own rows, another session does not yet
      expect((await storedVia((sql) => db().query(sql))).states).toEqual({ 'd-1/pressure_low': active() });
      expect(await storedVia((sql) => outside.query(sql).then((r) => r.rows))).toEqual({ states: {}, memory: {} });
    });
    expect(await stored()).toEqual({ states: { 'd-1/pressure_low': active() }, memory: { 'd-1': { faultFlag: true } } });
    // saved: a second flush has nothing to write, reopened it gives the same back
    await store.flush();
    const again = await h.reopen();
    expect(again.get('d-1', 'pressure_low')).toEqual(active());
    expect(again.getMemory('d-1')).toEqual({ faultFlag: true });
  });

  it('a flush in a transaction rolled back stores nothing; reload then drops the changes, and the replayed batch is stored', async () => {
    store.set('d-1', 'pressure_low', pending());
    store.setMemory('d-1', { eventCode: 'E1' });
    await store.flush();
    // a processors batch: the rules change state, beforeCommit flushes, then the cursor save fails
    const batch = () => {
      store.set('d-1', 'pressure_low', active());
      store.set('d-2', 'lane_blocked', pending());
      store.setMemory('d-1', { eventCode: 'E2' });
    };
    batch();
    await expect(
      db().transaction(async () => {
        await store.flush();
        throw new Error('cursor save failed');
      }),
    ).rejects.toThrow('cursor save failed');
    const before = { states: { 'd-1/pressure_low': pending() }, memory: { 'd-1': { eventCode: 'E1' } } };
    expect(await stored()).toEqual(before);
    // onRollback: the cache goes back to what is stored
    await store.reload();
    expect(store.get('d-1', 'pressure_low')).toEqual(pending());
    expect(store.get('d-2', 'lane_blocked')).toBeUndefined();
    expect(store.getMemory('d-1')).toEqual({ eventCode: 'E1' });
    await store.flush(); // nothing left to save: what is stored stays
    expect(await stored()).toEqual(before);
    // the retry replays the batch and commits
    batch();
    await db().transaction(() => store.flush());
    expect(await stored()).toEqual({
      states: { 'd-1/pressure_low': active(), 'd-2/lane_blocked': pending() },
      memory: { 'd-1': { eventCode: 'E2' } },
    });
  });

  it('a flush that fails inside the caller’s transaction keeps its changes to be saved by the next flush', async () => {
    store.set('d-1', 'pressure_low', active());
    store.setMemory('d-1', { stuck: true });
    await expect(
      db().transaction(async () => {
        await db().query('SELECT 1/0').catch(() => undefined); // the transaction is aborted from here on
        await store.flush();
      }),
    ).rejects.toThrow(/aborted/);
    expect(await stored()).toEqual({ states: {}, memory: {} });
    await store.flush();
    expect(await stored()).toEqual({ states: { 'd-1/pressure_low': active() }, memory: { 'd-1': { stuck: true } } });
  });

  it('a flush on its own is all-or-nothing: one refused row stores none, and the next flush stores all', async () => {
    const refusal = await refuseMemoryOf('d-poison');
    store.set('d-1', 'pressure_low', active());
    store.set('d-2', 'lane_blocked', pending());
    store.setMemory('d-1', { faultFlag: true });
    store.setMemory('d-poison', { faultFlag: false });
    await expect(store.flush()).rejects.toThrow(/refused: d-poison/);
    expect(await stored()).toEqual({ states: {}, memory: {} });
    await refusal.remove();
    await store.flush();
    expect(await stored()).toEqual({
      states: { 'd-1/pressure_low': active(), 'd-2/lane_blocked': pending() },
      memory: { 'd-1': { faultFlag: true }, 'd-poison': { faultFlag: false } },
    });
  });

  it('keeps to be saved what changed after a flush took its snapshot, and only that', async () => {
    store.set('d-1', 'pressure_low', pending());
    store.set('d-1', 'lane_blocked', pending());
    store.set('d-2', 'device_offline', active());
    store.setMemory('d-1', { eventCode: 'E1' });
    store.setMemory('d-2', { eventCode: 'E1' });
    const lock = await holdWrites();
    const first = store.flush();
    await lockWaiters(1); // its snapshot is taken and its statement is waiting
    store.set('d-1', 'pressure_low', active()); // changed again
    store.set('d-1', 'lane_blocked', NORMAL); // closed
    store.setMemory('d-1', { eventCode: 'E2' });
    await lock.release();
    await first;
    // the first flush stored its snapshot
    expect(await stored()).toEqual({
      states: { 'd-1/pressure_low': pending(), 'd-1/lane_blocked': pending(), 'd-2/device_offline': active() },
      memory: { 'd-1': { eventCode: 'E1' }, 'd-2': { eventCode: 'E1' } },
    });
    // what it saved unchanged is no longer to be saved: rows changed behind the store's back stay as they are
    await db().query(`UPDATE rule_state SET state = '{"marker":true}' WHERE device_id = 'd-2'`);
    await db().query(`UPDATE rule_memory SET memory = '{"marker":true}' WHERE device_id = 'd-2'`);
    await store.flush();
    expect(await stored()).toEqual({
      states: { 'd-1/pressure_low': active(), 'd-2/device_offline': { marker: true } },
      memory: { 'd-1': { eventCode: 'E2' }, 'd-2': { marker: true } },
    });
  });

  it('runs flushes one at a time, in order: the second waits for the first and writes the newer value', async () => {
    store.set('d-1', 'pressure_low', pending());
    const lock = await holdWrites();
    const first = store.flush();
    await lockWaiters(1);
    store.set('d-1', 'pressure_low', active());
    store.setMemory('d-1', { eventCode: 'E2' });
    let secondDone = false;
    const second = store.flush().then(() => (secondDone = true));
    await sleep(150);
    // the second has not sent its statement: only the first waits for the lock
    const waiting = await db().pool.query<{ n: number }>(
      "SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    expect(waiting.rows[0]!.n).toBe(1);
    expect(secondDone).toBe(false);
    await lock.release();
    await Promise.all([first, second]);
    expect(await stored()).toEqual({ states: { 'd-1/pressure_low': active() }, memory: { 'd-1': { eventCode: 'E2' } } });
  });

  it('a flush queued behind another still joins the transaction it was called in', async () => {
    const outside = await otherSession();
    store.set('d-1', 'pressure_low', pending());
    const lock = await holdWrites();
    const first = store.flush(); // on its own, waiting for the lock
    await lockWaiters(1);
    const tx = db().transaction(async () => {
      store.set('d-2', 'lane_blocked', active());
      await store.flush(); // queued behind `first`
      expect(await storedVia((sql) => outside.query(sql).then((r) => r.rows))).toEqual({ states: { 'd-1/pressure_low': pending() }, memory: {} });
      throw new Error('rolled back');
    });
    await sleep(50);
    await lock.release();
    await first;
    await expect(tx).rejects.toThrow('rolled back');
    expect(await stored()).toEqual({ states: { 'd-1/pressure_low': pending() }, memory: {} });
  });

  it('reload waits for a flush in flight, then gives back what is stored', async () => {
    store.set('d-1', 'pressure_low', pending());
    const lock = await holdWrites();
    const flushed = store.flush();
    await lockWaiters(1);
    const reloaded = store.reload();
    await lock.release();
    await Promise.all([flushed, reloaded]);
    expect(store.get('d-1', 'pressure_low')).toEqual(pending());
  });

  it('saves 2,000 dirty devices in one statement, and deletes as many in one more', async () => {
    const N = 2000;
    const mem = (i: number): RuleMemory => ({
      pressures: [
        [T0, 0.3 + i / 1e5],
        [T0 + 30_000, 0.29],
      ],
      unchanged: { value: 0.29, since: T0 + 30_000, count: 2 },
      supervisoryCode: `阀门 ${i} "closed"\\`,
    });
    // count the statements a flush sends: a PgDatabase on the same pool that counts its queries
    let statements = 0;
    class CountingDb extends PgDatabase {
      override query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
        statements++;
        return super.query<T>(sql, params);
      }
    }
    const counted = await PgRuleStateStore.open(new CountingDb(db().pool));
    statements = 0;
    for (let i = 0; i < N; i++) {
      counted.set(`d-${i}`, 'pressure_low', active(T0 + i));
      counted.set(`d-${i}`, 'lane_blocked', pending(T0 + i));
      counted.setMemory(`d-${i}`, mem(i));
    }
    await counted.flush();
    expect(statements).toBe(1);
    const counts = async () =>
      (
        await db().query<{ states: number; memory: number }>(
          'SELECT (SELECT count(*)::integer FROM rule_state) AS states, (SELECT count(*)::integer FROM rule_memory) AS memory',
        )
      )[0];
    expect(await counts()).toEqual({ states: 2 * N, memory: N });
    const again = await PgRuleStateStore.open(db());
    for (const i of [0, 1, 999, N - 1]) {
      expect(again.get(`d-${i}`, 'pressure_low')).toEqual(active(T0 + i));
      expect(again.get(`d-${i}`, 'lane_blocked')).toEqual(pending(T0 + i));
      expect(again.getMemory(`d-${i}`)).toEqual(mem(i));
    }
    expect([...again.openConditions()]).toHaveLength(2 * N);
    // half the devices forgotten, the other half's lane_blocked closed: deletes only
    statements = 0;
    for (let i = 0; i < N; i++) {
      if (i % 2 === 0) counted.forgetDevice(`d-${i}`);
      else counted.set(`d-${i}`, 'lane_blocked', NORMAL);
    }
    await counted.flush();
    expect(statements).toBe(1);
    expect(await counts()).toEqual({ states: N / 2, memory: N / 2 });
    await again.reload();
    expect(again.get('d-0', 'pressure_low')).toBeUndefined();
    expect(again.getMemory('d-0')).toBeUndefined();
    expect(again.get('d-1', 'pressure_low')).toEqual(active(T0 + 1));
    expect(again.get('d-1', 'lane_blocked')).toBeUndefined();
    expect(again.getMemory('d-1')).toEqual(mem(1));
    // nothing dirty: a flush sends nothing
    statements = 0;
    await counted.flush();
    expect(statements).toBe(0);
  });

  it('the timer saves what changed, reports a failure and the recovery, and stops on close', async () => {
    const errors: unknown[] = [];
    let oks = 0;
    store.start(20, (err) => errors.push(err), () => oks++);
    store.set('d-1', 'pressure_low', active());
    const until = async (done: () => Promise<boolean> | boolean) => {
      for (let i = 0; i < 300 && !(await done()); i++) await sleep(10);
      expect(await done()).toBe(true);
    };
    await until(async () => Object.keys((await stored()).states).length === 1);
    const refusal = await refuseMemoryOf('d-2');
    store.setMemory('d-2', { faultFlag: true });
    await until(() => errors.length > 0);
    expect(String(errors[0])).toMatch(/refused: d-2/);
    const oksBefore = oks;
    await refusal.remove();
    await until(async () => (await stored()).memory['d-2'] !== undefined && oks > oksBefore);
    await store.close();
    // stopped: a change after close stays unsaved
    store.set('d-3', 'pressure_low', pending());
    await sleep(100);
    expect((await stored()).states['d-3/pressure_low']).toBeUndefined();
  });

  it('close saves what is unsaved, and swallows a storage failure', async () => {
    store.set('d-1', 'pressure_low', active());
    await store.close();
    expect((await stored()).states).toEqual({ 'd-1/pressure_low': active() });
    store.set('d-2', 'pressure_low', active());
    await db().close();
    await expect(store.close()).resolves.toBeUndefined();
  });
});
