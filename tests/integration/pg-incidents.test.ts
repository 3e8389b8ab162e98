/**
 * Incidents and building rules (issue #15 items 1 and 2) on PostgreSQL (DATABASE_URL): alerts
 * group by building through the alert mirror; an incident is listed from the PostgreSQL store by
 * the document's incidentId; its acknowledgement and close are one step over the mirror; a
 * probable_fire without a device is one per building (alerts_one_active keys it by building,
 * migration 12), also in two buildings at once; a building's overrides are a column of its row.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { connectDevice, endClient, provisionDevice, publish, startService, type TestService } from '../support/service.js';

let db: FreshDatabase;
let svc: TestService;
let clock: ManualClock;
const clients: MqttClient[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  clock = new ManualClock(Date.parse('2026-12-04T02:00:00Z'));
  svc = await startService({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, undefined, { clock });
  for (const id of ['pg-a', 'pg-b']) {
    const r = await svc.api.post('/api/v1/buildings', { id, name: `大厦 ${id}`, street: '朝天门', type: 'public', heightM: 80, floors: 20, category: 1, use: 'complex' });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await svc?.stop();
  await db?.drop();
});

async function device(buildingId: string, spec: Record<string, unknown>) {
  const p = await provisionDevice(svc.api, { reportIntervalS: 3600, ...spec }, buildingId);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return { deviceId: p.deviceId, client };
}

const alertsIn = async (b: string) => (await svc.api.get(`/api/v1/alerts?buildingId=${b}`)).body.items as any[];

describe('on PostgreSQL', () => {
  it('a detector alarm and a pressure drop in each of two buildings: one incident and one probable_fire per building; the incident is acknowledged and closed as one', async () => {
    for (const b of ['pg-a', 'pg-b']) {
      const detector = await device(b, { kind: 'electrical_fire', location: '3F' });
      const hydrant = await device(b, { kind: 'water_pressure', point: 'hydrant_top', location: '20F' });
      await publish(detector.client, `fire/v1/${detector.deviceId}/event`, { alarm: true, code: 'E21' });
      await svc.fw.processors.idle();
      clock.advance(60_000);
      const now = clock.now();
      await publish(hydrant.client, `fire/v1/${hydrant.deviceId}/telemetry`, [{ ts: now - 5000, seq: 1, pressureMpa: 0.45 }, { ts: now, seq: 2, pressureMpa: 0.3 }]);
      await svc.fw.processors.idle();
    }
    for (const b of ['pg-a', 'pg-b']) {
      const alerts = await alertsIn(b);
      expect(alerts.map((a) => a.rule).sort()).toEqual(['device_alarm', 'pressure_drop', 'probable_fire']);
      expect(new Set(alerts.map((a) => a.incidentId)).size).toBe(1);
      expect(alerts.find((a) => a.rule === 'probable_fire')).toMatchObject({ deviceId: null, buildingId: b, severity: 'critical' });
    }
    const active = (await svc.api.get('/api/v1/incidents?status=active')).body.items as any[];
    expect(active.map((i) => i.buildingId).sort()).toEqual(['pg-a', 'pg-b']);
    const a = active.find((i) => i.buildingId === 'pg-a');
    expect(a.alertIds).toHaveLength(3);

    const ack = await svc.api.post(`/api/v1/incidents/${a.id}/ack`, { note: '已通知消防控制室' });
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('acknowledged');
    const close = await svc.api.post(`/api/v1/incidents/${a.id}/close`, { outcome: 'real_fire', note: '喷淋动作，火已扑灭' });
    expect(close.status).toBe(200);
    for (const x of await alertsIn('pg-a')) expect(x).toMatchObject({ status: 'closed', outcome: 'real_fire' });
    expect((await svc.api.get('/api/v1/incidents?status=active')).body.items.map((i: any) => i.buildingId)).toEqual(['pg-b']);
    expect((await svc.api.get('/api/v1/incidents?status=closed')).body.items.map((i: any) => i.id)).toEqual([a.id]);
  });

  it("a building's overrides are stored with it", async () => {
    const r = await svc.api.patch('/api/v1/buildings/pg-b', { buildingRules: { probable_fire: { windowS: 300 } }, reason: '小型建筑' });
    expect(r.status).toBe(200);
    expect((await svc.api.get('/api/v1/buildings/pg-b')).body.buildingRules).toEqual({ probable_fire: { windowS: 300 } });
  });
});
