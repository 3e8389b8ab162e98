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
 * Errors: a database that cannot be reached gives an Error naming user, host, port and database,
 * never the password. A unique or foreign-key violation keeps node-postgres' DatabaseError;
 * `uniqueViolation` and `foreignKeyViolation` name the constraint so a store can turn it into the
 * domain error the SQLite store's caller expects.
 */
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

export class PgDatabase {
  private closing: Promise<void> | undefined;

  constructor(readonly pool: pg.Pool) {}

  /** Runs one statement on a pooled connection; its rows. */
  async query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pool.query<T>(sql, [...params]);
    return result.rows;
  }

  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; ROLLBACK when it throws (the error is
   * rethrown). The connection goes back to the pool either way, or is discarded if ROLLBACK failed.
   */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = await rollbackQuietly(client);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Closes every connection of the pool; calling it again waits for the same close. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
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
