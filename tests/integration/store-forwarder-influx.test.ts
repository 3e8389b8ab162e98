/**
 * StoreForwarder in front of a real influxd 1.x, reading a real SqliteReadingLog (readings.db's
 * `readings` table) from its own cursor in `log_cursors`: readings wait in the log while InfluxDB
 * is down and arrive, all and in order, once it is back; a batch InfluxDB refuses for good is
 * dropped and counted instead of blocking the log; the cursor survives a restart of the forwarder
 * (nothing is sent twice), and a replay from a cursor that was not saved overwrites the points it
 * wrote before instead of adding any. Polls with a bounded loop; no fixed sleeps.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreForwarder, type ForwarderEvents } from '../../services/processors/store-forwarder.js';
import { InfluxV1Store } from '../../services/storage/influx/influx-v1-store.js';
import { createLogger } from '../../services/shared/logger.js';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';
import { openReadingsDatabase } from '../../services/storage/sqlite/readings-database.js';
import { SqliteCursorStore } from '../../services/storage/sqlite/sqlite-cursor-store.js';
import { SqliteReadingLog } from '../../services/storage/sqlite/sqlite-reading-log.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { findInfluxV1, type InfluxV1Server } from '../support/influxd.js';
import { freePort } from '../support/ports.js';

/** Yesterday on the hour: inside any retention period (INFLUX_V1_URL may point at a real one). */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;
const CURSOR = 'store:influxdb-v1';

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

/** A firewatch.db (cursor store) and its readings.db (the reading log), as main.ts wires them. */
interface LogDb {
  file: string;
  db: Db;
  rdb: Db;
  log: SqliteReadingLog;
  cursors: SqliteCursorStore;
}

