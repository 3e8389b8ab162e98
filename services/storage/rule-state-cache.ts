/**
 * The in-memory side of a durable RuleStateStore (../rules/rule-state-store.ts), shared by the
 * SQLite store (sqlite/sqlite-rule-state-store.ts) and the PostgreSQL one
 * (postgres/pg-rule-state-store.ts): the rules read and write here on every reading, and the store
 * saves what changed. This file knows no database: it keeps the values, remembers which keys
 * changed, and hands those changes out as row operations, JSON already serialised, for the
 * engine's store to write.
 *
 * Kept per device (device → rule → state): the hot path does a handful of lookups per reading and
 * builds no composite key strings. It keeps a copy of each state and the memory as it is given
 * (rule-state-store.ts says who may change what), and gives both back as they are; a value set
 * again unchanged (the very object it gave back) is not marked as changed.
 *
 * Saving: `changes()` takes a snapshot of what changed (it clears nothing), the store writes it,
 * and only once the write succeeded does `saved(changes)` clear what the snapshot covered. A
 * failed write leaves everything as it was, to be written by the next save. Every change is
 * numbered as it is made (`markDirty`); `saved` clears a key only if it was not changed again after
 * the snapshot, so a change made while an asynchronous write is in flight (PostgreSQL) stays to be
 * saved by the next one, even if the write in flight carried an earlier value of the same key.
 */
import type { ConditionState } from '../rules/condition.js';
import type { RuleMemory } from '../rules/rule-families/rule-family.js';
import type { RuleStateStore, StoredCondition } from '../rules/rule-state-store.js';
import type { RuleId } from '../rules/rule-types.js';

/** A device's memory as stored (a row of rule_memory, parsed). */
export interface StoredMemory {
  deviceId: string;
  memory: RuleMemory;
}

/** What a save writes: one operation per changed key, the value as the JSON text to store. */
export type RuleStateOp =
  | { kind: 'upsertState'; deviceId: string; ruleId: RuleId; state: string }
  | { kind: 'deleteState'; deviceId: string; ruleId: RuleId }
  | { kind: 'upsertMemory'; deviceId: string; memory: string }
  | { kind: 'deleteMemory'; deviceId: string };

/** A snapshot of what changed, from `changes()`; give it back to `saved` once it is written. */
export interface RuleStateChanges {
  /** the operations, each key once: its state or memory as it was when the snapshot was taken */
  readonly ops: readonly RuleStateOp[];
  /** the number of the last change the snapshot covers (RuleStateCache's change numbering) */
  readonly upTo: number;
}

export class RuleStateCache {
  private readonly states = new Map<string, Map<RuleId, StoredCondition>>();
  private readonly memory = new Map<string, RuleMemory>();
  /** device → rules whose state changed since it was last saved → the number of the last change */
  private readonly dirtyStates = new Map<string, Map<RuleId, number>>();
  /** device → the number of the last change of its memory since it was last saved */
  private readonly dirtyMemory = new Map<string, number>();
  /** the number of the last change made; never goes back, also across `load` */
  private changeNo = 0;

  /**
   * Fills the cache from what is stored, dropping whatever it held, saved or not (a start, or a
   * reload after a rolled-back batch). The rows are kept as they are: pass freshly parsed ones.
   */
  load(rows: { states: Iterable<StoredCondition>; memory: Iterable<StoredMemory> }): void {
    this.states.clear();
    this.memory.clear();
    this.dirtyStates.clear();
    this.dirtyMemory.clear();
    for (const c of rows.states) this.byDevice(c.deviceId).set(c.ruleId, c);
    for (const m of rows.memory) this.memory.set(m.deviceId, m.memory);
  }

  get(deviceId: string, ruleId: RuleId): ConditionState | undefined {
    return this.states.get(deviceId)?.get(ruleId)?.state;
  }

  set(deviceId: string, ruleId: RuleId, state: ConditionState): void {
    if (state.phase === 'normal') {
      // normal and not stored: nothing to save (most readings of a healthy district)
      const m = this.states.get(deviceId);
      if (m?.delete(ruleId)) {
        if (m.size === 0) this.states.delete(deviceId);
        this.markDirty(deviceId, ruleId);
      }
      return;
    }
    const m = this.byDevice(deviceId);
    // the very state it holds, set again (a tick with nothing due): nothing changed, nothing to save
    if (m.get(ruleId)?.state === state) return;
    m.set(ruleId, { deviceId, ruleId, state: { ...state } });
    this.markDirty(deviceId, ruleId);
  }

  getMemory(deviceId: string): RuleMemory | undefined {
    return this.memory.get(deviceId);
  }

