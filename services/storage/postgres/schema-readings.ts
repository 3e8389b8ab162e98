/**
 * The readings table on PostgreSQL (docs/adr/0006, docs/adr/0008): as on SQLite
 * (../sqlite/migrations.ts, READINGS_MIGRATIONS after migration 2) it is the reading log and the
 * reading store at once, kept by pg-readings.ts. To be appended to PG_MIGRATIONS (migrations.ts);
 * until then a database gets it by listing it after them.
 *   - id: the log position (`logId`), handed out by the database (an identity column: increasing,
 *     never reused). The log's appends take an advisory lock until they commit
 *     (pg-readings.ts, READINGS_APPEND_LOCK_KEY), so ids become visible in the order they are
 *     handed out and a reader after a position never sees a later id before an earlier one. The
 *     log names the sequence (readings_id_seq) to take a batch's ids before its insert
 *   - the same columns as SQLite's; times are epoch milliseconds (bigint: node-postgres reads them
 *     as strings, the store turns them into numbers); `fields` is `json`, the text kept exactly as
 *     written (the de-duplication of readings without a device time compares it, as SQLite compares
 *     its TEXT); `server_ts` is true when ts is the receive time (SQLite's 0/1)
 *   - readings_key, unique on (device_id, channel, ts, seq): the de-duplication of readings with a
 *     seq and a device time (a row without a seq never conflicts: NULLs are distinct, as on
 *     SQLite) and, scanned backwards, the history query (device, channel, time range, newest
 *     first). seq is NULLS FIRST so that the backward scan gives SQLite's order, where a NULL
 *     sorts below every number: ts DESC, seq DESC NULLS LAST
 *   - readings_untimed, partial to the rows without a device time: the look-up of a re-send by
 *     (device, channel, seq) within the de-duplication window; received_at is in the key so that
 *     the window is a range of the index, not a filter over every row a seq ever had (a device
 *     without a clock counts its seq round and round)
 *   - log_probe: one row the log updates while appends fail, a write that fails exactly when
 *     appends would (the database unreachable, read-only, out of disk), as on SQLite
 *
 * Retention (services/storage/retention.ts, READINGS_RETENTION_DAYS; an hour with InfluxDB): a
 * plain table with a B-tree index on received_at, deleted from in chunks (pg-readings.ts,
 * prune). The index finds the rows past retention without reading the rest of a large table; it
 * grows at its right edge only (received_at follows arrival), so it costs little per append.
 * Not range partitioning by received_at, although dropping a partition is cheaper than deleting:
 * a unique index of a partitioned table must contain the partition key, and with received_at in
 * readings_key a re-send, which arrives later, would no longer be a duplicate; partitioning by ts
 * would make retention follow device clocks, not arrival. Not a BRIN index either: once retention
 * has freed the table's first pages, VACUUM hands them to new rows, the physical order stops
 * following received_at and a BRIN index stops narrowing anything. The space deleted rows leave
 * is reclaimed by autovacuum and reused by the next appends, so the table keeps about the size of
 * its retention period.
 */
export const PG_READINGS_SQL = `
  CREATE TABLE readings (
    id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME readings_id_seq),
    device_id text COLLATE "C" NOT NULL,
    building_id text COLLATE "C",
    street text,
    point text,
    kind text NOT NULL,
    channel text NOT NULL,
    ts bigint NOT NULL,
    seq bigint,
    received_at bigint NOT NULL,
    fields json NOT NULL,
    server_ts boolean NOT NULL DEFAULT false,
    CONSTRAINT readings_pkey PRIMARY KEY (id)
  );
  CREATE UNIQUE INDEX readings_key ON readings (device_id, channel, ts, seq NULLS FIRST);
  CREATE INDEX readings_untimed ON readings (device_id, channel, seq, received_at) WHERE server_ts;
  CREATE INDEX readings_received_at ON readings (received_at);

  CREATE TABLE log_probe (
    id integer NOT NULL,
    n bigint NOT NULL,
    CONSTRAINT log_probe_pkey PRIMARY KEY (id)
  );
`;
