/**
 * The one contract every AuditStore passes (services/audit/model.ts): the SQLite store
 * (firewatch.db's audit_log) and the in-memory fake the change-control tests use
 * (tests/support/memory-audit-store.ts). Written against the interface only, so that a PostgreSQL
 * store can run it unchanged. Each case gets a fresh, empty store.
 *
 * What it pins down (what AuditLog, ChangeControl and GET /api/v1/audit rely on):
 *   - insert gives the entry an id and keeps every field as given: who, role, action, where,
 *     reason, before/after (any JSON value, nested) and the changes, in order
 *   - list is newest first (by id: the route's cursor is the last id), `limit` the newest; paging
 *     with `beforeId` visits every entry once
 *   - the filters: building, device, action (all together when combined) and `streets` (entries
 *     of those streets only: one without a street is not in any; an empty list matches nothing)
 *   - every call is awaited (a PostgreSQL store answers with a promise); that an entry commits with
 *     the change it records is the unit of work's part (tests/integration/unit-of-work.test.ts and
 *     the change-control tests), not the store's
 *   - the store keeps its own copy: changing an entry after insert, or one got back, changes
 *     nothing stored
 *   - a durable store gives back after a reopen what it held, and numbers on after its last id
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { AuditEntry, AuditStore } from '../../services/audit/model.js';

export interface ContractAuditStore {
  store: AuditStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<AuditStore> | AuditStore;
  cleanup: () => Promise<void> | void;
}

type NewEntry = Omit<AuditEntry, 'id'>;

const T0 = Date.UTC(2026, 11, 1, 8);
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function entry(over: Partial<NewEntry> = {}): NewEntry {
  return {
    at: at(0),
    by: 'li.duty',
    role: 'duty',
    action: 'device.rules_loosened',
    buildingId: 'b-1',
    deviceId: 'd-1',
    street: '解放碑',
    reason: '触点损坏 / contact broken',
    before: { rules: null },
    after: { rules: { device_alarm: { enabled: false } } },
    changes: [{ what: 'device_alarm.enabled', before: true, after: false }],
    ...over,
  };
}

/** insert every entry in order; returns what insert returned */
async function insertAll(store: AuditStore, entries: NewEntry[]): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (const e of entries) out.push(await store.insert(e));
  return out;
}

const ids = (rows: AuditEntry[]) => rows.map((r) => r.id);
const reasons = (rows: AuditEntry[]) => rows.map((r) => r.reason);

