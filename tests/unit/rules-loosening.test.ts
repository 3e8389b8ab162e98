/**
 * Which rule changes loosen a hazard (issue #12 item 9), per rule family; which building fields
 * set thresholds. Pure: services/rules/loosening.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Building, Device } from '../../services/devices/model.js';
import { BUILDING_USES } from '../../services/devices/model.js';
import { defaultRules } from '../../services/rules/defaults.js';
import {
  BUILDING_THRESHOLD_FIELDS,
  LOOSER_WHEN,
  LOW_SIDE_RULES,
  NOT_LOOSENING,
  buildingDefaultChanges,
  describeChange,
  diffRules,
  loosenings,
} from '../../services/rules/loosening.js';
import { RULE_IDS, RuleOverrideSchemas, type RuleId, type RuleParams, type RuleSet } from '../../services/rules/rule-types.js';
import { DEVICE_KINDS, PRESSURE_POINTS } from '../../services/telemetry/telemetry.js';

const base: RuleParams = { enabled: true, forS: 60, clearS: 30, hysteresis: 0.01, severity: 'major' };
/** before → after for one rule, as rule sets */
const pair = (id: RuleId, before: Partial<RuleParams>, after: Partial<RuleParams>): [RuleSet, RuleSet] => [
  { [id]: { ...base, ...before } },
  { [id]: { ...base, ...before, ...after } },
];
const loosens = (id: RuleId, before: Partial<RuleParams>, after: Partial<RuleParams>) => loosenings(...pair(id, before, after)).length > 0;
const changed = (id: RuleId, before: Partial<RuleParams>, after: Partial<RuleParams>) => diffRules(...pair(id, before, after)).length > 0;

describe('every rule family', () => {
  it.each(RULE_IDS)('%s: disabling, a longer delay and a lower severity loosen; the opposite tightens', (id) => {
    expect(loosens(id, {}, { enabled: false })).toBe(true);
    expect(loosens(id, { enabled: false }, { enabled: true })).toBe(false);
    expect(loosens(id, {}, { forS: 120 })).toBe(true);
    expect(loosens(id, {}, { forS: 0 })).toBe(false);
    expect(loosens(id, { severity: 'critical' }, { severity: 'major' })).toBe(true);
    expect(loosens(id, { severity: 'minor' }, { severity: 'warning' })).toBe(true);
    expect(loosens(id, { severity: 'warning' }, { severity: 'critical' })).toBe(false);
  });

  it.each(RULE_IDS)('%s: clearS and hysteresis never loosen (they only decide when a raised alert clears)', (id) => {
    for (const p of [{ clearS: 0 }, { clearS: 3600 }, { hysteresis: 0 }, { hysteresis: 0.2 }]) {
      expect(loosens(id, {}, p)).toBe(false);
      expect(changed(id, {}, p)).toBe(false);
    }
  });

  it('a rule that no longer applies loosens; one that starts to apply does not', () => {
    const rule = { pressure_low: { ...base, threshold: 0.1 } };
    expect(loosenings(rule, {})).toEqual([{ ruleId: 'pressure_low', param: 'rule', before: 'applies', after: 'does not apply', loosens: true }]);
    expect(loosenings({}, rule)).toEqual([]);
  });

  it('classifies every parameter an override may set (a new one must be classified here first)', () => {
    for (const id of RULE_IDS) {
      for (const param of Object.keys(RuleOverrideSchemas[id].shape)) {
        const classified = param === 'enabled' || param === 'severity' || param in LOOSER_WHEN[id] || (NOT_LOOSENING as readonly string[]).includes(param);
        expect(classified, `${id}.${param}`).toBe(true);
      }
    }
  });
});

