/**
 * Commissioning (调试, issue #17 item 6) through the wire: a new pressure sensor sends 3.2 then
 * 0.32 while the operator installs it. Its 水压骤降 alert carries `commissioning: true`, is on the
 * device page's list only, is never escalated (the deadlines pass on the ManualClock), never on
 * the duty room's live feed, the default alert list, the safety code or the platform uplink. Put in
 * service (POST …/in-service, audited), its test alerts are filed and the next breach is a normal
 * alert; after COMMISSIONING_MAX_H a device is in service by itself.
 */
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret, hashGeneratedSecret } from '../../services/devices/credentials.js';
import { ManualClock } from '../../services/shared/clock.js';
import { openDatabase } from '../../services/storage/sqlite/database.js';
import { DEVICE_IN_SERVICE_SQL, MIGRATIONS } from '../../services/storage/sqlite/migrations.js';
import { LiveClient } from '../support/live.js';
import { ApiClient, connectDevice, endClient, publish, startService, tempDir, waitFor, type TestService } from '../support/service.js';
import { UplinkReceiver } from '../support/uplink-receiver.js';

const H = 3_600_000;
const DUTY = { username: 'zhao.duty', password: 'duty-password-77', displayName: '赵值班', role: 'duty', streets: ['朝天门'] };
const OPERATOR = { username: 'qian.ops', password: 'operator-password-77', displayName: '钱运营', role: 'operator', buildingIds: ['comm-tower'] };

let svc: TestService;
let clock: ManualClock;
let platform: UplinkReceiver;
let duty: ApiClient;
let operator: ApiClient;
let dutyFeed: LiveClient;
let operatorFeed: LiveClient;
const clients: MqttClient[] = [];

async function login(user: { username: string; password: string }): Promise<{ api: ApiClient; token: string }> {
  const r = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username: user.username, password: user.password });
  expect(r.status).toBe(200);
  return { api: new ApiClient(svc.fw.httpUrl, r.body.token), token: r.body.token };
}

beforeAll(async () => {
  platform = new UplinkReceiver();
  await platform.start();
  clock = new ManualClock();
  svc = await startService({ UPLINK_HTTP_URL: platform.url }, undefined, { clock });
  expect(
    (
      await svc.api.post('/api/v1/buildings', {
        id: 'comm-tower', name: '朝天门大厦', street: '朝天门', address: '朝天门广场 1 号', type: 'public', heightM: 80, floors: 22, category: 1, use: 'office',
      })
    ).status,
  ).toBe(201);
  expect((await svc.api.post('/api/v1/users', DUTY)).status).toBe(201);
  expect((await svc.api.post('/api/v1/users', OPERATOR)).status).toBe(201);
  const d = await login(DUTY);
  const o = await login(OPERATOR);
  duty = d.api;
  operator = o.api;
  dutyFeed = await LiveClient.connect(svc.fw.httpUrl, d.token);
  operatorFeed = await LiveClient.connect(svc.fw.httpUrl, o.token);
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await dutyFeed?.close();
  await operatorFeed?.close();
  await svc?.stop();
  await platform?.close();
});

