/**
 * A store on a fresh firewatch.db in its own temp directory, for the contract suites
 * (tests/support/*-contract.ts) on SQLite: opened as the service opens it (openDatabase: WAL,
 * foreign keys, every migration). `reopen` closes the database and opens the same file again (as
 * after a restart), with a new store on it; `cleanup` closes it and removes the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';

export async function onSqlite<S>(open: (db: Db) => S, prefix = 'firewatch-store-contract-'): Promise<{ store: S; reopen: () => S; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const file = join(dir, 'firewatch.db');
  let db = openDatabase(file);
  return {
    store: open(db),
    reopen: () => {
      db.close();
      db = openDatabase(file);
      return open(db);
    },
    cleanup: async () => {
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
