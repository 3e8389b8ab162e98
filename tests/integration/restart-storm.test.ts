/**
 * Issue #17 item 7 through the wire: "A restart floods the board." The service runs as a child
 * process; devices connect with last wills and report; the service is stopped with SIGTERM and
 * started again on the same DATA_DIR; the devices reconnect.
 *
 * The broker's own shutdown is not a device going offline: no last will fires a device_offline,
 * no device.offline reaches the live feed's log, and after the restart no alert has a close time
 * before its open time.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, provisionDevice, publish, startChildService, tempDir, waitFor, type ChildService, type Provisioned } from '../support/service.js';

const children: ChildService[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const statusTopic = (id: string) => `fire/v1/${id}/status`;

async function connectAll(port: number, devices: Provisioned[]): Promise<MqttClient[]> {
  return Promise.all(
    devices.map((d) => connectDevice(`mqtt://127.0.0.1:${port}`, d, { clientId: d.deviceId, will: { topic: statusTopic(d.deviceId), payload: Buffer.from('offline'), qos: 1, retain: false } })),
  );
}

describe('SIGTERM and restart on the same data', () => {
  it('raises no device_offline for devices that reconnect, and never dates a close before its open', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    let svc = await startChildService({ DATA_DIR: dataDir });
    children.push(svc);
    let api = new ApiClient(svc.httpUrl, ADMIN_TOKEN);
    const building = { name: '重庆来福士', street: '朝天门', type: 'public', heightM: 250, floors: 60, category: 1, use: 'complex' };
    const first = await provisionDevice(api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 60 }, building);
    const devices: Provisioned[] = [first];
    for (let i = 0; i < 5; i++) devices.push(await provisionDevice(api, i < 3 ? { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 60 } : { kind: 'fire_lane', reportIntervalS: 60 }, first.buildingId));
    let clients = await connectAll(svc.mqttPort, devices);
    for (const [i, c] of clients.entries()) {
      const d = devices[i]!;
      await publish(c, `fire/v1/${d.deviceId}/telemetry`, i < 4 ? { pressureMpa: 0.3 } : { occupied: false });
    }

    // SIGTERM: a clean stop; the broker closes every connection (and aedes sends their wills)
    await svc.kill('SIGTERM');
    children.splice(children.indexOf(svc), 1);
    for (const c of clients) c.end(true);

    const db = new Database(join(dataDir, 'firewatch.db'), { readonly: true, fileMustExist: true });
    const offlineAtStop = db.prepare("SELECT COUNT(*) FROM alerts WHERE rule = 'device_offline'").pluck().get();
    const offlineEvents = db.prepare("SELECT COUNT(*) FROM feed_events WHERE type = 'device.offline'").pluck().get();
    db.close();
    expect(offlineAtStop, 'no device_offline from the shutdown\'s wills').toBe(0);
    expect(offlineEvents, 'no device.offline on the feed for the shutdown').toBe(0);

    svc = await startChildService({ DATA_DIR: dataDir });
    children.push(svc);
    api = new ApiClient(svc.httpUrl, ADMIN_TOKEN);
    clients = await connectAll(svc.mqttPort, devices);
    for (const [i, c] of clients.entries()) {
      const d = devices[i]!;
      await publish(c, `fire/v1/${d.deviceId}/telemetry`, i < 4 ? { pressureMpa: 0.31 } : { occupied: false });
    }
    await waitFor(async () => (await api.get(`/api/v1/devices/${devices[5]!.deviceId}/readings?limit=5`)).body.items.length === 2, 'readings after the restart');
    const all = (await api.get('/api/v1/alerts?limit=200')).body.items as Array<{ rule: string; openedAt: string; closedAt: string | null; clearedAt: string | null }>;
    expect(all.filter((a) => a.rule === 'device_offline')).toEqual([]);
    expect(all.filter((a) => a.rule === 'lane_blocked')).toEqual([]);
    for (const a of all) {
      if (a.closedAt) expect(Date.parse(a.closedAt)).toBeGreaterThanOrEqual(Date.parse(a.openedAt));
      if (a.clearedAt) expect(Date.parse(a.clearedAt)).toBeGreaterThanOrEqual(Date.parse(a.openedAt));
    }
    await Promise.all(clients.map(endClient));
  });
});