/** The operator registers a pressure sensor as an installer does: no `inService`, so it is commissioning. */
async function install(id: string, extra: Record<string, unknown> = {}) {
  const r = await operator.post('/api/v1/devices', { id, buildingId: 'comm-tower', kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600, location: '22F 屋顶消火栓', ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const client = await connectDevice(svc.mqttUrl, { deviceId: id, password: r.body.credentials.password });
  clients.push(client);
  return { device: r.body, client, send: (m: unknown) => publish(client, `fire/v1/${id}/telemetry`, m) };
}

const listed = async (api: ApiClient, q: string) => (await api.get(`/api/v1/alerts?${q}`)).body.items as any[];
const uplinkAlertItems = (alertId: string) => platform.items().filter((i) => i.type.startsWith('alert.') && i.data.alert.id === alertId);

describe('a sensor being commissioned', () => {
  let first: Awaited<ReturnType<typeof install>>;
  let testAlert: any;

  it('starts in commissioning: inService false, commissioningUntil 72 h after registration', async () => {
    first = await install('comm-top-1');
    expect(first.device).toMatchObject({ inService: false, inServiceAt: null });
    expect(Date.parse(first.device.commissioningUntil) - Date.parse(first.device.createdAt)).toBe(72 * H);
    const got = (await svc.api.get('/api/v1/devices/comm-top-1')).body;
    expect(got).toMatchObject({ inService: false, inServiceAt: null, commissioningUntil: first.device.commissioningUntil });
  });

  it('3.2 then 0.32: the 水压骤降 alert carries commissioning: true, has no deadlines and is on the device page only', async () => {
    // a 0–4 MPa transmitter (admin sets the span: a wider span loosens sensor_fault), so 3.2 is a reading
    expect((await svc.api.patch('/api/v1/devices/comm-top-1', { rules: { sensor_fault: { spanMax: 4 } }, reason: '0–4 MPa 变送器' })).status).toBe(200);
    await first.send({ pressureMpa: 3.2 });
    await first.send({ pressureMpa: 0.32 });
    const [a] = await waitFor(async () => {
      const items = await listed(operator, 'deviceId=comm-top-1&commissioning=include');
      return items.length > 0 ? items : undefined;
    }, 'the commissioning alert');
    testAlert = a;
    expect(a).toMatchObject({ rule: 'pressure_drop', class: 'hazard', commissioning: true, status: 'open', ackDeadline: null, closeDeadline: null, escalationLevel: 0 });
    expect(a.history.map((h: any) => h.action)).toEqual(['raised', 'commissioning']);
    // not in the default lists: the board's (status=active), the device's, the building's
    expect(await listed(svc.api, 'deviceId=comm-top-1')).toEqual([]);
    expect((await listed(duty, 'status=active&limit=1000')).map((x) => x.id)).not.toContain(a.id);
    expect((await listed(svc.api, 'buildingId=comm-tower')).map((x) => x.id)).not.toContain(a.id);
    expect((await listed(svc.api, 'deviceId=comm-top-1&commissioning=only')).map((x) => x.id)).toEqual([a.id]);
    // one alert by id is readable (the device page links it)
    expect((await operator.get(`/api/v1/alerts/${a.id}`)).body.commissioning).toBe(true);
  });

  it('the live feed: the operator is sent it, the duty room is not', async () => {
    await operatorFeed.next('alert.raised', (e) => e.data.alert.id === testAlert.id);
    expect((await operatorFeed.next('alert.raised', (e) => e.data.alert.id === testAlert.id)).data.alert.commissioning).toBe(true);
    // something both are sent after it: the sensor's own disconnect
    await endClient(first.client);
    await dutyFeed.next('device.offline', (e) => e.data.deviceId === 'comm-top-1');
    expect(dutyFeed.events.filter((e) => e.type.startsWith('alert.') && e.data.alert.deviceId === 'comm-top-1')).toEqual([]);
  });

  it('is never escalated, even after both deadlines (60 s, 180 s) passed, and maintenance changes nothing', async () => {
    expect((await operator.request('PUT', '/api/v1/devices/comm-top-1/maintenance', { until: new Date(clock.now() + 2 * H).toISOString(), reason: '安装调试' })).status).toBe(200);
    clock.advance(200_000);
    const a = (await svc.api.get(`/api/v1/alerts/${testAlert.id}`)).body;
    expect(a.escalationLevel).toBe(0);
    expect(a.history.map((h: any) => h.action)).not.toContain('escalated');
    expect(operatorFeed.events.filter((e) => e.type === 'alert.escalated')).toEqual([]);
    expect((await svc.api.request('DELETE', '/api/v1/devices/comm-top-1/maintenance')).status).toBe(204);
  });

  it('is not in the safety code: the building is not red, the device is noted as being commissioned', async () => {
    const code = (await svc.api.get('/api/v1/buildings/comm-tower/safety-code')).body;
    expect(code.status).not.toBe('red');
    expect(code.counts.hazards).toBe(0);
    expect(code.reasons.map((r: any) => r.code)).not.toContain('hazard.pressure_drop');
    expect(code.reasons).toContainEqual(expect.objectContaining({ code: 'devices_commissioning', level: 'info', zh: '1 台监测设备安装调试中，尚未投入使用' }));
    const pub = (await new ApiClient(svc.fw.httpUrl, undefined).get(`/api/public/safety-code/${code.publicId}`)).body;
    expect(pub.status).toBe(code.status);
    expect(JSON.stringify(pub)).not.toContain('水压骤降');
  });

  it('is never sent to the platform uplink (checked after a later alert of the same device did arrive)', async () => {
    expect(svc.fw.uplink!.pending('http').filter((i) => i.type.startsWith('alert.') && (i.data as any).alert.id === testAlert.id)).toEqual([]);
    expect(uplinkAlertItems(testAlert.id)).toEqual([]);
  });

  it('only the building operator or an admin puts it in service (audited); the next breach is a normal alert, escalated, on the feed, the code and the uplink', async () => {
    expect((await duty.post('/api/v1/devices/comm-top-1/in-service', {})).status).toBe(403);
    const r = await operator.post('/api/v1/devices/comm-top-1/in-service', { note: '安装验收完成' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ inService: true, inServiceAt: new Date(clock.now()).toISOString(), commissioningUntil: null });
    // idempotent: a second call changes nothing and records nothing
    expect((await operator.post('/api/v1/devices/comm-top-1/in-service', {})).body.inServiceAt).toBe(r.body.inServiceAt);
    const audit = (await svc.api.get('/api/v1/audit?deviceId=comm-top-1')).body.items.filter((e: any) => e.action === 'device.in_service');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ by: 'qian.ops', role: 'operator', buildingId: 'comm-tower', reason: '安装验收完成' });
    // the installation's test alert is filed as a test, nothing of it is left open
    expect(await listed(svc.api, 'deviceId=comm-top-1&status=active&commissioning=include')).toEqual([]);
    expect((await svc.api.get(`/api/v1/alerts/${testAlert.id}`)).body).toMatchObject({ status: 'closed', outcome: 'test', commissioning: true });

    // nothing of the installer's test reaches the duty room at the moment of going in service either
    expect(await listed(duty, 'deviceId=comm-top-1')).toEqual([]);
    const c = await connectDevice(svc.mqttUrl, { deviceId: 'comm-top-1', password: first.device.credentials.password });
    clients.push(c);
    await publish(c, 'fire/v1/comm-top-1/telemetry', { pressureMpa: 0.9 });
    await publish(c, 'fire/v1/comm-top-1/telemetry', { pressureMpa: 0.32 });
    const [real] = await waitFor(async () => {
      const items = await listed(duty, 'deviceId=comm-top-1&status=active');
      return items.length > 0 ? items : undefined;
    }, 'the normal alert');
    expect(real).toMatchObject({ rule: 'pressure_drop', commissioning: false, status: 'open' });
    expect(real.ackDeadline).not.toBeNull();
    await dutyFeed.next('alert.raised', (e) => e.data.alert.id === real.id);
    clock.advance(61_000);
    await dutyFeed.next('alert.escalated', (e) => e.data.alert.id === real.id && e.data.alert.escalationLevel === 1);
    const code = (await svc.api.get('/api/v1/buildings/comm-tower/safety-code')).body;
    expect(code.reasons.map((x: any) => x.code)).toContain('hazard.pressure_drop');
    expect(code.status).toBe('red'); // a major hazard nobody acknowledged in time
    await waitFor(() => uplinkAlertItems(real.id).some((i) => i.type === 'alert.escalated'), 'the normal alert at the platform');
    expect(uplinkAlertItems(real.id).map((i) => i.type)).toEqual(['alert.raised', 'alert.escalated']);
    // the commissioning alert never reached it, also now that the device's later alerts did
    expect(uplinkAlertItems(testAlert.id)).toEqual([]);
    await endClient(c);
  });
});

