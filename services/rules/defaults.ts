/**
 * Default rule parameters, derived from the device kind, its measuring point and its building.
 * Every threshold cites the standard clause and the domain-facts.md fact it comes from.
 *
 * Comparison at the threshold ("at" counts or not) is fixed per rule, see rule-families/*.ts:
 * pressure_low/level_low fire when value < threshold; pressure_high/level_high when value >
 * threshold ("over", issue #3); residual_current_high/temperature_high when value ≥ setpoint
 * ("at or above", issue #3 and fact 38: alarm = the quantity reached the setpoint).
 */
import type { Building, Device } from '../devices/model.js';
import { PRESSURE_POINTS, type DeviceKind, type PressurePoint } from '../telemetry/telemetry.js';
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

// --- pressure thresholds (MPa) ----------------------------------------------------------------

/** Top-point static pressure minimums, GB 50974-2014 5.2.2 (fact 41; fact 51 for > 100 m). */
export const HYDRANT_TOP_MPA = { superHighRise: 0.15, category1OrIndustrial: 0.1, other: 0.07 } as const;
/** Sprinkler most-unfavourable head ≥ 0.05 MPa, GB 55036-2022 4.0.5(3) (fact 44). */
export const SPRINKLER_END_MPA = 0.05;
/** Hydrant outlet ≥ 0.35 MPa high-rise/factory/warehouse, else ≥ 0.25 (fact 42, clause UNVERIFIED). */
export const HYDRANT_OUTLET_MIN_MPA = { highRise: 0.35, other: 0.25 } as const;
/** Hydrant outlet should not exceed 0.50 MPa; beyond it a reducing device is needed (fact 42). */
export const HYDRANT_OUTLET_MAX_MPA = 0.5;
/** Static pressure > 1.0 MPa at a hydrant outlet requires zoned supply, GB 50974 6.2.1 (fact 43). */
export const ANY_POINT_MAX_MPA = 1.0;
/** Municipal network with hydrants ≥ 0.14 MPa in normal running, GB 50974 7.2.8 (fact 46). */
export const NETWORK_MIN_MPA = 0.14;
/**
 * Design choice: a fall of more than 0.05 MPa within 60 s — a burst pipe, an opened valve or a
 * hydrant in use. No standard value; 0.05 MPa is half the smallest top-point minimum (fact 41).
 */
export const DROP = { dropMpa: 0.05, windowS: 60 } as const;

/** GB 50974-2014 5.2.2 minimum static pressure at the top (most unfavourable) hydrant, fact 41. */
export function hydrantTopMinMpa(b: Building): number {
  const h = estimateHeightM(b);
  if (h !== null && h > SUPER_HIGH_RISE_M) return HYDRANT_TOP_MPA.superHighRise;
  if (b.type === 'industrial') return HYDRANT_TOP_MPA.category1OrIndustrial; // volume unknown: the stricter 0.10
  if (b.type === 'residential') return HYDRANT_TOP_MPA.other; // high-rise 0.07, multi-storey "should" 0.07
  if (!isHighRise(b)) return HYDRANT_TOP_MPA.other; // multi-storey public
  // Public high-rise: category 2 → 0.07; category 1 or unknown → 0.10 (issue #3 default).
  return b.category === 2 ? HYDRANT_TOP_MPA.other : HYDRANT_TOP_MPA.category1OrIndustrial;
}

const SRC = {
  top: 'GB 50974-2014 5.2.2',
  sprinkler: 'GB 55036-2022 4.0.5',
  outlet: 'GB 50974-2014 7.4.12',
  zoning: 'GB 50974-2014 6.2.1',
  network: 'GB 50974-2014 7.2.8',
  rcd: 'GB 50116-2013 9.2.3',
} as const;

export function asPressurePoint(point: string | null): PressurePoint | null {
  return point !== null && (PRESSURE_POINTS as readonly string[]).includes(point) ? (point as PressurePoint) : null;
}

