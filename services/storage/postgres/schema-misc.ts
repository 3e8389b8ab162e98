/**
 * Two small tables of the shared PostgreSQL database (docs/adr/0008), with the columns and meaning
 * of their SQLite tables as they stand after every migration (../sqlite/migrations.ts: settings of
 * migration 1, gb26875_tests of GB26875_BITS_SQL; no later migration alters them). To be appended
 * to PG_MIGRATIONS (migrations.ts); until then a database gets them by listing them after it.
 *   - settings (PG_SETTINGS_SQL): the service's key/value settings (pg-settings-store.ts). The
 *     value is text, kept as written; PostgreSQL text cannot hold U+0000, which SQLite's can (no
 *     caller writes one: the values are digests, numbers and JSON, whose text escapes it)
 *   - gb26875_tests (PG_GB26875_SQL): the test-mode alarms of UITD points, one row per episode,
 *     open while ended_at is NULL (pg-gb26875-store.ts). Times are epoch milliseconds (bigint;
 *     node-postgres reads them as strings, the store turns them into numbers); the bits SQLite
 *     keeps as 0/1 are booleans. gb26875_tests_open, a partial unique index, allows one open
 *     record per (device, point): the store's begin is one INSERT … ON CONFLICT on it, so two
 *     nodes beginning the same point at once leave one record with both nodes' bits
 */
export const PG_SETTINGS_SQL = `
  CREATE TABLE settings (
    key text COLLATE "C" NOT NULL,
    value text NOT NULL,
    CONSTRAINT settings_pkey PRIMARY KEY (key)
  );
`;

export const PG_GB26875_SQL = `
  CREATE TABLE gb26875_tests (
    id bigint GENERATED ALWAYS AS IDENTITY,
    device_id text COLLATE "C" NOT NULL,
    point text COLLATE "C" NOT NULL,
    name text NOT NULL,
    description text,
    fire_alarm boolean NOT NULL,
    supervisory boolean NOT NULL,
    started_at bigint NOT NULL,
    ended_at bigint,
    CONSTRAINT gb26875_tests_pkey PRIMARY KEY (id)
  );
  CREATE INDEX gb26875_tests_device ON gb26875_tests (device_id, started_at);
  CREATE UNIQUE INDEX gb26875_tests_open ON gb26875_tests (device_id, point) WHERE ended_at IS NULL;
`;
