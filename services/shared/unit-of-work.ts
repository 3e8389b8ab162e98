/**
 * A unit of work: writes of several stores that commit together or not at all
 * (docs/adr/0008-shared-state-on-postgresql.md, "Open: writes that must commit together across
 * stores"). A service operation runs as
 *
 *     await runUnitOfWork(async (uow) => {
 *       const before = await registryStore.getBuilding(id);        // reads: awaited, committed state
 *       …decide…
 *       uow.write(() => registryStore.updateBuilding(id, next));    // queued, not run yet
 *       uow.write(() => auditStore.insert(entry));
 *       uow.afterCommit(() => cache.set(id, next));                 // only once both are committed
 *       return next;
 *     });
 *
 * Why queue instead of writing at once: better-sqlite3's transaction runs one synchronous function,
 * and an `await` inside an open SQLite transaction would let another request's write slip into it
 * (and be rolled back with it). So nothing is written while `work` awaits its reads; the engine
 * runs the queued writes afterwards in one transaction: on SQLite synchronously inside one
 * better-sqlite3 transaction (../storage/sqlite/sqlite-unit-of-work.ts), on PostgreSQL one after
 * the other on one client (../storage/postgres/pg-unit-of-work.ts).
 *
 * Semantics, the same on both engines (runQueuedUnitOfWork below):
 * - `work` runs first; its reads see committed state only, never its own queued writes.
 * - Then the queued writes run in the order they were queued, in one transaction. The first one
 *   that throws rolls back every write of the unit, and its error reaches the caller unchanged
 *   (a store's ConflictError stays a ConflictError). A unit that queued no write opens no
 *   transaction.
 * - After the commit, the afterCommit callbacks run in the order they were registered. A callback
 *   that throws (or returns a promise: they are synchronous, and nothing awaits them) does not stop
 *   the others; once all have run, the first such error is thrown to the caller, unchanged. The
 *   writes are committed by then: such an error says a follow-up failed, not the change.
 * - If `work` or a write fails, nothing is committed and no afterCommit callback runs.
 * - `write` may be called only while `work` runs: a write queued once the commit started (from a
 *   write, from an afterCommit callback, or by code that outlived `work`) throws, and inside a
 *   write that fails the unit. `afterCommit` may also be called from a write (a callback that needs
 *   what the write returned); once the callbacks run, it throws too.
 *
 * This file stays engine-neutral: no database client, only the queue and the order of steps.
 */
import type { Awaitable } from './awaitable.js';

export interface UnitOfWork {
  /** Queues a write, run with the unit's other writes in one transaction once `work` has returned. */
  write(fn: () => Awaitable<unknown>): void;
  /** Queues what must follow the commit (a cache update, a feed push); it never runs if the unit fails. */
  afterCommit(fn: () => void): void;
}

/** Runs `work`, then commits what it queued; `work`'s result. */
export type RunUnitOfWork = <T>(work: (uow: UnitOfWork) => Promise<T>) => Promise<T>;

/** A queued write, as the engine's commit gets it. */
export type QueuedWrite = () => Awaitable<unknown>;

/** Where a unit is: what it still accepts follows from it. */
type Phase = 'work' | 'commit' | 'after-commit' | 'finished';

const PHASE_TEXT: Record<Phase, string> = {
  work: 'while work runs',
  commit: 'after its commit started',
  'after-commit': 'while its afterCommit callbacks run',
  finished: 'after it finished',
};

/** A value with a `then` method: a promise, as far as awaiting it goes. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

class QueuedUnitOfWork implements UnitOfWork {
  phase: Phase = 'work';
  readonly writes: QueuedWrite[] = [];
  readonly callbacks: Array<() => void> = [];

  write(fn: () => Awaitable<unknown>): void {
    if (this.phase !== 'work') throw new Error(`unit of work: write() called ${PHASE_TEXT[this.phase]}; queue every write inside work, before it returns`);
    this.writes.push(fn);
  }

  afterCommit(fn: () => void): void {
    if (this.phase !== 'work' && this.phase !== 'commit') {
      throw new Error(`unit of work: afterCommit() called ${PHASE_TEXT[this.phase]}; register callbacks inside work or a write`);
    }
    this.callbacks.push(fn);
  }
}

/**
 * The engine-neutral part of a RunUnitOfWork: runs `work` with a fresh unit, then `commit` with the
 * queued writes (the engine runs them in order in one transaction, and throws what a write threw),
 * then the afterCommit callbacks, as the file comment says.
 */
export async function runQueuedUnitOfWork<T>(
  work: (uow: UnitOfWork) => Promise<T>,
  commit: (writes: readonly QueuedWrite[]) => Awaitable<void>,
): Promise<T> {
  const unit = new QueuedUnitOfWork();
  let result: T;
  try {
    result = await work(unit);
    unit.phase = 'commit';
    if (unit.writes.length > 0) await commit([...unit.writes]);
  } catch (err) {
    unit.phase = 'finished';
    throw err;
  }
  unit.phase = 'after-commit';
  let failure: { error: unknown } | undefined;
  unit.callbacks.forEach((callback, i) => {
    try {
      const out: unknown = callback();
      if (isThenable(out)) {
        // it already ran; its outcome is not awaited, and the error below says why
        out.then(undefined, () => undefined);
        throw new Error(`unit of work: afterCommit callback ${i + 1} returned a promise; afterCommit callbacks are synchronous and not awaited`);
      }
    } catch (err) {
      failure ??= { error: err };
    }
  });
  unit.phase = 'finished';
  if (failure) throw failure.error;
  return result;
}
