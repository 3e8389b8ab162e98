/**
 * The platform uplink over HTTP against a real node:http receiver: the platform fails (503),
 * times out, refuses one item (400 → dead letter), the service restarts mid-stream on the same
 * DATA_DIR, the platform recovers. Every alert and reading reaches it; after de-duplication by
 * idempotency key each exactly once, in order per device. Retries are driven by a ManualClock.
 */
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, metricValue, provisionDevice, publish, startService, tempDir, waitFor, type Provisioned, type TestService } from '../support/service.js';
import { UplinkReceiver } from '../support/uplink-receiver.js';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function uplinkStatus(svc: TestService, name = 'http') {
  const r = await svc.api.get('/api/v1/uplink');
  expect(r.status).toBe(200);
  return r.body.adapters.find((a: any) => a.name === name);
}

/** Expected items from the service's own feed log: every alert.* and device.* event (incidents are the duty board's, not forwarded). */
async function expectedFeedIds(svc: TestService): Promise<string[]> {
  return (await svc.fw.feed.since(0, 100_000))
    .filter((e) => !e.type.startsWith('incident.'))
    .map((e) => (e.type.startsWith('alert.') ? `${e.type}:${(e.data.alert as any).id}:${e.seq}` : `${e.type}:${e.data.deviceId}:${e.seq}`));
}

