/**
 * The service's key/value settings (the admin token's digest, the safety-code secret, the last
 * time the service was alive, the GB/T 26875.3 gateway's component states): the store interface
 * both engines implement (docs/adr/0008-shared-state-on-postgresql.md). SQLite:
 * ../storage/sqlite/sqlite-settings-store.ts (`settings` in firewatch.db); PostgreSQL:
 * ../storage/postgres/pg-settings-store.ts. Here, not next to one service, because several parts
 * of server/ read and write it (admin-token.ts, gb26875.ts, main.ts).
 *
 * The contract suite that every implementation passes is tests/support/settings-store-contract.ts.
 */
import type { Awaitable, Settled } from './awaitable.js';

export interface SettingsStore {
  /** the value last set for `key`; undefined when it was never set */
  get(key: string): Awaitable<string | undefined>;
  /** sets `key` to `value`, replacing what it held (the empty string is a value, not a removal) */
  set(key: string, value: string): Awaitable<void>;
}

/** SettingsStore answering at once (SQLite): what its callers take while they call it synchronously (ADR 0008). */
export type SyncSettingsStore = Settled<SettingsStore>;
