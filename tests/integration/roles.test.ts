/**
 * Role scoping against the full service: people log in, every route and the live feed apply the
 * role and its scope, and the audit trail names the logged-in user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { LiveClient } from '../support/live.js';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, provisionDevice, publish, startService, type Provisioned, type TestService } from '../support/service.js';

let svc: TestService;
let clock: ManualClock;
let jfb: Provisioned; // a device in 解放碑
let qxg: Provisioned; // a device in 七星岗
let duty: ApiClient;
let dutyToken: string;
let operator: ApiClient;
let operatorToken: string;
let platform: ApiClient;
let alertJfb: any;
let alertQxg: any;

async function login(username: string, password: string): Promise<string> {
  const r = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username, password });
  expect(r.status).toBe(200);
  return r.body.token;
}

async function raise(p: Provisioned): Promise<any> {
  await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules: { residual_current_high: { forS: 0 } } });
  const c = await connectDevice(svc.mqttUrl, p);
  await publish(c, `fire/v1/${p.deviceId}/telemetry`, { residualCurrentMa: 600 });
  await endClient(c);
  return (await svc.api.get(`/api/v1/alerts?deviceId=${p.deviceId}`)).body.items[0];
}

beforeAll(async () => {
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
  jfb = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 }, { id: 'b-jfb', name: '环球金融中心', street: '解放碑', type: 'public', use: 'complex' });
  qxg = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 }, { id: 'b-qxg', name: '七星岗某住宅', street: '七星岗', type: 'residential', use: 'residence' });
  expect((await svc.api.post('/api/v1/users', { username: 'li.duty', displayName: '李值班', password: 'duty-password-1', role: 'duty', streets: ['解放碑'] })).status).toBe(201);
  expect((await svc.api.post('/api/v1/users', { username: 'wang.ops', displayName: '王物业', password: 'operator-pass-1', role: 'operator', buildingIds: ['b-jfb'] })).status).toBe(201);
  const tok = await svc.api.post('/api/v1/tokens', { name: 'city-platform', role: 'platform' });
  expect(tok.status).toBe(201);
  dutyToken = await login('li.duty', 'duty-password-1');
  operatorToken = await login('wang.ops', 'operator-pass-1');
  duty = new ApiClient(svc.fw.httpUrl, dutyToken);
  operator = new ApiClient(svc.fw.httpUrl, operatorToken);
  platform = new ApiClient(svc.fw.httpUrl, tok.body.token);
  alertJfb = await raise(jfb);
  alertQxg = await raise(qxg);
});
afterAll(async () => {
  await svc?.stop();
});

describe('duty (limited to 解放碑)', () => {
  it('sees only its streets', async () => {
    const ids = (await duty.get('/api/v1/alerts')).body.items.map((a: any) => a.id);
    expect(ids).toContain(alertJfb.id);
    expect(ids).not.toContain(alertQxg.id);
    expect((await duty.get(`/api/v1/alerts/${alertQxg.id}`)).status).toBe(404);
    expect((await duty.get('/api/v1/buildings')).body.items.map((b: any) => b.id)).toEqual(['b-jfb']);
    expect((await duty.get(`/api/v1/devices/${qxg.deviceId}`)).status).toBe(404);
  });

  it('acknowledges and closes in its streets, recorded as the logged-in user; not elsewhere', async () => {
    const ack = await duty.post(`/api/v1/alerts/${alertJfb.id}/ack`, { note: '已通知微型消防站' });
    expect(ack.status).toBe(200);
    expect(ack.body.acknowledgedBy).toBe('li.duty');
    expect(ack.body.history.at(-1)).toMatchObject({ action: 'acknowledged', by: 'li.duty', detail: '已通知微型消防站' });
    expect((await duty.post(`/api/v1/alerts/${alertQxg.id}/ack`, {})).status).toBe(404);
  });

  it('cannot change the registry or manage users', async () => {
    expect((await duty.post('/api/v1/buildings', { name: 'x', street: '解放碑', type: 'public' })).status).toBe(403);
    expect((await duty.patch(`/api/v1/devices/${jfb.deviceId}`, { location: 'x' })).status).toBe(403);
    expect((await duty.get('/api/v1/users')).status).toBe(403);
  });
});

describe('operator (own building b-jfb)', () => {
  it('sees and manages only its own building', async () => {
    expect((await operator.get('/api/v1/buildings')).body.items.map((b: any) => b.id)).toEqual(['b-jfb']);
    expect((await operator.get('/api/v1/buildings/b-qxg')).status).toBe(404);
    expect((await operator.get('/api/v1/devices')).body.items.map((d: any) => d.id)).toEqual([jfb.deviceId]);
    const created = await operator.post('/api/v1/devices', { buildingId: 'b-jfb', kind: 'fire_lane', id: 'ops-lane-1' });
    expect(created.status).toBe(201);
    expect((await operator.post('/api/v1/devices', { buildingId: 'b-qxg', kind: 'fire_lane' })).status).toBe(404);
    expect((await operator.post(`/api/v1/devices/${qxg.deviceId}/credentials`)).status).toBe(404);
    expect((await operator.patch('/api/v1/buildings/b-jfb', { contactPhone: '023-1234 5678' })).status).toBe(200);
    expect((await operator.delete('/api/v1/buildings/b-jfb')).status).toBe(403);
  });

  it('sets maintenance on its devices but does not handle alerts', async () => {
    const until = new Date(clock.now() + 3_600_000).toISOString();
    expect((await operator.request('PUT', `/api/v1/devices/${jfb.deviceId}/maintenance`, { until, reason: '年度检测' })).status).toBe(200);
    expect((await operator.request('PUT', `/api/v1/devices/${qxg.deviceId}/maintenance`, { until, reason: 'x' })).status).toBe(404);
    expect((await operator.post(`/api/v1/alerts/${alertJfb.id}/close`, { outcome: 'test', note: 'x' })).status).toBe(403);
    expect((await operator.get('/api/v1/alerts')).body.items.every((a: any) => a.buildingId === 'b-jfb' || a.buildingId === null)).toBe(true);
  });
});

describe('platform (read-only integration token)', () => {
  it('reads everything, changes nothing', async () => {
    const ids = (await platform.get('/api/v1/alerts')).body.items.map((a: any) => a.id);
    expect(ids).toEqual(expect.arrayContaining([alertJfb.id, alertQxg.id]));
    expect((await platform.post(`/api/v1/alerts/${alertQxg.id}/ack`, {})).status).toBe(403);
    expect((await platform.post('/api/v1/buildings', { name: 'x', street: '解放碑', type: 'public' })).status).toBe(403);
    expect((await platform.patch(`/api/v1/devices/${qxg.deviceId}`, { location: 'x' })).status).toBe(403);
  });
});

describe('the live feed applies the same scope', () => {
  it('a duty officer of 解放碑 receives only 解放碑 events; an operator only its building', async () => {
    const dutyFeed = await LiveClient.connect(svc.fw.httpUrl, dutyToken);
    const opsFeed = await LiveClient.connect(svc.fw.httpUrl, operatorToken);
    const adminFeed = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
    expect(dutyFeed.hello).toMatchObject({ role: 'duty', user: 'li.duty' });
    await svc.api.post(`/api/v1/alerts/${alertQxg.id}/close`, { outcome: 'false_alarm', note: '误报' });
    await svc.api.post(`/api/v1/alerts/${alertJfb.id}/close`, { outcome: 'test', note: '测试' });
    await adminFeed.next('alert.closed', (e) => e.data.alert.id === alertJfb.id);
    await dutyFeed.next('alert.closed', (e) => e.data.alert.id === alertJfb.id);
    await opsFeed.next('alert.closed', (e) => e.data.alert.id === alertJfb.id);
    expect(dutyFeed.events.every((e) => e.street === '解放碑' || e.buildingId === null)).toBe(true);
    expect(opsFeed.events.every((e) => e.buildingId === 'b-jfb' || e.buildingId === null)).toBe(true);
    expect(adminFeed.events.some((e) => e.data.alert?.id === alertQxg.id)).toBe(true);
    await Promise.all([dutyFeed.close(), opsFeed.close(), adminFeed.close()]);
  });

  it('after logout the session token no longer works, for the API and the feed', async () => {
    const t = await login('li.duty', 'duty-password-1');
    const c = new ApiClient(svc.fw.httpUrl, t);
    expect((await c.get('/api/v1/auth/me')).body.username).toBe('li.duty');
    expect((await c.post('/api/v1/auth/logout')).status).toBe(204);
    expect((await c.get('/api/v1/alerts')).status).toBe(401);
    await expect(LiveClient.connect(svc.fw.httpUrl, t)).rejects.toThrow(/4001/);
  });
});
