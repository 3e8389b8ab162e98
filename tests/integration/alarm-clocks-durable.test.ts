/**
 * An alert's `durableAt` (issue #15 item 4) is known to the processors whichever way the reading
 * reached them: the real SQLite reading log (a temp readings.db, its writer thread) stamps what
 * it commits, its read-back of those commits carries the same time in the same process, and after
 * a restart (a new log on the same file) the processors read the readings back with the read time
 * as the best honest value, marked `durableReadBack` (the commit time is not stored with a reading).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryCursorStore } from '../../services/log/reading-log.js';
import { LogProcessors } from '../../services/processors/log-processors.js';
import { createLogger } from '../../services/shared/logger.js';
import { OutageReporter } from '../../services/shared/outage.js';
import type { Db } from '../../services/storage/sqlite/database.js';
import { openReadingsDatabase } from '../../services/storage/sqlite/readings-database.js';
import { SqliteReadingLog } from '../../services/storage/sqlite/sqlite-reading-log.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { waitFor } from '../support/service.js';

const silent = createLogger('silent');
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function openLog(file: string): Promise<{ db: Db; log: SqliteReadingLog; close(): Promise<void> }> {
  const db = openReadingsDatabase(file);
  const log = new SqliteReadingLog(db, { file, synchronous: 'full', busyTimeoutMs: 5000, appendTimeoutMs: 10_000, log: silent });
  await log.start();
  return {
    db,
    log,
    async close() {
      await log.close();
      db.close();
    },
  };
}

const reading = (seq: number): Reading => ({
  deviceId: 'ef-1', kind: 'electrical_fire', channel: 'event', ts: Date.now() - 100, seq, receivedAt: Date.now(), fields: { alarm: true },
});

/** Processors that keep what they were given (a copy of each reading's clocks). */
function recorder(log: SqliteReadingLog) {
  const seen: Array<Pick<Reading, 'logId' | 'receivedAt' | 'durableAt' | 'durableReadBack'>> = [];
  const processors = new LogProcessors({
    log,
    cursors: new InMemoryCursorStore(),
    minIntervalMs: 0,
    processors: [{ name: 'record', process: (rs) => seen.push(...rs.map((r) => ({ logId: r.logId, receivedAt: r.receivedAt, durableAt: r.durableAt, durableReadBack: r.durableReadBack }))) }],
    transaction: (fn) => fn(),
    outages: new OutageReporter(silent, () => undefined),
  });
  return { processors, seen };
}

describe("the reading log's commit time, on the way to the processors", () => {
  it('from the queue and from a read-back in the same process: the commit; after a restart: the read-back time, marked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'firewatch-durable-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'readings.db');

    let current = await openLog(file);
    const before = Date.now();
    const res = await current.log.append([reading(1), reading(2)]);
    expect(res.appended).toHaveLength(2);
    const committedAt = res.appended[0]!.durableAt!;
    expect(committedAt).toBeGreaterThanOrEqual(before);
    expect(committedAt).toBeGreaterThanOrEqual(res.appended[0]!.receivedAt!);
    expect(res.appended[1]!.durableAt).toBe(committedAt);
    // read back by the process that committed them: the same commit time
    expect((await current.log.readAfter(0, 10)).map((r) => [r.durableAt, r.durableReadBack])).toEqual([
      [committedAt, undefined],
      [committedAt, undefined],
    ]);

    // processors started after the commit read them from the log: still the commit time
    const a = recorder(current.log);
    await a.processors.start();
    await a.processors.idle();
    // a new commit reaches them through the queue, with its own commit time
    const live = await current.log.append([reading(3)]);
    await waitFor(() => a.seen.length === 3, 'the queued reading');
    await a.processors.close();
    expect(a.seen.map((s) => s.durableAt)).toEqual([committedAt, committedAt, live.appended[0]!.durableAt]);
    expect(a.seen.every((s) => s.durableReadBack === undefined)).toBe(true);
    await current.close();

    // a restart: the new process never saw those commits; the read-back time stands in, marked
    current = await openLog(file);
    cleanup.push(() => current.close());
    expect((await current.log.readAfter(0, 10)).map((r) => r.durableAt)).toEqual([undefined, undefined, undefined]);
    const b = recorder(current.log);
    const readFrom = Date.now();
    await b.processors.start();
    await b.processors.idle();
    await b.processors.close();
    expect(b.seen).toHaveLength(3);
    for (const s of b.seen) {
      expect(s.durableReadBack).toBe(true);
      expect(s.durableAt).toBeGreaterThanOrEqual(readFrom);
      expect(s.durableAt).toBeGreaterThanOrEqual(s.receivedAt!);
    }
  });
});
