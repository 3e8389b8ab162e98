/**
 * PgReadingLog and PgReadingStore (services/storage/postgres/pg-readings.ts) against the contracts
 * every ReadingLog and ReadingStore passes (tests/support/reading-log-contract.ts,
 * tests/support/reading-store-contract.ts), the suites reading-log-contract.test.ts and
 * reading-store-contract.test.ts run on SQLite. Each log case gets a fresh database on the local
 * server opened as the service opens it (every migration);
 * `reopen` closes the log and the database and opens the same database again, as after a restart.
 * Below the contracts, what only PostgreSQL can show: two nodes appending to one log at once, an
 * outage and its end without a restart, a COMMIT whose answer is lost, retention.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogError, type ReadingLog } from '../../services/log/reading-log.js';
import { createLogger } from '../../services/shared/logger.js';
import { openPostgres, type PgDatabase } from '../../services/storage/postgres/database.js';
import { PgReadingLog, PgReadingStore, type PgLogOptions } from '../../services/storage/postgres/pg-readings.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { onPostgres } from '../support/pg-harness.js';
import { freshDatabase, testServerUrl, type FreshDatabase } from '../support/postgres.js';
import { readingLogContract } from '../support/reading-log-contract.js';
import { readingStoreContract } from '../support/reading-store-contract.js';

const silent = createLogger('silent');

readingLogContract('postgres', async () => {
  let log: PgReadingLog | undefined;
  const open = (db: PgDatabase) => (log = new PgReadingLog(db, { appendTimeoutMs: 10_000, log: silent }));
  const handle = await onPostgres(open);
  return {
    log: handle.store,
    reopen: async () => {
      await log?.close();
      return handle.reopen();
    },
    cleanup: async () => {
      await log?.close();
      await handle.cleanup();
    },
  };
});

readingStoreContract('postgres', async () => {
  const handle = await onPostgres((db) => new PgReadingStore(db));
  return {
    store: handle.store,
    cleanup: async () => {
      await handle.store.close();
      await handle.cleanup();
    },
  };
});

/** Yesterday on the hour, as the contracts use. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;

function pressure(deviceId: string, seq: number, extra: Partial<Reading> = {}): Reading {
  return {
    deviceId,
    kind: 'water_pressure',
    channel: 'telemetry',
    ts: T0 + seq * 1000,
    seq,
    receivedAt: T0 + seq * 1000 + 250,
    fields: { pressureMpa: 0.3 + seq / 1000 },
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A statement on the server's maintenance database (ALTER DATABASE, pg_terminate_backend). */
async function onServer(sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** Every refusal of `append` as its LogError code; 'appended' when it was not refused. */
async function refusal(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'appended',
    (err: unknown) => (err instanceof LogError ? err.code : `not a LogError: ${String(err)}`),
  );
}

