/**
 * The PostgreSQL state stores (services/storage/postgres/pg-state-stores.ts) against their
 * contracts (tests/support/<name>-contract.ts), the suites store-contracts.test.ts runs on SQLite.
 * Each case gets a fresh database on the local server opened as the service opens it, with the
 * state tables with every other migration; `reopen` closes it and opens the same
 * database again, as after a restart. Below the contracts, what only PostgreSQL can show: two
 * nodes, each with its own pool, appending to one feed at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../services/live-feed/model.js';
import type { PgDatabase } from '../../services/storage/postgres/database.js';
import { APPEND_LOCK_KEY, PgCursorStore, PgDeviceStatusStore, PgEventLogStore, PgTestWindowStore } from '../../services/storage/postgres/pg-state-stores.js';
import { cursorStoreContract } from '../support/cursor-store-contract.js';
import { deviceStatusStoreContract } from '../support/device-status-store-contract.js';
import { eventLogStoreContract } from '../support/event-log-store-contract.js';
import { onPostgres, twoNodes } from '../support/pg-harness.js';
import { testWindowStoreContract } from '../support/test-window-store-contract.js';


eventLogStoreContract('postgres', () => onPostgres((db) => new PgEventLogStore(db)));
cursorStoreContract('postgres', () => onPostgres((db) => new PgCursorStore(db)));
deviceStatusStoreContract('postgres', () => onPostgres((db) => new PgDeviceStatusStore(db)));
testWindowStoreContract('postgres', () => onPostgres((db) => new PgTestWindowStore(db)));

describe('PgEventLogStore: two nodes appending to one feed', () => {
  const T0 = Date.UTC(2026, 10, 29, 8);
  const PER_NODE = 40;
  let nodes: PgDatabase[] = [];
  let closeNodes: () => Promise<void>;
  let a: PgEventLogStore;
  let b: PgEventLogStore;

  const event = (node: string, i: number): Omit<FeedEvent, 'seq'> => ({
    type: 'alert.raised',
    at: new Date(T0 + i * 1000).toISOString(),
    street: '解放碑',
    buildingId: 'b-1',
    data: { node, i },
  });

  /** Appends one after another, as one node's feed publishes: the seqs it was given, in order. */
  async function appendAll(store: PgEventLogStore, node: string): Promise<FeedEvent[]> {
    const out: FeedEvent[] = [];
    for (let i = 0; i < PER_NODE; i++) out.push(await store.append(event(node, i)));
    return out;
  }

  beforeEach(async () => {
    ({ nodes, close: closeNodes } = await twoNodes());
    a = new PgEventLogStore(nodes[0]!);
    b = new PgEventLogStore(nodes[1]!);
  });

  afterEach(async () => {
    await closeNodes();
  });

  it('gives distinct, increasing seqs, and `since` on either node gives all of them in seq order', async () => {
    const [fromA, fromB] = await Promise.all([appendAll(a, 'a'), appendAll(b, 'b')]);
    for (const mine of [fromA, fromB]) {
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.seq).toBeGreaterThan(mine[i - 1]!.seq);
    }
    const all = [...fromA, ...fromB].sort((x, y) => x.seq - y.seq);
    expect(new Set(all.map((e) => e.seq)).size).toBe(2 * PER_NODE);
    expect(all[0]!.seq).toBeGreaterThan(0);
    for (const store of [a, b]) {
      expect(await store.since(0, 1000)).toEqual(all);
      expect(await store.lastSeq()).toBe(all[all.length - 1]!.seq);
    }
  });

  it('a reader paging by the last seq it read while both nodes append misses none of them', async () => {
    let appending = true;
    const read: FeedEvent[] = [];
    const reader = (async () => {
      for (let after = 0; ; ) {
        const done = !appending; // read once more after the appends finished
        const page = await b.since(after, 7);
        read.push(...page);
        if (page.length > 0) after = page[page.length - 1]!.seq;
        else if (done) return;
      }
    })();
    const [fromA, fromB] = await Promise.all([appendAll(a, 'a'), appendAll(b, 'b')]).finally(() => (appending = false));
    await reader;
    expect(read).toEqual([...fromA, ...fromB].sort((x, y) => x.seq - y.seq));
  });

  it('an append in flight holds back the next one, and lastSeq never names it before it commits', async () => {
    const first = await a.append(event('a', 0));
    // an append on a connection of its own (as a third node's), stopped between its insert and its commit
    const inFlight = await nodes[0]!.pool.connect();
    try {
      await inFlight.query('BEGIN');
      await inFlight.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY.toString()]);
      const held = await inFlight.query<{ seq: string }>(
        "INSERT INTO feed_events (type, at, street, building_id, data) VALUES ('device.online', $1, NULL, NULL, '{}') RETURNING seq",
        [new Date(T0).toISOString()],
      );
      const heldSeq = Number(held.rows[0]!.seq);
      let next: FeedEvent | undefined;
      const waiting = b.append(event('b', 1)).then((e) => (next = e));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(next).toBeUndefined();
      expect(await a.lastSeq()).toBe(first.seq);
      expect(await b.since(first.seq, 100)).toEqual([]);
      await inFlight.query('COMMIT');
      await waiting;
      expect(next!.seq).toBeGreaterThan(heldSeq);
      expect((await a.since(first.seq, 100)).map((e) => e.seq)).toEqual([heldSeq, next!.seq]);
      expect(await b.lastSeq()).toBe(next!.seq);
    } finally {
      // after a failed expectation: let the held append go, so nothing waits on its lock
      await inFlight.query('ROLLBACK').catch(() => undefined);
      inFlight.release();
    }
  });
});
