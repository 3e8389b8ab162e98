/**
 * Opens the embedded SQLite database (better-sqlite3) and applies migrations in order.
 * WAL with synchronous=NORMAL: a committed transaction survives a crash of the process
 * (`kill -9`), which is the durability we promise before a QoS 1 PUBACK; a power cut may lose
 * the last moments unless FIREWATCH_SQLITE_SYNC=full is chosen (see README, "Durability").
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AUTH_SCHEMA_SQL } from './sqlite-auth-store.js';
import { UPLINK_SCHEMA_SQL } from './sqlite-uplink-store.js';

export type Db = Database.Database;

const MIGRATIONS: string[] = [
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
];

export interface OpenOptions {
  /** 'normal' (default) survives process crashes; 'full' also survives power loss, slower. */
  synchronous?: 'normal' | 'full';
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
