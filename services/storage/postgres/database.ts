/**
 * Opens the shared PostgreSQL database (node-postgres, docs/adr/0008-shared-state-on-postgresql.md):
 * a `pg.Pool`, a first connection that must succeed, and the migrations (migrations.ts) applied in
 * order. The stores run plain SQL through `query` and `transaction`.
 *
 * Migrations: `firewatch_schema` holds one row per applied migration (version n is the n-th string
 * of the list). Several nodes may start at once on one database, so the whole step runs on one
 * dedicated connection holding the session-level advisory lock MIGRATION_LOCK_KEY: the first node
 * applies what is missing, the others wait for the lock and then find nothing left to apply. Each
 * migration runs in its own transaction with the insert of its version, so a failing one leaves
 * neither its changes nor its row behind. The lock is released on success and on error (and, if
 * the connection itself broke, PostgreSQL drops it with the session).
 *
 * Transactions: `transaction(fn)` binds its client with AsyncLocalStorage, one binding per
 * PgDatabase, so every `query` made on this PgDatabase from inside `fn` — by any store, however
 * deep, also from timers and callbacks `fn` started, while the transaction is open — runs on the
 * transaction's client (the unit of work, ../../shared/unit-of-work.ts, relies on it). Another
 * PgDatabase (another pool, "another node") is never joined. A `transaction` called while one is
 * open on this PgDatabase joins it as a SAVEPOINT on the same client (no new BEGIN, no second
 * connection): when its `fn` throws, what it did is rolled back to the savepoint and the error is
 * rethrown, so the enclosing transaction rolls back too unless its code catches the error, in
 * which case it goes on without the nested part (as better-sqlite3's nested transactions do).
 * Nested transactions of one transaction run one at a time (interleaved savepoints on one
 * connection would release each other); a query the enclosing code runs alongside one is on the
 * same connection, so it is inside the savepoint and undone if that rolls back. Locks a nested
 * transaction takes (`pg_advisory_xact_lock`, row locks) are held until the outermost one ends.
 * Work `fn` started that is still running when the transaction ends no longer joins it and goes
 * to the pool. Connections taken from `pool` directly (pg-readings.ts has its own) are never
 * bound. A COMMIT that PostgreSQL answers with ROLLBACK (the transaction was aborted by a
 * statement whose error `fn` caught) is an error, not a silent loss.
 *
 * Errors: a database that cannot be reached gives an Error naming user, host, port and database,
 * never the password. A unique or foreign-key violation keeps node-postgres' DatabaseError;
 * `uniqueViolation` and `foreignKeyViolation` name the constraint so a store can turn it into the
 * domain error the SQLite store's caller expects.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { PG_MIGRATIONS } from './migrations.js';

export interface PgOpenOptions {
  /** The database's migrations, in order (default PG_MIGRATIONS). */
  migrations?: readonly string[];
  /** Most connections the pool opens (default 10). */
  max?: number;
  /** Shown in pg_stat_activity (default 'firewatch'). */
  applicationName?: string;
}

/**
 * The key of the advisory lock the migration step holds: the ASCII bytes of "firewatc" read as one
 * bigint (0x6669726577617463). Nothing else in Firewatch takes advisory locks with this key, and
 * another application sharing the database must not either.
 */
export const MIGRATION_LOCK_KEY = 0x6669726577617463n;

/** How long a new connection may take before it fails (a host that drops packets would hang forever). */
const CONNECT_TIMEOUT_MS = 10_000;

/** SQLSTATE of a unique violation (a primary key, unique constraint or unique index refused a row). */
export const UNIQUE_VIOLATION = '23505';
/** SQLSTATE of a foreign-key violation (a missing parent, or a parent that still has children). */
export const FOREIGN_KEY_VIOLATION = '23503';

/** A transaction open on one PgDatabase, or a savepoint inside one: what `query` and `transaction` join. */
interface TxFrame {
  readonly client: pg.PoolClient;
  /** the transaction this savepoint is in; undefined for the outermost one */
  readonly parent: TxFrame | undefined;
  /** false once it committed, rolled back or was released: work started in it that outlives it no longer joins it */
  open: boolean;
  /** the end of the last nested transaction queued on this frame (they run one at a time) */
  tail: Promise<unknown>;
  /** how many savepoints the outermost transaction has made: their names */
  readonly savepoints: { n: number };
}

