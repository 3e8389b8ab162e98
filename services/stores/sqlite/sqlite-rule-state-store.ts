/**
 * RuleStateStore over SQLite, write-behind: the rules stage reads and writes in memory on every
 * reading; changed entries are saved every `flushMs` and on close, so the for/clear timers
 * survive a restart (and a crash loses at most that interval of timer progress).
 */
import type { ConditionState } from '../../rules/condition.js';
import type { RuleMemory } from '../../rules/rule-families/rule-family.js';
import type { RuleStateStore, StoredCondition } from '../../rules/rule-state-store.js';
import type { RuleId } from '../../rules/rule-types.js';
import type { Db } from './database.js';

const key = (deviceId: string, ruleId: string) => `${deviceId}\u0000${ruleId}`;

export class SqliteRuleStateStore implements RuleStateStore {
  private readonly states = new Map<string, StoredCondition>();
  private readonly memory = new Map<string, RuleMemory>();
  private readonly dirtyStates = new Set<string>();
  private readonly dirtyMemory = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db) {
    for (const r of db.prepare('SELECT device_id, rule_id, state FROM rule_state').all() as Array<{ device_id: string; rule_id: RuleId; state: string }>) {
      this.states.set(key(r.device_id, r.rule_id), { deviceId: r.device_id, ruleId: r.rule_id, state: JSON.parse(r.state) as ConditionState });
    }
    for (const r of db.prepare('SELECT device_id, memory FROM rule_memory').all() as Array<{ device_id: string; memory: string }>) {
      this.memory.set(r.device_id, JSON.parse(r.memory) as RuleMemory);
    }
  }

  start(flushMs = 1000): void {
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  get(deviceId: string, ruleId: RuleId): ConditionState | undefined {
    return this.states.get(key(deviceId, ruleId))?.state;
  }

  set(deviceId: string, ruleId: RuleId, state: ConditionState): void {
    const k = key(deviceId, ruleId);
    if (state.phase === 'normal') this.states.delete(k);
    else this.states.set(k, { deviceId, ruleId, state: { ...state } });
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

  flush(): void {
    if (this.dirtyStates.size === 0 && this.dirtyMemory.size === 0) return;
    const upsertState = this.db.prepare(
      'INSERT INTO rule_state (device_id, rule_id, state) VALUES (?, ?, ?) ON CONFLICT(device_id, rule_id) DO UPDATE SET state = excluded.state',
    );
    const deleteState = this.db.prepare('DELETE FROM rule_state WHERE device_id = ? AND rule_id = ?');
    const upsertMemory = this.db.prepare(
      'INSERT INTO rule_memory (device_id, memory) VALUES (?, ?) ON CONFLICT(device_id) DO UPDATE SET memory = excluded.memory',
    );
    const deleteMemory = this.db.prepare('DELETE FROM rule_memory WHERE device_id = ?');
    this.db.transaction(() => {
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
    })();
    this.dirtyStates.clear();
    this.dirtyMemory.clear();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
  }
}
