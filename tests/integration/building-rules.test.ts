/**
 * Building rules (issue #15 item 2) through the wire: real MQTT devices in real buildings, the
 * real service. Fire evidence and water flowing in one building within the window raise one
 * probable_fire (critical, no device, in the building's incident); either alone does not, nor the
 * two in different buildings or too far apart; a pump's own flow signal is water evidence; a
 * blocked fire lane during fire evidence raises lane_blocked_in_fire; a building's override,
 * changed with a reason by the duty room, switches a rule off. Time moves only by the ManualClock.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { LiveClient } from '../support/live.js';
import { ADMIN_TOKEN, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

let svc: TestService;
let clock: ManualClock;
let live: LiveClient;
const clients: MqttClient[] = [];

beforeAll(async () => {
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
  live = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
});
afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await live?.close();
  await svc?.stop();
});

let buildings = 0;
async function building(name: string): Promise<string> {
  const id = `br-${++buildings}`;
  const r = await svc.api.post('/api/v1/buildings', { id, name, street: '解放碑', address: '民权路', type: 'public', heightM: 60, floors: 15, category: 1, use: 'complex' });
  expect(r.status).toBe(201);
  return id;
}

async function device(buildingId: string, spec: Record<string, unknown>, rules?: Record<string, unknown>) {
  const p = await provisionDevice(svc.api, { reportIntervalS: 3600, ...spec }, buildingId);
  if (rules) expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules, reason: 'building rules test' })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return {
    deviceId: p.deviceId,
    send: (m: unknown) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m),
    event: (m: unknown) => publish(client, `fire/v1/${p.deviceId}/event`, m),
  };
}

const alertsIn = async (buildingId: string, rule?: string) =>
  (await svc.api.get(`/api/v1/alerts?buildingId=${buildingId}${rule ? `&rule=${rule}` : ''}`)).body.items as any[];
const ruleOf = (rule: string) => async (buildingId: string) => (await alertsIn(buildingId, rule))[0];
const probableFire = ruleOf('probable_fire');
const laneInFire = ruleOf('lane_blocked_in_fire');

/** a detector's own alarm (fire evidence) */
async function detectorAlarm(buildingId: string) {
  const d = await device(buildingId, { kind: 'electrical_fire', location: '3F 配电间' });
  await d.event({ alarm: true, code: 'E21' });
  await waitFor(async () => (await alertsIn(buildingId, 'device_alarm')).length > 0, 'device_alarm');
  return d;
}

/** a hydrant's pressure falling 0.15 MPa within seconds (water flowing) */
async function pressureDrop(buildingId: string) {
  const d = await device(buildingId, { kind: 'water_pressure', point: 'hydrant_top', location: '20F 试验消火栓' });
  const now = clock.now();
  await d.send([{ ts: now - 5000, seq: 1, pressureMpa: 0.45 }, { ts: now, seq: 2, pressureMpa: 0.3 }]);
  await waitFor(async () => (await alertsIn(buildingId, 'pressure_drop')).length > 0, 'pressure_drop');
  return d;
}

describe('probable_fire: fire evidence and water flowing in one building', () => {
  it('a detector alarm and a pressure drop in one building raise one probable_fire, critical, with both as evidence, in the building\'s incident', async () => {
    const b = await building('重庆时代广场');
    const detector = await detectorAlarm(b);
    expect(await probableFire(b)).toBeUndefined(); // fire evidence alone is not enough
    clock.advance(120_000);
    await pressureDrop(b);
    const pf = await waitFor(() => probableFire(b), 'probable_fire');
    const [alarm] = await alertsIn(b, 'device_alarm');
    const [drop] = await alertsIn(b, 'pressure_drop');
    expect(pf).toMatchObject({ class: 'hazard', severity: 'critical', status: 'open', deviceId: null, buildingId: b, buildingName: '重庆时代广场', street: '解放碑' });
    expect(pf.evidenceIds).toEqual([alarm.id, drop.id]);
    expect(pf.message.zh).toContain('疑似真实火灾');
    expect(pf.message.zh).toContain('3F 配电间');
    expect(pf.message.zh).toContain('20F 试验消火栓');
    expect(pf.incidentId).toBe(alarm.incidentId);
    expect((await svc.api.get(`/api/v1/incidents/${pf.incidentId}`)).body.alertIds).toContain(pf.id);
    await live.next('alert.raised', (e) => e.data.alert.id === pf.id);

    // more evidence does not raise a second one
    await detectorAlarm(b);
    clock.advance(1000);
    expect(await alertsIn(b, 'probable_fire')).toHaveLength(1);

    // the detector recovers, but the second detector is still in alarm: it still holds
    await detector.event({ alarm: false });
    await waitFor(async () => (await alertsIn(b, 'device_alarm')).some((a) => a.cleared), 'the first detector cleared');
    expect((await probableFire(b)).cleared).toBe(false);
  });

  it('either alone does not: only fire evidence in one building, only a pressure drop in another', async () => {
    const fireOnly = await building('解放碑商场');
    const waterOnly = await building('朝天门市场');
    await detectorAlarm(fireOnly);
    await pressureDrop(waterOnly);
    clock.advance(1000);
    expect(await alertsIn(fireOnly, 'probable_fire')).toEqual([]);
    expect(await alertsIn(waterOnly, 'probable_fire')).toEqual([]);
  });

  it('too far apart: a pressure drop 11 minutes after the fire evidence began is outside the 10-minute window', async () => {
    const b = await building('大坪商厦');
    await detectorAlarm(b);
    clock.advance(11 * 60_000);
    await pressureDrop(b);
    expect(await alertsIn(b, 'probable_fire')).toEqual([]);
  });

  it("a pump's own flow signal is water evidence; the alert clears when the evidence is gone", async () => {
    const b = await building('化龙桥大厦');
    const pump = await device(b, { kind: 'water_pressure', point: 'pump_outlet', location: 'B1 消防泵房' });
    await pump.send({ pressureMpa: 0.6, flowing: true });
    clock.advance(30_000);
    const detector = await detectorAlarm(b);
    const pf = await waitFor(() => probableFire(b), 'probable_fire from a pump signal');
    // the evidence in the rule's order: fire, then water
    expect(pf.evidenceIds).toEqual([(await alertsIn(b, 'device_alarm'))[0].id, `flow:${pump.deviceId}`]);
    expect(pf.message.zh).toContain('B1 消防泵房');
    await detector.event({ alarm: false });
    const cleared = await waitFor(async () => ((await probableFire(b))?.cleared ? probableFire(b) : undefined), 'probable_fire cleared');
    expect(cleared.status).toBe('open'); // a hazard stays until a person closes it
  });
});

