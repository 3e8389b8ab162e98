/**
 * Default thresholds per point and building class (GB 50974-2014 5.2.2 etc., facts 41–46, 50)
 * and per-device override validation with ranges in the error.
 */
import { describe, expect, it } from 'vitest';
import type { Building, Device } from '../../services/devices/model.js';
import type { DeviceKind } from '../../services/telemetry/telemetry.js';
import { DEFAULT_RULE_TABLE, defaultRules, estimateHeightM, heightEstimateNeedsMeasuring, hydrantTopMinMpa, isHighRise } from '../../services/rules/defaults.js';
import { RuleOverrideError, resolveRules, validateRuleOverrides } from '../../services/rules/rule-params.js';
import { RULE_CLASS, RULE_IDS } from '../../services/rules/rule-types.js';

const building = (p: Partial<Building> = {}): Building => ({
  id: 'b-1', name: 'B', street: '解放碑', address: 'a', type: 'public', heightM: 60, floors: 15, areaM2: null,
  category: 1, use: 'office', contactName: null, contactPhone: null, createdAt: '', updatedAt: '', ...p,
});
const device = (kind: DeviceKind, p: Partial<Device> = {}): Device => ({
  id: 'd-1', buildingId: 'b-1', kind, point: kind === 'water_pressure' ? 'hydrant_top' : null, location: null,
  reportIntervalS: 60, vendor: null, model: null, rules: null, createdAt: '', updatedAt: '', ...p,
});

describe('hydrant_top minimum static pressure by building class (GB 50974-2014 5.2.2, fact 41)', () => {
  it.each([
    ['category-1 high-rise public > 100 m (measured)', { heightM: 150 }, 0.15],
    ['exactly 100 m is not over 100 m', { heightM: 100 }, 0.1],
    ['high-rise residential 120 m stays at 0.07 (0.15 is for public buildings)', { type: 'residential', heightM: 120, category: null }, 0.07],
    ['high-rise residential 80 m', { type: 'residential', heightM: 80, category: 2 }, 0.07],
    ['multi-storey residential', { type: 'residential', heightM: 20, category: null }, 0.07],
    ['public high-rise category 1', { heightM: 45, category: 1 }, 0.1],
    ['public high-rise above 50 m is category 1 whatever was recorded', { heightM: 60, category: 2 }, 0.1],
    ['public high-rise, unknown category (the stricter 1)', { heightM: 40, category: null }, 0.1],
    ['public high-rise category 2', { heightM: 40, category: 2 }, 0.07],
    ['multi-storey public (24 m is not high-rise)', { heightM: 24, category: null }, 0.07],
    ['industrial (volume unknown: the stricter 0.10)', { type: 'industrial', heightM: 12, category: null }, 0.1],
  ] as const)('%s → %s MPa', (_name, b, expected) => {
    expect(hydrantTopMinMpa(building(b as Partial<Building>))).toBe(expected);
    expect(defaultRules(device('water_pressure'), building(b as Partial<Building>)).pressure_low).toMatchObject({ threshold: expected, source: 'GB 50974-2014 5.2.2 (static, fact 41)' });
  });

  it('estimates height from floors when heightM is unknown (2.9 m residential, 3.6 m other)', () => {
    expect(isHighRise(building({ type: 'residential', heightM: null, floors: 10 }))).toBe(true);
    expect(isHighRise(building({ type: 'residential', heightM: null, floors: 9 }))).toBe(false);
    expect(isHighRise(building({ heightM: null, floors: 7 }))).toBe(true);
    expect(isHighRise(building({ heightM: null, floors: 6 }))).toBe(false);
    expect(hydrantTopMinMpa(building({ heightM: null, floors: 6, category: null }))).toBe(0.07);
    // neither known: assume high-rise, the stricter threshold
    expect(estimateHeightM(building({ heightM: null, floors: null }))).toBeNull();
    expect(hydrantTopMinMpa(building({ heightM: null, floors: null, category: null }))).toBe(0.1);
  });

  it('an estimate never moves a building across the 100 m line by itself; it is flagged for measuring', () => {
    const block = building({ heightM: null, floors: 28 }); // 28 × 3.6 = 100.8 m estimated
    expect(estimateHeightM(block)).toBeCloseTo(100.8);
    expect(hydrantTopMinMpa(block)).toBe(0.1);
    expect(heightEstimateNeedsMeasuring(block)).toBe(true);
    expect(heightEstimateNeedsMeasuring(building({ heightM: 101, floors: 28 }))).toBe(false);
    expect(hydrantTopMinMpa(building({ heightM: 101, floors: 28 }))).toBe(0.15);
  });
});

