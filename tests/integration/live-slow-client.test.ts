/** A slow live-feed client never slows ingestion: it is cut off and resumes without loss. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { LiveClient } from '../support/live.js';
import { ADMIN_TOKEN, connectDevice, endClient, metricValue, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startService({ LIVE_MAX_BUFFER_BYTES: '65536', DEVICE_RATE_PER_S: '100000', DEVICE_RATE_BURST: '100000' }, undefined, { clock: new ManualClock() });
});
afterAll(async () => {
  await svc?.stop();
});

it('a client that stops reading is disconnected with 4008 while every publish is acknowledged; it then resumes with since', async () => {
  const p = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 });
  await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules: { residual_current_high: { forS: 0, clearS: 0 } } });
  const slow = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
  const resumeFrom = slow.lastSeq();
  (slow.ws as any)._socket.pause(); // stop reading: the server's buffer for this client grows
  const client = await connectDevice(svc.mqttUrl, p);
  // flip the condition until the server gives up on the slow client (kernel buffers absorb the
  // first few MB, so the count is not fixed); bounded
  const dropped = async () => metricValue((await svc.api.get('/metrics')).body, 'firewatch_live_clients_dropped_total');
  let N = 0;
  while ((await dropped()) === 0 && N < 20_000) {
    for (let j = 0; j < 250; j++, N++) await publish(client, `fire/v1/${p.deviceId}/telemetry`, { seq: N, residualCurrentMa: N % 2 === 0 ? 500 : 10 });
  }
  expect(await dropped()).toBe(1);
  await endClient(client);
  // ingestion went on: every reading is stored
  const stored = (await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=10000`)).body.items;
  expect(stored).toHaveLength(N);
  (slow.ws as any)._socket.resume();
  await waitFor(() => slow.closeCode !== undefined, 'slow client cut off', 20_000);
  expect(slow.closeCode).toBe(4008);
  // nothing is lost: a reconnect with its last sequence number replays the rest
  const received = slow.events.length;
  const again = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN, { since: slow.lastSeq() });
  const total = (await svc.api.get(`/api/v1/alerts?deviceId=${p.deviceId}`)).body.items[0].history.length - 1; // raised + N-1 changes
  await waitFor(() => received + again.events.length >= total, 'replay after cut-off', 20_000);
  const seqs = [...slow.events, ...again.events].map((e) => e.seq);
  expect(seqs[0]).toBeGreaterThan(resumeFrom);
  expect(new Set(seqs).size).toBe(seqs.length);
  await again.close();
});
