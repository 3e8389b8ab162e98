/**
 * The vocabulary of the rule layer: rule ids, severities, alert classes, the parameters of one
 * rule, and the zod schema of a per-device override (`PATCH /api/v1/devices/:id { rules }`).
 *
 * Pure: no I/O, no clock. Units are fixed per rule and listed in RULE_UNITS; thresholds are in
 * the same unit as the Reading field they are compared with (MPa, m, mA, °C, s).
 */
import { z } from 'zod';

export const RULE_IDS = [
  'pressure_low',
  'pressure_high',
  'pressure_drop',
  'level_low',
  'level_high',
  'residual_current_high',
  'temperature_high',
  'lane_blocked',
  'device_offline',
  'sensor_fault',
  'device_alarm',
  'device_supervisory',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A fault is a maintenance issue and is never shown as a fire alarm, and vice versa (issue #3). */
export type AlertClass = 'hazard' | 'fault';

export const RULE_CLASS: Readonly<Record<RuleId, AlertClass>> = {
  pressure_low: 'hazard',
  pressure_high: 'hazard',
  pressure_drop: 'hazard',
  level_low: 'hazard',
  level_high: 'hazard',
  residual_current_high: 'hazard',
  temperature_high: 'hazard',
  lane_blocked: 'hazard',
  // A silent device or a broken sensor cannot tell us about a fire: it is a fault (fact 38).
  device_offline: 'fault',
  sensor_fault: 'fault',
  device_alarm: 'hazard',
  // a supervisory signal (监管, GB/T 26875.3 bit4): a facility to put right, not a fire (issue #16 item 7)
  device_supervisory: 'hazard',
};

/** Unit of `threshold` per rule (what the message prints after the number). */
export const RULE_UNITS: Readonly<Record<RuleId, string>> = {
  pressure_low: 'MPa',
  pressure_high: 'MPa',
  pressure_drop: 'MPa',
  level_low: 'm',
  level_high: 'm',
  residual_current_high: 'mA',
  temperature_high: '°C',
  lane_blocked: '',
  device_offline: 's',
  sensor_fault: '',
  device_alarm: '',
  device_supervisory: '',
};

export interface RuleParams {
  enabled: boolean;
  /** Compared with the reading; unit per RULE_UNITS. For device_offline: seconds of silence. */
  threshold?: number;
  /** How long (s) the condition must hold before the alert is raised; 0 = first breaching reading. */
  forS: number;
  /** How long (s) the condition must stay clear before the alert clears; 0 = first clear reading. */
  clearS: number;
  /** Clearing needs the value to be this far back on the safe side of the threshold. */
  hysteresis?: number;
  severity: Severity;
  /** pressure_drop: sliding window (s) and the fall (MPa) within it that counts as a drop. */
  windowS?: number;
  dropMpa?: number;
  /** lane_blocked: repeat the alert every realertS while the lane stays blocked. */
  realertS?: number;
  /** sensor_fault: an unchanged value for stuckS seconds (and stuckReadings readings) is stuck. */
  stuckS?: number;
  stuckReadings?: number;
  /**
   * sensor_fault: this many rejected messages in a row (or nothing but rejected messages for the
   * offline threshold, 3 × reportIntervalS) is a fault naming the rejection reason.
   */
  rejectedRun?: number;
  /** sensor_fault: the sensor's span; a reading pinned at or beyond either end is a clamp. */
  spanMin?: number;
  spanMax?: number;
  /** Standard clause behind the default threshold; dropped when a device overrides the threshold. */
  source?: string;
  /**
   * Pressure rules: `threshold` is checked on the system at rest (static pressure, a standby
   * gauge); `flowingThreshold` while water flows (services/rules/hydraulic.ts). Undefined: the same
   * threshold in both states; null: not checked while flowing.
   */
  flowingThreshold?: number | null;
  flowingSource?: string;
  /** set by hydraulic.ts for a scheduled test: the rule keeps its state but gives no verdict */
  suppressed?: boolean;
}

export type RuleSet = Partial<Record<RuleId, RuleParams>>;

/** `source` of a default that no standard clause backs: it says so ("design choice: …" in full). */
export const SYSTEM_DEFAULT_SOURCE = 'design choice';

// ---------------------------------------------------------------------------------------------
// Override schema. Ranges are what an operator may set; each error names the allowed range.

function range(min: number, max: number, unit: string) {
  const msg = `must be a number within ${min}–${max}${unit ? ` ${unit}` : ''}`;
  return z.number({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
}

const seconds = (min: number, max: number) => range(min, max, 's');

const common = {
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
  forS: seconds(0, 3600).optional(),
  clearS: seconds(0, 3600).optional(),
  severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).optional(),
};

// Pressure: 0–2.4 MPa. Above 2.40 MPa system working pressure GB 50974 6.2.1 requires zoning
// (fact 43, UNVERIFIED figure), so no fire-water gauge threshold is meaningful beyond it.
const pressure = (min = 0, max = 2.4) => range(min, max, 'MPa').optional();

const strictObject = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: (iss) => iss.code === 'unrecognized_keys' ? `unknown parameter(s) ${iss.keys.join(', ')}` : 'must be an object' });

export const RuleOverrideSchemas = {
  // threshold: at rest (static); flowingThreshold: while water flows, null = not checked then
  pressure_low: strictObject({ ...common, threshold: pressure(0.01), flowingThreshold: range(0.01, 2.4, 'MPa').nullable().optional(), hysteresis: pressure(0, 0.2) }),
  pressure_high: strictObject({ ...common, threshold: pressure(0.1), flowingThreshold: range(0.1, 2.4, 'MPa').nullable().optional(), hysteresis: pressure(0, 0.2) }),
  pressure_drop: strictObject({
    ...common,
    dropMpa: pressure(0.01, 1),
    windowS: seconds(5, 3600).optional(),
    hysteresis: pressure(0, 0.2),
  }),
  // Level band: no standard value exists (fact 48 UNVERIFIED); 0–320 m is the GB/T 26875.3
  // "height" analog range (fact §1.10).
  level_low: strictObject({ ...common, threshold: range(0, 320, 'm').optional(), hysteresis: range(0, 10, 'm').optional() }),
  level_high: strictObject({ ...common, threshold: range(0, 320, 'm').optional(), hysteresis: range(0, 10, 'm').optional() }),
  // 20–1000 mA: the detector setpoint range (fact 33); GB 50116 recommends 300–500 mA (fact 30).
  residual_current_high: strictObject({ ...common, threshold: range(20, 1000, 'mA').optional(), hysteresis: range(0, 200, 'mA').optional() }),
  // 45–140 °C: issue #3; the GB 14287.3 span 55–140 °C is UNVERIFIED (fact 36).
  temperature_high: strictObject({ ...common, threshold: range(45, 140, '°C').optional(), hysteresis: range(0, 20, '°C').optional() }),
  // 60–600 s per site: deployments use 1–5 min (fact 55); the re-alert interval is per site too.
  lane_blocked: strictObject({ ...common, forS: seconds(60, 600).optional(), realertS: seconds(60, 86_400).optional() }),
  device_offline: strictObject({ ...common, threshold: seconds(10, 86_400).optional() }),
  sensor_fault: strictObject({
    ...common,
    stuckS: seconds(600, 7 * 86_400).optional(),
    stuckReadings: range(2, 10_000, 'readings').optional(),
    rejectedRun: range(2, 10_000, 'messages').optional(),
    spanMin: z.number({ error: 'must be a number' }).optional(),
    spanMax: z.number({ error: 'must be a number' }).optional(),
  }),
  device_alarm: strictObject({ ...common }),
  device_supervisory: strictObject({ ...common }),
} as const satisfies Record<RuleId, z.ZodType>;

export const RuleOverridesSchema = z.strictObject(
  Object.fromEntries(RULE_IDS.map((id) => [id, RuleOverrideSchemas[id].optional()])) as {
    [K in RuleId]: z.ZodOptional<(typeof RuleOverrideSchemas)[K]>;
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown rule id(s) ${iss.keys.join(', ')}; known: ${RULE_IDS.join(', ')}` : 'rules must be an object') },
);

export type RuleOverrides = z.infer<typeof RuleOverridesSchema>;
export type RuleOverride = Partial<Omit<RuleParams, 'source'>>;
