/**
 * Alerts through the wire: real MQTT devices publish, the real service evaluates rules, the live
 * feed is read by a real WebSocket client. Time moves only by the injected ManualClock.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { LiveClient } from '../support/live.js';
import { ADMIN_TOKEN, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type Provisioned, type TestService } from '../support/service.js';

let svc: TestService;
let clock: ManualClock;
let live: LiveClient;
let buildingId: string;

beforeAll(async () => {
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
  const b = await svc.api.post('/api/v1/buildings', {
    id: 'tower-a', name: '重庆时代广场', street: '解放碑', address: '民权路', type: 'public', heightM: 60, floors: 15, category: 1, use: 'complex',
  });
  buildingId = b.body.id;
  live = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
});
afterAll(async () => {
  await live?.close();
  await svc?.stop();
});

async function device(spec: Record<string, unknown>, rules?: Record<string, unknown>): Promise<Provisioned & { client: MqttClient; send: (m: unknown) => Promise<void> }> {
  // long report intervals keep device_offline out of tests that move the clock, unless a test wants it
  const p = await provisionDevice(svc.api, { reportIntervalS: 3600, ...spec }, buildingId);
  // a reason: some tests switch a rule off, which loosens it (issue #12 item 9)
  if (rules) expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules, reason: 'alerts test setup' })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  return { ...p, client, send: (m) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m) };
}

const alertsOf = async (deviceId: string, q = '') => (await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}${q}`)).body.items as any[];

describe('each rule fires and clears at its boundary', () => {
  it('pressure_low (hydrant_top, category-1 public high-rise: 0.10 MPa): at the threshold is normal, just below raises, above +hysteresis clears', async () => {
    const d = await device({ kind: 'water_pressure', point: 'hydrant_top' }, { pressure_low: { forS: 0, clearS: 0 } });
    const rules = (await svc.api.get(`/api/v1/devices/${d.deviceId}/rules`)).body.rules;
    expect(rules.pressure_low.threshold).toBe(0.1);
    await d.send({ pressureMpa: 0.1 });
    expect(await alertsOf(d.deviceId)).toEqual([]);
    await d.send({ pressureMpa: 0.099 });
    const [a] = await alertsOf(d.deviceId);
    expect(a).toMatchObject({ rule: 'pressure_low', class: 'hazard', status: 'open', cleared: false, value: 0.099, threshold: 0.1, street: '解放碑', buildingId });
    expect(a.message.zh).toContain('0.10 MPa');
    const raised = await live.next('alert.raised', (e) => e.data.alert.id === a.id);
    expect(raised.street).toBe('解放碑');
    await d.send({ pressureMpa: 0.105 }); // above the threshold but inside the hysteresis band: still active
    expect((await alertsOf(d.deviceId))[0].cleared).toBe(false);
    await d.send({ pressureMpa: 0.13 });
    const [cleared] = await alertsOf(d.deviceId);
    expect(cleared).toMatchObject({ cleared: true, status: 'open' }); // a hazard stays until a person closes it
    await live.next('alert.cleared', (e) => e.data.alert.id === a.id);
    await endClient(d.client);
  });

  it('residual_current_high fires at the setpoint (300 mA, "at or above"), not just below', async () => {
    const d = await device({ kind: 'electrical_fire' }, { residual_current_high: { forS: 0, clearS: 0 } });
    await d.send({ residualCurrentMa: 299 });
    expect(await alertsOf(d.deviceId)).toEqual([]);
    await d.send({ residualCurrentMa: 300 });
    expect((await alertsOf(d.deviceId)).map((a) => [a.rule, a.value])).toEqual([['residual_current_high', 300]]);
    await endClient(d.client);
  });

  it('temperature_high fires when any channel reaches 80 °C', async () => {
    const d = await device({ kind: 'electrical_fire' }, { temperature_high: { forS: 0, clearS: 0 } });
    await d.send({ temperaturesC: [40, 79.9, 60] });
    expect(await alertsOf(d.deviceId)).toEqual([]);
    await d.send({ temperaturesC: [40, 80, 60] });
    expect((await alertsOf(d.deviceId)).map((a) => a.rule)).toEqual(['temperature_high']);
    await endClient(d.client);
  });

  it('pressure_high at a hydrant outlet while flowing: 0.50 MPa is allowed, above raises; at rest 0.51 MPa static is compliant', async () => {
    const d = await device({ kind: 'water_pressure', point: 'hydrant_outlet' }, { pressure_high: { forS: 0 }, pressure_low: { enabled: false } });
    await d.send({ pressureMpa: 0.51 });
    await d.send({ pressureMpa: 0.5, flowing: true });
    expect(await alertsOf(d.deviceId)).toEqual([]);
    await d.send({ pressureMpa: 0.51, flowing: true });
    expect((await alertsOf(d.deviceId)).map((a) => a.rule)).toEqual(['pressure_high']);
    await endClient(d.client);
  });

  it('level_low with a configured band', async () => {
    const d = await device({ kind: 'water_level' }, { level_low: { threshold: 2, forS: 0, clearS: 0 }, level_high: { threshold: 5, forS: 0 } });
    await d.send({ levelM: 2 });
    await d.send({ levelM: 3 });
    expect(await alertsOf(d.deviceId)).toEqual([]);
    await d.send({ levelM: 1.99 });
    expect((await alertsOf(d.deviceId)).map((a) => a.rule)).toEqual(['level_low']);
    await d.send({ levelM: 5.01 });
    expect((await alertsOf(d.deviceId)).map((a) => a.rule).sort()).toEqual(['level_high', 'level_low']);
    await endClient(d.client);
  });

  it('device_alarm from the detector\'s own latched flag, and its recovery', async () => {
    const d = await device({ kind: 'electrical_fire' });
    await publish(d.client, `fire/v1/${d.deviceId}/event`, { alarm: true, code: 'residual_current' });
    const [a] = await alertsOf(d.deviceId);
    expect(a).toMatchObject({ rule: 'device_alarm', class: 'hazard' });
    await publish(d.client, `fire/v1/${d.deviceId}/event`, { alarm: false });
    await waitFor(async () => (await alertsOf(d.deviceId))[0].cleared, 'device_alarm cleared');
    await endClient(d.client);
  });

  it('an invalid override is refused with the allowed range', async () => {
    const p = await provisionDevice(svc.api, { kind: 'electrical_fire' }, buildingId);
    const r = await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules: { residual_current_high: { threshold: 5000 } } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid_rule_override');
    expect(r.body.detail).toMatch(/20.*1000/);
  });
});

describe('for/clear durations hold (fake clock)', () => {
  it('pressure_low needs 60 s below the threshold (a pump start is not an alarm)', async () => {
    const d = await device({ kind: 'water_pressure', point: 'hydrant_top' });
    await d.send({ pressureMpa: 0.05 });
    clock.advance(30_000);
    await d.send({ pressureMpa: 0.12 }); // recovered within forS: no alert
    clock.advance(120_000);
    expect(await alertsOf(d.deviceId)).toEqual([]);
    await d.send({ pressureMpa: 0.05 });
    clock.advance(59_000);
    expect(await alertsOf(d.deviceId)).toEqual([]);
    clock.advance(2_000); // the tick raises it without a new reading
    const [a] = await alertsOf(d.deviceId);
    expect(a.rule).toBe('pressure_low');
    await endClient(d.client);
  });

  it('lane_blocked: a short stop does not alert, long parking does, and re-alerts while it stays', async () => {
    const d = await device({ kind: 'fire_lane' });
    await d.send({ occupied: true });
    clock.advance(120_000);
    await d.send({ occupied: false });
    clock.advance(600_000);
    expect(await alertsOf(d.deviceId)).toEqual([]);
    await d.send({ occupied: true }); // reported once; the lane stays blocked
    clock.advance(301_000);
    const [a] = await alertsOf(d.deviceId);
    expect(a).toMatchObject({ rule: 'lane_blocked', class: 'hazard' });
    clock.advance(600_000);
    const again = await svc.api.get(`/api/v1/alerts/${a.id}`);
    expect(again.body.history.filter((h: any) => h.action === 'recurred')).toHaveLength(1);
    expect(await alertsOf(d.deviceId)).toHaveLength(1);
    await endClient(d.client);
  });
});

describe('one alert per device and rule', () => {
  it('a burst of concurrent breaching messages raises one alert and counts them', async () => {
    const d = await device({ kind: 'electrical_fire' }, { residual_current_high: { forS: 0 } });
    await Promise.all(Array.from({ length: 60 }, (_, i) => d.send({ seq: i, residualCurrentMa: 400 + i })));
    const items = await alertsOf(d.deviceId);
    expect(items).toHaveLength(1);
    expect(items[0].count).toBe(60);
    expect(items[0].peak).toBe(459);
    await endClient(d.client);
  });

  it('flapping input around the threshold does not flap the alert', async () => {
    const d = await device({ kind: 'water_pressure', point: 'hydrant_top' }, { pressure_low: { forS: 0, clearS: 60 } });
    const before = live.of('alert.raised').length;
    for (let i = 0; i < 20; i++) {
      await d.send({ pressureMpa: i % 2 === 0 ? 0.095 : 0.104 });
      clock.advance(5_000);
    }
    const items = await alertsOf(d.deviceId);
    expect(items).toHaveLength(1);
    expect(items[0].cleared).toBe(false);
    expect(items[0].history.filter((h: any) => h.action === 'cleared' || h.action === 'recurred')).toEqual([]);
    expect(live.of('alert.raised').filter((e) => e.data.alert.deviceId === d.deviceId)).toHaveLength(1);
    expect(live.of('alert.raised').length - before).toBe(1);
    await endClient(d.client);
  });
});

describe('lifecycle, deadlines and maintenance', () => {
  it('acknowledge and close with an outcome; who and when are recorded; escalation at 60 s and 180 s', async () => {
    const d = await device({ kind: 'electrical_fire' }, { residual_current_high: { forS: 0 } });
    await d.send({ residualCurrentMa: 650 });
    const [a] = await alertsOf(d.deviceId);
    expect(Date.parse(a.ackDeadline) - Date.parse(a.openedAt)).toBe(60_000);
    expect(Date.parse(a.closeDeadline) - Date.parse(a.openedAt)).toBe(180_000);
    clock.advance(61_000);
    const e1 = await live.next('alert.escalated', (e) => e.data.alert.id === a.id);
    expect(e1.data.alert.escalationLevel).toBe(1);
    const ack = await svc.api.post(`/api/v1/alerts/${a.id}/ack`, { note: '值班员已电话联系物业' });
    expect(ack.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'system:admin' });
    clock.advance(120_000);
    const e2 = await live.next('alert.escalated', (e) => e.data.alert.id === a.id && e.data.alert.escalationLevel === 2);
    expect(e2.data.alert.status).toBe('acknowledged');
    expect((await svc.api.post(`/api/v1/alerts/${a.id}/close`, { outcome: 'burnt' , note: 'x' })).status).toBe(400);
    expect((await svc.api.post(`/api/v1/alerts/${a.id}/close`, { outcome: 'false_alarm' })).status).toBe(400);
    const closed = await svc.api.post(`/api/v1/alerts/${a.id}/close`, { outcome: 'false_alarm', note: '负载接线错误，已整改' });
    expect(closed.body).toMatchObject({ status: 'closed', outcome: 'false_alarm', closedBy: 'system:admin' });
    expect(closed.body.history.map((h: any) => h.action)).toEqual(['raised', 'escalated', 'acknowledged', 'escalated', 'closed']);
    await live.next('alert.closed', (e) => e.data.alert.id === a.id);
    expect((await svc.api.post(`/api/v1/alerts/${a.id}/ack`, {})).status).toBe(409);
    await endClient(d.client);
  });

  it('a fault never shows as a hazard: a stuck or offline sensor is class fault and closes itself when it recovers', async () => {
    const d = await device({ kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 10 });
    await d.send({ pressureMpa: 0.3 });
    await endClient(d.client);
    clock.advance(31_000);
    const [off] = await alertsOf(d.deviceId);
    expect(off).toMatchObject({ rule: 'device_offline', class: 'fault', ackDeadline: null });
    const client = await connectDevice(svc.mqttUrl, d);
    await publish(client, `fire/v1/${d.deviceId}/telemetry`, { pressureMpa: 0.3 });
    const [back] = await alertsOf(d.deviceId);
    expect(back).toMatchObject({ status: 'closed', cleared: true, outcome: 'fault', closedBy: 'system' });
    await endClient(client);
  });

  it('a newly registered sensor that never reports is offline 3 × its interval after registration, not at once', async () => {
    clock.advance(3_600_000); // the service has been running a while
    const p = await provisionDevice(svc.api, { kind: 'water_level', reportIntervalS: 10 }, buildingId);
    clock.advance(29_000);
    expect(await alertsOf(p.deviceId)).toEqual([]);
    clock.advance(2_000);
    expect((await alertsOf(p.deviceId)).map((a) => a.rule)).toEqual(['device_offline']);
  });

  it('the device\'s last will marks it offline at once', async () => {
    const p = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 3600 }, buildingId);
    const client = await connectDevice(svc.mqttUrl, p, { will: { topic: `fire/v1/${p.deviceId}/status`, payload: Buffer.from('offline'), qos: 1, retain: false } });
    client.stream.destroy(); // an unclean drop: the broker publishes the will
    await waitFor(async () => (await alertsOf(p.deviceId)).some((a) => a.rule === 'device_offline'), 'offline from last will');
    client.end(true);
  });

  it('a device whose last will fired stays offline until it connects again, however short its silence (issue #12 item 6)', async () => {
    const p = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 3600 }, buildingId);
    const will = { topic: `fire/v1/${p.deviceId}/status`, payload: Buffer.from('offline'), qos: 1 as const, retain: false };
    const first = await connectDevice(svc.mqttUrl, p, { will });
    first.stream.destroy();
    await waitFor(async () => (await alertsOf(p.deviceId)).some((a) => a.rule === 'device_offline'), 'offline from last will');
    first.end(true);
    // ticks pass; the silence (seconds) is far below 3 × 3600 s, yet the device has said nothing since its will
    for (let i = 0; i < 5; i++) clock.advance(1_000);
    const [held] = await alertsOf(p.deviceId);
    expect(held).toMatchObject({ rule: 'device_offline', cleared: false, status: 'open' });
    // it connects again: now it is back
    const again = await connectDevice(svc.mqttUrl, p);
    await waitFor(async () => {
      clock.advance(1_000);
      return (await alertsOf(p.deviceId)).some((a) => a.rule === 'device_offline' && a.cleared);
    }, 'offline cleared by the reconnect');
    await endClient(again);
  });

  it('maintenance mode keeps data and rules but does not page (no escalation), and ends by itself', async () => {
    const d = await device({ kind: 'electrical_fire' }, { residual_current_high: { forS: 0, clearS: 0 } });
    const until = new Date(clock.now() + 3_600_000).toISOString();
    const m = await svc.api.request('PUT', `/api/v1/devices/${d.deviceId}/maintenance`, { until, reason: '更换探测器' });
    expect(m.status).toBe(200);
    await d.send({ residualCurrentMa: 700 });
    const [a] = await alertsOf(d.deviceId);
    expect(a.maintenance).toBe(true);
    clock.advance(200_000);
    expect((await svc.api.get(`/api/v1/alerts/${a.id}`)).body.escalationLevel).toBe(0);
    expect((await svc.api.get(`/api/v1/devices/${d.deviceId}/readings`)).body.items).toHaveLength(1);
    // building-level maintenance covers every device in it; ending it restores paging
    expect((await svc.api.request('DELETE', `/api/v1/devices/${d.deviceId}/maintenance`)).status).toBe(204);
    await svc.api.post(`/api/v1/alerts/${a.id}/close`, { outcome: 'test', note: '维护测试' });
    await d.send({ residualCurrentMa: 10 });
    await d.send({ residualCurrentMa: 700 });
    const fresh = (await alertsOf(d.deviceId, '&status=active'))[0];
    expect(fresh.maintenance).toBe(false);
    await endClient(d.client);
  });

  it('filters: status, rule, street, building, severity', async () => {
    const all = (await svc.api.get('/api/v1/alerts?limit=1000')).body.items;
    expect(all.length).toBeGreaterThan(5);
    const active = (await svc.api.get('/api/v1/alerts?status=active')).body.items;
    expect(active.every((a: any) => a.status !== 'closed')).toBe(true);
    const byRule = (await svc.api.get('/api/v1/alerts?rule=pressure_low')).body.items;
    expect(byRule.length).toBeGreaterThan(0);
    expect(byRule.every((a: any) => a.rule === 'pressure_low')).toBe(true);
    expect((await svc.api.get(`/api/v1/alerts?street=${encodeURIComponent('七星岗')}`)).body.items).toEqual([]);
    expect((await svc.api.get(`/api/v1/alerts?buildingId=${buildingId}`)).body.items.length).toBe(all.filter((a: any) => a.buildingId === buildingId).length);
  });
});

describe('the live feed resumes without gaps', () => {
  it('a client that reconnects with its last sequence number gets every event it missed, in order, once', async () => {
    const first = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
    const d = await device({ kind: 'electrical_fire' }, { residual_current_high: { forS: 0, clearS: 0 } });
    await d.send({ residualCurrentMa: 500 });
    await first.next('alert.raised', (e) => e.data.alert.deviceId === d.deviceId);
    const resumeFrom = first.lastSeq();
    await first.close();
    for (let i = 0; i < 5; i++) {
      await d.send({ residualCurrentMa: 10 });
      await d.send({ residualCurrentMa: 500 });
    }
    // alerts follow the commit (processors consume the log), a few ms after each PUBACK
    // (each alert event is followed by its incident's, issue #15 item 1)
    await waitFor(() => live.events.filter((e) => e.seq > resumeFrom).length >= 20, 'events while away');
    const missed = live.events.filter((e) => e.seq > resumeFrom).map((e) => e.seq);
    const second = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN, { since: resumeFrom });
    await waitFor(() => second.events.length >= missed.length, 'replay');
    expect(second.events.map((e) => e.seq)).toEqual(missed);
    await d.send({ residualCurrentMa: 10 });
    // the alert's event, then its incident's (issue #15 item 1)
    await waitFor(() => second.events.length === missed.length + 2, 'live after replay');
    expect(second.events.slice(missed.length).map((e) => e.type)).toEqual(['alert.cleared', 'incident.updated']);
    const seqs = second.events.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    await second.close();
    await endClient(d.client);
  });

  it('refuses a feed without a valid token', async () => {
    await expect(LiveClient.connect(svc.fw.httpUrl, 'nope')).rejects.toThrow(/4001/);
  });
});
