/**
 * PgUplinkStore against the UplinkStore contract (tests/support/uplink-store-contract.ts), the
 * suite store-contracts.test.ts runs on SQLite. Each case gets a fresh database on the local
 * server opened as the service opens it (every migration); `reopen` closes it and opens the same database again, as after a restart.
 * Below the contract, what only PostgreSQL can show: two nodes, each with its own pool, enqueueing
 * into one outbox at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PgDatabase } from '../../services/storage/postgres/database.js';
import { PgUplinkStore } from '../../services/storage/postgres/pg-uplink-store.js';
import type { StoredUplinkItem, UplinkItem } from '../../services/uplink/model.js';
import { onPostgres, twoNodes } from '../support/pg-harness.js';
import { uplinkStoreContract } from '../support/uplink-store-contract.js';


uplinkStoreContract('postgres', () => onPostgres((db) => new PgUplinkStore(db)));

describe('PgUplinkStore: two nodes on one outbox', () => {
  const T0 = Date.UTC(2026, 10, 29, 8);
  let nodes: PgDatabase[] = [];
  let closeNodes: () => Promise<void>;
  let a: PgUplinkStore;
  let b: PgUplinkStore;

  const item = (id: string): UplinkItem => ({
    id,
    type: 'reading',
    occurredAt: new Date(T0).toISOString(),
    deviceId: 'd-1',
    buildingId: 'b-1',
    street: '解放碑',
    data: { kind: 'water_pressure', channel: 'telemetry', seq: 7, fields: { pressureMpa: 0.31 } },
  });

  beforeEach(async () => {
    ({ nodes, close: closeNodes } = await twoNodes());
    a = new PgUplinkStore(nodes[0]!);
    b = new PgUplinkStore(nodes[1]!);
    await a.lane('http');
  });

  afterEach(async () => {
    await closeNodes();
  });

  it('the same item enqueued by both at once is stored once: one of them is told it was new', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `alert.raised:al-${i}`);
    const outcomes = await Promise.all(ids.flatMap((id, i) => [a.enqueue(item(id), T0 + i, 100 + i), b.enqueue(item(id), T0 + i + 1, 100 + i)]));
    for (let i = 0; i < ids.length; i++) {
      expect([outcomes[2 * i], outcomes[2 * i + 1]].filter(Boolean), ids[i]).toHaveLength(1);
    }
    const stored = await b.next('http', 100);
    expect(stored.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(new Set(stored.map((s) => s.seq)).size).toBe(ids.length);
    expect(await a.backlog('http')).toMatchObject({ count: ids.length });
    // either node reads what the other wrote
    expect(await a.next('http', 100)).toEqual(stored);
    // a replay later is a duplicate on either node
    expect(await a.enqueue(item(ids[0]!), T0 + 99)).toBe(false);
    expect(await b.enqueue(item(ids[0]!), T0 + 99)).toBe(false);
  });

  it('a lane draining while both enqueue never moves past an item that commits later', async () => {
    const total = 200;
    const ids = Array.from({ length: total }, (_, i) => `reading:d-1:${i}`);
    const seen: StoredUplinkItem[] = [];
    let writing = true;
    const drain = async () => {
      while (writing || (await a.backlog('http')).count > 0) {
        const batch = await a.next('http', 7);
        if (batch.length === 0) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        seen.push(...batch);
        await a.delivered('http', batch.at(-1)!.seq, batch.length, T0);
      }
    };
    const write = async (store: PgUplinkStore, mine: string[]) => {
      // a few enqueues in flight per node at a time, as the service's feed and readings produce them
      await Promise.all([0, 1, 2].map(async (k) => {
        for (let i = k; i < mine.length; i += 3) await store.enqueue(item(mine[i]!), T0 + i);
      }));
    };
    const drained = drain();
    await Promise.all([write(a, ids.filter((_, i) => i % 2 === 0)), write(b, ids.filter((_, i) => i % 2 === 1))]);
    writing = false;
    await drained;
    expect(seen.map((s) => s.id).sort()).toEqual([...ids].sort());
    const seqs = seen.map((s) => s.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(await a.lane('http')).toMatchObject({ sent: total });
  });
});
