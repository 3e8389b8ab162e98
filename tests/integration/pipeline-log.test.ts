/**
 * The accept path against the log interface, and the processors against a log: a log that fails
 * once refuses that payload whole (no PUBACK, nothing counted as accepted, nothing remembered), the
 * re-sent payload is then accepted and stored once; processors see each reading once, in order,
 * from their saved position, and a failing batch is rolled back and retried.
 * Real SQLite (in memory) for the registry and status; a real in-memory ReadingLog.
 */
import { describe, expect, it } from 'vitest';
import { LogError, InMemoryCursorStore } from '../../services/log/reading-log.js';
import { DeviceStatusTracker } from '../../services/devices/device-status.js';
import { DeviceRegistry } from '../../services/devices/registry.js';
import { Metrics } from '../../services/metrics/metrics.js';
import { Pipeline } from '../../services/pipeline/pipeline.js';
import { LogProcessors, PROCESSORS_CURSOR } from '../../services/processors/log-processors.js';
import { createLogger } from '../../services/shared/logger.js';
import { OutageReporter } from '../../services/shared/outage.js';
import { openDatabase } from '../../services/storage/sqlite/database.js';
import { SqliteDeviceStatusStore } from '../../services/storage/sqlite/sqlite-device-status-store.js';
import { SqliteRegistryStore } from '../../services/storage/sqlite/sqlite-registry-store.js';
import { sqliteUnitOfWork } from '../../services/storage/sqlite/sqlite-unit-of-work.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { InMemoryReadingLog } from '../support/in-memory-log.js';

const silent = createLogger('silent');

async function setup() {
  const db = openDatabase(':memory:');
  const registry = await DeviceRegistry.open({ store: new SqliteRegistryStore(db), runUnitOfWork: sqliteUnitOfWork(db) });
  const b = await registry.createBuilding({
    name: '测试大厦', street: '解放碑', address: '民族路 1 号', type: 'public', heightM: 120, floors: 30, areaM2: 50_000,
    category: 1, use: 'complex', contactName: null, contactPhone: null,
  });
  const { device } = await registry.createDevice({ buildingId: b.id, kind: 'water_pressure', point: 'hydrant_top', location: null, reportIntervalS: 60, vendor: null, model: null });
  const status = await DeviceStatusTracker.open(new SqliteDeviceStatusStore(db));
  const log = new InMemoryReadingLog();
  const metrics = new Metrics({ defaultMetrics: false });
  const pipeline = new Pipeline({
    registry,
    status,
    log,
    metrics,
    logger: silent,
    limits: { maxPayloadBytes: 65536, deviceRatePerS: 1000, deviceRateBurst: 1000, maxClockSkewS: 300, rejectLogIntervalS: 60 },
  });
  return { db, registry, status, log, metrics, pipeline, deviceId: device.id };
}

const payload = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('pipeline → reading log', () => {
  it('a log that fails once: the payload is refused whole, then the re-send is stored once and counted once', async () => {
    const { pipeline, log, status, metrics, deviceId } = await setup();
    const msg = { deviceId, channel: 'telemetry' as const, payload: payload([{ seq: 1, ts: Date.now() - 1000, pressureMpa: 0.3 }, { seq: 2, ts: Date.now(), pressureMpa: 0.31 }]) };
    log.failNext(1);
    await expect(pipeline.ingest(msg)).rejects.toBeInstanceOf(LogError);
    expect(log.rows).toHaveLength(0);
    expect(status.get(deviceId).accepted).toBe(0); // nothing counted before the commit
    const again = await pipeline.ingest(msg); // the device re-sends the unacknowledged message
    expect(again.accepted.map((r) => r.seq)).toEqual([1, 2]);
    expect(again.duplicates).toBe(0); // not remembered as "seen" by the failed attempt
    const third = await pipeline.ingest(msg); // a QoS 1 redelivery after the PUBACK was lost
    expect(third.accepted).toHaveLength(0);
    expect(third.duplicates).toBe(2);
    expect(log.rows.map((r) => r.seq)).toEqual([1, 2]);
    expect(status.get(deviceId).accepted).toBe(2);
    expect((await metrics.duplicates.get()).values[0]?.value).toBe(2);
  });

  it('a bad reading beside good ones is rejected alone; the good ones reach the log with logIds', async () => {
    const { pipeline, log, deviceId } = await setup();
    const r = await pipeline.ingest({ deviceId, channel: 'telemetry', payload: payload([{ seq: 1, pressureMpa: 0.3 }, { seq: 2, pressureMpa: 'x' }, { seq: 3, pressureMpa: 0.32 }]) });
    expect(r.accepted.map((x) => [x.seq, x.logId])).toEqual([[1, 1], [3, 2]]);
    expect(r.rejections.map((x) => x.reason)).toEqual(['schema']);
    expect(log.rows.every((x) => x.buildingId !== undefined && x.point === 'hydrant_top')).toBe(true); // enriched before the append
  });
});

function reading(i: number, deviceId = `d${i % 3}`): Reading {
  return { deviceId, kind: 'water_pressure', channel: 'telemetry', ts: 1_700_000_000_000 + i, seq: i, receivedAt: 1_700_000_000_000 + i, fields: { pressureMpa: 0.3 } };
}

