/**
 * A store on a fresh PostgreSQL database, for the contract suites (tests/support/*-contract.ts):
 * the database is created for the case (tests/support/postgres.ts) and opened as the service opens
 * it (openPostgres: every migration). `reopen` closes it and opens the same database again, as
 * after a restart; `cleanup` closes what is open and drops the database.
 */
import { openPostgres, type PgDatabase } from '../../services/storage/postgres/database.js';
import { freshDatabase, type FreshDatabase } from './postgres.js';

export async function onPostgres<S>(
  open: (db: PgDatabase) => S,
  opts: { migrations?: readonly string[] } = {},
): Promise<{ store: S; reopen: () => Promise<S>; cleanup: () => Promise<void>; db: () => PgDatabase }> {
  const fresh = await freshDatabase();
  const connect = () => openPostgres(fresh.url, { max: 4, ...(opts.migrations ? { migrations: opts.migrations } : {}) });
  let db: PgDatabase;
  try {
    db = await connect();
  } catch (err) {
    await fresh.drop();
    throw err;
  }
  return {
    store: open(db),
    db: () => db,
    reopen: async () => {
      await db.close();
      db = await connect();
      return open(db);
    },
    cleanup: async () => {
      await db.close();
      await fresh.drop();
    },
  };
}

/**
 * Two nodes on one fresh database: two PgDatabase pools started at once, as two service nodes
 * start (the migration lock lets one of them create the tables). `close` closes both and drops it.
 */
export async function twoNodes(): Promise<{ fresh: FreshDatabase; nodes: PgDatabase[]; close: () => Promise<void> }> {
  const fresh = await freshDatabase();
  const nodes = await Promise.all([openPostgres(fresh.url, { max: 4 }), openPostgres(fresh.url, { max: 4 })]);
  return {
    fresh,
    nodes,
    close: async () => {
      await Promise.all(nodes.map((db) => db.close()));
      await fresh.drop();
    },
  };
}
