/**
 * Issue #16 items 1–3 through the wire: the rules API shows each rule's value per hydraulic state
 * with its real source, per building class and point (GB 50974-2014 5.2.2, 6.2.1, outlet dynamic
 * pressures, GB 55036-2022 4.0.5; facts 41–46); standby gauges are judged on static limits, flowing
 * ones on dynamic limits; a scheduled test keeps pressure_drop quiet and is recorded as a test.
 * Time moves only by the injected ManualClock.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

let svc: TestService;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
});
afterAll(async () => {
  await svc?.stop();
});

type Limits = Array<{ state: string; value: number | null; source?: string }>;
const rulesOf = async (deviceId: string) => (await svc.api.get(`/api/v1/devices/${deviceId}/rules`)).body.rules as Record<string, { limits: Limits }>;
const alertsOf = async (deviceId: string) => (await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}`)).body.items as Array<{ rule: string; threshold: number; message: { zh: string } }>;

async function building(spec: Record<string, unknown>): Promise<string> {
  const b = await svc.api.post('/api/v1/buildings', { name: '测试楼', street: '解放碑', address: '民族路', use: 'complex', ...spec });
  expect(b.status).toBe(201);
  return b.body.id as string;
}

describe('GET /api/v1/devices/{id}/rules: value, state and source per building class and point', () => {
  const cases: Array<[string, Record<string, unknown>, string, { standby: number | null; flowing: number | null; standbySource: RegExp; flowingSource?: RegExp }]> = [
    ['category-1 public high-rise over 100 m, top hydrant', { type: 'public', heightM: 150, category: 1 }, 'hydrant_top', { standby: 0.15, flowing: 0.35, standbySource: /^GB 50974-2014 5\.2\.2/, flowingSource: /outlet dynamic/ }],
    ['120 m residential tower, top hydrant: 0.07 MPa (0.15 is for public buildings)', { type: 'residential', heightM: 120, use: 'residence' }, 'hydrant_top', { standby: 0.07, flowing: 0.35, standbySource: /^GB 50974-2014 5\.2\.2/ }],
    ['category-2 public high-rise, top hydrant', { type: 'public', heightM: 40, category: 2 }, 'hydrant_top', { standby: 0.07, flowing: 0.35, standbySource: /^GB 50974-2014 5\.2\.2/ }],
    ['multi-storey public, hydrant outlet: 0.25 MPa dynamic only while flowing', { type: 'public', heightM: 18, category: null }, 'hydrant_outlet', { standby: 0.07, flowing: 0.25, standbySource: /top-point minimum applied at the outlet/, flowingSource: /UNVERIFIED/ }],
    ['industrial, hydrant outlet', { type: 'industrial', heightM: 12, use: 'factory' }, 'hydrant_outlet', { standby: 0.1, flowing: 0.35, standbySource: /^GB 50974-2014 5\.2\.2/ }],
    ['sprinkler end: 0.10 static, 0.05 working pressure', { type: 'public', heightM: 60, category: 1 }, 'sprinkler_end', { standby: 0.1, flowing: 0.05, standbySource: /sprinkler static/, flowingSource: /^GB 55036-2022 4\.0\.5\(3\)/ }],
    ['the building network: a design-choice floor, not the municipal 0.14', { type: 'public', heightM: 60, category: 1 }, 'network', { standby: 0.1, flowing: null, standbySource: /^design choice/ }],
    ['pump outlet: a design-choice floor', { type: 'public', heightM: 150, category: 1 }, 'pump_outlet', { standby: 0.15, flowing: null, standbySource: /^design choice/ }],
    ['28 storeys without a measured height: an estimate does not cross 100 m', { type: 'public', heightM: null, floors: 28, category: null }, 'hydrant_top', { standby: 0.1, flowing: 0.35, standbySource: /^GB 50974-2014 5\.2\.2/ }],
  ];
  it.each(cases)('%s', async (_name, b, point, want) => {
    const p = await provisionDevice(svc.api, { kind: 'water_pressure', point, reportIntervalS: 3600 }, await building(b));
    const limits = (await rulesOf(p.deviceId)).pressure_low!.limits;
    const standby = limits.find((l) => l.state === 'standby')!;
    const flowing = limits.find((l) => l.state === 'flowing')!;
    expect(standby.value).toBe(want.standby);
    expect(standby.source).toMatch(want.standbySource);
    expect(flowing.value).toBe(want.flowing);
    if (want.flowingSource) expect(flowing.source).toMatch(want.flowingSource);
  });

  it('hydrant outlet pressure_high: 1.0 MPa static (zoning), 0.50 MPa while flowing', async () => {
    const p = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_outlet', reportIntervalS: 3600 }, await building({ type: 'public', heightM: 60, category: 1 }));
    expect((await rulesOf(p.deviceId)).pressure_high!.limits).toMatchObject([
      { state: 'standby', value: 1, source: expect.stringContaining('GB 50974-2014 6.2.1') },
      { state: 'flowing', value: 0.5, source: expect.stringContaining('outlet dynamic') },
    ]);
  });

  it('electrical and lane rules have one limit for any state, each with a source', async () => {
    const p = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 }, await building({ type: 'public', heightM: 60, category: 1 }));
    const r = await rulesOf(p.deviceId);
    expect(r.residual_current_high!.limits).toMatchObject([{ state: 'any', value: 300, source: expect.stringMatching(/^GB 50116-2013 9\.2\.3/) }]);
    expect(r.residual_current_high!.limits).toHaveLength(1);
    expect(r.temperature_high!.limits[0]!.source).toMatch(/^design choice/);
  });
});

async function pressureDevice(point: string, b: Record<string, unknown>): Promise<{ id: string; client: MqttClient; send: (m: object) => Promise<void> }> {
  const p = await provisionDevice(svc.api, { kind: 'water_pressure', point, reportIntervalS: 3600 }, await building(b));
  const client = await connectDevice(svc.mqttUrl, p);
  return { id: p.deviceId, client, send: (m) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m) };
}

/** send, then let 60 s pass in ticks (pressure_low's forS), then wait for the processors */
async function hold(d: { id: string; send: (m: object) => Promise<void> }, m: object): Promise<void> {
  await d.send(m);
  await waitFor(async () => (await svc.api.get(`/api/v1/devices/${d.id}/readings?limit=1`)).body.items.length > 0, 'stored');
  for (let i = 0; i < 65; i++) clock.advance(1000);
  await d.send(m);
}

