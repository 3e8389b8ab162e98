/** UPLINK_READINGS per kind: electrical-fire readings all go to the platform, other kinds none. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';
import { UplinkReceiver } from '../support/uplink-receiver.js';

let svc: TestService;
let platform: UplinkReceiver;
beforeAll(async () => {
  platform = new UplinkReceiver();
  const url = await platform.start();
  svc = await startService({ UPLINK_HTTP_URL: url, UPLINK_READINGS: 'electrical_fire=all,*=none' });
});
afterAll(async () => {
  await svc?.stop();
  await platform?.close();
});

it('forwards the kinds the policy names and nothing else', async () => {
  const ef = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 });
  const wp = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 }, ef.buildingId);
  const cw = await connectDevice(svc.mqttUrl, wp);
  const ce = await connectDevice(svc.mqttUrl, ef);
  for (let i = 0; i < 3; i++) await publish(cw, `fire/v1/${wp.deviceId}/telemetry`, { seq: i, pressureMpa: 0.3 });
  for (let i = 0; i < 3; i++) await publish(ce, `fire/v1/${ef.deviceId}/telemetry`, { seq: i, residualCurrentMa: 120 });
  await Promise.all([endClient(cw), endClient(ce)]);
  const readings = () => platform.unique().filter((i) => i.type === 'reading');
  // one lane delivers in insertion order: once the last electrical reading arrived, anything queued before it has too
  await waitFor(() => readings().some((i) => i.deviceId === ef.deviceId && i.data.seq === 2), 'electrical readings forwarded');
  expect(readings().map((i) => [i.deviceId, i.data.seq])).toEqual([0, 1, 2].map((s) => [ef.deviceId, s]));
});
