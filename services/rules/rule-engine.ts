/**
 * The rules stage, pure: a reading (or the passage of time) in, rule outcomes out.
 *
 *   reading ─► resolveRules(device, building, overrides)     defaults + validated overrides
 *           ─► each family that applies to the device kind   verdicts { breached, cleared, value }
 *           ─► tick (overdue timers) then step per rule      condition.ts state machine
 *           ─► RuleOutcome[]  raise | update | clear          the alerts layer owns the lifecycle
 *
 * No clock, no timers, no I/O: time is the reading's ts or the `now` passed to dueChecks /
 * offlineCheck, and state lives in the injected RuleStateStore. The engine tells the caller
 * when to call again (nextDue, offlineDue) so a lane occupied once still alerts after forS.
 */
import type { Building, Device } from '../devices/model.js';
import type { DeviceKind, Reading } from '../telemetry/telemetry.js';
import { due, initialState, step, tick, type ConditionState, type StepResult, type Transition } from './condition.js';
import { asPressurePoint } from './defaults.js';
import { ruleMessage, type Message } from './messages.js';
import { electricalFamily } from './rule-families/electrical.js';
import { faultFamily } from './rule-families/fault.js';
import { laneFamily } from './rule-families/lane.js';
import { levelFamily } from './rule-families/level.js';
import { offlineCheck, offlineDueAt, offlineFamily } from './rule-families/offline.js';
import { pressureFamily, pressureNow } from './rule-families/pressure.js';
import type { RuleEvaluation, RuleFamily, RuleMemory } from './rule-families/rule-family.js';
import { hydraulicState, rulesInState, type HydraulicState } from './hydraulic.js';
import { resolveRules } from './rule-params.js';
import type { RuleStateStore } from './rule-state-store.js';
import { RULE_CLASS, RULE_IDS, type AlertClass, type RuleId, type RuleParams, type RuleSet, type Severity } from './rule-types.js';

/**
 * What was measured, as a person reads it on the alert card (issue #17 item 2): the quantity in
 * its unit — for pressure_drop the pressure itself (`from` the highest in the window), where the
 * outcome's `value` is the fall — and, for conditions without a number, when they began (a lane
 * occupied, a device silent since its last message) or the device's own code. null: not known
 * from this transition (a timer, not a reading), the alert keeps what it had.
 */
export interface Measured {
  value: number | null;
  /** 'MPa' | 'm' | 'mA' | '°C', null when `value` is null */
  unit: string | null;
  from: number | null;
  /** epoch ms */
  since: number | null;
  code: string | null;
}

const UNIT: Partial<Record<RuleId, string>> = {
  pressure_low: 'MPa', pressure_high: 'MPa', pressure_drop: 'MPa', level_low: 'm', level_high: 'm',
  residual_current_high: 'mA', temperature_high: '°C',
};
/** sensor_fault watches the primary value of its kind (rule-families/fault.ts primaryValue) */
const KIND_UNIT: Partial<Record<DeviceKind, string>> = { water_pressure: 'MPa', water_level: 'm' };

type EvidenceOf = Pick<RuleEvaluation, 'detail' | 'measured' | 'from'>;

function measuredOf(kind: DeviceKind, ruleId: RuleId, value: number | null, at: number, start: number | null, ev: EvidenceOf | undefined): Measured {
  const m: Measured = { value: null, unit: null, from: null, since: null, code: null };
  switch (ruleId) {
    case 'pressure_drop':
      if (ev?.measured !== undefined) Object.assign(m, { value: ev.measured, unit: 'MPa', from: ev.from ?? null });
      return m;
    case 'lane_blocked':
      return { ...m, since: start };
    case 'device_offline':
      // the value is the silence in seconds (0 for a last will: offline from now)
      return { ...m, since: value === null ? null : at - value * 1000 };
    case 'device_alarm':
    case 'device_supervisory':
      return { ...m, code: ev?.detail ?? null };
    case 'sensor_fault': {
      const detail = ev?.detail ?? null;
      const unit = KIND_UNIT[kind];
      // a value pinned or unchanged is worth showing; a rejected run's value is a count
      if ((detail === 'clamp' || detail === 'stuck') && unit && value !== null) return { ...m, value, unit, code: detail };
      return { ...m, code: detail };
    }
    default: {
      const unit = UNIT[ruleId];
      return unit && value !== null ? { ...m, value, unit } : m;
    }
  }
}

