/**
 * The service's key/value settings over PostgreSQL (table: schema-misc.ts PG_SETTINGS_SQL), the
 * twin of ../sqlite/sqlite-settings-store.ts; both pass tests/support/settings-store-contract.ts.
 * A set is one upsert on the primary key, so two nodes setting one key at once leave one row, the
 * value of whichever committed last.
 */
import type { SettingsStore } from '../../shared/settings.js';
import type { PgDatabase } from './database.js';

const GET_SETTING = 'SELECT value FROM settings WHERE key = $1';
const UPSERT_SETTING = 'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value';

export class PgSettingsStore implements SettingsStore {
  constructor(private readonly db: PgDatabase) {}

  async get(key: string): Promise<string | undefined> {
    const rows = await this.db.query<{ value: string }>(GET_SETTING, [key]);
    return rows[0]?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.query(UPSERT_SETTING, [key, value]);
  }
}
