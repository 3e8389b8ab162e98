/**
 * The PostgreSQL stores against their contracts (tests/support/<name>-contract.ts), the same
 * suites store-contracts.test.ts runs on SQLite. Each case gets a fresh database on the local
 * server (tests/support/postgres.ts) opened as the service opens it (openPostgres: every
 * migration), and `reopen` closes it and opens the same database again, as after a restart.
 * Below the contracts, what only PostgreSQL can show: the domain errors its constraints become,
 * also between two nodes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../services/devices/device-status.js';
import type { Building, Device, StoredCredential } from '../../services/devices/model.js';
import { ConflictError, NotFoundError, type AppError } from '../../services/shared/errors.js';
import { openPostgres, type PgDatabase } from '../../services/storage/postgres/database.js';
import { PgRegistryStore } from '../../services/storage/postgres/pg-registry-store.js';
import { PgDeviceStatusStore } from '../../services/storage/postgres/pg-state-stores.js';
import { onPostgres } from '../support/pg-harness.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { registryStoreContract } from '../support/registry-store-contract.js';
import { auditStoreContract } from '../support/audit-store-contract.js';
import { AuditLog } from '../../services/audit/audit-log.js';
import { ManualClock } from '../../services/shared/clock.js';
import { DeviceRegistry } from '../../services/devices/registry.js';
import { PgAuditStore } from '../../services/storage/postgres/pg-audit-store.js';
import { pgUnitOfWork } from '../../services/storage/postgres/pg-unit-of-work.js';

registryStoreContract('postgres', () => onPostgres((db) => new PgRegistryStore(db)));
auditStoreContract('postgres', () => onPostgres((db) => new PgAuditStore(db)));

/**
 * A change and its audit entry as the service makes them (AuditLog.record with the registry's
 * mutation in the same unit of work), on PostgreSQL: both are committed, or neither.
 */
describe('PostgreSQL: a change and its audit entry commit together', () => {
  let handle: Awaited<ReturnType<typeof onPostgres<PgRegistryStore>>>;
  beforeEach(async () => {
    handle = await onPostgres((db) => new PgRegistryStore(db));
  });
  afterEach(async () => {
    await handle.cleanup();
  });

  const entry = { by: 'li.duty', role: 'duty' as const, action: 'building.thresholds_changed' as const, buildingId: 'b-1', deviceId: null, street: '解放碑', reason: '复核', before: { floors: 30 }, after: { floors: 20 }, changes: [] };

  it('committed: the building changed and the entry is there; refused by the database: neither', async () => {
    const db = handle.db();
    const clock = new ManualClock(Date.UTC(2026, 11, 3, 8));
    const registry = await DeviceRegistry.open({ store: handle.store, runUnitOfWork: pgUnitOfWork(db) });
    const audits = new PgAuditStore(db);
    const audit = new AuditLog(audits, clock, pgUnitOfWork(db));
    await registry.createBuilding({ id: 'b-1', name: '测试大厦', street: '解放碑', address: '民族路 1 号', type: 'public', heightM: 120, floors: 30, areaM2: null, category: 1, use: 'complex', contactName: null, contactPhone: null });

    const next = await audit.record(entry, (uow) => registry.updateBuilding('b-1', { floors: 20 }, uow));
    expect(next.floors).toBe(20);
    expect((await handle.store.getBuilding('b-1'))?.floors).toBe(20);
    expect(await audits.list({ limit: 10 })).toEqual([expect.objectContaining({ action: 'building.thresholds_changed', reason: '复核', at: new Date(clock.now()).toISOString() })]);

    // a write the database refuses (the building vanished under the change: deleted by another
    // node between the check and the commit) takes the audit entry back with it
    await expect(
      audit.record(entry, async (uow) => {
        const changed = await registry.updateBuilding('b-1', { floors: 10 }, uow);
        uow.write(() => db.query('INSERT INTO buildings (id) VALUES (NULL)'));
        return changed;
      }),
    ).rejects.toThrow();
    expect((await handle.store.getBuilding('b-1'))?.floors).toBe(20);
    expect(registry.getBuilding('b-1').floors).toBe(20);
    expect(await audits.list({ limit: 10 })).toHaveLength(1);
    await registry.close();
  });
});

/**
 * PostgreSQL only: what the contract leaves open (it asks only that a write is refused). A violated
 * constraint becomes the error DeviceRegistry raises for the same case, also when two nodes race
 * past the registry's checks.
 */
