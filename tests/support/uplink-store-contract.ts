/**
 * The one contract every UplinkStore passes (services/uplink/model.ts): the platform uplink's
 * outbox, one lane (cursor and counters) per adapter, and the dead letters, as UplinkService drives
 * them. SQLite (firewatch.db's uplink_* tables) today; written against the interface only, for a
 * PostgreSQL store later. Each case gets a fresh, empty store.
 *
 * What it pins down:
 *   - enqueue keeps an item once per id (a re-sent reading, a replayed feed event): true when new,
 *     false after, and the first copy stays; items come out in enqueue order with increasing seqs,
 *     as enqueued, with their createdAt
 *   - feedSeq: undefined before the first; set by setFeedSeq and by an enqueue that carries one,
 *     a duplicate too (a replay after a crash must still move past the event)
 *   - a lane created when items are waiting starts at the newest (no replay of history) and is
 *     not moved by asking again; each adapter's cursor and counters are its own
 *   - next: the items after the lane's cursor, oldest first, at most `limit`; delivered moves the
 *     cursor (never back), counts `sent`, stamps lastSuccessAt and clears lastError; failed counts a
 *     retry and keeps lastError, the batch stays
 *   - backlog: how many wait after the cursor and the createdAt of the oldest (0 / null when none)
 *   - deadLetter moves the cursor past the items, counts them, keeps the reason as lastError, and
 *     lists each (its item without seq and createdAt, deadAt as ISO 8601); nothing for no items;
 *     deadLetters per adapter or all, oldest first, after an id, at most `limit`
 *   - expired: the head of the lane that entered before the cutoff, stopping at the first younger
 *     item, at most `limit`
 *   - prune drops what every listed adapter is past, keeps what one still needs, says how many;
 *     seqs are never handed out twice, pruned or not
 *   - a durable store gives back after a reopen its items, lanes, counters, feedSeq and dead letters
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { StoredUplinkItem, UplinkItem, UplinkStore } from '../../services/uplink/model.js';

export interface ContractUplinkStore {
  store: UplinkStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<UplinkStore> | UplinkStore;
  cleanup: () => Promise<void> | void;
}

const T0 = Date.UTC(2026, 10, 29, 8);
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function item(id: string, over: Partial<UplinkItem> = {}): UplinkItem {
  return {
    id,
    type: 'reading',
    occurredAt: iso(0),
    deviceId: 'd-1',
    buildingId: 'b-1',
    street: '解放碑',
    data: { kind: 'water_pressure', channel: 'telemetry', seq: 7, fields: { pressureMpa: 0.31 } },
    ...over,
  };
}

const itemIds = (rows: ReadonlyArray<StoredUplinkItem>) => rows.map((r) => r.id);
const plain = ({ seq: _s, createdAt: _c, ...rest }: StoredUplinkItem): UplinkItem => rest;

export function uplinkStoreContract(name: string, make: () => Promise<ContractUplinkStore> | ContractUplinkStore): void {
  describe(`UplinkStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<UplinkStore, ContractUplinkStore>(name, make);

    /** enqueue ids at createdAt T0 + i s; returns the ids */
    const enqueue = async (...ids: string[]) => {
      for (const [i, id] of ids.entries()) await store().enqueue(item(id), T0 + i * 1000);
      return ids;
    };

    it('is empty to begin with: no feedSeq, a new lane with zero counters and nothing waiting', async () => {
      const s = store();
      expect(await s.feedSeq()).toBeUndefined();
      expect(await s.lane('http')).toEqual({ adapter: 'http', cursor: expect.any(Number), retries: 0, sent: 0, deadLetters: 0, lastError: null, lastSuccessAt: null });
      expect(await s.next('http', 100)).toEqual([]);
      expect(await s.backlog('http')).toEqual({ count: 0, oldestCreatedAt: null });
      expect(await s.expired('http', T0 + 1e9, 100)).toEqual([]);
      expect(await s.deadLetters(undefined, 0, 100)).toEqual([]);
      expect(await s.prune(['http'])).toBe(0);
    });

    it('keeps an item once per id: true when new, false after, the first copy stays', async () => {
      const s = store();
      await s.lane('http');
      const first = item('reading:d-1:7', { data: { v: 1 } });
      expect(await s.enqueue(first, T0)).toBe(true);
      expect(await s.enqueue(item('reading:d-1:7', { data: { v: 2 }, type: 'alert.raised' }), T0 + 5000)).toBe(false);
      expect(await s.enqueue(item('reading:d-1:8'), T0 + 6000)).toBe(true);
      const waiting = (await s.next('http', 100));
      expect(itemIds(waiting)).toEqual(['reading:d-1:7', 'reading:d-1:8']);
      expect(plain(waiting[0]!)).toEqual(first);
      expect(waiting[0]!.createdAt).toBe(T0);
    });

    it('gives items back in enqueue order, as enqueued, with increasing seqs and their createdAt', async () => {
      const s = store();
      await s.lane('http');
      const items = [
        item('alert.raised:al-1', { type: 'alert.raised', occurredAt: iso(1), data: { alert: { id: 'al-1', message: { zh: '水压过低 "低"', en: 'low \\ pressure' } } } }),
        item('building.updated:b-1:x', { type: 'building.updated', deviceId: null, occurredAt: iso(2), data: { building: { id: 'b-1', heightM: null, tags: [1, 'a'] } } }),
        item('device.offline:d-2', { type: 'device.offline', deviceId: 'd-2', buildingId: null, street: null, occurredAt: iso(3), data: {} }),
      ];
      for (const [i, it] of items.entries()) expect(await s.enqueue(it, T0 + 1000 * (10 - i))).toBe(true);
      const got = (await s.next('http', 100));
      expect(got.map(plain)).toEqual(items);
      expect(got.map((g) => g.createdAt)).toEqual([T0 + 10_000, T0 + 9000, T0 + 8000]);
      expect(got[1]!.seq).toBeGreaterThan(got[0]!.seq);
      expect(got[2]!.seq).toBeGreaterThan(got[1]!.seq);
      expect(itemIds(await s.next('http', 2))).toEqual(itemIds(got).slice(0, 2));
    });

    it('feedSeq: set by setFeedSeq and by an enqueue that carries one, a duplicate included', async () => {
      const s = store();
      await s.setFeedSeq(10);
      expect(await s.feedSeq()).toBe(10);
      await s.enqueue(item('alert.raised:al-1'), T0, 11);
      expect(await s.feedSeq()).toBe(11);
      (await s.enqueue(item('reading:x'), T0)); // no feedSeq: left as it was
      expect(await s.feedSeq()).toBe(11);
      expect(await s.enqueue(item('alert.raised:al-1'), T0, 12)).toBe(false);
      expect(await s.feedSeq()).toBe(12);
      await s.setFeedSeq(0);
      expect(await s.feedSeq()).toBe(0);
    });

    it('a lane created when items wait starts at the newest, and asking again does not move it', async () => {
      const s = store();
      await s.lane('http');
      await enqueue('i-1', 'i-2', 'i-3');
      const newest = (await s.next('http', 100))[2]!.seq;
      const late = (await s.lane('mqtt'));
      expect(late.cursor).toBe(newest);
      expect(await s.next('mqtt', 100)).toEqual([]);
      expect(await s.backlog('mqtt')).toEqual({ count: 0, oldestCreatedAt: null });
      await s.enqueue(item('i-4'), T0 + 9000);
      expect((await s.lane('mqtt')).cursor).toBe(newest);
      expect(itemIds(await s.next('mqtt', 100))).toEqual(['i-4']);
      // the first lane still has everything
      expect(itemIds(await s.next('http', 100))).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
    });

    it('delivered moves the cursor (never back), counts sent, stamps lastSuccessAt and clears lastError', async () => {
      const s = store();
      await s.lane('http');
      await enqueue('i-1', 'i-2', 'i-3', 'i-4', 'i-5');
      await s.failed('http', 'ECONNREFUSED 10.0.0.1:443');
      const batch = (await s.next('http', 2));
      expect(itemIds(batch)).toEqual(['i-1', 'i-2']);
      await s.delivered('http', batch[1]!.seq, batch.length, T0 + 60_000);
      expect(await s.lane('http')).toEqual({ adapter: 'http', cursor: batch[1]!.seq, retries: 1, sent: 2, deadLetters: 0, lastError: null, lastSuccessAt: T0 + 60_000 });
      expect(itemIds(await s.next('http', 100))).toEqual(['i-3', 'i-4', 'i-5']);
      const rest = (await s.next('http', 100));
      await s.delivered('http', rest[2]!.seq, 3, T0 + 61_000);
      expect(await s.next('http', 100)).toEqual([]);
      // a late answer for an older batch does not move it back (sent still counts it)
      await s.delivered('http', batch[0]!.seq, 1, T0 + 62_000);
      expect(await s.lane('http')).toMatchObject({ cursor: rest[2]!.seq, sent: 6, lastSuccessAt: T0 + 62_000 });
      expect(await s.next('http', 100)).toEqual([]);
    });

    it('failed counts a retry and keeps the error; the batch stays', async () => {
      const s = store();
      await s.lane('http');
      await enqueue('i-1', 'i-2');
      await s.failed('http', 'HTTP 503 Service Unavailable');
      await s.failed('http', 'timeout after 10000 ms');
      expect(await s.lane('http')).toMatchObject({ retries: 2, sent: 0, lastError: 'timeout after 10000 ms', lastSuccessAt: null });
      expect(itemIds(await s.next('http', 100))).toEqual(['i-1', 'i-2']);
    });

    it("each adapter's cursor and counters are its own", async () => {
      const s = store();
      await s.lane('http');
      await s.lane('mqtt');
      await enqueue('i-1', 'i-2', 'i-3');
      const all = (await s.next('http', 100));
      await s.delivered('http', all[2]!.seq, 3, T0 + 1000);
      await s.failed('mqtt', 'broker down');
      expect(await s.next('http', 100)).toEqual([]);
      expect(itemIds(await s.next('mqtt', 100))).toEqual(['i-1', 'i-2', 'i-3']);
      expect(await s.lane('http')).toMatchObject({ sent: 3, retries: 0, lastError: null });
      expect(await s.lane('mqtt')).toMatchObject({ sent: 0, retries: 1, lastError: 'broker down', lastSuccessAt: null });
      expect(await s.backlog('http')).toEqual({ count: 0, oldestCreatedAt: null });
      expect(await s.backlog('mqtt')).toEqual({ count: 3, oldestCreatedAt: T0 });
    });

    it('backlog: how many wait after the cursor, and when the oldest of them entered', async () => {
      const s = store();
      await s.lane('http');
      await enqueue('i-1', 'i-2', 'i-3');
      expect(await s.backlog('http')).toEqual({ count: 3, oldestCreatedAt: T0 });
      const [first] = (await s.next('http', 1));
      await s.delivered('http', first!.seq, 1, T0 + 5000);
      expect(await s.backlog('http')).toEqual({ count: 2, oldestCreatedAt: T0 + 1000 });
    });

    it('deadLetter moves the cursor past the items, counts them, and lists each with its reason', async () => {
      const s = store();
      await s.lane('http');
      await s.lane('gb26875');
      await enqueue('i-1', 'i-2', 'i-3');
      const head = (await s.next('http', 2));
      await s.deadLetter('http', head, 'HTTP 422: unknown building b-1', T0 + 90_000);
      expect(await s.lane('http')).toMatchObject({ cursor: head[1]!.seq, deadLetters: 2, sent: 0, lastError: 'HTTP 422: unknown building b-1' });
      expect(itemIds(await s.next('http', 100))).toEqual(['i-3']);
      expect(await s.backlog('http')).toEqual({ count: 1, oldestCreatedAt: T0 + 2000 });
      const dead = (await s.deadLetters('http', 0, 100));
      expect(dead).toEqual([
        { id: expect.any(Number), adapter: 'http', reason: 'HTTP 422: unknown building b-1', deadAt: iso(90_000), item: plain(head[0]!) },
        { id: expect.any(Number), adapter: 'http', reason: 'HTTP 422: unknown building b-1', deadAt: iso(90_000), item: plain(head[1]!) },
      ]);
      expect(dead[1]!.id).toBeGreaterThan(dead[0]!.id);
      // the other lane is untouched
      expect(itemIds(await s.next('gb26875', 100))).toEqual(['i-1', 'i-2', 'i-3']);
      expect(await s.deadLetters('gb26875', 0, 100)).toEqual([]);
      // no items: nothing happens
      await s.deadLetter('gb26875', [], 'nothing', T0);
      expect(await s.lane('gb26875')).toMatchObject({ deadLetters: 0, lastError: null });
      expect(await s.deadLetters(undefined, 0, 100)).toHaveLength(2);
    });

    it('deadLetters: per adapter or all, oldest first, after an id, at most limit', async () => {
      const s = store();
      await s.lane('a');
      await s.lane('b');
      await enqueue('i-1', 'i-2', 'i-3');
      const items = (await s.next('a', 100));
      await s.deadLetter('a', items.slice(0, 1), 'r1', T0 + 1);
      await s.deadLetter('b', items.slice(0, 2), 'r2', T0 + 2);
      await s.deadLetter('a', items.slice(1, 3), 'r3', T0 + 3);
      const all = (await s.deadLetters(undefined, 0, 100));
      expect(all.map((d) => [d.adapter, d.reason, d.item.id])).toEqual([
        ['a', 'r1', 'i-1'],
        ['b', 'r2', 'i-1'],
        ['b', 'r2', 'i-2'],
        ['a', 'r3', 'i-2'],
        ['a', 'r3', 'i-3'],
      ]);
      expect(all.map((d) => d.id)).toEqual([...all.map((d) => d.id)].sort((x, y) => x - y));
      expect((await s.deadLetters('a', 0, 100)).map((d) => d.item.id)).toEqual(['i-1', 'i-2', 'i-3']);
      expect((await s.deadLetters('b', 0, 1)).map((d) => d.item.id)).toEqual(['i-1']);
      expect(await s.deadLetters(undefined, all[2]!.id, 100)).toEqual(all.slice(3));
      expect(await s.deadLetters('a', all[1]!.id, 1)).toEqual([all[3]]);
      expect(await s.deadLetters('c', 0, 100)).toEqual([]);
    });

    it('expired: the head of the lane older than the cutoff, stopping at the first younger item, at most limit', async () => {
      const s = store();
      await s.lane('http');
      // createdAt: 0 s, 1 s, 5 s, then a clock jump back: 2 s
      await s.enqueue(item('i-1'), T0);
      await s.enqueue(item('i-2'), T0 + 1000);
      await s.enqueue(item('i-3'), T0 + 5000);
      await s.enqueue(item('i-4'), T0 + 2000);
      expect(itemIds(await s.expired('http', T0 + 3000, 100))).toEqual(['i-1', 'i-2']);
      expect(itemIds(await s.expired('http', T0 + 1000, 100))).toEqual(['i-1']);
      expect(await s.expired('http', T0, 100)).toEqual([]);
      expect(itemIds(await s.expired('http', T0 + 10_000, 100))).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
      expect(itemIds(await s.expired('http', T0 + 10_000, 3))).toEqual(['i-1', 'i-2', 'i-3']);
      expect((await s.expired('http', T0 + 3000, 100)).map(plain)).toEqual([item('i-1'), item('i-2')]);
      // after the cursor only
      const [first] = (await s.next('http', 1));
      await s.delivered('http', first!.seq, 1, T0 + 3000);
      expect(itemIds(await s.expired('http', T0 + 3000, 100))).toEqual(['i-2']);
    });

    it('prune drops what every listed adapter is past, keeps what one still needs, and never reuses a seq', async () => {
      const s = store();
      await s.lane('fast');
      await s.lane('slow');
      await enqueue('i-1', 'i-2', 'i-3', 'i-4');
      const all = (await s.next('fast', 100));
      const maxSeq = all[3]!.seq;
      await s.delivered('fast', maxSeq, 4, T0 + 1000);
      await s.delivered('slow', all[1]!.seq, 2, T0 + 1000);
      expect(await s.prune([])).toBe(0);
      expect(await s.prune(['fast', 'slow'])).toBe(2);
      expect(itemIds(await s.next('slow', 100))).toEqual(['i-3', 'i-4']);
      expect(await s.prune(['fast', 'slow'])).toBe(0);
      // an adapter left out of the list does not hold items back
      expect(await s.prune(['fast'])).toBe(2);
      expect(await s.next('slow', 100)).toEqual([]);
      expect(await s.next('fast', 100)).toEqual([]);
      // a seq is never handed out twice, even once the items that had it are gone
      await s.enqueue(item('i-5'), T0 + 2000);
      const [five] = (await s.next('fast', 100));
      expect(five?.id).toBe('i-5');
      expect(five!.seq).toBeGreaterThan(maxSeq);
      expect(itemIds(await s.next('slow', 100))).toEqual(['i-5']);
    });

    it('when durable, gives back after a reopen its items, lanes, counters, feedSeq and dead letters', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const s = store();
      await s.lane('http');
      await s.lane('mqtt');
      await enqueue('i-1', 'i-2', 'i-3');
      await s.enqueue(item('i-4'), T0 + 4000, 42);
      const all = (await s.next('http', 100));
      await s.delivered('http', all[1]!.seq, 2, T0 + 10_000);
      await s.failed('http', 'HTTP 502');
      await s.deadLetter('mqtt', all.slice(0, 1), 'refused', T0 + 20_000);
      const dead = (await s.deadLetters(undefined, 0, 100));
      const lanes = { http: (await s.lane('http')), mqtt: (await s.lane('mqtt')) };
      const again = await handle().reopen!();
      expect(await again.feedSeq()).toBe(42);
      expect(await again.lane('http')).toEqual(lanes.http);
      expect(await again.lane('mqtt')).toEqual(lanes.mqtt);
      expect(await again.next('http', 100)).toEqual(all.slice(2));
      expect(await again.next('mqtt', 100)).toEqual(all.slice(1));
      expect(await again.deadLetters(undefined, 0, 100)).toEqual(dead);
      expect(await again.enqueue(item('i-3'), T0 + 30_000)).toBe(false);
      expect(await again.enqueue(item('i-5'), T0 + 30_000)).toBe(true);
      const five = (await again.next('http', 100)).at(-1)!;
      expect(five.id).toBe('i-5');
      expect(five.seq).toBeGreaterThan(all[3]!.seq);
    });
  });
}
