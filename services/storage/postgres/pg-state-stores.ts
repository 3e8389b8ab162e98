/**
 * The services' small shared state over PostgreSQL (tables: schema-state.ts), the twins of the
 * SQLite stores, each passing the same contract (tests/support/<name>-contract.ts):
 *   - PgEventLogStore: the live feed's event log (../sqlite/sqlite-feed-stores.ts)
 *   - PgCursorStore: the reading log's consumers' positions (../sqlite/sqlite-cursor-store.ts)
 *   - PgDeviceStatusStore: each device's live status (../sqlite/sqlite-device-status-store.ts)
 *   - PgTestWindowStore: scheduled tests of fire-water points (../sqlite/sqlite-test-window-store.ts)
 *
 * Feed order: a console replays the events after the last seq it saw and the uplink catches up
 * after the last one it queued, so an event must never become visible with a seq below one already
 * read. SQLite has one writer, so seqs commit in the order they are handed out. On PostgreSQL the
 * identity column alone does not give that (two appends take 10 and 11, 11 commits first, a reader
 * moves past 10, which then commits behind it), so every append takes the transaction-level
 * advisory lock APPEND_LOCK_KEY before its insert, as pg-uplink-store.ts's enqueue does: appends (of
 * every node) run one at a time, each seq is committed before the next is handed out, and a reader
 * sees a gap-free prefix of the commit order (gaps in the numbers, from rollbacks, are fine).
 * lastSeq is the highest seq committed, never one still in flight: the highest in feed_events or,
 * when prune took it, the highest prune ever deleted. Reads and prune take no lock.
 */
import type { DeviceStatus, DeviceStatusStore } from '../../devices/device-status.js';
import type { TestKind, TestWindow, TestWindowStore } from '../../devices/test-windows.js';
import type { EventLogStore, FeedEvent } from '../../live-feed/model.js';
import type { CursorStore } from '../../log/reading-log.js';
import type { PgDatabase } from './database.js';

/**
 * The key of the advisory lock every feed append holds until it commits: the ASCII bytes of
 * "fwfeedlg" read as one bigint (0x6677666565646c67), as database.ts's MIGRATION_LOCK_KEY is made.
 * Nothing else in Firewatch takes advisory locks with this key, and another application sharing
 * the database must not either.
 */
export const APPEND_LOCK_KEY = 0x6677666565646c67n;

/** Rows as node-postgres gives them: json columns parsed, bigint as a string. */
interface FeedEventRow {
  seq: string;
  type: FeedEvent['type'];
  at: string;
  street: string | null;
  building_id: string | null;
  data: Record<string, unknown>;
}

interface TestRow {
  id: string;
  device_id: string;
  building_id: string;
  kind: TestKind;
  note: string | null;
  started_by: string;
  started_at: string;
  ends_at: string;
  ended_at: string | null;
  ended_by: string | null;
  min_mpa: number | null;
  max_mpa: number | null;
  readings: number;
}

const toEvent = (r: FeedEventRow): FeedEvent => ({
  seq: Number(r.seq),
  type: r.type,
  at: r.at,
  street: r.street,
  buildingId: r.building_id,
  data: r.data,
});

const orNull = (v: string | null): number | null => (v === null ? null : Number(v));

const toWindow = (r: TestRow): TestWindow => ({
  id: Number(r.id),
  deviceId: r.device_id,
  buildingId: r.building_id,
  kind: r.kind,
  note: r.note,
  startedBy: r.started_by,
  startedAt: Number(r.started_at),
  endsAt: Number(r.ends_at),
  endedAt: orNull(r.ended_at),
  endedBy: r.ended_by,
  minMpa: r.min_mpa,
  maxMpa: r.max_mpa,
  readings: r.readings,
});

const FEED_COLS = 'seq, type, at, street, building_id, data';
const INSERT_EVENT = 'INSERT INTO feed_events (type, at, street, building_id, data) VALUES ($1, $2, $3, $4, $5) RETURNING seq';
const EVENTS_SINCE = `SELECT ${FEED_COLS} FROM feed_events WHERE seq > $1 ORDER BY seq LIMIT $2`;
/** one statement, one snapshot: prune's delete and its record of what it took commit together */
const LAST_SEQ = 'SELECT greatest((SELECT max(seq) FROM feed_events), (SELECT seq FROM feed_events_pruned)) AS seq';
/** the delete and, if it took any event, the highest seq it took: so lastSeq stays where it was */
const PRUNE_EVENTS = `
  WITH gone AS (DELETE FROM feed_events WHERE at < $1 RETURNING seq),
  kept AS (
    UPDATE feed_events_pruned SET seq = greatest(seq, (SELECT max(g.seq) FROM gone g))
    WHERE EXISTS (SELECT 1 FROM gone)
  )
  SELECT count(*)::integer AS n FROM gone`;

const UPSERT_CURSOR = 'INSERT INTO log_cursors (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position';

/** every entry in one statement; each document is the status as it was when saveMany was called */
const UPSERT_STATUSES = `
  INSERT INTO device_status (device_id, status)
  SELECT e.device_id, e.status FROM unnest($1::text[], $2::json[]) AS e (device_id, status)
  ON CONFLICT (device_id) DO UPDATE SET status = excluded.status`;

const TEST_COLS = 'id, device_id, building_id, kind, note, started_by, started_at, ends_at, ended_at, ended_by, min_mpa, max_mpa, readings';
const INSERT_TEST = `
  INSERT INTO device_tests (device_id, building_id, kind, note, started_by, started_at, ends_at, ended_at, ended_by, min_mpa, max_mpa, readings)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  RETURNING id`;