describe('lane_blocked_in_fire: the next building rule is a few lines', () => {
  it('a fire lane blocked while fire evidence is active raises a critical lane_blocked_in_fire', async () => {
    const b = await building('洪崖洞');
    const lane = await device(b, { kind: 'fire_lane', location: '北侧消防车道' }, { lane_blocked: { forS: 60 } });
    await lane.send({ occupied: true });
    clock.advance(61_000); // occupied for longer than the dwell
    await waitFor(async () => (await alertsIn(b, 'lane_blocked')).length > 0, 'lane_blocked');
    expect(await laneInFire(b)).toBeUndefined(); // a blocked lane alone is the lane rule's
    await detectorAlarm(b);
    const a = await waitFor(() => laneInFire(b), 'lane_blocked_in_fire');
    expect(a).toMatchObject({ severity: 'critical', class: 'hazard', deviceId: null });
    expect(a.message.zh).toContain('北侧消防车道');
  });
});

describe("a building's overrides", () => {
  it('switching probable_fire off is an alerting change: a reason and an approver, audited; then the same evidence raises none', async () => {
    const b = await building('来福士');
    const off = { buildingRules: { probable_fire: { enabled: false } } };
    const noReason = await svc.api.patch(`/api/v1/buildings/${b}`, off);
    expect(noReason.status).toBe(400);
    const r = await svc.api.patch(`/api/v1/buildings/${b}`, { ...off, reason: '改造期间消防泵频繁试运行，经辖区消防站同意暂停' });
    expect(r.status).toBe(200);
    expect(r.body.buildingRules).toEqual({ probable_fire: { enabled: false } });
    const audit = (await svc.api.get(`/api/v1/audit?buildingId=${b}`)).body.items as any[];
    expect(audit[0].changes).toEqual(expect.arrayContaining([{ what: 'building_rule.probable_fire.enabled', before: true, after: false }]));
    await detectorAlarm(b);
    await pressureDrop(b);
    clock.advance(1000);
    await detectorAlarm(b); // judged again after both
    expect(await alertsIn(b, 'probable_fire')).toEqual([]);
    // the other building rule still runs; the rules as they apply here, with their sources
    expect((await svc.api.get(`/api/v1/buildings/${b}`)).body.buildingRules.lane_blocked_in_fire).toBeUndefined();
    const rules = (await svc.api.get(`/api/v1/buildings/${b}/rules`)).body;
    expect(rules.overrides).toEqual({ probable_fire: { enabled: false } });
    expect(rules.rules.map((r: any) => [r.id, r.enabled, r.overridden, r.windowS])).toEqual([
      ['probable_fire', false, true, 600],
      ['lane_blocked_in_fire', true, false, null],
    ]);
    expect(rules.rules[0].needs).toEqual([
      { kind: 'fire', selectors: ['device_alarm/uitd', 'device_alarm/electrical_fire', 'temperature_high'] },
      { kind: 'water', selectors: ['pressure_drop/water_pressure', 'flow_signal'] },
    ]);
    expect(rules.rules[0].source).toContain('design choice');
  });

  it('a narrower window is refused out of range and otherwise applies', async () => {
    const b = await building('国泰广场');
    expect((await svc.api.patch(`/api/v1/buildings/${b}`, { buildingRules: { probable_fire: { windowS: 5 } }, reason: 'x' })).status).toBe(400);
    expect((await svc.api.patch(`/api/v1/buildings/${b}`, { buildingRules: { probable_fire: { windowS: 120 } }, reason: '楼宇较小，10 分钟窗口过宽' })).status).toBe(200);
    await detectorAlarm(b);
    clock.advance(3 * 60_000);
    await pressureDrop(b);
    expect(await alertsIn(b, 'probable_fire')).toEqual([]);
  });
});
