/**
 * RuleStateStore over SQLite. The rules read and write in memory on every reading; what changed is
 * saved by `flush()`, which the processors call inside each batch's transaction (so the saved state
 * always matches the saved log position), and a timer calls for time-driven changes (ticks, last
 * wills). `reload()` drops unsaved changes after a rolled-back batch.
 *
 * Kept per device (device → rule → state): the hot path does a handful of lookups per reading and
 * builds no composite key strings. It keeps a copy of each state and the memory as it is given
 * (rule-state-store.ts says who may change what), and gives both back as they are; a value set
 * again unchanged (the very object it gave back) is not saved again.
 */
import type { Statement } from 'better-sqlite3';
import type { ConditionState } from '../../rules/condition.js';
import type { RuleMemory } from '../../rules/rule-families/rule-family.js';
import type { RuleStateStore, StoredCondition } from '../../rules/rule-state-store.js';
import type { RuleId } from '../../rules/rule-types.js';
import type { Db } from './database.js';
import { every } from '../../shared/every.js';

interface Statements {
  upsertState: Statement;
  deleteState: Statement;
  upsertMemory: Statement;
  deleteMemory: Statement;
  save: (fn: () => void) => void;
}

export class SqliteRuleStateStore implements RuleStateStore {
  private readonly states = new Map<string, Map<RuleId, StoredCondition>>();
  private readonly memory = new Map<string, RuleMemory>();
  /** device → rules whose state changed since the last flush */
  private readonly dirtyStates = new Map<string, Set<RuleId>>();
  private readonly dirtyMemory = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private statements: Statements | undefined;

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
      this.byDevice(r.device_id).set(r.rule_id, { deviceId: r.device_id, ruleId: r.rule_id, state: JSON.parse(r.state) as ConditionState });
    }
    for (const r of this.db.prepare('SELECT device_id, memory FROM rule_memory').all() as Array<{ device_id: string; memory: string }>) {
      this.memory.set(r.device_id, JSON.parse(r.memory) as RuleMemory);
    }
  }

  private byDevice(deviceId: string): Map<RuleId, StoredCondition> {
    let m = this.states.get(deviceId);
    if (!m) this.states.set(deviceId, (m = new Map()));
    return m;
  }

  private markDirty(deviceId: string, ruleId: RuleId): void {
    let d = this.dirtyStates.get(deviceId);
    if (!d) this.dirtyStates.set(deviceId, (d = new Set()));
    d.add(ruleId);
  }

  /** Save changes every `flushMs` (time-driven changes: ticks, last wills); a failed save is retried. */
  start(flushMs = 1000, onError: (err: unknown) => void = () => undefined, onOk: () => void = () => undefined): void {
    this.timer = every(flushMs, () => this.flush(), onError, onOk);
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
    this.dirtyMemory.add(deviceId);
  }

  *openConditions(): Iterable<StoredCondition> {
    const all: StoredCondition[] = [];
    for (const m of this.states.values()) for (const c of m.values()) all.push(c);
    yield* all;
  }

  forgetDevice(deviceId: string): void {
    const m = this.states.get(deviceId);
    if (m) for (const ruleId of m.keys()) this.markDirty(deviceId, ruleId);
    this.states.delete(deviceId);
    this.memory.delete(deviceId);
    this.dirtyMemory.add(deviceId);
  }

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
      for (const [deviceId, rules] of this.dirtyStates) {
        const m = this.states.get(deviceId);
        for (const ruleId of rules) {
          const c = m?.get(ruleId);
          if (c) upsertState.run(deviceId, ruleId, JSON.stringify(c.state));
          else deleteState.run(deviceId, ruleId);
        }
      }
      for (const id of this.dirtyMemory) {
        const mem = this.memory.get(id);
        if (mem) upsertMemory.run(id, JSON.stringify(mem));
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