const UPDATE_TEST = 'UPDATE device_tests SET ended_at = $2, ended_by = $3, min_mpa = $4, max_mpa = $5, readings = $6 WHERE id = $1';
/** in id order, which is SQLite's (a scan of the table) */
const ACTIVE_TESTS = `SELECT ${TEST_COLS} FROM device_tests WHERE ended_at IS NULL AND ends_at > $1 ORDER BY id`;
const LIST_TESTS = `SELECT ${TEST_COLS} FROM device_tests WHERE device_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`;

export class PgEventLogStore implements EventLogStore {
  constructor(private readonly db: PgDatabase) {}

  async append(e: Omit<FeedEvent, 'seq'>): Promise<FeedEvent> {
    const seq = await this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY.toString()]);
      const r = await client.query<{ seq: string }>(INSERT_EVENT, [e.type, e.at, e.street, e.buildingId, JSON.stringify(e.data)]);
      return Number(r.rows[0]!.seq);
    });
    return { seq, ...e };
  }

  async since(afterSeq: number, limit: number): Promise<FeedEvent[]> {
    const rows = await this.db.query<FeedEventRow>(EVENTS_SINCE, [afterSeq, limit]);
    return rows.map(toEvent);
  }

  async lastSeq(): Promise<number> {
    const rows = await this.db.query<{ seq: string }>(LAST_SEQ);
    return Number(rows[0]!.seq);
  }

  async prune(before: number): Promise<number> {
    const rows = await this.db.query<{ n: number }>(PRUNE_EVENTS, [new Date(before).toISOString()]);
    return rows[0]?.n ?? 0;
  }
}

export class PgCursorStore implements CursorStore {
  constructor(private readonly db: PgDatabase) {}

  async get(name: string): Promise<number | undefined> {
    const rows = await this.db.query<{ position: string }>('SELECT position FROM log_cursors WHERE name = $1', [name]);
    return rows[0] === undefined ? undefined : Number(rows[0].position);
  }

  /** Inside the caller's transaction, if it is in one (PgDatabase binds it). */
  async set(name: string, position: number): Promise<void> {
    await this.db.query(UPSERT_CURSOR, [name, position]);
  }

  /**
   * Moves the cursor from `from` to `to`, only if it is still at `from` (a compare-and-set: the
   * fence of the processors' lease, pg-lease.ts); otherwise throws StaleCursorError and changes
   * nothing. A cursor never stored counts as 0.
   */
  async advance(name: string, from: number, to: number): Promise<void> {
    const rows =
      from === 0
        ? await this.db.query(
            `INSERT INTO log_cursors AS c (name, position) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE c.position = 0
             RETURNING position`,
            [name, to],
          )
        : await this.db.query('UPDATE log_cursors SET position = $3 WHERE name = $1 AND position = $2 RETURNING position', [name, from, to]);
    if (rows.length === 0) throw new StaleCursorError(name, from);
  }
}

/** Another writer moved the cursor since this node read it (the lease changed hands). */
export class StaleCursorError extends Error {
  constructor(
    readonly cursor: string,
    readonly expected: number,
  ) {
    super(`log cursor ${cursor} is no longer at ${expected}: another node moved it`);
    this.name = 'StaleCursorError';
  }
}

export class PgDeviceStatusStore implements DeviceStatusStore {
  constructor(private readonly db: PgDatabase) {}

  async loadAll(): Promise<Map<string, DeviceStatus>> {
    const rows = await this.db.query<{ device_id: string; status: DeviceStatus }>('SELECT device_id, status FROM device_status');
    return new Map(rows.map((r) => [r.device_id, r.status]));
  }

  /**
   * One statement for the whole batch. A device listed twice is saved as its last entry, as
   * SQLite's one upsert per entry leaves it (one INSERT … ON CONFLICT may not touch a row twice).
   */
  async saveMany(entries: Array<[string, DeviceStatus]>): Promise<void> {
    if (entries.length === 0) return;
    const latest = new Map(entries);
    await this.db.query(UPSERT_STATUSES, [[...latest.keys()], [...latest.values()].map((s) => JSON.stringify(s))]);
  }
}

export class PgTestWindowStore implements TestWindowStore {
  constructor(private readonly db: PgDatabase) {}

  async insert(t: Omit<TestWindow, 'id'>): Promise<TestWindow> {
    const rows = await this.db.query<{ id: string }>(INSERT_TEST, [
      t.deviceId,
      t.buildingId,
      t.kind,
      t.note,
      t.startedBy,
      t.startedAt,
      t.endsAt,
      t.endedAt,
      t.endedBy,
      t.minMpa,
      t.maxMpa,
      t.readings,
    ]);
    return { ...t, id: Number(rows[0]!.id) };
  }

  async update(t: TestWindow): Promise<void> {
    await this.db.query(UPDATE_TEST, [t.id, t.endedAt, t.endedBy, t.minMpa, t.maxMpa, t.readings]);
  }

  async active(at: number): Promise<TestWindow[]> {
    const rows = await this.db.query<TestRow>(ACTIVE_TESTS, [at]);
    return rows.map(toWindow);
  }

  async list(deviceId: string, limit: number): Promise<TestWindow[]> {
    const rows = await this.db.query<TestRow>(LIST_TESTS, [deviceId, limit]);
    return rows.map(toWindow);
  }
}
