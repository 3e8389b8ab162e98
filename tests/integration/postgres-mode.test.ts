/**
 * The service on PostgreSQL (DATABASE_URL, issue #10), through the wire: MQTT in, the API and the
 * live feed out, against the machine's real PostgreSQL (a fresh database per test, dropped after).
 *
 * - one node: a breaching reading raises one alert, the feed shows it with its seq, an
 *   acknowledgement sticks, and everything survives a restart of the node;
 * - two nodes on one database with separate DATA_DIRs: what A writes through its API B reads at
 *   once (a building, a device, a user, an acknowledgement); a device's credentials work on both;
 *   readings sent to B are read on A; an alert exists once, whichever node took the reading;
 * - kill -9 of a node right after QoS 1 acknowledgements loses none of them, and the other node
 *   takes over the processing (the processors' lease) and raises what the dead node had not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { LiveClient } from '../support/live.js';
import {
  ADMIN_TOKEN,
  ApiClient,
  connectDevice,
  endClient,
  provisionDevice,
  publish,
  startChildService,
  startService,
  tempDir,
  waitFor,
  type ChildService,
  type TestService,
} from '../support/service.js';

const running: TestService[] = [];
const children: ChildService[] = [];
const databases: FreshDatabase[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.kill();
  for (const s of running.splice(0)) await s.stop();
  for (const d of databases.splice(0)) await d.drop();
});

async function database(): Promise<FreshDatabase> {
  const d = await freshDatabase();
  databases.push(d);
  return d;
}

async function node(url: string, dataDir = tempDir()): Promise<TestService> {
  const s = await startService({ DATABASE_URL: url, LOG_LEVEL: 'warn' }, dataDir);
  running.push(s);
  return s;
}

async function stop(s: TestService, keepData = true): Promise<void> {
  running.splice(running.indexOf(s), 1);
  await s.stop({ keepData });
}

async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const building = { name: '来福士', street: '朝天门', type: 'public', heightM: 250, floors: 60, category: 1, use: 'complex' };
const breach = { residualCurrentMa: 800 };

/** an electrical-fire detector whose residual_current_high fires on the reading itself */
async function detector(api: ApiClient, b: Record<string, unknown> | string = building) {
  const p = await provisionDevice(api, { kind: 'electrical_fire', reportIntervalS: 3600 }, b);
  const r = await api.patch(`/api/v1/devices/${p.deviceId}`, { rules: { residual_current_high: { forS: 0 } } });
  expect(r.status).toBe(200);
  return p;
}

describe('one node on PostgreSQL', () => {
  it('keeps its state in the database: an alert raised from MQTT, shown on the feed, acknowledged, and all of it after a restart', async () => {
    const db = await database();
    const dataDir = tempDir();
    let a = await node(db.url, dataDir);
    const ready = await a.api.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database).toMatchObject({ ready: true, engine: 'postgres' });
    expect(JSON.stringify(ready.body)).not.toContain('password');

    const p = await detector(a.api);
    const live = await LiveClient.connect(a.fw.httpUrl, ADMIN_TOKEN);
    const c = await connectDevice(a.mqttUrl, p);
    await publish(c, `fire/v1/${p.deviceId}/telemetry`, { seq: 1, ...breach });
    const raised = await live.next('alert.raised', (e) => e.data.alert.deviceId === p.deviceId);
    expect(raised.seq).toBeGreaterThan(0);
    const [alert] = (await waitFor(async () => {
      const items = (await a.api.get(`/api/v1/alerts?deviceId=${p.deviceId}`)).body.items;
      return items.length > 0 ? items : undefined;
    }, 'the alert')) as Array<{ id: string; rule: string; status: string }>;
    expect(alert).toMatchObject({ rule: 'residual_current_high', status: 'open' });
    // the same breach again updates the alert, it does not raise a second one
    await publish(c, `fire/v1/${p.deviceId}/telemetry`, { seq: 2, residualCurrentMa: 900 });
    await a.fw.processors.idle();
    const ack = await a.api.post(`/api/v1/alerts/${alert!.id}/ack`, { note: '已派人' });
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('acknowledged');
    const updated = await live.next('alert.updated', (e) => e.data.alert.id === alert!.id && e.data.alert.status === 'acknowledged');
    expect(updated.seq).toBeGreaterThan(raised.seq);
    await live.close();
    await endClient(c);

    // in the database itself, not in a file of DATA_DIR
    const rows = await sql<{ n: string }>(db.url, "SELECT count(*) AS n FROM alerts WHERE status = 'acknowledged'");
    expect(Number(rows[0]!.n)).toBe(1);
    const readings = await sql<{ n: string }>(db.url, 'SELECT count(*) AS n FROM readings WHERE device_id = $1', [p.deviceId]);
    expect(Number(readings[0]!.n)).toBe(2);

    await stop(a);
    a = await node(db.url, dataDir);
    const after = (await a.api.get(`/api/v1/alerts/${alert!.id}`)).body;
    expect(after).toMatchObject({ status: 'acknowledged', count: 2 });
    const history = (await a.api.get(`/api/v1/devices/${p.deviceId}/readings`)).body.items;
    expect(history).toHaveLength(2);
    // a restarted node goes on from its cursor: nothing replayed twice, the next breach updates the same alert
    const c2 = await connectDevice(a.mqttUrl, p);
    await publish(c2, `fire/v1/${p.deviceId}/telemetry`, { seq: 3, residualCurrentMa: 950 });
    await waitFor(async () => ((await a.api.get(`/api/v1/alerts/${alert!.id}`)).body.count === 3 ? true : undefined), 'the third breach counted');
    expect((await a.api.get(`/api/v1/alerts?deviceId=${p.deviceId}&status=active`)).body.items).toHaveLength(1);
    await endClient(c2);
  });
});

