/**
 * openPostgres (services/storage/postgres/database.ts) on the real local PostgreSQL, each case on a
 * fresh database (tests/support/postgres.ts): migrations are applied once, also when two nodes
 * start at once on an empty database; a failing migration leaves nothing behind and releases the
 * advisory lock; a server that cannot be reached is named without the password; transactions
 * commit, roll back and give their connection back; a unique violation names its constraint.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY, openPostgres, PgDatabase, uniqueViolation } from '../../services/storage/postgres/database.js';
import { PG_MIGRATIONS } from '../../services/storage/postgres/migrations.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';

let fresh: FreshDatabase;
const opened: PgDatabase[] = [];

/** Opens a database that afterEach closes. */
async function open(...args: Parameters<typeof openPostgres>): Promise<PgDatabase> {
  const db = await openPostgres(...args);
  opened.push(db);
  return db;
}

/** Reads the fresh database on a connection of its own (not through the code under test). */
async function inspect<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: fresh.url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The error an open fails with; an open that succeeds is closed and fails the test. */
async function failedOpen(...args: Parameters<typeof openPostgres>): Promise<Error> {
  const outcome = await openPostgres(...args).then(
    (db) => db,
    (err: unknown) => err,
  );
  if (outcome instanceof PgDatabase) {
    await outcome.close();
    throw new Error('openPostgres succeeded where it should have failed');
  }
  expect(outcome).toBeInstanceOf(Error);
  return outcome as Error;
}

const versions = async () => (await inspect<{ version: number }>('SELECT version FROM firewatch_schema ORDER BY version')).map((r) => r.version);
const tableExists = async (name: string) => (await inspect<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name]))[0]?.t !== null;
/** Advisory locks held with the migration key on this database, by anyone (pg_locks shows every database's). */
const migrationLocks = async () =>
  (
    await inspect<{ n: number }>(
      `SELECT count(*)::integer AS n FROM pg_locks
       WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
      [MIGRATION_LOCK_KEY.toString()],
    )
  )[0]!.n;

beforeEach(async () => {
  fresh = await freshDatabase();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
  await fresh.drop();
});

describe('openPostgres: migrations', () => {
  it('applies every migration once, and nothing on the next open', async () => {
    const db = await open(fresh.url);
    const all = PG_MIGRATIONS.map((_, i) => i + 1);
    expect(await versions()).toEqual(all);
    for (const table of ['buildings', 'devices', 'device_credentials']) expect(await tableExists(table)).toBe(true);
    const appliedAt = await inspect<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM firewatch_schema ORDER BY version');
    await db.close();

    await open(fresh.url);
    expect(await versions()).toEqual(all);
    expect(await inspect('SELECT version, applied_at FROM firewatch_schema ORDER BY version')).toEqual(appliedAt);
    expect(await migrationLocks()).toBe(0);
  });

  it('applies only the migrations above the highest one applied', async () => {
    const first = ['CREATE TABLE a (n integer)'];
    await (await open(fresh.url, { migrations: first })).close();
    // a migration 1 that would fail if it ran again, then a new one
    await open(fresh.url, { migrations: [...first, 'CREATE TABLE b (n integer)'] });
    expect(await versions()).toEqual([1, 2]);
    expect(await tableExists('b')).toBe(true);
  });

  it('two nodes starting at once on an empty database: both open, each migration applied once', async () => {
    // the first migration sleeps, so the second node is certain to arrive while the first holds the lock
    const migrations = ['SELECT pg_sleep(0.5); CREATE TABLE slow_first (n integer)', ...PG_MIGRATIONS];
    const [a, b] = await Promise.all([open(fresh.url, { migrations, max: 2 }), open(fresh.url, { migrations, max: 2 })]);
    expect(a.pool).not.toBe(b.pool);
    expect(await versions()).toEqual(migrations.map((_, i) => i + 1));
    // both work on the one schema
    await a.query("INSERT INTO slow_first (n) VALUES (1)");
    expect(await b.query('SELECT n FROM slow_first')).toEqual([{ n: 1 }]);
    expect(await migrationLocks()).toBe(0);
  });

  it('a failing migration is rolled back, stays unapplied and releases the lock; a fixed list then applies', async () => {
    const good = 'CREATE TABLE kept (n integer)';
    const failing = "CREATE TABLE half_done (n integer); INSERT INTO half_done VALUES (1); SELECT 1 / 0";
    const err = await failedOpen(fresh.url, { migrations: [good, failing] });
    expect(err.message).toMatch(/migration 2 of 2 failed and was rolled back: division by zero/);
    expect(await versions()).toEqual([1]);
    expect(await tableExists('kept')).toBe(true);
    expect(await tableExists('half_done')).toBe(false);
    expect(await migrationLocks()).toBe(0);
    // nothing left connected by the failed open
    const left = await inspect<{ n: number }>('SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [fresh.name]);
    expect(left[0]!.n).toBe(0);

    await open(fresh.url, { migrations: [good, 'CREATE TABLE half_done (n integer)'] });
    expect(await versions()).toEqual([1, 2]);
    expect(await tableExists('half_done')).toBe(true);
  });
});

describe('openPostgres: connecting', () => {
  const password = 'pa55-w0rd-never-shown';

  it('a server that does not answer: the error names user, host, port and database, not the password', async () => {
    const err = await failedOpen(`postgres://firewatch:${password}@127.0.0.1:1/fire_db`);
    expect(err.message).toContain('Cannot connect to PostgreSQL at firewatch@127.0.0.1:1/fire_db');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain(password);
    expect(String(err.stack)).not.toContain(password);
  });

  it('a database that does not exist on a server that answers: named, without the password', async () => {
    const url = new URL(fresh.url);
    url.password = password;
    url.pathname = '/firewatch_no_such_database';
    const err = await failedOpen(url.toString());
    expect(err.message).toContain(`at postgres@${url.hostname}:${url.port}/firewatch_no_such_database`);
    expect(err.message).toContain('does not exist');
    expect(err.message).not.toContain(password);
  });

  it('a URL that cannot be parsed: refused, without quoting it', async () => {
    const err = await failedOpen(`postgres://firewatch:${password}@[not-a-host/fire_db`);
    expect(err.message).toMatch(/not a valid postgres:\/\/ connection URL/);
    expect(err.message).not.toContain(password);
  });
});

