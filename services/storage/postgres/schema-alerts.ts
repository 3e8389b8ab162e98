/**
 * Alerts, their history and maintenance windows on PostgreSQL (docs/adr/0008-shared-state-on-postgresql.md),
 * with the columns and meaning of their SQLite tables as they stand after every migration
 * (../sqlite/migrations.ts: alerts, alert_history and maintenance of migration 2, the incident
 * record's columns and indexes of issue #17 item 4, alert_history's info and by_name of issue #17
 * item 5), kept by pg-alert-store.ts: migration 5 of PG_MIGRATIONS (migrations.ts), and migration
 * 11 (PG_ALERTS_VERSION_SQL, below) adds alerts.version.
 *   - alerts: one row per alert. `doc` is the whole alert without its history (json: the text as
 *     written, so an alert reads back with exactly the fields it was stored with, absent optional
 *     ones absent); the other columns are copies of the document's fields that the store filters,
 *     orders and pages on, kept in step by every insert and update. class, building_name,
 *     acknowledged_by, closed_at, closed_by and outcome are nullable, as the columns SQLite added
 *     later are
 *   - alerts_one_active: at most one alert that is not closed per device and rule, held by the
 *     database whatever the concurrency (ADR 0004; several nodes write alerts). The key is
 *     coalesce(device_id, '') and rule, as SQLite's IFNULL(device_id, ''): a system alert (no
 *     device) is one key per rule, since NULLs would otherwise never conflict
 *   - times are the domain's ISO 8601 strings, compared and ordered as text; opened_at and
 *     closed_at are "C" like the ids, so the incident record's keyset (time, id) visits the byte
 *     order SQLite visits, whatever the database's locale
 *   - alert_history: one row per entry, in `id` order (an identity column: increasing, never
 *     reused; SQLite's AUTOINCREMENT). An entry refers to its alert (no cascade: alerts are never
 *     deleted). info is the entry's structured detail (json) and by_name the display name of who
 *     did it, NULL on entries written before issue #17 item 5 and for the system
 *   - maintenance: one window per target (device or building, the same id apart), replaced by the
 *     next one set
 */
export const PG_ALERTS_SQL = `
  CREATE TABLE alerts (
    id text COLLATE "C" NOT NULL,
    rule text COLLATE "C" NOT NULL,
    device_id text COLLATE "C",
    building_id text COLLATE "C",
    street text,
    status text NOT NULL,
    severity text NOT NULL,
    opened_at text COLLATE "C" NOT NULL,
    class text,
    building_name text,
    acknowledged_by text,
    closed_at text COLLATE "C",
    closed_by text,
    outcome text,
    doc json NOT NULL,
    CONSTRAINT alerts_pkey PRIMARY KEY (id)
  );
  CREATE UNIQUE INDEX alerts_one_active ON alerts (coalesce(device_id, ''), rule) WHERE status <> 'closed';
  CREATE INDEX alerts_opened ON alerts (opened_at);
  CREATE INDEX alerts_status ON alerts (status);
  CREATE INDEX alerts_record_opened ON alerts (class, opened_at, id);
  CREATE INDEX alerts_record_closed ON alerts (class, closed_at, id);
  CREATE INDEX alerts_record_street ON alerts (street, class, opened_at, id);
  CREATE INDEX alerts_record_building ON alerts (building_id, class, opened_at, id);
  CREATE INDEX alerts_record_acknowledged_by ON alerts (acknowledged_by);
  CREATE INDEX alerts_record_closed_by ON alerts (closed_by);

  CREATE TABLE alert_history (
    id bigint GENERATED ALWAYS AS IDENTITY,
    alert_id text COLLATE "C" NOT NULL,
    at text NOT NULL,
    action text NOT NULL,
    by text NOT NULL,
    detail text,
    info json,
    by_name text,
    CONSTRAINT alert_history_pkey PRIMARY KEY (id),
    CONSTRAINT alert_history_alert_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
  );
  CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

  CREATE TABLE maintenance (
    target text COLLATE "C" NOT NULL,
    target_id text COLLATE "C" NOT NULL,
    until text NOT NULL,
    reason text NOT NULL,
    by text NOT NULL,
    created_at text NOT NULL,
    CONSTRAINT maintenance_pkey PRIMARY KEY (target, target_id)
  );
`;

/**
 * 11: alerts.version, the optimistic concurrency of alert updates (docs/adr/0008: "where a read
 * decided a write, the write carries the version it read"). Every update of an alert adds one
 * (PgAlertStore.update and updateIfUnchanged); updateIfUnchanged changes the row only while it is
 * still at the version its caller read, so a node that decided on an older copy (its mirror,
 * pg-alert-mirror.ts, had not heard of another node's acknowledgement yet) is refused with
 * StaleAlertError instead of overwriting what the other node wrote. Alerts stored before it start
 * at 0, as a new alert does.
 */
export const PG_ALERTS_VERSION_SQL = `
  ALTER TABLE alerts ADD COLUMN version integer NOT NULL DEFAULT 0;
`;

/**
 * Migration 12 (issue #15 item 2; SQLite's migration of the same issue): building rules raise
 * alerts without a device, one unclosed per building and rule, so alerts_one_active keys an alert
 * without a device by its building too (a device's alert keeps its key, a system alert has
 * neither); and a building's overrides of those rules (json, NULL: the defaults).
 */
export const PG_BUILDING_RULES_SQL = `
  DROP INDEX alerts_one_active;
  CREATE UNIQUE INDEX alerts_one_active ON alerts (coalesce(device_id, ''), (CASE WHEN device_id IS NULL THEN coalesce(building_id, '') ELSE '' END), rule) WHERE status <> 'closed';
  ALTER TABLE buildings ADD COLUMN building_rules json;
`;
