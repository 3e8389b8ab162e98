/**
 * The one contract every RuleStateStore passes (services/rules/rule-state-store.ts): the in-memory
 * fake the rule tests use, the SQLite store the service runs on and its PostgreSQL twin, so that
 * what the engine is tested against is what it runs against. Each case gets a fresh, empty store.
 * The interface itself answers at once on every engine (the durable stores keep an in-memory cache);
 * what differs is saving and reopening, which `reopen` and `cleanup` do and the suite awaits.
 *
 * What it pins down:
 *   - condition states are kept per (device, rule), memory per device; unknown ones are undefined
 *   - a later set replaces the earlier value whole (memory is not merged)
 *   - a 'normal' state is not kept: get answers undefined and openConditions does not list it
 *   - openConditions lists every other state once, with its device and rule, and may be iterated
 *     while states are set (the engine's dueChecks does): it yields what was open when it began
 *   - set keeps its own copy of a state: changing the object passed in changes nothing stored
 *   - setMemory takes the memory over as it is (the caller does not change it afterwards, nor what
 *     it gets back); a store that guards its values (the in-memory one) refuses a write to any of
 *     them, nested parts included, with a TypeError and keeps what it held
 *   - a value got back and set again is kept
 *   - a durable store (one that can be reopened) gives back after a reopen what was set before it,
 *     also what was changed, closed (set normal) or set again unchanged after an earlier reopen
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { ConditionState } from '../../services/rules/condition.js';
import type { RuleMemory } from '../../services/rules/rule-families/rule-family.js';
import type { RuleStateStore, StoredCondition } from '../../services/rules/rule-state-store.js';

export interface ContractRuleStates {
  store: RuleStateStore;
  /**
   * Durable stores: save what is unsaved, close, and open the same data again (as after a restart);
   * returns the reopened store, which cleanup also closes. Absent for a store that keeps nothing.
   */
  reopen?: () => Promise<RuleStateStore> | RuleStateStore;
  cleanup: () => Promise<void> | void;
  /** the store freezes what it keeps: a write to a value passed in or got back throws a TypeError */
  guardsValues?: boolean;
}

const T0 = Date.UTC(2026, 5, 1, 8);

function pending(since = T0, value = 0.08): ConditionState {
  return { phase: 'pending', since, activeSince: null, value, peak: value, count: 1, lastAlertAt: null };
}

function active(activeSince = T0, value = 0.05): ConditionState {
  return { phase: 'active', since: null, activeSince, value, peak: value - 0.01, count: 7, lastAlertAt: activeSince };
}

function clearing(since = T0 + 60_000): ConditionState {
  return { phase: 'clearing', since, activeSince: T0, value: 0.12, peak: 0.04, count: 3, lastAlertAt: T0 };
}

const NORMAL: ConditionState = { phase: 'normal', since: null, activeSince: null, value: 0.3, peak: null, count: 0, lastAlertAt: null };

/** memory with every kind of value the families keep: tuples, nested objects, flags, text */
function memory(): RuleMemory {
  return {
    pressures: [
      [T0, 0.35],
      [T0 + 30_000, 0.31],
    ],
    unchanged: { value: 0.31, since: T0 + 30_000, count: 2 },
    stuck: false,
    clamped: false,
    faultFlag: true,
    alarmFlag: false,
    supervisoryFlag: true,
    supervisoryCode: '阀门关闭 / valve closed',
    eventCode: 'E42',
    flow: { cause: 'drop', since: T0 + 30_000, from: 0.35 },
  };
}

const byKey = (a: StoredCondition, b: StoredCondition) => `${a.deviceId}/${a.ruleId}`.localeCompare(`${b.deviceId}/${b.ruleId}`);
const open = (store: RuleStateStore): StoredCondition[] => [...store.openConditions()].sort(byKey);

/** A write to a guarded value must be refused with a TypeError. */
function refused(change: () => void): void {
  expect(change).toThrow(TypeError);
}

