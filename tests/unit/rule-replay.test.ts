/**
 * The rule replay (试算, issue #15 item 3), pure: stored readings in, would-be alerts out. Its
 * answer must be what the live service would have raised — the RuleRunner evaluating each reading
 * and ticking every second — including what time alone decides (forS held by a lane reported
 * occupied once, clearS, re-alerts, a device falling silent), with overrides on top of the
 * device's own, and without keeping any state between runs.
 */
import { describe, expect, it } from 'vitest';
import type { Building, Device } from '../../services/devices/model.js';
import { replayRules, replaySteps, type ReplayDevice, type ReplayInput } from '../../services/rules/replay.js';
import { RuleEngine, type RuleOutcome } from '../../services/rules/rule-engine.js';
import { InMemoryRuleStateStore } from '../../services/rules/rule-state-store.js';
import type { DeviceKind, Reading, ReadingFields } from '../../services/telemetry/telemetry.js';

const T0 = Date.UTC(2026, 11, 1);
const at = (s: number) => T0 + s * 1000;
const sec = (t: number | null) => (t === null ? null : (t - T0) / 1000);
const bld: Building = {
  id: 'b-1', name: 'B', street: '解放碑', address: 'a', type: 'public', heightM: 60, floors: 15, areaM2: null,
  category: 1, use: 'office', contactName: null, contactPhone: null, createdAt: '', updatedAt: '',
};
const dev = (kind: DeviceKind, p: Partial<Device> = {}): Device => ({
  id: `${kind}-1`, buildingId: 'b-1', kind, point: kind === 'water_pressure' ? 'hydrant_top' : null, location: null,
  reportIntervalS: 3600, vendor: null, model: null, rules: null, createdAt: '', updatedAt: '', ...p,
});
const readings = (d: Device, steps: Array<[s: number, fields: ReadingFields]>): Reading[] =>
  steps.map(([s, fields]) => ({ deviceId: d.id, kind: d.kind, channel: 'telemetry', ts: at(s), fields }));
const one = (d: ReplayDevice, fromS: number, toS: number): ReplayInput => ({ devices: [d], from: at(fromS), to: at(toS) });
const brief = (r: ReturnType<typeof replayRules>) => r.alerts.map((a) => `${a.rule}@${sec(a.raisedAt)}-${sec(a.clearedAt) ?? 'open'}`);

/**
 * The live service, second by second, as the RuleRunner runs it: each second's readings are
 * evaluated (a device counted offline brought back), then the tick: dueChecks and the offline scan.
 * Returns the raise and clear times per device and rule.
 */
function live(input: ReplayInput): string[] {
  const engine = new RuleEngine();
  const store = new InMemoryRuleStateStore();
  const lookup = (id: string) => {
    const d = input.devices.find((x) => x.device.id === id);
    return d && { device: d.device, building: d.building, overrides: d.overrides };
  };
  const lastSeen = new Map(input.devices.map((d) => [d.device.id, input.from]));
  const offline = (id: string) => (store.get(id, 'device_offline')?.phase ?? 'normal') !== 'normal';
  const out: RuleOutcome[] = [];
  for (let t = input.from; t <= input.to; t += 1000) {
    for (const d of input.devices) {
      for (const r of d.readings.filter((x) => x.ts === t)) {
        out.push(...engine.evaluate(r, d.device, d.building, d.overrides, store));
        lastSeen.set(d.device.id, t);
        if (offline(d.device.id)) out.push(...engine.offlineCheck({ device: d.device, building: d.building, overrides: d.overrides, lastSeenAt: t, now: t }, store));
      }
    }
    out.push(...engine.dueChecks(t, store, lookup));
    for (const d of input.devices) {
      const due = engine.offlineDue(d.device, d.building, d.overrides, lastSeen.get(d.device.id)!);
      if (due !== undefined && due <= t && !offline(d.device.id)) {
        out.push(...engine.offlineCheck({ device: d.device, building: d.building, overrides: d.overrides, lastSeenAt: lastSeen.get(d.device.id)!, now: t }, store));
      }
    }
  }
  const episodes: string[] = [];
  const open = new Map<string, number>();
  for (const o of out) {
    const k = `${o.deviceId}/${o.ruleId}`;
    if (o.transition === 'raise') open.set(k, episodes.push(`${o.ruleId}@${sec(o.at)}-open`) - 1);
    if (o.transition === 'clear' && open.has(k)) {
      episodes[open.get(k)!] = episodes[open.get(k)!]!.replace(/-open$/, `-${sec(o.at)}`);
      open.delete(k);
    }
  }
  return episodes;
}