describe('a condition that lasts when the device goes in service', () => {
  it('is never escalated while commissioning; in service, the commissioning alert is filed and the next reading raises a normal alert', async () => {
    const d = await install('comm-top-2');
    // tightening is the operator's: no waiting on the 60 s default
    expect((await operator.patch('/api/v1/devices/comm-top-2', { rules: { pressure_low: { forS: 0 } } })).status).toBe(200);
    await d.send({ pressureMpa: 0.05 });
    const [low] = await waitFor(async () => {
      const items = await listed(operator, 'deviceId=comm-top-2&commissioning=include');
      return items.length > 0 ? items : undefined;
    }, 'commissioning pressure_low');
    expect(low).toMatchObject({ rule: 'pressure_low', commissioning: true, value: 0.05 });
    expect(await listed(duty, 'deviceId=comm-top-2')).toEqual([]);
    // the pressure stays low through both deadlines: nothing escalates (issue: "escalated to level 2")
    clock.advance(60_000);
    await d.send({ pressureMpa: 0.05 });
    clock.advance(130_000);
    await d.send({ pressureMpa: 0.05 });
    const still = (await svc.api.get(`/api/v1/alerts/${low.id}`)).body;
    expect(still).toMatchObject({ status: 'open', cleared: false, escalationLevel: 0, count: 3 });
    expect(still.history.map((h: any) => h.action)).not.toContain('escalated');

    expect((await operator.post('/api/v1/devices/comm-top-2/in-service')).status).toBe(200);
    expect((await svc.api.get(`/api/v1/alerts/${low.id}`)).body).toMatchObject({ status: 'closed', outcome: 'test', closedBy: 'qian.ops' });
    // the pressure is still low: the next reading is judged afresh and raises a normal alert
    await d.send({ pressureMpa: 0.05 });
    const [real] = await waitFor(async () => {
      const items = await listed(duty, 'deviceId=comm-top-2&status=active');
      return items.length > 0 ? items : undefined;
    }, 'normal pressure_low');
    expect(real).toMatchObject({ rule: 'pressure_low', commissioning: false, value: 0.05, status: 'open' });
    expect(real.ackDeadline).not.toBeNull();
    await dutyFeed.next('alert.raised', (e) => e.data.alert.id === real.id);
    clock.advance(181_000);
    expect((await svc.api.get(`/api/v1/alerts/${real.id}`)).body.escalationLevel).toBe(2);
    await endClient(d.client);
  });
});