const ignore = () => undefined;

export class PgDatabase {
  private closing: Promise<void> | undefined;
  /** The transaction the running code is in, on this PgDatabase only. */
  private readonly current = new AsyncLocalStorage<TxFrame>();

  constructor(readonly pool: pg.Pool) {}

  /** Runs one statement; its rows. Inside `transaction` on the transaction's client, otherwise on a pooled connection. */
  async query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const frame = this.openFrame();
    const result = frame ? await frame.client.query<T>(sql, [...params]) : await this.pool.query<T>(sql, [...params]);
    return result.rows;
  }

  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; ROLLBACK when it throws (the error is
   * rethrown). The connection goes back to the pool either way, or is discarded if ROLLBACK failed.
   * Called inside an open transaction of this PgDatabase, it joins it as a savepoint (file comment).
   */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const enclosing = this.openFrame();
    if (enclosing) return this.nested(enclosing, fn);
    const client = await this.pool.connect();
    const frame: TxFrame = { client, parent: undefined, open: true, tail: Promise.resolve(), savepoints: { n: 0 } };
    let broken: Error | undefined;
    // a connection that breaks between two statements emits 'error' on a checked-out client, where
    // no listener of the pool's waits: without this one it would end the process. The next statement
    // fails with it, and the connection is discarded on release.
    let lost: Error | undefined;
    const onLost = (err: Error) => (lost = err);
    client.on('error', onLost);
    try {
      await client.query('BEGIN');
      const result = await this.runIn(frame, fn);
      const done = await client.query('COMMIT');
      if (done.command === 'ROLLBACK') {
        throw new Error('PostgreSQL rolled the transaction back instead of committing it: a statement inside it failed and its error was caught');
      }
      return result;
    } catch (err) {
      broken = lost ?? (await rollbackQuietly(client));
      throw err;
    } finally {
      frame.open = false;
      client.removeListener('error', onLost);
      client.release(broken ?? lost);
    }
  }

  /**
   * Closes every connection of the pool; calling it again waits for the same close. What holds a
   * connection for good (a LISTEN: pg-notify.ts) registers with `holding` and is let go first, or
   * the pool's end would wait for it.
   */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled([...this.holders].map((release) => release())).then(() => this.pool.end());
    return this.closing;
  }

  private readonly holders = new Set<() => Promise<void>>();

  /** Registers how to give back a connection held for good; returns the unregister function. */
  holding(release: () => Promise<void>): () => void {
    this.holders.add(release);
    return () => this.holders.delete(release);
  }

  /** The innermost open transaction (or savepoint) the running code is in, on this PgDatabase. */
  private openFrame(): TxFrame | undefined {
    let frame = this.current.getStore();
    while (frame && !frame.open) frame = frame.parent;
    return frame;
  }

  /** `fn` with `frame` bound; the frame is closed as soon as `fn` settles. */
  private async runIn<T>(frame: TxFrame, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await this.current.run(frame, () => fn(frame.client));
    } finally {
      frame.open = false;
    }
  }

  /** A transaction inside `outer`: queued behind the other nested ones of `outer`, then a savepoint. */
  private nested<T>(outer: TxFrame, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const run = outer.tail.then(() => this.savepoint(outer, fn));
    outer.tail = run.then(ignore, ignore);
    return run;
  }

  private async savepoint<T>(outer: TxFrame, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (!outer.open) throw new Error('PgDatabase.transaction: the transaction this one was to join ended before it could start');
    const { client } = outer;
    const name = `firewatch_savepoint_${++outer.savepoints.n}`;
    const frame: TxFrame = { client, parent: outer, open: true, tail: Promise.resolve(), savepoints: outer.savepoints };
    await client.query(`SAVEPOINT ${name}`);
    try {
      const result = await this.runIn(frame, fn);
      await client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      // if this fails too, the connection is broken and the enclosing transaction fails with it
      await client.query(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`).catch(ignore);
      throw err;
    }
  }
}

/** ROLLBACK; the error when that failed too (the connection is then unusable). */
async function rollbackQuietly(client: pg.PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export async function openPostgres(url: string, opts: PgOpenOptions = {}): Promise<PgDatabase> {
  const config: pg.PoolConfig = {
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'firewatch',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  };
  await checkConnection(config);
  const pool = new pg.Pool(config);
  // An idle connection that breaks (a server restart) is dropped by the pool, which opens a new
  // one on the next query; without a listener the 'error' event would end the process.
  pool.on('error', () => undefined);
  try {
    await migrate(pool, opts.migrations ?? PG_MIGRATIONS);
    return new PgDatabase(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

/**
 * Connects once outside the pool, so that an unreachable server or a bad URL fails here with a
 * clear message. (A URL node-postgres cannot parse would otherwise throw inside the pool, out of
 * reach of the caller.)
 */
async function checkConnection(config: pg.PoolConfig): Promise<void> {
  let client: pg.Client;
  try {
    client = new pg.Client(config);
  } catch {
    // the parser's own message may quote the URL, password included
    throw new Error('Cannot connect to PostgreSQL: the database URL is not a valid postgres:// connection URL');
  }
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(`Cannot connect to PostgreSQL at ${describeTarget(client)}: ${redact(errorMessage(err), client.password)}`, { cause: err });
  }
  await client.end();
}

/** user@host:port/database, as node-postgres understood the URL; never the password. */
function describeTarget(client: pg.Client): string {
  const user = client.user ? `${client.user}@` : '';
  return `${user}${client.host}:${client.port}/${client.database ?? '(default database)'}`;
}

function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(errorMessage).join('; ');
  if (err instanceof Error) return err.message || ('code' in err ? String(err.code) : err.name);
  return String(err);
}

/** The message without the password, should a driver or server ever quote it. */
function redact(message: string, password: string | null | undefined): string {
  return password ? message.split(password).join('***') : message;
}

async function migrate(pool: pg.Pool, migrations: readonly string[]): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  client.on('error', (err) => (broken ??= err)); // checked out: the pool's listener does not cover it (transaction above)
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await applyPending(client, migrations);
    } finally {
      broken = await unlockQuietly(client);
    }
  } finally {
    client.release(broken);
  }
}

/** Releases the migration lock; the error when that failed (the connection is then discarded, which releases it too). */
async function unlockQuietly(client: pg.PoolClient): Promise<Error | undefined> {
  try {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Applies, under the lock, every migration whose version is above the highest one applied. */
async function applyPending(client: pg.PoolClient, migrations: readonly string[]): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS firewatch_schema (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const rows = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM firewatch_schema');
  const current = rows.rows[0]?.version ?? 0;
  for (let version = current + 1; version <= migrations.length; version++) {
    await applyOne(client, version, migrations[version - 1]!, migrations.length);
  }
}

async function applyOne(client: pg.PoolClient, version: number, sql: string, total: number): Promise<void> {
  try {
    await client.query('BEGIN');
    await client.query(sql);
    await client.query('INSERT INTO firewatch_schema (version) VALUES ($1)', [version]);
    await client.query('COMMIT');
  } catch (err) {
    // if ROLLBACK fails too, the connection is broken and the transaction died with it
    await rollbackQuietly(client);
    throw new Error(`PostgreSQL migration ${version} of ${total} failed and was rolled back: ${errorMessage(err)}`, { cause: err });
  }
}

/** The name of the constraint a violation with this SQLSTATE refers to; undefined for any other error. */
function violatedConstraint(err: unknown, sqlstate: string): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, constraint } = err as { code?: unknown; constraint?: unknown };
  return code === sqlstate && typeof constraint === 'string' ? constraint : undefined;
}

/** The unique constraint or index a unique violation (SQLSTATE 23505) hit, e.g. 'devices_pkey'; undefined otherwise. */
export function uniqueViolation(err: unknown): string | undefined {
  return violatedConstraint(err, UNIQUE_VIOLATION);
}

/** The foreign key a foreign-key violation (SQLSTATE 23503) hit; undefined otherwise. */
export function foreignKeyViolation(err: unknown): string | undefined {
  return violatedConstraint(err, FOREIGN_KEY_VIOLATION);
}
