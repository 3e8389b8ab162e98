/**
 * Shared by the contract suites (tests/support/*-contract.ts), which run against stores that answer
 * at once (SQLite, the in-memory fakes) and stores that answer with a promise (PostgreSQL):
 * every call is awaited (docs/adr/0008).
 */
import { afterEach, beforeEach } from 'vitest';

/**
 * A call that must fail, as a promise: a store that throws at once and one whose promise rejects
 * are both a rejection here (`await expect(attempt(() => store.insert(x))).rejects.toThrow()`).
 */
export function attempt<T>(fn: () => T | Promise<T>): Promise<T> {
  return Promise.resolve().then(fn);
}

/**
 * The case-by-case life of a store under contract: `make` gives a fresh handle before each case
 * and its `cleanup` runs after it. Returns accessors for the current store and handle, which
 * throw when `make` failed (its own error is the beforeEach's).
 */
export function contractHarness<S, H extends { store: S; cleanup: () => Promise<void> | void }>(
  name: string,
  make: () => Promise<H> | H,
): { store: () => S; handle: () => H } {
  let current: H | undefined;
  const handle = (): H => {
    if (!current) throw new Error(`${name}: make() did not finish; see the beforeEach error`);
    return current;
  };
  beforeEach(async () => {
    current = await make();
  });
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });
  return { store: () => handle().store, handle };
}
