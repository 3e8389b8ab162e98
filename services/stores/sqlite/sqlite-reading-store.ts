/**
 * The embedded store: readings in SQLite. Local and durable, so it is a ReadingStore and the
 * pipeline's ReadingSink at once; accept() group-commits and resolves after the commit.
 */
import type { Db } from '../../stores/sqlite/database.js';
import type { Reading } from '../../telemetry/telemetry.js';
import { GroupCommit } from '../group-commit.js';
import { SinkError, type ReadingQuery, type CommitHook, type ReadingSink, type ReadingStore, type SinkStatus, type StoredReading } from '../sink.js';
import { SqliteReadingsTable } from './sqlite-readings-table.js';

export class SqliteReadingStore implements ReadingStore, ReadingSink {
  readonly name = 'sqlite';
  private readonly table: SqliteReadingsTable;
  private readonly group: GroupCommit<Reading>;
  private readonly hooks: CommitHook[] = [];
  private lastError: string | undefined;

  constructor(db: Db) {
    this.table = new SqliteReadingsTable(db, 'readings');
    const commit = db.transaction((items: Reading[]) => {
      this.table.insertMany(items);
      for (const hook of this.hooks) hook(items);
    });
    this.group = new GroupCommit((items) => {
      commit(items);
    });
  }

  async start(): Promise<void> {}

  onCommit(hook: CommitHook): void {
    this.hooks.push(hook);
  }

  accept(readings: readonly Reading[]): Promise<void> {
    return this.group.add(readings).catch((err: unknown) => {
      this.lastError = err instanceof Error ? err.message : String(err);
      throw new SinkError(`sqlite write failed: ${this.lastError}`, true, 'sqlite_write_failed', { cause: err });
    });
  }

  write(readings: readonly Reading[]): Promise<void> {
    return this.accept(readings);
  }

  /**
   * Retention of the embedded store: delete readings received before `cutoff`, a chunk per turn of
   * the event loop so ingest never waits behind a large delete. Resolves with the number deleted.
   */
  async prune(cutoff: number, chunk = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const n = this.table.pruneReceivedBefore(cutoff, chunk);
      total += n;
      if (n < chunk) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
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
