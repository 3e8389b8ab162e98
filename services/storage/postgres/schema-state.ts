/**
 * The services' small shared state on PostgreSQL (docs/adr/0008): the live feed's event log, the
 * reading log's consumers' cursors, the devices' live status and the scheduled tests of fire-water
 * points, with the columns and meaning of their SQLite tables as they stand after every migration
 * (../sqlite/migrations.ts: feed_events of migration 2, log_cursors of 7, device_status of 1,
 * device_tests of DEVICE_TESTS_SQL; no later migration alters them), kept by pg-state-stores.ts. To
 * be appended to PG_MIGRATIONS (migrations.ts); until then a database gets it by listing it after
 * them.
 *   - feed_events: one row per live-feed event. `seq` is handed out by the database (an identity
 *     column: increasing, never reused, pruned or not; SQLite's AUTOINCREMENT). `at` is the
 *     domain's ISO 8601 string, compared as text by prune, so it sorts in byte order as on SQLite
 *   - feed_events_pruned: one row, the highest seq prune ever deleted (0 before the first). The
 *     last seq is the highest of it and the seqs still in feed_events, so it never goes back,
 *     also when everything was pruned (SQLite keeps it in sqlite_sequence)
 *   - log_cursors: one row per consumer of the reading log, its position (bigint: past 2^32)
 *   - device_status: one JSON document per device (a DeviceStatus as saved). No foreign key to
 *     devices: the tracker keeps the status of ids it has seen, registered or not, as SQLite does
 *   - device_tests: one row per scheduled test. Times are epoch milliseconds (bigint;
 *     node-postgres reads them as strings, the store turns them into numbers); ended_at NULL
 *     while the test runs or when it ran to ends_at; the pressures seen are MPa
 */
export const PG_STATE_SQL = `
  CREATE TABLE feed_events (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    type text NOT NULL,
    at text COLLATE "C" NOT NULL,
    street text,
    building_id text COLLATE "C",
    data json NOT NULL,
    CONSTRAINT feed_events_pkey PRIMARY KEY (seq)
  );

  CREATE TABLE feed_events_pruned (
    one boolean NOT NULL DEFAULT true,
    seq bigint NOT NULL,
    CONSTRAINT feed_events_pruned_pkey PRIMARY KEY (one),
    CONSTRAINT feed_events_pruned_one CHECK (one)
  );
  INSERT INTO feed_events_pruned (seq) VALUES (0);

  CREATE TABLE log_cursors (
    name text COLLATE "C" NOT NULL,
    position bigint NOT NULL,
    CONSTRAINT log_cursors_pkey PRIMARY KEY (name)
  );

  CREATE TABLE device_status (
    device_id text COLLATE "C" NOT NULL,
    status json NOT NULL,
    CONSTRAINT device_status_pkey PRIMARY KEY (device_id)
  );

  CREATE TABLE device_tests (
    id bigint GENERATED ALWAYS AS IDENTITY,
    device_id text COLLATE "C" NOT NULL,
    building_id text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    note text,
    started_by text NOT NULL,
    started_at bigint NOT NULL,
    ends_at bigint NOT NULL,
    ended_at bigint,
    ended_by text,
    min_mpa double precision,
    max_mpa double precision,
    readings integer NOT NULL DEFAULT 0,
    CONSTRAINT device_tests_pkey PRIMARY KEY (id)
  );
  CREATE INDEX device_tests_device ON device_tests (device_id, started_at);
`;
