/**
 * The unit of work on PostgreSQL (services/shared/unit-of-work.ts, docs/adr/0008): `work` runs and
 * awaits its reads (committed state, on pooled connections); then the queued writes run in order,
 * each awaited before the next starts, inside one `db.transaction` on one client. That client is
 * bound to the transaction with AsyncLocalStorage (database.ts), so every store on this PgDatabase
 * that a write calls — through `db.query`, or its own `db.transaction`, which joins as a
 * savepoint — writes inside the unit's transaction and commits or rolls back with it.
 *
 * A constraint violation surfaces from the write that hit it (the store turns it into its domain
 * error, e.g. ConflictError building_exists) and rolls back every write of the unit; a write
 * another node makes to the same row waits for this transaction's lock and then wins or loses by
 * the constraint. Only the PgDatabase given here is joined: a store on another PgDatabase, or code
 * that takes `db.pool` connections itself, writes outside the unit.
 */
import { runQueuedUnitOfWork, type RunUnitOfWork } from '../../shared/unit-of-work.js';
import type { PgDatabase } from './database.js';

export function pgUnitOfWork(db: PgDatabase): RunUnitOfWork {
  return (work) =>
    runQueuedUnitOfWork(work, (writes) =>
      db.transaction(async () => {
        for (const write of writes) await write();
      }),
    );
}