function pressureLow(point: PressurePoint | null, b: Building): Pick<RuleParams, 'threshold' | 'source'> | null {
  switch (point) {
    case 'hydrant_top':
      return { threshold: hydrantTopMinMpa(b), source: SRC.top };
    // Design choice: the pump outlet is below the top point, so it can never be below the top
    // minimum while the top point is fine; a floor that never false-alarms, to be tightened per site.
    case 'pump_outlet':
      return { threshold: hydrantTopMinMpa(b), source: SRC.top };
    case 'sprinkler_end':
      return { threshold: SPRINKLER_END_MPA, source: SRC.sprinkler };
    case 'hydrant_outlet': {
      // Factories and warehouses need the 13 m jet as high-rises do (fact 42).
      const strict = isHighRise(b) || b.type === 'industrial';
      return { threshold: strict ? HYDRANT_OUTLET_MIN_MPA.highRise : HYDRANT_OUTLET_MIN_MPA.other, source: SRC.outlet };
    }
    case 'network':
      return { threshold: NETWORK_MIN_MPA, source: SRC.network };
    case null:
      return null; // unknown point: no minimum can be derived
  }
}

function pressureRules(device: Device, b: Building): RuleSet {
  const point = asPressurePoint(device.point);
  const low = pressureLow(point, b);
  const outlet = point === 'hydrant_outlet';
  return {
    // forS 60: a pump start or a test drawdown dips briefly and is not an alarm (issue #3).
    pressure_low: low
      ? { enabled: true, ...low, forS: 60, clearS: 30, hysteresis: 0.01, severity: 'major' }
      : { enabled: false, forS: 60, clearS: 30, hysteresis: 0.01, severity: 'major' },
    pressure_high: {
      enabled: true,
      threshold: outlet ? HYDRANT_OUTLET_MAX_MPA : ANY_POINT_MAX_MPA,
      source: outlet ? SRC.outlet : SRC.zoning,
      forS: 60,
      clearS: 30,
      hysteresis: 0.02,
      severity: outlet ? 'minor' : 'major',
    },
    // forS 0: the window already demands a sustained fall; clearS 60 lets the window slide past.
    pressure_drop: { enabled: true, ...DROP, source: SYSTEM_DEFAULT_SOURCE, forS: 0, clearS: 60, hysteresis: 0.01, severity: 'major' },
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
      source: SRC.rcd,
      forS: 0,
      clearS: 60,
      hysteresis: 30, // natural leakage is 100–200 mA (fact 30): 270 mA is still clearly elevated
      severity: 'major',
    },
    temperature_high: { enabled: true, threshold: CABLE_TEMPERATURE_C, source: SYSTEM_DEFAULT_SOURCE, forS: 0, clearS: 60, hysteresis: 5, severity: 'critical' },
  };
}

/** Dwell 300 s (Lishui's 5-min cycle, fact 55) and a 600 s re-alert (Longnan's re-warning, fact 55). */
export const LANE_DWELL_S = 300;
export const LANE_REALERT_S = 600;
/** Offline after 3 missed reports (issue #3). */
export const OFFLINE_MISSED_REPORTS = 3;
/** Pressure never sits bit-identical for 6 h on a live sensor: it is stuck (design choice). */
export const PRESSURE_STUCK_S = 6 * 3600;

function commonRules(device: Device): RuleSet {
  return {
    device_offline: {
      enabled: true,
      threshold: OFFLINE_MISSED_REPORTS * device.reportIntervalS,
      source: SYSTEM_DEFAULT_SOURCE,
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
      };    // A GB/T 26875.3 UITD reports its facilities' alarm and fault bits as events: only the common
    // rules apply (device_alarm, sensor_fault, device_offline).
    case 'uitd':
      return {};
  }
}

/** The rules that apply to this device, with defaults for its point and building. */
export function defaultRules(device: Device, building: Building): RuleSet {
  return { ...kindRules(device.kind, device, building), ...commonRules(device) };
}

export interface DefaultRuleRow {
  ruleId: RuleId;
  appliesTo: string;
  condition: string;
  defaultValue: string;
  forClear: string;
  source: string;
}