describe('two nodes on one PostgreSQL database', () => {
  it('agree: what A writes B reads at once, credentials work on both, readings sent to B are read on A, an alert exists once', async () => {
    const db = await database();
    const [a, b] = await Promise.all([node(db.url), node(db.url)]);
    // a building and a device made on A, read on B
    const p = await detector(a.api);
    expect((await b.api.get(`/api/v1/buildings/${p.buildingId}`)).body).toMatchObject({ name: '来福士' });
    expect((await b.api.get(`/api/v1/devices/${p.deviceId}`)).body).toMatchObject({ id: p.deviceId, kind: 'electrical_fire' });
    // a user made on A logs in on B
    const u = await a.api.post('/api/v1/users', { username: 'li.duty', password: 'correct horse battery', role: 'duty', displayName: '李值班', streets: ['朝天门'] });
    expect(u.status).toBe(201);
    const login = await b.api.request('POST', '/api/v1/auth/login', { username: 'li.duty', password: 'correct horse battery' }, '');
    expect(login.status).toBe(200);

    // both nodes' consoles see every event, whichever node's step wrote it
    const [liveA, liveB] = await Promise.all([LiveClient.connect(a.fw.httpUrl, ADMIN_TOKEN), LiveClient.connect(b.fw.httpUrl, ADMIN_TOKEN)]);

    // the device's credentials work on either node; readings sent to B are read on A
    const viaB = await connectDevice(b.mqttUrl, p);
    await publish(viaB, `fire/v1/${p.deviceId}/telemetry`, { seq: 1, ...breach });
    const onA = await waitFor(async () => {
      const items = (await a.api.get(`/api/v1/devices/${p.deviceId}/readings`)).body.items;
      return items.length === 1 ? items : undefined;
    }, 'the reading on A');
    expect(onA[0]).toMatchObject({ residualCurrentMa: 800 });
    await endClient(viaB);
    const viaA = await connectDevice(a.mqttUrl, p);
    await publish(viaA, `fire/v1/${p.deviceId}/telemetry`, { seq: 2, residualCurrentMa: 900 });
    await endClient(viaA);

    // one alert for the two breaching readings, whichever node took each
    const alerts = await waitFor(async () => {
      const items = (await a.api.get(`/api/v1/alerts?deviceId=${p.deviceId}`)).body.items as Array<{ id: string; count: number }>;
      return items.length === 1 && items[0]!.count === 2 ? items : undefined;
    }, 'one alert counting both readings');
    const id = alerts[0]!.id;
    expect((await b.api.get(`/api/v1/alerts?deviceId=${p.deviceId}`)).body.items.map((x: { id: string }) => x.id)).toEqual([id]);
    const stored = await sql<{ n: string }>(db.url, 'SELECT count(*) AS n FROM alerts WHERE device_id = $1', [p.deviceId]);
    expect(Number(stored[0]!.n)).toBe(1);

    // an acknowledgement on A is read on B, and B cannot acknowledge it a second time
    expect((await a.api.post(`/api/v1/alerts/${id}/ack`, {})).status).toBe(200);
    expect((await b.api.get(`/api/v1/alerts/${id}`)).body.status).toBe('acknowledged');
    for (const live of [liveA, liveB]) {
      const raised = await live.next('alert.raised', (e) => e.data.alert.id === id);
      const acked = await live.next('alert.updated', (e) => e.data.alert.id === id && e.data.alert.status === 'acknowledged');
      expect(acked.seq).toBeGreaterThan(raised.seq);
      // one seq order on both nodes, no gaps between what a node pushed
      const seqs = live.events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    expect(liveA.events.map((e) => e.seq)).toEqual(liveB.events.map((e) => e.seq));
    await Promise.all([liveA.close(), liveB.close()]);
    const again = await b.api.post(`/api/v1/alerts/${id}/ack`, {});
    expect(again.status).toBe(409);
    // B closes it; A reads it closed
    const closed = await b.api.post(`/api/v1/alerts/${id}/close`, { outcome: 'false_alarm', note: '现场核实为误报' });
    expect(closed.status).toBe(200);
    expect((await a.api.get(`/api/v1/alerts/${id}`)).body).toMatchObject({ status: 'closed', outcome: 'false_alarm' });
  });

  it('kill -9 of the processing node after QoS 1 acknowledgements loses none; the other node takes the processing over and raises each alert once', async () => {
    const db = await database();
    // the child starts first and takes the processors' lease; the in-process node stands by
    const child = await startChildService({ DATABASE_URL: db.url, DATA_DIR: tempDir(), DEVICE_RATE_BURST: '1000000', DEVICE_RATE_PER_S: '1000000' });
    children.push(child);
    const childApi = new ApiClient(child.httpUrl, ADMIN_TOKEN);
    await waitFor(async () => ((await childApi.get('/readyz')).body.checks?.processors_lease?.held === true ? true : undefined), 'the child holding the lease');
    const survivor = await node(db.url);
    expect((await survivor.api.get('/readyz')).body.checks.processors_lease).toMatchObject({ ready: true, held: false });

    const pressure = await provisionDevice(survivor.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 }, building);
    const fires = [await detector(survivor.api, pressure.buildingId), await detector(survivor.api, pressure.buildingId)];
    await waitFor(async () => ((await childApi.get(`/api/v1/devices/${fires[1]!.deviceId}`)).status === 200 ? true : undefined), 'the devices on the child');
    const url = `mqtt://127.0.0.1:${child.mqttPort}`;
    const c = await connectDevice(url, pressure);
    const f0 = await connectDevice(url, fires[0]!);
    const f1 = await connectDevice(url, fires[1]!);
    const N = 400;
    // the first detector's breach early (the child most likely processes it), the second's last (most likely not)
    await publish(f0, `fire/v1/${fires[0]!.deviceId}/telemetry`, { seq: 1, ...breach });
    for (let i = 1; i <= N; i++) await publish(c, `fire/v1/${pressure.deviceId}/telemetry`, { seq: i, pressureMpa: 0.35 });
    await publish(f1, `fire/v1/${fires[1]!.deviceId}/telemetry`, { seq: 1, ...breach });
    await child.kill('SIGKILL');
    const killedAt = Date.now();
    for (const x of [c, f0, f1]) x.end(true);

    // every acknowledged reading is stored
    const rows = await sql<{ n: string }>(db.url, 'SELECT count(*) AS n FROM readings WHERE device_id = ANY($1)', [[pressure.deviceId, ...fires.map((d) => d.deviceId)]]);
    expect(Number(rows[0]!.n)).toBe(N + 2);
    // the survivor takes the lease over (PostgreSQL dropped the dead node's session and its lock)
    await waitFor(async () => ((await survivor.api.get('/readyz')).body.checks.processors_lease.held === true ? true : undefined), 'the survivor taking the lease', 15_000);
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(15_000);
    // it goes on from the stored cursor: each detector's alert exists once, raised by whichever node
    for (const d of fires) {
      const items = await waitFor(async () => {
        const list = (await survivor.api.get(`/api/v1/alerts?deviceId=${d.deviceId}`)).body.items;
        return list.length > 0 ? list : undefined;
      }, `the alert of ${d.deviceId}`, 15_000);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ rule: 'residual_current_high', count: 1 });
    }
    await survivor.fw.processors.idle();
    const cursor = await sql<{ position: string }>(db.url, "SELECT position FROM log_cursors WHERE name = 'processors'");
    const maxId = await sql<{ id: string }>(db.url, 'SELECT max(id) AS id FROM readings');
    expect(Number(cursor[0]!.position)).toBe(Number(maxId[0]!.id));
    const stored = await sql<{ device_id: string }>(db.url, 'SELECT device_id FROM alerts WHERE device_id = ANY($1)', [fires.map((d) => d.deviceId)]);
    expect(stored.map((r) => r.device_id).sort()).toEqual(fires.map((d) => d.deviceId).sort());
    const raised = await sql<{ n: string }>(db.url, "SELECT count(*) AS n FROM feed_events WHERE type = 'alert.raised'");
    expect(Number(raised[0]!.n)).toBe(2);
    console.log(`processors failover after kill -9: ${failoverMs} ms`);
  });
});
