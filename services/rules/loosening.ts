/**
 * Does a change of a device's effective rules loosen them (issue #12 item 9)? Pure: compares the
 * rules in force before and after a change — whatever caused it: an override, the device's point
 * or report interval, a move to another building, a change of the building's class.
 *
 * A parameter change loosens when the rule would raise later, less often, less loudly or not at
 * all for the same readings:
 *
 * - `enabled` true → false; a rule that applied and no longer does.
 * - `threshold` (and `flowingThreshold`, the pressure rules' limit while water flows; unset is
 *   the threshold, null is no check while flowing): lower for the low-side rules (`pressure_low`, `level_low`: value < threshold
 *   breaches), higher for every high-side one (`pressure_high`, `level_high`,
 *   `residual_current_high`, `temperature_high`, and `device_offline`, whose threshold is seconds
 *   of silence). `pressure_drop`: a larger `dropMpa` or a shorter `windowS` (the fall must be
 *   bigger or quicker to count).
 * - `forS` longer (the condition must hold longer before the alert is raised).
 * - `realertS` longer (a blocked lane is re-announced less often).
 * - `severity` lower (critical → major → minor → warning).
 * - `suppressed` (hydraulic.ts sets it during a scheduled test) false → true.
 * - `sensor_fault`: a longer `stuckS`, more `stuckReadings`, a wider span (`spanMin` lower,
 *   `spanMax` higher), a longer run of rejected messages before the fault (`rejectedRun`).
 * - A parameter that is no longer set switches its check off, the loosest value there is
 *   (an unset `threshold` is never compared, an unset `realertS` never re-alerts, an unset
 *   `stuckS` never finds a stuck sensor). `stuckReadings` unset means 2, as fault.ts reads it.
 *
 * Never loosening: `clearS` and `hysteresis`. They decide only when a raised alert is marked
 * cleared (condition.ts: they are read in the active/clearing phases only), never whether or when
 * it is raised. A hazard stays on the board until a person closes it whatever they say, and a
 * fault that clears sooner and comes back is a new alert, so a faster clear hides nothing.
 *
 * Fault rules (`device_offline`, `sensor_fault`) are judged like hazards. They are what tells the
 * duty room that a hazard rule has gone blind: switching off `device_offline` and unplugging the
 * sensor silences its building as surely as switching off `pressure_low`.
 *
 * Undoing a tightening is a loosening too: the comparison is with what is in force, not with the
 * defaults.
 */
import type { Building, Device } from '../devices/model.js';
import { DEVICE_KINDS, PRESSURE_POINTS, type DeviceKind, type PressurePoint } from '../telemetry/telemetry.js';
import { defaultRules } from './defaults.js';
import { RULE_IDS, SEVERITIES, type RuleId, type RuleParams, type RuleSet } from './rule-types.js';

/** The numeric parameters that can loosen a rule, and which way: a higher or a lower value. */
export type LooserWhen = 'higher' | 'lower';
type NumericParam = 'threshold' | 'flowingThreshold' | 'forS' | 'realertS' | 'dropMpa' | 'windowS' | 'stuckS' | 'stuckReadings' | 'spanMin' | 'spanMax' | 'rejectedRun';

const COMMON: Partial<Record<NumericParam, LooserWhen>> = { forS: 'higher' };

/** Per rule: each numeric parameter that can loosen it, and in which direction. */
export const LOOSER_WHEN: Readonly<Record<RuleId, Readonly<Partial<Record<NumericParam, LooserWhen>>>>> = {
  pressure_low: { threshold: 'lower', flowingThreshold: 'lower', ...COMMON },
  pressure_high: { threshold: 'higher', flowingThreshold: 'higher', ...COMMON },
  pressure_drop: { dropMpa: 'higher', windowS: 'lower', ...COMMON },
  level_low: { threshold: 'lower', ...COMMON },
  level_high: { threshold: 'higher', ...COMMON },
  residual_current_high: { threshold: 'higher', ...COMMON },
  temperature_high: { threshold: 'higher', ...COMMON },
  lane_blocked: { realertS: 'higher', ...COMMON },
  device_offline: { threshold: 'higher', ...COMMON },
  sensor_fault: { stuckS: 'higher', stuckReadings: 'higher', spanMin: 'lower', spanMax: 'higher', rejectedRun: 'higher', ...COMMON },
  device_alarm: { ...COMMON },
  device_supervisory: { ...COMMON },
};

/** Override parameters that never loosen: they only decide when a raised alert clears. */
export const NOT_LOOSENING = ['clearS', 'hysteresis'] as const satisfies ReadonlyArray<keyof RuleParams>;

/** Low-side rules: a value below the threshold is the hazard. */
export const LOW_SIDE_RULES: readonly RuleId[] = RULE_IDS.filter((id) => LOOSER_WHEN[id].threshold === 'lower');

/** What an unset parameter means when it is not "check off" (rule-families/fault.ts). */
const UNSET_MEANS: Partial<Record<NumericParam, number>> = { stuckReadings: 2 };

/** One parameter of one rule that differs between before and after. */
export interface RuleChange {
  ruleId: RuleId;
  /** a parameter name, or 'rule' when the rule applies on one side only */
  param: keyof RuleParams | 'rule';
  before: unknown;
  after: unknown;
  loosens: boolean;
}