describe('PgReadingLog: what only PostgreSQL can show', () => {
  let fresh: FreshDatabase;
  let nodes: PgDatabase[] = [];
  let logs: ReadingLog[] = [];

  const node = async (opts: Partial<PgLogOptions> = {}): Promise<PgReadingLog> => {
    const db = await openPostgres(fresh.url, { max: 4 });
    nodes.push(db);
    const log = new PgReadingLog(db, { appendTimeoutMs: 10_000, log: silent, ...opts });
    logs.push(log);
    await log.start();
    return log;
  };

  beforeEach(async () => {
    fresh = await freshDatabase();
  });

  afterEach(async () => {
    await Promise.all(logs.map((l) => l.close()));
    await Promise.all(nodes.map((db) => db.close()));
    logs = [];
    nodes = [];
    await onServer(`ALTER DATABASE ${fresh.name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await fresh.drop();
  });

  it('two nodes appending the same readings at once store each once, and exactly one of them is told it appended it', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const heard: number[] = [];
    a.onAppend((rs) => heard.push(...rs.map((r) => r.logId!)));
    b.onAppend((rs) => heard.push(...rs.map((r) => r.logId!)));
    const n = 30;
    const at = Date.now();
    // with a device time: the same (device, channel, seq, ts) on both; without one, the same seq
    // and fields, received by each node at its own time (ts is the receive time)
    const timed = (i: number) => pressure('two-1', i);
    const untimed = (i: number, offset: number) =>
      pressure('two-2', i, { ts: at + i * 10 + offset, receivedAt: at + i * 10 + offset, serverTs: true, fields: { pressureMpa: 0.5 } });
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) => [a.append([timed(i)]), b.append([timed(i)]), a.append([untimed(i, 0)]), b.append([untimed(i, 3)])]).flat(),
    );
    for (let i = 0; i < n; i++) {
      const [ta, tb, ua, ub] = outcomes.slice(4 * i, 4 * i + 4);
      expect([ta!.appended.length, tb!.appended.length].sort(), `timed ${i}`).toEqual([0, 1]);
      expect(ta!.duplicates + tb!.duplicates, `timed ${i}`).toBe(1);
      expect([ua!.appended.length, ub!.appended.length].sort(), `untimed ${i}`).toEqual([0, 1]);
    }
    const stored = await a.readAfter(0, 1000);
    expect(stored.filter((r) => r.deviceId === 'two-1').map((r) => r.seq).sort((x, y) => x! - y!)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(stored.filter((r) => r.deviceId === 'two-2').map((r) => r.seq).sort((x, y) => x! - y!)).toEqual(Array.from({ length: n }, (_, i) => i));
    // the same rows; when each was durable is what the node that read it knows (issue #15 item 4: its own commits)
    const rows = (rs: typeof stored) => rs.map(({ durableAt: _d, durableReadBack: _b, ...r }) => r);
    expect(rows(await b.readAfter(0, 1000))).toEqual(rows(stored));
    // the listeners of both heard every stored reading once
    expect([...heard].sort((x, y) => x - y)).toEqual(stored.map((r) => r.logId));
    // a later re-send is a duplicate on either node
    expect(await a.append([timed(0)])).toEqual({ appended: [], duplicates: 1 });
    expect(await b.append([timed(0)])).toEqual({ appended: [], duplicates: 1 });
  });

  it('a reader following the log while two nodes append never moves past a reading that commits later', async () => {
    const [a, b] = await Promise.all([node({ maxBatch: 7 }), node({ maxBatch: 5 })]);
    const total = 400;
    const seen: Reading[] = [];
    let writing = true;
    const follow = async () => {
      let cursor = 0;
      while (writing || cursor < (await a.lastId())) {
        const page = await a.readAfter(cursor, 13);
        if (page.length === 0) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        seen.push(...page);
        cursor = page.at(-1)!.logId!;
      }
    };
    const write = async (log: ReadingLog, from: number) => {
      // a few appends in flight per node, as the broker makes them
      await Promise.all(
        [0, 1, 2].map(async (k) => {
          for (let i = from + k; i < from + total / 2; i += 3) await log.append([pressure('follow', i)]);
        }),
      );
    };
    const following = follow();
    await Promise.all([write(a, 0), write(b, total / 2)]);
    writing = false;
    await following;
    expect(seen.map((r) => r.seq).sort((x, y) => x! - y!)).toEqual(Array.from({ length: total }, (_, i) => i));
    const ids = seen.map((r) => r.logId!);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  });

  it('refuses appends while the database is unreachable and is healthy again when it is back, without a restart', async () => {
    const log = await node({ appendTimeoutMs: 2000, probeMs: 100, idleProbeMs: 0 });
    const heard: number[] = [];
    log.onAppend((rs) => heard.push(...rs.map((r) => r.seq!)));
    await log.append([pressure('out-1', 1)]);

    // no new connection is accepted, and the open ones are ended
    await onServer(`ALTER DATABASE ${fresh.name} ALLOW_CONNECTIONS false`);
    await onServer('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [fresh.name]);
    expect(await refusal(log.append([pressure('out-1', 2)]))).toBe('log_write_failed');
    expect(await refusal(log.append([pressure('out-1', 3), pressure('out-1', 4)]))).toBe('log_write_failed');
    const down = log.health();
    expect(down.ok).toBe(false);
    expect(down.reason).toMatch(/log (append|probe) failed/);
    expect(down.failingSince).toBeGreaterThan(0);
    expect(down.failures).toBeGreaterThanOrEqual(2);
    // it stays down while the database is: the probe fails too
    await sleep(400);
    expect(log.health()).toMatchObject({ ok: false, failingSince: down.failingSince });
    expect(log.health().failures).toBeGreaterThan(down.failures);

    await onServer(`ALTER DATABASE ${fresh.name} ALLOW_CONNECTIONS true`);
    // the probe notices, with no append to try
    await vi.waitFor(() => expect(log.health().ok).toBe(true), { timeout: 5000, interval: 50 });
    const again = await log.append([pressure('out-1', 2), pressure('out-1', 3)]);
    expect(again.appended.map((r) => r.seq)).toEqual([2, 3]);
    expect((await log.readAfter(0, 10)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(heard).toEqual([1, 2, 3]);
    expect(log.health()).toMatchObject({ ok: true });
  });

  it('notices an outage with no traffic (idle probe), and its end', async () => {
    const log = await node({ appendTimeoutMs: 2000, probeMs: 100, idleProbeMs: 200 });
    await log.append([pressure('idle-1', 1)]);
    await onServer(`ALTER DATABASE ${fresh.name} ALLOW_CONNECTIONS false`);
    await onServer('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [fresh.name]);
    await vi.waitFor(() => expect(log.health().ok).toBe(false), { timeout: 5000, interval: 50 });
    await onServer(`ALTER DATABASE ${fresh.name} ALLOW_CONNECTIONS true`);
    await vi.waitFor(() => expect(log.health().ok).toBe(true), { timeout: 5000, interval: 50 });
    expect((await log.append([pressure('idle-1', 2)])).appended).toHaveLength(1);
  });

  describe('a COMMIT whose answer never came', () => {
    /**
     * A deferred trigger makes the COMMIT of this device's readings take 1.5 s on the server,
     * longer than the log waits for an answer (connectionDeadlineMs): the log closes the
     * connection, the server goes on and commits, or, for a reading with `refuse` in its fields,
     * fails the commit.
     */
    const slowCommit = async (db: PgDatabase) => {
      await db.query(`
        CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_sleep(1.5);
          IF NEW.fields::jsonb ? 'refuse' THEN RAISE EXCEPTION 'refused at commit'; END IF;
          RETURN NULL;
        END $$`);
      await db.query(`
        CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT ON readings
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.device_id = 'slow')
        EXECUTE FUNCTION test_slow_commit()`);
    };
    const opts: Partial<PgLogOptions> = { appendTimeoutMs: 5000, statementTimeoutMs: 10_000, connectionDeadlineMs: 500, probeMs: 100, idleProbeMs: 0 };

    it('that committed: the caller was refused, the listeners hear its readings once it is known, and a re-send is a duplicate', async () => {
      const log = await node(opts);
      await slowCommit(nodes[0]!);
      const heard: Reading[] = [];
      log.onAppend((rs) => heard.push(...rs));
      const r = pressure('slow', 1);
      expect(await refusal(log.append([r]))).toBe('log_write_failed');
      expect(log.health().ok).toBe(false);
      // the probe waits for the lock the commit holds, then asks how it ended
      await vi.waitFor(() => expect(heard.map((h) => h.seq)).toEqual([1]), { timeout: 10_000, interval: 50 });
      await vi.waitFor(() => expect(log.health().ok).toBe(true));
      const stored = await log.readAfter(0, 10);
      expect(stored.map((s) => s.seq)).toEqual([1]);
      expect(heard[0]!.logId).toBe(stored[0]!.logId);
      expect(await log.append([pressure('slow', 1)])).toEqual({ appended: [], duplicates: 1 });
      // later readings are heard after it, in log order
      await log.append([pressure('fast', 1)]);
      await vi.waitFor(() => expect(heard.map((h) => h.deviceId)).toEqual(['slow', 'fast']));
    });

    it('that failed: nothing is heard, and the re-send is appended', async () => {
      const log = await node(opts);
      await slowCommit(nodes[0]!);
      const heard: Reading[] = [];
      log.onAppend((rs) => heard.push(...rs));
      const refused = pressure('slow', 1, { fields: { pressureMpa: 0.3, refuse: true } as Reading['fields'] });
      expect(await refusal(log.append([refused]))).toBe('log_write_failed');
      await vi.waitFor(() => expect(log.health().ok).toBe(true), { timeout: 10_000, interval: 50 });
      expect(heard).toEqual([]);
      expect(await log.readAfter(0, 10)).toEqual([]);
      // the log goes on (another device: no slow commit)
      expect((await log.append([pressure('fast', 1)])).appended).toHaveLength(1);
      expect(heard.map((h) => h.deviceId)).toEqual(['fast']);
    });
  });

  it('keeps fields as their JSON text, also characters jsonb would refuse', async () => {
    const log = await node();
    const event: Reading = {
      deviceId: 'txt-1',
      kind: 'electrical_fire',
      channel: 'event',
      ts: T0,
      seq: 1,
      receivedAt: T0 + 5,
      fields: { alarm: true, code: 'nul\u0000', message: 'lone \ud800 surrogate' },
    };
    await log.append([event]);
    const [got] = await log.readAfter(0, 10);
    expect(got!.fields).toEqual(event.fields);
    // and a re-send without a device time compares that text
    const untimed = (receivedAt: number): Reading => ({ ...event, seq: 2, ts: receivedAt, receivedAt, serverTs: true });
    expect((await log.append([untimed(Date.now())])).appended).toHaveLength(1);
    expect((await log.append([untimed(Date.now() + 1000)])).duplicates).toBe(1);
  });

  it('prunes rows received before the cutoff and at or below the position every consumer has passed, chunk by chunk', async () => {
    const log = (await node()) as PgReadingLog;
    const store = new PgReadingStore(nodes[0]!);
    const old = Array.from({ length: 23 }, (_, i) => pressure('ret-1', i, { receivedAt: T0 + i }));
    const recent = Array.from({ length: 5 }, (_, i) => pressure('ret-1', 100 + i, { receivedAt: T0 + 3_600_000 + i }));
    await log.append(old.slice(0, 20));
    await log.append(recent);
    await log.append(old.slice(20)); // received long ago, appended late (a re-sent backlog)
    const ids = (await log.readAfter(0, 100)).map((r) => r.logId!);
    expect(ids).toHaveLength(28);
    const cutoff = T0 + 3_600_000;
    // not past what every consumer has passed: the last three old rows stay
    expect(await log.prune(cutoff, ids[24]!, 4)).toBe(20);
    expect((await log.readAfter(0, 100)).map((r) => r.seq)).toEqual([100, 101, 102, 103, 104, 20, 21, 22]);
    expect(await log.prune(cutoff, ids[27]!, 4)).toBe(3);
    expect((await log.readAfter(0, 100)).map((r) => r.seq)).toEqual([100, 101, 102, 103, 104]);
    expect(await log.prune(cutoff, ids[27]!, 4)).toBe(0);
    // the store reads the same rows
    expect((await store.query({ deviceId: 'ret-1', limit: 10 })).map((r) => r.seq)).toEqual([104, 103, 102, 101, 100]);
    // ids are never handed out again, also when retention took the newest rows
    const next = await log.append([pressure('ret-1', 200)]);
    expect(next.appended[0]!.logId).toBeGreaterThan(ids[27]!);
  });
});
