/**
 * Default rule parameters, derived from the device kind, its measuring point and its building.
 * Every threshold cites the standard clause and the fact (docs/standards.md) it comes from.
 *
 * Comparison at the threshold ("at" counts or not) is fixed per rule, see rule-families/*.ts:
 * pressure_low/level_low fire when value < threshold; pressure_high/level_high when value >
 * threshold ("over", issue #3); residual_current_high/temperature_high when value ≥ setpoint
 * ("at or above", issue #3 and fact 38: alarm = the quantity reached the setpoint).
 */
import type { Building, Device } from '../devices/model.js';
import { PRESSURE_POINTS, type DeviceKind, type PressurePoint } from '../telemetry/telemetry.js';
import type { Message } from './messages.js';
import { SYSTEM_DEFAULT_SOURCE, type RuleId, type RuleParams, type RuleSet } from './rule-types.js';

// --- building classes (GB 50016-2014 2.1.1, fact 50) -----------------------------------------

/** High-rise: residential > 27 m, other civil/industrial > 24 m (GB 50016-2014 2.1.1, fact 50). */
export const HIGH_RISE_RESIDENTIAL_M = 27;
export const HIGH_RISE_OTHER_M = 24;
/** Super-high-rise > 100 m (fact 50, weak source); also the 0.15 MPa trigger of fact 41. */
export const SUPER_HIGH_RISE_M = 100;
/**
 * Storey heights used only when heightM is unknown, to estimate it from floors. Design choice:
 * 2.9 m per residential storey makes 10 floors (29 m) the first high-rise residence, matching
 * the old GB 50045-95 "≥ 10 floors" rule; 3.6 m for public/industrial makes 7 floors (25.2 m)
 * the first high-rise, erring towards the stricter threshold.
 */
export const STOREY_M = { residential: 2.9, other: 3.6 } as const;

/** Height in m, estimated from floors when unknown; null when neither is recorded. */
export function estimateHeightM(b: Pick<Building, 'type' | 'heightM' | 'floors'>): number | null {
  if (b.heightM !== null) return b.heightM;
  if (b.floors === null) return null;
  return b.floors * (b.type === 'residential' ? STOREY_M.residential : STOREY_M.other);
}

/** Unknown height counts as high-rise: most monitored Yuzhong buildings are, and it is stricter. */
export function isHighRise(b: Pick<Building, 'type' | 'heightM' | 'floors'>): boolean {
  const h = estimateHeightM(b);
  if (h === null) return true;
  return h > (b.type === 'residential' ? HIGH_RISE_RESIDENTIAL_M : HIGH_RISE_OTHER_M);
}

/**
 * Taller than 100 m, by a recorded height only. An estimate from floors never moves a building
 * across the 100 m line by itself (28 storeys × 3.6 m is 100.8 m, a real 28-storey block is rarely
 * that tall): heightEstimateNeedsMeasuring() flags it for the operator instead.
 */
export function isOver100m(b: Pick<Building, 'heightM'>): boolean {
  return b.heightM !== null && b.heightM > SUPER_HIGH_RISE_M;
}

/** The estimate alone would put the building over 100 m: the operator should record the real height. */
export function heightEstimateNeedsMeasuring(b: Pick<Building, 'type' | 'heightM' | 'floors'>): boolean {
  const h = estimateHeightM(b);
  return b.heightM === null && h !== null && h > SUPER_HIGH_RISE_M;
}

/** Public buildings taller than 50 m are category 1 (GB 50016-2014 5.1.1, fact 50, weak source). */
export const PUBLIC_CATEGORY1_M = 50;

// --- pressure thresholds (MPa) ----------------------------------------------------------------
//
// A standby gauge reads STATIC pressure: the system at rest, held by the high-level tank or the
// jockey pump. Limits on DYNAMIC (flowing) pressure apply only while water flows (a hydrant or head
// open, a pump running, a test): checked against a standby gauge they alarm forever on upper floors.
// Each pressure rule therefore has a standby threshold and, where the standard gives one, a
// flowing threshold (`flowingThreshold`; null = not checked while flowing). services/rules/hydraulic.ts
// decides the state.

