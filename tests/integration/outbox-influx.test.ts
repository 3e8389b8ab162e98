/**
 * OutboxSink in front of a real influxd 1.x: readings wait on disk while InfluxDB is down and
 * arrive, all and in order, once it is back; a batch InfluxDB refuses is dropped and counted
 * instead of blocking the outbox. Polls with a bounded loop; no fixed sleeps.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InfluxV1Store } from '../../services/sinks/influx/influx-v1-store.js';
import { OutboxSink, type OutboxEvents } from '../../services/sinks/outbox-sink.js';
import { createLogger } from '../../services/shared/logger.js';
import { openDatabase, type Db } from '../../services/stores/sqlite/database.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { findInfluxV1, type InfluxV1Server } from '../support/influxd.js';
import { freePort } from '../support/ports.js';

/** Yesterday on the hour: inside any retention period (INFLUX_V1_URL may point at a real one). */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

function pressure(deviceId: string, i: number): Reading {
  return { deviceId, kind: 'water_pressure', channel: 'telemetry', ts: T0 + i * 1000, seq: i, fields: { pressureMpa: 0.3 + i / 1000 } };
}

describe('OutboxSink → InfluxV1Store (real influxd)', () => {
  let server: InfluxV1Server;
  let dir: string;
  const open: Array<{ sink: OutboxSink; db: Db }> = [];

  beforeAll(async () => {
    server = await findInfluxV1();
    dir = await mkdtemp(join(tmpdir(), 'firewatch-outbox-'));
  });

  afterEach(async () => {
    for (const { sink, db } of open.splice(0)) {
      await sink.close();
      db.close();
    }
  });

  afterAll(async () => {
    await server?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function outbox(batchSize: number, events: OutboxEvents = {}): { sink: OutboxSink; store: InfluxV1Store; influxDb: string } {
    const influxDb = `outbox_${randomUUID().replaceAll('-', '')}`;
    const db = openDatabase(join(dir, `${influxDb}.db`));
    const store = new InfluxV1Store({ url: server.url, db: influxDb }, { timeoutMs: 2000 });
    const sink = new OutboxSink(
      db,
      store,
      { batchSize, flushIntervalMs: 20, minBackoffMs: 50, maxBackoffMs: 200 },
      createLogger('silent'),
      events,
    );
    open.push({ sink, db });
    return { sink, store, influxDb };
  }

  it('keeps accepting while InfluxDB is down and delivers everything, in order, after it returns', async (ctx) => {
    if (!server.controllable) {
      console.warn('outbox outage test skipped: INFLUX_V1_URL is an external server the test cannot stop');
      ctx.skip();
    }
    const batches: boolean[] = [];
    const { sink, store } = outbox(25, { onBatch: (_s, _n, ok) => batches.push(ok) });
    const device = `wp-${randomUUID().slice(0, 8)}`;
    const all = Array.from({ length: 90 }, (_, i) => pressure(device, i));
    await sink.start();

    await sink.accept(all.slice(0, 30));
    await waitFor('first 30 readings drained', () => sink.status().backlog === 0);
    expect((await store.query({ deviceId: device, limit: 1000 })).length).toBe(30);

    await server.stop();
    // accept() resolves once the readings are on disk, InfluxDB or not.
    await sink.accept(all.slice(30, 60));
    await waitFor('the outbox to notice the outage', () => !sink.status().ready);
    await sink.accept(all.slice(60, 90));
    const down = sink.status();
    expect(down.ready).toBe(false);
    expect(down.backlog).toBe(60);
    expect(down.lastError).toMatch(/unreachable|timed out/);
    expect(batches).toContain(false);

    await server.restart();
    await waitFor('backlog drained after restart', () => sink.status().backlog === 0 && sink.status().ready);
    const stored = await store.query({ deviceId: device, limit: 1000 });
    expect(stored.map((r) => r.seq)).toEqual(all.map((r) => r.seq).reverse());
    expect(stored.map((r) => r.ts)).toEqual(all.map((r) => r.ts).reverse());
    expect(stored[0]).toEqual({ ts: all[89]?.ts, seq: 89, fields: all[89]?.fields });
    expect(sink.status().lastError).toBeUndefined();
  });

  it('drops and counts a batch InfluxDB refuses (field type conflict) and goes on with the next', async () => {
    const dropped: number[] = [];
    const { sink, store, influxDb } = outbox(3, { onDropped: (_s, n) => dropped.push(n) });
    // Make pressure_mpa a string field in this shard, so float pressures are refused with 400.
    await store.ensureDatabase();
    const seed = await fetch(`${server.url}/write?db=${influxDb}&precision=ms`, {
      method: 'POST',
      body: `water_pressure,device=seed pressure_mpa="not a number" ${T0}`,
    });
    expect(seed.status).toBe(204);

    const poison = `wp-${randomUUID().slice(0, 8)}`;
    const good = `wl-${randomUUID().slice(0, 8)}`;
    const levels: Reading[] = [0, 1, 2].map((i) => ({
      deviceId: good,
      kind: 'water_level',
      channel: 'telemetry',
      ts: T0 + i * 1000,
      seq: i,
      fields: { levelM: 10 + i },
    }));
    await sink.accept([0, 1, 2].map((i) => pressure(poison, i)));
    await sink.accept(levels);
    await sink.start();

    await waitFor('both batches handled', () => sink.status().backlog === 0);
    expect(dropped).toEqual([3]);
    expect(sink.status().ready).toBe(true);
    expect(sink.status().lastError).toBeUndefined();
    expect(await store.query({ deviceId: poison, limit: 10 })).toEqual([]);
    expect((await store.query({ deviceId: good, limit: 10 })).map((r) => r.fields)).toEqual([{ levelM: 12 }, { levelM: 11 }, { levelM: 10 }]);
  });

  it('creates the database before the first write, and again if it was dropped', async () => {
    const { store, influxDb } = outbox(1);
    const device = `wp-${randomUUID().slice(0, 8)}`;
    await store.write([pressure(device, 0)]);
    const drop = await fetch(`${server.url}/query?q=${encodeURIComponent(`DROP DATABASE "${influxDb}"`)}`, { method: 'POST' });
    expect(drop.status).toBe(200);
    // influxd closes the dropped shards in the background ("engine is closed" meanwhile).
    await waitFor('the dropped database to be gone', () =>
      store.query({ deviceId: device, limit: 10 }).then(
        (rows) => rows.length === 0,
        () => false,
      ),
    );
    await store.write([pressure(device, 1)]);
    expect((await store.query({ deviceId: device, limit: 10 })).map((x) => x.seq)).toEqual([1]);
  });

  it('classifies the refusal as non-retryable with the server text', async () => {
    const { store, influxDb } = outbox(1);
    await store.ensureDatabase();
    await fetch(`${server.url}/write?db=${influxDb}&precision=ms`, { method: 'POST', body: `water_level,device=seed level_m="x" ${T0}` });
    await expect(
      store.write([{ deviceId: 'wl-1', kind: 'water_level', channel: 'telemetry', ts: T0, fields: { levelM: 1 } }]),
    ).rejects.toMatchObject({ name: 'SinkError', retryable: false, code: 'influx_rejected', message: expect.stringContaining('field type conflict') });
  });
});

describe('InfluxV1Store failures without a server', () => {
  const r: Reading = { deviceId: 'wp-1', kind: 'water_pressure', channel: 'telemetry', ts: T0, fields: { pressureMpa: 0.3 } };

  it('unreachable → retryable, and the password appears nowhere in the error', async () => {
    const port = await freePort();
    const store = new InfluxV1Store({ url: `http://admin:s3cret-pw@127.0.0.1:${port}`, db: 'x', password: 'other-s3cret' }, { timeoutMs: 1000 });
    const err = await store.write([r]).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ name: 'SinkError', retryable: true, code: 'influx_unreachable' });
    const text = `${(err as Error).message} ${String((err as Error).cause)} ${JSON.stringify(err)}`;
    expect(text).not.toMatch(/s3cret/);
    await expect(store.ping()).rejects.toMatchObject({ retryable: true, code: 'influx_unreachable' });
  });

  it('a server that never answers → retryable influx_timeout', async () => {
    const silent = createServer(() => {
      // never responds
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const store = new InfluxV1Store({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, db: 'x' }, { timeoutMs: 200 });
      await expect(store.write([r])).rejects.toMatchObject({ retryable: true, code: 'influx_timeout' });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