describe('PgDatabase', () => {
  it('transaction commits, rolls back on a throw, and gives its connection back either way', async () => {
    const db = await open(fresh.url, { migrations: ['CREATE TABLE t (n integer PRIMARY KEY)'], max: 1 });
    expect(await db.transaction(async (c) => (await c.query('INSERT INTO t VALUES (1) RETURNING n')).rows[0])).toEqual({ n: 1 });
    const boom = new Error('boom');
    await expect(
      db.transaction(async (c) => {
        await c.query('INSERT INTO t VALUES (2)');
        throw boom;
      }),
    ).rejects.toBe(boom);
    // a failed statement inside: rolled back as well
    await expect(db.transaction((c) => c.query('INSERT INTO t VALUES (1)'))).rejects.toThrow(/duplicate key/);
    // with max 1, these would wait forever if a connection had not been released
    expect(await db.query('SELECT n FROM t ORDER BY n')).toEqual([{ n: 1 }]);
    expect(db.pool.totalCount).toBe(1);
    expect(db.pool.idleCount).toBe(1);
  });

  it('uniqueViolation names the constraint of a unique violation, and nothing else', async () => {
    const db = await open(fresh.url, { migrations: ['CREATE TABLE t (n integer CONSTRAINT t_n_key UNIQUE, m integer NOT NULL)'] });
    await db.query('INSERT INTO t VALUES (1, 1)');
    const dup = await db.query('INSERT INTO t VALUES (1, 2)').catch((e: unknown) => e);
    expect(uniqueViolation(dup)).toBe('t_n_key');
    const notNull = await db.query('INSERT INTO t VALUES (2, NULL)').catch((e: unknown) => e);
    expect(uniqueViolation(notNull)).toBeUndefined();
    expect(uniqueViolation(new Error('x'))).toBeUndefined();
    expect(uniqueViolation(undefined)).toBeUndefined();
  });

  it('close can be called twice', async () => {
    const db = await openPostgres(fresh.url);
    await db.close();
    await db.close();
  });
});
