/**
 * The embedded store: readings in SQLite. Local and durable, so it is a ReadingStore and the
 * pipeline's ReadingSink at once; accept() group-commits and resolves after the commit.
 */
import type { Db } from '../../stores/sqlite/database.js';
import type { Reading } from '../../telemetry/telemetry.js';
import { GroupCommit } from '../group-commit.js';
import { SinkError, type ReadingQuery, type ReadingSink, type ReadingStore, type SinkStatus, type StoredReading } from '../sink.js';
import { SqliteReadingsTable } from './sqlite-readings-table.js';

export class SqliteReadingStore implements ReadingStore, ReadingSink {
  readonly name = 'sqlite';
  private readonly table: SqliteReadingsTable;
  private readonly group: GroupCommit<Reading>;
  private lastError: string | undefined;

  constructor(db: Db) {
    this.table = new SqliteReadingsTable(db, 'readings');
    this.group = new GroupCommit((items) => {
      this.table.insertMany(items);
    });
  }

  async start(): Promise<void> {}

  accept(readings: readonly Reading[]): Promise<void> {
    return this.group.add(readings).catch((err: unknown) => {
      this.lastError = err instanceof Error ? err.message : String(err);
      throw new SinkError(`sqlite write failed: ${this.lastError}`, true, 'sqlite_write_failed', { cause: err });
    });
  }

  write(readings: readonly Reading[]): Promise<void> {
    return this.accept(readings);
  }

  async query(q: ReadingQuery): Promise<StoredReading[]> {
    return this.table.query(q);
  }

  async ping(): Promise<void> {
    this.table.count();
  }

  status(): SinkStatus {
    return { name: this.name, ready: true, backlog: 0, backlogAgeS: 0, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  async close(): Promise<void> {
    this.group.flush();
  }
}
