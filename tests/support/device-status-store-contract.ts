/**
 * The one contract every DeviceStatusStore passes (services/devices/device-status.ts): where
 * DeviceStatusTracker saves each device's live status in the background and loads it all at start.
 * SQLite (firewatch.db's device_status) today; written against the interface only, for a
 * PostgreSQL store later. Each case gets a fresh, empty store.
 *
 * What it pins down:
 *   - nothing saved: loadAll is an empty map
 *   - loadAll gives back every device's status as last saved, every field (nested ones too);
 *     a status saved before the optional fields existed comes back without them
 *   - saveMany replaces a device's status whole and leaves the others; an empty batch is fine
 *   - what was saved is a snapshot: the tracker keeps changing the objects it saved, and changing
 *     what loadAll gave back changes nothing stored either
 *   - a durable store gives back after a reopen what was saved before it (online state included:
 *     it is the tracker that does not trust it)
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { DeviceStatus, DeviceStatusStore } from '../../services/devices/device-status.js';

export interface ContractDeviceStatusStore {
  store: DeviceStatusStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<DeviceStatusStore> | DeviceStatusStore;
  cleanup: () => Promise<void> | void;
}

const T0 = Date.UTC(2026, 10, 29, 8);
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

function busy(): DeviceStatus {
  return {
    online: true,
    lastSeenAt: iso(60),
    connectedAt: iso(0),
    disconnectedAt: null,
    lastReading: { ts: iso(59), fields: { residualCurrentMa: 120.5, temperaturesC: [40, 41.25, 95.5] } },
    lastRejected: { reason: 'out_of_range', detail: 'pressureMpa 3.2 超出量程 "0–1.6" \\ MPa', at: iso(30), supersededAt: iso(60) },
    firstAcceptedAt: iso(1),
    accepted: 1234,
    rejected: 3,
    rejectedByReason: { out_of_range: 2, bad_json: 1 },
    rejectedRun: 0,
    rejectedSince: null,
    rejectedFields: 4,
  };
}

function rejecting(): DeviceStatus {
  return {
    online: false,
    lastSeenAt: null,
    connectedAt: iso(0),
    disconnectedAt: iso(10),
    lastReading: null,
    lastRejected: { reason: 'unknown_kind', detail: 'kind "smoke"', at: iso(9) },
    firstAcceptedAt: null,
    accepted: 0,
    rejected: 7,
    rejectedByReason: { unknown_kind: 7 },
    rejectedRun: 7,
    rejectedSince: iso(3),
  };
}

/** as saved before issue #16 item 4 and #17 item 6: none of the optional fields */
function legacy(): DeviceStatus {
  return { online: false, lastSeenAt: iso(5), connectedAt: null, disconnectedAt: null, lastReading: { ts: iso(5), fields: { occupied: true } }, lastRejected: null, accepted: 9, rejected: 0, rejectedByReason: {} };
}

const sorted = (m: Map<string, DeviceStatus>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export function deviceStatusStoreContract(name: string, make: () => Promise<ContractDeviceStatusStore> | ContractDeviceStatusStore): void {
  describe(`DeviceStatusStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<DeviceStatusStore, ContractDeviceStatusStore>(name, make);

    it('loads an empty map when nothing was saved', async () => {
      const all = (await store().loadAll());
      expect(all).toBeInstanceOf(Map);
      expect(all.size).toBe(0);
    });

    it("gives back every device's status as saved, every field", async () => {
      (await store().saveMany([
        ['d-busy', busy()],
        ['d-rejecting', rejecting()],
      ]));
      await store().saveMany([['d-legacy', legacy()]]);
      expect(sorted(await store().loadAll())).toEqual([
        ['d-busy', busy()],
        ['d-legacy', legacy()],
        ['d-rejecting', rejecting()],
      ]);
    });

    it("replaces a device's status whole, and leaves the others", async () => {
      (await store().saveMany([
        ['d-1', busy()],
        ['d-2', rejecting()],
      ]));
      const next = legacy();
      await store().saveMany([['d-1', next]]);
      await store().saveMany([]);
      const all = (await store().loadAll());
      expect(all.get('d-1')).toEqual(legacy()); // nothing left of busy(): no rejectedFields, no firstAcceptedAt
      expect(all.get('d-2')).toEqual(rejecting());
      expect(all.size).toBe(2);
    });

    it('saves many devices in one batch', async () => {
      const entries: Array<[string, DeviceStatus]> = Array.from({ length: 300 }, (_, i) => [`d-${String(i).padStart(3, '0')}`, { ...busy(), accepted: i }]);
      await store().saveMany(entries);
      const all = (await store().loadAll());
      expect(all.size).toBe(300);
      expect(all.get('d-000')?.accepted).toBe(0);
      expect(all.get('d-299')?.accepted).toBe(299);
      expect(sorted(all)).toEqual(entries);
    });

    it('keeps a snapshot: changing a saved object, or a loaded one, changes nothing stored', async () => {
      const live = busy();
      await store().saveMany([['d-1', live]]);
      // the tracker goes on counting in the object it saved
      live.accepted += 10;
      live.online = false;
      live.lastReading!.fields.residualCurrentMa = 999;
      live.rejectedByReason.out_of_range = 50;
      const loaded = (await store().loadAll());
      expect(loaded.get('d-1')).toEqual(busy());
      // and changes the objects it loaded (online = false at start)
      loaded.get('d-1')!.online = false;
      loaded.get('d-1')!.lastRejected!.detail = 'changed';
      loaded.delete('d-1');
      expect((await store().loadAll()).get('d-1')).toEqual(busy());
    });

    it('when durable, gives back after a reopen what was saved before it', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      (await store().saveMany([
        ['d-1', rejecting()],
        ['d-2', busy()],
      ]));
      await store().saveMany([['d-1', busy()]]);
      const again = await handle().reopen!();
      expect(sorted(await again.loadAll())).toEqual([
        ['d-1', busy()],
        ['d-2', busy()],
      ]);
      await again.saveMany([['d-3', legacy()]]);
      expect((await again.loadAll()).size).toBe(3);
    });
  });
}