export function auditStoreContract(name: string, make: () => Promise<ContractAuditStore> | ContractAuditStore): void {
  describe(`AuditStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<AuditStore, ContractAuditStore>(name, make);

    it('is empty to begin with', async () => {
      expect((await store().list({ limit: 100 }))).toEqual([]);
    });

    it('keeps every field of an entry as given, with an id', async () => {
      const loosened = entry();
      const window = entry({
        at: at(5),
        by: 'token:city-platform',
        role: 'platform',
        action: 'maintenance.set',
        deviceId: null,
        reason: null,
        before: null,
        after: { until: at(600), hours: 10, reason: '检测 "pump" \\ test', nested: [1, [2, { x: null }]], flag: true },
        changes: [
          { what: 'maintenance.hours', before: 0, after: 10 },
          { what: 'maintenance.until', before: null, after: at(600) },
        ],
      });
      const deleted = entry({ at: at(9), by: 'system:admin', role: 'admin', action: 'device.deleted', buildingId: null, street: null, before: 'd-1', after: 0, changes: [] });
      const got = await insertAll(store(), [loosened, window, deleted]);
      expect(got).toEqual([
        { id: expect.any(Number), ...loosened },
        { id: expect.any(Number), ...window },
        { id: expect.any(Number), ...deleted },
      ]);
      expect(new Set(ids(got)).size).toBe(3);
      expect((await store().list({ limit: 10 }))).toEqual([...got].reverse());
    });

    it('numbers entries in increasing order and lists the newest first, `limit` the newest', async () => {
      // the same time for two of them: the order is the order they were recorded in
      const got = await insertAll(store(), [entry({ at: at(0), reason: 'a' }), entry({ at: at(1), reason: 'b' }), entry({ at: at(1), reason: 'c' }), entry({ at: at(2), reason: 'd' })]);
      expect(ids(got)).toEqual([...ids(got)].sort((x, y) => x - y));
      expect(reasons((await store().list({ limit: 10 })))).toEqual(['d', 'c', 'b', 'a']);
      expect(reasons((await store().list({ limit: 2 })))).toEqual(['d', 'c']);
      expect(reasons((await store().list({ limit: 1 })))).toEqual(['d']);
    });

    it('pages with beforeId: entries older than that id, every entry once', async () => {
      const got = await insertAll(store(), Array.from({ length: 7 }, (_, i) => entry({ at: at(i), reason: `r${i}` })));
      const seen: AuditEntry[] = [];
      let beforeId: number | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = (await store().list({ limit: 3, ...(beforeId !== undefined ? { beforeId } : {}) }));
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(3);
        seen.push(...page);
        beforeId = page[page.length - 1]!.id;
      }
      expect(seen).toEqual([...got].reverse());
      expect(reasons((await store().list({ limit: 10, beforeId: got[3]!.id })))).toEqual(['r2', 'r1', 'r0']);
      expect((await store().list({ limit: 10, beforeId: got[0]!.id }))).toEqual([]);
    });

    it('filters by building, device and action, all of them when combined', async () => {
      await insertAll(store(), [
        entry({ reason: '1', buildingId: 'b-1', deviceId: 'd-1', action: 'device.rules_loosened' }),
        entry({ reason: '2', buildingId: 'b-1', deviceId: 'd-2', action: 'maintenance.set' }),
        entry({ reason: '3', buildingId: 'b-2', deviceId: 'd-3', action: 'device.rules_loosened' }),
        entry({ reason: '4', buildingId: 'b-1', deviceId: null, action: 'building.thresholds_changed' }),
        entry({ reason: '5', buildingId: 'b-1', deviceId: 'd-1', action: 'maintenance.ended' }),
        entry({ reason: '6', buildingId: null, deviceId: null, action: 'maintenance.set' }),
      ]);
      expect(reasons((await store().list({ limit: 10, buildingId: 'b-1' })))).toEqual(['5', '4', '2', '1']);
      expect(reasons((await store().list({ limit: 10, deviceId: 'd-1' })))).toEqual(['5', '1']);
      expect(reasons((await store().list({ limit: 10, action: 'maintenance.set' })))).toEqual(['6', '2']);
      expect(reasons((await store().list({ limit: 10, buildingId: 'b-1', action: 'device.rules_loosened' })))).toEqual(['1']);
      expect(reasons((await store().list({ limit: 10, buildingId: 'b-2', deviceId: 'd-1' })))).toEqual([]);
      expect(reasons((await store().list({ limit: 10, buildingId: 'b-9' })))).toEqual([]);
      expect(reasons((await store().list({ limit: 1, buildingId: 'b-1' })))).toEqual(['5']);
    });

    it("limits to streets: those streets' entries only, none without a street, nothing for an empty list", async () => {
      const got = await insertAll(store(), [
        entry({ reason: 'jfb', street: '解放碑' }),
        entry({ reason: 'ctm', street: '朝天门' }),
        entry({ reason: 'none', street: null, buildingId: null }),
        entry({ reason: 'qxg', street: '七星岗' }),
        entry({ reason: 'jfb2', street: '解放碑', action: 'maintenance.set' }),
      ]);
      expect(reasons((await store().list({ limit: 10, streets: ['解放碑'] })))).toEqual(['jfb2', 'jfb']);
      expect(reasons((await store().list({ limit: 10, streets: ['解放碑', '七星岗'] })))).toEqual(['jfb2', 'qxg', 'jfb']);
      expect(reasons((await store().list({ limit: 10, streets: ['大坪'] })))).toEqual([]);
      expect((await store().list({ limit: 10, streets: [] }))).toEqual([]);
      expect(reasons((await store().list({ limit: 10, streets: ['解放碑'], action: 'device.rules_loosened' })))).toEqual(['jfb']);
      expect(reasons((await store().list({ limit: 10, streets: ['解放碑', '朝天门'], beforeId: got[4]!.id })))).toEqual(['ctm', 'jfb']);
      expect((await store().list({ limit: 10 }))).toHaveLength(5);
    });

    it('keeps its own copy: changing an entry after insert, or one got back, changes nothing stored', async () => {
      const s = store();
      const mine = entry({ before: { rules: { pressure_low: { threshold: 0.15 } } }, changes: [{ what: 'pressure_low.threshold', before: 0.15, after: 0.07 }] });
      const returned = (await s.insert(mine));
      (mine.before as { rules: { pressure_low: { threshold: number } } }).rules.pressure_low.threshold = 9;
      mine.changes.push({ what: 'x', before: 1, after: 2 });
      mine.reason = 'changed';
      returned.changes.length = 0;
      const [listed] = (await s.list({ limit: 1 }));
      (listed!.before as { rules: unknown }).rules = null;
      expect((await s.list({ limit: 1 }))).toEqual([
        { ...entry({ before: { rules: { pressure_low: { threshold: 0.15 } } }, changes: [{ what: 'pressure_low.threshold', before: 0.15, after: 0.07 }] }), id: returned.id },
      ]);
    });

    it('when durable, gives back after a reopen what it held, and numbers on after it', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const got = await insertAll(store(), [entry({ reason: 'one' }), entry({ reason: 'two', street: '朝天门', action: 'device.in_service', after: { inServiceAt: at(3) } })]);
      const again = await handle().reopen!();
      expect((await again.list({ limit: 10 }))).toEqual([...got].reverse());
      expect(reasons((await again.list({ limit: 10, streets: ['朝天门'] })))).toEqual(['two']);
      const three = (await again.insert(entry({ reason: 'three' })));
      expect(three.id).toBeGreaterThan(got[1]!.id);
      expect(reasons((await again.list({ limit: 10 })))).toEqual(['three', 'two', 'one']);
    });
  });
}