/** Top-point static pressure minimums, GB 50974-2014 5.2.2 (fact 41; fact 51 for > 100 m). */
export const HYDRANT_TOP_MPA = { superHighRise: 0.15, category1OrIndustrial: 0.1, other: 0.07 } as const;
/** Sprinkler systems: standby static pressure never below 0.10 MPa, GB 50974-2014 5.2.2 (fact 41). */
export const SPRINKLER_STANDBY_MPA = 0.1;
/** Sprinkler most-unfavourable head working pressure ≥ 0.05 MPa while flowing, GB 55036-2022 4.0.5(3) (fact 44). */
export const SPRINKLER_END_MPA = 0.05;
/** Hydrant outlet DYNAMIC ≥ 0.35 MPa high-rise/factory/warehouse, else ≥ 0.25 (fact 42, clause UNVERIFIED). */
export const HYDRANT_OUTLET_MIN_MPA = { highRise: 0.35, other: 0.25 } as const;
/** Hydrant outlet DYNAMIC should not exceed 0.50 MPa; beyond it a reducing device is needed (fact 42). */
export const HYDRANT_OUTLET_MAX_MPA = 0.5;
/** STATIC pressure > 1.0 MPa at a hydrant outlet requires zoned supply, GB 50974 6.2.1 (fact 43). */
export const ANY_POINT_MAX_MPA = 1.0;
/** Pressure at a sprinkler head > 1.20 MPa requires zoning, GB 50974 6.2.1 (fact 43, figure UNVERIFIED). */
export const SPRINKLER_MAX_MPA = 1.2;
/** System working pressure > 2.40 MPa requires zoning, GB 50974 6.2.1 (fact 43, figure UNVERIFIED). */
export const SYSTEM_MAX_MPA = 2.4;
/**
 * A municipal water network with hydrants runs at ≥ 0.14 MPa (GB 50974 7.2.8, fact 46). Not a
 * default of any point here: the `network` point is the building's own network (消防管网压力), whose
 * pressure is set by its tank or jockey pump; kept for a site that monitors its municipal supply.
 */
export const NETWORK_MIN_MPA = 0.14;
/**
 * Design choice (no standard value): a fall of more than 0.05 MPa within 60 s — a burst pipe, an
 * opened valve or a hydrant in use. 0.05 MPa is below the smallest top-point minimum (0.07 MPa,
 * fact 41), so a drop of that size can empty a compliant standby margin, and well above the swing
 * of a jockey pump cycling.
 */
export const DROP = { dropMpa: 0.05, windowS: 60 } as const;

/** GB 50974-2014 5.2.2 minimum static pressure at the top (most unfavourable) hydrant, fact 41. */
export function hydrantTopMinMpa(b: Building): number {
  switch (b.type) {
    // Industrial: ≥ 0.10; below 20,000 m³ "should" ≥ 0.07. Volume is not recorded: the stricter 0.10.
    case 'industrial':
      return HYDRANT_TOP_MPA.category1OrIndustrial;
    // High-rise residential 0.07 at any height; multi-storey residential "should" 0.07.
    case 'residential':
      return HYDRANT_TOP_MPA.other;
    case 'public':
      if (!isHighRise(b)) return HYDRANT_TOP_MPA.other; // multi-storey public
      if (publicCategory(b) === 2) return HYDRANT_TOP_MPA.other;
      // category-1 high-rise public: 0.15 above 100 m (a recorded height), else 0.10
      return isOver100m(b) ? HYDRANT_TOP_MPA.superHighRise : HYDRANT_TOP_MPA.category1OrIndustrial;
  }
}

/**
 * Category of a high-rise public building: above 50 m it is category 1 whatever was recorded;
 * otherwise the recorded category; unknown counts as 1 (the stricter, and most monitored complexes).
 */
export function publicCategory(b: Pick<Building, 'heightM' | 'floors' | 'type' | 'category'>): 1 | 2 {
  const h = estimateHeightM(b);
  if (h !== null && h > PUBLIC_CATEGORY1_M) return 1;
  return b.category ?? 1;
}

