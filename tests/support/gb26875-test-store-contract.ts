/**
 * The one contract every Gb26875TestStore passes (services/devices/gb26875-points.ts): the
 * test-mode alarms of a UITD's points, as the GB/T 26875.3 gateway's listener begins them (a test
 * signal: bit0 = 0 with the fire alarm or supervisory bit) and ends them (the point leaves test
 * mode), and the API lists them. SQLite (firewatch.db's gb26875_tests) and PostgreSQL
 * (pg-gb26875-store.ts), run by tests/integration/misc-store-contracts.test.ts. Every call is
 * awaited; each case gets a fresh, empty store.
 *
 * What it pins down:
 *   - begin opens a record with what it was given (a new id, endedAt null; bits as booleans)
 *   - one open record per (device, point): a second begin only ORs in the bits it saw; it never
 *     clears a bit, and the name, description and start stay those of the first begin
 *   - end closes the point's open record only: other points, other devices and records already
 *     closed stay as they were; an end with nothing open changes nothing
 *   - a begin after an end opens a second record (a new id, its own bits and start)
 *   - list: one device's records, newest started first (the later record first on a tie), at most
 *     `limit`
 *   - a durable store gives back after a reopen every record, the open ones still open (a begin
 *     merges into them, an end closes them), and gives new ids that are not the old ones
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { Gb26875TestRecord, Gb26875TestStore } from '../../services/devices/gb26875-points.js';

export interface ContractGb26875TestStore {
  store: Gb26875TestStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<Gb26875TestStore> | Gb26875TestStore;
  cleanup: () => Promise<void> | void;
}

type Begin = Parameters<Gb26875TestStore['begin']>[0];

const T0 = Date.UTC(2026, 10, 29, 8);
const SEC = 1000;
const SMOKE = 'comp:1:1:40:10-2';
const VALVE = 'comp:1:1:87:2-15';
const SYSTEM = 'sys:1:1';

function signal(deviceId: string, point: string, atSec: number, over: Partial<Begin> = {}): Begin {
  return {
    deviceId,
    point,
    name: `感烟火灾探测器 ${point}（3F 走廊）`,
    description: '3F 走廊 "东" \\ east',
    fireAlarm: true,
    supervisory: false,
    at: T0 + atSec * SEC,
    ...over,
  };
}

/** The record a begin opens, with the id the store gave it. */
const opened = (b: Begin, id: number): Gb26875TestRecord => ({
  id,
  deviceId: b.deviceId,
  point: b.point,
  name: b.name,
  description: b.description,
  fireAlarm: b.fireAlarm,
  supervisory: b.supervisory,
  startedAt: b.at,
  endedAt: null,
});

const only = (rows: Gb26875TestRecord[]): Gb26875TestRecord => {
  expect(rows).toHaveLength(1);
  return rows[0]!;
};

