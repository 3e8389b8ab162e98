/**
 * The processors' lease (services/storage/postgres/pg-lease.ts) on the machine's real PostgreSQL:
 * two nodes (two pools) on one fresh database. At most one holds it; the other takes it over when
 * the holder gives it up, and when the holder's connection is killed (as PostgreSQL ends the
 * session of a node that died), within about its retry interval.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PgDatabase } from '../../services/storage/postgres/database.js';
import { PgLease } from '../../services/storage/postgres/pg-lease.js';
import { twoNodes } from '../support/pg-harness.js';
import { waitFor } from '../support/service.js';

const KEY = 0x7465737473656173n; // "testseas": a key of this test's own
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function lease(db: PgDatabase, events: string[], name: string): PgLease {
  const l = new PgLease(db, KEY, {
    retryMs: 100,
    onAcquired: () => void events.push(`${name} acquired`),
    onLost: () => void events.push(`${name} lost`),
  });
  cleanups.push(() => l.close());
  return l;
}

describe('PgLease', () => {
  it('is held by one node at a time; the other takes it over when the holder closes', async () => {
    const two = await twoNodes();
    cleanups.push(() => two.close());
    const [dbA, dbB] = two.nodes as [PgDatabase, PgDatabase];
    const events: string[] = [];
    const a = lease(dbA, events, 'a');
    await a.start();
    const b = lease(dbB, events, 'b');
    await b.start();
    expect(a.held).toBe(true);
    expect(b.held).toBe(false);
    await new Promise((r) => setTimeout(r, 350)); // b tries a few times meanwhile
    expect(b.held).toBe(false);
    expect(events).toEqual(['a acquired']);

    await a.close();
    await waitFor(() => (b.held ? true : undefined), 'b taking the lease over', 5_000);
    expect(a.held).toBe(false);
    expect(events).toEqual(['a acquired', 'b acquired']);
  });

  it('passes to the other node when the holder’s session ends (a dead node), and the old holder learns it lost it', async () => {
    const two = await twoNodes();
    cleanups.push(() => two.close());
    const [dbA, dbB] = two.nodes as [PgDatabase, PgDatabase];
    const events: string[] = [];
    const a = lease(dbA, events, 'a');
    await a.start();
    const b = lease(dbB, events, 'b');
    await b.start();
    expect(a.held).toBe(true);
    // what PostgreSQL does to the session of a node that died: the lock goes with it
    const killed = await dbB.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = ($1::bigint & 4294967295)::oid",
      [KEY.toString()],
    );
    expect(killed.map((r) => r.ok)).toEqual([true]);
    const t0 = Date.now();
    await waitFor(() => (b.held ? true : undefined), 'b taking the lease over', 5_000);
    const takeoverMs = Date.now() - t0;
    expect(takeoverMs).toBeLessThan(5_000);
    await waitFor(() => (events.includes('a lost') ? true : undefined), 'a noticing it lost the lease', 5_000);
    expect(a.held).toBe(false);
    // a tries again, but b holds it now
    await new Promise((r) => setTimeout(r, 300));
    expect(a.held).toBe(false);
    expect(events.filter((e) => e.endsWith('acquired'))).toEqual(['a acquired', 'b acquired']);
  });
});
