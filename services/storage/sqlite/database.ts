/**
 * Opens the embedded SQLite database (better-sqlite3), refuses a corrupt file, and applies
 * migrations in order.
 *
 * Durability: WAL with synchronous=FULL by default, so a committed transaction survives a power
 * loss or OS crash, which is what a QoS 1 PUBACK promises. The caller passes the mode (config
 * will expose SQLITE_SYNCHRONOUS=full|normal). 'normal' is faster but gives up the last commits
 * before a power cut or OS crash; a process crash (`kill -9`) loses nothing in WAL mode with
 * either setting.
 *
 * Integrity: before migrations, `PRAGMA quick_check` must answer `ok`; otherwise (or when SQLite
 * reports SQLITE_CORRUPT / SQLITE_NOTADB while opening) a DatabaseCorruptError is thrown and the
 * service does not start.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AUTH_SCHEMA_SQL } from './sqlite-auth-store.js';
import { UPLINK_SCHEMA_SQL } from './sqlite-uplink-store.js';
import { LOG_CURSORS_SQL } from './sqlite-cursor-store.js';
import { AUDIT_SCHEMA_SQL } from './sqlite-audit-store.js';
import { DEVICE_TESTS_SQL } from './sqlite-test-window-store.js';
import { GB26875_BITS_SQL } from './sqlite-gb26875-store.js';
import { DEVICE_IN_SERVICE_SQL } from './sqlite-registry-store.js';

export type Db = Database.Database;

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
];

export interface OpenOptions {
  /** 'full' (default): a commit survives power loss. 'normal': faster; a power cut or OS crash may lose the last commits. */
  synchronous?: 'normal' | 'full';
  /** How long a statement waits for a lock held by another connection (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Run `PRAGMA quick_check` and refuse a corrupt file (default true; a second connection to the same file may skip it). */
  integrityCheck?: boolean;
  /** Apply pending migrations (default true; a second connection to the same file may skip them). */
  migrate?: boolean;
  /** The file's migrations, in order (default: firewatch.db's; readings.db has its own). */
  migrations?: readonly string[];
}

/** How many quick_check problems the error message quotes. */
const PROBLEMS_SHOWN = 5;

/** The database file is damaged (quick_check failed, or SQLite found it corrupt or not a database). */
export class DatabaseCorruptError extends Error {
  readonly code = 'database_corrupt';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, PROBLEMS_SHOWN).map((p) => `  - ${p}`);
    if (problems.length > PROBLEMS_SHOWN) shown.push(`  - … and ${problems.length - PROBLEMS_SHOWN} more`);
    super(
      `The database ${file} is corrupt; the service does not start on a corrupt database.\n` +
        `${shown.join('\n')}\n` +
        `Restore ${file} from a backup, or stop the service and move it aside (with its -wal and -shm files) to start with an empty database.`,
    );
    this.name = 'DatabaseCorruptError';
  }
}

function isCorruptionError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  const memory = file === ':memory:';
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  }
  let db: Db | undefined;
  try {
    db = new Database(file);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    if (!memory && opts.integrityCheck !== false) checkIntegrity(db, file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    if (opts.migrate !== false) migrate(db, opts.migrations ?? MIGRATIONS);
    return db;
  } catch (err) {
    closeQuietly(db);
    if (isCorruptionError(err)) throw new DatabaseCorruptError(file, [`${err.code}: ${err.message}`]);
    throw err;
  }
}

/** Throws DatabaseCorruptError unless `PRAGMA quick_check` answers exactly `ok`. */
function checkIntegrity(db: Db, file: string): void {
  const rows = (db.pragma('quick_check') as Array<{ quick_check: unknown }>).map((r) => String(r.quick_check));
  if (rows.length === 1 && rows[0] === 'ok') return;
  // A row may hold several problems, one a line, under a "*** in database main ***" heading.
  const problems = rows
    .flatMap((r) => r.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^\*\*\* in database \S+ \*\*\*$/.test(l));
  throw new DatabaseCorruptError(file, problems.length > 0 ? problems : rows.length > 0 ? rows : ['quick_check returned nothing']);
}

function closeQuietly(db: Db | undefined): void {
  try {
    db?.close();
  } catch {
    // the handle is being abandoned because of an earlier error; that one is what matters
  }
}

function migrate(db: Db, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