export function gb26875TestStoreContract(name: string, make: () => Promise<ContractGb26875TestStore> | ContractGb26875TestStore): void {
  describe(`Gb26875TestStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<Gb26875TestStore, ContractGb26875TestStore>(name, make);

    it('knows no record to begin with', async () => {
      expect(await store().list('u-1', 100)).toEqual([]);
    });

    it('begin opens a record with what it was given', async () => {
      const s = store();
      const fire = signal('u-1', SMOKE, 0);
      const valve = signal('u-1', VALVE, 1, { name: '信号阀 2区15号（3F 喷淋）', description: null, fireAlarm: false, supervisory: true });
      await s.begin(fire);
      await s.begin(valve);
      const [second, first] = await s.list('u-1', 100) as [Gb26875TestRecord, Gb26875TestRecord];
      expect(first).toEqual(opened(fire, first.id));
      expect(second).toEqual(opened(valve, second.id));
      expect(Number.isInteger(first.id)).toBe(true);
      expect(second.id).not.toBe(first.id);
    });

    it('a second begin of an open point only ORs in its bits', async () => {
      const s = store();
      const first = signal('u-1', SMOKE, 0, { fireAlarm: true, supervisory: false });
      await s.begin(first);
      const { id } = only(await s.list('u-1', 100));
      // a later signal with the other bit, another name and description: one record, both bits, the first's name and start
      await s.begin(signal('u-1', SMOKE, 5, { name: 'renamed', description: 'other', fireAlarm: false, supervisory: true }));
      expect(only(await s.list('u-1', 100))).toEqual({ ...opened(first, id), supervisory: true });
      // a signal with neither bit clears nothing
      await s.begin(signal('u-1', SMOKE, 9, { fireAlarm: false, supervisory: false }));
      expect(only(await s.list('u-1', 100))).toEqual({ ...opened(first, id), supervisory: true });
    });

    it('a second begin with no bit then one with a bit: the bit is added', async () => {
      const s = store();
      const first = signal('u-1', VALVE, 0, { fireAlarm: false, supervisory: false, description: null });
      await s.begin(first);
      const { id } = only(await s.list('u-1', 100));
      await s.begin(signal('u-1', VALVE, 3, { fireAlarm: true, supervisory: false }));
      expect(only(await s.list('u-1', 100))).toEqual({ ...opened(first, id), fireAlarm: true });
    });

    it('the same point on two devices, and two points of one device, are separate records', async () => {
      const s = store();
      await s.begin(signal('u-1', SMOKE, 0));
      await s.begin(signal('u-2', SMOKE, 1, { fireAlarm: false, supervisory: true }));
      await s.begin(signal('u-1', SYSTEM, 2, { fireAlarm: false, supervisory: true }));
      const u1 = await s.list('u-1', 100);
      expect(u1.map((r) => [r.point, r.fireAlarm, r.supervisory])).toEqual([
        [SYSTEM, false, true],
        [SMOKE, true, false],
      ]);
      expect((await s.list('u-2', 100)).map((r) => [r.deviceId, r.point, r.fireAlarm, r.supervisory])).toEqual([['u-2', SMOKE, false, true]]);
    });

    it('end closes the open record of that point only', async () => {
      const s = store();
      await s.begin(signal('u-1', SMOKE, 0));
      await s.begin(signal('u-1', VALVE, 1, { fireAlarm: false, supervisory: true }));
      await s.begin(signal('u-2', SMOKE, 2));
      await s.end('u-1', SMOKE, T0 + 30 * SEC);
      const u1 = await s.list('u-1', 100);
      expect(u1.find((r) => r.point === SMOKE)!.endedAt).toBe(T0 + 30 * SEC);
      expect(u1.find((r) => r.point === VALVE)!.endedAt).toBeNull();
      expect(only(await s.list('u-2', 100)).endedAt).toBeNull();
      // a closed record stays as it was: a second end, and an end of a point never begun, change nothing
      const before = await s.list('u-1', 100);
      await s.end('u-1', SMOKE, T0 + 60 * SEC);
      await s.end('u-1', 'comp:1:1:40:99-99', T0 + 60 * SEC);
      await s.end('u-9', SMOKE, T0 + 60 * SEC);
      expect(await s.list('u-1', 100)).toEqual(before);
    });

    it('a begin after an end opens a second record; an end then closes only that one', async () => {
      const s = store();
      const first = signal('u-1', SMOKE, 0, { fireAlarm: true, supervisory: true });
      await s.begin(first);
      await s.end('u-1', SMOKE, T0 + 10 * SEC);
      const again = signal('u-1', SMOKE, 20, { name: '第二次', description: null, fireAlarm: false, supervisory: true });
      await s.begin(again);
      const [newer, older] = await s.list('u-1', 100) as [Gb26875TestRecord, Gb26875TestRecord];
      expect(older).toEqual({ ...opened(first, older.id), endedAt: T0 + 10 * SEC });
      expect(newer).toEqual(opened(again, newer.id));
      expect(newer.id).not.toBe(older.id);
      // the new one merges bits on its own; the closed one keeps its own
      await s.begin(signal('u-1', SMOKE, 25, { fireAlarm: true, supervisory: false }));
      await s.end('u-1', SMOKE, T0 + 40 * SEC);
      expect(await s.list('u-1', 100)).toEqual([
        { ...opened(again, newer.id), fireAlarm: true, endedAt: T0 + 40 * SEC },
        { ...opened(first, older.id), endedAt: T0 + 10 * SEC },
      ]);
    });

    it("list: one device's records, newest started first, at most limit", async () => {
      const s = store();
      // started out of order, each closed before the next of its point
      for (const [i, at] of [30, 0, 90, 60].entries()) {
        await s.begin(signal('u-1', SMOKE, at, { name: `n${i}` }));
        await s.end('u-1', SMOKE, T0 + (at + 5) * SEC);
      }
      await s.begin(signal('u-2', SMOKE, 120));
      expect((await s.list('u-1', 100)).map((r) => (r.startedAt - T0) / SEC)).toEqual([90, 60, 30, 0]);
      expect((await s.list('u-1', 2)).map((r) => (r.startedAt - T0) / SEC)).toEqual([90, 60]);
      expect((await s.list('u-1', 1)).map((r) => r.name)).toEqual(['n2']);
      expect((await s.list('u-2', 100)).map((r) => r.deviceId)).toEqual(['u-2']);
      expect(await s.list('u-9', 100)).toEqual([]);
    });

    it('list: records started at the same time, the later begun first', async () => {
      const s = store();
      for (const point of [SMOKE, VALVE, SYSTEM]) await s.begin(signal('u-1', point, 0));
      expect((await s.list('u-1', 100)).map((r) => r.point)).toEqual([SYSTEM, VALVE, SMOKE]);
      expect((await s.list('u-1', 2)).map((r) => r.point)).toEqual([SYSTEM, VALVE]);
    });

    it('when durable, gives back after a reopen every record, the open ones still open', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      await store().begin(signal('u-1', SMOKE, 0));
      await store().end('u-1', SMOKE, T0 + 10 * SEC);
      await store().begin(signal('u-1', VALVE, 20, { fireAlarm: false, supervisory: true, description: null }));
      await store().begin(signal('u-2', SYSTEM, 30));
      const before1 = await store().list('u-1', 100);
      const before2 = await store().list('u-2', 100);
      const again = await handle().reopen!();
      expect(await again.list('u-1', 100)).toEqual(before1);
      expect(await again.list('u-2', 100)).toEqual(before2);
      // the open record is still the open one: a begin merges into it, an end closes it
      await again.begin(signal('u-1', VALVE, 40, { fireAlarm: true, supervisory: false }));
      await again.end('u-1', VALVE, T0 + 50 * SEC);
      const valve = before1.find((r) => r.point === VALVE)!;
      expect(await again.list('u-1', 100)).toEqual([{ ...valve, fireAlarm: true, endedAt: T0 + 50 * SEC }, before1.find((r) => r.point === SMOKE)]);
      // a new record gets an id none of the old ones had
      await again.begin(signal('u-1', SMOKE, 60));
      const newest = (await again.list('u-1', 1))[0]!;
      expect([...before1, ...before2].map((r) => r.id)).not.toContain(newest.id);
      expect(newest.endedAt).toBeNull();
    });
  });
}
