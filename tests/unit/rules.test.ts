/**
 * The rule engine end to end (pure): each rule fires and clears at its boundary, for/clear
 * durations hold, time passes only as explicit epoch ms, and state lives in the real in-memory store.
 *
 * "At" the threshold: pressure_low/level_low fire when value < threshold, pressure_high/level_high
 * when value > threshold (issue #3 "over"), residual_current_high/temperature_high when value ≥
 * setpoint (issue #3 "at or above").
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Building, Device } from '../../services/devices/model.js';
import { RuleEngine, type RuleOutcome } from '../../services/rules/rule-engine.js';
import { InMemoryRuleStateStore } from '../../services/rules/rule-state-store.js';
import type { DeviceKind, ReadingFields } from '../../services/telemetry/telemetry.js';

const T0 = Date.UTC(2026, 5, 1);
const at = (seconds: number) => T0 + seconds * 1000;
const bld: Building = {
  id: 'b-1', name: 'B', street: '解放碑', address: 'a', type: 'public', heightM: 60, floors: 15, areaM2: null,
  category: 1, use: 'office', contactName: null, contactPhone: null, createdAt: '', updatedAt: '',
};
const dev = (kind: DeviceKind, p: Partial<Device> = {}): Device => ({
  id: `${kind}-1`, buildingId: 'b-1', kind, point: kind === 'water_pressure' ? 'hydrant_top' : null, location: null,
  reportIntervalS: 60, vendor: null, model: null, rules: null, createdAt: '', updatedAt: '', ...p,
});

let engine: RuleEngine;
let store: InMemoryRuleStateStore;
beforeEach(() => {
  engine = new RuleEngine();
  store = new InMemoryRuleStateStore();
});

/** Forget all state (a new device history); returns true so helpers can chain it. */
function fresh(): true {
  store = new InMemoryRuleStateStore();
  return true;
}

type Step = [seconds: number, fields: ReadingFields, channel?: 'telemetry' | 'event'];
/** Feed readings; return the outcomes as "transition:rule@s" plus the raw outcomes. */
function feed(d: Device, steps: Step[], overrides: unknown = undefined) {
  const outcomes: RuleOutcome[] = [];
  for (const [t, fields, channel = 'telemetry'] of steps) {
    outcomes.push(...engine.evaluate({ deviceId: d.id, kind: d.kind, channel, ts: at(t), fields }, d, bld, overrides, store));
  }
  return { outcomes, events: outcomes.map(show) };
}
const show = (o: RuleOutcome) => `${o.transition}${o.realert ? '!' : ''}:${o.ruleId}@${(o.at - T0) / 1000}`;
const lookup = (d: Device, overrides?: unknown) => (id: string) => (id === d.id ? { device: d, building: bld, overrides } : undefined);

describe('pressure_low: hydrant_top 0.10 MPa for a category-1 public high-rise, forS 60 s', () => {
  const d = dev('water_pressure');
  const held = (v: number) => fresh() && feed(d, [[0, { pressureMpa: v }], [30, { pressureMpa: v }], [60, { pressureMpa: v }]]).events;

  it('just below fires after 60 s; at and just above do not', () => {
    expect(held(0.099)).toEqual(['raise:pressure_low@60']);
    expect(held(0.1)).toEqual([]);
    expect(held(0.101)).toEqual([]);
  });

  it('says what, how much and which clause, Chinese first', () => {
    const { outcomes } = feed(d, [[0, { pressureMpa: 0.05 }], [60, { pressureMpa: 0.05 }]]);
    expect(outcomes[0]).toMatchObject({ severity: 'major', class: 'hazard', value: 0.05, threshold: 0.1, peak: 0.05, count: 2 });
    expect(outcomes[0]?.message).toEqual({
      zh: '顶层消火栓静压 0.05 MPa 低于 0.10 MPa（GB 50974-2014 5.2.2）',
      en: 'Top-floor hydrant static pressure 0.05 MPa below 0.10 MPa (GB 50974-2014 5.2.2)',
    });
  });

  it('clears at threshold + hysteresis (0.11) held 30 s, not at 0.105', () => {
    const base: Step[] = [[0, { pressureMpa: 0.05 }], [60, { pressureMpa: 0.05 }]];
    expect(feed(d, [...base, [70, { pressureMpa: 0.105 }], [120, { pressureMpa: 0.105 }]]).events).toEqual(['raise:pressure_low@60']);
    fresh();
    const r = feed(d, [...base, [70, { pressureMpa: 0.11 }], [100, { pressureMpa: 0.12 }]]);
    expect(r.events).toEqual(['raise:pressure_low@60', 'clear:pressure_low@100']);
    expect(r.outcomes[1]?.message.en).toBe('Top-floor hydrant static pressure back to 0.12 MPa (threshold 0.10 MPa)');
  });

  it('a 40 s dip during a pump start is not an alarm', () => {
    expect(feed(d, [[0, { pressureMpa: 0.06 }], [40, { pressureMpa: 0.3 }], [80, { pressureMpa: 0.3 }]]).events).toEqual([]);
  });

  it('flapping around the threshold with forS 0 raises once and never clears', () => {
    const values = [0.099, 0.101, 0.098, 0.104, 0.0995, 0.1, 0.097, 0.109, 0.099];
    const r = feed(d, values.map((v, i): Step => [i * 5, { pressureMpa: v }]), { pressure_low: { forS: 0 } });
    expect(r.events.filter((e) => !e.startsWith('update'))).toEqual(['raise:pressure_low@0']);
  });
});

