/**
 * Where the engine keeps condition states and per-device memory between readings. The alerts
 * layer implements it durably so for/clear timers survive a restart; InMemoryRuleStateStore is
 * the real in-memory fake for tests (house style: fakes, not mocks).
 */
import type { ConditionState } from './condition.js';
import type { RuleMemory } from './rule-families/rule-family.js';
import type { RuleId } from './rule-types.js';

export interface StoredCondition {
  deviceId: string;
  ruleId: RuleId;
  state: ConditionState;
}

export interface RuleStateStore {
  get(deviceId: string, ruleId: RuleId): ConditionState | undefined;
  set(deviceId: string, ruleId: RuleId, state: ConditionState): void;
  getMemory(deviceId: string): RuleMemory | undefined;
  setMemory(deviceId: string, memory: RuleMemory): void;
  /** every condition not in phase 'normal' (the only ones with timers), for dueChecks */
  openConditions(): Iterable<StoredCondition>;
}

export class InMemoryRuleStateStore implements RuleStateStore {
  private readonly states = new Map<string, StoredCondition>();
  private readonly memory = new Map<string, RuleMemory>();

  get(deviceId: string, ruleId: RuleId): ConditionState | undefined {
    return this.states.get(`${deviceId}\u0000${ruleId}`)?.state;
  }

  set(deviceId: string, ruleId: RuleId, state: ConditionState): void {
    const key = `${deviceId}\u0000${ruleId}`;
    // Normal states carry no timer; dropping them keeps the map as small as the open conditions.
    if (state.phase === 'normal') this.states.delete(key);
    else this.states.set(key, { deviceId, ruleId, state: structuredClone(state) });
  }

  getMemory(deviceId: string): RuleMemory | undefined {
    const m = this.memory.get(deviceId);
    return m === undefined ? undefined : structuredClone(m);
  }

  setMemory(deviceId: string, memory: RuleMemory): void {
    this.memory.set(deviceId, structuredClone(memory));
  }

  *openConditions(): Iterable<StoredCondition> {
    for (const c of [...this.states.values()]) yield { ...c, state: structuredClone(c.state) };
  }
}