export interface RuleOutcome {
  ruleId: RuleId;
  deviceId: string;
  buildingId: string;
  transition: Transition;
  severity: Severity;
  class: AlertClass;
  value: number | null;
  threshold: number | null;
  /** worst value of this episode (lowest for low-side rules) */
  peak: number | null;
  /** breaching readings in this episode */
  count: number;
  /** when the transition happened (epoch ms) */
  at: number;
  /** when the alert was raised; null for a clear */
  activeSince: number | null;
  /** an 'update' that is a periodic re-alert (lane_blocked) */
  realert: boolean;
  message: Message;
  /** what was measured, in its unit (issue #17 item 2) */
  measured: Measured;
}

export interface RuleContext {
  device: Device;
  building: Building;
  overrides?: unknown;
  /** a scheduled test is running for the device (hydraulic.ts) */
  testing?: boolean;
}

/** offlineCheck's input: the device in its context, when it was last heard from, and now (epoch ms). */
export interface OfflineCheck extends Omit<RuleContext, 'testing'> {
  lastSeenAt: number;
  now: number;
}

/** What the engine cannot know from readings alone. */
export interface Conditions {
  /** a scheduled test is running for the device (an end-of-line or pump test): see hydraulic.ts */
  testing?: boolean;
}

/** Finds a device's context for time-based checks; undefined for a device that no longer exists. */
export type RuleContextLookup = (deviceId: string) => RuleContext | undefined;

const NO_OUTCOMES = Object.freeze([]) as unknown as RuleOutcome[];

export const RULE_FAMILIES: readonly RuleFamily[] = [
  pressureFamily,
  levelFamily,
  electricalFamily,
  laneFamily,
  faultFamily,
  offlineFamily,
];

function enabledOf(rules: RuleSet, ids: readonly RuleId[]): RuleSet {
  const out: RuleSet = {};
  for (const id of ids) {
    const p = rules[id];
    if (p?.enabled) out[id] = p;
  }
  return out;
}

/** What a resolved rule set implies for evaluation, worked out once per set (the hot path reuses it). */
interface Plan {
  /** per family: its enabled rules, or undefined when it has none */
  own: ReadonlyArray<RuleSet | undefined>;
  /** rules that are off: an open state of theirs is cleared */
  disabled: readonly RuleId[];
}

export class RuleEngine {
  /**
   * Resolved rules per device object. The registry replaces a device's or building's object when
   * it changes, so identity is the cache key; working the rules out (defaults, zod-checked
   * overrides, merge) on every reading was the largest cost of ingest (bench/REPORT.md).
   */
  private readonly resolved = new WeakMap<Device, { building: Building; overrides: unknown; rules: RuleSet }>();

  private readonly plans = new WeakMap<RuleSet, Plan>();

  constructor(private readonly families: readonly RuleFamily[] = RULE_FAMILIES) {}

  private planFor(rules: RuleSet): Plan {
    let plan = this.plans.get(rules);
    if (!plan) {
      plan = {
        own: this.families.map((f) => {
          const own = enabledOf(rules, f.ids);
          return Object.keys(own).length === 0 ? undefined : own;
        }),
        disabled: RULE_IDS.filter((id) => !rules[id]?.enabled),
      };
      this.plans.set(rules, plan);
    }
    return plan;
  }

  /**
   * The rules as they apply to the device now: for a pressure point, in its hydraulic state
   * (standby, flowing, test; services/rules/hydraulic.ts) as of its last reading.
   */
  inState(ctx: RuleContext, store: RuleStateStore, now?: number): RuleSet {
    const rules = this.rulesFor(ctx.device, ctx.building, ctx.overrides);
    if (ctx.device.kind !== 'water_pressure') return rules;
    const memory = store.getMemory(ctx.device.id) ?? {};
    const at = now ?? memory.flow?.since ?? 0;
    return rulesInState(rules, hydraulicState(memory, undefined, at, ctx.testing === true).state);
  }

  /** The hydraulic state of a device now (standby unless it is a pressure point with water flowing or under test). */
  hydraulicStateOf(device: Device, store: RuleStateStore, now: number, testing = false): HydraulicState {
    if (device.kind !== 'water_pressure') return 'standby';
    return hydraulicState(store.getMemory(device.id) ?? {}, undefined, now, testing).state;
  }

  /** The rules in force for a device: defaults for its building and point, merged with its overrides. */
  rulesFor(device: Device, building: Building, overrides: unknown): RuleSet {
    const hit = this.resolved.get(device);
    if (hit && hit.building === building && hit.overrides === overrides) return hit.rules;
    const rules = resolveRules(device, building, overrides);
    this.resolved.set(device, { building, overrides, rules });
    return rules;
  }