describe('pressure_high and pressure_drop', () => {
  it('hydrant_outlet while flowing: over 0.50 MPa dynamic raises (at 0.50 is fine)', () => {
    const d = dev('water_pressure', { point: 'hydrant_outlet' });
    const over = (v: number) => fresh() && feed(d, [[0, { pressureMpa: v, flowing: true }], [60, { pressureMpa: v, flowing: true }]], { pressure_low: { enabled: false } }).events;
    expect(over(0.5)).toEqual([]);
    expect(over(0.51)).toEqual(['raise:pressure_high@60']);
  });

  it('hydrant_outlet at rest: static pressure up to 1.0 MPa is compliant (fact 43), above raises', () => {
    const d = dev('water_pressure', { point: 'hydrant_outlet' });
    const held = (v: number) => fresh() && feed(d, [[0, { pressureMpa: v }], [60, { pressureMpa: v }]]).events;
    expect(held(0.8)).toEqual([]);
    expect(held(1.0)).toEqual([]);
    expect(held(1.01)).toEqual(['raise:pressure_high@60']);
  });

  it('an upper-floor hydrant outlet at a compliant static 0.20 MPa never alarms at rest; below 0.35 MPa while flowing does', () => {
    const d = dev('water_pressure', { point: 'hydrant_outlet' });
    const standby = feed(d, [[0, { pressureMpa: 0.2 }], [60, { pressureMpa: 0.2 }], [120, { pressureMpa: 0.2 }]]);
    expect(standby.events).toEqual([]);
    fresh();
    const flowing = feed(d, [[0, { pressureMpa: 0.2, flowing: true }], [60, { pressureMpa: 0.2, flowing: true }]]);
    expect(flowing.events).toEqual(['raise:pressure_low@60']);
    expect(flowing.outcomes[0]).toMatchObject({ threshold: 0.35 });
    expect(flowing.outcomes[0]?.message.zh).toContain('0.35 MPa');
  });

  it('sprinkler_end: 0.08 MPa at rest is below the 0.10 static minimum; while flowing 0.08 is above the 0.05 working pressure', () => {
    const d = dev('water_pressure', { point: 'sprinkler_end' });
    expect(feed(d, [[0, { pressureMpa: 0.08 }], [60, { pressureMpa: 0.08 }]]).events).toEqual(['raise:pressure_low@60']);
    fresh();
    expect(feed(d, [[0, { pressureMpa: 0.08, flowing: true }], [60, { pressureMpa: 0.08, flowing: true }]]).events).toEqual([]);
    fresh();
    expect(feed(d, [[0, { pressureMpa: 0.04, flowing: true }], [60, { pressureMpa: 0.04, flowing: true }]]).events).toEqual(['raise:pressure_low@60']);
  });

  it('a sustained drop makes the point flowing until the pressure recovers: dynamic limits apply meanwhile', () => {
    const d = dev('water_pressure', { point: 'hydrant_outlet' });
    // at rest 0.60; a hydrant opens: 0.30 (a drop of 0.30 MPa), held — below the 0.35 dynamic minimum
    const r = feed(d, [[0, { pressureMpa: 0.6 }], [10, { pressureMpa: 0.3 }], [40, { pressureMpa: 0.3 }], [100, { pressureMpa: 0.3 }]]);
    expect(r.events).toEqual(['raise:pressure_drop@10', 'update:pressure_drop@40', 'raise:pressure_low@100']);
    expect(engine.hydraulicStateOf(d, store, at(100))).toBe('flowing');
    // recovered to within the drop of 0.60: at rest again
    feed(d, [[130, { pressureMpa: 0.58 }]]);
    expect(engine.hydraulicStateOf(d, store, at(130))).toBe('standby');
  });

  it('during a scheduled test pressure_drop gives no verdict and flowing limits apply', () => {
    const d = dev('water_pressure', { point: 'sprinkler_end' });
    const steps: Array<[number, number]> = [[0, 0.3], [10, 0.07], [70, 0.07]];
    const out: RuleOutcome[] = [];
    for (const [t, v] of steps) out.push(...engine.evaluate({ deviceId: d.id, kind: d.kind, channel: 'telemetry', ts: at(t), fields: { pressureMpa: v } }, d, bld, undefined, store, { testing: true }));
    expect(out.map(show)).toEqual([]); // 0.07 ≥ 0.05 working pressure; the drawdown is the test
    expect(engine.hydraulicStateOf(d, store, at(70), true)).toBe('test');
  });

  it('a fall of more than 0.05 MPa within 60 s is a drop; exactly 0.05 or a slow fall is not', () => {
    const d = dev('water_pressure', { point: 'network' });
    expect(feed(d, [[0, { pressureMpa: 0.3 }], [30, { pressureMpa: 0.24 }]]).events).toEqual(['raise:pressure_drop@30']);
    fresh();
    expect(feed(d, [[0, { pressureMpa: 0.3 }], [30, { pressureMpa: 0.25 }]]).events).toEqual([]);
    fresh();
    const slow = feed(d, [[0, { pressureMpa: 0.3 }], [45, { pressureMpa: 0.27 }], [90, { pressureMpa: 0.24 }], [135, { pressureMpa: 0.21 }]]);
    expect(slow.events).toEqual([]);
  });

  it('the drop clears once the window has slid past it', () => {
    const d = dev('water_pressure', { point: 'network' });
    const steps: Step[] = [0, 30, 60, 90, 120, 150].map((t) => [t, { pressureMpa: t === 0 ? 0.3 : 0.2 }]);
    const r = feed(d, steps);
    expect(r.events).toEqual(['raise:pressure_drop@30', 'update:pressure_drop@60', 'clear:pressure_drop@150']);
    expect(r.outcomes[0]).toMatchObject({ value: 0.1, threshold: 0.05 });
  });
});

