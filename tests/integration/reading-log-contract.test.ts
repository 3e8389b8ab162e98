/**
 * Every ReadingLog against the one contract (tests/support/reading-log-contract.ts): the SQLite
 * log on a real temp readings.db with its writer thread, as main.ts wires it, and the in-memory
 * fake the pipeline and processor tests use.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../services/shared/logger.js';
import type { Db } from '../../services/storage/sqlite/database.js';
import { openReadingsDatabase } from '../../services/storage/sqlite/readings-database.js';
import { SqliteReadingLog } from '../../services/storage/sqlite/sqlite-reading-log.js';
import { InMemoryReadingLog } from '../support/in-memory-log.js';
import { readingLogContract } from '../support/reading-log-contract.js';

readingLogContract('in-memory', async () => {
  const log = new InMemoryReadingLog();
  return { log, cleanup: () => log.close() };
});

readingLogContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'firewatch-log-contract-'));
  const file = join(dir, 'readings.db');
  const open = (): { db: Db; log: SqliteReadingLog } => {
    const db = openReadingsDatabase(file);
    return { db, log: new SqliteReadingLog(db, { file, synchronous: 'full', busyTimeoutMs: 5000, appendTimeoutMs: 10_000, log: createLogger('silent') }) };
  };
  let current = open();
  const close = async () => {
    await current.log.close();
    current.db.close();
  };
  return {
    log: current.log,
    reopen: async () => {
      await close();
      current = open();
      return current.log;
    },
    cleanup: async () => {
      await close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
