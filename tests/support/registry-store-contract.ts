/**
 * The one contract every RegistryStore passes (services/devices/model.ts): buildings, devices and
 * their credentials as DeviceRegistry keeps them. SQLite (firewatch.db's buildings, devices,
 * device_credentials) today; written against the interface only, for a PostgreSQL store later.
 * Each case gets a fresh, empty store.
 *
 * What it pins down (what DeviceRegistry and the building/device routes rely on):
 *   - a building and a device come back as stored, every field (survey, access level, rules,
 *     address, allowed peers, GB/T 26875 source, in-service time); optional fields never set stay
 *     absent; a device in commissioning (inServiceAt null) stays so, one stored without the field
 *     reads as in service
 *   - ids are unique: a second building or device with an id is refused (ConflictError
 *     building_exists / device_exists, from the store's constraint) and changes nothing
 *   - GB/T 26875.3 addresses are unique among devices that have one (0 included): an insert or an
 *     update to a taken address is refused (device_address_exists) and changes nothing, neither
 *     device nor credential;
 *     a freed address may be taken
 *   - a device and its credential are stored together; setCredential replaces it (rotation);
 *     deleting a device deletes its credential, and only its
 *   - update replaces the record (a move shows in countDevicesInBuilding and the building filter)
 *   - lists are in id order, strictly after `afterId`, at most `limit`, so paging visits every
 *     record once; the filters (street, use; building, kind) and the scope (buildings in any of
 *     its streets or with its ids; an empty scope matches nothing) apply together
 *   - delete says whether there was one; a durable store gives back after a reopen what it held
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Building, Device, RegistryStore, StoredCredential } from '../../services/devices/model.js';
import { attempt, contractHarness } from './contract-harness.js';

export interface ContractRegistryStore {
  store: RegistryStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<RegistryStore> | RegistryStore;
  cleanup: () => Promise<void> | void;
}

const T0 = Date.UTC(2026, 10, 1, 8);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function building(id: string, over: Partial<Building> = {}): Building {
  return {
    id,
    name: `大楼 ${id}`,
    street: '解放碑',
    address: '渝中区民族路 1 号',
    type: 'public',
    heightM: 99.5,
    floors: 30,
    areaM2: 42_000,
    category: 1,
    use: 'complex',
    contactName: '王经理',
    contactPhone: '023-6380 0000',
    createdAt: iso(0),
    updatedAt: iso(0),
    ...over,
  };
}

function device(id: string, buildingId: string, over: Partial<Device> = {}): Device {
  return {
    id,
    buildingId,
    kind: 'water_pressure',
    point: 'hydrant_top',
    location: '62F 屋顶试验消火栓',
    reportIntervalS: 60,
    vendor: 'Acme',
    model: 'P-100',
    rules: null,
    inServiceAt: iso(1),
    createdAt: iso(0),
    updatedAt: iso(0),
    ...over,
  };
}

const cred = (deviceId: string, hash = `sha256$${deviceId}$first`, rotatedAt = iso(0)): StoredCredential => ({ deviceId, username: deviceId, hash, rotatedAt });
const ids = (rows: ReadonlyArray<{ id: string }>) => rows.map((r) => r.id);
const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export function registryStoreContract(name: string, make: () => Promise<ContractRegistryStore> | ContractRegistryStore): void {
  describe(`RegistryStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<RegistryStore, ContractRegistryStore>(name, make);

    it('knows nothing to begin with', async () => {
      const s = store();
      expect(await s.getBuilding('b-1')).toBeUndefined();
      expect(await s.getDevice('d-1')).toBeUndefined();
      expect(await s.getCredential('d-1')).toBeUndefined();
      expect(await s.listBuildings({}, undefined, 100)).toEqual([]);
      expect(await s.listDevices({}, undefined, 100)).toEqual([]);
      expect(await s.allDevices()).toEqual([]);
      expect(await s.countDevicesInBuilding('b-1')).toBe(0);
      expect(await s.deleteBuilding('b-1')).toBe(false);
      expect(await s.deleteDevice('d-1')).toBe(false);
    });

    describe('buildings', () => {
      it('gives a building back as stored, every field; optional fields never set stay absent', async () => {
        const full = building('b-full', {
          accessLevelM: 0,
          heightM: 250.25,
          category: 2,
          use: 'market',
          survey: {
            no: '17',
            marketName: '朝天门 "批发" 市场',
            buildingName: '金海洋',
            fireAlarm: true,
            sprinklers: false,
            hydrants: null,
            smokeControl: true,
            hazards: '疏散通道堵塞 \\ 占用',
            rectification: 'pending',
            remarks: null,
          },
        });
        const bare = building('b-bare', { heightM: null, floors: null, areaM2: null, category: null, contactName: null, contactPhone: null, type: 'residential', use: 'old_compound' });
        await store().insertBuilding(full);
        await store().insertBuilding(bare);
        expect(await store().getBuilding('b-full')).toEqual(full);
        expect(await store().getBuilding('b-bare')).toEqual(bare);
        expect(await store().getBuilding('b-none')).toBeUndefined();
      });

      it('refuses a second building with an id, and keeps the first', async () => {
        await store().insertBuilding(building('b-1', { name: 'first' }));
        await expect(attempt(() => store().insertBuilding(building('b-1', { name: 'second' })))).rejects.toMatchObject({ code: 'building_exists' });
        expect((await store().getBuilding('b-1'))?.name).toBe('first');
        expect(ids(await store().listBuildings({}, undefined, 10))).toEqual(['b-1']);
      });

      it('update replaces the building; the others stay', async () => {
        await store().insertBuilding(building('b-1', { survey: { no: '1', marketName: null, buildingName: null, fireAlarm: null, sprinklers: null, hydrants: null, smokeControl: null, hazards: '无', remarks: null } }));
        await store().insertBuilding(building('b-2'));
        const next = building('b-1', { name: '新名字', street: '朝天门', use: 'hotel', heightM: 120, accessLevelM: 243.5, contactPhone: null, updatedAt: iso(60) });
        await store().updateBuilding('b-1', next);
        expect(await store().getBuilding('b-1')).toEqual(next);
        expect(await store().getBuilding('b-2')).toEqual(building('b-2'));
        expect(ids(await store().listBuildings({ street: '朝天门' }, undefined, 10))).toEqual(['b-1']);
        // a survey taken off (null) reads as none
        await store().updateBuilding('b-1', { ...next, survey: null });
        expect((await store().getBuilding('b-1'))?.survey ?? null).toBeNull();
      });

      it('delete says whether there was one', async () => {
        await store().insertBuilding(building('b-1'));
        await store().insertBuilding(building('b-2'));
        expect(await store().deleteBuilding('b-1')).toBe(true);
        expect(await store().deleteBuilding('b-1')).toBe(false);
        expect(await store().getBuilding('b-1')).toBeUndefined();
        expect(ids(await store().listBuildings({}, undefined, 10))).toEqual(['b-2']);
      });

      it('lists in id order after afterId, at most limit; paging visits every building once', async () => {
        const order = ['b-01', 'b-02', 'b-10', 'b-11', 'b-20', 'b-21', 'b-30'];
        for (const id of ['b-20', 'b-01', 'b-30', 'b-11', 'b-02', 'b-21', 'b-10']) (await store().insertBuilding(building(id)));
        expect(ids(await store().listBuildings({}, undefined, 100))).toEqual(order);
        expect(ids(await store().listBuildings({}, undefined, 2))).toEqual(['b-01', 'b-02']);
        expect(ids(await store().listBuildings({}, 'b-10', 3))).toEqual(['b-11', 'b-20', 'b-21']);
        expect(ids(await store().listBuildings({}, 'b-15', 100))).toEqual(['b-20', 'b-21', 'b-30']);
        expect(await store().listBuildings({}, 'b-30', 100)).toEqual([]);
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = (await store().listBuildings({}, after, 3));
          if (page.length === 0) break;
          seen.push(...ids(page));
          after = page[page.length - 1]!.id;
        }
        expect(seen).toEqual(order);
      });

      it('filters by street and use, and limits to a scope: any of its streets or its buildings', async () => {
        await store().insertBuilding(building('b-1', { street: '解放碑', use: 'complex' }));
        await store().insertBuilding(building('b-2', { street: '解放碑', use: 'hotel' }));
        await store().insertBuilding(building('b-3', { street: '朝天门', use: 'hotel' }));
        await store().insertBuilding(building('b-4', { street: '七星岗', use: 'market' }));
        const q = async (f: Parameters<RegistryStore['listBuildings']>[0]) => ids(await store().listBuildings(f, undefined, 100));
        expect(await q({ street: '解放碑' })).toEqual(['b-1', 'b-2']);
        expect(await q({ use: 'hotel' })).toEqual(['b-2', 'b-3']);
        expect(await q({ street: '解放碑', use: 'hotel' })).toEqual(['b-2']);
        expect(await q({ street: '大坪' })).toEqual([]);
        expect(await q({ scope: { streets: ['朝天门', '七星岗'] } })).toEqual(['b-3', 'b-4']);
        expect(await q({ scope: { buildingIds: ['b-1', 'b-9'] } })).toEqual(['b-1']);
        expect(await q({ scope: { streets: ['七星岗'], buildingIds: ['b-1'] } })).toEqual(['b-1', 'b-4']);
        expect(await q({ scope: { streets: ['七星岗'], buildingIds: ['b-1'] }, use: 'market' })).toEqual(['b-4']);
        expect(await q({ scope: { streets: [] } })).toEqual([]);
        expect(await q({ scope: { buildingIds: [] } })).toEqual([]);
        expect(await q({ scope: {} })).toEqual([]);
        expect(ids(await store().listBuildings({ scope: { streets: ['解放碑', '朝天门'] } }, 'b-1', 1))).toEqual(['b-2']);
      });
    });

    describe('devices', () => {
      beforeEach(async () => {
        await store().insertBuilding(building('b-1'));
        await store().insertBuilding(building('b-2', { street: '朝天门' }));
        await store().insertBuilding(building('b-3', { street: '七星岗' }));
      });

      it('gives a device back as stored, every field; optional fields never set stay absent', async () => {
        const uitd = device('d-uitd', 'b-1', { kind: 'uitd', point: null, address: 0x0000_1234_5678, allowedPeers: ['10.0.0.7', '192.168.1.0/24'], reportIntervalS: 300 });
        const bound = device('d-bound', 'b-1', {
          rules: { pressure_low: { threshold: 0.12, forS: 30 }, device_alarm: { enabled: false } },
          gb26875Source: { uitdId: 'd-uitd', systemType: 1, systemAddress: 0, componentType: 3, componentAddress: 65_537 },
        });
        const bare = device('d-bare', 'b-2', { kind: 'fire_lane', point: null, location: null, vendor: null, model: null });
        const peerless = device('d-peers0', 'b-1', { kind: 'uitd', point: null, address: 0, allowedPeers: [] });
        for (const d of [uitd, bound, bare, peerless]) (await store().insertDevice(d, cred(d.id)));
        expect(await store().getDevice('d-uitd')).toEqual(uitd);
        expect(await store().getDevice('d-bound')).toEqual(bound);
        expect(await store().getDevice('d-bare')).toEqual(bare);
        expect(await store().getDevice('d-peers0')).toEqual(peerless);
        expect(await store().getDevice('d-none')).toBeUndefined();
        expect(byId(await store().allDevices())).toEqual(byId([uitd, bound, bare, peerless]));
      });

      it('a device in commissioning stays so; one stored without the field reads as in service', async () => {
        await store().insertDevice(device('d-new', 'b-1', { inServiceAt: null }), cred('d-new'));
        const legacy = device('d-legacy', 'b-1');
        delete legacy.inServiceAt;
        await store().insertDevice(legacy, cred('d-legacy'));
        expect((await store().getDevice('d-new'))?.inServiceAt).toBeNull();
        expect((await store().getDevice('d-legacy'))?.inServiceAt).not.toBeNull();
        // put in service, later
        await store().updateDevice('d-new', device('d-new', 'b-1', { inServiceAt: iso(90), updatedAt: iso(90) }));
        expect((await store().getDevice('d-new'))?.inServiceAt).toBe(iso(90));
      });

      it('stores the credential with the device; setCredential replaces it', async () => {
        await store().insertDevice(device('d-1', 'b-1'), cred('d-1'));
        await store().insertDevice(device('d-2', 'b-1'), cred('d-2'));
        expect(await store().getCredential('d-1')).toEqual(cred('d-1'));
        await store().setCredential(cred('d-1', 'sha256$d-1$rotated', iso(30)));
        expect(await store().getCredential('d-1')).toEqual(cred('d-1', 'sha256$d-1$rotated', iso(30)));
        expect(await store().getCredential('d-2')).toEqual(cred('d-2'));
        expect(await store().getCredential('d-3')).toBeUndefined();
      });

      it('replaceCredentialHash changes the hash only while it is the one expected', async () => {
        await store().insertDevice(device('d-1', 'b-1'), cred('d-1', 'scrypt$legacy'));
        // a rotation came first: the upgrade of the old hash changes nothing
        await store().setCredential(cred('d-1', 'sha256$d-1$rotated', iso(30)));
        expect(await store().replaceCredentialHash('d-1', 'scrypt$legacy', 'sha256$d-1$upgraded')).toBe(false);
        expect(await store().getCredential('d-1')).toEqual(cred('d-1', 'sha256$d-1$rotated', iso(30)));
        // the hash it expects: replaced, the rest of the credential kept
        expect(await store().replaceCredentialHash('d-1', 'sha256$d-1$rotated', 'sha256$d-1$upgraded')).toBe(true);
        expect(await store().getCredential('d-1')).toEqual(cred('d-1', 'sha256$d-1$upgraded', iso(30)));
        expect(await store().replaceCredentialHash('d-9', 'scrypt$legacy', 'sha256$x')).toBe(false);
      });

      it('refuses a second device with an id, keeping the first and its credential', async () => {
        await store().insertDevice(device('d-1', 'b-1', { vendor: 'first' }), cred('d-1'));
        await expect(attempt(() => store().insertDevice(device('d-1', 'b-2', { vendor: 'second' }), cred('d-1', 'sha256$d-1$second')))).rejects.toMatchObject({ code: 'device_exists' });
        expect(await store().getDevice('d-1')).toEqual(device('d-1', 'b-1', { vendor: 'first' }));
        expect(await store().getCredential('d-1')).toEqual(cred('d-1'));
        expect(await store().countDevicesInBuilding('b-2')).toBe(0);
      });

      it('refuses a taken GB/T 26875.3 address (0 included), on insert and on update, changing nothing', async () => {
        const s = store();
        await s.insertDevice(device('d-a', 'b-1', { kind: 'uitd', point: null, address: 4242 }), cred('d-a'));
        await s.insertDevice(device('d-zero', 'b-1', { kind: 'uitd', point: null, address: 0 }), cred('d-zero'));
        // devices without an address are not in each other's way
        await s.insertDevice(device('d-x', 'b-1'), cred('d-x'));
        await s.insertDevice(device('d-y', 'b-1', { address: null }), cred('d-y'));
        await expect(attempt(() => s.insertDevice(device('d-b', 'b-2', { kind: 'uitd', point: null, address: 4242 }), cred('d-b')))).rejects.toMatchObject({ code: 'device_address_exists' });
        await expect(attempt(() => s.insertDevice(device('d-c', 'b-2', { kind: 'uitd', point: null, address: 0 }), cred('d-c')))).rejects.toMatchObject({ code: 'device_address_exists' });
        expect(await s.getDevice('d-b')).toBeUndefined();
        expect(await s.getCredential('d-b')).toBeUndefined();
        expect(await s.getDevice('d-c')).toBeUndefined();
        expect(await s.getCredential('d-c')).toBeUndefined();
        expect(await s.countDevicesInBuilding('b-2')).toBe(0);
        // an update to a taken address
        await s.insertDevice(device('d-b', 'b-2', { kind: 'uitd', point: null, address: 4343 }), cred('d-b'));
        await expect(attempt(() => s.updateDevice('d-b', device('d-b', 'b-2', { kind: 'uitd', point: null, address: 4242, vendor: 'changed' })))).rejects.toMatchObject({ code: 'device_address_exists' });
        expect(await s.getDevice('d-b')).toEqual(device('d-b', 'b-2', { kind: 'uitd', point: null, address: 4343 }));
        // keeping one's own address is fine; a freed address may be taken
        await s.updateDevice('d-a', device('d-a', 'b-1', { kind: 'uitd', point: null, address: 4242, vendor: 'same address' }));
        await s.updateDevice('d-a', device('d-a', 'b-1', { kind: 'uitd', point: null }));
        expect((await s.getDevice('d-a'))?.address ?? null).toBeNull();
        await s.updateDevice('d-b', device('d-b', 'b-2', { kind: 'uitd', point: null, address: 4242 }));
        expect((await s.getDevice('d-b'))?.address).toBe(4242);
      });

      it('update replaces the device: a move shows in the counts and the building filter', async () => {
        const s = store();
        await s.insertDevice(device('d-1', 'b-1', { kind: 'uitd', point: null, allowedPeers: ['10.0.0.1'] }), cred('d-1'));
        await s.insertDevice(device('d-2', 'b-1'), cred('d-2'));
        const moved = device('d-1', 'b-2', { kind: 'uitd', point: null, location: '一楼消控室', reportIntervalS: 120, rules: { device_offline: { forS: 900 } }, updatedAt: iso(60) });
        (await s.updateDevice('d-1', moved)); // allowedPeers reset: absent from the record
        expect(await s.getDevice('d-1')).toEqual(moved);
        expect(await s.getDevice('d-2')).toEqual(device('d-2', 'b-1'));
        expect(await s.countDevicesInBuilding('b-1')).toBe(1);
        expect(await s.countDevicesInBuilding('b-2')).toBe(1);
        expect(ids(await s.listDevices({ buildingId: 'b-2' }, undefined, 10))).toEqual(['d-1']);
        expect(await s.getCredential('d-1')).toEqual(cred('d-1'));
      });

      it('delete removes the device and its credential, and only those', async () => {
        const s = store();
        await s.insertDevice(device('d-1', 'b-1'), cred('d-1'));
        await s.insertDevice(device('d-2', 'b-1'), cred('d-2'));
        expect(await s.deleteDevice('d-1')).toBe(true);
        expect(await s.deleteDevice('d-1')).toBe(false);
        expect(await s.getDevice('d-1')).toBeUndefined();
        expect(await s.getCredential('d-1')).toBeUndefined();
        expect(await s.getCredential('d-2')).toEqual(cred('d-2'));
        expect(ids(await s.allDevices())).toEqual(['d-2']);
        expect(await s.countDevicesInBuilding('b-1')).toBe(1);
        // the id is free again, with a new credential
        await s.insertDevice(device('d-1', 'b-2'), cred('d-1', 'sha256$d-1$new'));
        expect((await s.getDevice('d-1'))?.buildingId).toBe('b-2');
        expect(await s.getCredential('d-1')).toEqual(cred('d-1', 'sha256$d-1$new'));
        // a building whose devices are gone can go
        await s.deleteDevice('d-2');
        expect(await s.countDevicesInBuilding('b-1')).toBe(0);
        expect(await s.deleteBuilding('b-1')).toBe(true);
      });

      it('lists in id order after afterId, at most limit; paging visits every device once', async () => {
        const order = ['d-01', 'd-02', 'd-10', 'd-11', 'd-20', 'd-21', 'd-30'];
        for (const id of ['d-21', 'd-10', 'd-01', 'd-30', 'd-02', 'd-20', 'd-11']) (await store().insertDevice(device(id, 'b-1'), cred(id)));
        expect(ids(await store().listDevices({}, undefined, 100))).toEqual(order);
        expect(ids(await store().listDevices({}, 'd-02', 2))).toEqual(['d-10', 'd-11']);
        expect(ids(await store().listDevices({}, 'd-15', 100))).toEqual(['d-20', 'd-21', 'd-30']);
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = (await store().listDevices({}, after, 2));
          if (page.length === 0) break;
          seen.push(...ids(page));
          after = page[page.length - 1]!.id;
        }
        expect(seen).toEqual(order);
        expect(byId(await store().allDevices()).map((d) => d.id)).toEqual(order);
      });

      it("filters by building and kind, and limits to a scope: devices of buildings in its streets or with its ids", async () => {
        const s = store();
        await s.insertDevice(device('d-1', 'b-1', { kind: 'water_pressure' }), cred('d-1'));
        await s.insertDevice(device('d-2', 'b-1', { kind: 'fire_lane', point: null }), cred('d-2'));
        await s.insertDevice(device('d-3', 'b-2', { kind: 'water_pressure' }), cred('d-3'));
        await s.insertDevice(device('d-4', 'b-3', { kind: 'electrical_fire', point: null }), cred('d-4'));
        const q = async (f: Parameters<RegistryStore['listDevices']>[0]) => ids(await s.listDevices(f, undefined, 100));
        expect(await q({ buildingId: 'b-1' })).toEqual(['d-1', 'd-2']);
        expect(await q({ kind: 'water_pressure' })).toEqual(['d-1', 'd-3']);
        expect(await q({ buildingId: 'b-1', kind: 'water_pressure' })).toEqual(['d-1']);
        expect(await q({ buildingId: 'b-9' })).toEqual([]);
        expect(await q({ scope: { streets: ['朝天门'] } })).toEqual(['d-3']);
        expect(await q({ scope: { buildingIds: ['b-3'] } })).toEqual(['d-4']);
        expect(await q({ scope: { streets: ['解放碑'], buildingIds: ['b-3'] } })).toEqual(['d-1', 'd-2', 'd-4']);
        expect(await q({ scope: { streets: ['解放碑'], buildingIds: ['b-3'] }, kind: 'water_pressure' })).toEqual(['d-1']);
        expect(await q({ scope: { streets: [] } })).toEqual([]);
        expect(await q({ scope: {} })).toEqual([]);
        // the scope follows the building's street as it is now
        await s.updateBuilding('b-2', building('b-2', { street: '七星岗' }));
        expect(await q({ scope: { streets: ['七星岗'] } })).toEqual(['d-3', 'd-4']);
      });
    });

    it('when durable, gives back after a reopen what it held', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const b = building('b-1', { accessLevelM: 180 });
      const d = device('d-1', 'b-1', { kind: 'uitd', point: null, address: 99, allowedPeers: ['10.1.1.1'] });
      await store().insertBuilding(b);
      await store().insertBuilding(building('b-2'));
      await store().insertDevice(d, cred('d-1'));
      await store().insertDevice(device('d-2', 'b-2', { inServiceAt: null }), cred('d-2'));
      await store().setCredential(cred('d-2', 'sha256$d-2$rotated', iso(5)));
      const again = await handle().reopen!();
      expect(await again.getBuilding('b-1')).toEqual(b);
      expect(await again.getDevice('d-1')).toEqual(d);
      expect((await again.getDevice('d-2'))?.inServiceAt).toBeNull();
      expect(await again.getCredential('d-2')).toEqual(cred('d-2', 'sha256$d-2$rotated', iso(5)));
      expect(ids(await again.listDevices({}, undefined, 10))).toEqual(['d-1', 'd-2']);
      expect(await again.countDevicesInBuilding('b-1')).toBe(1);
      await expect(attempt(() => again.insertDevice(device('d-3', 'b-1', { kind: 'uitd', point: null, address: 99 }), cred('d-3')))).rejects.toThrow();
    });
  });
}