describe('level band (configured per device)', () => {
  const d = dev('water_level');
  const band = { level_low: { threshold: 1, forS: 0 }, level_high: { threshold: 4, forS: 0 } };
  const one = (v: number) => fresh() && feed(d, [[0, { levelM: v }]], band).events;

  it('below low and above high fire; the band ends do not', () => {
    expect(one(0.99)).toEqual(['raise:level_low@0']);
    expect(one(1)).toEqual([]);
    expect(one(4)).toEqual([]);
    expect(one(4.01)).toEqual(['raise:level_high@0']);
  });

  it('without a band nothing fires', () => {
    expect(feed(d, [[0, { levelM: 0 }], [600, { levelM: 0 }]]).events).toEqual([]);
  });
});

describe('electrical fire: at or above the setpoint', () => {
  const d = dev('electrical_fire');
  const rc = (v: number) => fresh() && feed(d, [[0, { residualCurrentMa: v }]]).events;
  const temp = (t: number[]) => fresh() && feed(d, [[0, { temperaturesC: t }]]).events;

  it('residual current 299 no, 300 and 301 yes', () => {
    expect(rc(299)).toEqual([]);
    expect(rc(300)).toEqual(['raise:residual_current_high@0']);
    expect(rc(301)).toEqual(['raise:residual_current_high@0']);
  });

  it('temperature: the hottest of the channels decides', () => {
    expect(temp([40, 79.9])).toEqual([]);
    expect(temp([40, 80, 20])).toEqual(['raise:temperature_high@0']);
    fresh();
    const { outcomes } = feed(d, [[0, { temperaturesC: [81.25] }]]);
    expect(outcomes[0]?.message.zh).toBe('线缆温度 81.3 °C 达到或超过设定值 80 °C（设计取值，无标准值）');
  });

  it('clears below setpoint − hysteresis (270 mA) held 60 s', () => {
    const base: Step[] = [[0, { residualCurrentMa: 350 }]];
    expect(feed(d, [...base, [10, { residualCurrentMa: 280 }], [100, { residualCurrentMa: 280 }]]).events).toHaveLength(1);
    fresh();
    const r = feed(d, [...base, [10, { residualCurrentMa: 150 }], [70, { residualCurrentMa: 150 }]]);
    expect(r.events).toEqual(['raise:residual_current_high@0', 'clear:residual_current_high@70']);
    expect(r.outcomes[0]?.message.zh).toBe('剩余电流 350 mA 达到或超过设定值 300 mA（GB 50116-2013 9.2.3）');
  });
});