/** The sources, as printed in the rules API, messages and the README table. */
export const SOURCES = {
  top: 'GB 50974-2014 5.2.2 (static, fact 41)',
  sprinklerStandby: 'GB 50974-2014 5.2.2 (sprinkler static ≥ 0.10, fact 41)',
  sprinklerFlowing: 'GB 55036-2022 4.0.5(3) (working pressure, fact 44)',
  outletDynamic: 'GB 50974-2014 outlet dynamic pressure (fact 42; clause 7.4.12 UNVERIFIED)',
  outletStandby: 'GB 50974-2014 5.2.2 top-point minimum applied at the outlet (fact 41)',
  zoning: 'GB 50974-2014 6.2.1 (static > 1.0 MPa needs zoning, fact 43)',
  sprinklerZoning: 'GB 50974-2014 6.2.1 (head > 1.20 MPa, fact 43; figure UNVERIFIED)',
  systemZoning: 'GB 50974-2014 6.2.1 (working pressure > 2.40 MPa, fact 43; figure UNVERIFIED)',
  floor: `${SYSTEM_DEFAULT_SOURCE}: the building's top-point minimum as a floor (fact 41); set the design pressure per site`,
  networkHigh: `${SYSTEM_DEFAULT_SOURCE}: the hydrant static figure of GB 50974-2014 6.2.1 (fact 43)`,
  drop: `${SYSTEM_DEFAULT_SOURCE}: no standard value`,
  rcd: 'GB 50116-2013 9.2.3 (300–500 mA, fact 30)',
  cable: `${SYSTEM_DEFAULT_SOURCE}: 80 °C inside the detectors' 55–140 °C span (GB 14287.3, fact 36, unverified)`,
  offline: `${SYSTEM_DEFAULT_SOURCE}: 3 missed reports`,
} as const;

/**
 * The sources as a duty officer or operator reads them (issue #17 item 5): Chinese (English) with
 * the standard and clause as they are; a design choice says so, 设计取值（无标准值）.
 */
const SOURCE_WORDS: Readonly<Record<string, Message>> = {
  [SOURCES.top]: { zh: 'GB 50974-2014 5.2.2（最不利点静水压）', en: 'GB 50974-2014 5.2.2 (static pressure at the top point)' },
  [SOURCES.sprinklerStandby]: { zh: 'GB 50974-2014 5.2.2（喷淋静水压不低于 0.10 MPa）', en: 'GB 50974-2014 5.2.2 (sprinkler static pressure at least 0.10 MPa)' },
  [SOURCES.sprinklerFlowing]: { zh: 'GB 55036-2022 4.0.5(3)（喷头工作压力）', en: 'GB 55036-2022 4.0.5(3) (working pressure at the head)' },
  [SOURCES.outletDynamic]: { zh: 'GB 50974-2014 栓口动压（条款 7.4.12 待核实）', en: 'GB 50974-2014 outlet dynamic pressure (clause 7.4.12 unverified)' },
  [SOURCES.outletStandby]: { zh: 'GB 50974-2014 5.2.2（最不利点最低静压，用于栓口）', en: 'GB 50974-2014 5.2.2 (the top-point minimum, applied at the outlet)' },
  [SOURCES.zoning]: { zh: 'GB 50974-2014 6.2.1（静压超过 1.0 MPa 应分区）', en: 'GB 50974-2014 6.2.1 (static pressure over 1.0 MPa needs zoning)' },
  [SOURCES.sprinklerZoning]: { zh: 'GB 50974-2014 6.2.1（喷头处超过 1.20 MPa，数值待核实）', en: 'GB 50974-2014 6.2.1 (over 1.20 MPa at the head; figure unverified)' },
  [SOURCES.systemZoning]: { zh: 'GB 50974-2014 6.2.1（系统工作压力超过 2.40 MPa，数值待核实）', en: 'GB 50974-2014 6.2.1 (working pressure over 2.40 MPa; figure unverified)' },
  [SOURCES.floor]: { zh: '设计取值（无标准值）：以楼宇最不利点最低静压为下限，应按现场设计压力设置', en: "design choice (no standard value): the building's top-point minimum as a floor; set the design pressure per site" },
  [SOURCES.networkHigh]: { zh: '设计取值（无标准值）：参照 GB 50974-2014 6.2.1 消火栓静压', en: 'design choice (no standard value): the hydrant static figure of GB 50974-2014 6.2.1' },
  [SOURCES.drop]: { zh: '设计取值（无标准值）', en: 'design choice (no standard value)' },
  [SOURCES.rcd]: { zh: 'GB 50116-2013 9.2.3（300–500 mA）', en: 'GB 50116-2013 9.2.3 (300–500 mA)' },
  [SOURCES.cable]: { zh: '设计取值（无标准值）：80 °C，在探测器 55–140 °C 范围内（GB 14287.3，待核实）', en: "design choice (no standard value): 80 °C inside the detectors' 55–140 °C span (GB 14287.3, unverified)" },
  [SOURCES.offline]: { zh: '设计取值（无标准值）：连续 3 次未上报', en: 'design choice (no standard value): 3 missed reports' },
};

