/**
 * Key/value settings in SQLite (`settings` in firewatch.db: the admin token's digest, the
 * safety-code secret, …): the SettingsStore (../../shared/settings.ts) that answers at once. Its
 * PostgreSQL twin is ../postgres/pg-settings-store.ts; both pass tests/support/settings-store-contract.ts.
 */
import type { SyncSettingsStore } from '../../shared/settings.js';
import type { Db } from './database.js';

export class SqliteSettingsStore implements SyncSettingsStore {
  constructor(private readonly db: Db) {}

  get(key: string): string | undefined {
    return this.db.prepare('SELECT value FROM settings WHERE key = ?').pluck().get(key) as string | undefined;
  }

  set(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }
}