/** The README table of default rules with their sources (issue #3 "done when"). */
export const DEFAULT_RULE_TABLE: readonly DefaultRuleRow[] = [
  { ruleId: 'pressure_low', appliesTo: 'hydrant_top, building > 100 m', condition: 'value < threshold', defaultValue: '0.15 MPa', forClear: '60 s / 30 s, hyst 0.01', source: 'GB 50974-2014 5.2.2 (facts 41, 51)' },
  { ruleId: 'pressure_low', appliesTo: 'hydrant_top, public high-rise cat. 1 or unknown cat., industrial', condition: 'value < threshold', defaultValue: '0.10 MPa', forClear: '60 s / 30 s', source: 'GB 50974-2014 5.2.2 (fact 41)' },
  { ruleId: 'pressure_low', appliesTo: 'hydrant_top, residential, public cat. 2, multi-storey public', condition: 'value < threshold', defaultValue: '0.07 MPa', forClear: '60 s / 30 s', source: 'GB 50974-2014 5.2.2 (fact 41)' },
  { ruleId: 'pressure_low', appliesTo: 'sprinkler_end', condition: 'value < threshold', defaultValue: '0.05 MPa', forClear: '60 s / 30 s', source: 'GB 55036-2022 4.0.5(3) (fact 44)' },
  { ruleId: 'pressure_low', appliesTo: 'hydrant_outlet, high-rise or industrial / other', condition: 'value < threshold', defaultValue: '0.35 / 0.25 MPa', forClear: '60 s / 30 s', source: 'GB 50974-2014 7.4.12, clause UNVERIFIED (fact 42)' },
  { ruleId: 'pressure_low', appliesTo: 'network', condition: 'value < threshold', defaultValue: '0.14 MPa', forClear: '60 s / 30 s', source: 'GB 50974-2014 7.2.8 (fact 46)' },
  { ruleId: 'pressure_low', appliesTo: 'pump_outlet', condition: 'value < threshold', defaultValue: 'the building\'s hydrant_top minimum', forClear: '60 s / 30 s', source: 'design choice: lower bound below the top point (fact 41)' },
  { ruleId: 'pressure_high', appliesTo: 'hydrant_outlet', condition: 'value > threshold', defaultValue: '0.50 MPa', forClear: '60 s / 30 s, hyst 0.02', source: 'reducing device needed (fact 42)' },
  { ruleId: 'pressure_high', appliesTo: 'other points', condition: 'value > threshold', defaultValue: '1.0 MPa', forClear: '60 s / 30 s, hyst 0.02', source: 'GB 50974-2014 6.2.1 zoning (fact 43)' },
  { ruleId: 'pressure_drop', appliesTo: 'water_pressure', condition: 'max(window) − value > dropMpa', defaultValue: '0.05 MPa in 60 s', forClear: '0 s / 60 s', source: 'design choice (no standard value)' },
  { ruleId: 'level_low', appliesTo: 'water_level', condition: 'value < threshold', defaultValue: 'off until configured', forClear: '60 s / 60 s', source: 'band per site; fact 48 (no standard value, UNVERIFIED)' },
  { ruleId: 'level_high', appliesTo: 'water_level', condition: 'value > threshold', defaultValue: 'off until configured', forClear: '60 s / 60 s', source: 'band per site; fact 48' },
  { ruleId: 'residual_current_high', appliesTo: 'electrical_fire', condition: 'value ≥ setpoint', defaultValue: '300 mA (20–1000)', forClear: '0 s / 60 s, hyst 30 mA', source: 'GB 50116-2013 9.2.3 (facts 30, 33, 35)' },
  { ruleId: 'temperature_high', appliesTo: 'electrical_fire, any channel', condition: 'max(channels) ≥ setpoint', defaultValue: '80 °C (45–140)', forClear: '0 s / 60 s, hyst 5 °C', source: 'issue #3; GB 14287.3 UNVERIFIED (fact 36)' },
  { ruleId: 'lane_blocked', appliesTo: 'fire_lane', condition: 'occupied for forS', defaultValue: '300 s (60–600), re-alert 600 s', forClear: '300 s / 30 s', source: 'deployments, no standard (fact 55)' },
  { ruleId: 'device_offline', appliesTo: 'all', condition: 'no message for threshold', defaultValue: '3 × reportIntervalS', forClear: '0 s / 0 s', source: 'issue #3' },
  { ruleId: 'sensor_fault', appliesTo: 'all', condition: 'fault flag, value pinned at span, or unchanged', defaultValue: 'pressure unchanged 6 h and ≥ 10 readings', forClear: '0 s / 0 s', source: 'fact 38 (fault ≠ alarm); stuck limit design choice' },
  { ruleId: 'device_alarm', appliesTo: 'all', condition: 'event alarm = true', defaultValue: '—', forClear: '0 s / 0 s', source: 'fact 38 (latched detector alarm)' },
];
