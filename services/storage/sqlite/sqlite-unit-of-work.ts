/**
 * The unit of work on SQLite (services/shared/unit-of-work.ts, docs/adr/0008): `work` runs and may
 * await its reads; then the queued writes run in order inside ONE better-sqlite3 transaction, which
 * is synchronous from BEGIN to COMMIT. Nothing is awaited while it is open, so no other request's
 * write can slip into it; a write another request makes while `work` awaits commits on its own and
 * is not rolled back with this unit.
 *
 * A write must finish synchronously (a SQLite store answers at once). One that returns a promise
 * (any thenable) is a programming error: the unit throws an Error saying so and the transaction
 * rolls back, including what that write did before it returned. A store's own `db.transaction`
 * inside a write becomes a savepoint of this one (better-sqlite3 nests them that way).
 */
import { isThenable, runQueuedUnitOfWork, type QueuedWrite, type RunUnitOfWork } from '../../shared/unit-of-work.js';
import type { Db } from './database.js';

export interface SqliteUnitOfWorkOptions {
  /**
   * Runs around each commit (BEGIN … the writes … COMMIT, all synchronous): the service holds the
   * live feed's pushes there (LiveFeed.holding), so an event a write published reaches the
   * consoles only once its transaction committed.
   */
  around?: (commit: () => void) => void;
}

export function sqliteUnitOfWork(db: Db, opts: SqliteUnitOfWorkOptions = {}): RunUnitOfWork {
  const commit = db.transaction((writes: readonly QueuedWrite[]) => {
    writes.forEach((write, i) => {
      const out = write();
      if (isThenable(out)) {
        // rolled back with the rest; whatever the promise ends with no longer matters
        out.then(undefined, () => undefined);
        throw new Error(
          `unit of work on SQLite: write ${i + 1} of ${writes.length} returned a promise; a write must finish synchronously ` +
            '(call a SQLite store, do not await), so the unit was rolled back',
        );
      }
    });
  });
  const around = opts.around;
  return (work) => runQueuedUnitOfWork(work, (writes) => (around ? around(() => commit(writes)) : commit(writes)));
}
