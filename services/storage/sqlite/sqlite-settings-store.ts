/** Key/value settings in SQLite (e.g. the admin token's digest). */
import type { Db } from './database.js';

export class SqliteSettingsStore {
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