describe('standby gauges are judged on static limits, flowing ones on dynamic limits (through MQTT)', () => {
  it('a compliant 0.10 MPa at the top of a 120 m residential tower raises nothing', async () => {
    const d = await pressureDevice('hydrant_top', { type: 'residential', heightM: 120, use: 'residence' });
    await hold(d, { pressureMpa: 0.1 });
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${d.id}/readings?limit=5`)).body.items.length >= 2, 'both stored');
    clock.advance(1000);
    expect(await alertsOf(d.id)).toEqual([]);
    await endClient(d.client);
  });

  it('an upper-floor hydrant outlet at a static 0.20 MPa raises nothing; the same 0.20 MPa while flowing is pressure_low at 0.35', async () => {
    const d = await pressureDevice('hydrant_outlet', { type: 'public', heightM: 80, category: 1 });
    await hold(d, { pressureMpa: 0.2 });
    clock.advance(1000);
    expect(await alertsOf(d.id)).toEqual([]);
    await hold(d, { pressureMpa: 0.2, flowing: true });
    const [a] = await waitFor(async () => {
      clock.advance(1000);
      const list = await alertsOf(d.id);
      return list.length > 0 ? list : undefined;
    }, 'pressure_low while flowing');
    expect(a).toMatchObject({ rule: 'pressure_low', threshold: 0.35 });
    expect(a!.message.zh).toContain('0.35 MPa');
    await endClient(d.client);
  });
});

describe('a scheduled test (issue #16 item 2)', () => {
  it('keeps pressure_drop quiet, applies flowing limits, and is recorded with the pressures it saw', async () => {
    const d = await pressureDevice('sprinkler_end', { type: 'public', heightM: 60, category: 1 });
    await d.send({ pressureMpa: 0.3 });
    const started = await svc.api.post(`/api/v1/devices/${d.id}/tests`, { kind: 'end_of_line', durationS: 600, note: '季度末端试水' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ kind: 'end_of_line', running: true, startedBy: 'system:admin' });
    expect((await svc.api.post(`/api/v1/devices/${d.id}/tests`, { kind: 'pump' })).status).toBe(409);
    // the valve opens: 0.30 → 0.07 MPa, a fall of 0.23 MPa in seconds — the test, not a burst
    clock.advance(5000);
    await d.send({ pressureMpa: 0.07 });
    await hold(d, { pressureMpa: 0.07 });
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${d.id}/tests`)).body.items[0].readings >= 3, 'readings recorded on the test');
    clock.advance(1000);
    // 0.07 MPa is above the 0.05 MPa working pressure; no drop alarm during the test
    expect(await alertsOf(d.id)).toEqual([]);
    const ended = await svc.api.post(`/api/v1/devices/${d.id}/tests/end`, {});
    expect(ended.status).toBe(200);
    const [rec] = (await svc.api.get(`/api/v1/devices/${d.id}/tests`)).body.items;
    expect(rec).toMatchObject({ kind: 'end_of_line', running: false, minMpa: 0.07, maxMpa: 0.07, endedBy: 'system:admin', note: '季度末端试水' });
    expect((await svc.api.post(`/api/v1/devices/${d.id}/tests/end`, {})).status).toBe(409);
    await endClient(d.client);
  });

  it('the same drawdown without a test is a pressure_drop, and tests are only for pressure points', async () => {
    const d = await pressureDevice('sprinkler_end', { type: 'public', heightM: 60, category: 1 });
    await d.send({ pressureMpa: 0.3 });
    clock.advance(5000);
    await d.send({ pressureMpa: 0.07 });
    await waitFor(async () => (await alertsOf(d.id)).some((a) => a.rule === 'pressure_drop'), 'pressure_drop');
    const lane = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 3600 }, await building({ type: 'public', heightM: 60, category: 1 }));
    const bad = await svc.api.post(`/api/v1/devices/${lane.deviceId}/tests`, { kind: 'other' });
    expect(bad.status).toBe(400);
    await endClient(d.client);
  });
});

