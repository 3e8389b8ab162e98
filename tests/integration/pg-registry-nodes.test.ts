/**
 * Two nodes' registries on one PostgreSQL database (issue #10: "two nodes on one database agree").
 * Each node keeps every device and building in memory (DeviceRegistry) for the accept path; the
 * PostgreSQL store NOTIFYs each committed change and the other node reads the record again
 * (services/storage/postgres/pg-notify.ts). What node A writes, node B's cache follows; a device's
 * credentials work on either node; a device deleted or given new credentials on A is let go of on
 * B as well (its session there is disconnected); after B's listening connection breaks, B reloads
 * and sees what changed meanwhile.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Building, BuildingInput, DeviceInput } from '../../services/devices/model.js';
import { DeviceRegistry } from '../../services/devices/registry.js';
import type { PgDatabase } from '../../services/storage/postgres/database.js';
import { PgRegistryStore } from '../../services/storage/postgres/pg-registry-store.js';
import { pgUnitOfWork } from '../../services/storage/postgres/pg-unit-of-work.js';
import { twoNodes } from '../support/pg-harness.js';

const BUILDING: BuildingInput = {
  id: 'b-jfb-1', name: '解放碑测试大厦', street: '解放碑', address: '民族路 1 号', type: 'public', heightM: 120, floors: 30,
  areaM2: 50_000, category: 1, use: 'complex', contactName: null, contactPhone: null,
};
const DEVICE: DeviceInput = { id: 'wp-top-1', buildingId: 'b-jfb-1', kind: 'water_pressure', point: 'hydrant_top', location: '屋顶', reportIntervalS: 60, vendor: null, model: null };

/** polls until `check` holds (the other node hears of a commit within milliseconds) */
async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PostgreSQL: two nodes keep one registry', () => {
  let nodes: PgDatabase[];
  let close: () => Promise<void>;
  let a: DeviceRegistry;
  let b: DeviceRegistry;
  let eventsOnB: string[];

  const open = (db: PgDatabase) => DeviceRegistry.open({ store: new PgRegistryStore(db), runUnitOfWork: pgUnitOfWork(db) });

  beforeEach(async () => {
    ({ nodes, close } = await twoNodes());
    a = await open(nodes[0]!);
    b = await open(nodes[1]!);
    eventsOnB = [];
    b.onChange((e) => eventsOnB.push(`${e.type} ${e.deviceId}`));
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
    await close();
  });

  it("what A creates and changes, B's cache follows; the credentials work on either node", async () => {
    await a.createBuilding(BUILDING);
    const { credentials } = await a.createDevice(DEVICE);
    await eventually(() => b.context(DEVICE.id!)?.building?.id === BUILDING.id, 'B knows the device and its building');
    expect(b.getDevice(DEVICE.id!)).toEqual(a.getDevice(DEVICE.id!));
    expect(await b.checkDevice(credentials.username, credentials.password)).toBe('ok');
    expect(await a.checkDevice(credentials.username, credentials.password)).toBe('ok');
    expect(await b.checkDevice(credentials.username, 'not the password')).toBe('bad');

    await a.updateDevice(DEVICE.id!, { location: '屋顶水箱间' });
    await a.updateBuilding(BUILDING.id!, { floors: 32 });
    await eventually(() => b.getDevice(DEVICE.id!).location === '屋顶水箱间' && b.getBuilding(BUILDING.id!).floors === 32, 'B sees the changes');
    // B's own changes reach A the same way
    await b.updateDevice(DEVICE.id!, { reportIntervalS: 30 });
    await eventually(() => a.getDevice(DEVICE.id!).reportIntervalS === 30, 'A sees B’s change');
    // nothing B only heard of is reported as if B had made it
    expect(eventsOnB).toEqual([]);
  });

  it('a credential rotated or a device deleted on A is let go of on B, once each', async () => {
    await a.createBuilding(BUILDING);
    const { credentials: first } = await a.createDevice(DEVICE);
    await eventually(() => b.context(DEVICE.id!) !== undefined, 'B knows the device');
    expect(await b.checkDevice(first.username, first.password)).toBe('ok');

    const second = await a.rotateCredentials(DEVICE.id!);
    await eventually(() => eventsOnB.length === 1, 'B hears of the rotation');
    expect(eventsOnB).toEqual([`device.credentials_rotated ${DEVICE.id}`]);
    expect(await b.checkDevice(first.username, first.password)).toBe('bad');
    expect(await b.checkDevice(second.username, second.password)).toBe('ok');

    await a.deleteDevice(DEVICE.id!);
    await eventually(() => b.context(DEVICE.id!) === undefined, 'B lets the device go');
    await b.settled();
    expect(eventsOnB).toEqual([`device.credentials_rotated ${DEVICE.id}`, `device.removed ${DEVICE.id}`]);
    expect(await b.checkDevice(second.username, second.password)).toBe('bad');
    await a.deleteBuilding(BUILDING.id!);
    await eventually(() => b.buildingsInMemory().next().done === true, 'B lets the building go');
  });

  it("a change that rolls back is never heard of on the other node", async () => {
    await a.createBuilding(BUILDING);
    await eventually(() => [...b.buildingsInMemory()].length === 1, 'B knows the building');
    await expect(
      pgUnitOfWork(nodes[0]!)(async (uow) => {
        await a.updateBuilding(BUILDING.id!, { name: '不该出现的名字' }, uow);
        uow.write(() => nodes[0]!.query('SELECT 1 / 0'));
      }),
    ).rejects.toThrow();
    // a later committed change is heard; the rolled-back one never was
    await a.updateBuilding(BUILDING.id!, { floors: 31 });
    await eventually(() => b.getBuilding(BUILDING.id!).floors === 31, 'B sees the committed change');
    const seen: Building = b.getBuilding(BUILDING.id!);
    expect(seen.name).toBe(BUILDING.name);
  });

  it('closing the database lets go of a listener nobody closed (the pool does not wait for it)', async () => {
    const forgotten = await open(nodes[1]!);
    expect(forgotten.devices().next().done).toBe(true);
    const closed = await Promise.race([nodes[1]!.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 3000))]);
    expect(closed).toBe('closed');
  });

  it('a node reloading after its listening connection broke answers from its cache throughout', async () => {
    await a.createBuilding(BUILDING);
    await a.createDevice(DEVICE);
    let misses = 0;
    let looking = true;
    // look the device up on every turn of the event loop while A reloads
    const lookups = (async () => {
      while (looking) {
        if (a.context(DEVICE.id!)?.building === undefined) misses++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let round = 0; round < 5; round++) {
      const killed = await nodes[1]!.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`,
      );
      expect(killed.length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 400)); // the reconnect (200 ms backoff) and the reload
      await a.updateBuilding(BUILDING.id!, { floors: 40 + round }); // a local change while reloading, too
    }
    looking = false;
    await lookups;
    await a.settled();
    expect(misses).toBe(0);
    expect(a.getBuilding(BUILDING.id!).floors).toBe(44);
  });

  it("after B's listening connection breaks, B reloads and sees what changed meanwhile", async () => {
    await a.createBuilding(BUILDING);
    await a.createDevice(DEVICE);
    await eventually(() => b.context(DEVICE.id!) !== undefined, 'B knows the device');
    // end every session of B's pool that is LISTENing: the server side of B's listener
    const killed = await nodes[0]!.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`,
    );
    expect(killed.length).toBe(2); // A's and B's listeners
    // while B is not listening: a change it cannot hear of
    await a.updateDevice(DEVICE.id!, { location: '改在断线期间' });
    await a.deleteDevice(DEVICE.id!);
    await eventually(() => b.context(DEVICE.id!) === undefined, 'B reloaded after reconnecting', 10_000);
    await b.settled();
    expect(eventsOnB).toContain(`device.removed ${DEVICE.id}`);
    // and B listens again: the next change arrives as a notification
    await a.updateBuilding(BUILDING.id!, { floors: 33 });
    await eventually(() => b.getBuilding(BUILDING.id!).floors === 33, 'B hears again', 10_000);
  });
});
