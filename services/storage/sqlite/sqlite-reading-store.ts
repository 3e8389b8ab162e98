/**
 * The embedded reading store: queries over the `readings` table of readings.db, which is also the
 * embedded reading log (the log's writer thread inserts and prunes; this class reads, and writes
 * directly only for the shared contract suite).
 */
import type { Reading } from '../../telemetry/telemetry.js';
import { SinkError, type ReadingQuery, type ReadingStore, type StoredReading } from '../reading-store.js';
import type { Db } from './database.js';
import { SqliteReadingsTable } from './sqlite-readings-table.js';

export class SqliteReadingStore implements ReadingStore {
  readonly name = 'sqlite';
  private readonly table: SqliteReadingsTable;

  constructor(db: Db) {
    this.table = new SqliteReadingsTable(db);
  }

  async write(readings: readonly Reading[]): Promise<void> {
    try {
      this.table.insertMany(readings);
    } catch (err) {
      throw new SinkError(`sqlite write failed: ${err instanceof Error ? err.message : String(err)}`, true, 'sqlite_write_failed', { cause: err });
    }
  }

  async query(q: ReadingQuery): Promise<StoredReading[]> {
    return this.table.query(q);
  }

  async ping(): Promise<void> {
    this.table.ping();
  }


  async close(): Promise<void> {}
}
