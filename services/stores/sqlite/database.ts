/**
 * Opens the embedded SQLite database (better-sqlite3) and applies migrations in order.
 * WAL with synchronous=NORMAL: a committed transaction survives a crash of the process
 * (`kill -9`), which is the durability we promise before a QoS 1 PUBACK; a power cut may lose
 * the last moments unless FIREWATCH_SQLITE_SYNC=full is chosen (see README, "Durability").
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

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
