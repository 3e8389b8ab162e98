/**
 * Every schema change of the shared PostgreSQL database, in order (docs/adr/0008). A migration is
 * appended, never edited: `firewatch_schema` records the versions a database has (version n is the
 * n-th string here) and database.ts applies the rest at start, one transaction each, under an
 * advisory lock. The stores own their queries; their tables are created here. The numbering is
 * this list's own: it follows the SQLite migrations (../sqlite/migrations.ts) in meaning, not in
 * number, and each table is created as the SQLite one stands after all of its ALTER TABLEs.
 *
 * Conventions, for every migration:
 *   - ids and the columns that refer to them are `text COLLATE "C"`: keyset paging (`id > $1
 *     ORDER BY id`) then visits the byte order SQLite visits, whatever the database's locale
 *   - times the domain keeps as ISO 8601 strings stay `text`, read and written as they are
 *   - JSON documents are `json`, not `jsonb`: the text is kept as written (key order included),
 *     so a record reads back as SQLite gives it back; nothing queries inside them yet
 *   - constraints the stores turn into domain errors are named here, and the stores name them too
 */
import { PG_AUTH_SQL } from './schema-auth.js';
import { PG_ALERTS_SQL, PG_ALERTS_VERSION_SQL, PG_BUILDING_RULES_SQL } from './schema-alerts.js';
import { PG_READINGS_SQL } from './schema-readings.js';
import { PG_STATE_SQL } from './schema-state.js';
import { PG_UPLINK_SQL } from './schema-uplink.js';
import { PG_AUDIT_SQL } from './schema-audit.js';
import { PG_GB26875_SQL, PG_SETTINGS_SQL } from './schema-misc.js';
import { PG_RULES_SQL } from './schema-rules.js';

/**
 * 1: the registry (SQLite migrations 1, 2, 4, 6, the allowed-peers, access-level, GB/T 26875.3
 * source and in-service ones): buildings, the devices installed in them and the devices'
 * credentials (hashes only).
 *   - devices.address: the GB/T 26875.3 48-bit source address (bigint; node-postgres reads it as
 *     a string, the store turns it into a number), unique among the devices that have one
 *   - a device refers to its building (no cascade: a building with devices cannot go); its
 *     credential goes with it (ON DELETE CASCADE)
 *   - in_service_at NULL: the device is being commissioned
 */
export const PG_REGISTRY_SQL = `
  CREATE TABLE buildings (
    id text COLLATE "C" NOT NULL,
    name text NOT NULL,
    street text NOT NULL,
    address text NOT NULL,
    type text NOT NULL,
    height_m double precision,
    access_level_m double precision,
    floors integer,
    area_m2 double precision,
    category integer,
    use text NOT NULL,
    contact_name text,
    contact_phone text,
    survey json,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    CONSTRAINT buildings_pkey PRIMARY KEY (id)
  );
  CREATE INDEX buildings_street ON buildings (street);

  CREATE TABLE devices (
    id text COLLATE "C" NOT NULL,
    building_id text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    point text,
    location text,
    report_interval_s integer NOT NULL,
    vendor text,
    model text,
    rules json,
    address bigint,
    allowed_peers json,
    gb26875_source json,
    in_service_at text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    CONSTRAINT devices_pkey PRIMARY KEY (id),
    CONSTRAINT devices_building_fkey FOREIGN KEY (building_id) REFERENCES buildings (id)
  );
  CREATE INDEX devices_building ON devices (building_id);
  CREATE UNIQUE INDEX devices_address ON devices (address) WHERE address IS NOT NULL;

  CREATE TABLE device_credentials (
    device_id text COLLATE "C" NOT NULL,
    username text NOT NULL,
    hash text NOT NULL,
    rotated_at text NOT NULL,
    CONSTRAINT device_credentials_pkey PRIMARY KEY (device_id),
    CONSTRAINT device_credentials_device_fkey FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE
  );
`;

export const PG_MIGRATIONS: readonly string[] = [
  // 1: buildings, devices, device credentials
  PG_REGISTRY_SQL,
  // 2: the platform uplink's outbox (schema-uplink.ts)
  PG_UPLINK_SQL,
  // 3: users, sessions, API tokens (schema-auth.ts)
  PG_AUTH_SQL,
  // 4: the live feed's event log, the log consumers' cursors, device status, fire-water test windows (schema-state.ts)
  PG_STATE_SQL,
  // 5: alerts with their history, maintenance windows (schema-alerts.ts)
  PG_ALERTS_SQL,
  // 6: readings, the log and the store at once (schema-readings.ts)
  PG_READINGS_SQL,
  // 7: the rules' condition states and per-device memory (schema-rules.ts)
  PG_RULES_SQL,
  // 8: key/value settings (schema-misc.ts)
  PG_SETTINGS_SQL,
  // 9: the test-mode alarms of GB/T 26875.3 UITD points (schema-misc.ts)
  PG_GB26875_SQL,
  // 10: the audit history of changes that weaken or bypass alerting (schema-audit.ts)
  PG_AUDIT_SQL,
  // 11: alerts.version, checked by every update decided on a copy read before (schema-alerts.ts)
  PG_ALERTS_VERSION_SQL,
  // 12: building rules' alerts one per building and rule; buildings.building_rules (schema-alerts.ts)
  PG_BUILDING_RULES_SQL,
];