  /** Evaluate one validated reading. Throws RuleOverrideError if the stored overrides are invalid. */
  evaluate(reading: Reading, device: Device, building: Building, overrides: unknown, store: RuleStateStore, conditions: Conditions = {}): RuleOutcome[] {
    let memory: RuleMemory = store.getMemory(device.id) ?? {};
    let rules = this.rulesFor(device, building, overrides);
    if (device.kind === 'water_pressure') {
      const h = hydraulicState(memory, reading, reading.ts, conditions.testing === true);
      memory = h.memory;
      rules = rulesInState(rules, h.state);
    }
    const plan = this.planFor(rules);
    const out: RuleOutcome[] = [];
    for (let f = 0; f < this.families.length; f++) {
      const family = this.families[f]!;
      const own = plan.own[f];
      if (own === undefined || !family.appliesTo(device.kind)) continue;
      const result = family.evaluate(reading, own, memory);
      memory = result.memory;
      for (const id of family.ids) {
        const ev = result.results[id];
        const params = own[id];
        if (ev && params && !params.suppressed) out.push(...this.apply({ device, building }, id, params, ev, reading.ts, store));
      }
    }
    store.setMemory(device.id, memory);
    if (plan.disabled.length > 0) out.push(...this.clearDisabled({ device, building }, rules, plan.disabled, reading.ts, store));
    return out;
  }

  /** Apply every time-based transition due by `now` (forS held, clearS held, re-alerts). */
  dueChecks(now: number, store: RuleStateStore, lookup: RuleContextLookup): RuleOutcome[] {
    const out: RuleOutcome[] = [];
    for (const { deviceId, ruleId, state } of store.openConditions()) {
      const ctx = lookup(deviceId);
      if (!ctx) continue;
      const params = this.inState(ctx, store, now)[ruleId];
      if (!params?.enabled || params.suppressed) continue;
      const t = tick(state, now, params);
      store.set(deviceId, ruleId, t.state);
      // no reading at hand: a pressure drop reports the pressure the device last sent
      out.push(...this.outcomes(ctx, ruleId, params, state, t, ruleId === 'pressure_drop' ? pressureNow(store.getMemory(deviceId)) : undefined));
    }
    return out;
  }

