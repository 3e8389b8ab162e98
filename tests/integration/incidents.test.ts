/**
 * Incidents (警情, issue #15 item 1) through the wire: real MQTT devices raise hazards in one
 * building, the real service groups them into one incident; acknowledging or closing the incident
 * acknowledges or closes each alert (each with its own history); faults stay apart; the feed
 * carries incident.* events; scopes hold. Time moves only by the injected ManualClock.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { LiveClient } from '../support/live.js';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type Provisioned, type TestService } from '../support/service.js';

let svc: TestService;
let clock: ManualClock;
let live: LiveClient;
const clients: MqttClient[] = [];

beforeAll(async () => {
  clock = new ManualClock();
  svc = await startService({ INCIDENT_WINDOW_S: '120' }, undefined, { clock });
  for (const [id, name, street] of [
    ['inc-tower', '重庆时代广场', '解放碑'],
    ['inc-market', '朝天门批发市场', '朝天门'],
    ['inc-hotel', '洪崖洞酒店', '解放碑'],
  ] as const) {
    const r = await svc.api.post('/api/v1/buildings', { id, name, street, address: '民权路', type: 'public', heightM: 60, floors: 15, category: 1, use: 'complex' });
    expect(r.status).toBe(201);
  }
  live = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
});
afterAll(async () => {
  for (const c of clients) await endClient(c);
  await live?.close();
  await svc?.stop();
});

async function device(buildingId: string, spec: Record<string, unknown>): Promise<Provisioned & { client: MqttClient }> {
  const p = await provisionDevice(svc.api, { reportIntervalS: 3600, ...spec }, buildingId);
  // instant rules: each reading decides (the for/clear durations are tested with the rules)
  const rules = spec.kind === 'electrical_fire' ? { temperature_high: { forS: 0, clearS: 0 } } : { pressure_low: { forS: 0, clearS: 0 } };
  expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules, reason: 'incidents test setup' })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return { ...p, client };
}

const alertsOf = async (deviceId: string) => (await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}`)).body.items as any[];
const active = async (api: ApiClient = svc.api) => (await api.get('/api/v1/incidents?status=active')).body.items as any[];
const incidentOfBuilding = async (buildingId: string) => (await active()).find((i) => i.buildingId === buildingId);

describe('a building\'s hazards are one incident', () => {
  let incidentId: string;
  let detector: Provisioned & { client: MqttClient };

  it('an overheating detector raises temperature_high and device_alarm: one incident with both, in order, at the worst level', async () => {
    detector = await device('inc-tower', { kind: 'electrical_fire', location: '3F 配电间' });
    await publish(detector.client, `fire/v1/${detector.deviceId}/telemetry`, { temperaturesC: [40, 95, 60] });
    await publish(detector.client, `fire/v1/${detector.deviceId}/event`, { alarm: true, code: 'over_temperature' });
    const alerts = await waitFor(async () => {
      const a = await alertsOf(detector.deviceId);
      return a.length === 2 ? a : undefined;
    }, 'two alerts');
    const ids = new Set(alerts.map((a) => a.incidentId));
    expect(ids.size).toBe(1);
    incidentId = alerts[0].incidentId;
    expect(incidentId).toMatch(/^in-/);

    const items = (await active()).filter((i) => i.buildingId === 'inc-tower');
    expect(items).toHaveLength(1);
    const incident = items[0];
    const byOpened = [...alerts].sort((a, b) => (a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : 0));
    expect(incident).toMatchObject({ id: incidentId, buildingId: 'inc-tower', buildingName: '重庆时代广场', street: '解放碑', status: 'open' });
    expect(incident.alertIds.sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(incident.evidence.map((e: any) => e.rule).sort()).toEqual(['device_alarm', 'temperature_high']);
    expect(incident.evidence.map((e: any) => e.openedAt)).toEqual(byOpened.map((a) => a.openedAt));
    expect(incident.evidence[0].location).toBe('3F 配电间');
    const rank: Record<string, number> = { critical: 0, major: 1, minor: 2, warning: 3 };
    expect(incident.severity).toBe(alerts.map((a) => a.severity).sort((a, b) => rank[a]! - rank[b]!)[0]);
    expect((await svc.api.get(`/api/v1/incidents/${incidentId}`)).body).toEqual(incident);

    // the feed: opened with the first alert, updated with the second, each after its alert event
    const opened = await live.next('incident.opened', (e) => e.data.incident.id === incidentId);
    expect(opened.data.incident.alertIds).toHaveLength(1);
    expect(opened.buildingId).toBe('inc-tower');
    const updated = await live.next('incident.updated', (e) => e.data.incident.id === incidentId && e.data.incident.alertIds.length === 2);
    expect(updated.seq).toBeGreaterThan(opened.seq);
    expect(updated.data.incident.evidenceTotal).toBe(2);
    expect(updated.data.incident.evidence).toHaveLength(2);
  });

  it('a fault in the same building stays apart', async () => {
    const gauge = await device('inc-tower', { kind: 'water_pressure', point: 'hydrant_top' });
    // a reading the sensor flags as faulty is a sensor_fault (class fault), not a hazard
    await publish(gauge.client, `fire/v1/${gauge.deviceId}/event`, { fault: true, code: 'sensor_open_circuit' });
    const [fault] = await waitFor(async () => {
      const a = await alertsOf(gauge.deviceId);
      return a.length > 0 ? a : undefined;
    }, 'a fault alert');
    expect(fault.class).toBe('fault');
    expect(fault.incidentId).toBeNull();
    expect((await incidentOfBuilding('inc-tower')).alertIds).not.toContain(fault.id);
  });

  it('a hazard in another building is another incident', async () => {
    const other = await device('inc-market', { kind: 'electrical_fire' });
    await publish(other.client, `fire/v1/${other.deviceId}/telemetry`, { temperaturesC: [90] });
    const [a] = await waitFor(async () => {
      const x = await alertsOf(other.deviceId);
      return x.length > 0 ? x : undefined;
    }, 'the market alert');
    expect(a.incidentId).not.toBe(incidentId);
    expect((await incidentOfBuilding('inc-market')).alertIds).toEqual([a.id]);
  });

  it('acknowledging the incident acknowledges each of its alerts, each with its own history entry; a second time is 409', async () => {
    const r = await svc.api.post(`/api/v1/incidents/${incidentId}/ack`, { note: '已联系中控室' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: incidentId, status: 'acknowledged', acknowledgedBy: 'system:admin' });
    for (const a of await alertsOf(detector.deviceId)) {
      expect(a).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'system:admin' });
      const full = (await svc.api.get(`/api/v1/alerts/${a.id}`)).body;
      expect(full.history.filter((h: any) => h.action === 'acknowledged')).toEqual([expect.objectContaining({ by: 'system:admin', detail: '已联系中控室' })]);
    }
    await live.next('incident.acknowledged', (e) => e.data.incident.id === incidentId && e.data.incident.status === 'acknowledged');
    const again = await svc.api.post(`/api/v1/incidents/${incidentId}/ack`, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('incident_not_open');
  });

  it('closing the incident closes each alert with its outcome and note; it leaves the active list; a second close is 409', async () => {
    const r = await svc.api.post(`/api/v1/incidents/${incidentId}/close`, { outcome: 'false_alarm', note: '现场核查：配电柜风扇故障' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'closed', outcome: 'false_alarm', closedBy: 'system:admin' });
    for (const a of await alertsOf(detector.deviceId)) expect(a).toMatchObject({ status: 'closed', outcome: 'false_alarm', note: '现场核查：配电柜风扇故障' });
    expect(await incidentOfBuilding('inc-tower')).toBeUndefined();
    expect((await svc.api.get('/api/v1/incidents?status=closed')).body.items.map((i: any) => i.id)).toContain(incidentId);
    await live.next('incident.closed', (e) => e.data.incident.id === incidentId);
    const again = await svc.api.post(`/api/v1/incidents/${incidentId}/close`, { outcome: 'false_alarm', note: 'x' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('incident_closed');
    expect((await svc.api.get('/api/v1/incidents/in-nope')).status).toBe(404);
  });

  it('within the window a new hazard of the building joins the closed incident again (it reopens); after it, a new incident begins', async () => {
    const second = await device('inc-tower', { kind: 'electrical_fire' });
    clock.advance(60_000); // within INCIDENT_WINDOW_S=120 of the close
    await publish(second.client, `fire/v1/${second.deviceId}/telemetry`, { temperaturesC: [99] });
    const [rekindled] = await waitFor(async () => {
      const x = await alertsOf(second.deviceId);
      return x.length > 0 ? x : undefined;
    }, 'the rekindled alert');
    expect(rekindled.incidentId).toBe(incidentId);
    const reopened = (await svc.api.get(`/api/v1/incidents/${incidentId}`)).body;
    expect(reopened.status).toBe('open');
    expect(reopened.alertIds).toHaveLength(3);
    // dispose of it, then wait past the window
    expect((await svc.api.post(`/api/v1/incidents/${incidentId}/close`, { outcome: 'real_fire', note: '复燃，已扑灭' })).status).toBe(200);
    clock.advance(121_000);
    const third = await device('inc-tower', { kind: 'electrical_fire' });
    await publish(third.client, `fire/v1/${third.deviceId}/telemetry`, { temperaturesC: [85] });
    const [fresh] = await waitFor(async () => {
      const x = await alertsOf(third.deviceId);
      return x.length > 0 ? x : undefined;
    }, 'a later alert');
    expect(fresh.incidentId).not.toBe(incidentId);
    expect((await incidentOfBuilding('inc-tower')).alertIds).toEqual([fresh.id]);
  });
});

describe('who sees and handles an incident', () => {
  it("a duty officer sees and handles their streets' incidents only; an operator reads their building's but cannot handle it", async () => {
    const d = await device('inc-hotel', { kind: 'electrical_fire' });
    await publish(d.client, `fire/v1/${d.deviceId}/telemetry`, { temperaturesC: [88] });
    const incident = await waitFor(() => incidentOfBuilding('inc-hotel'), 'the hotel incident');
    const anonymous = new ApiClient(svc.fw.httpUrl, undefined);
    const login = async (username: string, password: string) => {
      const r = await anonymous.post('/api/v1/auth/login', { username, password });
      expect(r.status).toBe(200);
      return new ApiClient(svc.fw.httpUrl, r.body.token as string);
    };
    expect((await svc.api.post('/api/v1/users', { username: 'sun.duty', password: 'duty-password-1', role: 'duty', streets: ['朝天门'] })).status).toBe(201);
    expect((await svc.api.post('/api/v1/users', { username: 'li.duty', password: 'duty-password-2', role: 'duty', streets: ['解放碑'] })).status).toBe(201);
    expect((await svc.api.post('/api/v1/users', { username: 'zhou.ops', password: 'operator-pass-1', role: 'operator', buildingIds: ['inc-hotel'] })).status).toBe(201);
    const elsewhere = await login('sun.duty', 'duty-password-1');
    const here = await login('li.duty', 'duty-password-2');
    const operator = await login('zhou.ops', 'operator-pass-1');

    expect((await active(elsewhere)).map((i) => i.buildingId)).not.toContain('inc-hotel');
    expect((await active(elsewhere)).map((i) => i.buildingId)).toContain('inc-market');
    expect((await elsewhere.get(`/api/v1/incidents/${incident.id}`)).status).toBe(404);
    expect((await elsewhere.post(`/api/v1/incidents/${incident.id}/ack`, {})).status).toBe(404);
    expect((await active(operator)).map((i) => i.buildingId)).toEqual(['inc-hotel']);
    expect((await operator.post(`/api/v1/incidents/${incident.id}/ack`, {})).status).toBe(403);
    const r = await here.post(`/api/v1/incidents/${incident.id}/ack`, {});
    expect(r.status).toBe(200);
    expect(r.body.acknowledgedBy).toBe('li.duty');
  });
});