describe('standby (static) and flowing (dynamic) limits per point (facts 41–46)', () => {
  const rules = (point: string, b: Partial<Building> = {}) => defaultRules(device('water_pressure', { point }), building(b));
  const low = (point: string, b: Partial<Building> = {}) => rules(point, b).pressure_low;
  const high = (point: string, b: Partial<Building> = {}) => rules(point, b).pressure_high;

  it('sprinkler_end: 0.10 MPa at rest (fact 41), 0.05 MPa while flowing (fact 44)', () => {
    expect(low('sprinkler_end')).toMatchObject({ threshold: 0.1, flowingThreshold: 0.05, source: expect.stringContaining('GB 50974-2014 5.2.2'), flowingSource: expect.stringContaining('GB 55036-2022 4.0.5(3)') });
  });

  it('hydrant_outlet: the dynamic 0.35 / 0.25 MPa only while flowing (fact 42); at rest the top-point static minimum', () => {
    expect(low('hydrant_outlet', { heightM: 30 })).toMatchObject({ threshold: 0.1, flowingThreshold: 0.35 });
    expect(low('hydrant_outlet', { type: 'industrial', heightM: 10, category: null })).toMatchObject({ threshold: 0.1, flowingThreshold: 0.35 });
    expect(low('hydrant_outlet', { heightM: 18, category: null })).toMatchObject({ threshold: 0.07, flowingThreshold: 0.25 });
    expect(low('hydrant_outlet', { heightM: 18 })?.flowingSource).toContain('UNVERIFIED');
  });

  it('hydrant_outlet: static up to 1.0 MPa is compliant (fact 43); 0.50 MPa is a flowing limit (fact 42)', () => {
    expect(high('hydrant_outlet')).toMatchObject({ threshold: 1.0, flowingThreshold: 0.5, severity: 'minor' });
  });

  it('hydrant_top: static minimum at rest, the outlet dynamic minimum while flowing', () => {
    expect(low('hydrant_top', { heightM: 150 })).toMatchObject({ threshold: 0.15, flowingThreshold: 0.35 });
    expect(high('hydrant_top')).toMatchObject({ threshold: 1.0 });
  });

  it('network (the building\'s own network) and pump_outlet: a design-choice floor, not the municipal 0.14 MPa', () => {
    expect(low('network', { heightM: 150 })).toMatchObject({ threshold: 0.15, flowingThreshold: null });
    expect(low('network')?.threshold).not.toBe(0.14);
    expect(low('network')?.source).toMatch(/^design choice/);
    expect(low('pump_outlet', { heightM: 120 })).toMatchObject({ threshold: 0.15, source: expect.stringMatching(/^design choice/) });
  });

  it('pressure_high per point: 1.20 at a sprinkler head, 2.40 system working pressure at the pump outlet (fact 43, unverified figures)', () => {
    expect(high('sprinkler_end')).toMatchObject({ threshold: 1.2, source: expect.stringContaining('UNVERIFIED') });
    expect(high('pump_outlet')).toMatchObject({ threshold: 2.4, source: expect.stringContaining('UNVERIFIED') });
  });

  it('an unknown point disables pressure_low but keeps pressure_high and pressure_drop', () => {
    const r = defaultRules(device('water_pressure', { point: null }), building());
    expect(r.pressure_low?.enabled).toBe(false);
    expect(r.pressure_high?.enabled).toBe(true);
    expect(r.pressure_drop).toMatchObject({ enabled: true, dropMpa: 0.05, windowS: 60, source: expect.stringMatching(/^design choice/) });
  });

  it('every default names a standard clause or says "design choice"', () => {
    for (const kind of ['water_pressure', 'water_level', 'electrical_fire', 'fire_lane'] as const) {
      for (const point of kind === 'water_pressure' ? ['hydrant_top', 'hydrant_outlet', 'sprinkler_end', 'pump_outlet', 'network'] : [null]) {
        const r = defaultRules(device(kind, { point }), building());
        for (const [id, p] of Object.entries(r)) {
          if (p?.threshold === undefined && p?.dropMpa === undefined) continue;
          expect(p.source, `${kind}/${point}/${id}`).toMatch(/^(GB|design choice)/);
          if (p.flowingThreshold) expect(p.flowingSource, `${kind}/${point}/${id} flowing`).toMatch(/^(GB|design choice)/);
        }
      }
    }
  });

  it('pressure_low waits 60 s: a pump start is not an alarm', () => {
    expect(low('hydrant_top')).toMatchObject({ forS: 60, source: 'GB 50974-2014 5.2.2 (static, fact 41)' });
  });
});