describe('SqliteReadingLog → StoreForwarder → InfluxV1Store (real influxd)', () => {
  let server: InfluxV1Server;
  let dir: string;
  const forwarders: StoreForwarder[] = [];
  const logs: LogDb[] = [];

  beforeAll(async () => {
    server = await findInfluxV1();
    dir = await mkdtemp(join(tmpdir(), 'firewatch-forwarder-'));
  });

  afterEach(async () => {
    for (const f of forwarders.splice(0)) await f.close();
    for (const l of logs.splice(0)) await closeLog(l);
  });

  afterAll(async () => {
    await server?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function openLog(file: string): Promise<LogDb> {
    const db = openDatabase(file, { synchronous: 'normal' });
    const readingsFile = `${file}.readings.db`;
    const rdb = openReadingsDatabase(readingsFile, { synchronous: 'normal' });
    const log = new SqliteReadingLog(rdb, { file: readingsFile, synchronous: 'normal', busyTimeoutMs: 5000, appendTimeoutMs: 10_000, log: createLogger('silent') });
    await log.start();
    const l = { file, db, rdb, log, cursors: new SqliteCursorStore(db) };
    logs.push(l);
    return l;
  }

  async function closeLog(l: LogDb): Promise<void> {
    const i = logs.indexOf(l);
    if (i >= 0) logs.splice(i, 1);
    await l.log.close();
    l.db.close();
    l.rdb.close();
  }

  function influxDbName(): string {
    return `fwd_${randomUUID().replaceAll('-', '')}`;
  }

  function forwarder(l: LogDb, influxDb: string, batchSize: number, events: ForwarderEvents = {}): { fw: StoreForwarder; store: InfluxV1Store } {
    const store = new InfluxV1Store({ url: server.url, db: influxDb }, { timeoutMs: 2000 });
    const fw = new StoreForwarder(l.log, l.cursors, store, { batchSize, flushIntervalMs: 20, minBackoffMs: 50, maxBackoffMs: 200 }, createLogger('silent'), events);
    forwarders.push(fw);
    return { fw, store };
  }

  async function closeForwarder(fw: StoreForwarder): Promise<void> {
    forwarders.splice(forwarders.indexOf(fw), 1);
    await fw.close();
  }

  /** Points InfluxDB holds for a device, counted by the server (not through the store's query). */
  async function countPoints(influxDb: string, deviceId: string, measurement = 'water_pressure', field = 'pressure_mpa'): Promise<number> {
    const url = new URL(`${server.url}/query`);
    url.searchParams.set('db', influxDb);
    url.searchParams.set('q', `SELECT COUNT("${field}") FROM "${measurement}" WHERE "device" = '${deviceId}'`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Array<{ error?: string; series?: Array<{ values: unknown[][] }> }> };
    if (body.results[0]?.error && /database not found/.test(body.results[0].error)) return 0;
    expect(body.results[0]?.error).toBeUndefined();
    return Number(body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
  }

  it('keeps the readings in the log while InfluxDB is down and delivers everything, in order, after it returns', async (ctx) => {
    if (!server.controllable) {
      console.warn('forwarder outage test skipped: INFLUX_V1_URL is an external server the test cannot stop');
      ctx.skip();
    }
    const batches: boolean[] = [];
    const l = await openLog(join(dir, `${randomUUID()}.db`));
    const influxDb = influxDbName();
    const { fw, store } = forwarder(l, influxDb, 25, { onBatch: (_s, _n, ok) => batches.push(ok) });
    const device = `wp-${randomUUID().slice(0, 8)}`;
    const all = Array.from({ length: 90 }, (_, i) => pressure(device, i));
    await fw.start();
    expect(fw.position()).toBe(0);

    expect((await l.log.append(all.slice(0, 30))).appended).toHaveLength(30);
    await waitFor('first 30 readings forwarded', () => fw.status().backlog === 0);
    expect((await store.query({ deviceId: device, limit: 1000 })).length).toBe(30);
    expect(l.cursors.get(CURSOR)).toBe(all[29]!.logId);

    await server.stop();
    // append() resolves once the readings are committed to the log, InfluxDB or not.
    expect((await l.log.append(all.slice(30, 60))).appended).toHaveLength(30);
    await waitFor('the forwarder to notice the outage', () => !fw.status().ready);
    expect((await l.log.append(all.slice(60, 90))).appended).toHaveLength(30);
    const down = fw.status();
    expect(down.ready).toBe(false);
    expect(down.backlog).toBe(60);
    expect(down.lastError).toMatch(/unreachable|timed out/);
    expect(batches).toContain(false);
    // the saved position did not move past what InfluxDB took
    expect(l.cursors.get(CURSOR)).toBe(all[29]!.logId);

    await server.restart();
    await waitFor('backlog forwarded after restart', () => fw.status().backlog === 0 && fw.status().ready);
    const stored = await store.query({ deviceId: device, limit: 1000 });
    expect(stored.map((r) => r.seq)).toEqual(all.map((r) => r.seq).reverse());
    expect(stored.map((r) => r.ts)).toEqual(all.map((r) => r.ts).reverse());
    expect(stored[0]).toEqual({ ts: all[89]?.ts, seq: 89, fields: all[89]?.fields });
    expect(await countPoints(influxDb, device)).toBe(90);
    expect(fw.status().lastError).toBeUndefined();
    expect(fw.status().backlogAgeS).toBe(0);
    expect(l.cursors.get(CURSOR)).toBe(all[89]!.logId);
  });

  it('drops and counts a batch InfluxDB refuses (field type conflict) and goes on with the next', async () => {
    const dropped: number[] = [];
    const l = await openLog(join(dir, `${randomUUID()}.db`));
    const influxDb = influxDbName();
    const { fw, store } = forwarder(l, influxDb, 3, { onDropped: (_s, n) => dropped.push(n) });
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
    // in the log before the forwarder starts: the refused batch comes first
    await l.log.append([0, 1, 2].map((i) => pressure(poison, i)));
    await l.log.append(levels);
    await fw.start();

    await waitFor('both batches handled', () => fw.status().backlog === 0);
    expect(dropped).toEqual([3]);
    expect(fw.status().ready).toBe(true);
    expect(fw.status().lastError).toBeUndefined();
    expect(l.cursors.get(CURSOR)).toBe(levels[2]!.logId);
    expect(await store.query({ deviceId: poison, limit: 10 })).toEqual([]);
    expect((await store.query({ deviceId: good, limit: 10 })).map((r) => r.fields)).toEqual([{ levelM: 12 }, { levelM: 11 }, { levelM: 10 }]);
    // dropped from InfluxDB's side only: the log still holds the readings
    expect(l.rdb.prepare('SELECT COUNT(*) FROM readings WHERE device_id = ?').pluck().get(poison)).toBe(3);
  });

  it('a new forwarder on the same database continues where the old one stopped and sends nothing twice', async () => {
    const file = join(dir, `${randomUUID()}.db`);
    const influxDb = influxDbName();
    const device = `wp-${randomUUID().slice(0, 8)}`;
    const all = Array.from({ length: 100 }, (_, i) => pressure(device, i));

    // first life: 40 readings forwarded, then the forwarder, the log and the database close
    let l = await openLog(file);
    const sentBefore: number[] = [];
    const first = forwarder(l, influxDb, 7, { onBatch: (_s, n, ok) => ok && sentBefore.push(n) });
    await first.fw.start();
    await l.log.append(all.slice(0, 40));
    await waitFor('first 40 forwarded', () => first.fw.status().backlog === 0);
    expect(sentBefore.reduce((a, b) => a + b, 0)).toBe(40);
    await closeForwarder(first.fw);
    // accepted while no forwarder runs (e.g. the service restarting with InfluxDB just configured back)
    await l.log.append(all.slice(40, 65));
    await closeLog(l);

    // second life: a fresh connection, log and forwarder on the same file
    l = await openLog(file);
    expect(l.cursors.get(CURSOR)).toBe(all[39]!.logId);
    const sentAfter: number[] = [];
    const second = forwarder(l, influxDb, 7, { onBatch: (_s, n, ok) => ok && sentAfter.push(n) });
    await second.fw.start();
    expect(second.fw.position()).toBe(all[39]!.logId);
    await l.log.append(all.slice(65));
    await waitFor('the rest forwarded', () => second.fw.status().backlog === 0);

    // exactly the 60 readings the first one had not sent, nothing of the first 40 again
    expect(sentAfter.reduce((a, b) => a + b, 0)).toBe(60);
    expect(await countPoints(influxDb, device)).toBe(100);
    const stored = await second.store.query({ deviceId: device, limit: 1000 });
    expect(stored.map((r) => r.seq)).toEqual(all.map((r) => r.seq).reverse());
    expect(l.cursors.get(CURSOR)).toBe(await l.log.lastId());
  });

  it('a position that cannot be saved (firewatch.db locked) is reported, the readings still reach InfluxDB, and the next save catches up', async () => {
    const l = await openLog(join(dir, `${randomUUID()}.db`));
    l.db.pragma('busy_timeout = 0'); // as the service's main thread: never wait long for a lock
    const influxDb = influxDbName();
    const device = `wp-${randomUUID().slice(0, 8)}`;
    const errors: string[] = [];
    let saved = 0;
    const { fw } = forwarder(l, influxDb, 100, {
      onPositionError: (err) => errors.push(err instanceof Error ? err.message : String(err)),
      onPositionSaved: () => saved++,
    });
    await fw.start();
    const locker = new Database(l.file);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      await l.log.append(Array.from({ length: 10 }, (_, i) => pressure(device, i)));
      await waitFor('forwarded while the position cannot be saved', () => errors.length > 0 && fw.status().backlog === 0);
      expect(errors[0]).toMatch(/locked/);
      expect(await countPoints(influxDb, device)).toBe(10);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    const more = Array.from({ length: 10 }, (_, i) => pressure(device, 10 + i));
    await l.log.append(more);
    await waitFor('position saved again', () => saved > 0 && fw.status().backlog === 0);
    expect(l.cursors.get(CURSOR)).toBe(more[9]!.logId);
    expect(await countPoints(influxDb, device)).toBe(20);
  });

  it('a replay from a cursor that was not saved (crash after the write) overwrites the points, adds none', async () => {
    const l = await openLog(join(dir, `${randomUUID()}.db`));
    const influxDb = influxDbName();
    const device = `wp-${randomUUID().slice(0, 8)}`;
    // Server-stamped readings without seq in one millisecond: only the log position tells them apart.
    const burst: Reading[] = Array.from({ length: 50 }, (_, i) => ({
      deviceId: device,
      kind: 'water_pressure',
      channel: 'telemetry',
      ts: T0 + 417,
      serverTs: true,
      fields: { pressureMpa: 0.2 + i / 1000 },
    }));
    await l.log.append(burst);
    const first = forwarder(l, influxDb, 20);
    await first.fw.start();
    await waitFor('50 forwarded', () => first.fw.status().backlog === 0);
    expect(await countPoints(influxDb, device)).toBe(50);
    await closeForwarder(first.fw);

    // the crash: InfluxDB took the batches, the positions were never saved
    l.cursors.set(CURSOR, 0);
    const replayed: number[] = [];
    const second = forwarder(l, influxDb, 20, { onBatch: (_s, n, ok) => ok && replayed.push(n) });
    await second.fw.start();
    await waitFor('replay done', () => second.fw.status().backlog === 0);
    expect(replayed.reduce((a, b) => a + b, 0)).toBe(50);
    expect(await countPoints(influxDb, device)).toBe(50);
  });

  it('backlogAgeS is the age of the oldest reading not yet forwarded, also part-way through a drain', async () => {
    // An InfluxDB that takes the first write and then hangs: the forwarder is mid-drain, one batch in.
    let writes = 0;
    const hanging = createServer((req, res) => {
      if (req.url?.startsWith('/write') && ++writes > 1) return; // never answers
      res.writeHead(req.url?.startsWith('/write') ? 204 : 200, { 'content-type': 'application/json' });
      res.end(req.url?.startsWith('/write') ? undefined : '{"results":[{"statement_id":0}]}');
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const l = await openLog(join(dir, `${randomUUID()}.db`));
      const receivedAt = Date.now() - 600_000;
      const device = `wp-${randomUUID().slice(0, 8)}`;
      await l.log.append(Array.from({ length: 100 }, (_, i) => ({ ...pressure(device, i), receivedAt })));
      const store = new InfluxV1Store({ url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`, db: 'x' }, { timeoutMs: 30_000 });
      const fw = new StoreForwarder(l.log, l.cursors, store, { batchSize: 10, flushIntervalMs: 20 }, createLogger('silent'));
      forwarders.push(fw);
      await fw.start();
      await waitFor('the second write to hang', () => writes === 2);
      const s = fw.status();
      expect(s).toMatchObject({ ready: true, backlog: 90 });
      expect(s.backlogAgeS).toBeGreaterThanOrEqual(600);
      expect(s.backlogAgeS).toBeLessThan(700);
    } finally {
      // the hanging write fails now, so afterEach can close the forwarder without waiting for it
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });

  it('creates the database before the first write, and again if it was dropped', async () => {
    const influxDb = influxDbName();
    const store = new InfluxV1Store({ url: server.url, db: influxDb }, { timeoutMs: 2000 });
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
    const influxDb = influxDbName();
    const store = new InfluxV1Store({ url: server.url, db: influxDb }, { timeoutMs: 2000 });
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
