/**
 * Every schema change of the embedded databases, in one place and in order. A migration is
 * appended, never edited: `PRAGMA user_version` counts the ones a file has (database.ts applies the
 * rest at start). firewatch.db holds everything but readings; readings.db is the reading log
 * (readings-database.ts). The stores own their queries; their tables are created here.
 */

/** Appended to MIGRATIONS below. */
export const AUTH_SCHEMA_SQL = `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'duty', 'operator', 'platform')),
    streets TEXT,
    building_ids TEXT NOT NULL DEFAULT '[]',
    disabled INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE sessions (
    token_digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
  );
  CREATE INDEX sessions_user ON sessions(user_id);
  CREATE INDEX sessions_expiry ON sessions(expires_at_ms);
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'duty', 'operator', 'platform')),
    streets TEXT,
    building_ids TEXT NOT NULL DEFAULT '[]',
    token_digest TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    expires_at TEXT
  );
`;

export const UPLINK_SCHEMA_SQL = `
  CREATE TABLE uplink_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    device_id TEXT,
    building_id TEXT,
    street TEXT,
    occurred_at TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    data TEXT NOT NULL
  );
  CREATE TABLE uplink_lanes (
    adapter TEXT PRIMARY KEY,
    cursor INTEGER NOT NULL,
    retries INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    dead_letters INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_success_at INTEGER
  );
  CREATE TABLE uplink_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    adapter TEXT NOT NULL,
    item_seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    reason TEXT NOT NULL,
    dead_at INTEGER NOT NULL,
    item TEXT NOT NULL
  );
  CREATE INDEX uplink_dead_letters_adapter ON uplink_dead_letters(adapter, id);
  CREATE TABLE uplink_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/**
 * Migration 7 of firewatch.db (issue #9): where each consumer of the reading log stands. The log
 * itself is readings.db (readings-database.ts); a position here commits with the effects of the
 * batch that reached it.
 */
export const LOG_CURSORS_SQL = `CREATE TABLE log_cursors (name TEXT PRIMARY KEY, position INTEGER NOT NULL);`;

/** Migration (issue #12 item 9): append-only audit history of changes that weaken alerting. */
export const AUDIT_SCHEMA_SQL = `
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    building_id TEXT,
    device_id TEXT,
    street TEXT,
    reason TEXT,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    changes TEXT NOT NULL
  );
  CREATE INDEX audit_log_building ON audit_log(building_id, id);
  CREATE INDEX audit_log_device ON audit_log(device_id, id);
`;

/** Appended to MIGRATIONS below (issue #16: standby and flowing, tests recorded as tests). */
export const DEVICE_TESTS_SQL = `
  CREATE TABLE device_tests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    building_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    note TEXT,
    started_by TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    ended_at INTEGER,
    ended_by TEXT,
    min_mpa REAL,
    max_mpa REAL,
    readings INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX device_tests_device ON device_tests(device_id, started_at);
`;

/**
 * Appended to MIGRATIONS below: a water_pressure device's analog source on a UITD (JSON,
 * nullable), and the test-mode alarms of UITD points (one row per episode, open while ended_at is null).
 */
export const GB26875_BITS_SQL = `
  ALTER TABLE devices ADD COLUMN gb26875_source TEXT;
  CREATE TABLE gb26875_tests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    point TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    fire_alarm INTEGER NOT NULL,
    supervisory INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER
  );
  CREATE INDEX gb26875_tests_device ON gb26875_tests(device_id, started_at);
  CREATE UNIQUE INDEX gb26875_tests_open ON gb26875_tests(device_id, point) WHERE ended_at IS NULL;
`;

/**
 * Migration (issue #17 item 6): when a device was put in service; NULL while it is commissioned.
 * Devices registered before this were monitored already, so they count as in service since their
 * registration.
 */
export const DEVICE_IN_SERVICE_SQL = `
  ALTER TABLE devices ADD COLUMN in_service_at TEXT;
  UPDATE devices SET in_service_at = created_at;
