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

/**
 * Who may change a value (the contract every implementation passes:
 * tests/support/rule-state-store-contract.ts):
 *  - `set` keeps a copy of the state (states are flat): changing the object passed in afterwards
 *    changes nothing stored;
 *  - `setMemory` takes the memory over as it is: the caller does not change it afterwards, nor any
 *    value got back from `get`, `getMemory` or `openConditions`. To change one, build a new one and
 *    set it — the engine does (condition.ts step/tick and every rule family return new objects;
 *    rule-engine.ts writes them back). Giving back and keeping values as they are keeps the hot path
 *    (a get per rule, a getMemory and a setMemory per reading) free of copies;
 *  - InMemoryRuleStateStore, the store the rule tests run on, enforces this: it keeps deeply frozen
 *    copies (`snapshot`), so a family that changes a value in place fails its tests with a
 *    TypeError. The SQLite store does not freeze: measured with `firewatch bench`, freezing every
 *    reading's memory cost about 10 % of the QoS 1 rate (bench/REPORT.md, run 5);
 *  - `setMemory` replaces the device's memory whole; a value got back and set again is kept.
 * A 'normal' state is not kept: after set(…, normal) `get` answers undefined (the engine's path for
 * a healthy reading allocates nothing) and `openConditions` does not list it.
 */
export interface RuleStateStore {
  get(deviceId: string, ruleId: RuleId): ConditionState | undefined;
  set(deviceId: string, ruleId: RuleId, state: ConditionState): void;
  getMemory(deviceId: string): RuleMemory | undefined;
  setMemory(deviceId: string, memory: RuleMemory): void;
  /**
   * every condition not in phase 'normal' (the only ones with timers), for dueChecks; states may be
   * set while it is iterated (dueChecks does): it yields what was open when the iteration began
   */
  openConditions(): Iterable<StoredCondition>;
}

/** values `snapshot` made: deeply frozen, so safe to share as they are */
const snapshots = new WeakSet<object>();

/**
 * A deeply frozen copy of plain JSON-like data (condition states, rule memory), for the in-memory
 * store: a write to what it keeps throws. Parts that are snapshots already are shared, not copied: the families build the
 * next memory from the last one (`{ ...memory, unchanged }`, a window with one point added), so a
 * reading copies only what it changed, and a value got back and set again costs nothing.
 */
export function snapshot<T>(value: T): T {
  if (typeof value !== 'object' || value === null || snapshots.has(value)) return value;
  let copy: object;
  if (Array.isArray(value)) copy = value.map(snapshot);
  else {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) o[k] = snapshot(v);
    copy = o;
  }
  snapshots.add(Object.freeze(copy));
  return copy as T;
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
    else this.states.set(key, snapshot({ deviceId, ruleId, state }));
  }

  getMemory(deviceId: string): RuleMemory | undefined {
    return this.memory.get(deviceId);
  }

  setMemory(deviceId: string, memory: RuleMemory): void {
    this.memory.set(deviceId, snapshot(memory));
  }

  *openConditions(): Iterable<StoredCondition> {
    yield* [...this.states.values()];
  }
}
