/**
 * Default thresholds per point and building class (GB 50974-2014 5.2.2 etc., facts 41–46, 50)
 * and per-device override validation with ranges in the error.
 */
import { describe, expect, it } from 'vitest';
import type { Building, Device } from '../../services/devices/model.js';
import type { DeviceKind } from '../../services/telemetry/telemetry.js';
import { DEFAULT_RULE_TABLE, defaultRules, estimateHeightM, hydrantTopMinMpa, isHighRise } from '../../services/rules/defaults.js';
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
    ['super-high-rise public > 100 m', { heightM: 150 }, 0.15],
    ['super-high-rise residential > 100 m', { type: 'residential', heightM: 101, category: null }, 0.15],
    ['exactly 100 m is not super-high-rise', { heightM: 100 }, 0.1],
    ['public high-rise category 1', { heightM: 60, category: 1 }, 0.1],
    ['public high-rise, unknown category (default)', { heightM: 40, category: null }, 0.1],
    ['public high-rise category 2', { heightM: 40, category: 2 }, 0.07],
    ['multi-storey public (24 m is not high-rise)', { heightM: 24, category: null }, 0.07],
    ['industrial', { type: 'industrial', heightM: 12, category: null }, 0.1],
    ['high-rise residential', { type: 'residential', heightM: 80, category: 2 }, 0.07],
    ['multi-storey residential', { type: 'residential', heightM: 20, category: null }, 0.07],
  ] as const)('%s → %s MPa', (_name, b, expected) => {
    expect(hydrantTopMinMpa(building(b as Partial<Building>))).toBe(expected);
    expect(defaultRules(device('water_pressure'), building(b as Partial<Building>)).pressure_low?.threshold).toBe(expected);
  });

  it('estimates height from floors when heightM is unknown (2.9 m residential, 3.6 m other)', () => {
    expect(isHighRise(building({ type: 'residential', heightM: null, floors: 10 }))).toBe(true);
    expect(isHighRise(building({ type: 'residential', heightM: null, floors: 9 }))).toBe(false);
    expect(isHighRise(building({ heightM: null, floors: 7 }))).toBe(true);
    expect(isHighRise(building({ heightM: null, floors: 6 }))).toBe(false);
    expect(hydrantTopMinMpa(building({ heightM: null, floors: 28 }))).toBe(0.15); // 100.8 m
    expect(hydrantTopMinMpa(building({ heightM: null, floors: 6, category: null }))).toBe(0.07);
    // neither known: assume high-rise, the stricter threshold
    expect(estimateHeightM(building({ heightM: null, floors: null }))).toBeNull();
    expect(hydrantTopMinMpa(building({ heightM: null, floors: null, category: null }))).toBe(0.1);
  });
});

describe('other pressure points', () => {
  const low = (point: string, b: Partial<Building> = {}) => defaultRules(device('water_pressure', { point }), building(b)).pressure_low;
  const high = (point: string) => defaultRules(device('water_pressure', { point }), building()).pressure_high;

  it('sprinkler_end 0.05 (fact 44), network 0.14 (fact 46), pump_outlet = top minimum', () => {
    expect(low('sprinkler_end')?.threshold).toBe(0.05);
    expect(low('network')?.threshold).toBe(0.14);
    expect(low('pump_outlet', { heightM: 120 })?.threshold).toBe(0.15);
  });

  it('hydrant_outlet 0.35 for high-rise and industrial, else 0.25 (fact 42)', () => {
    expect(low('hydrant_outlet', { heightM: 30 })?.threshold).toBe(0.35);
    expect(low('hydrant_outlet', { type: 'industrial', heightM: 10 })?.threshold).toBe(0.35);
    expect(low('hydrant_outlet', { heightM: 18 })?.threshold).toBe(0.25);
  });

  it('pressure_high 0.50 at hydrant_outlet (fact 42), 1.0 anywhere else (fact 43)', () => {
    expect(high('hydrant_outlet')?.threshold).toBe(0.5);
    expect(high('hydrant_top')?.threshold).toBe(1.0);
    expect(high('sprinkler_end')?.threshold).toBe(1.0);
  });

  it('an unknown point disables pressure_low but keeps pressure_high and pressure_drop', () => {
    const r = defaultRules(device('water_pressure', { point: null }), building());
    expect(r.pressure_low?.enabled).toBe(false);
    expect(r.pressure_high?.enabled).toBe(true);
    expect(r.pressure_drop).toMatchObject({ enabled: true, dropMpa: 0.05, windowS: 60 });
  });

  it('pressure_low waits 60 s: a pump start is not an alarm', () => {
    expect(low('hydrant_top')).toMatchObject({ forS: 60, source: 'GB 50974-2014 5.2.2' });
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

  it('the README table covers every rule and cites a source on each row', () => {
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
    expect(p.pressure_high?.source).toBe('GB 50974-2014 6.2.1');
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
