/**
 * What a store method returns (docs/adr/0008): a value (SQLite, whose calls finish at once) or a
 * promise of it (PostgreSQL). Every caller awaits it.
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * A store interface with every method answering at once: what a service takes while it still
 * calls its store synchronously (ADR 0008 says which services those are, and why they wait).
 */
export type Settled<S> = {
  [K in keyof S]: S[K] extends (...args: infer A) => Awaitable<infer R> ? (...args: A) => R : S[K];
};
