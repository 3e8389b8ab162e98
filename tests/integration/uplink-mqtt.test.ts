/**
 * The MQTT bridge against the real Mosquitto on 127.0.0.1:1883 (the remote broker), read by a
 * real mqtt.js subscriber: QoS 1 publishes on the topic template, a restart mid-stream on the same
 * DATA_DIR, and every alert arriving exactly once after de-duplication by id, in order per device.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, provisionDevice, publish, startService, tempDir, waitFor, type TestService } from '../support/service.js';

const MOSQUITTO = process.env.UPLINK_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

function subscribe(topic: string): Promise<{ client: MqttClient; messages: Array<{ topic: string; body: any }> }> {
  const messages: Array<{ topic: string; body: any }> = [];
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(MOSQUITTO, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    client.on('message', (t, p) => messages.push({ topic: t, body: JSON.parse(p.toString()) }));
    client.once('error', (err) => reject(new Error(`Mosquitto at ${MOSQUITTO} is required for this test: ${err.message}`)));
    client.once('connect', () => client.subscribe(topic, { qos: 1 }, (err) => (err ? reject(err) : resolve({ client, messages }))));
  });
}

describe('MQTT bridge to a remote broker (Mosquitto)', () => {
  it('publishes alerts and readings with QoS 1 on the topic template, across a restart', async () => {
    const prefix = `fwtest-${randomBytes(4).toString('hex')}`;
    const sub = await subscribe(`${prefix}/#`);
    cleanup.push(() => new Promise<void>((r) => sub.client.end(true, {}, () => r())));
    const env = { UPLINK_MQTT_URL: MOSQUITTO, UPLINK_MQTT_TOPIC: `${prefix}/{type}/{buildingId}/{deviceId}`, UPLINK_READINGS: '60s' };
    const dataDir = tempDir();
    let clock = new ManualClock();
    let svc: TestService = await startService(env, dataDir, { clock });
    cleanup.push(() => svc.stop());
    await svc.api.post('/api/v1/buildings', { id: 'mq-b', name: '朝天门大厦', street: '朝天门', type: 'public', heightM: 50, use: 'office' });
    const dev = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 86_400 }, 'mq-b');
    await svc.api.patch(`/api/v1/devices/${dev.deviceId}`, { rules: { lane_blocked: { forS: 60, clearS: 30 } } });
    let client = await connectDevice(svc.mqttUrl, dev);
    let seq = 0;
    const lane = async (occupied: boolean) => publish(client, `fire/v1/${dev.deviceId}/telemetry`, { seq: ++seq, ts: clock.now(), occupied });
    await waitFor(async () => (await svc.api.get('/api/v1/uplink')).body.adapters[0].lastSuccessAt !== null, 'bridge connected and first item sent', 15_000);

    await lane(true);
    clock.advance(61_000);
    await lane(true); // blocked for 60 s: lane_blocked raised
    clock.advance(1_000);
    await lane(true); // sampled away (60s per device)
    await waitFor(() => sub.messages.some((m) => m.body.type === 'alert.raised'), 'alert.raised on the remote broker', 15_000);

    // restart mid-stream
    await endClient(client);
    await svc.stop({ keepData: true });
    clock = new ManualClock(clock.now() + 1_000);
    svc = await startService(env, dataDir, { clock });
    client = await connectDevice(svc.mqttUrl, dev);
    await lane(false);
    clock.advance(31_000);
    await lane(false); // free for 30 s: cleared
    await waitFor(async () => {
      const ids = new Set(sub.messages.map((m) => m.body.id));
      // incidents are the duty board's grouping of alerts the platforms get one by one: not forwarded
      const expected = (await svc.fw.feed.since(0, 10_000)).filter((e) => !e.type.startsWith('incident.')).map((e) => (e.type.startsWith('alert.') ? `${e.type}:${(e.data.alert as any).id}:${e.seq}` : `${e.type}:${e.data.deviceId}:${e.seq}`));
      return expected.every((id) => ids.has(id)) && expected.some((id) => id.startsWith('alert.cleared'));
    }, 'every feed event on the remote broker', 20_000);

    const raised = sub.messages.find((m) => m.body.type === 'alert.raised')!;
    expect(raised.topic).toBe(`${prefix}/alert.raised/mq-b/${dev.deviceId}`);
    expect(raised.body).toMatchObject({ version: 'firewatch.uplink/v1', deviceId: dev.deviceId, buildingId: 'mq-b', street: '朝天门', data: { alert: { rule: 'lane_blocked' }, category: 'supervisory' } });
    const unique = [...new Map(sub.messages.map((m) => [m.body.id, m.body])).values()];
    const alertSeqs = unique.filter((b) => b.deviceId === dev.deviceId && b.type.startsWith('alert.')).map((b) => Number(b.id.split(':').pop()));
    expect(alertSeqs).toEqual([...alertSeqs].sort((a, b) => a - b));
    const readings = unique.filter((b) => b.type === 'reading');
    // one reading per device per 60 s: seq 3 came 1 s after seq 2, seq 5 31 s after seq 4 (sampling starts afresh after a restart)
    expect(readings.map((r) => r.data.seq)).toEqual([1, 2, 4]);
    await endClient(client);
  });
});
