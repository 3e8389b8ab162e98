/**
 * One tiny interface per rule family: which rules it owns, which device kinds it watches, and a
 * pure evaluate() that turns one reading into per-rule verdicts for the condition state machine.
 */
import type { DeviceKind, Reading } from '../../telemetry/telemetry.js';
import type { RuleId, RuleSet } from '../rule-types.js';

export interface RuleEvaluation {
  /** the condition holds (compared with the threshold) */
  breached: boolean;
  /** the condition is gone (compared with the threshold moved by the hysteresis) */
  cleared: boolean;
  /** the value compared, in the rule's unit (booleans as 1/0, pressure_drop as the fall) */
  value: number;
  /** low-side rules: the smallest value is the worst (peak) */
  lowerIsWorse?: boolean;
  /** what tripped a multi-cause rule (sensor_fault: 'flag' | 'stuck' | 'clamp') */
  detail?: string;
  /**
   * pressure_drop, whose `value` is the fall: the pressure measured now (MPa) and the highest in
   * the window it fell from, so a person reads the pressure, not only the drop (issue #17 item 2)
   */
  measured?: number;
  from?: number;
}

/**
 * Water flowing at a pressure point, as remembered between readings: what hydraulic.ts (the only
 * code that sets or reads it) needs to tell a flowing point from one at rest. Part of the memory
 * record below, so it is declared with it.
 */
export interface FlowMemory {
  cause: 'signal' | 'drop';
  /** epoch ms the flow began */
  since: number;
  /** drop: the pressure it fell from (MPa) */
  from?: number;
}

/**
 * Per-device memory shared by the families, each using its own keys. Plain JSON, small and
 * bounded, so the store can persist it next to the condition states.
 */
export interface RuleMemory {
  /** pressure_drop: recent [ts, MPa] within the window, oldest first */
  pressures?: Array<[number, number]>;
  /** sensor_fault: the last primary value, since when it is unchanged and how many readings */
  unchanged?: { value: number; since: number; count: number };
  /** sensor_fault causes seen on the last telemetry reading */
  stuck?: boolean;
  clamped?: boolean;
  /** the device's own flags from its last event that carried them */
  faultFlag?: boolean;
  alarmFlag?: boolean;
  /** the supervisory (监管) flag of the last event that carried it, and the point it named */
  supervisoryFlag?: boolean;
  supervisoryCode?: string;
  /** code of the last event, for the message */
  eventCode?: string;
  /** water flowing at this point (services/rules/hydraulic.ts) */
  flow?: FlowMemory;
}

export interface FamilyResult {
  results: Partial<Record<RuleId, RuleEvaluation>>;
  memory: RuleMemory;
}

export interface RuleFamily {
  readonly name: string;
  readonly ids: readonly RuleId[];
  appliesTo(kind: DeviceKind): boolean;
  /** `rules` holds only this device's enabled rules. Returns verdicts only for rules this reading informs. */
  evaluate(reading: Reading, rules: RuleSet, memory: RuleMemory): FamilyResult;
}

/** Round away binary noise so 0.15 − 0.10 compares as 0.05 (values are at most 1e-6 precise). */
export function tidy(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

export function numberField(reading: Reading, name: string): number | undefined {
  const v = reading.fields[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** value < threshold breaches; value ≥ threshold + hysteresis clears. */
export function belowRule(value: number, threshold: number, hysteresis = 0): RuleEvaluation {
  return { breached: value < threshold, cleared: value >= tidy(threshold + hysteresis), value, lowerIsWorse: true };
}

/** value > threshold breaches (or ≥ when `inclusive`); value ≤ / < threshold − hysteresis clears. */
export function aboveRule(value: number, threshold: number, hysteresis = 0, inclusive = false): RuleEvaluation {
  const bound = tidy(threshold - hysteresis);
  return inclusive
    ? { breached: value >= threshold, cleared: value < bound, value }
    : { breached: value > threshold, cleared: value <= bound, value };
}