export function ruleStateStoreContract(name: string, make: () => Promise<ContractRuleStates> | ContractRuleStates): void {
  describe(`RuleStateStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<RuleStateStore, ContractRuleStates>(name, make);

    it('knows nothing of a device it was not told about', () => {
      expect(store().get('d-none', 'pressure_low')).toBeUndefined();
      expect(store().getMemory('d-none')).toBeUndefined();
      expect(open(store())).toEqual([]);
    });

    it('keeps a state per device and rule', () => {
      const s = store();
      s.set('d-1', 'pressure_low', pending());
      s.set('d-1', 'pressure_high', active());
      s.set('d-2', 'pressure_low', clearing());
      expect(s.get('d-1', 'pressure_low')).toEqual(pending());
      expect(s.get('d-1', 'pressure_high')).toEqual(active());
      expect(s.get('d-2', 'pressure_low')).toEqual(clearing());
      expect(s.get('d-2', 'pressure_high')).toBeUndefined();
      expect(s.get('d-1', 'level_low')).toBeUndefined();
      expect(s.get('d-3', 'pressure_low')).toBeUndefined();
    });

    it('replaces a state with the next one set', () => {
      const s = store();
      s.set('d-1', 'lane_blocked', pending(T0, 1));
      s.set('d-1', 'lane_blocked', active(T0 + 60_000, 1));
      expect(s.get('d-1', 'lane_blocked')).toEqual(active(T0 + 60_000, 1));
      expect(open(s)).toEqual([{ deviceId: 'd-1', ruleId: 'lane_blocked', state: active(T0 + 60_000, 1) }]);
    });

    it('does not keep a normal state: get answers undefined and openConditions leaves it out', () => {
      const s = store();
      s.set('d-1', 'device_offline', active());
      s.set('d-1', 'sensor_fault', pending());
      s.set('d-1', 'device_offline', NORMAL);
      s.set('d-2', 'pressure_low', NORMAL); // never open: stays unknown
      expect(s.get('d-1', 'device_offline')).toBeUndefined();
      expect(s.get('d-2', 'pressure_low')).toBeUndefined();
      expect(open(s)).toEqual([{ deviceId: 'd-1', ruleId: 'sensor_fault', state: pending() }]);
    });

    it('lists every open condition once, with its device and rule', () => {
      const s = store();
      s.set('d-2', 'pressure_low', active());
      s.set('d-1', 'lane_blocked', pending());
      s.set('d-1', 'device_offline', clearing());
      s.set('d-3', 'level_low', NORMAL);
      expect(open(s)).toEqual([
        { deviceId: 'd-1', ruleId: 'device_offline', state: clearing() },
        { deviceId: 'd-1', ruleId: 'lane_blocked', state: pending() },
        { deviceId: 'd-2', ruleId: 'pressure_low', state: active() },
      ]);
      // a second iteration sees the same (openConditions does not consume anything)
      expect(open(s)).toHaveLength(3);
    });

    it('may be iterated while states are set: it yields what was open when the iteration began, each once', () => {
      const s = store();
      const ids = ['d-1', 'd-2', 'd-3', 'd-4'];
      for (const id of ids) s.set(id, 'lane_blocked', pending());
      const seen: string[] = [];
      for (const c of s.openConditions()) {
        seen.push(c.deviceId);
        s.set(c.deviceId, c.ruleId, NORMAL); // cleared by a tick
        s.set(`${c.deviceId}-new`, 'device_offline', active()); // another opens meanwhile
      }
      expect(seen.sort()).toEqual(ids);
      expect(open(s).map((c) => `${c.deviceId}/${c.ruleId}`)).toEqual(ids.map((id) => `${id}-new/device_offline`));
    });

    it('keeps memory per device, replaced whole by the next setMemory', () => {
      const s = store();
      s.setMemory('d-1', memory());
      s.setMemory('d-2', { faultFlag: false });
      expect(s.getMemory('d-1')).toEqual(memory());
      expect(s.getMemory('d-2')).toEqual({ faultFlag: false });
      s.setMemory('d-1', { flow: { cause: 'signal', since: T0 } });
      expect(s.getMemory('d-1')).toEqual({ flow: { cause: 'signal', since: T0 } }); // nothing left of the first
      s.setMemory('d-1', {});
      expect(s.getMemory('d-1')).toEqual({});
      expect(s.getMemory('d-3')).toBeUndefined();
      // memory and condition states are apart
      expect(s.get('d-1', 'pressure_drop')).toBeUndefined();
      expect(open(s)).toEqual([]);
    });

    it('keeps its own copy of a state: changing the object set afterwards changes nothing stored', () => {
      const s = store();
      const mine = active();
      s.set('d-1', 'pressure_low', mine);
      mine.count = 99;
      mine.phase = 'clearing';
      mine.since = T0;
      expect(s.get('d-1', 'pressure_low')).toEqual(active());
      expect(open(s)[0]?.state).toEqual(active());
    });

    it('keeps the memory it was given until the next setMemory', () => {
      const s = store();
      const mine = memory();
      s.setMemory('d-1', mine);
      expect(s.getMemory('d-1')).toEqual(memory());
      s.setMemory('d-2', memory());
      s.setMemory('d-1', { eventCode: 'E1' });
      expect(s.getMemory('d-1')).toEqual({ eventCode: 'E1' });
      expect(s.getMemory('d-2')).toEqual(memory());
    });

    it('when it guards its values, refuses a write to memory handed over, nested parts included', (ctx) => {
      if (!handle().guardsValues) return ctx.skip();
      const s = store();
      const mine = memory();
      s.setMemory('d-1', mine);
      const kept = s.getMemory('d-1')!;
      for (const m of [kept]) {
        refused(() => m.pressures!.push([T0 + 60_000, 0.1]));
        refused(() => {
          m.pressures![0]![1] = 9;
        });
        refused(() => {
          m.unchanged!.count = 99;
        });
        refused(() => {
          m.flow!.since = 0;
        });
        refused(() => {
          m.eventCode = 'changed';
        });
      }
      // what was passed in stays the caller's: changing it changes nothing kept
      mine.eventCode = 'changed';
      mine.pressures!.push([T0 + 60_000, 0.1]);
      expect(s.getMemory('d-1')).toEqual(memory());
    });

    it('when it guards its values, refuses a write to what it gives back', (ctx) => {
      if (!handle().guardsValues) return ctx.skip();
      const s = store();
      s.set('d-1', 'pressure_low', active());
      s.setMemory('d-1', memory());

      const state = s.get('d-1', 'pressure_low')!;
      refused(() => {
        state.count = 99;
      });
      refused(() => {
        state.phase = 'normal';
      });
      expect(s.get('d-1', 'pressure_low')).toEqual(active());

      const mem = s.getMemory('d-1')!;
      refused(() => mem.pressures!.push([T0 + 60_000, 0.1]));
      refused(() => {
        mem.pressures![0]![1] = 9;
      });
      refused(() => {
        mem.unchanged!.count = 99;
      });
      refused(() => {
        mem.flow!.since = 0;
      });
      refused(() => {
        mem.stuck = true;
      });
      expect(s.getMemory('d-1')).toEqual(memory());

      const [c] = [...s.openConditions()];
      refused(() => {
        c!.state.count = 42;
      });
      refused(() => {
        c!.state = NORMAL;
      });
      refused(() => {
        c!.deviceId = 'someone-else';
      });
      expect(open(s)).toEqual([{ deviceId: 'd-1', ruleId: 'pressure_low', state: active() }]);
      expect(s.get('d-1', 'pressure_low')).toEqual(active());
    });

    it('keeps a value got back and set again (the engine writes back what it did not change)', () => {
      const s = store();
      s.set('d-1', 'lane_blocked', active());
      s.setMemory('d-1', memory());
      s.set('d-1', 'lane_blocked', s.get('d-1', 'lane_blocked')!);
      s.setMemory('d-1', s.getMemory('d-1')!);
      // and a new value built from one got back (the families spread the old memory)
      s.setMemory('d-2', { ...s.getMemory('d-1')!, eventCode: 'E43' });
      expect(s.get('d-1', 'lane_blocked')).toEqual(active());
      expect(s.getMemory('d-1')).toEqual(memory());
      expect(s.getMemory('d-2')).toEqual({ ...memory(), eventCode: 'E43' });
    });

    it('when durable, gives back after a reopen what was set before it', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const s = store();
      s.set('d-1', 'pressure_low', active());
      s.set('d-1', 'device_offline', active());
      s.set('d-1', 'device_offline', NORMAL); // closed before the restart: gone after it
      s.set('d-2', 'lane_blocked', pending());
      s.set('d-2', 'lane_blocked', s.get('d-2', 'lane_blocked')!);
      s.setMemory('d-1', memory());
      s.setMemory('d-2', { faultFlag: true });
      s.setMemory('d-2', s.getMemory('d-2')!);
      const again = await handle().reopen!();
      expect(open(again)).toEqual([
        { deviceId: 'd-1', ruleId: 'pressure_low', state: active() },
        { deviceId: 'd-2', ruleId: 'lane_blocked', state: pending() },
      ]);
      expect(again.get('d-1', 'device_offline')).toBeUndefined();
      expect(again.getMemory('d-1')).toEqual(memory());
      expect(again.getMemory('d-2')).toEqual({ faultFlag: true });
      expect(again.get('d-1', 'pressure_low')).toEqual(active());
    });

    it('when durable, keeps across reopens what changed after the last one: replaced, closed, set again unchanged', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const s = store();
      s.set('d-1', 'pressure_low', pending());
      s.set('d-1', 'lane_blocked', pending());
      s.set('d-2', 'device_offline', active());
      s.setMemory('d-1', memory());
      s.setMemory('d-2', { faultFlag: true });
      const second = await handle().reopen!();
      second.set('d-1', 'pressure_low', active(T0 + 60_000)); // replaced
      second.set('d-1', 'lane_blocked', NORMAL); // closed: its saved row goes
      second.set('d-2', 'device_offline', second.get('d-2', 'device_offline')!); // given back unchanged
      second.setMemory('d-1', { eventCode: 'E7' }); // replaced whole
      second.setMemory('d-2', second.getMemory('d-2')!);
      second.set('d-3', 'sensor_fault', clearing()); // a device new since the last reopen
      const third = await handle().reopen!();
      expect(open(third)).toEqual([
        { deviceId: 'd-1', ruleId: 'pressure_low', state: active(T0 + 60_000) },
        { deviceId: 'd-2', ruleId: 'device_offline', state: active() },
        { deviceId: 'd-3', ruleId: 'sensor_fault', state: clearing() },
      ]);
      expect(third.get('d-1', 'lane_blocked')).toBeUndefined();
      expect(third.getMemory('d-1')).toEqual({ eventCode: 'E7' });
      expect(third.getMemory('d-2')).toEqual({ faultFlag: true });
      expect(third.getMemory('d-3')).toBeUndefined();
    });
  });
}