describe('rules per device kind', () => {
  const ids = (kind: DeviceKind) => Object.keys(defaultRules(device(kind), building())).sort();

  it('only the rules that apply to the kind, plus the common ones', () => {
    const common = ['device_alarm', 'device_offline', 'sensor_fault'];
    expect(ids('water_pressure')).toEqual([...common, 'pressure_drop', 'pressure_high', 'pressure_low'].sort());
    expect(ids('water_level')).toEqual([...common, 'level_high', 'level_low'].sort());
    expect(ids('electrical_fire')).toEqual([...common, 'residual_current_high', 'temperature_high'].sort());
    expect(ids('fire_lane')).toEqual([...common, 'lane_blocked'].sort());
  });

  it('electrical 300 mA / 80 °C, lane 300 s with 600 s re-alert, offline 3 × reportIntervalS', () => {
    const e = defaultRules(device('electrical_fire'), building());
    expect(e.residual_current_high?.threshold).toBe(300);
    expect(e.temperature_high?.threshold).toBe(80);
    expect(defaultRules(device('fire_lane'), building()).lane_blocked).toMatchObject({ forS: 300, realertS: 600 });
    expect(defaultRules(device('fire_lane', { reportIntervalS: 30 }), building()).device_offline?.threshold).toBe(90);
  });

  it('level band is off until configured (fact 48: no standard value)', () => {
    const r = defaultRules(device('water_level'), building());
    expect(r.level_low?.enabled).toBe(false);
    expect(r.level_high?.enabled).toBe(false);
  });

  it('faults are never hazards and vice versa', () => {
    expect(RULE_CLASS.sensor_fault).toBe('fault');
    expect(RULE_CLASS.device_offline).toBe('fault');
    expect(RULE_IDS.filter((id) => RULE_CLASS[id] === 'fault').sort()).toEqual(['device_offline', 'sensor_fault']);
  });

  it('the default-rules table (docs/duty.md) covers every rule and cites a source on each row', () => {
    expect(new Set(DEFAULT_RULE_TABLE.map((r) => r.ruleId))).toEqual(new Set(RULE_IDS));
    for (const row of DEFAULT_RULE_TABLE) expect(row.source.length).toBeGreaterThan(3);
  });
});

