/**
 * The original defect, through the wire: 200 QoS 1 readings WITHOUT device timestamps from one
 * device, in two bursts of 100 with InfluxDB stopped between them; every one was acknowledged and
 * InfluxDB held 64 points (readings stamped with the same receive millisecond were one point).
 * Here the service runs with INFLUX_API=v1 against a private influxd 1.x (tests/support/influxd.ts):
 * burst 1 is forwarded, influxd is stopped, burst 2 waits in the reading log (/readyz shows the
 * sink backlog), influxd comes back, the backlog drains, and InfluxDB holds one point per reading:
 * 200, as many as SQLite's `readings` has for the device. And the same-millisecond case at its
 * sharpest: one payload carrying an array of 50 readings without ts (one receive time for all).
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findInfluxV1, type InfluxV1Server } from '../support/influxd.js';
import { connectDevice, endClient, provisionDevice, publish, startService, type TestService } from '../support/service.js';

interface Readyz {
  ready: boolean;
  checks: { sink?: { ready: boolean; backlog: number; backlogAgeS: number; lastError?: string } } & Record<string, unknown>;
}

describe('InfluxDB v1 through the wire: one point per acknowledged reading', () => {
  let influx: InfluxV1Server;
  let svc: TestService | undefined;
  let influxDb: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    influx = await findInfluxV1();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await endClient(c);
    await svc?.stop();
    svc = undefined;
    if (influx) {
      await fetch(`${influx.url}/query?q=${encodeURIComponent(`DROP DATABASE "${influxDb}"`)}`, { method: 'POST' }).catch(() => undefined);
    }
  });

  afterAll(async () => {
    await influx?.dispose();
  });

  async function boot(): Promise<TestService> {
    influxDb = `wire_${randomUUID().replaceAll('-', '')}`;
    svc = await startService({
      INFLUX_URL: influx.url,
      INFLUX_API: 'v1',
      INFLUX_DB: influxDb,
      INFLUX_FLUSH_INTERVAL_MS: '50',
      DEVICE_RATE_BURST: '10000',
      DEVICE_RATE_PER_S: '10000',
    });
    return svc;
  }

  async function device(s: TestService): Promise<{ deviceId: string; client: MqttClient; topic: string }> {
    const p = await provisionDevice(s.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 });
    const client = await connectDevice(s.mqttUrl, p);
    clients.push(client);
    return { deviceId: p.deviceId, client, topic: `fire/v1/${p.deviceId}/telemetry` };
  }

  /** 100 QoS 1 publishes at once, no ts, distinct seq; resolves when every PUBACK is in. */
  function burst(client: MqttClient, topic: string, fromSeq: number, n = 100): Promise<unknown[]> {
    return Promise.all(
      Array.from({ length: n }, (_, i) => client.publishAsync(topic, JSON.stringify({ seq: fromSeq + i, pressureMpa: 0.3 + (i % 10) / 1000 }), { qos: 1 })),
    );
  }

  async function readyz(s: TestService): Promise<Readyz> {
    return (await s.api.get<Readyz>('/readyz')).body;
  }

  /** Points InfluxDB holds for the device, counted by influxd itself. */
  async function countPoints(deviceId: string): Promise<number> {
    const url = new URL(`${influx.url}/query`);
    url.searchParams.set('db', influxDb);
    url.searchParams.set('q', `SELECT COUNT("pressure_mpa") FROM "water_pressure" WHERE "device" = '${deviceId}'`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Array<{ error?: string; series?: Array<{ values: unknown[][] }> }> };
    expect(body.results[0]?.error).toBeUndefined();
    return Number(body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
  }

  /** What SQLite's `readings` (the reading log) holds for the device: rows and distinct receive milliseconds. */
  function sqliteRows(s: TestService, deviceId: string): { rows: number; distinctTs: number; serverTs: number; seqs: number[] } {
    const db = new Database(join(s.dataDir, 'readings.db'), { readonly: true, fileMustExist: true });
    try {
      const r = db
        .prepare('SELECT COUNT(*) AS rows, COUNT(DISTINCT ts) AS distinctTs, SUM(server_ts) AS serverTs FROM readings WHERE device_id = ?')
        .get(deviceId) as { rows: number; distinctTs: number; serverTs: number };
      const seqs = db.prepare('SELECT seq FROM readings WHERE device_id = ? ORDER BY seq').pluck().all(deviceId) as number[];
      return { ...r, seqs };
    } finally {
      db.close();
    }
  }

  it('200 readings without ts in two bursts around an InfluxDB outage: all acknowledged, 200 points', async (ctx) => {
    if (!influx.controllable) {
      console.warn('outage test skipped: INFLUX_V1_URL is an external server the test cannot stop');
      ctx.skip();
    }
    const s = await boot();
    const { deviceId, client, topic } = await device(s);

    const acks1 = await burst(client, topic, 0);
    expect(acks1).toHaveLength(100);
    await expect
      .poll(async () => (await readyz(s)).checks.sink?.backlog, { timeout: 20_000, interval: 50, message: 'burst 1 forwarded' })
      .toBe(0);
    expect(await countPoints(deviceId)).toBe(100);

    await influx.stop();
    // acknowledged although InfluxDB is down: the PUBACK waits only for the reading log
    const acks2 = await burst(client, topic, 100);
    expect(acks2).toHaveLength(100);
    await expect
      .poll(async () => {
        const sink = (await readyz(s)).checks.sink;
        return sink?.ready === false && sink.backlog > 0;
      }, { timeout: 20_000, interval: 50, message: 'readyz to show the sink backlog' })
      .toBe(true);
    const during = await readyz(s);
    expect(during.ready).toBe(false);
    expect(during.checks.sink).toMatchObject({ ready: false, backlog: 100, lastError: expect.stringMatching(/unreachable|timed out/) });

    await influx.restart();
    await expect
      .poll(async () => (await readyz(s)).checks.sink, { timeout: 90_000, interval: 100, message: 'the backlog to drain after the restart' })
      .toMatchObject({ ready: true, backlog: 0 });

    const rows = sqliteRows(s, deviceId);
    expect(rows.rows).toBe(200);
    expect(rows.serverTs).toBe(200); // every one stamped with our receive time
    expect(rows.seqs).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(await countPoints(deviceId)).toBe(200);
    expect(await countPoints(deviceId)).toBe(rows.rows);
    // readings really shared receive milliseconds (the condition that merged points before: a
    // burst read from one socket is stamped in a handful of ms; 9–13 distinct ms seen locally)
    console.info(`influx-wire-points: 200 readings in ${rows.distinctTs} distinct receive milliseconds`);
    expect(rows.distinctTs).toBeLessThan(200);
    // through the API (the InfluxDB store): every reading, newest first
    const api = (await s.api.get(`/api/v1/devices/${deviceId}/readings?limit=1000`)).body as { items: Array<{ seq: number }> };
    expect(api.items.map((r) => r.seq).sort((a, b) => a - b)).toEqual(rows.seqs);
  });

  it('one payload with an array of 50 readings without ts (one receive time): 50 points', async () => {
    const s = await boot();
    const withSeq = await device(s);
    const withoutSeq = await device(s);
    await publish(
      withSeq.client,
      withSeq.topic,
      Array.from({ length: 50 }, (_, i) => ({ seq: i, pressureMpa: 0.3 + i / 1000 })),
    );
    // not even a seq: nothing but the log position tells these 50 apart
    await publish(
      withoutSeq.client,
      withoutSeq.topic,
      Array.from({ length: 50 }, (_, i) => ({ pressureMpa: 0.4 + i / 1000 })),
    );
    await expect
      .poll(async () => (await readyz(s)).checks.sink?.backlog, { timeout: 20_000, interval: 50, message: 'both arrays forwarded' })
      .toBe(0);

    for (const d of [withSeq, withoutSeq]) {
      const rows = sqliteRows(s, d.deviceId);
      expect(rows).toMatchObject({ rows: 50, distinctTs: 1, serverTs: 50 });
      expect(await countPoints(d.deviceId)).toBe(50);
    }
    const stored = (await s.api.get(`/api/v1/devices/${withSeq.deviceId}/readings?limit=1000`)).body as { items: Array<{ seq: number; ts: string | number }> };
    expect(stored.items.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Set(stored.items.map((r) => r.ts)).size).toBe(1);
  });
});
