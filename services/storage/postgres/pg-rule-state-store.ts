/**
 * RuleStateStore over PostgreSQL (tables: schema-rules.ts), the twin of
 * ../sqlite/sqlite-rule-state-store.ts and passing the same contract
 * (tests/support/rule-state-store-contract.ts). The rules read and write in memory on every
 * reading (the shared cache, ../rule-state-cache.ts: no query on the hot path); what changed is
 * saved by `flush()`, which the processors call inside each batch's transaction, and by a timer
 * for time-driven changes (ticks, last wills). `reload()` drops unsaved changes after a
 * rolled-back batch.
 *
 * Saving: one statement per flush, whatever the number of changes: the upserts and deletes of
 * both tables as data-modifying CTEs, each fed by arrays (unnest), so 2,000 dirty devices are one
 * round trip. One statement is atomic by itself, so a flush is all-or-nothing without a
 * BEGIN/COMMIT of its own; called inside `db.transaction(...)` it runs on that transaction's client
 * (database.ts binds it) and commits or rolls back with it. A failed flush marks nothing saved: its
 * changes are written by the next one. A flush joined to a transaction that rolls back afterwards
 * has marked its changes saved; the caller then calls `reload()`, which brings the cache back to
 * what is stored (the processors do on SQLite: log-processors.ts onRollback).
 *
 * Order: flushes and reloads run one at a time, in the order they were called (each queued behind
 * the last), so an older snapshot is never written over a newer one. A flush takes its snapshot of
 * what changed when its turn comes and marks saved only what was not changed again meanwhile: a
 * change made while its statement is in flight stays to be saved by the next flush. A reload drops
 * whatever changed before its rows arrived, saved or not, as on SQLite.
 *
 * Caution: a flush queued behind the timer's waits for it, and the timer's flush (its own
 * statement on a pooled connection) waits for the row locks an open transaction holds. So code
 * that flushes twice inside one transaction can wait on itself; flush once per transaction, last
 * (the processors do: beforeCommit).
 */
import type { ConditionState } from '../../rules/condition.js';
import type { RuleMemory } from '../../rules/rule-families/rule-family.js';
import type { StoredCondition } from '../../rules/rule-state-store.js';
import type { RuleId } from '../../rules/rule-types.js';
import { CachedRuleStateStore, type RuleStateOp, type StoredMemory } from '../rule-state-cache.js';
import type { PgDatabase } from './database.js';

/** Both tables in one statement (one snapshot): a state row has a rule_id, a memory row none. */
const LOAD = `
  SELECT device_id, rule_id, state, NULL::json AS memory FROM rule_state
  UNION ALL
  SELECT device_id, NULL, NULL, memory FROM rule_memory`;

/**
 * Every change of one flush. Each key is in at most one of the four lists (the cache gives one
 * operation per key), so no two parts touch the same row; every part runs to completion whether or
 * not the final SELECT reads it.
 */
const SAVE = `
  WITH
    upsert_state AS (
      INSERT INTO rule_state (device_id, rule_id, state)
      SELECT * FROM unnest($1::text[], $2::text[], $3::json[])
      ON CONFLICT (device_id, rule_id) DO UPDATE SET state = excluded.state
    ),
    delete_state AS (
      DELETE FROM rule_state s USING unnest($4::text[], $5::text[]) AS d (device_id, rule_id)
      WHERE s.device_id = d.device_id AND s.rule_id = d.rule_id
    ),
    upsert_memory AS (
      INSERT INTO rule_memory (device_id, memory)
      SELECT * FROM unnest($6::text[], $7::json[])
      ON CONFLICT (device_id) DO UPDATE SET memory = excluded.memory
    ),
    delete_memory AS (
      DELETE FROM rule_memory WHERE device_id = ANY ($8::text[])
    )
  SELECT 1`;

/** Rows of LOAD as node-postgres gives them (json columns parsed). */
interface LoadRow {
  device_id: string;
  rule_id: RuleId | null;
  state: ConditionState | null;
  memory: RuleMemory | null;
}

const ignore = () => undefined;

