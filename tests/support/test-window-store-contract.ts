/**
 * The one contract every TestWindowStore passes (services/devices/test-windows.ts): the record of
 * scheduled tests of fire-water points, as TestWindows starts, observes and ends them and loads the
 * running ones at start. SQLite (firewatch.db's device_tests) and the in-memory fake
 * (InMemoryTestWindowStore) today; written against the interface only, for a PostgreSQL store
 * later. Each case gets a fresh, empty store.
 *
 * What it pins down:
 *   - insert gives the test a new id and keeps every field as given
 *   - active(at): the tests not ended early whose end is after `at` (one ending at `at` is over),
 *     of every device
 *   - update keeps what TestWindows changes: the early end (who, when: then no longer active) and
 *     the pressures seen (min, max, readings); other tests stay as they were
 *   - list: one device's tests, newest started first, at most `limit`
 *   - a durable store gives back after a reopen its tests, the running ones as active, and gives
 *     new ids that are not the old ones
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { TestWindow, TestWindowStore } from '../../services/devices/test-windows.js';

export interface ContractTestWindowStore {
  store: TestWindowStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<TestWindowStore> | TestWindowStore;
  cleanup: () => Promise<void> | void;
}

type NewTest = Omit<TestWindow, 'id'>;

const T0 = Date.UTC(2026, 10, 29, 8);
const MIN = 60_000;

function test(deviceId: string, startMin: number, over: Partial<NewTest> = {}): NewTest {
  return {
    deviceId,
    buildingId: 'b-1',
    kind: 'end_of_line',
    note: '末端试水 "月检" \\ monthly',
    startedBy: 'zhang.op',
    startedAt: T0 + startMin * MIN,
    endsAt: T0 + (startMin + 30) * MIN,
    endedAt: null,
    endedBy: null,
    minMpa: null,
    maxMpa: null,
    readings: 0,
    ...over,
  };
}

const ids = (rows: TestWindow[]) => rows.map((r) => r.id);
const sortedIds = (rows: TestWindow[]) => ids(rows).sort((a, b) => a - b);

export function testWindowStoreContract(name: string, make: () => Promise<ContractTestWindowStore> | ContractTestWindowStore): void {
  describe(`TestWindowStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<TestWindowStore, ContractTestWindowStore>(name, make);

    it('knows no test to begin with', async () => {
      expect(await store().active(T0)).toEqual([]);
      expect(await store().list('d-1', 10)).toEqual([]);
    });

    it('insert gives a new id and keeps every field as given', async () => {
      const a = test('d-1', 0);
      const b = test('d-2', 5, { kind: 'pump', note: null, buildingId: 'b-2', startedBy: 'li.duty', endsAt: T0 + 4 * 60 * MIN });
      const c = test('d-1', 60, { kind: 'hydrant', endedAt: T0 + 70 * MIN, endedBy: 'zhang.op', minMpa: 0.12, maxMpa: 0.35, readings: 11 });
      const got: TestWindow[] = [];
      for (const t of [a, b, c]) got.push(await store().insert(t));
      expect(got).toEqual([a, b, c].map((t, i) => ({ ...t, id: got[i]!.id })));
      expect(new Set(ids(got)).size).toBe(3);
      expect(await store().list('d-1', 10)).toEqual([got[2], got[0]]);
      expect(await store().list('d-2', 10)).toEqual([got[1]]);
    });

    it('active: not ended early, ending after `at`, every device', async () => {
      const s = store();
      const running = (await s.insert(test('d-1', 0))); // ends at 30
      const other = (await s.insert(test('d-2', 10))); // ends at 40
      const ended = (await s.insert(test('d-3', 0, { endedAt: T0 + 5 * MIN, endedBy: 'li.duty' })));
      const later = (await s.insert(test('d-4', 100))); // starts at 100, ends at 130
      (await s.insert(test('d-5', -60))); // ended by itself at -30
      expect(sortedIds(await s.active(T0 + 20 * MIN))).toEqual(sortedIds([running, other, later]));
      expect(sortedIds(await s.active(T0 + 30 * MIN - 1))).toEqual(sortedIds([running, other, later]));
      expect(sortedIds(await s.active(T0 + 30 * MIN))).toEqual(sortedIds([other, later]));
      expect(sortedIds(await s.active(T0 + 129 * MIN))).toEqual(sortedIds([later]));
      expect(await s.active(T0 + 130 * MIN)).toEqual([]);
      expect((await s.active(T0 + 20 * MIN)).find((t) => t.id === running.id)).toEqual(running);
      expect((await s.active(T0)).map((t) => t.id)).not.toContain(ended.id);
    });

    it('update keeps the pressures seen and the early end; then the test is no longer active', async () => {
      const s = store();
      const t = (await s.insert(test('d-1', 0)));
      const other = (await s.insert(test('d-2', 0)));
      await s.update({ ...t, minMpa: 0.18, maxMpa: 0.31, readings: 2 });
      await s.update({ ...t, minMpa: 0.09, maxMpa: 0.31, readings: 3 });
      expect((await s.active(T0 + MIN)).find((x) => x.id === t.id)).toEqual({ ...t, minMpa: 0.09, maxMpa: 0.31, readings: 3 });
      const endedEarly = { ...t, minMpa: 0.09, maxMpa: 0.31, readings: 3, endedAt: T0 + 10 * MIN, endedBy: 'li.duty' };
      await s.update(endedEarly);
      expect(ids(await s.active(T0 + 11 * MIN))).toEqual([other.id]);
      expect(ids(await s.active(T0 + 5 * MIN))).toEqual([other.id]);
      expect(await s.list('d-1', 10)).toEqual([endedEarly]);
      expect(await s.list('d-2', 10)).toEqual([other]);
    });

    it("list: one device's tests, newest started first, at most limit", async () => {
      const s = store();
      const made: TestWindow[] = [];
      for (const m of [30, 0, 90, 60]) made.push(await s.insert(test('d-1', m, { endedAt: T0 + (m + 5) * MIN, endedBy: 'x' })));
      await s.insert(test('d-2', 120));
      expect((await s.list('d-1', 10)).map((t) => (t.startedAt - T0) / MIN)).toEqual([90, 60, 30, 0]);
      expect((await s.list('d-1', 2)).map((t) => (t.startedAt - T0) / MIN)).toEqual([90, 60]);
      expect(await s.list('d-1', 1)).toEqual([made[2]]);
      expect((await s.list('d-2', 10)).map((t) => t.deviceId)).toEqual(['d-2']);
      expect(await s.list('d-9', 10)).toEqual([]);
    });

    it('when durable, gives back after a reopen its tests, the running ones as active', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const running = (await store().insert(test('d-1', 0)));
      const done = (await store().insert(test('d-2', 0)));
      await store().update({ ...done, endedAt: T0 + 3 * MIN, endedBy: 'li.duty', readings: 4, minMpa: 0.1, maxMpa: 0.2 });
      const again = await handle().reopen!();
      expect(await again.active(T0 + MIN)).toEqual([running]);
      expect(await again.list('d-2', 10)).toEqual([{ ...done, endedAt: T0 + 3 * MIN, endedBy: 'li.duty', readings: 4, minMpa: 0.1, maxMpa: 0.2 }]);
      const next = (await again.insert(test('d-3', 10)));
      expect([running.id, done.id]).not.toContain(next.id);
    });
  });
}
