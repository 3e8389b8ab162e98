/**
 * The reading log and the reading store over PostgreSQL: the `readings` table (schema-readings.ts)
 * is both, as readings.db is on SQLite (docs/adr/0006, docs/adr/0008). PgReadingLog is the twin
 * of ../sqlite/sqlite-reading-log.ts and its writer (sqlite-log-writer.ts), PgReadingStore of
 * ../sqlite/sqlite-reading-store.ts; they pass tests/support/reading-log-contract.ts and
 * tests/support/reading-store-contract.ts.
 *
 *   append() ─► pending ──(1 batch in flight)──► BEGIN; lock; INSERT … ON CONFLICT DO NOTHING; COMMIT
 *                  ▲                                        │
 *                  └── next batch goes when ◄───────────────┘ ids (0 = duplicate) or the error
 *
 * append() resolves after PostgreSQL answered the COMMIT (with the server's default
 * synchronous_commit = on, after the WAL was flushed), so a PUBACK follows a durable write. While
 * one batch commits the next gathers here (group commit): a burst costs one transaction and one
 * WAL flush per batch of up to `maxBatch` readings. A batch that fails is refused whole.
 *
 * Order. The log position is the identity column `id`, and a reader after a position must never
 * see a later id before an earlier one (the processors would move their cursor past it). Every
 * write to the table (this log's appends and probes, PgReadingStore.write, on every node) takes the
 * transaction-level advisory lock READINGS_APPEND_LOCK_KEY before it takes an id and holds it
 * until it commits, so ids commit in the order they are handed out, and what a reader sees is
 * always a prefix of the log. Within one instance one batch is in flight at a time, so batches
 * commit, and listeners hear them, in the order append() was called.
 *
 * De-duplication is the write, as on SQLite (sqlite-log-writer.ts), and each reading gets the
 * answer SqliteReadingLog gives it:
 *   - a seq and a device timestamp: the unique index readings_key (device, channel, ts, seq);
 *     `ON CONFLICT DO NOTHING` skips a reading the table holds, also one a concurrent transaction
 *     of another node is inserting (it waits for that one to commit), and one earlier in the
 *     same statement;
 *   - a seq and no device timestamp (server_ts): the same seq with the same fields (the JSON
 *     text) from the same device and channel received within DEDUPE_WINDOW_MS is a re-send. No
 *     constraint can say "within a window", so this is a NOT EXISTS in the INSERT; it is atomic
 *     because every writer holds the lock, and it runs in a statement after the lock was taken,
 *     so it sees what the previous holder committed. SQLite checks each reading against the rows
 *     inserted before it, the batch's earlier ones included; a statement does not see its own
 *     rows, so a batch that holds two such readings with the same device, channel, seq and
 *     fields is inserted as several statements in one transaction, cut before the second;
 *   - no seq: never a duplicate.
 * The ids of a batch are taken (nextval, in input order) before its INSERT, and the statement
 * answers with each input's id and whether its row is new: a duplicate gets no logId.
 *
 * Failures are LogErrors, as on SQLite: `log_write_failed` when PostgreSQL refused or could not be
 * reached, `log_timeout` for a batch not committed within `appendTimeoutMs` (its callers are
 * refused, and so is what waits behind it; if it commits after all, its readings still reach the
 * listeners and the re-send is a duplicate). Each append transaction runs with
 * statement_timeout and idle_in_transaction_session_timeout (a node that vanishes while it holds
 * the lock releases it within that time), and its connection is given up (closed) at
 * `connectionDeadlineMs`, for a network that answers nothing. A COMMIT that got no answer (the
 * connection broke, the deadline passed) may have committed: the log keeps the transaction id and
 * asks PostgreSQL (pg_xact_status) in its next transaction, once that holds the lock (so the
 * earlier one, which held it, is over); if it committed, the listeners hear its readings then,
 * before any later batch's, so none is lost to the processors (its callers were refused: their
 * re-sends are duplicates).
 *
 * Health: a failed append or probe makes health() not ok; while it is not ok and nothing is being
 * appended, a probe (a write to `log_probe` under the lock, which fails exactly when appends
 * would) runs every `probeMs`, so health comes back by itself when PostgreSQL does. While health is
 * ok, a log that has not written for `idleProbeMs` probes too, so an outage shows without traffic.
 *
 * Listeners hear what this instance appended. With several nodes appending to one table, the ids
 * of one node's appends interleave with the other's; reading them is readAfter's job.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { CommittedReadings, DEDUPE_WINDOW_MS, LogError, LogHealthState, type AppendListener, type AppendResult, type LogHealth, type ReadingLog } from '../../log/reading-log.js';
import type { Reading } from '../../telemetry/telemetry.js';
import { SinkError, type ReadingQuery, type ReadingStore, type StoredReading } from '../reading-store.js';
import type { PgDatabase } from './database.js';

/**
 * The key of the advisory lock every write to `readings` holds until it commits: the ASCII bytes
 * of "fwreadlg" read as one bigint (0x6677726561646c67), as database.ts's MIGRATION_LOCK_KEY is
 * made. Nothing else in Firewatch takes advisory locks with this key, and another application
 * sharing the database must not either.
 */
