/**
 * What the UITD status bits mean (issue #16 item 7), pure: gateway/gb26875/uitd-state.ts, the rule
 * device_supervisory, and the listener's saved state (the earlier form still loads).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Gb26875Listener, type ComponentStates, type GatewayState } from '../../gateway/gb26875/listener.js';
import { decodeAppData, encodeAppData, encodeComponentStatus, encodeSystemStatus, encodeUitdStatus, type AppData, type AppDataInput } from '../../services/protocols/gb26875/index.js';
import { parseKey, pointName, pressureMpa, provesTestBit, stateOf, statusObservations } from '../../gateway/gb26875/uitd-state.js';
import type { Building, Device } from '../../services/devices/model.js';
import { Metrics } from '../../services/metrics/metrics.js';
import { RuleEngine } from '../../services/rules/rule-engine.js';
import { InMemoryRuleStateStore } from '../../services/rules/rule-state-store.js';
import { ManualClock } from '../../services/shared/clock.js';
import { validateMessage } from '../../services/telemetry/telemetry.js';

const decoded = (input: AppDataInput): AppData => {
  const r = decodeAppData(encodeAppData(input));
  if (!r.ok) throw new Error(r.detail);
  return r.appData;
};
const component = (status: number, description = '') =>
  decoded({ type: 2, objects: [{ systemType: 12, systemAddress: 2, componentType: 97, address: { zone: 2, position: 15 }, status, description, time: null }] });

describe('status bits → point state', () => {
  it('bit0 = 0 is test mode only from a source known to set bit0; then fire alarm and supervisory are tests, a fault stays a fault', () => {
    const [o] = statusObservations(component(encodeComponentStatus({ fireAlarm: true, supervisory: true, fault: true })));
    expect(o).toMatchObject({ key: 'comp:12:2:97:2-15', source: 'sys:12:2', normalBit: false });
    expect(stateOf(o!, true, 5)).toMatchObject({ alarm: false, test: true, testAlarm: true, testSupervisory: true, fault: true, since: 5 });
    expect(stateOf(o!, true, 5)?.supervisory).toBeUndefined();
    // not known to set bit0 (the worked example of fact 25): the alarm is real
    expect(stateOf(o!, false, 5)).toMatchObject({ alarm: true, supervisory: true, fault: true });
    expect(stateOf(o!, false, 5)?.test).toBeUndefined();
  });

  it('a source proves it uses bit0 only by setting it beside an alarm, fault, supervisory or disabled bit (not in an all-normal 0x0001)', () => {
    const proves = (flags: Parameters<typeof encodeComponentStatus>[0]) => provesTestBit(statusObservations(component(encodeComponentStatus(flags)))[0]!);
    expect(proves({ normal: true })).toBe(false);
    expect(proves({ normal: true, started: true })).toBe(false);
    expect(proves({ fireAlarm: true })).toBe(false);
    expect(proves({ normal: true, fireAlarm: true })).toBe(true);
    expect(proves({ normal: true, fault: true })).toBe(true);
    expect(proves({ normal: true, supervisory: true })).toBe(true);
    expect(proves({ normal: true, disabled: true })).toBe(true);
  });

  it('an alarm raised as real stays real while its bit stays set, even once the source is known to set bit0', () => {
    const [o] = statusObservations(component(encodeComponentStatus({ fireAlarm: true, supervisory: true })));
    const real = stateOf(o!, false, 1)!;
    expect(real).toMatchObject({ alarm: true, supervisory: true });
    expect(stateOf(o!, true, 2, real)).toMatchObject({ alarm: true, supervisory: true, test: true });
    expect(stateOf(o!, true, 2, real)?.testAlarm).toBeUndefined();
  });

  it('disabled, started, feedback, delay and manual are kept; a point with no bit set is normal (undefined)', () => {
    const [d] = statusObservations(component(encodeComponentStatus({ normal: true, disabled: true }), '3F'));
    expect(stateOf(d!, true, 1)).toEqual({ alarm: false, fault: false, disabled: true, status: 0x09, description: '3F', since: 1 });
    const [s] = statusObservations(component(encodeComponentStatus({ normal: true, started: true, feedback: true, delay: true })));
    expect(stateOf(s!, true, 1)).toMatchObject({ started: true, feedback: true, delay: true, alarm: false });
    const [sys] = statusObservations(decoded({ type: 1, objects: [{ systemType: 1, systemAddress: 3, status: encodeSystemStatus({ normal: true, manual: true, busFault: true }), time: null }] }));
    expect(sys).toMatchObject({ key: 'sys:1:3', source: 'sys:1:3' });
    expect(stateOf(sys!, true, 1)).toMatchObject({ manual: true, fault: true });
    const [n] = statusObservations(component(encodeComponentStatus({ normal: true })));
    expect(stateOf(n!, true, 1)).toBeUndefined();
    // in test mode with nothing else set the point is still shown (in test)
    const [t] = statusObservations(component(0));
    expect(stateOf(t!, true, 1)).toMatchObject({ test: true, alarm: false });
    expect(stateOf(t!, false, 1)).toBeUndefined();
  });

  it('the UITD itself (type 21): its own test bit and faults', () => {
    const [u] = statusObservations(decoded({ type: 21, objects: [{ status: encodeUitdStatus({ fireAlarm: true, centreLinkFault: true }), time: null }] }));
    expect(u).toMatchObject({ key: 'uitd', source: 'uitd', normalBit: false, fireAlarm: true, fault: true });
    expect(stateOf(u!, true, 1)).toMatchObject({ testAlarm: true, fault: true, alarm: false });
  });

  it('keys and names: what duty staff read', () => {
    expect(parseKey('comp:1:1:40:10-2')).toEqual({ level: 'component', systemType: 1, systemAddress: 1, componentType: 40, zone: 10, position: 2, componentAddress: 10 + 2 * 65536 });
    expect(parseKey('sys:12:3')).toMatchObject({ level: 'system', systemType: 12, systemAddress: 3, componentType: null });
    expect(parseKey('uitd').level).toBe('uitd');
    expect(pointName('comp:12:1:97:2-15', '3F 喷淋信号阀')).toBe('信号阀 2区15号（3F 喷淋信号阀）');
    expect(pointName('comp:1:1:40:10-2')).toBe('火灾报警系统1号 感烟火灾探测器 10区2号');
    expect(pointName('comp:11:1:200:1-1')).toBe('消火栓系统1号 用户自定义 1区1号');
    expect(pointName('sys:12:3')).toBe('自动喷水灭火系统 3号');
    expect(pointName('uitd')).toBe('用户信息传输装置');
    expect(pointName('comp:1:1:40:10-2', 'x'.repeat(80)).length).toBe(64);
  });

  it('pressure units to MPa: the analog table\'s MPa and kPa, a vendor\'s bar or Pa; anything else is not a pressure', () => {
    expect(pressureMpa(120, 'kPa')).toBe(0.12);
    expect(pressureMpa(0.3, 'MPa')).toBe(0.3);
    expect(pressureMpa(1.5, 'bar')).toBe(0.15);
    expect(pressureMpa(70_000, 'Pa')).toBe(0.07);
    expect(pressureMpa(12, 'psi')).toBeUndefined();
  });
});

describe('device_supervisory', () => {
  const bld: Building = {
    id: 'b', name: 'B', street: '解放碑', address: '', type: 'public', heightM: 60, floors: 15, areaM2: null,
    category: 1, use: 'office', contactName: null, contactPhone: null, createdAt: '', updatedAt: '',
  };
  const uitd: Device = { id: 'u', buildingId: 'b', kind: 'uitd', point: null, location: null, reportIntervalS: 30, vendor: null, model: null, rules: null, address: 1, createdAt: '', updatedAt: '' };
  const event = (ts: number, fields: Record<string, unknown>) => {
    const v = validateMessage('uitd', 'event', 'u', { ts, ...fields }, { now: ts, maxClockSkewMs: 0 });
    if (!v.ok) throw new Error(v.detail);
    return v.reading;
  };

  it('an event with supervisory raises a major hazard naming the point, clears with the flag; alarm and supervisory are separate', () => {
    const engine = new RuleEngine();
    const store = new InMemoryRuleStateStore();
    const t = Date.UTC(2026, 5, 1);
    const raised = engine.evaluate(event(t, { alarm: false, fault: false, supervisory: true, code: 'comp:12:1:97:2-15', supervisoryCode: '信号阀 2区15号' }), uitd, bld, null, store);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ ruleId: 'device_supervisory', transition: 'raise', class: 'hazard', severity: 'major' });
    expect(raised[0]!.message.zh).toBe('监管报警：信号阀 2区15号（设施异常，非火警）');
    const cleared = engine.evaluate(event(t + 1000, { alarm: false, fault: false, supervisory: false }), uitd, bld, null, store);
    expect(cleared.map((o) => `${o.transition}:${o.ruleId}`)).toEqual(['clear:device_supervisory']);
    expect(cleared[0]!.message.zh).toBe('监管报警已恢复');
  });

  it('applies to uitd devices only; an event with only supervisory is valid', () => {
    expect(validateMessage('uitd', 'event', 'u', { supervisory: true }, { now: Date.now(), maxClockSkewMs: 0 }).ok).toBe(true);
    const engine = new RuleEngine();
    expect(Object.keys(engine.rulesFor(uitd, bld, null))).toContain('device_supervisory');
    expect(Object.keys(engine.rulesFor({ ...uitd, id: 'w', kind: 'water_pressure', point: 'hydrant_top' }, bld, null))).not.toContain('device_supervisory');
  });
});

describe('the listener\'s saved state', () => {
  const listener = (load: () => ComponentStates, saved: GatewayState[] = []) => {
    const metrics = new Metrics({ defaultMetrics: false });
    const l = new Gb26875Listener({
      host: '127.0.0.1',
      port: 0,
      deviceByAddress: () => undefined,
      ingest: async () => ({ accepted: [], rejections: [], duplicates: 0 }),
      onConnection: () => undefined,
      onSeen: () => undefined,
      metrics,
      log: pino({ level: 'silent' }),
      clock: new ManualClock(),
      componentState: { load, save: (s) => saved.push(s) },
    });
    return { l, metrics };
  };

  it('the earlier form (device → component → {alarm, fault}) still loads', () => {
    const { l } = listener(() => ({ 'uitd-a': { 'comp:1:1:40:10-2': { alarm: true, fault: false } } }));
    expect(l.points('uitd-a')).toEqual([
      expect.objectContaining({ point: 'comp:1:1:40:10-2', level: 'component', zone: 10, position: 2, name: '火灾报警系统1号 感烟火灾探测器 10区2号', bits: expect.objectContaining({ fireAlarm: true, fault: false, disabled: false }), status: null, since: null }),
    ]);
    expect(l.testBitSources('uitd-a')).toEqual([]);
  });

  it('the current form keeps the test-bit sources; disabled points are counted in the gauge; forget drops a device', async () => {
    const saved: GatewayState[] = [];
    const state: GatewayState = {
      version: 2,
      devices: {
        'uitd-b': { components: { 'comp:1:1:40:1-1': { alarm: false, fault: false, disabled: true }, 'comp:1:1:40:1-2': { alarm: false, fault: false, disabled: true } }, bit0: ['sys:1:1'] },
        'uitd-c': { components: { 'comp:1:1:40:9-9': { alarm: false, fault: false, disabled: true } } },
      },
    };
    const { l, metrics } = listener(() => state, saved);
    expect(l.testBitSources('uitd-b')).toEqual(['sys:1:1']);
    expect(l.points('uitd-b').filter((p) => p.bits.disabled)).toHaveLength(2);
    expect((await metrics.gb26875DisabledPoints.get()).values[0]?.value).toBe(3);
    l.forget('uitd-c');
    expect((await metrics.gb26875DisabledPoints.get()).values[0]?.value).toBe(2);
    expect(Object.keys(saved.at(-1)!.devices)).toEqual(['uitd-b']);
  });
});
