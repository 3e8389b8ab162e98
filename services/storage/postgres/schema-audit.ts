/**
 * The audit history on the shared PostgreSQL database (docs/adr/0008), with the columns and meaning
 * of SQLite's audit_log (../sqlite/migrations.ts, migration of issue #12 item 9), kept by
 * pg-audit-store.ts. Append-only: nothing updates or deletes an entry.
 *   - id: handed out by the database (an identity column, increasing, never reused); the API's
 *     cursor is the last id, and "newest first" is by id, as on SQLite. Two nodes inserting at once
 *     may commit ids out of order; a reader paging backwards by id still sees every committed entry
 *     (an entry that commits later with a lower id appears on a later read of the first page, not in
 *     a page already read — the history is for people, not a feed consumers resume on)
 *   - at: the domain's ISO 8601 string, as on SQLite
 *   - before, after, changes: JSON documents (json keeps them as written)
 * Indexed for the API's filters: building, device (each with id, newest first).
 */
export const PG_AUDIT_SQL = `
  CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY,
    at text COLLATE "C" NOT NULL,
    by text NOT NULL,
    role text NOT NULL,
    action text NOT NULL,
    building_id text COLLATE "C",
    device_id text COLLATE "C",
    street text,
    reason text,
    before json NOT NULL,
    after json NOT NULL,
    changes json NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id)
  );
  CREATE INDEX audit_log_building ON audit_log (building_id, id);
  CREATE INDEX audit_log_device ON audit_log (device_id, id);
`;