  /** The earliest time (epoch ms) dueChecks has work, so the caller can set a single timer. */
  nextDue(store: RuleStateStore, lookup: RuleContextLookup): number | undefined {
    let next: number | undefined;
    for (const { deviceId, ruleId, state } of store.openConditions()) {
      const ctx = lookup(deviceId);
      const params = ctx && this.inState(ctx, store)[ruleId];
      if (!params?.enabled || params.suppressed) continue;
      const t = due(state, params);
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** When this device counts as offline if nothing else arrives (epoch ms). */
  offlineDue(device: Device, building: Building, overrides: unknown, lastSeenAt: number): number | undefined {
    const params = this.rulesFor(device, building, overrides).device_offline;
    return params ? offlineDueAt(lastSeenAt, params) : undefined;
  }

  /** Raise device_offline after `threshold` s of silence; clear it if the device was seen since. */
  offlineCheck(check: OfflineCheck, store: RuleStateStore): RuleOutcome[] {
    const { device, building, lastSeenAt, now } = check;
    const params = this.rulesFor(device, building, check.overrides).device_offline;
    const ev = params && offlineCheck(lastSeenAt, now, params);
    if (!params || !ev) return [];
    // Still silent and already offline: nothing new to say (repeated checks must not storm).
    if (ev.breached && store.get(device.id, 'device_offline')?.phase === 'active') return [];
    return this.apply({ device, building }, 'device_offline', params, ev, ev.breached ? now : lastSeenAt, store);
  }

  /**
   * The device sends only messages that are rejected (issue #16 item 4): `run` in a row since the
   * last accepted one, the first at `since`. A fault once the run reaches `rejectedRun` or has lasted
   * the offline threshold; `reason` names the rejection. The next accepted reading clears it (the
   * fault family finds no cause on it).
   */
  rejectionCheck(device: Device, building: Building, overrides: unknown, run: { count: number; since: number; reason: string }, now: number, store: RuleStateStore): RuleOutcome[] {
    const rules = this.rulesFor(device, building, overrides);
    const p = rules.sensor_fault;
    if (!p?.enabled) return NO_OUTCOMES;
    const offlineS = rules.device_offline?.threshold;
    const byCount = p.rejectedRun !== undefined && run.count >= p.rejectedRun;
    const byTime = offlineS !== undefined && now - run.since >= offlineS * 1000;
    if (!byCount && !byTime) return NO_OUTCOMES;
    const s = store.get(device.id, 'sensor_fault');
    if (s !== undefined && s.phase !== 'normal') return NO_OUTCOMES; // already a fault
    return this.apply({ device, building }, 'sensor_fault', p, { breached: true, cleared: false, value: run.count, detail: `rejected:${run.reason}` }, now, store);
  }

  /** The broker delivered the device's last will: offline now, without waiting for the silence. */
  lastWill(device: Device, building: Building, overrides: unknown, at: number, store: RuleStateStore): RuleOutcome[] {
    const params = this.rulesFor(device, building, overrides).device_offline;
    if (!params?.enabled) return [];
    return this.apply({ device, building }, 'device_offline', params, { breached: true, cleared: false, value: 0 }, at, store);
  }

  private apply(ctx: RuleContext, ruleId: RuleId, params: RuleParams, ev: RuleEvaluation, at: number, store: RuleStateStore): RuleOutcome[] {
    const stored = store.get(ctx.device.id, ruleId);
    // normal and still not breached: nothing moves (step() keeps 'normal', which is not stored) —
    // the path of almost every reading, so it allocates nothing
    if (stored === undefined && !ev.breached) return NO_OUTCOMES;
    const before = stored ?? initialState();
    // Catch up an overdue timer first (a clear held clearS, a lane that turned free after forS),
    // unless this reading continues the condition: then step() itself raises or re-alerts, dated
    // by the reading, and one reading yields one outcome.
    // A timer due exactly now is also left to the reading, so the outcome carries its value.
    const continues = ev.breached && (before.phase === 'pending' || before.phase === 'active');
    const overdue = (due(before, params) ?? Infinity) < at;
    const ticked = !continues && overdue ? tick(before, at, params) : { state: before };
    const stepped = step(ticked.state, { ...ev, at }, params);
    store.set(ctx.device.id, ruleId, stepped.state);
    return [
      ...this.outcomes(ctx, ruleId, params, before, ticked),
      ...this.outcomes(ctx, ruleId, params, ticked.state, stepped, ev),
    ];
  }

  /** A rule switched off (or no longer applicable) while its alert is open closes it as cleared. */
  private clearDisabled(ctx: RuleContext, rules: RuleSet, disabled: readonly RuleId[], at: number, store: RuleStateStore): RuleOutcome[] {
    const out: RuleOutcome[] = [];
    for (const id of disabled) {
      const state = store.get(ctx.device.id, id);
      if (!state || state.phase === 'normal') continue;
      store.set(ctx.device.id, id, initialState());
      if (state.phase === 'pending') continue;
      const params = rules[id] ?? { enabled: false, forS: 0, clearS: 0, severity: 'minor' as const };
      out.push(...this.outcomes(ctx, id, params, state, { state: initialState(), transition: 'clear', at }));
    }
    return out;
  }

  private outcomes(ctx: RuleContext, ruleId: RuleId, params: RuleParams, before: ConditionState, r: StepResult, ev?: EvidenceOf): RuleOutcome[] {
    if (!r.transition) return [];
    const detail = ev?.detail;
    const at = r.at ?? 0;
    const episode = r.transition === 'clear' ? before : r.state;
    const threshold = (ruleId === 'pressure_drop' ? params.dropMpa : params.threshold) ?? null;
    const value = r.state.value ?? before.value;
    const activeSince = r.transition === 'clear' ? null : r.state.activeSince;
    const realert = r.realert === true;
    const message = ruleMessage({
      ruleId,
      transition: r.transition,
      value: value ?? 0,
      threshold,
      point: asPressurePoint(ctx.device.point),
      source: params.source,
      detail,
      realert,
      durationMin: activeSince === null ? undefined : Math.round((at - activeSince) / 60_000),
    });
    // a raise began when the condition did: its pending phase, or this very moment (forS = 0)
    const start = r.transition === 'raise' ? (before.phase === 'pending' ? before.since : at) : null;
    return [
      {
        ruleId,
        deviceId: ctx.device.id,
        buildingId: ctx.building.id,
        transition: r.transition,
        severity: params.severity,
        class: RULE_CLASS[ruleId],
        value,
        threshold,
        peak: episode.peak,
        count: episode.count,
        at,
        activeSince,
        realert,
        message,
        measured: measuredOf(ctx.device.kind, ruleId, value, at, start, ev),
      },
    ];
  }
}