/** SAVE's parameters: the operations sorted into column arrays. */
function saveParams(ops: readonly RuleStateOp[]): string[][] {
  const stateDevices: string[] = [];
  const stateRules: string[] = [];
  const states: string[] = [];
  const goneDevices: string[] = [];
  const goneRules: string[] = [];
  const memoryDevices: string[] = [];
  const memories: string[] = [];
  const goneMemory: string[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case 'upsertState':
        stateDevices.push(op.deviceId);
        stateRules.push(op.ruleId);
        states.push(op.state);
        break;
      case 'deleteState':
        goneDevices.push(op.deviceId);
        goneRules.push(op.ruleId);
        break;
      case 'upsertMemory':
        memoryDevices.push(op.deviceId);
        memories.push(op.memory);
        break;
      case 'deleteMemory':
        goneMemory.push(op.deviceId);
        break;
    }
  }
  return [stateDevices, stateRules, states, goneDevices, goneRules, memoryDevices, memories, goneMemory];
}

export class PgRuleStateStore extends CachedRuleStateStore {
  /** the end of the last flush or reload queued: they run one at a time, in the order called */
  private tail: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** bumped by every start and stop: a timer loop that sees another value stops */
  private timerRun = 0;

  private constructor(private readonly db: PgDatabase) {
    super();
  }

  /** The store with everything stored loaded. */
  static async open(db: PgDatabase): Promise<PgRuleStateStore> {
    const store = new PgRuleStateStore(db);
    await store.load();
    return store;
  }

  /** (Re)load from the database, dropping unsaved changes: after a rolled-back processors batch. */
  reload(): Promise<void> {
    return this.serially(() => this.load());
  }

  /**
   * Save what changed, in one statement. Inside `db.transaction(...)` it is part of that
   * transaction; otherwise it commits on its own. Resolves once saved; rejects (and keeps the
   * changes to be saved) when the statement failed.
   */
  flush(): Promise<void> {
    return this.serially(() => this.write());
  }

  /**
   * Save changes every `flushMs` (time-driven changes: ticks, last wills), each save `flushMs` after
   * the last one ended; a failed save goes to `onError` and is retried at the next, a successful
   * one to `onOk`. Started again, it stops the previous timer.
   */
  start(flushMs = 1000, onError: (err: unknown) => void = ignore, onOk: () => void = ignore): void {
    this.stopTimer();
    const run = this.timerRun;
    const schedule = () => {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush()
          .then(
            () => onOk(),
            (err: unknown) => onError(err),
          )
          .catch(ignore)
          .finally(() => {
            if (run === this.timerRun) schedule();
          });
      }, flushMs);
      this.timer.unref();
    };
    schedule();
  }

  /** Stops the timer and saves what is unsaved (after any flush or reload in flight). */
  async close(): Promise<void> {
    this.stopTimer();
    try {
      await this.flush();
    } catch {
      /* storage failing at shutdown: the processors replay from their saved position */
    }
  }

  private stopTimer(): void {
    this.timerRun++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * `fn` once every flush and reload queued before it has settled. Queued with `then` from the
   * caller's code, so `fn` runs in the caller's async context: inside the caller's transaction if
   * it is in one (database.ts).
   */
  private serially(fn: () => Promise<void>): Promise<void> {
    const run = this.tail.then(fn);
    this.tail = run.catch(ignore);
    return run;
  }

  private async write(): Promise<void> {
    if (!this.cache.dirty) return;
    const changes = this.cache.changes();
    await this.db.query(SAVE, saveParams(changes.ops));
    this.cache.saved(changes);
  }

  private async load(): Promise<void> {
    const rows = await this.db.query<LoadRow>(LOAD);
    const states: StoredCondition[] = [];
    const memory: StoredMemory[] = [];
    for (const r of rows) {
      if (r.rule_id === null) memory.push({ deviceId: r.device_id, memory: r.memory! });
      else states.push({ deviceId: r.device_id, ruleId: r.rule_id, state: r.state! });
    }
    this.cache.load({ states, memory });
  }
}
