/**
 * The one contract every EventLogStore passes (services/live-feed/model.ts): the live feed's
 * durable event log, which consoles replay from after a reconnect (GET /api/v1/live?since=) and
 * the uplink catches up from after a restart. SQLite (firewatch.db's feed_events) today; written
 * against the interface only, for a PostgreSQL store later. Each case gets a fresh, empty store.
 *
 * What it pins down:
 *   - an empty log: lastSeq 0 and nothing since 0
 *   - append assigns a seq above 0 and above every earlier one, and the event comes back from
 *     `since` as appended (type, at, street, building, data of any JSON shape)
 *   - since: seq > afterSeq, oldest first, at most `limit`; paging by the last seq read visits
 *     every event once; nothing after lastSeq
 *   - prune drops the events older than `before` (an event at `before` stays) and says how many;
 *     numbers never go back: lastSeq stays, and the next append is above every seq handed out
 *   - a durable log gives back after a reopen what it held, and numbers on after it, even when
 *     everything was pruned before the restart
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { EventLogStore, FeedEvent } from '../../services/live-feed/model.js';

export interface ContractEventLogStore {
  store: EventLogStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<EventLogStore> | EventLogStore;
  cleanup: () => Promise<void> | void;
}

type NewEvent = Omit<FeedEvent, 'seq'>;

const T0 = Date.UTC(2026, 10, 29, 8);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function event(minutes: number, over: Partial<NewEvent> = {}): NewEvent {
  return {
    type: 'alert.raised',
    at: iso(minutes),
    street: '解放碑',
    buildingId: 'b-1',
    data: { alert: { id: `al-${minutes}`, rule: 'pressure_low', value: 0.08 }, historyTotal: 1 },
    ...over,
  };
}

const seqs = (events: FeedEvent[]) => events.map((e) => e.seq);

export function eventLogStoreContract(name: string, make: () => Promise<ContractEventLogStore> | ContractEventLogStore): void {
  describe(`EventLogStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<EventLogStore, ContractEventLogStore>(name, make);

    it('is empty to begin with: lastSeq 0, nothing since 0', async () => {
      expect(await store().lastSeq()).toBe(0);
      expect(await store().since(0, 100)).toEqual([]);
      expect(await store().prune(T0 + 1e9)).toBe(0);
    });

    it('assigns increasing seqs above 0 and gives every event back as appended', async () => {
      const written = [
        event(0),
        event(1, { type: 'device.offline', street: null, buildingId: null, data: {} }),
        event(1, { type: 'alert.closed', data: { alert: { id: 'al-0', note: '现场确认 "ok" \\ 已处置', history: [{ at: iso(1), by: null }] }, n: [1, 2.5, -3], flag: false } }),
        event(2, { type: 'device.online', street: '朝天门', buildingId: 'b-2', data: { deviceId: 'd-9' } }),
      ];
      const appended: FeedEvent[] = [];
      for (const e of written) appended.push(await store().append(e));
      expect(appended).toEqual(written.map((e, i) => ({ seq: appended[i]!.seq, ...e })));
      expect(appended[0]!.seq).toBeGreaterThan(0);
      for (let i = 1; i < appended.length; i++) expect(appended[i]!.seq).toBeGreaterThan(appended[i - 1]!.seq);
      expect(await store().lastSeq()).toBe(appended[3]!.seq);
      expect(await store().since(0, 100)).toEqual(appended);
    });

    it('since: after the seq given, oldest first, at most limit; paging visits every event once', async () => {
      const appended: FeedEvent[] = [];
      for (let i = 0; i < 7; i++) appended.push(await store().append(event(i)));
      const all = seqs(appended);
      expect(seqs(await store().since(all[2]!, 100))).toEqual(all.slice(3));
      expect(seqs(await store().since(all[2]!, 2))).toEqual(all.slice(3, 5));
      expect(seqs(await store().since(0, 1))).toEqual(all.slice(0, 1));
      expect(await store().since(all[6]!, 100)).toEqual([]);
      expect(await store().since(await store().lastSeq(), 100)).toEqual([]);
      const seen: number[] = [];
      for (let after = 0, pages = 0; pages < 10; pages++) {
        const page = (await store().since(after, 3));
        if (page.length === 0) break;
        seen.push(...seqs(page));
        after = page[page.length - 1]!.seq;
      }
      expect(seen).toEqual(all);
    });

    it('prune drops events older than `before`, says how many, and keeps the one at `before`', async () => {
      const appended: FeedEvent[] = [];
      for (const m of [0, 1, 2, 3, 4]) appended.push(await store().append(event(m)));
      expect(await store().prune(T0 + 2 * 60_000)).toBe(2);
      expect(seqs(await store().since(0, 100))).toEqual(seqs(appended.slice(2)));
      expect(await store().prune(T0 + 2 * 60_000)).toBe(0);
      expect(await store().prune(T0 + 2 * 60_000 + 1)).toBe(1);
      expect((await store().since(0, 100)).map((e) => e.at)).toEqual([iso(3), iso(4)]);
      expect(await store().lastSeq()).toBe(appended[4]!.seq);
    });

    it('numbers never go back: after pruning everything lastSeq stays and the next seq is above all before', async () => {
      const appended: FeedEvent[] = [];
      for (const m of [0, 1, 2]) appended.push(await store().append(event(m)));
      const last = appended[2]!.seq;
      expect(await store().prune(T0 + 60 * 60_000)).toBe(3);
      expect(await store().since(0, 100)).toEqual([]);
      expect(await store().lastSeq()).toBe(last);
      const next = (await store().append(event(70)));
      expect(next.seq).toBeGreaterThan(last);
      expect(await store().lastSeq()).toBe(next.seq);
      expect(await store().since(last, 100)).toEqual([next]);
    });

    it('when durable, gives back after a reopen what it held, and numbers on after it', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const appended: FeedEvent[] = [];
      for (const m of [0, 1, 2]) appended.push(await store().append(event(m)));
      let again = await handle().reopen!();
      expect(await again.since(0, 100)).toEqual(appended);
      expect(await again.lastSeq()).toBe(appended[2]!.seq);
      const fourth = (await again.append(event(3)));
      expect(fourth.seq).toBeGreaterThan(appended[2]!.seq);
      // everything pruned before a restart: the numbers still go on
      expect(await again.prune(T0 + 60 * 60_000)).toBe(4);
      again = await handle().reopen!();
      expect(await again.lastSeq()).toBe(fourth.seq);
      expect((await again.append(event(80))).seq).toBeGreaterThan(fourth.seq);
    });
  });
}