describe('validation follows the device\'s measuring range (issue #16 item 10)', () => {
  const statusOf = async (id: string) => (await svc.api.get(`/api/v1/devices/${id}`)).body.status as { lastRejected: { reason: string; detail: string } | null; rejected: number };

  it('a value in bar sent as MPa (3.2 on a 0–2.5 MPa sensor) is out_of_range, not pressure_high; a sensor with a 0–4 MPa span accepts it', async () => {
    const d = await pressureDevice('pump_outlet', { type: 'public', heightM: 60, category: 1 });
    await d.send({ pressureMpa: 3.2 });
    const s = await waitFor(async () => {
      const st = await statusOf(d.id);
      return st.rejected > 0 ? st : undefined;
    }, 'rejected');
    expect(s.lastRejected).toMatchObject({ reason: 'out_of_range' });
    expect(s.lastRejected!.detail).toContain('bar or kPa');
    // within the NAMUR tolerance above the span (2.5 + 3.125 %) a reading is kept
    await d.send({ pressureMpa: 2.55 });
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${d.id}/readings?limit=5`)).body.items.length === 1, 'kept');
    clock.advance(1000);
    expect((await alertsOf(d.id)).map((a) => a.rule)).not.toContain('pressure_high');
    expect((await svc.api.patch(`/api/v1/devices/${d.id}`, { rules: { sensor_fault: { spanMin: 0, spanMax: 4 } } })).status).toBe(200);
    await d.send({ pressureMpa: 3.2 });
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${d.id}/readings?limit=5`)).body.items.length === 2, 'accepted with its own span');
    await endClient(d.client);
  });

  it('a level transmitter at an empty tank may read slightly negative; far below is rejected', async () => {
    const p = await provisionDevice(svc.api, { kind: 'water_level', reportIntervalS: 3600 }, await building({ type: 'public', heightM: 60, category: 1 }));
    const c = await connectDevice(svc.mqttUrl, p);
    await publish(c, `fire/v1/${p.deviceId}/telemetry`, { levelM: -0.05 });
    await publish(c, `fire/v1/${p.deviceId}/telemetry`, { levelM: -0.5 });
    await waitFor(async () => (await statusOf(p.deviceId)).rejected === 1, 'one rejected');
    expect((await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=5`)).body.items).toHaveLength(1);
    await endClient(c);
  });
});

describe('a sensor that only sends bad data is not invisible (issue #16 item 4)', () => {
  type A = { rule: string; class: string; cleared: boolean; status: string; message: { zh: string; en: string } };
  const faults = async (id: string) => ((await svc.api.get(`/api/v1/alerts?deviceId=${id}`)).body.items as A[]).filter((a) => a.rule === 'sensor_fault');

  it('ten rejected messages in a row raise sensor_fault naming the reason; the next accepted reading clears it', async () => {
    const d = await pressureDevice('hydrant_top', { type: 'public', heightM: 60, category: 1 });
    await d.send({ pressureMpa: 0.3 });
    for (let i = 0; i < 9; i++) await d.send({ pressureMpa: 300 }); // kPa sent as MPa
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 100));
    clock.advance(1000);
    expect(await faults(d.id)).toEqual([]); // nine is not yet a run
    await d.send({ pressureMpa: 300 });
    const [f] = await waitFor(async () => {
      clock.advance(1000);
      const list = await faults(d.id);
      return list.length > 0 ? list : undefined;
    }, 'sensor_fault from rejections');
    expect(f).toMatchObject({ class: 'fault', cleared: false });
    expect(f!.message.zh).toContain('连续 10 条消息被拒收');
    expect(f!.message.zh).toContain('超出传感器量程');
    await d.send({ pressureMpa: 0.31 });
    await waitFor(async () => (await faults(d.id))[0]?.cleared === true, 'cleared by an accepted reading');
    await endClient(d.client);
  });

  it('rejected messages do not count as seen: a sensor sending only garbage goes offline, and faults after 3 × reportIntervalS', async () => {
    const p = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 60 }, await building({ type: 'public', heightM: 60, category: 1 }));
    const c = await connectDevice(svc.mqttUrl, p);
    const topic = `fire/v1/${p.deviceId}/telemetry`;
    await publish(c, topic, { pressureMpa: 0.3 });
    const alerts = async () => (await svc.api.get(`/api/v1/alerts?deviceId=${p.deviceId}`)).body.items as A[];
    // a broken loop: one bad message a minute, for four minutes
    for (let m = 0; m < 4; m++) {
      for (let s = 0; s < 60; s++) clock.advance(1000);
      await publish(c, topic, { pressureMpa: -5 });
    }
    const rules = await waitFor(async () => {
      clock.advance(1000);
      const list = (await alerts()).map((a) => a.rule).sort();
      return list.includes('device_offline') && list.includes('sensor_fault') ? list : undefined;
    }, 'offline and sensor_fault');
    expect(rules).toEqual(['device_offline', 'sensor_fault']);
    await endClient(c);
  });
});

describe('one bad channel does not drop the others (issue #16 item 5)', () => {
  it('an electrical-fire message with one temperature channel out of range stores the residual current and the other channels, counted per field', async () => {
    const p = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 }, await building({ type: 'public', heightM: 60, category: 1 }));
    const c = await connectDevice(svc.mqttUrl, p);
    await publish(c, `fire/v1/${p.deviceId}/telemetry`, { seq: 1, residualCurrentMa: 350, temperaturesC: [40, 2000, 45] });
    const [r] = await waitFor(async () => {
      const items = (await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=5`)).body.items;
      return items.length > 0 ? items : undefined;
    }, 'stored');
    expect(r).toMatchObject({ residualCurrentMa: 350, temperaturesC: [40, null, 45] });
    // the residual current still raises its alarm
    await waitFor(async () => (await alertsOf(p.deviceId)).some((a) => a.rule === 'residual_current_high'), 'residual_current_high');
    const status = (await svc.api.get(`/api/v1/devices/${p.deviceId}`)).body.status;
    expect(status).toMatchObject({ rejected: 0, rejectedFields: 1 });
    expect(status.lastRejected.detail).toContain('temperaturesC[1]=2000');
    const metrics = (await svc.api.get('/metrics')).body as string;
    expect(metrics).toMatch(/^firewatch_fields_rejected_total\{kind="electrical_fire",field="temperaturesC"\} 1$/m);
    await endClient(c);
  });
});

