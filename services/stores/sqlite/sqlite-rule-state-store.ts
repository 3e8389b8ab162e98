/**
 * RuleStateStore over SQLite, write-behind: the rules stage reads and writes in memory on every
 * reading; changed entries are saved every `flushMs` and on close, so the for/clear timers
 * survive a restart (and a crash loses at most that interval of timer progress).
 */
import type { ConditionState } from '../../rules/condition.js';
import type { RuleMemory } from '../../rules/rule-families/rule-family.js';
import type { RuleStateStore, StoredCondition } from '../../rules/rule-state-store.js';
import type { RuleId } from '../../rules/rule-types.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

const key = (deviceId: string, ruleId: string) => `${deviceId}\u0000${ruleId}`;

export class SqliteRuleStateStore implements RuleStateStore {
  private readonly states = new Map<string, StoredCondition>();
  private readonly memory = new Map<string, RuleMemory>();
  private readonly dirtyStates = new Set<string>();
  private readonly dirtyMemory = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db) {
    this.load();
  }

  /** (Re)load from disk, dropping unsaved changes: after a rolled-back processors batch. */
  reload(): void {
    this.states.clear();
    this.memory.clear();
    this.dirtyStates.clear();
    this.dirtyMemory.clear();
    this.load();
  }

  private load(): void {
    for (const r of this.db.prepare('SELECT device_id, rule_id, state FROM rule_state').all() as Array<{ device_id: string; rule_id: RuleId; state: string }>) {
      this.states.set(key(r.device_id, r.rule_id), { deviceId: r.device_id, ruleId: r.rule_id, state: JSON.parse(r.state) as ConditionState });
    }
    for (const r of this.db.prepare('SELECT device_id, memory FROM rule_memory').all() as Array<{ device_id: string; memory: string }>) {
      this.memory.set(r.device_id, JSON.parse(r.memory) as RuleMemory);
    }
  }

  /** Save changes every `flushMs` (time-driven changes: ticks, last wills); a failed save is retried. */
  start(flushMs = 1000, onError: (err: unknown) => void = () => undefined, onOk: () => void = () => undefined): void {
    this.timer = setInterval(() => {
      try {
        this.flush();
        onOk();
      } catch (err) {
        onError(err);
      }
    }, flushMs);
    this.timer.unref();
  }

  get(deviceId: string, ruleId: RuleId): ConditionState | undefined {
    return this.states.get(key(deviceId, ruleId))?.state;
  }

  set(deviceId: string, ruleId: RuleId, state: ConditionState): void {
    const k = key(deviceId, ruleId);
    if (state.phase === 'normal') {
      // normal and not stored: nothing to save (most readings of a healthy district)
      if (this.states.delete(k)) this.dirtyStates.add(k);
      return;
    }
    this.states.set(k, { deviceId, ruleId, state: { ...state } });
    this.dirtyStates.add(k);
  }

  getMemory(deviceId: string): RuleMemory | undefined {
    return this.memory.get(deviceId);
  }

  setMemory(deviceId: string, memory: RuleMemory): void {
    this.memory.set(deviceId, memory);
    this.dirtyMemory.add(deviceId);
  }

  *openConditions(): Iterable<StoredCondition> {
    for (const c of [...this.states.values()]) yield c;
  }

  forgetDevice(deviceId: string): void {
    for (const [k, c] of this.states) {
      if (c.deviceId !== deviceId) continue;
      this.states.delete(k);
      this.dirtyStates.add(k);
    }
    this.memory.delete(deviceId);
    this.dirtyMemory.add(deviceId);
  }

  private statements:
    | { upsertState: Statement; deleteState: Statement; upsertMemory: Statement; deleteMemory: Statement; save: (fn: () => void) => void }
    | undefined;

  /** Save what changed; inside an open transaction (the processors' batch) it becomes part of it. */
  flush(): void {
    if (this.dirtyStates.size === 0 && this.dirtyMemory.size === 0) return;
    this.statements ??= {
      upsertState: this.db.prepare(
        'INSERT INTO rule_state (device_id, rule_id, state) VALUES (?, ?, ?) ON CONFLICT(device_id, rule_id) DO UPDATE SET state = excluded.state',
      ),
      deleteState: this.db.prepare('DELETE FROM rule_state WHERE device_id = ? AND rule_id = ?'),
      upsertMemory: this.db.prepare('INSERT INTO rule_memory (device_id, memory) VALUES (?, ?) ON CONFLICT(device_id) DO UPDATE SET memory = excluded.memory'),
      deleteMemory: this.db.prepare('DELETE FROM rule_memory WHERE device_id = ?'),
      save: this.db.transaction((fn: () => void) => fn()),
    };
    const { upsertState, deleteState, upsertMemory, deleteMemory, save } = this.statements;
    save(() => {
      for (const k of this.dirtyStates) {
        const [deviceId, ruleId] = k.split('\u0000') as [string, string];
        const c = this.states.get(k);
        if (c) upsertState.run(deviceId, ruleId, JSON.stringify(c.state));
        else deleteState.run(deviceId, ruleId);
      }
      for (const id of this.dirtyMemory) {
        const m = this.memory.get(id);
        if (m) upsertMemory.run(id, JSON.stringify(m));
        else deleteMemory.run(id);
      }
    });
    this.dirtyStates.clear();
    this.dirtyMemory.clear();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    try {
      this.flush();
    } catch {
      /* storage failing at shutdown: the processors replay from their saved position */
    }
  }
}
