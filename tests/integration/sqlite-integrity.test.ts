/**
 * A damaged database file is refused at start (PRAGMA quick_check), by openDatabase and by
 * `firewatch serve`, instead of opening and reporting ready.
 */
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseCorruptError, openDatabase } from '../../services/storage/sqlite/database.js';

const ROWS = 2000;
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'firewatch-integrity-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A real Firewatch database with enough rows to span many pages, closed cleanly (checkpointed). */
function healthyDatabase(dir: string): string {
  const file = join(dir, 'firewatch.db');
  const db = openDatabase(file);
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(`row ${i} `.padEnd(200, String.fromCharCode(97 + (i % 26))));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return file;
}

function pageSize(file: string): number {
  const header = readFileSync(file).subarray(0, 100);
  const size = header.readUInt16BE(16);
  return size === 1 ? 65536 : size;
}

/**
 * Damages a table b-tree page in the middle of the file (never page 1): 'page' overwrites the
 * whole page with garbage (SQLite then fails quick_check itself with SQLITE_CORRUPT); 'cells'
 * overwrites part of the cell content area (quick_check answers with a list of problems).
 */
function corruptMiddlePage(file: string, how: 'page' | 'cells' = 'page'): { page: number; pages: number } {
  const size = pageSize(file);
  const pages = statSync(file).size / size;
  const page = Math.floor(pages / 2); // 0-based index; page 1 is index 0
  expect(page).toBeGreaterThan(1);
  const fd = openSync(file, 'r+');
  try {
    if (how === 'page') {
      const garbage = Buffer.alloc(size);
      for (let i = 0; i < size; i++) garbage[i] = (i * 131 + 7) & 0xff;
      writeSync(fd, garbage, 0, size, page * size);
    } else {
      const from = Math.floor(size / 2);
      writeSync(fd, Buffer.alloc(size / 4, 0xff), 0, size / 4, page * size + from);
    }
  } finally {
    closeSync(fd);
  }
  return { page, pages };
}

/** What quick_check says on a connection of our own: its rows, or the error it throws. */
function rawQuickCheck(file: string): { rows?: string[]; error?: string } {
  const db = new Database(file, { readonly: true });
  try {
    return { rows: (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check) };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err) };
  } finally {
    db.close();
  }
}

function openError(file: string): DatabaseCorruptError {
  let caught: unknown;
  try {
    openDatabase(file).close();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DatabaseCorruptError);
  return caught as DatabaseCorruptError;
}

describe('openDatabase integrity check', () => {
  it('a healthy file opens, with synchronous=FULL and the default busy timeout', () => {
    const dir = mkdtempSync(join(root, 'healthy-'));
    const file = healthyDatabase(dir);
    const db = openDatabase(file);
    try {
      expect(db.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: ROWS });
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    } finally {
      db.close();
    }
  });

  it("options: synchronous 'normal', busyTimeoutMs, migrate: false", () => {
    const dir = mkdtempSync(join(root, 'options-'));
    const file = healthyDatabase(dir);
    const db = openDatabase(file, { synchronous: 'normal', busyTimeoutMs: 1234, integrityCheck: false, migrate: false });
    try {
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    } finally {
      db.close();
    }
    const fresh = openDatabase(join(dir, 'unmigrated.db'), { migrate: false });
    try {
      expect(fresh.pragma('user_version', { simple: true })).toBe(0);
    } finally {
      fresh.close();
    }
    const mem = openDatabase(':memory:');
    try {
      expect(mem.pragma('user_version', { simple: true })).toBeGreaterThan(0);
    } finally {
      mem.close();
    }
  });

  it('a file whose middle page is garbage is refused with DatabaseCorruptError naming the file', () => {
    const dir = mkdtempSync(join(root, 'corrupt-page-'));
    const file = healthyDatabase(dir);
    const { pages } = corruptMiddlePage(file, 'page');
    expect(pages).toBeGreaterThan(20);
    const check = rawQuickCheck(file);
    expect(check.rows).not.toEqual(['ok']);
    expect(check.error ?? 'rows').toMatch(/^SQLITE_CORRUPT|^rows$/);

    const e = openError(file);
    expect(e.code).toBe('database_corrupt');
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/backup/);
    expect(e.message).toMatch(/move it aside/);
    // the handle was closed before throwing: no -wal was left behind by our open
    expect(existsSync(`${file}-wal`)).toBe(false);

    // a second connection to a file already checked may skip the check (page 1 is intact)
    const worker = openDatabase(file, { integrityCheck: false, migrate: false });
    worker.close();
  });

  it('a file with damaged cells in a middle page is refused, quoting the first problems quick_check reports', () => {
    const dir = mkdtempSync(join(root, 'corrupt-cells-'));
    const file = healthyDatabase(dir);
    corruptMiddlePage(file, 'cells');
    const check = rawQuickCheck(file);
    expect(check.error).toBeUndefined();
    expect(check.rows).not.toEqual(['ok']);
    const first = check.rows![0]!.split('\n').find((l) => l !== '' && !l.startsWith('***'))!;
    expect(first).toBeTruthy();

    const e = openError(file);
    expect(e.file).toBe(file);
    expect(e.problems[0]).toBe(first);
    expect(e.message).toContain(file);
    expect(e.message).toContain(first);
    expect(e.message).not.toContain('*** in database');
    // only the first few problems are quoted
    expect(e.message.split('\n').filter((l) => l.startsWith('  - ')).length).toBeLessThanOrEqual(6);
  });

  it('a file that is not a database at all is refused with DatabaseCorruptError', () => {
    const dir = mkdtempSync(join(root, 'notadb-'));
    const file = join(dir, 'firewatch.db');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    expect(() => openDatabase(file)).toThrow(DatabaseCorruptError);
    expect(() => openDatabase(file)).toThrow(file);
  });
});

describe('firewatch serve on a corrupt database', () => {
  it('exits non-zero and names the file, without a stack trace', async () => {
    const dir = mkdtempSync(join(root, 'serve-'));
    const file = healthyDatabase(dir);
    corruptMiddlePage(file);
    const r = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bin/firewatch.ts', 'serve'],
        {
          timeout: 20_000,
          env: {
            ...process.env,
            DATA_DIR: dir,
            MQTT_PORT: '0',
            HTTP_PORT: '0',
            ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
            LOG_LEVEL: 'info',
          },
        },
        (err, stdout, stderr) => {
          const e = err as (Error & { code?: number | null; signal?: string | null }) | null;
          resolve({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stdout, stderr });
        },
      );
    });
    expect(r.signal).toBeNull(); // it exited on its own, not killed by the timeout
    expect(r.code).not.toBe(0);
    expect(typeof r.code).toBe('number');
    expect(r.stderr + r.stdout).toContain(file);
    expect(r.stderr).toMatch(/corrupt/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