`;

/** firewatch.db */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE buildings (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    street TEXT NOT NULL,
    address TEXT NOT NULL,
    type TEXT NOT NULL,
    height_m REAL,
    floors INTEGER,
    area_m2 REAL,
    category INTEGER,
    use TEXT NOT NULL,
    contact_name TEXT,
    contact_phone TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX buildings_street ON buildings(street);
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    building_id TEXT NOT NULL REFERENCES buildings(id),
    kind TEXT NOT NULL,
    point TEXT,
    location TEXT,
    report_interval_s INTEGER NOT NULL,
    vendor TEXT,
    model TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX devices_building ON devices(building_id);
  CREATE TABLE device_credentials (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    hash TEXT NOT NULL,
    rotated_at TEXT NOT NULL
  );
  CREATE TABLE device_status (
    device_id TEXT PRIMARY KEY,
    status TEXT NOT NULL
  );
  CREATE TABLE readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    building_id TEXT,
    street TEXT,
    point TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    ts INTEGER NOT NULL,
    seq INTEGER,
    received_at INTEGER NOT NULL,
    fields TEXT NOT NULL
  );
  CREATE INDEX readings_device_ts ON readings(device_id, channel, ts);
  CREATE UNIQUE INDEX readings_dedupe ON readings(device_id, channel, seq, ts) WHERE seq IS NOT NULL;
  CREATE TABLE influx_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    building_id TEXT,
    street TEXT,
    point TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    ts INTEGER NOT NULL,
    seq INTEGER,
    received_at INTEGER NOT NULL,
    fields TEXT NOT NULL
  );
  CREATE UNIQUE INDEX influx_outbox_dedupe ON influx_outbox(device_id, channel, seq, ts) WHERE seq IS NOT NULL;
  `,
  // 2: alerts, their history, rule timers, maintenance windows, the live-feed event log
  `
  ALTER TABLE devices ADD COLUMN rules TEXT;
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    device_id TEXT,
    building_id TEXT,
    street TEXT,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  -- at most one alert that is not closed per device and rule, whatever the concurrency
  CREATE UNIQUE INDEX alerts_one_active ON alerts(IFNULL(device_id, ''), rule) WHERE status != 'closed';
  CREATE INDEX alerts_opened ON alerts(opened_at);
  CREATE INDEX alerts_status ON alerts(status);
  CREATE TABLE alert_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL REFERENCES alerts(id),
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    by TEXT NOT NULL,
    detail TEXT
  );
  CREATE INDEX alert_history_alert ON alert_history(alert_id, id);
  CREATE TABLE rule_state (
    device_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (device_id, rule_id)
  );
  CREATE TABLE rule_memory (device_id TEXT PRIMARY KEY, memory TEXT NOT NULL);
  CREATE TABLE maintenance (
    target TEXT NOT NULL,
    target_id TEXT NOT NULL,
    until TEXT NOT NULL,
    reason TEXT NOT NULL,
    by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (target, target_id)
  );
  CREATE TABLE feed_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    street TEXT,
    building_id TEXT,
    data TEXT NOT NULL
  );
  `,
  // 3: people and integrations: users, sessions, API tokens (hashes and digests only)
  AUTH_SCHEMA_SQL,
  // 4 (issue #6): GB/T 26875.3 device addresses, unique among devices that have one
  `
  ALTER TABLE devices ADD COLUMN address INTEGER;
  CREATE UNIQUE INDEX devices_address ON devices(address) WHERE address IS NOT NULL;
  `,
  // 5 (issue #6): the platform uplink outbox. One item table shared by every adapter; each
  // adapter keeps its own cursor (the last item it delivered or dead-lettered) and counters.
  UPLINK_SCHEMA_SQL,
  // 6 (issue #5): what the district's market survey recorded about a building (JSON, nullable)
  `ALTER TABLE buildings ADD COLUMN survey TEXT;`,
  // 7 (issue #9): the reading log's consumers' positions; the log itself is readings.db
  LOG_CURSORS_SQL,
  // (issue #12 item 7): GB/T 26875.3 peer allow-list per UITD, a JSON array of IPs/CIDRs (nullable)
  `ALTER TABLE devices ADD COLUMN allowed_peers TEXT;`,
  // (issue #12 item 9): the audit history of changes that weaken alerting (who, role, when, before → after, why)
  AUDIT_SCHEMA_SQL,
  // (issue #16): scheduled tests of fire-water points (end-of-line, pump, hydrant tests)
  DEVICE_TESTS_SQL,
  // (issue #16 item 9): the fire-engine access level a hillside building's height is measured from
  `ALTER TABLE buildings ADD COLUMN access_level_m REAL;`,
  // (issue #16 item 7): a water_pressure device's GB/T 26875.3 analog source; UITD test-mode alarms
  GB26875_BITS_SQL,
  // (issue #17 item 4): the incident record (警情记录) filters on an alert's class, building name, who
  // acknowledged and closed it, when and with what outcome; copies of the document's fields, kept in step by the store
  `
  ALTER TABLE alerts ADD COLUMN class TEXT;
  ALTER TABLE alerts ADD COLUMN building_name TEXT;
  ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT;
  ALTER TABLE alerts ADD COLUMN closed_at TEXT;
  ALTER TABLE alerts ADD COLUMN closed_by TEXT;
  ALTER TABLE alerts ADD COLUMN outcome TEXT;
  UPDATE alerts SET
    class = json_extract(doc, '$.class'),
    building_name = json_extract(doc, '$.buildingName'),
    acknowledged_by = json_extract(doc, '$.acknowledgedBy'),
    closed_at = json_extract(doc, '$.closedAt'),
    closed_by = json_extract(doc, '$.closedBy'),
    outcome = json_extract(doc, '$.outcome');
  CREATE INDEX alerts_record_opened ON alerts(class, opened_at, id);
  CREATE INDEX alerts_record_closed ON alerts(class, closed_at, id);
  CREATE INDEX alerts_record_street ON alerts(street, class, opened_at, id);
  CREATE INDEX alerts_record_building ON alerts(building_id, class, opened_at, id);
  CREATE INDEX alerts_record_acknowledged_by ON alerts(acknowledged_by);
  CREATE INDEX alerts_record_closed_by ON alerts(closed_by);
  `,
  // (issue #17 item 6): when a device was put in service (NULL: commissioning); existing devices are in service
  DEVICE_IN_SERVICE_SQL,
  // (issue #17 item 5): a history entry's structured detail (JSON, worded by the console in the reader's
  // language) and the display name of the person who did it; NULL on older entries
  `
  ALTER TABLE alert_history ADD COLUMN info TEXT;
  ALTER TABLE alert_history ADD COLUMN by_name TEXT;
  `,
  // (issue #15 item 2): building rules (probable_fire, …) raise alerts without a device, one per
  // building and rule: the one-unclosed key takes the building for them (a device's alert keeps
  // its key, a system alert has neither); a building's overrides of those rules (JSON, nullable)
  `
  DROP INDEX alerts_one_active;
  CREATE UNIQUE INDEX alerts_one_active ON alerts(IFNULL(device_id, ''), CASE WHEN device_id IS NULL THEN IFNULL(building_id, '') ELSE '' END, rule) WHERE status != 'closed';
  ALTER TABLE buildings ADD COLUMN building_rules TEXT;
  `,
];

