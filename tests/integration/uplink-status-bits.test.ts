/**
 * Issue #16 item 6 through the wire: which alerts reach a monitoring centre as fires. The service
 * runs with the GB/T 26875.3 uplink pointed at a real TCP receiver (decoding every frame with the
 * codec) and the HTTP uplink at a real node:http platform; alerts are raised by devices over MQTT.
 * Only a fire detector's (UITD's) alarm arrives with bit1 fire alarm; a low pressure, a blocked lane,
 * a residual current and an electrical-fire detector's latched alarm arrive as bit4 supervisory, an
 * offline sensor as bit2 fault, bit0 set on all, bit0 alone on recovery; the JSON items say the same
 * in `data.category`. A centre's own status map (UPLINK_GB26875_STATUS_MAP) changes the bits, and a
 * broken one stops the start.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { RULE_SYSTEM_ADDRESS, componentAddressFor } from '../../services/uplink/adapters/gb26875-mapping.js';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, provisionDevice, publish, startService, tempDir, waitFor, type Provisioned, type TestService } from '../support/service.js';
import { MonitoringCentreReceiver, UplinkReceiver } from '../support/uplink-receiver.js';

/** the component status objects of one device's alert at the centre (its component address, the rule's system address) */
function statusOf(centre: MonitoringCentreReceiver, deviceId: string, rule: string): any[] {
  const addr = componentAddressFor(deviceId);
  return centre.components().filter((o) => o.address.zone === addr.zone && o.address.position === addr.position && o.systemAddress === RULE_SYSTEM_ADDRESS[rule]);
}

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

const BASE_ENV = {
  UPLINK_GB26875_TIMEOUT_MS: '2000',
  UPLINK_GB26875_HEARTBEAT_S: '30',
  ALERT_ACK_S: '86400',
  ALERT_CLOSE_S: '86400',
};

interface Devices {
  pressure: Provisioned;
  lane: Provisioned;
  electrical: Provisioned;
  detector: Provisioned;
  level: Provisioned;
}

async function provisionAll(svc: TestService, buildingId: string): Promise<Devices> {
  await svc.api.post('/api/v1/buildings', { id: buildingId, name: '解放碑大厦', street: '解放碑', type: 'public', heightM: 80, category: 1, use: 'complex' });
  const pressure = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 86_400 }, buildingId);
  await svc.api.patch(`/api/v1/devices/${pressure.deviceId}`, { rules: { pressure_low: { forS: 0, clearS: 0 } } });
  const lane = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 86_400 }, buildingId);
  await svc.api.patch(`/api/v1/devices/${lane.deviceId}`, { rules: { lane_blocked: { forS: 60, clearS: 30 } } }); // 60 s is the shortest dwell
  const electrical = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 86_400 }, buildingId);
  const detector = await provisionDevice(svc.api, { kind: 'uitd', address: 0x4000 + Math.floor(Math.random() * 0xffff), reportIntervalS: 86_400 }, buildingId);
  const level = await provisionDevice(svc.api, { kind: 'water_level', reportIntervalS: 10 }, buildingId);
  return { pressure, lane, electrical, detector, level };
}

/** publish a device message with the next seq and the clock's time */
function sender(clock: ManualClock) {
  let seq = 0;
  return (c: MqttClient, p: Provisioned, channel: 'telemetry' | 'event', body: Record<string, unknown>) =>
    publish(c, `fire/v1/${p.deviceId}/${channel}`, { seq: ++seq, ts: clock.now(), ...body });
}