describe('lane_blocked', () => {
  const d = dev('fire_lane');

  it('a short stop does not alert', () => {
    expect(feed(d, [[0, { occupied: true }], [120, { occupied: false }]]).events).toEqual([]);
    expect(engine.dueChecks(at(400), store, lookup(d))).toEqual([]);
  });

  it('long parking alerts after forS without a new message, then re-alerts every 600 s', () => {
    feed(d, [[0, { occupied: true }]]);
    expect(engine.nextDue(store, lookup(d))).toBe(at(300));
    expect(engine.dueChecks(at(299), store, lookup(d))).toEqual([]);
    expect(engine.dueChecks(at(300), store, lookup(d)).map(show)).toEqual(['raise:lane_blocked@300']);
    expect(engine.nextDue(store, lookup(d))).toBe(at(900));
    const re = engine.dueChecks(at(900), store, lookup(d));
    expect(re.map(show)).toEqual(['update!:lane_blocked@900']);
    expect(re[0]?.message.zh).toBe('消防车道仍被占用（已 10 分钟）');
    const cleared = feed(d, [[1000, { occupied: false }], [1030, { occupied: false }]]);
    expect(cleared.events).toEqual(['clear:lane_blocked@1030']);
  });

  it('a per-site dwell of 60 s and the parked car leaving before the timer ran still raises', () => {
    const r = feed(d, [[0, { occupied: true }], [90, { occupied: false }]], { lane_blocked: { forS: 60 } });
    expect(r.events).toEqual(['raise:lane_blocked@60']);
  });
});

describe('faults and the device\'s own flags', () => {
  it('a pressure unchanged for 6 h is a stuck sensor: class fault, not a hazard', () => {
    const d = dev('water_pressure');
    const steps: Step[] = Array.from({ length: 13 }, (_, i): Step => [i * 1800, { pressureMpa: 0.3 }]);
    const r = feed(d, [...steps, [6.5 * 3600, { pressureMpa: 0.31 }]]);
    expect(r.events).toEqual([`raise:sensor_fault@${6 * 3600}`, `clear:sensor_fault@${6.5 * 3600}`]);
    expect(r.outcomes[0]).toMatchObject({ class: 'fault', severity: 'minor' });
    expect(r.outcomes[0]?.message.en).toContain('not a fire alarm');
  });

  it('the device fault flag raises sensor_fault and its reset clears it', () => {
    const r = feed(dev('water_level'), [[0, { fault: true, code: 'E12' }, 'event'], [60, { fault: false }, 'event']]);
    expect(r.events).toEqual(['raise:sensor_fault@0', 'clear:sensor_fault@60']);
  });

  it('device_alarm from an event; recovery when the flag clears; fault and alarm are separate', () => {
    const d = dev('electrical_fire');
    const r = feed(d, [[0, { alarm: true, code: 'A5' }, 'event'], [30, { residualCurrentMa: 10 }], [60, { alarm: false }, 'event']]);
    expect(r.events).toEqual(['raise:device_alarm@0', 'clear:device_alarm@60']);
    expect(r.outcomes[0]).toMatchObject({ class: 'hazard', severity: 'critical' });
    // the device's own code is labelled as its code (issue #17 item 5)
    expect(r.outcomes[0]?.message).toEqual({ zh: '设备自身报警（代码 A5）', en: 'Device reports an alarm (code A5)' });
  });

  it('a sensor pinned at its configured span end is a clamp fault', () => {
    const d = dev('water_pressure');
    const r = feed(d, [[0, { pressureMpa: 1.6 }]], { sensor_fault: { spanMin: 0, spanMax: 1.6 }, pressure_high: { enabled: false } });
    expect(r.events).toEqual(['raise:sensor_fault@0']);
  });
});

