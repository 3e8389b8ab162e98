/**
 * The centre's duty checks when their store fails (issue #14): a save refused by a locked
 * firewatch.db (real SQLite, another connection holding the write lock) is a counted storage outage
 * (`duty_checks`, what /metrics and /readyz show), the check goes on in memory — shown, answerable —
 * and the next save after the lock is gone keeps all of it, so a restart finds it.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { createLogger } from '../../services/shared/logger.js';
import { OutageReporter } from '../../services/shared/outage.js';
import { openDatabase } from '../../services/storage/sqlite/database.js';
import { SqliteSettingsStore } from '../../services/storage/sqlite/sqlite-settings-store.js';
import { DutyChecks, type DutyCheckEvent } from '../../services/uplink/duty-checks.js';
import { tempDir } from '../support/service.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('duty checks on a failing store', () => {
  it('a save refused by a lock is counted and visible; the check stays usable and is saved whole once the lock is gone', async () => {
    const file = join(dir, 'firewatch.db');
    const log = createLogger('silent');
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 2, 0, 0));
    const counted = new Map<string, number>();
    const outages = new OutageReporter(log, (op) => counted.set(op, (counted.get(op) ?? 0) + 1), () => clock.now());
    const db = openDatabase(file, { busyTimeoutMs: 0 });
    const published: DutyCheckEvent[] = [];
    const answers: number[] = [];
    const make = (settings: SqliteSettingsStore) =>
      new DutyChecks({ settings, clock, windowS: 300, sendAnswer: async () => void answers.push(clock.now()), publish: (t) => void published.push(t), outages, log });
    const checks = make(new SqliteSettingsStore(db));
    checks.start();

    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE'); // another process holds the write lock
    const c = checks.received({ serial: 7, at: clock.now() });
    expect(counted.get('duty_checks')).toBe(1);
    expect(outages.isFailing('duty_checks')).toBe(true);
    expect(published).toEqual(['duty_check.requested']); // the duty room is told all the same
    expect(checks.list()).toEqual([expect.objectContaining({ id: c.id, status: 'pending' })]);

    other.exec('COMMIT');
    other.close();
    const answered = await checks.answer(c.id, 'li.duty');
    expect(answered).toMatchObject({ status: 'answered', answeredBy: 'li.duty' });
    expect(answers).toHaveLength(1);
    expect(outages.isFailing('duty_checks')).toBe(false);
    checks.close();
    db.close();

    // a restart finds the check as it ended, though its first save failed
    const reopened = openDatabase(file);
    const after = make(new SqliteSettingsStore(reopened));
    after.start();
    expect(after.list()).toEqual([expect.objectContaining({ id: c.id, serial: 7, status: 'answered', answeredBy: 'li.duty' })]);
    after.close();
    reopened.close();
  });
});