function assertOrderPerDevice(items: any[]): void {
  const byDevice = new Map<string, any[]>();
  for (const i of items) if (i.deviceId) byDevice.set(i.deviceId, [...(byDevice.get(i.deviceId) ?? []), i]);
  for (const [, list] of byDevice) {
    const feedSeqs = list.filter((i) => !i.type.startsWith('reading')).map((i) => Number(i.id.split(':').pop()));
    expect(feedSeqs).toEqual([...feedSeqs].sort((a, b) => a - b));
    const seqs = list.filter((i) => i.type === 'reading').map((i) => i.data.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  }
}

describe('HTTP uplink: outage, timeout, refusal, restart, recovery', () => {
  it('delivers every alert and reading exactly once after de-duplication, in order per device', async () => {
    const platform = new UplinkReceiver();
    await platform.start();
    cleanup.push(() => platform.close());
    const dataDir = tempDir();
    const env = {
      UPLINK_HTTP_URL: platform.url,
      UPLINK_HTTP_TOKEN: 'platform-token-1',
      UPLINK_HTTP_TIMEOUT_MS: '300',
      UPLINK_READINGS: 'all',
      UPLINK_DEAD_LETTER_AFTER_S: '86400',
      ALERT_ACK_S: '86400',
      ALERT_CLOSE_S: '86400',
    };
    let clock = new ManualClock();
    let svc = await startService(env, dataDir, { clock });
    cleanup.push(() => svc.stop());

    const b = await svc.api.post('/api/v1/buildings', { id: 'uplink-tower', name: '解放碑大厦', street: '解放碑', type: 'public', heightM: 80, use: 'office' });
    expect(b.status).toBe(201);
    const spec = { kind: 'electrical_fire', reportIntervalS: 86_400 };
    const devs: Provisioned[] = [await provisionDevice(svc.api, spec, 'uplink-tower'), await provisionDevice(svc.api, spec, 'uplink-tower')];
    for (const d of devs) {
      expect((await svc.api.patch(`/api/v1/devices/${d.deviceId}`, { rules: { residual_current_high: { forS: 0, clearS: 0 } } })).status).toBe(200);
    }
    let clients: MqttClient[] = await Promise.all(devs.map((d) => connectDevice(svc.mqttUrl, d)));
    const seq = new Map<string, number>();
    /** one raise and one clear per device; each reading is forwarded too */
    const cycle = async (extra: Record<string, unknown> = {}) => {
      for (const [i, d] of devs.entries()) {
        for (const ma of [500, 100]) {
          const n = (seq.get(d.deviceId) ?? 0) + 1;
          seq.set(d.deviceId, n);
          await publish(clients[i]!, `fire/v1/${d.deviceId}/telemetry`, { seq: n, ts: clock.now(), residualCurrentMa: ma, ...extra });
        }
      }
    };

    // 1. platform up
    await cycle();
    await waitFor(async () => (await uplinkStatus(svc)).backlog === 0 && platform.items().length > 0, 'first delivery');
    expect(platform.accepted[0]!.headers.authorization).toBe('Bearer platform-token-1');
    expect(platform.accepted[0]!.body.version).toBe('firewatch.uplink/v1');

    // 2. platform down (503): items wait, retries and the error are visible in the API and metrics
    platform.mode = 'fail';
    await cycle();
    await waitFor(async () => (await uplinkStatus(svc)).retries >= 1, 'a failed attempt');
    let st = await uplinkStatus(svc);
    expect(st.backlog).toBeGreaterThan(0);
    expect(st.lastError).toContain('HTTP 503');
    const metrics = (await svc.api.get('/metrics')).body as string;
    expect(metricValue(metrics, 'firewatch_uplink_backlog', { adapter: 'http' })).toBe(st.backlog);
    expect(metricValue(metrics, 'firewatch_uplink_retries_total', { adapter: 'http' })).toBeGreaterThanOrEqual(1);
    clock.advance(2_000); // the first retry (1 s nominal, with jitter) fails too
    await waitFor(async () => (await uplinkStatus(svc)).retries >= 2, 'the second failed attempt');

    // 3. platform hangs: the request times out and is retried
    platform.mode = 'hang';
    clock.advance(5_000);
    await waitFor(async () => (await uplinkStatus(svc)).lastError?.includes('timeout'), 'a timeout');
    await cycle();

    // 4. restart mid-stream on the same DATA_DIR while the platform is still down
    for (const c of clients) await endClient(c);
    const before = (await uplinkStatus(svc)).backlog;
    expect(before).toBeGreaterThan(0);
    await svc.stop({ keepData: true });
    platform.mode = 'fail';
    clock = new ManualClock(clock.now() + 1_000);
    svc = await startService(env, dataDir, { clock });
    expect((await uplinkStatus(svc)).backlog).toBeGreaterThanOrEqual(before);
    clients = await Promise.all(devs.map((d) => connectDevice(svc.mqttUrl, d)));
    await cycle();

    // 5. one item the platform refuses for good (400): only it is dead-lettered
    platform.mode = 'ok';
    platform.poison = (i) => i.type === 'reading' && i.data.fields.residualCurrentMa === 777;
    const d0 = devs[0]!;
    const n = (seq.get(d0.deviceId) ?? 0) + 1;
    seq.set(d0.deviceId, n);
    await publish(clients[0]!, `fire/v1/${d0.deviceId}/telemetry`, { seq: n, ts: clock.now(), residualCurrentMa: 777 });
    // past any backoff: the backlog goes out. Items are queued by the processors just after each
    // PUBACK, and a send already in flight when the platform came back fails and backs off from
    // the clock of that moment, so the clock keeps moving while we wait.
    await svc.fw.processors.idle();
    await waitFor(
      async () => {
        clock.advance(10 * 60_000);
        return (await uplinkStatus(svc)).backlog === 0;
      },
      'backlog drained after recovery',
      20_000,
    );
    await cycle();
    await waitFor(async () => (await uplinkStatus(svc)).backlog === 0, 'last cycle delivered');

    st = await uplinkStatus(svc);
    expect(st).toMatchObject({ backlog: 0, deadLetters: 1, lastError: null });
    expect(st.lastSuccessAt).not.toBeNull();
    const dead = await svc.api.get('/api/v1/uplink/dead-letters');
    expect(dead.body.items).toHaveLength(1);
    expect(dead.body.items[0]).toMatchObject({ adapter: 'http', item: { type: 'reading', deviceId: d0.deviceId } });
    expect(dead.body.items[0].reason).toContain('HTTP 400');

    // every alert and presence event of both runs arrived; after de-duplication each once, in order per device
    const unique = platform.unique();
    const ids = new Set(unique.map((i) => i.id));
    const expected = await expectedFeedIds(svc);
    // per device: one raise, then each cycle clears and recurs (a hazard stays open until a person closes it)
    expect(expected.filter((e) => e.startsWith('alert.raised'))).toHaveLength(devs.length);
    expect(expected.filter((e) => e.startsWith('alert.')).length).toBeGreaterThanOrEqual(devs.length * 9);
    expect(expected.filter((id) => !ids.has(id))).toEqual([]);
    const readings = unique.filter((i) => i.type === 'reading');
    const sentReadings = [...seq.values()].reduce((a, b) => a + b, 0);
    expect(readings).toHaveLength(sentReadings - 1); // all but the refused one
    assertOrderPerDevice(unique);
    for (const c of clients) await endClient(c);
  });
});

describe('HTTP uplink: dead letters by age, HMAC signature and field mapping', () => {
  it('dead-letters items older than UPLINK_DEAD_LETTER_AFTER_S, signs with HMAC and applies the mapping file', async () => {
    const platform = new UplinkReceiver();
    await platform.start();
    cleanup.push(() => platform.close());
    const dir = tempDir();
    const mappingFile = join(dir, 'mapping.json');
    writeFileSync(
      mappingFile,
      JSON.stringify({
        format: 'firewatch.uplink/v1',
        envelope: { items: 'records', sentAt: 'sendTime' },
        fields: { id: 'msgId', type: 'eventType', occurredAt: 'time', buildingId: 'unitCode', 'data.building.name': 'unitName' },
        values: { type: { 'building.created': 'UNIT_ADD' } },
        constants: { operator: 'yuzhong-firewatch' },
      }),
    );
    const clock = new ManualClock();
    const svc = await startService(
      { UPLINK_HTTP_URL: platform.url, UPLINK_HTTP_HMAC_SECRET: 's3cret', UPLINK_HTTP_MAPPING: mappingFile, UPLINK_DEAD_LETTER_AFTER_S: '60' },
      undefined,
      { clock },
    );
    cleanup.push(() => svc.stop());

    // a building change while the platform is down for longer than the dead-letter age
    platform.mode = 'fail';
    await svc.api.post('/api/v1/buildings', { id: 'old-one', name: '旧楼', street: '七星岗', type: 'residential', use: 'residence' });
    await waitFor(async () => (await uplinkStatus(svc)).retries >= 1, 'a failed attempt');
    clock.advance(120_000); // the retry due after ~1 s runs (and fails) at t+1 s …
    await waitFor(async () => (await uplinkStatus(svc)).retries >= 2, 'the retry');
    clock.advance(10_000); // … the next one finds the item older than 60 s
    await waitFor(async () => (await uplinkStatus(svc)).deadLetters === 1, 'expired item dead-lettered');
    const dead = (await svc.api.get('/api/v1/uplink/dead-letters?adapter=http')).body.items;
    expect(dead[0].reason).toBe('not accepted within 60 s');
    expect(dead[0].item.type).toBe('building.created');

    // the platform is back: a new change goes out, signed and mapped
    platform.mode = 'ok';
    await svc.api.post('/api/v1/buildings', { id: 'new-one', name: '新楼', street: '大坪', type: 'public', use: 'office' });
    await waitFor(() => platform.accepted.length === 1, 'mapped delivery');
    const batch = platform.accepted[0]!;
    const sig = String(batch.headers['x-firewatch-signature']);
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
    expect(m).not.toBeNull();
    expect(m![2]).toBe(createHmac('sha256', 's3cret').update(`${m![1]}.${batch.raw}`).digest('hex'));
    expect(batch.headers.authorization).toBeUndefined();
    expect(Object.keys(batch.body).sort()).toEqual(['records', 'sendTime', 'version']);
    expect(batch.body.records).toEqual([
      { msgId: expect.stringMatching(/^building\.created:new-one:/), eventType: 'UNIT_ADD', time: expect.any(String), unitCode: 'new-one', unitName: '新楼', operator: 'yuzhong-firewatch' },
    ]);
  });
});