describe('thresholds: low-side rules loosen downwards, high-side upwards', () => {
  it('the low-side rules are pressure_low and level_low', () => {
    expect([...LOW_SIDE_RULES].sort()).toEqual(['level_low', 'pressure_low']);
  });

  it.each(['pressure_low', 'level_low'] as const)('%s: a lower threshold loosens, a higher one tightens', (id) => {
    expect(loosens(id, { threshold: 0.15 }, { threshold: 0.07 })).toBe(true);
    expect(loosens(id, { threshold: 0.15 }, { threshold: 0.2 })).toBe(false);
  });

  it.each(['pressure_high', 'level_high', 'residual_current_high', 'temperature_high', 'device_offline'] as const)(
    '%s: a higher threshold loosens, a lower one tightens',
    (id) => {
      expect(loosens(id, { threshold: 300 }, { threshold: 500 })).toBe(true);
      expect(loosens(id, { threshold: 300 }, { threshold: 100 })).toBe(false);
    },
  );

  it('a threshold that is no longer set is no check at all: loosening; a first one tightens (a level band)', () => {
    expect(loosens('pressure_low', { threshold: 0.1 }, { threshold: undefined })).toBe(true);
    expect(loosens('level_low', { enabled: false }, { enabled: true, threshold: 2 })).toBe(false);
    expect(loosens('level_high', { enabled: false }, { enabled: true, threshold: 5 })).toBe(false);
  });

  it('a disabled rule is still compared: lowering it now would loosen it once re-enabled', () => {
    expect(loosens('pressure_low', { enabled: false, threshold: 0.1 }, { threshold: 0.05 })).toBe(true);
  });

  it('pressure rules: the flowing threshold follows the threshold unless set; null (not checked while flowing) loosens', () => {
    expect(loosens('pressure_low', { threshold: 0.1, flowingThreshold: 0.35 }, { flowingThreshold: 0.25 })).toBe(true);
    expect(loosens('pressure_low', { threshold: 0.1, flowingThreshold: 0.35 }, { flowingThreshold: null })).toBe(true);
    expect(loosens('pressure_low', { threshold: 0.1, flowingThreshold: null }, { flowingThreshold: 0.35 })).toBe(false);
    expect(loosens('pressure_high', { threshold: 1.0, flowingThreshold: 0.5 }, { flowingThreshold: 0.6 })).toBe(true);
    // unset = the threshold: lowering the threshold lowers the flowing limit too
    expect(diffRules(...pair('pressure_low', { threshold: 0.1 }, { threshold: 0.07 })).map((c) => c.param)).toEqual(['threshold', 'flowingThreshold']);
  });
});

describe('per-family parameters', () => {
  it('pressure_drop: a larger drop or a shorter window loosens', () => {
    const drop = { dropMpa: 0.05, windowS: 60 };
    expect(loosens('pressure_drop', drop, { dropMpa: 0.1 })).toBe(true);
    expect(loosens('pressure_drop', drop, { windowS: 30 })).toBe(true);
    expect(loosens('pressure_drop', drop, { dropMpa: 0.03, windowS: 120 })).toBe(false);
  });

  it('lane_blocked: a longer dwell or a rarer re-alert loosens; no re-alert at all too', () => {
    const lane = { forS: 300, realertS: 600 };
    expect(loosens('lane_blocked', lane, { forS: 600 })).toBe(true);
    expect(loosens('lane_blocked', lane, { realertS: 3600 })).toBe(true);
    expect(loosens('lane_blocked', lane, { realertS: undefined })).toBe(true);
    expect(loosens('lane_blocked', lane, { forS: 60, realertS: 60 })).toBe(false);
  });

  it('sensor_fault (a fault rule, judged alike): longer stuck time, more readings, a wider span loosen', () => {
    const sf = { stuckS: 21_600, stuckReadings: 10, spanMin: 0, spanMax: 1.6 };
    expect(loosens('sensor_fault', sf, { stuckS: 86_400 })).toBe(true);
    expect(loosens('sensor_fault', sf, { stuckReadings: 100 })).toBe(true);
    expect(loosens('sensor_fault', sf, { spanMin: -1 })).toBe(true);
    expect(loosens('sensor_fault', sf, { spanMax: 2.5 })).toBe(true);
    expect(loosens('sensor_fault', { ...sf, rejectedRun: 10 }, { rejectedRun: 100 })).toBe(true);
    expect(loosens('sensor_fault', { ...sf, rejectedRun: 10 }, { rejectedRun: undefined })).toBe(true);
    expect(loosens('sensor_fault', sf, { stuckS: 3600, stuckReadings: 5, spanMin: 0.1, spanMax: 1.2 })).toBe(false);
    expect(loosens('sensor_fault', {}, { stuckS: 3600 })).toBe(false);
    // unset stuckReadings is 2 (fault.ts): 10 → 2 tightens
    expect(loosens('sensor_fault', sf, { stuckReadings: undefined })).toBe(false);
  });

  it('device_offline (a fault rule): a longer silence loosens, also through a longer report interval', () => {
    const d = (reportIntervalS: number): Device => ({ id: 'd', buildingId: 'b', kind: 'fire_lane', point: null, location: null, reportIntervalS, vendor: null, model: null, rules: null, createdAt: '', updatedAt: '' });
    const b = building();
    expect(loosenings(defaultRules(d(60), b), defaultRules(d(300), b)).map((c) => `${c.ruleId}.${c.param}`)).toEqual(['device_offline.threshold']);
    expect(loosenings(defaultRules(d(300), b), defaultRules(d(60), b))).toEqual([]);
  });

  it('device_alarm: disabling it is the one thing that can loosen it, besides delay and severity', () => {
    expect(Object.keys(LOOSER_WHEN.device_alarm)).toEqual(['forS']);
    expect(describeChange(loosenings(...pair('device_alarm', {}, { enabled: false }))[0]!)).toBe('device_alarm.enabled true → false');
  });
});

