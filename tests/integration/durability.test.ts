/**
 * "Nothing acknowledged is lost": the service runs as a separate process and is killed with
 * SIGKILL while a device streams QoS 1 readings; after a restart on the same DATA_DIR every
 * reading whose PUBACK the device received is stored. Then the same with InfluxDB configured and
 * InfluxDB stopped mid-stream: acknowledged readings wait on disk and reach InfluxDB in order.
 */
import { rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInfluxV1, type InfluxV1Server } from '../support/influxd.js';
import { UplinkReceiver } from '../support/uplink-receiver.js';
import {
  ADMIN_TOKEN,
  ApiClient,
  connectDevice,
  provisionDevice,
  startChildService,
  startService,
  tempDir,
  waitFor,
} from '../support/service.js';

/** Publish seq 0..n-1 at QoS 1 as fast as the broker acknowledges; resolve with the acked seqs once `stopAfterAcks` is reached. */
function stream(client: MqttClient, topic: string, n: number, onAck: (seq: number) => void): void {
  for (let seq = 0; seq < n; seq++) {
    client.publish(topic, JSON.stringify({ seq, ts: Date.now() - 60_000 + seq, pressureMpa: 0.1 + (seq % 50) / 1000 }), { qos: 1 }, (err) => {
      if (!err) onAck(seq);
    });
  }
}

async function allReadings(api: ApiClient, deviceId: string): Promise<number[]> {
  const r = await api.get(`/api/v1/devices/${deviceId}/readings?limit=10000`);
  return (r.body.items as Array<{ seq: number }>).map((x) => x.seq);
}