/** A source in words, for the rules API; an unknown one: a design choice as such, else the clause before its parenthesis. */
export function sourceText(source: string): Message {
  const known = SOURCE_WORDS[source];
  if (known) return known;
  if (source.startsWith(SYSTEM_DEFAULT_SOURCE)) return { zh: '设计取值（无标准值）', en: 'design choice (no standard value)' };
  const clause = source.replace(/\s*\(.*$/, '');
  return { zh: clause, en: source };
}

export function asPressurePoint(point: string | null): PressurePoint | null {
  return point !== null && (PRESSURE_POINTS as readonly string[]).includes(point) ? (point as PressurePoint) : null;
}

type Limit = Pick<RuleParams, 'threshold' | 'source' | 'flowingThreshold' | 'flowingSource'>;

function pressureLow(point: PressurePoint | null, b: Building): Limit | null {
  const outletDynamic = isHighRise(b) || b.type === 'industrial' ? HYDRANT_OUTLET_MIN_MPA.highRise : HYDRANT_OUTLET_MIN_MPA.other;
  switch (point) {
    // the top (most unfavourable) hydrant: static minimum at rest; while flowing it is an outlet
    // like any other and needs the dynamic minimum (a jet that reaches the fire).
    case 'hydrant_top':
      return { threshold: hydrantTopMinMpa(b), source: SOURCES.top, flowingThreshold: outletDynamic, flowingSource: SOURCES.outletDynamic };
    case 'hydrant_outlet':
      // Factories and warehouses need the 13 m jet as high-rises do (fact 42).
      return { threshold: hydrantTopMinMpa(b), source: SOURCES.outletStandby, flowingThreshold: outletDynamic, flowingSource: SOURCES.outletDynamic };
    case 'sprinkler_end':
      return { threshold: SPRINKLER_STANDBY_MPA, source: SOURCES.sprinklerStandby, flowingThreshold: SPRINKLER_END_MPA, flowingSource: SOURCES.sprinklerFlowing };
    // The pump outlet and the building's own network sit below the top point: they cannot be under
    // the top minimum while the top point is fine. A floor that never false-alarms, to be raised to
    // the design pressure per site. While flowing the pump sets the pressure: not checked.
    case 'pump_outlet':
    case 'network':
      return { threshold: hydrantTopMinMpa(b), source: SOURCES.floor, flowingThreshold: null };
    case null:
      return null; // unknown point: no minimum can be derived
  }
}

function pressureHigh(point: PressurePoint | null): Limit & Pick<RuleParams, 'severity'> {
  switch (point) {
    case 'hydrant_outlet':
      // static up to 1.0 MPa is compliant (fact 43); 0.50 MPa is a limit on the flowing outlet (fact 42)
      return { threshold: ANY_POINT_MAX_MPA, source: SOURCES.zoning, flowingThreshold: HYDRANT_OUTLET_MAX_MPA, flowingSource: SOURCES.outletDynamic, severity: 'minor' };
    case 'hydrant_top':
      return { threshold: ANY_POINT_MAX_MPA, source: SOURCES.zoning, severity: 'major' };
    case 'sprinkler_end':
      return { threshold: SPRINKLER_MAX_MPA, source: SOURCES.sprinklerZoning, severity: 'major' };
    case 'pump_outlet':
      return { threshold: SYSTEM_MAX_MPA, source: SOURCES.systemZoning, severity: 'major' };
    case 'network':
    case null:
      return { threshold: ANY_POINT_MAX_MPA, source: SOURCES.networkHigh, severity: 'major' };
  }
}

function pressureRules(device: Device, b: Building): RuleSet {
  const point = asPressurePoint(device.point);
  const low = pressureLow(point, b);
  return {
    // forS 60: a pump start or a test drawdown dips briefly and is not an alarm (issue #3).
    pressure_low: low
      ? { enabled: true, ...low, forS: 60, clearS: 30, hysteresis: 0.01, severity: 'major' }
      : { enabled: false, forS: 60, clearS: 30, hysteresis: 0.01, severity: 'major' },
    pressure_high: { enabled: true, ...pressureHigh(point), forS: 60, clearS: 30, hysteresis: 0.02 },
    // forS 0: the window already demands a sustained fall; clearS 60 lets the window slide past.
    // Not checked during a scheduled test (a test drawdown is not a burst).
    pressure_drop: { enabled: true, ...DROP, source: SOURCES.drop, forS: 0, clearS: 60, hysteresis: 0.01, severity: 'major' },
  };
}

/** Level band: no standard value (fact 48 UNVERIFIED), so both rules stay off until configured. */
function levelRules(): RuleSet {
  return {
    level_low: { enabled: false, forS: 60, clearS: 60, hysteresis: 0.05, severity: 'major' },
    level_high: { enabled: false, forS: 60, clearS: 60, hysteresis: 0.05, severity: 'warning' },
  };
}

/** Setpoint 300 mA (GB 50116-2013 9.2.3: 300–500 mA, fact 30; 300 as default UNVERIFIED, fact 35). */
export const RESIDUAL_CURRENT_MA = 300;
/** 80 °C on any channel: issue #3 default within 45–140 °C (GB 14287.3 span UNVERIFIED, fact 36). */
export const CABLE_TEMPERATURE_C = 80;

function electricalRules(): RuleSet {
  return {
    // forS 0: the detector already integrates (alarm within 30 s, fact 34) and readings are sparse.
    residual_current_high: {
      enabled: true,
      threshold: RESIDUAL_CURRENT_MA,
      source: SOURCES.rcd,
      forS: 0,
      clearS: 60,
      hysteresis: 30, // natural leakage is 100–200 mA (fact 30): 270 mA is still clearly elevated
      severity: 'major',
    },
    temperature_high: { enabled: true, threshold: CABLE_TEMPERATURE_C, source: SOURCES.cable, forS: 0, clearS: 60, hysteresis: 5, severity: 'critical' },
  };
}

/** Dwell 300 s (Lishui's 5-min cycle, fact 55) and a 600 s re-alert (Longnan's re-warning, fact 55). */
export const LANE_DWELL_S = 300;
export const LANE_REALERT_S = 600;
/** Offline after 3 missed reports (issue #3). */
export const OFFLINE_MISSED_REPORTS = 3;
/** Ten rejected messages in a row is a sensor fault, not bad luck (design choice, issue #16). */
export const REJECTED_RUN = 10;
/** Pressure never sits bit-identical for 6 h on a live sensor: it is stuck (design choice). */
export const PRESSURE_STUCK_S = 6 * 3600;

function commonRules(device: Device): RuleSet {
  return {
    device_offline: {
      enabled: true,
      threshold: OFFLINE_MISSED_REPORTS * device.reportIntervalS,
      source: SOURCES.offline,
      forS: 0,
      clearS: 0,
      severity: 'minor',
    },
    // Stuck detection only for pressure by default: a full tank, zero leakage current or an empty
    // lane are legitimately constant for days. Other kinds can set stuckS per device.
    sensor_fault: {
      enabled: true,
      forS: 0,
      clearS: 0,
      severity: 'minor',
      rejectedRun: REJECTED_RUN,
      ...(device.kind === 'water_pressure' ? { stuckS: PRESSURE_STUCK_S, stuckReadings: 10 } : {}),
    },
    // The detector's own latched alarm (fact 38) is a fire precursor: raise at once.
    device_alarm: { enabled: true, forS: 0, clearS: 0, severity: 'critical' },
  };
}

function kindRules(kind: DeviceKind, device: Device, b: Building): RuleSet {
  switch (kind) {
    case 'water_pressure':
      return pressureRules(device, b);
    case 'water_level':
      return levelRules();
    case 'electrical_fire':
      return electricalRules();
    case 'fire_lane':
      return {
        lane_blocked: { enabled: true, forS: LANE_DWELL_S, clearS: 30, realertS: LANE_REALERT_S, severity: 'major' },
      };
    // A GB/T 26875.3 UITD reports its facilities' alarm, fault and supervisory bits as events: the
    // common rules (device_alarm, sensor_fault, device_offline) and device_supervisory (issue #16 item 7).
    case 'uitd':
      return {
        // a supervisory signal (监管: a closed signal valve, a pump started, a pressure switch) needs
        // someone on site but is no fire: major, at once, cleared when the bit clears
        device_supervisory: { enabled: true, forS: 0, clearS: 0, severity: 'major' },
      };
  }
}

/** The rules that apply to this device, with defaults for its point and building. */
export function defaultRules(device: Device, building: Building): RuleSet {
  return { ...kindRules(device.kind, device, building), ...commonRules(device) };
}

export interface DefaultRuleRow {
  ruleId: RuleId;
  appliesTo: string;
  /** the hydraulic state the value applies in (services/rules/hydraulic.ts); 'any' for other rules */
  state: 'standby' | 'flowing' | 'any' | 'standby, flowing';
  condition: string;
  defaultValue: string;
  forClear: string;
  source: string;
}

const PFC = '60 s / 30 s, hyst 0.01';
const HFC = '60 s / 30 s, hyst 0.02';

/** The README table of default rules with their sources (generated into README.md; tests/unit/readme-truth.test.ts). */
export const DEFAULT_RULE_TABLE: readonly DefaultRuleRow[] = [
  { ruleId: 'pressure_low', appliesTo: 'hydrant_top, category-1 public high-rise over 100 m (recorded height)', state: 'standby', condition: 'value < threshold', defaultValue: '0.15 MPa', forClear: PFC, source: SOURCES.top },
  { ruleId: 'pressure_low', appliesTo: 'hydrant_top, category-1 public high-rise up to 100 m or by estimate, unknown category, industrial', state: 'standby', condition: 'value < threshold', defaultValue: '0.10 MPa', forClear: PFC, source: SOURCES.top },
  { ruleId: 'pressure_low', appliesTo: 'hydrant_top, residential at any height, category-2 public, multi-storey public', state: 'standby', condition: 'value < threshold', defaultValue: '0.07 MPa', forClear: PFC, source: SOURCES.top },
  { ruleId: 'pressure_low', appliesTo: 'hydrant_top and hydrant_outlet, high-rise or industrial / other', state: 'flowing', condition: 'value < threshold', defaultValue: '0.35 / 0.25 MPa', forClear: PFC, source: SOURCES.outletDynamic },
  { ruleId: 'pressure_low', appliesTo: 'hydrant_outlet', state: 'standby', condition: 'value < threshold', defaultValue: 'the building\'s hydrant_top minimum', forClear: PFC, source: SOURCES.outletStandby },
  { ruleId: 'pressure_low', appliesTo: 'sprinkler_end', state: 'standby', condition: 'value < threshold', defaultValue: '0.10 MPa', forClear: PFC, source: SOURCES.sprinklerStandby },
  { ruleId: 'pressure_low', appliesTo: 'sprinkler_end', state: 'flowing', condition: 'value < threshold', defaultValue: '0.05 MPa', forClear: PFC, source: SOURCES.sprinklerFlowing },
  { ruleId: 'pressure_low', appliesTo: 'pump_outlet, network (the building\'s own network)', state: 'standby', condition: 'value < threshold', defaultValue: 'the building\'s hydrant_top minimum; not checked while flowing', forClear: PFC, source: SOURCES.floor },
  { ruleId: 'pressure_high', appliesTo: 'hydrant_outlet', state: 'standby', condition: 'value > threshold', defaultValue: '1.0 MPa', forClear: HFC, source: SOURCES.zoning },
  { ruleId: 'pressure_high', appliesTo: 'hydrant_outlet (severity minor)', state: 'flowing', condition: 'value > threshold', defaultValue: '0.50 MPa', forClear: HFC, source: SOURCES.outletDynamic },
  { ruleId: 'pressure_high', appliesTo: 'hydrant_top', state: 'standby, flowing', condition: 'value > threshold', defaultValue: '1.0 MPa', forClear: HFC, source: SOURCES.zoning },
  { ruleId: 'pressure_high', appliesTo: 'sprinkler_end', state: 'standby, flowing', condition: 'value > threshold', defaultValue: '1.2 MPa', forClear: HFC, source: SOURCES.sprinklerZoning },
  { ruleId: 'pressure_high', appliesTo: 'pump_outlet', state: 'standby, flowing', condition: 'value > threshold', defaultValue: '2.4 MPa', forClear: HFC, source: SOURCES.systemZoning },
  { ruleId: 'pressure_high', appliesTo: 'network, unknown point', state: 'standby, flowing', condition: 'value > threshold', defaultValue: '1.0 MPa', forClear: HFC, source: SOURCES.networkHigh },
  { ruleId: 'pressure_drop', appliesTo: 'water_pressure; quiet during a scheduled test', state: 'standby, flowing', condition: 'max(window) − value > dropMpa', defaultValue: '0.05 MPa in 60 s', forClear: '0 s / 60 s', source: SOURCES.drop },
  { ruleId: 'level_low', appliesTo: 'water_level', state: 'any', condition: 'value < threshold', defaultValue: 'off until configured', forClear: '60 s / 60 s', source: `${SYSTEM_DEFAULT_SOURCE}: band per site, no standard value (fact 48, unverified)` },
  { ruleId: 'level_high', appliesTo: 'water_level', state: 'any', condition: 'value > threshold', defaultValue: 'off until configured', forClear: '60 s / 60 s', source: `${SYSTEM_DEFAULT_SOURCE}: band per site, no standard value (fact 48, unverified)` },
  { ruleId: 'residual_current_high', appliesTo: 'electrical_fire', state: 'any', condition: 'value ≥ setpoint', defaultValue: '300 mA (20–1000)', forClear: '0 s / 60 s, hyst 30 mA', source: 'GB 50116-2013 9.2.3 (300–500 mA, fact 30; 300 as a default unverified, fact 35)' },
  { ruleId: 'temperature_high', appliesTo: 'electrical_fire, any channel', state: 'any', condition: 'max(channels) ≥ setpoint', defaultValue: '80 °C (45–140)', forClear: '0 s / 60 s, hyst 5 °C', source: SOURCES.cable },
  { ruleId: 'lane_blocked', appliesTo: 'fire_lane', state: 'any', condition: 'occupied for forS', defaultValue: '300 s (60–600), re-alert 600 s', forClear: '300 s / 30 s', source: `${SYSTEM_DEFAULT_SOURCE}: deployments use 1–5 min, no standard value (fact 55)` },
  { ruleId: 'device_offline', appliesTo: 'all', state: 'any', condition: 'no message for threshold', defaultValue: '3 × reportIntervalS', forClear: '0 s / 0 s', source: SOURCES.offline },
  { ruleId: 'sensor_fault', appliesTo: 'all', state: 'any', condition: 'fault flag, value pinned at span, unchanged, or only rejected messages', defaultValue: 'pressure unchanged 6 h and ≥ 10 readings; 10 rejected in a row or all rejected for 3 × reportIntervalS', forClear: '0 s / 0 s', source: `fault ≠ alarm (fact 38); the stuck limit is a ${SYSTEM_DEFAULT_SOURCE}` },
  { ruleId: 'device_alarm', appliesTo: 'all', state: 'any', condition: 'event alarm = true', defaultValue: '—', forClear: '0 s / 0 s', source: 'the detector\'s own latched alarm (fact 38)' },
  { ruleId: 'device_supervisory', appliesTo: 'uitd (severity major)', state: 'any', condition: 'event supervisory = true (bit4 监管, not in test mode)', defaultValue: '—', forClear: '0 s / 0 s', source: 'GB/T 26875.3-2011 status bit4 supervisory (facts 20–21); not a fire alarm' },
];

export const DEFAULT_RULE_TABLE_START = '<!-- default-rules:start (generated from services/rules/defaults.ts: npm run docs) -->';
export const DEFAULT_RULE_TABLE_END = '<!-- default-rules:end -->';

/** The Markdown table of DEFAULT_RULE_TABLE, as it stands in README.md between the markers. */
export function renderDefaultRuleTable(): string {
  const lines = [
    '| rule | applies to | state | condition | default | for / clear | source |',
    '|---|---|---|---|---|---|---|',
    ...DEFAULT_RULE_TABLE.map((r) => `| \`${r.ruleId}\` | ${r.appliesTo} | ${r.state} | ${r.condition} | ${r.defaultValue} | ${r.forClear} | ${r.source} |`),
  ];
  return [DEFAULT_RULE_TABLE_START, ...lines, DEFAULT_RULE_TABLE_END].join('\n');
}