describe('overrides', () => {
  const ef = device('electrical_fire');
  const lane = device('fire_lane');

  it('rejects values outside the allowed range and names the range', () => {
    const v = validateRuleOverrides({ residual_current_high: { threshold: 10 } }, ef, building());
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.detail).toBe('residual_current_high.threshold: must be a number within 20–1000 mA');
    const t = validateRuleOverrides({ temperature_high: { threshold: 150 } }, ef, building());
    expect(!t.ok && t.detail).toContain('45–140 °C');
    const l = validateRuleOverrides({ lane_blocked: { forS: 30 } }, lane, building());
    expect(!l.ok && l.detail).toContain('lane_blocked.forS: must be a number within 60–600 s');
  });

  it('accepts the range ends', () => {
    expect(validateRuleOverrides({ residual_current_high: { threshold: 20 } }, ef, building()).ok).toBe(true);
    expect(validateRuleOverrides({ residual_current_high: { threshold: 1000 } }, ef, building()).ok).toBe(true);
    expect(validateRuleOverrides({ lane_blocked: { forS: 600, realertS: 60 } }, lane, building()).ok).toBe(true);
    // the inherited 30 mA hysteresis shrinks to 10 % of a 20 mA setpoint
    expect(resolveRules(ef, building(), { residual_current_high: { threshold: 20 } }).residual_current_high?.hysteresis).toBe(2);
  });

  it('rejects unknown rules, unknown parameters and rules foreign to the kind', () => {
    const v = validateRuleOverrides({ lane_blocked: { treshold: 5 } }, lane, building());
    expect(!v.ok && v.detail).toContain('unknown parameter(s) treshold');
    expect(validateRuleOverrides({ smoke: {} }, lane, building()).ok).toBe(false);
    const foreign = validateRuleOverrides({ pressure_low: { threshold: 0.2 } }, lane, building());
    expect(!foreign.ok && foreign.detail).toBe('pressure_low: does not apply to a fire_lane device');
  });

  it('checks the merged level band', () => {
    const lvl = device('water_level');
    const bad = validateRuleOverrides({ level_low: { threshold: 3 }, level_high: { threshold: 2 } }, lvl, building());
    expect(!bad.ok && bad.detail).toContain('must be below level_high.threshold');
    const noBand = validateRuleOverrides({ level_low: { enabled: true } }, lvl, building());
    expect(!noBand.ok && noBand.detail).toContain('level_low: enabled needs a threshold');
  });

  it('merges over defaults: a configured band switches on, an overridden threshold drops the citation', () => {
    const r = resolveRules(device('water_level'), building(), { level_low: { threshold: 1.5 } });
    expect(r.level_low).toMatchObject({ enabled: true, threshold: 1.5, forS: 60, hysteresis: 0.05 });
    expect(r.level_high?.enabled).toBe(false);
    const p = resolveRules(device('water_pressure'), building(), { pressure_low: { threshold: 0.2, forS: 0 } });
    expect(p.pressure_low).toMatchObject({ threshold: 0.2, forS: 0, clearS: 30 });
    expect(p.pressure_low?.source).toBeUndefined();
    expect(p.pressure_high?.source).toBe('GB 50974-2014 6.2.1 (static > 1.0 MPa needs zoning, fact 43)');
    const f = resolveRules(device('water_pressure', { point: 'sprinkler_end' }), building(), { pressure_low: { flowingThreshold: 0.06 } });
    expect(f.pressure_low).toMatchObject({ threshold: 0.1, flowingThreshold: 0.06, source: expect.stringContaining('GB 50974') });
    expect(f.pressure_low?.flowingSource).toBeUndefined();
  });

  it('resolveRules throws a typed error listing every issue', () => {
    const call = () => resolveRules(ef, building(), { residual_current_high: { threshold: 5000, forS: -1 } });
    expect(call).toThrow(RuleOverrideError);
    try {
      call();
    } catch (e) {
      expect((e as RuleOverrideError).code).toBe('invalid_rule_override');
      expect((e as RuleOverrideError).issues).toHaveLength(2);
    }
  });
});