describe('kill -9 loses no acknowledged reading (embedded SQLite store)', () => {
  it('every acked reading is stored after a SIGKILL and restart', async () => {
    const dataDir = tempDir();
    try {
      let svc = await startChildService({ DATA_DIR: dataDir, DEVICE_RATE_BURST: '100000', DEVICE_RATE_PER_S: '100000' });
      let api = new ApiClient(svc.httpUrl, ADMIN_TOKEN);
      const p = await provisionDevice(api);
      const client = await connectDevice(`mqtt://127.0.0.1:${svc.mqttPort}`, p);
      client.on('error', () => {});
      const acked = new Set<number>();
      stream(client, `fire/v1/${p.deviceId}/telemetry`, 20_000, (s) => acked.add(s));
      await waitFor(() => acked.size >= 2_000, '2000 acks', 30_000, 1);
      await svc.kill('SIGKILL');
      const ackedAtKill = new Set(acked);
      client.end(true);
      expect(ackedAtKill.size).toBeGreaterThanOrEqual(2_000);
      expect(ackedAtKill.size).toBeLessThan(20_000); // the kill really happened mid-stream

      svc = await startChildService({ DATA_DIR: dataDir });
      api = new ApiClient(svc.httpUrl, ADMIN_TOKEN);
      const stored = new Set(await allReadings(api, p.deviceId));
      const lost = [...ackedAtKill].filter((s) => !stored.has(s));
      expect(lost).toEqual([]);
      await svc.kill('SIGTERM');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('InfluxDB v1 as the store', () => {
  let influx: InfluxV1Server;
  beforeAll(async () => {
    influx = await findInfluxV1();
  });
  afterAll(async () => {
    await influx?.dispose();
  });

  it('InfluxDB stopped mid-stream, then restarted: nothing lost, order kept, backlog visible meanwhile', async () => {
    const svc = await startService({ INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_DB: `fw_${Date.now()}`, INFLUX_FLUSH_INTERVAL_MS: '100' });
    try {
      const p = await provisionDevice(svc.api);
      const client = await connectDevice(svc.mqttUrl, p);
      const topic = `fire/v1/${p.deviceId}/telemetry`;
      const base = Date.now() - 3_600_000;
      const send = (from: number, to: number) =>
        Promise.all(
          Array.from({ length: to - from }, (_, i) =>
            client.publishAsync(topic, JSON.stringify({ seq: from + i, ts: base + (from + i) * 1000, pressureMpa: 0.1 }), { qos: 1 }),
          ),
        );
      await send(0, 50);
      await waitFor(async () => (await allReadings(svc.api, p.deviceId)).length === 50, '50 readings in InfluxDB');

      await influx.stop();
      await send(50, 150); // still acknowledged: durable in the outbox
      const ready = await waitFor(async () => {
        const r = await svc.api.get('/readyz');
        return r.status === 503 && r.body.checks.sink.backlog > 0 && r.body.checks.sink.ready === false ? r.body : undefined;
      }, 'readyz to show the backlog');
      expect(ready.checks.sink.ready).toBe(false);
      const metrics = (await svc.api.get('/metrics')).body as string;
      expect(metrics).toMatch(/firewatch_sink_backlog\{sink="influxdb-v1"\} [1-9]/);

      await influx.restart();
      await waitFor(async () => (await svc.api.get('/readyz')).body.checks.sink.backlog === 0, 'backlog drained', 30_000, 100);
      const seqs = await allReadings(svc.api, p.deviceId);
      expect(seqs).toEqual(Array.from({ length: 150 }, (_, i) => 149 - i));
      expect((await svc.api.get('/readyz')).status).toBe(200);
      await client.endAsync();
    } finally {
      await svc.stop();
    }
  });

  it('kill -9 with InfluxDB configured: the outbox survives and drains after restart', async () => {
    const dataDir = tempDir();
    const db = `fw_kill_${Date.now()}`;
    const env = { DATA_DIR: dataDir, INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_DB: db, DEVICE_RATE_BURST: '100000', DEVICE_RATE_PER_S: '100000' };
    try {
      let svc = await startChildService(env);
      let api = new ApiClient(svc.httpUrl, ADMIN_TOKEN);
      const p = await provisionDevice(api);
      await influx.stop(); // everything acked from now on waits in the outbox
      const client = await connectDevice(`mqtt://127.0.0.1:${svc.mqttPort}`, p);
      client.on('error', () => {});
      const acked = new Set<number>();
      stream(client, `fire/v1/${p.deviceId}/telemetry`, 5_000, (s) => acked.add(s));
      await waitFor(() => acked.size >= 500, '500 acks', 30_000, 1);
      await svc.kill('SIGKILL');
      const ackedAtKill = new Set(acked);
      client.end(true);
      await influx.restart();
      svc = await startChildService(env);
      api = new ApiClient(svc.httpUrl, ADMIN_TOKEN);
      await waitFor(async () => (await api.get('/readyz')).body.checks.sink.backlog === 0, 'outbox drained', 30_000, 100);
      const stored = new Set(await allReadings(api, p.deviceId));
      expect([...ackedAtKill].filter((s) => !stored.has(s))).toEqual([]);
      await svc.kill('SIGTERM');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('kill -9 with the platform uplink forwarding every reading', () => {
  it('every acknowledged reading reaches the platform after the restart (queued in the same transaction as the reading)', async () => {
    const dataDir = tempDir();
    const platform = new UplinkReceiver();
    const url = await platform.start();
    platform.mode = 'fail'; // the platform is down while we stream, so everything waits in the outbox
    const env = { DATA_DIR: dataDir, UPLINK_HTTP_URL: url, UPLINK_READINGS: 'all', DEVICE_RATE_BURST: '100000', DEVICE_RATE_PER_S: '100000' };
    try {
      let svc = await startChildService(env);
      const api = new ApiClient(svc.httpUrl, ADMIN_TOKEN);
      const p = await provisionDevice(api);
      const client = await connectDevice(`mqtt://127.0.0.1:${svc.mqttPort}`, p);
      client.on('error', () => {});
      const acked = new Set<number>();
      stream(client, `fire/v1/${p.deviceId}/telemetry`, 5_000, (s) => acked.add(s));
      await waitFor(() => acked.size >= 500, '500 acks', 30_000, 1);
      await svc.kill('SIGKILL');
      const ackedAtKill = new Set(acked);
      client.end(true);
      platform.mode = 'ok';
      svc = await startChildService(env);
      const forwarded = () =>
        new Set(platform.unique().filter((i) => i.type === 'reading' && i.deviceId === p.deviceId).map((i) => i.data.seq as number));
      await waitFor(() => [...ackedAtKill].every((s) => forwarded().has(s)), 'every acked reading forwarded', 60_000, 100);
      // in order per device
      const order = platform.unique().filter((i) => i.type === 'reading' && i.deviceId === p.deviceId).map((i) => i.data.seq as number);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      await svc.kill('SIGTERM');
    } finally {
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
