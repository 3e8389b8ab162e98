/** The embedded store's retention: readings older than READINGS_RETENTION_DAYS go, newer ones stay. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

let svc: TestService;
let clock: ManualClock;
beforeAll(async () => {
  clock = new ManualClock();
  svc = await startService({ READINGS_RETENTION_DAYS: '1' }, undefined, { clock });
});
afterAll(async () => {
  await svc?.stop();
});

it('deletes readings received more than the retention ago, hourly, and keeps the rest', async () => {
  const p = await provisionDevice(svc.api, { kind: 'water_level', reportIntervalS: 86_400 });
  const c = await connectDevice(svc.mqttUrl, p);
  for (let i = 0; i < 5; i++) await publish(c, `fire/v1/${p.deviceId}/telemetry`, { seq: i, levelM: 3 });
  clock.advance(20 * 3_600_000);
  for (let i = 5; i < 8; i++) await publish(c, `fire/v1/${p.deviceId}/telemetry`, { seq: i, levelM: 3 });
  await endClient(c);
  const seqs = async () => ((await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=100`)).body.items as any[]).map((r) => r.seq);
  expect(await seqs()).toHaveLength(8);
  clock.advance(5 * 3_600_000); // 25 h after the first five, 5 h after the last three
  await waitFor(async () => (await seqs()).length === 3, 'retention');
  expect(await seqs()).toEqual([7, 6, 5]);
});