describe('device_offline (3 × reportIntervalS)', () => {
  const d = dev('fire_lane');

  it('fires at 180 s of silence, not at 179 s, and any reading clears it', () => {
    expect(engine.offlineDue(d, bld, undefined, at(0))).toBe(at(180));
    expect(engine.offlineCheck({ device: d, building: bld, lastSeenAt: at(0), now: at(179) }, store)).toEqual([]);
    const off = engine.offlineCheck({ device: d, building: bld, lastSeenAt: at(0), now: at(180) }, store);
    expect(off.map(show)).toEqual(['raise:device_offline@180']);
    expect(off[0]).toMatchObject({ class: 'fault', value: 180 });
    expect(engine.offlineCheck({ device: d, building: bld, lastSeenAt: at(0), now: at(240) }, store)).toEqual([]); // no storm
    expect(feed(d, [[300, { occupied: false }]]).events).toEqual(['clear:device_offline@300']);
  });

  it('a last will raises at once', () => {
    expect(engine.lastWill(d, bld, undefined, at(5), store).map(show)).toEqual(['raise:device_offline@5']);
  });
});

describe('engine housekeeping', () => {
  it('state survives a restart: a new engine continues from the store', () => {
    const d = dev('fire_lane');
    feed(d, [[0, { occupied: true }]]);
    const restarted = new RuleEngine();
    expect(restarted.dueChecks(at(300), store, lookup(d)).map(show)).toEqual(['raise:lane_blocked@300']);
  });

  it('disabling a rule with an open alert clears it', () => {
    const d = dev('electrical_fire');
    feed(d, [[0, { residualCurrentMa: 400 }]]);
    const r = feed(d, [[10, { residualCurrentMa: 400 }]], { residual_current_high: { enabled: false } });
    expect(r.events).toEqual(['clear:residual_current_high@10']);
  });

  it('invalid stored overrides are refused with the allowed range', () => {
    expect(() => feed(dev('electrical_fire'), [[0, { residualCurrentMa: 1 }]], { residual_current_high: { threshold: 5 } })).toThrow(
      /residual_current_high\.threshold: must be a number within 20–1000 mA/,
    );
  });
});

describe('pressure_drop window (monotonic queue)', () => {
  it('gives the same drop as the full window for any sequence, and stays small on a steady signal', async () => {
    const { pressureDrop } = await import('../../services/rules/rule-families/pressure.js');
    const { Prng } = await import('../../simulators/prng.js');
    const prng = new Prng(7);
    const rnd = () => prng.next();
    const windowS = 60;
    let window: Array<[number, number]> = [];
    const all: Array<[number, number]> = [];
    let ts = 1_700_000_000_000;
    for (let i = 0; i < 5000; i++) {
      ts += Math.floor(rnd() * 4000);
      const v = Math.round((0.2 + rnd() * 0.3) * 1000) / 1000;
      const r = pressureDrop(window, ts, v, windowS);
      const inWindow = all.filter(([at]) => at >= ts - windowS * 1000 && at <= ts);
      const expected = Math.max(0, Math.round((Math.max(v, ...inWindow.map(([, x]) => x)) - v) * 1e9) / 1e9);
      expect(r.drop).toBeCloseTo(expected, 9);
      window = r.window;
      all.push([ts, v]);
    }
    let steady: Array<[number, number]> = [];
    for (let i = 0; i < 1000; i++) steady = pressureDrop(steady, ts + i * 1000, 0.31, windowS).window;
    expect(steady).toHaveLength(1);
  });
});

describe('device_offline in words a duty officer reads (issue #17 item 5)', () => {
  it('seconds, minutes, hours — never a bare "s"', async () => {
    const { silenceZh, ruleMessage } = await import('../../services/rules/messages.js');
    expect(silenceZh(45)).toBe('45 秒');
    expect(silenceZh(720)).toBe('12 分钟');
    expect(silenceZh(3 * 3600 + 300)).toBe('3 小时 5 分钟');
    const m = ruleMessage({ ruleId: 'device_offline', transition: 'raise', value: 180, threshold: 180, point: null, source: undefined, detail: undefined, realert: false, durationMin: undefined });
    expect(m.zh).toBe('设备离线：3 分钟无数据');
    expect(m.zh).not.toMatch(/\d s\b/);
  });
});