describe('GB/T 26875.3 status bits per alert class, through the wire', () => {
  it('only fire evidence sets bit1; water, lane and electrical-fire hazards set bit4; a fault bit2; bit0 always; JSON says the same', async () => {
    const centre = new MonitoringCentreReceiver();
    const port = await centre.start();
    cleanup.push(() => centre.close());
    const platform = new UplinkReceiver();
    await platform.start();
    cleanup.push(() => platform.close());
    const clock = new ManualClock();
    const svc = await startService({ ...BASE_ENV, UPLINK_GB26875_ADDR: `127.0.0.1:${port}`, UPLINK_HTTP_URL: platform.url }, tempDir(), { clock });
    cleanup.push(() => svc.stop());
    const d = await provisionAll(svc, 'sb-wire');
    const clients: MqttClient[] = [];
    const connect = async (p: Provisioned) => {
      const c = await connectDevice(svc.mqttUrl, p);
      clients.push(c);
      return c;
    };
    const send = sender(clock);

    const pressure = await connect(d.pressure);
    const lane = await connect(d.lane);
    const electrical = await connect(d.electrical);
    const detector = await connect(d.detector);
    const level = await connect(d.level);

    await send(pressure, d.pressure, 'telemetry', { pressureMpa: 0.05 }); // pressure_low (hazard)
    await send(lane, d.lane, 'telemetry', { occupied: true });
    await send(electrical, d.electrical, 'telemetry', { residualCurrentMa: 520 }); // residual_current_high (hazard)
    await send(electrical, d.electrical, 'event', { alarm: true, code: 'leakage latched' }); // electrical-fire detector's device_alarm
    await send(detector, d.detector, 'event', { alarm: true, code: 'comp:1:1:40:10-3' }); // a smoke detector's fire alarm via the UITD
    await send(level, d.level, 'telemetry', { levelM: 3.2 });
    await endClient(level);
    clock.advance(61_000); // the level sensor silent for over 3 × 10 s: device_offline (fault)
    await send(lane, d.lane, 'telemetry', { occupied: true }); // blocked for 60 s: lane_blocked (hazard)

    const first = async (deviceId: string, rule: string) => (await waitFor(() => statusOf(centre, deviceId, rule)[0], `${rule} at the centre`, 15_000)) as any;
    const low = await first(d.pressure.deviceId, 'pressure_low');
    const blocked = await first(d.lane.deviceId, 'lane_blocked');
    const residual = await first(d.electrical.deviceId, 'residual_current_high');
    const efAlarm = await first(d.electrical.deviceId, 'device_alarm');
    const fire = await first(d.detector.deviceId, 'device_alarm');
    const offline = await first(d.level.deviceId, 'device_offline');

    // supervisory (监管): bit0 + bit4, never bit1
    for (const [name, o] of Object.entries({ low, blocked, residual, efAlarm })) {
      expect([name, o.status]).toEqual([name, 0x0011]);
      expect(o.flags).toMatchObject({ normal: true, fireAlarm: false, fault: false, supervisory: true });
    }
    expect(low).toMatchObject({ systemType: 11, componentType: 128 });
    expect(residual).toMatchObject({ systemType: 0x81, componentType: 17 });
    // fire evidence: bit0 + bit1, as the fire detector of the fire alarm system
    expect(fire.status).toBe(0x0003);
    expect(fire.flags).toMatchObject({ normal: true, fireAlarm: true, fault: false, supervisory: false });
    expect(fire).toMatchObject({ systemType: 1, componentType: 25 });
    // fault: bit0 + bit2
    expect(offline.status).toBe(0x0005);
    expect(offline.flags).toMatchObject({ normal: true, fireAlarm: false, fault: true, supervisory: false });

    // recovery: bit0 only
    await send(pressure, d.pressure, 'telemetry', { pressureMpa: 0.3 });
    await waitFor(() => statusOf(centre, d.pressure.deviceId, 'pressure_low').some((o) => o.status === 0x0001), 'pressure_low recovery', 15_000);

    // nothing but the detector's alarm ever reached the centre with bit1; every status has bit0
    const all = centre.components();
    expect(all.filter((o) => o.flags.fireAlarm).map((o) => o.systemAddress)).toEqual([RULE_SYSTEM_ADDRESS.device_alarm]);
    expect(all.filter((o) => o.flags.fireAlarm).every((o) => o.address.zone === componentAddressFor(d.detector.deviceId).zone)).toBe(true);
    expect(all.every((o) => o.flags.normal)).toBe(true);

    // the JSON uplink: data.category on every alert item
    const categoryOf = (deviceId: string, rule: string) =>
      platform.unique().find((i) => i.type === 'alert.raised' && i.data.alert.deviceId === deviceId && i.data.alert.rule === rule)?.data.category;
    await waitFor(() => categoryOf(d.level.deviceId, 'device_offline'), 'JSON items', 15_000);
    expect(categoryOf(d.pressure.deviceId, 'pressure_low')).toBe('supervisory');
    expect(categoryOf(d.lane.deviceId, 'lane_blocked')).toBe('supervisory');
    expect(categoryOf(d.electrical.deviceId, 'residual_current_high')).toBe('supervisory');
    expect(categoryOf(d.electrical.deviceId, 'device_alarm')).toBe('supervisory');
    expect(categoryOf(d.detector.deviceId, 'device_alarm')).toBe('fire');
    expect(categoryOf(d.level.deviceId, 'device_offline')).toBe('fault');
    for (const c of clients) if (c !== level) await endClient(c);
  });

  it('a centre\'s status map overrides the bits (file), an HTTP mapping the categories; a broken map stops the start', async () => {
    const centre = new MonitoringCentreReceiver();
    const port = await centre.start();
    cleanup.push(() => centre.close());
    const platform = new UplinkReceiver();
    await platform.start();
    cleanup.push(() => platform.close());
    const dir = tempDir();
    const statusMap = join(dir, 'centre-status-map.json');
    // this centre has no supervisory view (supervisory → fault) and counts residual current as a fire
    writeFileSync(statusMap, JSON.stringify({ alerts: { residual_current_high: 'fire' }, categories: { supervisory: ['fault'] } }));
    const mapping = join(dir, 'http-mapping.json');
    writeFileSync(mapping, JSON.stringify({ format: 'firewatch.uplink/v1', categories: { lane_blocked: 'fault' }, values: { 'data.category': { supervisory: 'SUPERVISE' } } }));
    const env = { ...BASE_ENV, UPLINK_GB26875_ADDR: `127.0.0.1:${port}`, UPLINK_HTTP_URL: platform.url };

    // a broken map: the start fails and says where
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ alerts: { residual_current_hi: 'fire', lane_blocked: ['normal'] } }));
    const refused = await startService({ ...env, UPLINK_GB26875_STATUS_MAP: join(dir, 'broken.json') }).then(
      async (s) => {
        await s.stop();
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(refused).toMatch(/^UPLINK_GB26875_STATUS_MAP .*broken\.json: alerts\.residual_current_hi: unknown rule "residual_current_hi"/);
    expect(refused).toMatch(/alerts\.lane_blocked/);
    await expect(startService({ ...env, UPLINK_GB26875_STATUS_MAP: '{"alerts":{"lane_blocked":"alarm"}}' })).rejects.toThrow(
      /^UPLINK_GB26875_STATUS_MAP \(inline JSON\): alerts\.lane_blocked: a category \(fire, supervisory, fault\) or a list of bits/,
    );

    const clock = new ManualClock();
    const svc = await startService({ ...env, UPLINK_GB26875_STATUS_MAP: statusMap, UPLINK_HTTP_MAPPING: mapping }, tempDir(), { clock });
    cleanup.push(() => svc.stop());
    const d = await provisionAll(svc, 'sb-override');
    const send = sender(clock);
    const pressure = await connectDevice(svc.mqttUrl, d.pressure);
    const lane = await connectDevice(svc.mqttUrl, d.lane);
    const electrical = await connectDevice(svc.mqttUrl, d.electrical);
    const detector = await connectDevice(svc.mqttUrl, d.detector);
    await send(pressure, d.pressure, 'telemetry', { pressureMpa: 0.05 });
    await send(lane, d.lane, 'telemetry', { occupied: true });
    clock.advance(61_000);
    await send(lane, d.lane, 'telemetry', { occupied: true });
    await send(electrical, d.electrical, 'telemetry', { residualCurrentMa: 520 });
    await send(detector, d.detector, 'event', { alarm: true });

    const first = async (deviceId: string, rule: string) => (await waitFor(() => statusOf(centre, deviceId, rule)[0], `${rule} at the centre`, 15_000)) as any;
    expect((await first(d.pressure.deviceId, 'pressure_low')).status).toBe(0x0005); // supervisory → fault here
    expect((await first(d.lane.deviceId, 'lane_blocked')).status).toBe(0x0005);
    expect((await first(d.electrical.deviceId, 'residual_current_high')).status).toBe(0x0003); // listed as a fire
    expect((await first(d.detector.deviceId, 'device_alarm')).status).toBe(0x0003); // default: fire

    const categoryOf = (deviceId: string, rule: string) =>
      platform.unique().find((i) => i.type === 'alert.raised' && i.data.alert.deviceId === deviceId && i.data.alert.rule === rule)?.data.category;
    await waitFor(() => categoryOf(d.detector.deviceId, 'device_alarm'), 'JSON items', 15_000);
    expect(categoryOf(d.pressure.deviceId, 'pressure_low')).toBe('SUPERVISE'); // default category, renamed by `values`
    expect(categoryOf(d.lane.deviceId, 'lane_blocked')).toBe('fault'); // this platform's category
    expect(categoryOf(d.electrical.deviceId, 'residual_current_high')).toBe('SUPERVISE'); // the GB/T map is not the HTTP platform's
    expect(categoryOf(d.detector.deviceId, 'device_alarm')).toBe('fire');
    for (const c of [pressure, lane, electrical, detector]) await endClient(c);
  });
});