describe('log processors', () => {
  function processorsOn(log: InMemoryReadingLog, cursors = new InMemoryCursorStore(), failFirst = 0) {
    const seen: number[] = [];
    let failures = failFirst;
    let rollbacks = 0;
    const committed: number[] = [];
    const processors = new LogProcessors({
      log,
      cursors,
      batchSize: 7,
      minBackoffMs: 5,
      processors: [
        {
          name: 'record',
          process: (rs) => {
            if (failures > 0) {
              failures--;
              throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
            }
            for (const r of rs) seen.push(r.logId!);
          },
        },
      ],
      // a transaction: what `fn` records is kept only when it returns
      transaction: (fn) => {
        const before = seen.length;
        try {
          const out = fn();
          committed.push(...seen.slice(before));
          return out;
        } catch (err) {
          seen.length = before;
          throw err;
        }
      },
      onRollback: () => void rollbacks++,
      outages: new OutageReporter(silent, () => undefined),
    });
    return { processors, seen, cursors, rollbacks: () => rollbacks, committed };
  }

  it('every reading once, in log order, live and after a restart from the saved position', async () => {
    const log = new InMemoryReadingLog();
    for (let i = 1; i <= 20; i++) await log.append([reading(i)]); // before the processors start: read from the log
    const a = processorsOn(log);
    await a.processors.start();
    for (let i = 21; i <= 40; i++) await log.append([reading(i)]); // live: from the append notification
    await a.processors.idle();
    expect(a.seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(a.cursors.get(PROCESSORS_CURSOR)).toBe(40);
    await a.processors.close();

    for (let i = 41; i <= 50; i++) await log.append([reading(i)]); // while stopped
    const b = processorsOn(log, a.cursors);
    await b.processors.start();
    await b.processors.idle();
    expect(b.seen).toEqual(Array.from({ length: 10 }, (_, i) => i + 41)); // resumes, nothing twice
  });

  it('a batch read from a position the store no longer holds (the lease was taken over while it was read) is dropped and read again from there: nothing twice', async () => {
    const log = new InMemoryReadingLog();
    for (let i = 1; i <= 30; i++) await log.append([reading(i)]);
    const cursors = new InMemoryCursorStore();
    const p = processorsOn(log, cursors);
    // the first read is answered after another node processed 1..15 and saved its position
    const readAfter = log.readAfter.bind(log);
    let first = true;
    log.readAfter = async (after: number, limit: number) => {
      const out = await readAfter(after, limit);
      if (first) {
        first = false;
        cursors.set(PROCESSORS_CURSOR, 15);
      }
      return out;
    };
    await p.processors.start();
    await p.processors.idle();
    expect(p.committed).toEqual(Array.from({ length: 15 }, (_, i) => i + 16));
    expect(cursors.get(PROCESSORS_CURSOR)).toBe(30);
    expect(p.rollbacks()).toBe(0);
  });

  it('a failing batch is rolled back, reloaded and retried: nothing skipped, nothing twice', async () => {
    const log = new InMemoryReadingLog();
    const p = processorsOn(log, new InMemoryCursorStore(), 2);
    await p.processors.start();
    for (let i = 1; i <= 30; i++) await log.append([reading(i)]);
    await p.processors.idle();
    expect(p.rollbacks()).toBe(2);
    expect(p.committed).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(p.cursors.get(PROCESSORS_CURSOR)).toBe(30);
  });

  it('light traffic is paced: log commits arriving 1 ms apart make few batches; a full batch never waits', async () => {
    const run = async (minIntervalMs: number, batchSize: number) => {
      const log = new InMemoryReadingLog();
      const batches: number[][] = [];
      const processors = new LogProcessors({
        log,
        cursors: new InMemoryCursorStore(),
        batchSize,
        minIntervalMs,
        processors: [{ name: 'record', process: (rs) => void batches.push(rs.map((r) => r.logId!)) }],
        transaction: (fn) => fn(),
        outages: new OutageReporter(silent, () => undefined),
      });
      await processors.start();
      return { log, processors, batches };
    };
    // 20 readings, one log commit each, about a millisecond apart
    const trickle = async (log: InMemoryReadingLog) => {
      for (let i = 1; i <= 20; i++) {
        await log.append([reading(i)]);
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const unpaced = await run(0, 1000);
    await trickle(unpaced.log);
    await unpaced.processors.idle();
    const paced = await run(200, 1000);
    await trickle(paced.log);
    await paced.processors.idle();
    // every reading once, in order, either way
    expect(unpaced.batches.flat()).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(paced.batches.flat()).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(unpaced.batches.length).toBeGreaterThanOrEqual(10); // a batch per commit, or nearly
    expect(paced.batches.length).toBeLessThanOrEqual(3); // the first at once, the rest gathered
    await unpaced.processors.close();
    await paced.processors.close();

    // a full batch goes at once, however long the interval: 5 readings with batchSize 5 and a minute's pacing
    const full = await run(60_000, 5);
    await full.log.append([reading(1)]);
    await full.processors.idle(); // the first batch: nothing before it to wait for
    await full.log.append([1, 2, 3, 4, 5].map((i) => reading(i + 1)));
    await full.processors.idle();
    expect(full.batches).toEqual([[1], [2, 3, 4, 5, 6]]);
    await full.processors.close(0);
  });

  it('a queue overflow falls back to reading the log, losing nothing', async () => {
    const log = new InMemoryReadingLog();
    const cursors = new InMemoryCursorStore();
    const seen: number[] = [];
    const processors = new LogProcessors({
      log,
      cursors,
      batchSize: 5,
      maxQueued: 10,
      processors: [{ name: 'record', process: (rs) => seen.push(...rs.map((r) => r.logId!)) }],
      transaction: (fn) => fn(),
      outages: new OutageReporter(silent, () => undefined),
    });
    await processors.start();
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.append([reading(i + 1)])));
    await processors.idle();
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });
});
