/**
 * A write scope: the unit of work (unit-of-work.ts) for code that runs synchronously — the rule
 * engine and the alert service inside a processors' batch, a rule tick, an acknowledgement — over
 * stores that answer later (PostgreSQL; docs/adr/0008, "the processors' batch on an asynchronous
 * engine").
 *
 *   scope.run(() => {                      // synchronous: the rules, the alert service
 *     mirror.findActive(…)                 // reads: the node's in-memory copy (a mirror)
 *     mirror.insert(alert)                 //   → the copy now, and scope.write(() => pg.insert(alert))
 *   })                                     // then every queued write in one transaction, in order
 *
 * A *mirror* is a synchronous store façade over an asynchronous store (pg-alert-mirror.ts and its
 * kin): it answers reads from what it holds, applies a write to what it holds at once, and queues
 * the store's write here. The scope then commits the queued writes of one `run` in one transaction,
 * so what one synchronous step decided commits together or not at all. The database stays the
 * judge: a write that breaks a constraint (another node raised the same alert first) or finds a
 * row changed since it was read (a version check) fails the transaction; every mirror registered
 * with `onRollback` then reloads from the database, and the caller retries (the processors do,
 * with backoff) or reports the error (an API request).
 *
 * Rules:
 * - Scopes run one at a time, in the order `run` was called: the next one's synchronous step
 *   starts only after the previous one committed or rolled back (and its mirrors reloaded), so a
 *   step never decides on another step's uncommitted writes.
 * - A mirror written outside any `run` (a timer, a broker callback) opens an *implicit* scope:
 *   its writes and everything else written synchronously in the same turn commit together, queued
 *   behind the scopes before it; its failure goes to `onImplicitError` (it has no caller to throw
 *   to). It has decided on state that may include writes queued before it, so the rollback of one
 *   of those reloads the mirrors before it runs (and fails it, if it conflicts).
 * - `afterCommit` callbacks run once the scope's transaction committed (a feed event's push to the
 *   consoles); none run if it rolled back.
 */
import type { Awaitable } from './awaitable.js';
import type { RunUnitOfWork, UnitOfWork } from './unit-of-work.js';

export interface WriteScopeOptions {
  /** an implicit scope (writes made outside `run`) that failed: count and log it */
  onImplicitError: (err: unknown) => void;
  /** a scope's writes committed (after failures: writing works again) */
  onCommitted?: () => void;
}

interface Open {
  readonly writes: Array<() => Awaitable<unknown>>;
  readonly after: Array<() => void>;
}

export class WriteScope {
  private open: Open | undefined;
  /** the end of the last scope queued: the next one starts after it */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly rollbackHooks: Array<() => Awaitable<void>> = [];
  /** an implicit scope collecting this turn's writes, until its microtask queues it */
  private implicit: Open | undefined;

  constructor(
    private readonly runUnitOfWork: RunUnitOfWork,
    private readonly opts: WriteScopeOptions,
  ) {}

  /** Whether synchronous code runs inside a scope now (explicit or implicit). */
  get inScope(): boolean {
    return this.open !== undefined;
  }

  /** Registers how a mirror goes back to what is stored after a scope rolled back. */
  onRollback(hook: () => Awaitable<void>): void {
    this.rollbackHooks.push(hook);
  }

  /** Queues a store write in the open scope, or in this turn's implicit scope. */
  write(fn: () => Awaitable<unknown>): void {
    this.current().writes.push(fn);
  }

  /** Runs `fn` once the scope the code is in has committed (at once, on the next commit, if none was open). */
  afterCommit(fn: () => void): void {
    this.current().after.push(fn);
  }

  /**
   * Runs `fn` synchronously in a new scope, after the scopes queued before it, and commits what it
   * queued in one transaction; `fn`'s result. Called while a scope is open (from inside another
   * `run`'s `fn`), `fn` joins that scope.
   */
  run<T>(fn: () => T): Promise<T> {
    if (this.open) return Promise.resolve(fn());
    return this.enqueue(() => {
      const scope: Open = { writes: [], after: [] };
      this.open = scope;
      try {
        return { scope, result: fn() };
      } catch (err) {
        return { scope, error: err };
      } finally {
        this.open = undefined;
      }
    });
  }

  /** Resolves once every scope queued so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      const tail = this.tail;
      await tail.then(
        () => undefined,
        () => undefined,
      );
      if (tail === this.tail && !this.implicit) return;
    }
  }

  private current(): Open {
    if (this.open) return this.open;
    if (!this.implicit) {
      const scope: Open = (this.implicit = { writes: [], after: [] });
      queueMicrotask(() => {
        this.implicit = undefined;
        this.enqueue(() => ({ scope, result: undefined })).catch((err: unknown) => this.opts.onImplicitError(err));
      });
    }
    return this.implicit;
  }

  private enqueue<T>(step: () => { scope: Open; result?: T; error?: unknown }): Promise<T> {
    const run = this.tail.then(
      () => this.commit(step),
      () => this.commit(step),
    );
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async commit<T>(step: () => { scope: Open; result?: T; error?: unknown }): Promise<T> {
    const { scope, result, error } = step();
    try {
      if (error !== undefined) throw error;
      await this.runUnitOfWork(async (uow: UnitOfWork) => {
        for (const w of scope.writes) uow.write(w);
        for (const a of scope.after) uow.afterCommit(a);
      });
      if (scope.writes.length > 0) this.opts.onCommitted?.();
    } catch (err) {
      // the mirrors applied what failed: back to what is stored before the next scope decides
      for (const hook of this.rollbackHooks) {
        try {
          await hook();
        } catch {
          /* the database is failing too: the hook's mirror reloads on its next attempt */
        }
      }
      throw err;
    }
    return result as T;
  }
}