describe('registered in service (fleet provisioning)', () => {
  it('"inService": true at registration: its first breach is a normal alert', async () => {
    const r = await svc.api.post('/api/v1/devices', { id: 'comm-fleet-1', buildingId: 'comm-tower', kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600, inService: true });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ inService: true, inServiceAt: r.body.createdAt, commissioningUntil: null });
    const c = await connectDevice(svc.mqttUrl, { deviceId: 'comm-fleet-1', password: r.body.credentials.password });
    clients.push(c);
    await publish(c, 'fire/v1/comm-fleet-1/telemetry', { pressureMpa: 0.9 });
    await publish(c, 'fire/v1/comm-fleet-1/telemetry', { pressureMpa: 0.3 });
    const [a] = await waitFor(async () => {
      const items = await listed(duty, 'deviceId=comm-fleet-1');
      return items.length > 0 ? items : undefined;
    }, 'fleet alert');
    expect(a).toMatchObject({ rule: 'pressure_drop', commissioning: false });
    await endClient(c);
  });
});

describe('the commissioning check\'s facts in the device status', () => {
  it('a one-shot publish (connect, publish, disconnect) is reachable; the first message\'s time is kept; an old rejection is history', async () => {
    const r = await operator.post('/api/v1/devices', { id: 'comm-top-4', buildingId: 'comm-tower', kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 60 });
    const creds = { deviceId: 'comm-top-4', password: r.body.credentials.password };
    const oneShot = async (m: unknown) => {
      const c = await connectDevice(svc.mqttUrl, creds);
      await publish(c, 'fire/v1/comm-top-4/telemetry', m);
      await endClient(c);
    };
    const status = async () => (await operator.get('/api/v1/devices/comm-top-4')).body.status;
    expect(await status()).toMatchObject({ reachable: false, lastContactAt: null, firstAcceptedAt: null });
    await oneShot({ pressureMpa: 'bar' });
    const rejected = await waitFor(async () => ((await status()).lastRejected ? status() : undefined), 'rejection');
    expect(rejected.lastRejected).toMatchObject({ reason: 'schema', detail: 'pressureMpa: Invalid input: expected number, received string', detailZh: '字段 pressureMpa 应为数值，收到的是字符串' });
    expect(rejected.lastRejected.supersededAt).toBeUndefined();
    const firstAt = clock.now();
    await oneShot({ pressureMpa: 0.32 });
    let s = await waitFor(async () => ((await status()).firstAcceptedAt ? status() : undefined), 'first accepted');
    expect(s.firstAcceptedAt).toBe(new Date(firstAt).toISOString());
    expect(s.lastRejected.supersededAt).toBe(new Date(firstAt).toISOString());
    await waitFor(async () => (await status()).online === false, 'disconnected');
    s = await status();
    expect(s).toMatchObject({ online: false, reachable: true, lastContactAt: new Date(firstAt).toISOString() });
    clock.advance(120_000);
    await oneShot({ pressureMpa: 0.33 });
    await waitFor(async () => (await status()).accepted === 2, 'second');
    s = await status();
    expect(s.firstAcceptedAt).toBe(new Date(firstAt).toISOString()); // the first, not the latest
    expect(s.lastSeenAt).toBe(new Date(firstAt + 120_000).toISOString());
    // silent for longer than 3 × 60 s (and 5 min): no longer reachable
    clock.advance(301_000);
    expect((await status()).reachable).toBe(false);
  });
});

