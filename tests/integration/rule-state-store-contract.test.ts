/**
 * Every RuleStateStore against the one contract (tests/support/rule-state-store-contract.ts): the
 * in-memory fake the rule tests use, and the SQLite store on a real temp file (firewatch.db's
 * rule_state and rule_memory tables), reopened from that file to test that it keeps what it saved.
 * (The PostgreSQL store runs it in pg-rule-state-store-contract.test.ts.)
 *
 * Below the contract, the SQLite store's saving as the processors use it (log-processors.ts,
 * server/main.ts): a flush inside the batch's transaction commits or rolls back with it and
 * `reload` then drops what the rollback undid; a failing flush stores nothing and keeps its
 * changes to be saved; forgetDevice deletes the device's rows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConditionState } from '../../services/rules/condition.js';
import { InMemoryRuleStateStore } from '../../services/rules/rule-state-store.js';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';
import { SqliteRuleStateStore } from '../../services/storage/sqlite/sqlite-rule-state-store.js';
import { ruleStateStoreContract } from '../support/rule-state-store-contract.js';

ruleStateStoreContract('in-memory', () => ({ store: new InMemoryRuleStateStore(), cleanup: () => undefined, guardsValues: true }));

ruleStateStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'firewatch-rule-states-'));
  const file = join(dir, 'firewatch.db');
  let db: Db = openDatabase(file);
  let store = new SqliteRuleStateStore(db);
  return {
    store,
    // a restart: close() saves what is unsaved, then the file is opened afresh
    reopen: () => {
      store.close();
      db.close();
      db = openDatabase(file);
      store = new SqliteRuleStateStore(db);
      return store;
    },
    cleanup: async () => {
      store.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const T0 = Date.UTC(2026, 5, 1, 8);
const pending = (since = T0): ConditionState => ({ phase: 'pending', since, activeSince: null, value: 0.08, peak: 0.08, count: 1, lastAlertAt: null });
const active = (activeSince = T0): ConditionState => ({ phase: 'active', since: null, activeSince, value: 0.05, peak: 0.04, count: 7, lastAlertAt: activeSince });
const NORMAL: ConditionState = { phase: 'normal', since: null, activeSince: null, value: 0.3, peak: null, count: 0, lastAlertAt: null };

describe('SqliteRuleStateStore: saving', () => {
  let dir: string;
  let db: Db;
  let store: SqliteRuleStateStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'firewatch-rule-states-'));
    db = openDatabase(join(dir, 'firewatch.db'));
    store = new SqliteRuleStateStore(db);
  });

  afterEach(async () => {
    store.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stored = () => ({
    states: Object.fromEntries(
      (db.prepare('SELECT device_id, rule_id, state FROM rule_state').all() as Array<{ device_id: string; rule_id: string; state: string }>).map((r) => [
        `${r.device_id}/${r.rule_id}`,
        JSON.parse(r.state) as unknown,
      ]),
    ),
    memory: Object.fromEntries(
      (db.prepare('SELECT device_id, memory FROM rule_memory').all() as Array<{ device_id: string; memory: string }>).map((r) => [r.device_id, JSON.parse(r.memory) as unknown]),
    ),
  });

  it('a flush in a batch rolled back stores nothing; reload drops the changes, the replayed batch is stored', () => {
    store.set('d-1', 'pressure_low', pending());
    store.flush();
    const batch = () => {
      store.set('d-1', 'pressure_low', active());
      store.setMemory('d-1', { eventCode: 'E2' });
    };
    batch();
    expect(() =>
      db.transaction(() => {
        store.flush();
        throw new Error('cursor save failed');
      })(),
    ).toThrow('cursor save failed');
    expect(stored()).toEqual({ states: { 'd-1/pressure_low': pending() }, memory: {} });
    store.reload();
    expect(store.get('d-1', 'pressure_low')).toEqual(pending());
    expect(store.getMemory('d-1')).toBeUndefined();
    batch();
    db.transaction(() => store.flush())();
    expect(stored()).toEqual({ states: { 'd-1/pressure_low': active() }, memory: { 'd-1': { eventCode: 'E2' } } });
  });

  it('a failing flush stores nothing and keeps its changes to be saved by the next one', () => {
    db.exec(`CREATE TRIGGER refuse_memory BEFORE INSERT ON rule_memory WHEN NEW.device_id = 'd-poison' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    store.set('d-1', 'pressure_low', active());
    store.setMemory('d-1', { faultFlag: true });
    store.setMemory('d-poison', { faultFlag: false });
    expect(() => store.flush()).toThrow('refused');
    expect(stored()).toEqual({ states: {}, memory: {} });
    db.exec('DROP TRIGGER refuse_memory');
    store.flush();
    expect(stored()).toEqual({ states: { 'd-1/pressure_low': active() }, memory: { 'd-1': { faultFlag: true }, 'd-poison': { faultFlag: false } } });
  });

  it('saves only what changed since the last flush, deletes closed states and forgotten devices', () => {
    store.set('d-1', 'pressure_low', active());
    store.set('d-1', 'lane_blocked', pending());
    store.set('d-2', 'device_offline', active());
    store.setMemory('d-1', { eventCode: 'E1' });
    store.setMemory('d-2', { eventCode: 'E1' });
    store.flush();
    // changed behind the store's back: a flush that had nothing of d-2 to save leaves it
    db.exec(`UPDATE rule_memory SET memory = '{"marker":true}' WHERE device_id = 'd-2'`);
    store.set('d-1', 'lane_blocked', NORMAL);
    store.set('d-2', 'device_offline', store.get('d-2', 'device_offline')!); // unchanged
    store.flush();
    expect(stored()).toEqual({
      states: { 'd-1/pressure_low': active(), 'd-2/device_offline': active() },
      memory: { 'd-1': { eventCode: 'E1' }, 'd-2': { marker: true } },
    });
    store.forgetDevice('d-1');
    store.flush();
    expect(stored()).toEqual({ states: { 'd-2/device_offline': active() }, memory: { 'd-2': { marker: true } } });
  });
});
