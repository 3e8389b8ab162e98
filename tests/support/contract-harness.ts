/**
 * Shared by the contract suites (tests/support/*-contract.ts), which run against stores that answer
 * at once (SQLite, the in-memory fakes) and stores that answer with a promise (PostgreSQL):
 * every call is awaited (docs/adr/0008).
 */

/**
 * A call that must fail, as a promise: a store that throws at once and one whose promise rejects
 * are both a rejection here (`await expect(attempt(() => store.insert(x))).rejects.toThrow()`).
 */
export function attempt<T>(fn: () => T | Promise<T>): Promise<T> {
  return Promise.resolve().then(fn);
}
