/**
 * What an outcome says was measured (issue #17 item 2), for the duty officer's card: the quantity in
 * its unit — the pressure itself for pressure_drop, whose `value` is the fall — when a lane became
 * occupied or a device went silent, and the device's own code.
 */
import { describe, expect, it } from 'vitest';
import type { Building, Device } from '../../services/devices/model.js';
import { RuleEngine, type RuleOutcome } from '../../services/rules/rule-engine.js';
import { InMemoryRuleStateStore } from '../../services/rules/rule-state-store.js';
import type { DeviceKind, ReadingFields } from '../../services/telemetry/telemetry.js';

const T0 = Date.UTC(2026, 5, 1);
const at = (s: number) => T0 + s * 1000;
const bld: Building = {
  id: 'b-1', name: 'B', street: '解放碑', address: 'a', type: 'public', heightM: 60, floors: 15, areaM2: null,
  category: 1, use: 'office', contactName: '中控室', contactPhone: '023-6310 0000', createdAt: '', updatedAt: '',
};
const dev = (kind: DeviceKind, p: Partial<Device> = {}): Device => ({
  id: `${kind}-1`, buildingId: 'b-1', kind, point: kind === 'water_pressure' ? 'hydrant_top' : null, location: '62F',
  reportIntervalS: 60, vendor: null, model: null, rules: null, createdAt: '', updatedAt: '', ...p,
});

function run(d: Device, steps: Array<[number, ReadingFields, ('telemetry' | 'event')?]>, overrides?: unknown) {
  const engine = new RuleEngine();
  const store = new InMemoryRuleStateStore();
  const out: RuleOutcome[] = [];
  for (const [t, fields, channel = 'telemetry'] of steps) out.push(...engine.evaluate({ deviceId: d.id, kind: d.kind, channel, ts: at(t), fields }, d, bld, overrides, store));
  return { engine, store, out, lookup: (id: string) => (id === d.id ? { device: d, building: bld, overrides } : undefined) };
}
const raised = (out: RuleOutcome[], rule: string) => out.find((o) => o.ruleId === rule && o.transition === 'raise')!;

describe('measured, per rule', () => {
  it('pressure_drop: the pressure now and the pressure it fell from; the value stays the fall', () => {
    const { out } = run(dev('water_pressure'), [[0, { pressureMpa: 0.32 }], [5, { pressureMpa: 0.07 }]]);
    const o = raised(out, 'pressure_drop');
    expect(o.value).toBe(0.25);
    expect(o.threshold).toBe(0.05);
    expect(o.measured).toEqual({ value: 0.07, unit: 'MPa', from: 0.32, since: null, code: null });
  });

  it('pressure_drop raised by its timer (forS > 0, no reading at hand) reports the last pressure sent', () => {
    const d = dev('water_pressure');
    const { engine, store, out, lookup } = run(d, [[0, { pressureMpa: 0.32 }], [5, { pressureMpa: 0.07 }]], { pressure_drop: { forS: 30 } });
    expect(out.filter((o) => o.ruleId === 'pressure_drop')).toEqual([]);
    const o = engine.dueChecks(at(40), store, lookup).find((x) => x.ruleId === 'pressure_drop')!;
    expect(o.transition).toBe('raise');
    expect(o.measured).toMatchObject({ value: 0.07, from: 0.32, unit: 'MPa' });
  });

  it('threshold rules: the value with its unit', () => {
    expect(raised(run(dev('water_pressure'), [[0, { pressureMpa: 0.05 }]], { pressure_low: { forS: 0 } }).out, 'pressure_low').measured).toMatchObject({ value: 0.05, unit: 'MPa' });
    const ef = run(dev('electrical_fire'), [[0, { residualCurrentMa: 420, temperaturesC: [85.5, 40] }]]).out;
    expect(raised(ef, 'residual_current_high').measured).toMatchObject({ value: 420, unit: 'mA' });
    expect(raised(ef, 'temperature_high').measured).toMatchObject({ value: 85.5, unit: '°C' });
  });

  it('lane_blocked: occupied since the first occupied reading, not since the alert (the 300 s dwell)', () => {
    const d = dev('fire_lane');
    const { engine, store, lookup } = run(d, [[10, { occupied: true }]]);
    const o = engine.dueChecks(at(400), store, lookup).find((x) => x.ruleId === 'lane_blocked')!;
    expect(o.transition).toBe('raise');
    expect(o.measured).toEqual({ value: null, unit: null, from: null, since: at(10), code: null });
  });

  it('device_offline: silent since the last message; a last will: offline from then', () => {
    const d = dev('water_level', { reportIntervalS: 10 });
    const engine = new RuleEngine();
    const store = new InMemoryRuleStateStore();
    const [o] = engine.offlineCheck({ device: d, building: bld, lastSeenAt: at(0), now: at(45) }, store);
    expect(o!.measured.since).toBe(at(0));
    expect(o!.measured.value).toBeNull();
    const [w] = engine.lastWill(dev('water_level', { id: 'other' }), bld, undefined, at(50), store);
    expect(w!.measured.since).toBe(at(50));
  });

  it("device_alarm: the device's own code; no number to show", () => {
    const o = raised(run(dev('electrical_fire'), [[0, { alarm: true, code: 'E21' }, 'event']]).out, 'device_alarm');
    expect(o.value).toBe(1);
    expect(o.measured).toEqual({ value: null, unit: null, from: null, since: null, code: 'E21' });
  });
});