/** The parameter as the engine reads it: `flowingThreshold` unset is the threshold, null is no check while flowing. */
function raw(p: RuleParams, param: NumericParam): number | undefined {
  if (param === 'flowingThreshold') return p.flowingThreshold === undefined ? p.threshold : (p.flowingThreshold ?? undefined);
  return p[param];
}

function numeric(v: number | undefined, param: NumericParam, dir: LooserWhen): number {
  if (v !== undefined) return v;
  return UNSET_MEANS[param] ?? (dir === 'higher' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
}

const rank = (s: RuleParams['severity']) => SEVERITIES.indexOf(s);

/** Every difference that matters for raising between two parameter sets of one rule. */
function diffRule(ruleId: RuleId, b: RuleParams, a: RuleParams): RuleChange[] {
  const out: RuleChange[] = [];
  if (b.enabled !== a.enabled) out.push({ ruleId, param: 'enabled', before: b.enabled, after: a.enabled, loosens: b.enabled && !a.enabled });
  if (b.severity !== a.severity) out.push({ ruleId, param: 'severity', before: b.severity, after: a.severity, loosens: rank(a.severity) > rank(b.severity) });
  if (Boolean(b.suppressed) !== Boolean(a.suppressed)) out.push({ ruleId, param: 'suppressed', before: Boolean(b.suppressed), after: Boolean(a.suppressed), loosens: Boolean(a.suppressed) });
  for (const [param, dir] of Object.entries(LOOSER_WHEN[ruleId]) as Array<[NumericParam, LooserWhen]>) {
    const rb = raw(b, param);
    const ra = raw(a, param);
    if (rb === ra) continue;
    const before = numeric(rb, param, dir);
    const after = numeric(ra, param, dir);
    if (before === after) continue;
    out.push({ ruleId, param, before: rb ?? null, after: ra ?? null, loosens: dir === 'higher' ? after > before : after < before });
  }
  return out;
}

/**
 * Every raising-relevant difference between two effective rule sets (clearS and hysteresis are
 * not compared, see the module comment), each marked whether it loosens.
 */
export function diffRules(before: RuleSet, after: RuleSet): RuleChange[] {
  const out: RuleChange[] = [];
  for (const id of RULE_IDS) {
    const b = before[id];
    const a = after[id];
    if (!b && !a) continue;
    if (b && !a) out.push({ ruleId: id, param: 'rule', before: 'applies', after: 'does not apply', loosens: true });
    else if (!b && a) out.push({ ruleId: id, param: 'rule', before: 'does not apply', after: 'applies', loosens: false });
    else out.push(...diffRule(id, b!, a!));
  }
  return out;
}

/** The changes from `before` to `after` that loosen a rule; empty when the change only tightens or keeps. */
export function loosenings(before: RuleSet, after: RuleSet): RuleChange[] {
  return diffRules(before, after).filter((c) => c.loosens);
}

/** One line per change, e.g. `pressure_low.threshold 0.15 → 0.07`. */
export function describeChange(c: Pick<RuleChange, 'ruleId' | 'param' | 'before' | 'after'>): string {
  const what = c.param === 'rule' ? c.ruleId : `${c.ruleId}.${c.param}`;
  return `${what} ${String(c.before)} → ${String(c.after)}`;
}

// ── the building's part ────────────────────────────────────────────────────────────────────

/**
 * The building fields defaults.ts reads: `type` (residential / public / industrial), `heightM`,
 * `floors` (height estimated from them when heightM is unknown) and `category` (public high-rise
 * class 1 or 2). Every other field of a building leaves the default rules as they are
 * (tests/unit/rules-loosening.test.ts checks this against defaultRules).
 */
export const BUILDING_THRESHOLD_FIELDS = ['type', 'heightM', 'floors', 'category'] as const satisfies ReadonlyArray<keyof Building>;

/** One device of every kind and measuring point, to read a building's default rules with. */
const PROBES: readonly Device[] = [
  ...PRESSURE_POINTS.map((point) => probe('water_pressure', point)),
  ...DEVICE_KINDS.filter((k) => k !== 'water_pressure').map((kind) => probe(kind, null)),
];

function probe(kind: DeviceKind, point: PressurePoint | null): Device {
  return { id: `probe-${point ?? kind}`, buildingId: '', kind, point, location: null, reportIntervalS: 60, vendor: null, model: null, rules: null, createdAt: '', updatedAt: '' };
}

/** A difference in a building's default rules, for the devices at one measuring point (or of one kind). */
export interface BuildingDefaultChange extends RuleChange {
  /** the pressure point (`hydrant_top`, …) or, for other kinds, the device kind */
  at: string;
}

/**
 * How the default rules of a building's devices, present or future, differ between two versions
 * of the building. Empty when the change (a contact, an address, floors of a building whose
 * height is known) leaves every threshold as it was.
 */
export function buildingDefaultChanges(before: Building, after: Building): BuildingDefaultChange[] {
  return PROBES.flatMap((d) => diffRules(defaultRules(d, before), defaultRules(d, after)).map((c) => ({ ...c, at: d.point ?? d.kind })));
}