describe('height and class (issue #16 item 9)', () => {
  it('a 28-storey block without a measured height is estimated, not over 100 m, and flagged; a measured hillside height records its access level', async () => {
    const est = await svc.api.post('/api/v1/buildings', { name: '二十八层商住楼', street: '七星岗', address: '中山一路', type: 'public', heightM: null, floors: 28, category: null, use: 'market' });
    expect(est.status).toBe(201);
    expect(est.body.height).toEqual({ basis: 'estimated', usedM: 100.8, over100m: false });
    expect(est.body.checks.map((c: { code: string }) => c.code)).toEqual(['height_estimate_over_100m']);
    expect(est.body.checks[0].zh).toContain('未实测');
    const p = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 }, est.body.id);
    expect((await rulesOf(p.deviceId)).pressure_low!.limits[0]).toMatchObject({ state: 'standby', value: 0.1 });

    // measured: 103 m from the fire-engine access level at +238.5 m; now over 100 m, 0.15 MPa
    const m = await svc.api.patch(`/api/v1/buildings/${est.body.id}`, { heightM: 103, accessLevelM: 238.5, reason: '实测高度（自民族路侧消防车登高操作场地起算）' });
    expect(m.status).toBe(200);
    expect(m.body).toMatchObject({ heightM: 103, accessLevelM: 238.5, height: { basis: 'measured', usedM: 103, over100m: true }, checks: [] });
    expect((await rulesOf(p.deviceId)).pressure_low!.limits[0]).toMatchObject({ state: 'standby', value: 0.15 });
    const again = (await svc.api.get(`/api/v1/buildings/${est.body.id}`)).body;
    expect(again.accessLevelM).toBe(238.5);

    const noLevel = await svc.api.post('/api/v1/buildings', { name: '测高无基准', street: '七星岗', address: '中山一路', type: 'residential', heightM: 60, use: 'residence' });
    expect(noLevel.body.checks.map((c: { code: string }) => c.code)).toEqual(['access_level_missing']);
  });
});
