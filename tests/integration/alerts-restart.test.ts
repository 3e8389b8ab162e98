/**
 * Restarts: alert state, escalation levels and for/clear timers survive; an escalation that fell
 * due while the service was down happens at start; the service's own downtime raises one
 * service_outage alert instead of a storm of device_offline alerts.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, provisionDevice, publish, startService, tempDir, type TestService } from '../support/service.js';

const dirs: string[] = [];
const running: TestService[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop({ keepData: true });
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function boot(dataDir: string, clock: ManualClock): Promise<TestService> {
  const s = await startService({}, dataDir, { clock });
  running.push(s);
  return s;
}

async function stop(s: TestService): Promise<void> {
  running.splice(running.indexOf(s), 1);
  await s.stop({ keepData: true });
}

const building = { name: '大融汇', street: '朝天门', type: 'public', heightM: 120, floors: 30, category: 1, use: 'complex' };

describe('restart keeps alert state', () => {
  it('open alerts, their escalation and a running forS timer survive a restart', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const clock = new ManualClock();
    let svc = await boot(dataDir, clock);
    const ef = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 }, building);
    const wp = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 }, ef.buildingId);
    await svc.api.patch(`/api/v1/devices/${ef.deviceId}`, { rules: { residual_current_high: { forS: 0 } } });
    const c1 = await connectDevice(svc.mqttUrl, ef);
    const c2 = await connectDevice(svc.mqttUrl, wp);
    await publish(c1, `fire/v1/${ef.deviceId}/telemetry`, { residualCurrentMa: 800 });
    await publish(c2, `fire/v1/${wp.deviceId}/telemetry`, { pressureMpa: 0.02 }); // pending: forS 60 s
    const [hazard] = (await svc.api.get(`/api/v1/alerts?deviceId=${ef.deviceId}`)).body.items;
    clock.advance(30_000);
    await endClient(c1);
    await endClient(c2);
    await stop(svc);

    clock.advance(5_000); // a short restart: no outage alert
    svc = await boot(dataDir, clock);
    const again = (await svc.api.get(`/api/v1/alerts/${hazard.id}`)).body;
    expect(again).toMatchObject({ status: 'open', escalationLevel: 0, value: 800, ackDeadline: hazard.ackDeadline });
    expect((await svc.api.get(`/api/v1/alerts?deviceId=${wp.deviceId}`)).body.items).toEqual([]);
    clock.advance(26_000); // 61 s after the breach: the pending condition's timer, restored from disk, fires
    const [low] = (await svc.api.get(`/api/v1/alerts?deviceId=${wp.deviceId}`)).body.items;
    expect(low).toMatchObject({ rule: 'pressure_low', value: 0.02 });
    // the restored alert still escalates on its original deadline
    expect((await svc.api.get(`/api/v1/alerts/${hazard.id}`)).body.escalationLevel).toBe(1);
    expect((await svc.api.get('/api/v1/alerts?rule=service_outage')).body.items).toEqual([]);
  });

  it('an escalation that fell due while the service was down happens at start; the downtime is one service_outage alert, not an offline storm', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const clock = new ManualClock();
    let svc = await boot(dataDir, clock);
    const devices = [];
    for (let i = 0; i < 5; i++) {
      const p = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 10 }, i === 0 ? building : devices[0]!.buildingId);
      devices.push(p);
    }
    const ef = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 }, devices[0]!.buildingId);
    await svc.api.patch(`/api/v1/devices/${ef.deviceId}`, { rules: { residual_current_high: { forS: 0 } } });
    const clients = await Promise.all(devices.map((d) => connectDevice(svc.mqttUrl, d)));
    for (const [i, c] of clients.entries()) await publish(c, `fire/v1/${devices[i]!.deviceId}/telemetry`, { occupied: false });
    const efc = await connectDevice(svc.mqttUrl, ef);
    await publish(efc, `fire/v1/${ef.deviceId}/telemetry`, { residualCurrentMa: 900 });
    const [hazard] = (await svc.api.get(`/api/v1/alerts?deviceId=${ef.deviceId}`)).body.items;
    await Promise.all([...clients, efc].map(endClient));
    await stop(svc);

    clock.advance(10 * 60_000); // the service is down for ten minutes
    svc = await boot(dataDir, clock);
    const outage = (await svc.api.get('/api/v1/alerts?rule=service_outage')).body.items;
    expect(outage).toHaveLength(1);
    expect(outage[0].message.zh).toContain('10 分钟');
    expect((await svc.api.get('/api/v1/alerts?rule=device_offline')).body.items).toEqual([]);
    expect((await svc.api.get(`/api/v1/alerts/${hazard.id}`)).body.escalationLevel).toBe(2);
    // silence measured from the restart: devices that stay silent are offline 3 × 10 s later
    clock.advance(31_000);
    expect((await svc.api.get('/api/v1/alerts?rule=device_offline')).body.items).toHaveLength(5);
  });

  it('restored state never raises on stale data: a lane silent since before the restart raises no lane_blocked (issue #17 item 7)', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const clock = new ManualClock();
    let svc = await boot(dataDir, clock);
    const lane = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 60 }, building);
    const fresh = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 600 }, lane.buildingId);
    const c = await connectDevice(svc.mqttUrl, lane);
    const f = await connectDevice(svc.mqttUrl, fresh);
    await publish(c, `fire/v1/${lane.deviceId}/telemetry`, { occupied: true }); // pending: 300 s dwell
    await publish(f, `fire/v1/${fresh.deviceId}/telemetry`, { occupied: true });
    clock.advance(30_000);
    await Promise.all([c, f].map(endClient));
    await stop(svc);
    clock.advance(5_000);
    svc = await boot(dataDir, clock);
    for (let i = 0; i < 300; i++) clock.advance(1000); // the dwell passes with no word from the 60 s sensor
    const alerts = (await svc.api.get('/api/v1/alerts?rule=lane_blocked')).body.items as Array<{ deviceId: string }>;
    // the 60 s sensor's occupancy is stale (older than its report interval): no verdict on it
    expect(alerts.map((a) => a.deviceId)).not.toContain(lane.deviceId);
    // the 600 s sensor's last report is within its interval: its timer goes on and raises
    expect(alerts.map((a) => a.deviceId)).toContain(fresh.deviceId);
    // a new reading after the start brings the stale sensor back into the rules
    const c2 = await connectDevice(svc.mqttUrl, lane);
    await publish(c2, `fire/v1/${lane.deviceId}/telemetry`, { occupied: true });
    for (let i = 0; i < 301; i++) clock.advance(1000);
    const after = (await svc.api.get(`/api/v1/alerts?rule=lane_blocked&deviceId=${lane.deviceId}`)).body.items;
    expect(after).toHaveLength(1);
    await endClient(c2);
  });
});
