/**
 * UplinkService over PgUplinkStore on a fresh PostgreSQL database, with a real write scope
 * (services/shared/write-scope.ts over pgUnitOfWork) and a real HTTP platform (UplinkReceiver):
 *   - readings queued inside `scope.run` (as the processors' batch queues them) are staged in the
 *     scope's transaction: not visible before it commits, stored once it did, and delivered by a lane;
 *   - readings of a scope that rolls back (a later write fails, or the step throws) are never stored
 *     and never reach the platform;
 *   - without `stage` an asynchronous store is refused (the enqueue could not commit with the batch);
 *   - feed events and building changes (told after their commit) are enqueued in their own
 *     transaction and delivered; an event committed while no uplink listened (a crash between the
 *     alert's commit and the item's enqueue) is caught up from feedSeq at the next start.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Building } from '../../services/devices/model.js';
import { LiveFeed } from '../../services/live-feed/live-feed.js';
import { SystemClock } from '../../services/shared/clock.js';
import { WriteScope } from '../../services/shared/write-scope.js';
import type { PgDatabase } from '../../services/storage/postgres/database.js';
import { PgFeedLog } from '../../services/storage/postgres/pg-feed-log.js';
import { PgEventLogStore } from '../../services/storage/postgres/pg-state-stores.js';
import { pgUnitOfWork } from '../../services/storage/postgres/pg-unit-of-work.js';
import { PgUplinkStore } from '../../services/storage/postgres/pg-uplink-store.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { HttpUplinkAdapter } from '../../services/uplink/adapters/http-adapter.js';
import { UplinkService, type UplinkServiceDeps } from '../../services/uplink/uplink-service.js';
import { onPostgres } from '../support/pg-harness.js';
import { waitFor } from '../support/service.js';
import { UplinkReceiver } from '../support/uplink-receiver.js';

const T0 = Date.UTC(2026, 10, 29, 8);
const log = pino({ level: 'silent' });

function reading(deviceId: string, seq: number): Reading {
  return {
    deviceId,
    kind: 'water_pressure',
    channel: 'telemetry',
    ts: T0 + seq * 1000,
    seq,
    fields: { pressureMpa: 0.3 + seq / 1000 },
    buildingId: 'b-staged',
    street: '解放碑',
  };
}

const idOf = (r: Reading) => `reading:${r.deviceId}:telemetry:${r.seq}:${r.ts}`;

describe('UplinkService on PostgreSQL: readings staged in the write scope', () => {
  let cleanup: () => Promise<void>;
  let db: PgDatabase;
  let store: PgUplinkStore;
  let scope: WriteScope;
  let feed: LiveFeed;
  let platform: UplinkReceiver;
  let implicitErrors: unknown[];
  const services: UplinkService[] = [];

  const service = (over: Partial<UplinkServiceDeps> = {}): UplinkService => {
    const clock = new SystemClock();
    const svc = new UplinkService({
      store,
      adapters: [new HttpUplinkAdapter({ url: platform.url, timeoutMs: 5000, clock })],
      feed,
      clock,
      log,
      readings: { default: { mode: 'all' }, byKind: {} },
      deadLetterAfterS: 86_400,
      backoff: { minMs: 50, maxMs: 200 },
      stage: (w) => scope.write(w),
      ...over,
    });
    services.push(svc);
    return svc;
  };

  /** items committed in the outbox, read on a connection of its own (outside any transaction) */
  const committedKeys = async (): Promise<string[]> =>
    (await db.pool.query<{ key: string }>('SELECT key FROM uplink_items ORDER BY seq')).rows.map((r) => r.key);

  beforeEach(async () => {
    const pg = await onPostgres((d) => new PgUplinkStore(d));
    cleanup = pg.cleanup;
    db = pg.db();
    store = pg.store;
    implicitErrors = [];
    scope = new WriteScope(pgUnitOfWork(db), { onImplicitError: (err) => implicitErrors.push(err) });
    feed = new LiveFeed(new PgFeedLog(db, new PgEventLogStore(db), scope), new SystemClock(), scope);
    await feed.start();
    platform = new UplinkReceiver();
    await platform.start();
  });

  afterEach(async () => {
    await feed.close();
    for (const s of services.splice(0)) await s.close();
    await scope.settled();
    await platform.close();
    await cleanup();
  });

  it('readings queued inside scope.run commit with the scope, once, and a lane delivers them', async () => {
    const uplink = service();
    await uplink.start();
    const rs = [reading('d-1', 1), reading('d-1', 2), reading('d-2', 1)];
    let seenInsideTransaction: string[] | undefined;
    const queued = await scope.run(() => {
      const n = uplink.queueReadings(rs);
      // queued after the enqueues, run in the same transaction: from outside it nothing is there yet
      scope.write(async () => {
        seenInsideTransaction = await committedKeys();
      });
      return n;
    });
    expect(queued).toBe(3);
    expect(seenInsideTransaction).toEqual([]);
    expect(await committedKeys()).toEqual(rs.map(idOf));

    uplink.kick();
    await waitFor(() => platform.unique().length === 3, 'the three readings at the platform');
    expect(platform.unique().map((i) => i.id)).toEqual(rs.map(idOf));
    expect(platform.items()).toHaveLength(3); // each once
    await waitFor(async () => (await uplink.readStatus())[0]!.sent === 3, 'the lane counts them sent');
    expect((await uplink.readStatus())[0]).toMatchObject({ name: 'http', backlog: 0, sent: 3, retries: 0, deadLetters: 0, lastError: null });
    // status() (the metrics, synchronous) answers from what the lane last read
    await waitFor(() => uplink.status()[0]!.sent === 3, 'status() from memory');
    expect(uplink.status()[0]).toMatchObject({ backlog: 0, sent: 3 });

    // the same readings queued again (a replayed batch) are refused by the store: nothing more is sent
    expect(await scope.run(() => uplink.queueReadings(rs))).toBe(3); // counted optimistically
    expect(await committedKeys()).toEqual(rs.map(idOf));
    uplink.kick();
    await scope.settled();
    await new Promise((r) => setTimeout(r, 200));
    expect(platform.items()).toHaveLength(3);
    expect(implicitErrors).toEqual([]);
  });

  it('readings of a scope that rolls back are not stored and never reach the platform', async () => {
    const uplink = service();
    await uplink.start();
    const lost = [reading('d-1', 1), reading('d-1', 2)];
    // a write after the enqueues fails: PostgreSQL rolls the whole transaction back, enqueues included
    await expect(
      scope.run(() => {
        uplink.queueReadings(lost);
        scope.write(() => db.query('SELECT 1 / 0'));
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await committedKeys()).toEqual([]);
    uplink.resetSampling();

    // the step itself throws after queueing: its queued writes never run
    const thrown = [reading('d-1', 3)];
    await expect(
      scope.run(() => {
        uplink.queueReadings(thrown);
        throw new Error('rule engine failed');
      }),
    ).rejects.toThrow('rule engine failed');
    expect(await committedKeys()).toEqual([]);

    // the next batch commits; only it reaches the platform
    const kept = [reading('d-1', 4)];
    expect(await scope.run(() => uplink.queueReadings(kept))).toBe(1);
    uplink.kick();
    await waitFor(() => platform.unique().length === 1, 'the committed reading at the platform');
    expect(await committedKeys()).toEqual(kept.map(idOf));
    await new Promise((r) => setTimeout(r, 200));
    expect(platform.items().map((i) => i.id)).toEqual(kept.map(idOf));
    expect((await uplink.readStatus())[0]).toMatchObject({ backlog: 0, sent: 1 });
  });

  it('without stage an asynchronous store is refused: the enqueue could not commit with the batch', async () => {
    const uplink = service({ stage: undefined });
    await uplink.start();
    await expect(scope.run(() => uplink.queueReadings([reading('d-1', 1)]))).rejects.toThrow(/give the service `stage`/);
    await expect(uplink.readPending('http')).resolves.toBeDefined();
    expect(() => uplink.pending('http')).toThrow(/readPending/);
  });

  it('feed events and building changes, told after their commit, are enqueued in their own transaction and delivered', async () => {
    const uplink = service();
    await uplink.start();
    const alert = { id: 'al-1', deviceId: 'd-1', buildingId: 'b-staged', rule: 'pressure_low', history: [{ at: new Date(T0).toISOString(), action: 'raised' }] };
    const event = await scope.run(() => feed.publish('alert.raised', { street: '解放碑', buildingId: 'b-staged' }, { alert }));
    expect(event.seq).toBeGreaterThan(0);
    const at = new Date(T0).toISOString();
    const building: Building = {
      id: 'b-staged',
      name: '解放碑大厦',
      street: '解放碑',
      address: '',
      type: 'public',
      heightM: 80,
      floors: 22,
      areaM2: null,
      category: 1,
      use: 'office',
      contactName: null,
      contactPhone: null,
      createdAt: at,
      updatedAt: at,
    };
    uplink.onBuildingChange({ type: 'building.updated', building });
    await waitFor(() => platform.unique().length === 2, 'the alert and the building change at the platform');
    // two independent sources: the feed's event reaches the uplink after the feed read it back, so either may be first
    expect(platform.unique().map((i) => i.id).sort()).toEqual([`alert.raised:al-1:${event.seq}`, `building.updated:b-staged:${new Date(T0).toISOString()}`].sort());
    expect(await store.feedSeq()).toBe(event.seq);
  });

  it('an event committed while no uplink listened (a crash before its enqueue) is caught up from feedSeq at the next start', async () => {
    const first = service();
    await first.start();
    const before = await scope.run(() => feed.publish('device.offline', { street: '解放碑', buildingId: 'b-staged' }, { deviceId: 'd-1' }));
    await waitFor(() => platform.unique().length === 1, 'the first event at the platform');
    await first.close();
    expect(await store.feedSeq()).toBe(before.seq);

    // committed with nobody listening: the feed has it, the outbox does not
    const missed = await scope.run(() => feed.publish('device.online', { street: '解放碑', buildingId: 'b-staged' }, { deviceId: 'd-1' }));
    expect(await committedKeys()).toEqual([`device.offline:d-1:${before.seq}`]);

    const second = service();
    await second.start();
    expect(await store.feedSeq()).toBe(missed.seq);
    await waitFor(() => platform.unique().length === 2, 'the missed event at the platform');
    expect(platform.unique().map((i) => i.id)).toEqual([`device.offline:d-1:${before.seq}`, `device.online:d-1:${missed.seq}`]);
    // the first event was not enqueued twice by the catch-up
    expect(await committedKeys()).toEqual([`device.offline:d-1:${before.seq}`, `device.online:d-1:${missed.seq}`]);
    await new Promise((r) => setTimeout(r, 200));
    expect(platform.items()).toHaveLength(2);
  });
});
