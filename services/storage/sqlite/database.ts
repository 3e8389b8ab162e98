/**
 * Opens the embedded SQLite database (better-sqlite3), refuses a corrupt file, and applies
 * migrations (migrations.ts) in order.
 *
 * Durability: WAL with synchronous=FULL by default, so a committed transaction survives a power
 * loss or OS crash, which is what a QoS 1 PUBACK promises. The caller passes the mode
 * (SQLITE_SYNCHRONOUS=full|normal). 'normal' is faster but gives up the last commits
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
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

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