describe('replayRules: what the rules would have raised', () => {
  const lane = dev('fire_lane');

  it('a lane reported occupied once is raised after forS by time alone, re-alerted, and cleared clearS after it is free — as live', () => {
    const input = one({ device: lane, building: bld, overrides: null, readings: readings(lane, [[10, { occupied: true }], [1300, { occupied: false }]]) }, 0, 1500);
    const r = replayRules(input);
    // default lane_blocked: forS 300 s, re-alert every 600 s, clearS 30 s
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({ rule: 'lane_blocked', deviceId: lane.id, buildingId: 'b-1', class: 'hazard', severity: 'major', raisedAt: at(310), clearedAt: at(1330), realerts: 1, count: 1 });
    expect(brief(r)).toEqual(live(input));
    expect(r.readings).toBe(2);
    expect(r.perDevice).toEqual({ [lane.id]: 2 });
  });

  it('still active at `to`: clearedAt null', () => {
    const r = replayRules(one({ device: lane, building: bld, overrides: null, readings: readings(lane, [[0, { occupied: true }]]) }, 0, 400));
    expect(brief(r)).toEqual(['lane_blocked@300-open']);
  });

  it('a lower threshold raises what the rules in force did not: peak, count and severity of the episode', () => {
    const hydrant = dev('water_pressure');
    // hydrant_top of a 60 m public building: pressure_low 0.10 MPa, forS 60 s
    const rs = readings(hydrant, [[0, { pressureMpa: 0.13 }], [30, { pressureMpa: 0.13 }], [60, { pressureMpa: 0.12 }], [90, { pressureMpa: 0.125 }], [120, { pressureMpa: 0.2 }], [150, { pressureMpa: 0.2 }]]);
    const current = replayRules(one({ device: hydrant, building: bld, overrides: null, readings: rs }, 0, 600));
    expect(current.alerts).toEqual([]);
    const tried = one({ device: hydrant, building: bld, overrides: { pressure_low: { threshold: 0.15, severity: 'critical' } }, readings: rs }, 0, 600);
    const r = replayRules(tried);
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({ rule: 'pressure_low', threshold: 0.15, severity: 'critical', raisedAt: at(60), clearedAt: at(150), peak: 0.12, count: 4 });
    expect(r.alerts[0]!.message.zh).toContain('0.15');
    expect(brief(r)).toEqual(live(tried));
  });

  it('forS decided by time between sparse readings is dated at its due time, not at the next reading', () => {
    const hydrant = dev('water_pressure');
    const input = one({ device: hydrant, building: bld, overrides: null, readings: readings(hydrant, [[0, { pressureMpa: 0.05 }], [600, { pressureMpa: 0.05 }], [1200, { pressureMpa: 0.3 }]]) }, 0, 1800);
    const r = replayRules(input);
    expect(r.alerts[0]).toMatchObject({ rule: 'pressure_low', raisedAt: at(60) });
    expect(brief(r)).toEqual(live(input));
  });

  it('a device falling silent: device_offline after 3 × its report interval, cleared by its next reading', () => {
    const d = dev('water_pressure', { reportIntervalS: 60 });
    const input = one({ device: d, building: bld, overrides: null, readings: readings(d, [[0, { pressureMpa: 0.3 }], [60, { pressureMpa: 0.3 }], [500, { pressureMpa: 0.3 }], [560, { pressureMpa: 0.3 }]]) }, 0, 700);
    const r = replayRules(input);
    expect(brief(r)).toEqual(['device_offline@240-500']);
    expect(r.alerts[0]).toMatchObject({ class: 'fault' });
    expect(brief(r)).toEqual(live(input));
  });

  it('several devices in one timeline, each with its own overrides; the same answer as live', () => {
    const a = dev('water_pressure', { id: 'p-a', reportIntervalS: 120 });
    const b = dev('fire_lane', { id: 'l-b', reportIntervalS: 120 });
    const c = dev('electrical_fire', { id: 'e-c', reportIntervalS: 120 });
    const input: ReplayInput = {
      from: at(0),
      to: at(3000),
      devices: [
        { device: a, building: bld, overrides: { pressure_low: { threshold: 0.2, forS: 30, clearS: 60 } }, readings: readings(a, Array.from({ length: 30 }, (_, i) => [i * 100, { pressureMpa: i % 7 < 3 ? 0.15 : 0.3 }])) },
        { device: b, building: bld, overrides: { lane_blocked: { forS: 60, realertS: 120 } }, readings: readings(b, [[5, { occupied: true }], [400, { occupied: false }], [410, { occupied: true }], [2000, { occupied: false }]]) },
        { device: c, building: bld, overrides: null, readings: readings(c, [[50, { residualCurrentMa: 310 }], [150, { residualCurrentMa: 100 }], [2950, { residualCurrentMa: 400 }]]) },
      ],
    };
    const r = replayRules(input);
    expect(r.readings).toBe(37);
    expect(r.alerts.map((x) => x.deviceId)).toEqual(expect.arrayContaining(['p-a', 'l-b', 'e-c']));
    // live lists episodes in the order they were raised: the same order
    expect(brief(r)).toEqual(live(input));
  });

  it('a scheduled test is replayed as one: no pressure_drop for the drawdown inside it, as live', () => {
    const hydrant = dev('water_pressure');
    const drawdown = readings(hydrant, [[0, { pressureMpa: 0.4 }], [30, { pressureMpa: 0.3 }], [600, { pressureMpa: 0.4 }], [700, { pressureMpa: 0.4 }], [730, { pressureMpa: 0.3 }]]);
    const input = (tests?: ReplayDevice['tests']) => one({ device: hydrant, building: bld, overrides: null, readings: drawdown, ...(tests ? { tests } : {}) }, 0, 1200);
    expect(brief(replayRules(input())).filter((x) => x.startsWith('pressure_drop'))).toHaveLength(2);
    // a test from 0 to 300 s: the first drawdown is the test, the second is not
    expect(brief(replayRules(input([{ startedAt: at(0), endsAt: at(300) }]))).filter((x) => x.startsWith('pressure_drop'))).toEqual([expect.stringMatching(/^pressure_drop@730-/)]);
  });

  it('keeps no state between runs and changes nothing given to it; readings outside the range are left out', () => {
    const input = one({ device: lane, building: bld, overrides: null, readings: readings(lane, [[-100, { occupied: true }], [0, { occupied: true }], [900, { occupied: false }], [5000, { occupied: true }]]) }, 0, 1000);
    const copy = structuredClone(input);
    const engine = new RuleEngine();
    const first = replayRules(input, { engine });
    const second = replayRules(input, { engine });
    expect(second).toEqual(first);
    expect(input).toEqual(copy);
    expect(first.readings).toBe(2);
  });

  it('replaySteps yields every chunk of readings and ends with the same answer', () => {
    const d = dev('water_pressure');
    const input = one({ device: d, building: bld, overrides: null, readings: readings(d, Array.from({ length: 25 }, (_, i) => [i * 10, { pressureMpa: 0.05 }])) }, 0, 600);
    const steps = replaySteps(input, { chunk: 10 });
    let yields = 0;
    let s = steps.next();
    while (!s.done) {
      yields++;
      s = steps.next();
    }
    expect(yields).toBe(2);
    expect(s.value).toEqual(replayRules(input));
  });
});
