/** The building rules as data (issue #15 item 2): evidence kinds, windows, overrides, messages; and the uplink's priority for them. */
import { describe, expect, it } from 'vitest';
import {
  BUILDING_RULES,
  BuildingRuleOverridesSchema,
  buildingRuleMessage,
  buildingRulesFor,
  evaluateBuildingRules,
  evidenceKindOf,
  weakens,
  type Evidence,
} from '../../services/rules/building-rules.js';
import { alertCategory } from '../../services/uplink/alert-category.js';
import { alertPriority, canonicalItem } from '../../services/uplink/mapping.js';

const T0 = Date.UTC(2026, 11, 4, 2, 0, 0);
const ev = (kind: Evidence['kind'], ref: string, minutes: number): Evidence => ({
  kind,
  ref,
  since: T0 + minutes * 60_000,
  deviceId: ref,
  text: { zh: `证据${ref}`, en: `evidence ${ref}` },
});
const verdict = (id: string, evidence: Evidence[], overrides?: Parameters<typeof buildingRulesFor>[0]) => evaluateBuildingRules(buildingRulesFor(overrides), evidence).find((v) => v.ruleId === id);

describe('evidence kinds, by the selectors', () => {
  it("a UITD's or an electrical-fire detector's alarm and an over-temperature are fire; a pressure gauge's own alarm flag is not", () => {
    expect(evidenceKindOf('device_alarm', 'uitd')).toBe('fire');
    expect(evidenceKindOf('device_alarm', 'electrical_fire')).toBe('fire');
    expect(evidenceKindOf('temperature_high', 'electrical_fire')).toBe('fire');
    expect(evidenceKindOf('device_alarm', 'water_pressure')).toBeUndefined();
    expect(evidenceKindOf('pressure_drop', 'water_pressure')).toBe('water');
    expect(evidenceKindOf('flow_signal', null)).toBe('water');
    expect(evidenceKindOf('lane_blocked', 'fire_lane')).toBe('lane');
    for (const rule of ['pressure_low', 'device_offline', 'sensor_fault', 'residual_current_high', 'probable_fire']) expect(evidenceKindOf(rule, 'water_pressure')).toBeUndefined();
  });
});

describe('probable_fire', () => {
  it('holds with fire and water evidence within 10 minutes, in either order, and not with one kind alone', () => {
    expect(verdict('probable_fire', [ev('fire', 'a', 0), ev('water', 'b', 9)])).toMatchObject({ holds: true, severity: 'critical' });
    expect(verdict('probable_fire', [ev('water', 'b', 0), ev('fire', 'a', 10)])?.holds).toBe(true);
    expect(verdict('probable_fire', [ev('fire', 'a', 0), ev('fire', 'c', 1)])?.holds).toBe(false);
    expect(verdict('probable_fire', [ev('water', 'b', 0)])?.holds).toBe(false);
    expect(verdict('probable_fire', [])?.holds).toBe(false);
  });

  it('not when they are further apart than the window; a later pair within it holds, with the earliest such evidence', () => {
    expect(verdict('probable_fire', [ev('fire', 'a', 0), ev('water', 'b', 10.5)])?.holds).toBe(false);
    const v = verdict('probable_fire', [ev('fire', 'a', 0), ev('water', 'b', 10.5), ev('fire', 'c', 12), ev('water', 'd', 13)]);
    expect(v?.holds).toBe(true);
    expect(v?.evidence.map((e) => e.ref)).toEqual(['c', 'b']);
  });

  it("a building's override switches it off or narrows the window; out-of-range values are refused", () => {
    expect(verdict('probable_fire', [ev('fire', 'a', 0), ev('water', 'b', 1)], { probable_fire: { enabled: false } })).toBeUndefined();
    expect(verdict('probable_fire', [ev('fire', 'a', 0), ev('water', 'b', 3)], { probable_fire: { windowS: 120 } })?.holds).toBe(false);
    expect(verdict('probable_fire', [ev('fire', 'a', 0), ev('water', 'b', 1.5)], { probable_fire: { windowS: 120 } })?.holds).toBe(true);
    expect(BuildingRuleOverridesSchema.safeParse({ probable_fire: { windowS: 30 } }).success).toBe(false);
    expect(BuildingRuleOverridesSchema.safeParse({ probable_fire: { windowS: 7200 } }).success).toBe(false);
    expect(BuildingRuleOverridesSchema.safeParse({ no_such_rule: {} }).success).toBe(false);
    expect(BuildingRuleOverridesSchema.safeParse({ probable_fire: { threshold: 1 } }).success).toBe(false);
  });

  it('what weakens: off, or a narrower window; a wider one or switching back on does not', () => {
    expect(weakens(null, { probable_fire: { enabled: false } })).toBe(true);
    expect(weakens(null, { probable_fire: { windowS: 300 } })).toBe(true);
    expect(weakens(null, { probable_fire: { windowS: 900 } })).toBe(false);
    expect(weakens({ probable_fire: { enabled: false } }, null)).toBe(false);
    expect(weakens(null, { lane_blocked_in_fire: { windowS: 60 } })).toBe(false); // a rule without a window takes none
  });

  it('its sentence names the evidence, Chinese first', () => {
    const m = buildingRuleMessage('probable_fire', [ev('fire', 'a', 0), ev('water', 'b', 1)], 'raised');
    expect(m.zh).toBe('疑似真实火灾：证据a，且证据b');
    expect(m.en).toBe('Probable fire: evidence a, and evidence b');
  });
});

describe('lane_blocked_in_fire', () => {
  it('holds while a blocked lane and fire evidence are both present, whenever each began', () => {
    expect(verdict('lane_blocked_in_fire', [ev('lane', 'l', 0), ev('fire', 'a', 45)])?.holds).toBe(true);
    expect(verdict('lane_blocked_in_fire', [ev('lane', 'l', 0)])?.holds).toBe(false);
    expect(verdict('lane_blocked_in_fire', [ev('fire', 'a', 0), ev('water', 'b', 0)])?.holds).toBe(false);
  });
});

describe('the rules as data', () => {
  it('each has a severity, the evidence it needs and a source', () => {
    for (const r of BUILDING_RULES) {
      expect(r.needs.length).toBeGreaterThan(1);
      expect(r.source.length).toBeGreaterThan(20);
    }
  });
});

describe('the uplink sends probable_fire first', () => {
  it('as fire evidence with priority urgent; other fire evidence high; the rest normal', () => {
    const item = (alert: Record<string, unknown>) => canonicalItem({ id: 'x', type: 'alert.raised', occurredAt: '2026-12-04T02:00:00.000Z', deviceId: null, buildingId: 'b', street: '解放碑', data: { alert } });
    expect(item({ rule: 'probable_fire', class: 'hazard', kind: null, severity: 'critical' }).data).toMatchObject({ category: 'fire', priority: 'urgent' });
    expect(item({ rule: 'device_alarm', class: 'hazard', kind: 'uitd', severity: 'major' }).data).toMatchObject({ category: 'fire', priority: 'high' });
    expect(item({ rule: 'pressure_low', class: 'hazard', kind: 'water_pressure', severity: 'major' }).data).toMatchObject({ category: 'supervisory', priority: 'normal' });
    expect(alertCategory({ rule: 'lane_blocked_in_fire', class: 'hazard', kind: null })).toBe('supervisory');
    expect(alertPriority('fault', 'critical')).toBe('normal');
  });
});
