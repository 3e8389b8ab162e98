/**
 * The one contract every CursorStore passes (services/log/reading-log.ts): where each consumer of
 * the reading log stands (the processors, each store forwarder), read at start and set after each
 * batch. SQLite (firewatch.db's log_cursors) and the in-memory fake (InMemoryCursorStore) today;
 * written against the interface only, for a PostgreSQL store later. Each case gets a fresh store.
 *
 * What it pins down:
 *   - an unknown name has no position (undefined, not 0: "never ran" and "at 0" differ)
 *   - a position set is the one got, per name; the last set wins; 0 and positions past 2^32 are kept
 *   - a durable store gives back after a reopen the last position set for each name
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { CursorStore } from '../../services/log/reading-log.js';

export interface ContractCursorStore {
  store: CursorStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<CursorStore> | CursorStore;
  cleanup: () => Promise<void> | void;
}

export function cursorStoreContract(name: string, make: () => Promise<ContractCursorStore> | ContractCursorStore): void {
  describe(`CursorStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<CursorStore, ContractCursorStore>(name, make);

    it('has no position for a name never set', async () => {
      expect(await store().get('processors')).toBeUndefined();
      await store().set('processors', 5);
      expect(await store().get('forwarder:influxdb-v1')).toBeUndefined();
    });

    it('gives back the position set, per name', async () => {
      const s = store();
      await s.set('processors', 120);
      await s.set('forwarder:influxdb-v1', 95);
      await s.set('forwarder:influxdb-v2', 0);
      expect(await s.get('processors')).toBe(120);
      expect(await s.get('forwarder:influxdb-v1')).toBe(95);
      expect(await s.get('forwarder:influxdb-v2')).toBe(0);
    });

    it('keeps the last position set, whichever way it moved', async () => {
      const s = store();
      await s.set('processors', 10);
      await s.set('processors', 11);
      expect(await s.get('processors')).toBe(11);
      (await s.set('processors', 3)); // a consumer reset to replay
      expect(await s.get('processors')).toBe(3);
    });

    it('keeps a position past 2^32 exactly', async () => {
      const big = 2 ** 40 + 7;
      await store().set('processors', big);
      expect(await store().get('processors')).toBe(big);
      await store().set('processors', Number.MAX_SAFE_INTEGER);
      expect(await store().get('processors')).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('when durable, gives back after a reopen the last position set for each name', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      await store().set('processors', 41);
      await store().set('processors', 42);
      await store().set('forwarder:influxdb-v1', 0);
      const again = await handle().reopen!();
      expect(await again.get('processors')).toBe(42);
      expect(await again.get('forwarder:influxdb-v1')).toBe(0);
      expect(await again.get('forwarder:influxdb-v2')).toBeUndefined();
      await again.set('processors', 43);
      expect(await again.get('processors')).toBe(43);
    });
  });
}