describe('PgRegistryStore: constraint violations are the registry errors', () => {
  let fresh: FreshDatabase;
  let nodes: PgDatabase[] = [];
  let store: PgRegistryStore;

  const building = (id: string): Building => ({
    id,
    name: id,
    street: '解放碑',
    address: '',
    type: 'public',
    heightM: null,
    floors: null,
    areaM2: null,
    category: null,
    use: 'complex',
    contactName: null,
    contactPhone: null,
    createdAt: '2026-11-01T08:00:00.000Z',
    updatedAt: '2026-11-01T08:00:00.000Z',
  });
  const device = (id: string, buildingId: string, address?: number): Device => ({
    id,
    buildingId,
    kind: 'uitd',
    point: null,
    location: null,
    reportIntervalS: 60,
    vendor: null,
    model: null,
    rules: null,
    ...(address !== undefined ? { address } : {}),
    inServiceAt: null,
    createdAt: '2026-11-01T08:00:00.000Z',
    updatedAt: '2026-11-01T08:00:00.000Z',
  });
  const cred = (deviceId: string): StoredCredential => ({ deviceId, username: deviceId, hash: `h-${deviceId}`, rotatedAt: '2026-11-01T08:00:00.000Z' });
  /** The write must fail with this AppError class and code. */
  async function refused(write: Promise<unknown>, type: typeof ConflictError | typeof NotFoundError, code: string): Promise<void> {
    const err = await write.then(
      () => new Error('the write was not refused'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(type);
    expect((err as AppError).code).toBe(code);
  }

  beforeEach(async () => {
    fresh = await freshDatabase();
    nodes = [await openPostgres(fresh.url, { max: 2 })];
    store = new PgRegistryStore(nodes[0]!);
    await store.insertBuilding(building('b-1'));
  });

  afterEach(async () => {
    await Promise.all(nodes.map((db) => db.close()));
    await fresh.drop();
  });

  it('a second id: building_exists, device_exists', async () => {
    await refused(store.insertBuilding(building('b-1')), ConflictError, 'building_exists');
    await store.insertDevice(device('d-1', 'b-1'), cred('d-1'));
    await refused(store.insertDevice(device('d-1', 'b-1'), cred('d-1')), ConflictError, 'device_exists');
  });

  it('a taken address, on insert and on update: device_address_exists', async () => {
    await store.insertDevice(device('d-1', 'b-1', 4242), cred('d-1'));
    await store.insertDevice(device('d-2', 'b-1', 4343), cred('d-2'));
    await refused(store.insertDevice(device('d-3', 'b-1', 4242), cred('d-3')), ConflictError, 'device_address_exists');
    await refused(store.updateDevice('d-2', device('d-2', 'b-1', 4242)), ConflictError, 'device_address_exists');
    // a 48-bit address comes back as the number it was
    await store.updateDevice('d-2', device('d-2', 'b-1', 0xffff_ffff_ffff));
    expect((await store.getDevice('d-2'))?.address).toBe(0xffff_ffff_ffff);
  });

  it('two nodes registering one address at once: one gets it, the other device_address_exists', async () => {
    nodes.push(await openPostgres(fresh.url, { max: 2 }));
    const other = new PgRegistryStore(nodes[1]!);
    const outcomes = await Promise.allSettled([
      store.insertDevice(device('d-a', 'b-1', 77), cred('d-a')),
      other.insertDevice(device('d-b', 'b-1', 77), cred('d-b')),
    ]);
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(ConflictError);
    expect((lost[0]!.reason as ConflictError).code).toBe('device_address_exists');
    const holders = (await store.allDevices()).filter((d) => d.address === 77);
    expect(holders).toHaveLength(1);
    // the loser's credential went with its device
    const loser = holders[0]!.id === 'd-a' ? 'd-b' : 'd-a';
    expect(await store.getCredential(loser)).toBeUndefined();
  });

  it('a building that still has devices: building_has_devices; a missing building or device: not_found', async () => {
    await store.insertDevice(device('d-1', 'b-1'), cred('d-1'));
    await refused(store.deleteBuilding('b-1'), ConflictError, 'building_has_devices');
    expect(await store.getBuilding('b-1')).toBeDefined();
    await refused(store.insertDevice(device('d-2', 'b-none'), cred('d-2')), NotFoundError, 'not_found');
    await refused(store.updateDevice('d-1', device('d-1', 'b-none')), NotFoundError, 'not_found');
    await refused(store.setCredential(cred('d-none')), NotFoundError, 'not_found');
  });

  it('deleting a device deletes its live status too, as on SQLite; another device keeps its own', async () => {
    const status = new PgDeviceStatusStore(nodes[0]!);
    await store.insertDevice(device('d-1', 'b-1'), cred('d-1'));
    await store.insertDevice(device('d-2', 'b-1'), cred('d-2'));
    const s: DeviceStatus = {
      online: false, lastSeenAt: '2026-11-01T08:00:00.000Z', connectedAt: null, disconnectedAt: null,
      lastReading: null, lastRejected: null, accepted: 3, rejected: 0, rejectedByReason: {},
    };
    await status.saveMany([['d-1', s], ['d-2', s]]);
    expect(await store.deleteDevice('d-1')).toBe(true);
    expect([...(await status.loadAll()).keys()]).toEqual(['d-2']);
  });
});