describe('COMMISSIONING_MAX_H', () => {
  it('after 72 h a device nobody put in service is in service by itself (persisted); its test alert is filed and its next breach is the duty room\'s', async () => {
    // a session lasts 12 h (SESSION_TTL_H): after 72 h the admin token asks
    const d = await install('comm-top-3');
    expect((await operator.patch('/api/v1/devices/comm-top-3', { rules: { pressure_low: { forS: 0 } } })).status).toBe(200);
    await d.send({ pressureMpa: 0.05 });
    const [low] = await waitFor(async () => {
      const items = await listed(operator, 'deviceId=comm-top-3&commissioning=include');
      return items.length > 0 ? items : undefined;
    }, 'commissioning pressure_low');
    expect(low.commissioning).toBe(true);
    await endClient(d.client);
    clock.advance(72 * H - 60_000);
    expect((await svc.api.get('/api/v1/devices/comm-top-3')).body.inService).toBe(false);
    expect(await listed(svc.api, 'deviceId=comm-top-3')).toEqual([]);
    clock.advance(2 * 60_000);
    const got = (await svc.api.get('/api/v1/devices/comm-top-3')).body;
    expect(got).toMatchObject({ inService: true, inServiceAt: new Date(Date.parse(got.createdAt) + 72 * H).toISOString(), commissioningUntil: null });
    // written down: the registry's stored record has the time, not only the computed answer
    expect(svc.fw.registry.getDevice('comm-top-3').inServiceAt).toBe(got.inServiceAt);
    expect((await svc.api.get(`/api/v1/alerts/${low.id}`)).body).toMatchObject({ status: 'closed', outcome: 'test', closedBy: 'system' });
    expect(await listed(svc.api, 'deviceId=comm-top-3&status=active&commissioning=only')).toEqual([]);
    // silent for 72 h (3 × 3600 s): from now on that is the duty room's fault to see, at the rules'
    // next tick after the device went in service (its commissioning alerts were filed with it)
    await waitFor(async () => {
      clock.advance(1000);
      return (await listed(svc.api, 'deviceId=comm-top-3&status=active')).some((a) => a.rule === 'device_offline' && !a.commissioning);
    }, 'device_offline');
    const c = await connectDevice(svc.mqttUrl, { deviceId: 'comm-top-3', password: d.device.credentials.password });
    clients.push(c);
    await publish(c, 'fire/v1/comm-top-3/telemetry', { pressureMpa: 0.05 });
    const low2 = await waitFor(async () => (await listed(svc.api, 'deviceId=comm-top-3&status=active')).find((a) => a.rule === 'pressure_low'), 'normal pressure_low');
    expect(low2).toMatchObject({ commissioning: false, value: 0.05 });
    await endClient(c);
  });
});

describe('devices registered before the migration', () => {
  it('are in service (they were monitored): the migration sets their time, and their alerts reach the duty room', async () => {
    const dataDir = tempDir();
    const oldClock = new ManualClock();
    // the database as the code before issue #17 item 6 left it, with a device registered an hour ago
    const db = openDatabase(join(dataDir, 'firewatch.db'), { migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(DEVICE_IN_SERVICE_SQL)) });
    const at = new Date(oldClock.now() - H).toISOString();
    const secret = generateSecret();
    db.prepare(
      `INSERT INTO buildings (id, name, street, address, type, height_m, floors, area_m2, category, use, contact_name, contact_phone, created_at, updated_at)
       VALUES ('old-tower', '老楼', '朝天门', '', 'public', 80, 22, NULL, 1, 'office', NULL, NULL, ?, ?)`,
    ).run(at, at);
    db.prepare(
      `INSERT INTO devices (id, building_id, kind, point, location, report_interval_s, vendor, model, created_at, updated_at)
       VALUES ('old-top', 'old-tower', 'water_pressure', 'hydrant_top', NULL, 3600, NULL, NULL, ?, ?)`,
    ).run(at, at);
    db.prepare('INSERT INTO device_credentials (device_id, username, hash, rotated_at) VALUES (?, ?, ?, ?)').run('old-top', 'old-top', hashGeneratedSecret(secret), at);
    db.close();

    const old = await startService({}, dataDir, { clock: oldClock });
    try {
      expect((await old.api.get('/api/v1/devices/old-top')).body).toMatchObject({ inService: true, inServiceAt: at, commissioningUntil: null });
      const c = await connectDevice(old.mqttUrl, { deviceId: 'old-top', password: secret });
      await publish(c, 'fire/v1/old-top/telemetry', { pressureMpa: 0.9 });
      await publish(c, 'fire/v1/old-top/telemetry', { pressureMpa: 0.3 });
      const [a] = await waitFor(async () => {
        const items = (await old.api.get('/api/v1/alerts?deviceId=old-top')).body.items as any[];
        return items.length > 0 ? items : undefined;
      }, 'the old device\'s alert');
      expect(a).toMatchObject({ rule: 'pressure_drop', commissioning: false });
      await endClient(c);
    } finally {
      await old.stop();
    }
  });
});