export const READINGS_APPEND_LOCK_KEY = 0x6677726561646c67n;

/** A row as node-postgres gives it: json parsed, bigint as a string. */
interface ReadingRow {
  id: string;
  device_id: string;
  building_id: string | null;
  street: string | null;
  point: string | null;
  kind: string;
  channel: string;
  ts: string;
  seq: string | null;
  received_at: string;
  fields: Reading['fields'];
  server_ts: boolean;
}

const COLS = 'device_id, building_id, street, point, kind, channel, ts, seq, received_at, fields, server_ts';
const ROW_COLS = `id, ${COLS}`;

/** The batch as parameters $1…$11, one array per column (fields as JSON text); see INPUT. */
type InputParams = [
  (string | null)[],
  (string | null)[],
  (string | null)[],
  (string | null)[],
  string[],
  string[],
  number[],
  (number | null)[],
  number[],
  string[],
  boolean[],
];

/** The batch as rows, in input order, numbered from 1 (`n`). */
const INPUT = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::boolean[])
         WITH ORDINALITY AS r (device_id, building_id, street, point, kind, channel, ts, seq, received_at, fields, server_ts, n)`;

/**
 * One append (or one part of it): each input's id and whether its row is new. Ids are taken in
 * input order (nextval is evaluated after the sort) and rows inserted in id order; a re-send
 * without a device time is left out by the NOT EXISTS (readings_untimed), a reading the table
 * holds by ON CONFLICT (readings_key). $12 is DEDUPE_WINDOW_MS.
 */
const APPEND = `
  WITH input AS MATERIALIZED (
    SELECT nextval('readings_id_seq') AS id, r.*
    FROM ${INPUT}
    ORDER BY r.n
  ),
  inserted AS (
    INSERT INTO readings (id, ${COLS}) OVERRIDING SYSTEM VALUE
    SELECT i.id, i.device_id, i.building_id, i.street, i.point, i.kind, i.channel, i.ts, i.seq, i.received_at, i.fields::json, i.server_ts
    FROM input i
    WHERE NOT (i.server_ts AND i.seq IS NOT NULL AND EXISTS (
      SELECT 1 FROM readings x
      WHERE x.server_ts AND x.device_id = i.device_id AND x.channel = i.channel AND x.seq = i.seq
        AND x.received_at >= i.received_at - $12::bigint AND x.fields::text = i.fields))
    ORDER BY i.id
    ON CONFLICT (device_id, channel, ts, seq) DO NOTHING
    RETURNING id
  )
  SELECT i.id, inserted.id IS NOT NULL AS new
  FROM input i LEFT JOIN inserted ON inserted.id = i.id
  ORDER BY i.n`;

/** The store's write (as SQLite's INSERT OR IGNORE: the unique key only, no window). */
const WRITE = `
  INSERT INTO readings (${COLS})
  SELECT r.device_id, r.building_id, r.street, r.point, r.kind, r.channel, r.ts, r.seq, r.received_at, r.fields::json, r.server_ts
  FROM ${INPUT}
  ORDER BY r.n
  ON CONFLICT (device_id, channel, ts, seq) DO NOTHING`;

const PROBE = 'INSERT INTO log_probe (id, n) VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = log_probe.n + 1';
const AFTER = `SELECT ${ROW_COLS} FROM readings WHERE id > $1 ORDER BY id LIMIT $2`;
const LAST_ID = 'SELECT coalesce(max(id), 0) AS id FROM readings';
/**
 * One chunk of retention: rows received before $1 and at or below $2 (what every consumer has
 * processed), found by readings_received_at; SKIP LOCKED lets two nodes prune at once.
 */
const PRUNE = `
  DELETE FROM readings WHERE id IN (
    SELECT id FROM readings WHERE received_at < $1 AND id <= $2
    ORDER BY received_at LIMIT $3
    FOR UPDATE SKIP LOCKED)`;
/** History, newest first: readings_key scanned backwards; a NULL seq last, as on SQLite. */
const HISTORY = `
  SELECT ts, seq, fields FROM readings
  WHERE device_id = $1 AND channel = $2 AND ts >= $3 AND ts <= $4
  ORDER BY ts DESC, seq DESC NULLS LAST, id DESC
  LIMIT $5`;
const PING = 'SELECT id FROM readings ORDER BY id DESC LIMIT 1';

/** The readings as the parameters of INPUT; a reading without receivedAt gets `now`. */
function inputParams(readings: readonly Reading[], now: number): InputParams {
  const p: InputParams = [[], [], [], [], [], [], [], [], [], [], []];
  for (const r of readings) {
    p[0].push(r.deviceId);
    p[1].push(r.buildingId ?? null);
    p[2].push(r.street ?? null);
    p[3].push(r.point ?? null);
    p[4].push(r.kind);
    p[5].push(r.channel);
    p[6].push(r.ts);
    p[7].push(r.seq ?? null);
    p[8].push(r.receivedAt ?? now);
    p[9].push(JSON.stringify(r.fields));
    p[10].push(r.serverTs === true);
  }
  return p;
}

/** The rows [start, end) of the input, as the parameters of INPUT. */
function sliceParams(p: InputParams, start: number, end: number): InputParams {
  return p.map((column) => column.slice(start, end)) as InputParams;
}

/**
 * Where a batch is cut into statements: before a reading without a device time whose device,
 * channel, seq and fields an earlier reading of the same part has (it must see that one's row,
 * as on SQLite). Nearly every batch is one part.
 */
function parts(p: InputParams): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  let seen = new Set<string>();
  for (let i = 0; i < p[0].length; i++) {
    if (!p[10][i] || p[7][i] === null) continue;
    const key = `${p[0][i]}\u0000${p[5][i]}\u0000${p[7][i]}\u0000${p[9][i]}`;
    if (seen.has(key)) {
      out.push([start, i]);
      start = i;
      seen = new Set();
    }
    seen.add(key);
  }
  out.push([start, p[0].length]);
  return out;
}

function rowToReading(r: ReadingRow): Reading {
  const reading: Reading = {
    deviceId: r.device_id,
    kind: r.kind as Reading['kind'],
    channel: r.channel as Reading['channel'],
    ts: Number(r.ts),
    fields: r.fields,
  };
  if (r.seq !== null) reading.seq = Number(r.seq);
  reading.receivedAt = Number(r.received_at);
  if (r.building_id !== null) reading.buildingId = r.building_id;
  if (r.street !== null) reading.street = r.street;
  if (r.point !== null) reading.point = r.point;
  if (r.server_ts) reading.serverTs = true;
  reading.logId = Number(r.id);
  return reading;
}

function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(errorMessage).join('; ');
  if (err instanceof Error) return err.message || ('code' in err ? String(err.code) : err.name);
  return String(err);
}

/** How long one transaction may take: on the server, and before its connection is given up. */
interface Limits {
  /** statement_timeout and idle_in_transaction_session_timeout, ms (0: the server's own) */
  statementMs: number;
  /** the connection is closed and the transaction abandoned after this, ms (0: never) */
  deadlineMs: number;
}

const NO_LIMITS: Limits = { statementMs: 0, deadlineMs: 0 };

/** A COMMIT that got no answer: the transaction may have committed. */
class CommitUnknown<T> extends Error {
  constructor(
    readonly xid: string,
    readonly value: T,
    cause: unknown,
  ) {
    super(`COMMIT got no answer: ${errorMessage(cause)}`, { cause });
    this.name = 'CommitUnknown';
  }
}

const ignore = (): void => undefined;

/**
 * Runs `work` inside a transaction that holds READINGS_APPEND_LOCK_KEY, on a connection of its
 * own; ROLLBACK when it throws. `step` bounds each wait by the deadline: when it passes, the
 * connection is closed (which also ends a query in flight) and the transaction fails. A COMMIT
 * that fails or gets no answer is a CommitUnknown carrying the transaction id and what `work`
 * returned; the connection is then discarded.
 */
async function lockedTransaction<T>(
  db: PgDatabase,
  limits: Limits,
  work: (client: pg.PoolClient, step: <X>(p: Promise<X>) => Promise<X>) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient | undefined;
  let released = false;
  const release = (err?: Error) => {
    if (!client || released) return;
    released = true;
    client.removeListener('error', ignore);
    client.release(err);
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (limits.deadlineMs <= 0) return;
    timer = setTimeout(() => {
      const err = new Error(`no answer from PostgreSQL within ${limits.deadlineMs} ms; the connection was closed`);
      release(err);
      reject(err);
    }, limits.deadlineMs);
  });
  deadline.catch(ignore);
  const step = <X>(p: Promise<X>): Promise<X> => Promise.race([p, deadline]);

  const connecting = db.pool.connect();
  try {
    client = await step(connecting);
  } catch (err) {
    // the deadline passed first: the connection, if it comes, goes back at once
    connecting.then((c) => c.release(), ignore);
    clearTimeout(timer);
    throw err;
  }
  // a connection that breaks between two queries emits 'error' on the client, which has no
  // listener while it is checked out of the pool; the next query fails instead
  client.on('error', ignore);
  let committing = false;
  let broken: Error | undefined;
  try {
    const setup =
      'BEGIN; ' +
      (limits.statementMs > 0
        ? `SET LOCAL statement_timeout = ${Math.ceil(limits.statementMs)}; SET LOCAL idle_in_transaction_session_timeout = ${Math.ceil(limits.statementMs)}; `
        : '') +
      `SELECT pg_advisory_xact_lock(${READINGS_APPEND_LOCK_KEY}), pg_current_xact_id()::text AS xid`;
    // several statements in one simple query: node-postgres answers with one result for each
    const results = (await step(client.query(setup))) as unknown as Array<pg.QueryResult<{ xid?: string }>>;
    const xid = results[results.length - 1]!.rows[0]!.xid!;
    const value = await work(client, step);
    committing = true;
    try {
      await step(client.query('COMMIT'));
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw new CommitUnknown(xid, value, err);
    }
    return value;
  } catch (err) {
    if (!committing && !released) {
      try {
        await step(client.query('ROLLBACK'));
      } catch (rollbackErr) {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
    }
    throw err;
  } finally {
    clearTimeout(timer);
    release(broken);
  }
}

/** PgReadingStore's insert: the unique key only, as SQLite's INSERT OR IGNORE, under the lock the log's order needs. */
async function writeReadings(db: PgDatabase, readings: readonly Reading[]): Promise<void> {
  const params = inputParams(readings, Date.now());
  await lockedTransaction(db, NO_LIMITS, async (client) => {
    await client.query(WRITE, params);
  });
}

export interface PgLogOptions {
  appendTimeoutMs: number;
  /** most readings per commit (default 400) */
  maxBatch?: number;
  /** while appends fail, how often the log probes (default 1000 ms) */
  probeMs?: number;
  /** while appends succeed, how long the log may go without a write before it probes (default 10 s; 0: never) */
  idleProbeMs?: number;
  /** statement_timeout of an append's transaction (default appendTimeoutMs) */
  statementTimeoutMs?: number;
  /** when an append's connection is given up, from the start of its batch (default twice appendTimeoutMs) */
  connectionDeadlineMs?: number;
  log: Logger;
  onBatch?: (size: number) => void;
  onFailure?: (err: LogError) => void;
  onRecovered?: () => void;
}

interface Waiter {
  readings: readonly Reading[];
  resolve: (r: AppendResult) => void;
  reject: (e: LogError) => void;
  settled: boolean;
}

interface Batch {
  waiters: Waiter[];
  readings: Reading[];
  sentAt: number;
  /** refused to its callers for taking too long (counted once) */
  timedOut: boolean;
}

/** A batch whose COMMIT got no answer, with the ids its new rows would have. */
interface Unsettled {
  xid: string;
  batch: Batch;
  ids: number[];
}

export class PgReadingLog implements ReadingLog {
  readonly name = 'postgres';
  private pending: Waiter[] = [];
  private inFlight: Batch | undefined;
  /** the batch or probe being written: one at a time */
  private writing: Promise<void> | undefined;
  private unsettled: Unsettled | undefined;
  private scheduled = false;
  private closed = false;
  /** the listeners, and this node's recent commits' times: its readings carry them when the processors read them back (issue #15 item 4) */
  private readonly commits: CommittedReadings;
  private readonly state: LogHealthState;
  private timer: NodeJS.Timeout | undefined;
  private lastProbeAt: number | undefined;
  private lastWriteAt = Date.now();
  private readonly limits: Limits;

  constructor(
    private readonly db: PgDatabase,
    private readonly opts: PgLogOptions,
  ) {
    this.state = new LogHealthState(opts);
    this.commits = new CommittedReadings(opts.log);
    this.limits = {
      statementMs: opts.statementTimeoutMs ?? opts.appendTimeoutMs,
      deadlineMs: opts.connectionDeadlineMs ?? 2 * opts.appendTimeoutMs,
    };
  }

  async start(): Promise<void> {
    this.lastWriteAt = Date.now();
    this.timer = setInterval(() => this.sweep(), Math.min(250, this.opts.appendTimeoutMs / 4));
    this.timer.unref();
  }

  onAppend(listener: AppendListener): void {
    this.commits.listen(listener);
  }

  append(readings: readonly Reading[]): Promise<AppendResult> {
    if (readings.length === 0) return Promise.resolve({ appended: [], duplicates: 0 });
    if (this.closed) return Promise.reject(new LogError('the reading log is closed', 'log_closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ readings, resolve, reject, settled: false });
      if (!this.writing && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.send();
        });
      }
    });
  }

  /** Start the next batch of what is pending, unless a batch or a probe is being written. */
  private send(): void {
    if (this.writing || this.closed || this.pending.length === 0) return;
    const max = this.opts.maxBatch ?? 400;
    const waiters: Waiter[] = [];
    const readings: Reading[] = [];
    while (this.pending.length > 0 && (readings.length === 0 || readings.length + this.pending[0]!.readings.length <= max)) {
      const w = this.pending.shift()!;
      if (w.settled) continue; // timed out while it waited: the device re-sends it
      waiters.push(w);
      for (const r of w.readings) readings.push(r);
    }
    if (readings.length === 0) return;
    const batch: Batch = { waiters, readings, sentAt: Date.now(), timedOut: false };
    this.inFlight = batch;
    this.opts.onBatch?.(readings.length);
    this.writing = this.write(batch).finally(() => {
      this.inFlight = undefined;
      this.writing = undefined;
      this.send();
    });
  }

  private async write(batch: Batch): Promise<void> {
    let ids: number[];
    try {
      const params = inputParams(batch.readings, Date.now());
      ids = await lockedTransaction(this.db, this.limits, async (client, step) => {
        await this.settleUnknown(client, step);
        const out: number[] = [];
        for (const [start, end] of parts(params)) {
          const res = await step(client.query<{ id: string; new: boolean }>(APPEND, [...sliceParams(params, start, end), DEDUPE_WINDOW_MS]));
          for (const row of res.rows) out.push(row.new ? Number(row.id) : 0);
        }
        return out;
      });
    } catch (err) {
      if (err instanceof CommitUnknown) {
        const unknownIds = err.value as number[];
        if (unknownIds.some((id) => id > 0)) this.unsettled = { xid: err.xid, batch, ids: unknownIds };
      }
      const logErr = new LogError(`log append failed: ${errorMessage(err)}`, 'log_write_failed', { cause: err });
      this.state.fail(logErr);
      this.settleFailed(batch, logErr);
      return;
    }
    this.lastWriteAt = Date.now();
    this.state.recovered();
    this.deliver(batch, ids);
  }

  /** Set the logIds, answer the callers still waiting, and tell the listeners what was appended. */
  private deliver(batch: Batch, ids: readonly number[]): void {
    const appended: Reading[] = [];
    let i = 0;
    for (const w of batch.waiters) {
      const mine: Reading[] = [];
      for (const r of w.readings) {
        const id = ids[i++]!;
        if (id > 0) {
          r.logId = id;
          mine.push(r);
          appended.push(r);
        }
      }
      if (!w.settled) {
        w.settled = true;
        w.resolve({ appended: mine, duplicates: w.readings.length - mine.length });
      }
    }
    this.commits.committed(appended);
  }

  /**
   * Before anything else is written, inside the next transaction (which holds the lock, so the
   * earlier one, which held it too, is over): did the batch whose COMMIT got no answer commit? If
   * so, its readings go to the listeners now, before the next batch's (its callers were refused;
   * their re-sends are duplicates).
   */
  private async settleUnknown(client: pg.PoolClient, step: <X>(p: Promise<X>) => Promise<X>): Promise<void> {
    const u = this.unsettled;
    if (!u) return;
    const res = await step(client.query<{ status: string | null }>('SELECT pg_xact_status($1::xid8) AS status', [u.xid]));
    let status = res.rows[0]?.status ?? null;
    if (status === 'in progress') throw new Error(`the outcome of an earlier append (transaction ${u.xid}) is not known yet`);
    if (status === null) {
      // too old for the commit log: its rows tell
      const found = await step(client.query('SELECT 1 FROM readings WHERE id = $1', [u.ids.find((id) => id > 0)]));
      status = found.rows.length > 0 ? 'committed' : 'aborted';
    }
    this.unsettled = undefined;
    if (status === 'committed') {
      this.opts.log.warn({ xid: u.xid }, 'an append whose COMMIT got no answer had committed; its readings go to the listeners now');
      this.deliver(u.batch, u.ids);
    }
  }

  private settleFailed(batch: Batch, err: LogError): void {
    for (const w of batch.waiters) {
      if (w.settled) continue;
      w.settled = true;
      w.reject(err);
    }
  }

  /** Refuse appends that waited too long; probe while failing (or long idle) and nothing else is written. */
  private sweep(): void {
    const now = Date.now();
    const limit = this.opts.appendTimeoutMs;
    const timeout = () => new LogError(`log append took longer than ${limit} ms`, 'log_timeout');
    const oldest = this.inFlight;
    if (oldest && now - oldest.sentAt > limit) {
      if (!oldest.timedOut) {
        oldest.timedOut = true;
        const err = timeout();
        this.state.fail(err);
        this.settleFailed(oldest, err);
      }
      if (this.pending.length > 0) {
        // the write is stuck (a lock, a network that answers nothing): what waits behind it is refused too
        const err = timeout();
        for (const w of this.pending.splice(0)) {
          if (!w.settled) {
            w.settled = true;
            w.reject(err);
          }
        }
      }
    }
    if (this.writing || this.pending.length > 0 || this.closed) return;
    const probeMs = this.opts.probeMs ?? 1000;
    const idleProbeMs = this.opts.idleProbeMs ?? 10_000;
    const due = this.state.ok ? idleProbeMs > 0 && now - this.lastWriteAt >= idleProbeMs : now - (this.lastProbeAt ?? 0) >= probeMs;
    if (due) this.probe();
  }

  private probe(): void {
    this.lastProbeAt = Date.now();
    this.writing = (async () => {
      try {
        await lockedTransaction(this.db, this.limits, async (client, step) => {
          await this.settleUnknown(client, step);
          await step(client.query(PROBE));
        });
        this.lastWriteAt = Date.now();
        this.state.recovered();
      } catch (err) {
        this.state.fail(new LogError(`log probe failed: ${errorMessage(err)}`, 'log_write_failed', { cause: err }));
      }
    })().finally(() => {
      this.writing = undefined;
      this.send();
    });
  }

  health(): LogHealth {
    return this.state.health();
  }

  /**
   * Retention: delete rows received before `cutoff` and at or below `maxId` (what every consumer
   * has processed), a chunk per statement so no transaction grows large; appends go on meanwhile
   * (they take no lock a delete holds). Resolves with how many rows went.
   */
  async prune(cutoff: number, maxId: number, chunk = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.closed) return total;
      const res = await this.db.pool.query(PRUNE, [cutoff, maxId, chunk]);
      const n = res.rowCount ?? 0;
      total += n;
      if (n < chunk) return total;
    }
  }

  async readAfter(afterId: number, limit: number): Promise<Reading[]> {
    const out = (await this.db.query<ReadingRow>(AFTER, [afterId, limit])).map(rowToReading);
    this.commits.stamp(out);
    return out;
  }

  async lastId(): Promise<number> {
    const rows = await this.db.query<{ id: string }>(LAST_ID);
    return Number(rows[0]!.id);
  }

  /** Commit what was accepted into the queue (bounded: about 5 s), without closing. */
  async drain(): Promise<void> {
    for (let i = 0; i < 1000 && !this.closed && (this.inFlight || this.pending.some((w) => !w.settled)); i++) {
      this.send();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Commits what was appended before it, then refuses appends. The database stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    // a write still under way ends within its connection deadline
    await this.writing;
    const err = new LogError('the reading log is closed', 'log_closed');
    for (const w of this.pending.splice(0)) {
      if (!w.settled) {
        w.settled = true;
        w.reject(err);
      }
    }
  }
}

/**
 * The reading store over the same table: queries of the readings the log appended (the rows are
 * the stored readings, kept READINGS_RETENTION_DAYS). write() inserts directly, as
 * SqliteReadingStore does, under the log's lock so the log's order holds.
 */
export class PgReadingStore implements ReadingStore {
  readonly name = 'postgres';

  constructor(private readonly db: PgDatabase) {}

  async write(readings: readonly Reading[]): Promise<void> {
    if (readings.length === 0) return;
    try {
      await writeReadings(this.db, readings);
    } catch (err) {
      throw new SinkError(`postgres write failed: ${errorMessage(err)}`, true, 'postgres_write_failed', { cause: err });
    }
  }

  async query(q: ReadingQuery): Promise<StoredReading[]> {
    const rows = await this.db.query<{ ts: string; seq: string | null; fields: Record<string, unknown> }>(HISTORY, [
      q.deviceId,
      q.channel ?? 'telemetry',
      q.from ?? 0,
      q.to ?? Number.MAX_SAFE_INTEGER,
      q.limit,
    ]);
    return rows.map((r) => ({
      ts: Number(r.ts),
      ...(r.seq !== null ? { seq: Number(r.seq) } : {}),
      fields: r.fields,
    }));
  }

  /** The cheapest read that proves the table answers. */
  async ping(): Promise<void> {
    await this.db.query(PING);
  }

  async close(): Promise<void> {}
}