  setMemory(deviceId: string, memory: RuleMemory): void {
    if (this.memory.get(deviceId) === memory) return; // given back unchanged (a reading no family kept anything of)
    this.memory.set(deviceId, memory);
    this.dirtyMemory.set(deviceId, ++this.changeNo);
  }

  /** every open condition; a snapshot, so states may be set while it is iterated */
  *openConditions(): Iterable<StoredCondition> {
    const all: StoredCondition[] = [];
    for (const m of this.states.values()) for (const c of m.values()) all.push(c);
    yield* all;
  }

  /** Drops everything kept for the device (removed, or back in service): its rows are deleted by the next save. */
  forgetDevice(deviceId: string): void {
    const m = this.states.get(deviceId);
    if (m) for (const ruleId of m.keys()) this.markDirty(deviceId, ruleId);
    this.states.delete(deviceId);
    this.memory.delete(deviceId);
    this.dirtyMemory.set(deviceId, ++this.changeNo);
  }

  /** whether anything changed that is not saved yet */
  get dirty(): boolean {
    return this.dirtyStates.size > 0 || this.dirtyMemory.size > 0;
  }

  /** how many keys (device and rule, or device's memory) have changes not saved yet */
  get dirtyCount(): number {
    let n = this.dirtyMemory.size;
    for (const rules of this.dirtyStates.values()) n += rules.size;
    return n;
  }

  /**
   * A snapshot of what changed since it was last saved, as row operations: states first, then
   * memory, each key once, with its value as it is now. Clears nothing (`saved` does).
   */
  changes(): RuleStateChanges {
    const ops: RuleStateOp[] = [];
    for (const [deviceId, rules] of this.dirtyStates) {
      const m = this.states.get(deviceId);
      for (const ruleId of rules.keys()) {
        const c = m?.get(ruleId);
        if (c) ops.push({ kind: 'upsertState', deviceId, ruleId, state: JSON.stringify(c.state) });
        else ops.push({ kind: 'deleteState', deviceId, ruleId });
      }
    }
    for (const deviceId of this.dirtyMemory.keys()) {
      const mem = this.memory.get(deviceId);
      if (mem) ops.push({ kind: 'upsertMemory', deviceId, memory: JSON.stringify(mem) });
      else ops.push({ kind: 'deleteMemory', deviceId });
    }
    return { ops, upTo: this.changeNo };
  }

  /**
   * `changes` is written: its keys are no longer to be saved, except those changed again after the
   * snapshot was taken (they keep their newer value to be saved next). Call it only once the write
   * succeeded (committed, or inside the caller's transaction: see the stores).
   */
  saved(changes: RuleStateChanges): void {
    const { upTo } = changes;
    for (const op of changes.ops) {
      if (op.kind === 'upsertState' || op.kind === 'deleteState') {
        const rules = this.dirtyStates.get(op.deviceId);
        const no = rules?.get(op.ruleId);
        if (rules && no !== undefined && no <= upTo) {
          rules.delete(op.ruleId);
          if (rules.size === 0) this.dirtyStates.delete(op.deviceId);
        }
      } else {
        const no = this.dirtyMemory.get(op.deviceId);
        if (no !== undefined && no <= upTo) this.dirtyMemory.delete(op.deviceId);
      }
    }
  }

  private byDevice(deviceId: string): Map<RuleId, StoredCondition> {
    let m = this.states.get(deviceId);
    if (!m) this.states.set(deviceId, (m = new Map()));
    return m;
  }

  private markDirty(deviceId: string, ruleId: RuleId): void {
    let d = this.dirtyStates.get(deviceId);
    if (!d) this.dirtyStates.set(deviceId, (d = new Map()));
    d.set(ruleId, ++this.changeNo);
  }
}

/**
 * The part of a durable RuleStateStore that answers from the cache (the hot path: no query), shared
 * by the SQLite and PostgreSQL stores, which add loading and saving.
 */
export abstract class CachedRuleStateStore implements RuleStateStore {
  protected readonly cache = new RuleStateCache();

  get(deviceId: string, ruleId: RuleId): ConditionState | undefined {
    return this.cache.get(deviceId, ruleId);
  }

  set(deviceId: string, ruleId: RuleId, state: ConditionState): void {
    this.cache.set(deviceId, ruleId, state);
  }

  getMemory(deviceId: string): RuleMemory | undefined {
    return this.cache.getMemory(deviceId);
  }

  setMemory(deviceId: string, memory: RuleMemory): void {
    this.cache.setMemory(deviceId, memory);
  }

  openConditions(): Iterable<StoredCondition> {
    return this.cache.openConditions();
  }

  forgetDevice(deviceId: string): void {
    this.cache.forgetDevice(deviceId);
  }
}