function building(p: Partial<Building> = {}): Building {
  return {
    id: 'b-1', name: 'B', street: '朝天门', address: '', type: 'public', heightM: 250, floors: 60, areaM2: 100_000, category: 1,
    use: 'complex', contactName: null, contactPhone: null, survey: null, createdAt: '', updatedAt: '', ...p,
  };
}

describe('building fields that set thresholds', () => {
  it('reclassifying a 250 m public complex as a 60 m residence lowers hydrant_top from 0.15 to 0.07 MPa', () => {
    const changes = buildingDefaultChanges(building(), building({ type: 'residential', heightM: 60, floors: 20 }));
    expect(changes).toEqual(expect.arrayContaining([expect.objectContaining({ at: 'hydrant_top', ruleId: 'pressure_low', param: 'threshold', before: 0.15, after: 0.07, loosens: true })]));
  });

  it('only type, heightM, floors and category change any default rule, at any point or kind', () => {
    expect([...BUILDING_THRESHOLD_FIELDS].sort()).toEqual(['category', 'floors', 'heightM', 'type']);
    const others: Array<Partial<Building>> = [
      { id: 'b-2' }, { name: 'X' }, { street: '七星岗' }, { address: 'Y' }, { areaM2: 10 }, { areaM2: null }, { contactName: 'Z' }, { contactPhone: '1' },
      ...BUILDING_USES.map((use) => ({ use })),
    ];
    for (const b of [building(), building({ heightM: null, floors: 30 }), building({ type: 'residential', heightM: 20 }), building({ type: 'industrial', heightM: null, floors: null })]) {
      for (const change of others) expect(buildingDefaultChanges(b, { ...b, ...change }), JSON.stringify(change)).toEqual([]);
    }
  });

  it('each of those fields does change a default for some building', () => {
    const cases: Array<[Partial<Building>, Partial<Building>]> = [
      [{ type: 'public' }, { type: 'industrial' }],
      [{ heightM: 20 }, { heightM: 250 }],
      [{ heightM: null, floors: 3 }, { heightM: null, floors: 20 }],
      [{ heightM: 40, category: 2 }, { heightM: 40, category: 1 }],
    ];
    for (const [a, b] of cases) expect(buildingDefaultChanges(building(a), building(b)).length, JSON.stringify(b)).toBeGreaterThan(0);
  });

  it('floors do not matter once the height is recorded', () => {
    expect(buildingDefaultChanges(building(), building({ floors: 3 }))).toEqual([]);
  });

  it('probes every pressure point and every other device kind', () => {
    const at = new Set(buildingDefaultChanges(building(), building({ type: 'residential', heightM: 20, floors: 6 })).map((c) => c.at));
    expect(at.size).toBeGreaterThan(0);
    for (const a of at) expect([...PRESSURE_POINTS, ...DEVICE_KINDS]).toContain(a);
  });
});
