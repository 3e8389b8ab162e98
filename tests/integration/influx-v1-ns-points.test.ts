/**
 * One point per acknowledged reading in a real InfluxDB 1.x (tests/support/influxd.ts: a private
 * influxd, or INFLUX_V1_URL). InfluxDB keys a point by measurement + tags + time; readings of one
 * device in the same millisecond used to become one point (200 readings → 64 points). Now the time
 * is ts * 10^6 + (logId mod 10^6) ns (influx-mapping.ts, "time"): 200 readings are 200 points, and a
 * replay of them overwrites those points instead of adding any.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxV1Store } from '../../services/storage/influx/influx-v1-store.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { findInfluxV1, type InfluxV1Server } from '../support/influxd.js';

const HOUR = 3_600_000;
/** Yesterday on the hour, plus an odd millisecond: inside the default retention, never in the future. */
const T = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR + 417;
const N = 200;
/** Log positions that cross a multiple of 10^6, where the ns offset inside the ms wraps to 0. */
const FIRST_LOG_ID = 41_999_900;

describe('InfluxV1Store: one point per reading at ns precision', () => {
  let server: InfluxV1Server;
  let store: InfluxV1Store;
  const db = `ns_points_${randomUUID().replaceAll('-', '')}`;

  beforeAll(async () => {
    server = await findInfluxV1();
    store = new InfluxV1Store({ url: server.url, db }, { timeoutMs: 5000 });
  });

  afterAll(async () => {
    await store?.close();
    if (server) {
      await fetch(`${server.url}/query?q=${encodeURIComponent(`DROP DATABASE "${db}"`)}`, { method: 'POST' }).catch(() => undefined);
      await server.dispose();
    }
  });

  /** InfluxQL straight to the server, times in ns as text (JSON numbers lose digits past 2^53). */
  async function influxql(q: string): Promise<{ columns: string[]; values: unknown[][] } | undefined> {
    const url = new URL(`${server.url}/query`);
    url.searchParams.set('db', db);
    url.searchParams.set('q', q);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Array<{ error?: string; series?: Array<{ columns: string[]; values: unknown[][] }> }> };
    expect(body.results[0]?.error).toBeUndefined();
    return body.results[0]?.series?.[0];
  }

  async function countPoints(deviceId: string, measurement = 'water_pressure'): Promise<number> {
    const series = await influxql(`SELECT COUNT("pressure_mpa") FROM "${measurement}" WHERE "device" = '${deviceId}'`);
    return Number(series?.values[0]?.[1] ?? 0);
  }

  function burst(deviceId: string, n: number, firstLogId: number, ts = T): Reading[] {
    // Server-stamped readings of one device, no seq: only the log position tells them apart.
    return Array.from({ length: n }, (_, i) => ({
      deviceId,
      kind: 'water_pressure',
      channel: 'telemetry',
      ts,
      serverTs: true,
      logId: firstLogId + i,
      fields: { pressureMpa: i / 1000 },
      buildingId: 'B-7',
    }));
  }

  it('stores 200 same-millisecond readings with distinct logIds as 200 points, and a replay keeps 200', async () => {
    const device = `ns-burst-${randomUUID().slice(0, 8)}`;
    const readings = burst(device, N, FIRST_LOG_ID);
    await store.write(readings);
    expect(await countPoints(device)).toBe(N);

    // The replay: the same readings again, in other batches and another order.
    await store.write(readings);
    for (let i = 0; i < N; i += 37) await store.write(readings.slice(i, i + 37).reverse());
    expect(await countPoints(device)).toBe(N);

    // Through the store: every reading once, ts back in epoch ms, its fields intact.
    const got = await store.query({ deviceId: device, limit: 10 * N });
    expect(got).toHaveLength(N);
    expect(got.every((r) => r.ts === T)).toBe(true);
    expect(got.map((r) => r.fields.pressureMpa as number).sort((a, b) => a - b)).toEqual(readings.map((r) => r.fields.pressureMpa));
  });

  it('stores each point at ts * 10^6 + logId mod 10^6 ns and reads it back as ts ms (floor, not round)', async () => {
    const device = `ns-time-${randomUUID().slice(0, 8)}`;
    // Offsets 999 998, 999 999, 0, 1, 500 000: both ends of the ms and its middle.
    const readings = [...burst(device, 4, 6_999_998), ...burst(device, 1, 8_500_000)];
    await store.write(readings);
    const url = new URL(`${server.url}/query`);
    url.searchParams.set('db', db);
    url.searchParams.set('q', `SELECT "pressure_mpa" FROM "water_pressure" WHERE "device" = '${device}'`);
    // epoch=ns answers in JSON numbers, which JSON.parse would round; read the digits from the text.
    url.searchParams.set('epoch', 'ns');
    const text = await (await fetch(url)).text();
    const times = [...text.matchAll(/\[(\d{19}),/g)].map((m) => m[1]);
    expect(times.sort()).toEqual([`${T}000000`, `${T}000001`, `${T}500000`, `${T}999998`, `${T}999999`]);
    const got = await store.query({ deviceId: device, limit: 10 });
    expect(got.map((r) => r.ts)).toEqual([T, T, T, T, T]);
  });

  it('includes the whole `to` millisecond and nothing outside [from, to]', async () => {
    const device = `ns-bounds-${randomUUID().slice(0, 8)}`;
    // At T - 1, T and T + 1, each at offset 999 999 (the last ns of its ms) and 0 (the first).
    const readings = [T - 1, T, T + 1].flatMap((ts, k) => [...burst(device, 1, 999_999 + 4_000_000 * k, ts), ...burst(device, 1, 3_000_000 * (k + 1), ts)]);
    await store.write(readings);
    const ts = async (from: number | undefined, to: number | undefined): Promise<number[]> =>
      (await store.query({ deviceId: device, limit: 100, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) })).map((r) => r.ts);
    expect(await ts(T, T)).toEqual([T, T]);
    expect(await ts(undefined, T)).toEqual([T, T, T - 1, T - 1]);
    expect(await ts(T, undefined)).toEqual([T + 1, T + 1, T, T]);
    expect(await ts(T - 1, T + 1)).toHaveLength(6);
    expect(await ts(T + 2, undefined)).toEqual([]);
    expect(await ts(undefined, T - 2)).toEqual([]);
  });

  it('the residual case: same millisecond and log positions a multiple of 10^6 apart are one point', async () => {
    const device = `ns-residual-${randomUUID().slice(0, 8)}`;
    await store.write([...burst(device, 1, 5), ...burst(device, 1, 1_000_005), ...burst(device, 1, 1_000_006)]);
    expect(await countPoints(device)).toBe(2);
  });
});