/** readings.db */
export const READINGS_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    building_id TEXT,
    street TEXT,
    point TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    ts INTEGER NOT NULL,
    seq INTEGER,
    received_at INTEGER NOT NULL,
    fields TEXT NOT NULL,
    server_ts INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX readings_device_ts ON readings(device_id, channel, ts);
  CREATE UNIQUE INDEX readings_dedupe ON readings(device_id, channel, seq, ts) WHERE seq IS NOT NULL;
  CREATE TABLE log_probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
  `,
  // 2 (issue #9, bench/REPORT.md run 6): one index where there were two. The unique key holds the
  // same columns as the dedupe index did, in the order the history query reads them (device,
  // channel, time), so it serves both; a row without a seq never conflicts (NULLs are distinct),
  // as before. The lookup for readings without a device time keeps its own index, partial to the
  // rows it is for. Every appended row updated two B-trees and now updates one: measured at
  // 1 million rows, 25 µs a row became 13.5 µs.
  `
  CREATE UNIQUE INDEX readings_key ON readings(device_id, channel, ts, seq);
  CREATE INDEX readings_untimed ON readings(device_id, channel, seq) WHERE server_ts = 1;
  DROP INDEX readings_dedupe;
  DROP INDEX readings_device_ts;
  `,
];
