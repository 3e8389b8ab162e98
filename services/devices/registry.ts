/**
 * The registry service: buildings and devices, their credentials, and an in-memory cache of every
 * device and building that the hot path (authenticate, enrich, rules) and the API's look-ups use
 * without touching the database.
 *
 * Writes go through a unit of work (services/shared/unit-of-work.ts, docs/adr/0008): a mutation
 * reads and checks, queues its store writes, and updates the cache and tells its listeners only
 * after the commit. A caller that must commit more with the change (ChangeControl: the change and
 * its audit entry) passes its own unit; otherwise the mutation runs one of its own. Uniqueness
 * (an id, a GB/T address) is the database's to decide: the checks here give the clear error for
 * the common case, and the store turns a constraint violation into the same ConflictError.
 */
import { randomBytes } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../shared/errors.js';
import { commissioningBoundAt, commissioningState, DEFAULT_COMMISSIONING_MAX_H, type CommissioningState } from './commissioning.js';
import { generateSecret, hashGeneratedSecret, isFastHash, verifyGeneratedSecret, verifySecret, VerifiedSecretCache } from './credentials.js';
import type { Awaitable } from '../shared/awaitable.js';
import type { RunUnitOfWork, UnitOfWork } from '../shared/unit-of-work.js';
import type {
  Building,
  BuildingFilter,
  BuildingInput,
  BuildingPatch,
  Device,
  DeviceFilter,
  DeviceInput,
  DevicePatch,
  Gb26875Source,
  Page,
  RegistryChange,
  RegistryStore,
} from './model.js';

export interface DeviceContext {
  device: Device;
  building: Building | undefined;
}

export interface Credentials {
  username: string;
  password: string;
}

/** The answer to a device's CONNECT credentials; `busy`: a slow check was needed and not admitted. */
export type DeviceCheck = 'ok' | 'bad' | 'busy';

/**
 * Asked before a slow (scrypt) check of a legacy credential runs: a function to call when it is
 * done (with its outcome), or undefined when the budget for slow checks is spent.
 */
export type SlowCheckGate = () => ((ok: boolean) => void) | undefined;

/** What an unknown device id is checked against, so it costs what a known one costs. */
const UNKNOWN_DEVICE_HASH = hashGeneratedSecret(generateSecret());

/** Registry events are named `noun.verb`, as the live feed's and the uplink's are (`building.deleted`, `device.online`). */
export type RegistryListener = (event: { type: 'device.removed' | 'device.credentials_rotated'; deviceId: string }) => void;
/**
 * A device went in service after commissioning (issue #17 item 6): by a person, or 'system' when its
 * bound passed. Called as a write of the change's unit of work, so what it writes commits with it.
 */
export type InServiceListener = (device: Device, by: string) => void;
/** Building registry changes (the platform uplink forwards them, issue #6). */
export type BuildingListener = (event: { type: 'building.created' | 'building.updated' | 'building.deleted'; building: Building }) => void;

export interface RegistryDeps {
  store: RegistryStore;
  /** the unit of work of the store's engine: a mutation's writes commit together */
  runUnitOfWork: RunUnitOfWork;
  now?: () => Date;
  /** COMMISSIONING_MAX_H (default DEFAULT_COMMISSIONING_MAX_H) */
  commissioningMaxH?: number;
  /**
   * following other nodes' changes failed: a change could not be read (the cache keeps that record
   * as it was) or the listening connection broke (it reconnects and reloads)
   */
  onWatchError?: (err: unknown) => void;
}

/** Buildings read per query while the registry loads. */
const LOAD_PAGE = 1000;

/** Ids travel in MQTT topics and URLs: no '/', '+', '#', spaces. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$/;

const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
const decodeCursor = (c: string | undefined) => (c ? Buffer.from(c, 'base64url').toString('utf8') : undefined);

function page<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!.id) : null };
}

/** Two bindings of one UITD's component could match the same analog object. */
function overlaps(a: Gb26875Source, b: Gb26875Source): boolean {
  const same = (x: number | undefined, y: number | undefined) => x === undefined || y === undefined || x === y;
  return a.uitdId === b.uitdId && a.componentAddress === b.componentAddress && same(a.systemType, b.systemType) && same(a.systemAddress, b.systemAddress) && same(a.componentType, b.componentType);
}

export class DeviceRegistry {
  private readonly devices_ = new Map<string, Device>();
  private readonly buildings = new Map<string, Building>();
  private readonly verified = new VerifiedSecretCache();
  private readonly listeners: RegistryListener[] = [];
  private readonly buildingListeners: BuildingListener[] = [];
  private readonly inServiceListeners: InServiceListener[] = [];
  /** devices bound to a UITD's analog component (gb26875Source), per UITD id; rebuilt after a change */
  private bindings: Map<string, Device[]> | undefined;

  /** COMMISSIONING_MAX_H: a device not put in service counts as in service this long after registration */
  readonly commissioningMaxH: number;
  private readonly store: RegistryStore;
  private readonly runUnitOfWork: RunUnitOfWork;
  private readonly now: () => Date;
  private readonly onWatchError: ((err: unknown) => void) | undefined;
  private watching: { close(): Promise<void> } | undefined;
  /** another node's changes, applied one at a time in the order they were notified */
  private following: Promise<void> = Promise.resolve();
  /**
   * Counts this node's own changes as they reach the cache: a read of another node's change (or a
   * reload) that a local change overtook while it waited on the store is read again (readStable),
   * so an older snapshot never replaces what this node just committed.
   */
  private localChanges = 0;

  /**
   * Opens the registry on `store`: every device and building is loaded into memory, and on a store
   * other nodes share, their changes are followed (close() stops that).
   */
  static async open(deps: RegistryDeps): Promise<DeviceRegistry> {
    const registry = new DeviceRegistry(deps);
    await registry.load();
    if (deps.store.watch) {
      registry.watching = await deps.store.watch({
        onChange: (c) => registry.follow(() => registry.refresh(c)),
        onResync: () => registry.follow(() => registry.resync()),
        onError: (err) => registry.onWatchError?.(err),
      });
    }
    return registry;
  }

  private constructor(deps: RegistryDeps) {
    this.store = deps.store;
    this.runUnitOfWork = deps.runUnitOfWork;
    this.now = deps.now ?? (() => new Date());
    this.commissioningMaxH = deps.commissioningMaxH ?? DEFAULT_COMMISSIONING_MAX_H;
    this.onWatchError = deps.onWatchError;
  }

  /** Stops following other nodes' changes. */
  async close(): Promise<void> {
    await this.watching?.close();
    this.watching = undefined;
    await this.following;
  }

  /** Resolves once the other nodes' changes notified so far are in the cache (tests). */
  settled(): Promise<void> {
    return this.following;
  }

  private follow(step: () => Promise<void>): void {
    this.following = this.following.then(step).catch((err: unknown) => {
      // the store failed: that record stays as cached. An outage also breaks the listening
      // connection, and its reconnect reloads everything (resync).
      this.onWatchError?.(err);
    });
  }

  /**
   * Another node changed a record: read it again. A device gone is one this node must let go of
   * (its session is disconnected, as for a local delete); a rotated credential ends its sessions
   * here too. Buildings and device updates only refresh the cache: what follows a change (the
   * uplink's building items, the in-service filing) happened on the node that made it.
   */
  private async refresh(c: RegistryChange): Promise<void> {
    if (c.kind === 'building') {
      const b = await this.readStable(() => this.store.getBuilding(c.id));
      if (b) this.buildings.set(b.id, b);
      else this.buildings.delete(c.id);
      return;
    }
    if (c.kind === 'credential') {
      this.verified.forget(c.id);
      if (this.devices_.has(c.id)) this.emit('device.credentials_rotated', c.id);
      return;
    }
    const d = await this.readStable(() => this.store.getDevice(c.id));
    if (d) this.cacheDevice(d, false);
    else if (this.devices_.has(c.id)) this.dropDevice(c.id, false);
  }

  /** Notifications may have been missed: reload everything, letting go of devices that are gone. */
  private async resync(): Promise<void> {
    // read first, then swap at once: the cache is never empty while the store answers
    const all = await this.readStable(() => this.readAll());
    const gone = [...this.devices_.keys()].filter((id) => !all.devices.has(id));
    this.replaceCache(all);
    for (const id of gone) this.dropDevice(id, false);
  }

  /** `read`, again if one of this node's own changes reached the cache while it waited. */
  private async readStable<T>(read: () => Awaitable<T>): Promise<T> {
    for (;;) {
      const seen = this.localChanges;
      const value = await read();
      if (seen === this.localChanges) return value;
    }
  }

  private async load(): Promise<void> {
    this.replaceCache(await this.readAll());
  }

  private replaceCache(all: { devices: Map<string, Device>; buildings: Map<string, Building> }): void {
    this.devices_.clear();
    for (const [id, d] of all.devices) this.devices_.set(id, d);
    this.buildings.clear();
    for (const [id, b] of all.buildings) this.buildings.set(id, b);
    this.bindings = undefined;
  }

  /** Every device and building as stored. */
  private async readAll(): Promise<{ devices: Map<string, Device>; buildings: Map<string, Building> }> {
    const devices = new Map<string, Device>();
    const buildings = new Map<string, Building>();
    for (const d of await this.store.allDevices()) devices.set(d.id, d);
    for (let after: string | undefined; ; ) {
      const batch = await this.store.listBuildings({}, after, LOAD_PAGE);
      for (const b of batch) buildings.set(b.id, b);
      if (batch.length < LOAD_PAGE) break;
      after = batch[batch.length - 1]!.id;
    }
    return { devices, buildings };
  }

  /** Runs `fn` in the caller's unit of work, or in one of its own. */
  private within<T>(uow: UnitOfWork | undefined, fn: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return uow ? fn(uow) : this.runUnitOfWork(fn);
  }

  onChange(listener: RegistryListener): void {
    this.listeners.push(listener);
  }

  onBuildingChange(listener: BuildingListener): void {
    this.buildingListeners.push(listener);
  }

  /** Told when a device goes in service (its commissioning alerts are filed, its rule state reset). */
  onInService(listener: InServiceListener): void {
    this.inServiceListeners.push(listener);
  }

  private emitBuilding(type: 'building.created' | 'building.updated' | 'building.deleted', building: Building): void {
    for (const l of this.buildingListeners) l({ type, building });
  }

  private emit(type: 'device.removed' | 'device.credentials_rotated', deviceId: string): void {
    for (const l of this.listeners) l({ type, deviceId });
  }

  // ── buildings ───────────────────────────────────────────────────────────────
  createBuilding(input: BuildingInput, uow?: UnitOfWork): Promise<Building> {
    return this.within(uow, async (u) => {
      const id = input.id ?? `b-${randomBytes(5).toString('hex')}`;
      if (this.buildings.has(id)) throw new ConflictError('building_exists', `building ${id} already exists`);
      const ts = this.now().toISOString();
      const building: Building = { ...input, id, createdAt: ts, updatedAt: ts };
      u.write(() => this.store.insertBuilding(building));
      u.afterCommit(() => {
        this.buildings.set(id, building);
        this.localChanges++;
        this.emitBuilding('building.created', building);
      });
      return building;
    });
  }

  /** From memory. */
  getBuilding(id: string): Building {
    const b = this.buildings.get(id);
    if (!b) throw new NotFoundError('building', id);
    return b;
  }

  async listBuildings(filter: BuildingFilter, cursor: string | undefined, limit: number): Promise<Page<Building>> {
    return page(await this.store.listBuildings(filter, decodeCursor(cursor), limit + 1), limit);
  }

  updateBuilding(id: string, patch: BuildingPatch, uow?: UnitOfWork): Promise<Building> {
    return this.within(uow, async (u) => {
      const current = this.getBuilding(id);
      const next: Building = { ...current, ...patch, id, updatedAt: this.now().toISOString() };
      u.write(() => this.store.updateBuilding(id, next));
      u.afterCommit(() => {
        this.buildings.set(id, next);
        this.localChanges++;
        this.emitBuilding('building.updated', next);
      });
      return next;
    });
  }

  deleteBuilding(id: string, uow?: UnitOfWork): Promise<void> {
    return this.within(uow, async (u) => {
      const building = this.getBuilding(id);
      const n = await this.store.countDevicesInBuilding(id);
      if (n > 0) throw new ConflictError('building_has_devices', `building ${id} still has ${n} device(s); delete them first`);
      u.write(() => this.store.deleteBuilding(id));
      u.afterCommit(() => {
        this.buildings.delete(id);
        this.localChanges++;
        this.emitBuilding('building.deleted', building);
      });
    });
  }

  // ── devices ─────────────────────────────────────────────────────────────────
  createDevice(input: DeviceInput, uow?: UnitOfWork): Promise<{ device: Device; credentials: Credentials }> {
    return this.within(uow, (u) => this.createDeviceIn(u, input));
  }

  private async createDeviceIn(u: UnitOfWork, input: DeviceInput): Promise<{ device: Device; credentials: Credentials }> {
    this.getBuilding(input.buildingId);
    const id = input.id ?? `dev-${randomBytes(6).toString('hex')}`;
    if (this.devices_.has(id)) throw new ConflictError('device_exists', `device ${id} already exists`);
    this.checkAddressFree(input.address, id);
    this.checkGb26875Source(input.gb26875Source, id, input.kind);
    const ts = this.now().toISOString();
    const { inService, ...fields } = input;
    // a new device starts in commissioning (调试) unless it is registered in service (issue #17 item 6)
    const device: Device = { ...fields, id, rules: input.rules ?? null, inServiceAt: inService ? ts : null, createdAt: ts, updatedAt: ts };
    // generated here, never chosen by a person: stored as a fast digest (ADR 0007)
    const password = generateSecret();
    const hash = hashGeneratedSecret(password);
    u.write(() => this.store.insertDevice(device, { deviceId: id, username: id, hash, rotatedAt: ts }));
    u.afterCommit(() => this.cacheDevice(device));
    return { device, credentials: { username: id, password } };
  }

  rotateCredentials(id: string, uow?: UnitOfWork): Promise<Credentials> {
    return this.within(uow, async (u) => {
      this.getDevice(id);
      const password = generateSecret();
      const hash = hashGeneratedSecret(password);
      u.write(() => this.store.setCredential({ deviceId: id, username: id, hash, rotatedAt: this.now().toISOString() }));
      u.afterCommit(() => {
        this.verified.forget(id);
        this.emit('device.credentials_rotated', id);
      });
      return { username: id, password };
    });
  }

  /** A GB/T 26875.3 address identifies one device (unique index; checked here for a clear error). */
  private checkAddressFree(address: number | null | undefined, id: string): void {
    if (address === undefined || address === null) return;
    const other = this.deviceByAddress(address);
    if (other && other.id !== id) throw new ConflictError('device_address_exists', `address ${address} belongs to device ${other.id}`);
  }

  /**
   * A water_pressure device's analog source (issue #16 item 7): the UITD must exist, be a uitd, and
   * no other device may bind a component this binding could also match.
   */
  private checkGb26875Source(source: Gb26875Source | null | undefined, id: string, kind: Device['kind']): void {
    if (source === undefined || source === null) return;
    if (kind !== 'water_pressure') throw new BadRequestError('gb26875_source_pressure_only', 'gb26875Source applies to water_pressure devices only');
    const uitd = this.devices_.get(source.uitdId);
    if (!uitd || uitd.kind !== 'uitd') {
      throw new BadRequestError('gb26875_source_not_uitd', `gb26875Source.uitdId ${source.uitdId} is not a registered uitd device / 用户信息传输装置 ${source.uitdId} 未登记`);
    }
    for (const d of this.devices_.values()) {
      if (d.id !== id && d.gb26875Source && overlaps(d.gb26875Source, source)) {
        throw new ConflictError('gb26875_source_bound', `component ${source.componentAddress} of ${source.uitdId} is already bound to device ${d.id}`);
      }
    }
  }

  /** The device bound to this analog component of a UITD, if any; from memory. */
  deviceByGb26875Source(uitdId: string, ref: { systemType: number; systemAddress: number; componentType: number; componentAddress: number }): Device | undefined {
    if (!this.bindings) {
      const m = new Map<string, Device[]>();
      for (const d of this.devices_.values()) {
        if (!d.gb26875Source) continue;
        const list = m.get(d.gb26875Source.uitdId);
        if (list) list.push(d);
        else m.set(d.gb26875Source.uitdId, [d]);
      }
      this.bindings = m;
    }
    return this.bindings.get(uitdId)?.find((d) => {
      const s = d.gb26875Source!;
      return (
        s.componentAddress === ref.componentAddress &&
        (s.systemType === undefined || s.systemType === ref.systemType) &&
        (s.systemAddress === undefined || s.systemAddress === ref.systemAddress) &&
        (s.componentType === undefined || s.componentType === ref.componentType)
      );
    });
  }

  /** The device (kind uitd) whose GB/T 26875.3 source address this is; from memory. */
  deviceByAddress(address: number): Device | undefined {
    for (const d of this.devices_.values()) if (d.address === address) return d;
    return undefined;
  }

  getDevice(id: string): Device {
    const d = this.devices_.get(id);
    if (!d) throw new NotFoundError('device', id);
    return d;
  }

  async listDevices(filter: DeviceFilter, cursor: string | undefined, limit: number): Promise<Page<Device>> {
    return page(await this.store.listDevices(filter, decodeCursor(cursor), limit + 1), limit);
  }

  /** Every device whose id is after `afterId`, in id order (for filters the store cannot apply). */
  async scanDevices(filter: DeviceFilter, afterId: string | undefined, limit: number): Promise<Device[]> {
    return this.store.listDevices(filter, afterId, limit);
  }

  updateDevice(id: string, patch: DevicePatch, uow?: UnitOfWork): Promise<Device> {
    return this.within(uow, async (u) => this.updateDeviceIn(u, id, patch));
  }

  private updateDeviceIn(u: UnitOfWork, id: string, patch: DevicePatch): Device {
    const current = this.getDevice(id);
    if (patch.buildingId !== undefined) this.getBuilding(patch.buildingId);
    this.checkAddressFree(patch.address, id);
    this.checkGb26875Source(patch.gb26875Source, id, current.kind);
    if (patch.allowedPeers != null && current.kind !== 'uitd') {
      throw new BadRequestError('allowed_peers_uitd_only', 'allowedPeers applies to uitd devices only');
    }
    const next: Device = { ...current, ...patch, id, kind: current.kind, updatedAt: this.now().toISOString() };
    if (next.allowedPeers === null) delete next.allowedPeers; // null resets: shown like a device that never had one
    if (next.gb26875Source === null) delete next.gb26875Source;
    u.write(() => this.store.updateDevice(id, next));
    u.afterCommit(() => this.cacheDevice(next));
    return next;
  }

  /** `local`: this node's own committed change (counted, see localChanges). */
  private cacheDevice(d: Device, local = true): void {
    this.devices_.set(d.id, d);
    this.bindings = undefined;
    if (local) this.localChanges++;
  }

  /** The device is gone (deleted here or by another node): forgotten, and its sessions are let go of. */
  private dropDevice(id: string, local: boolean): void {
    this.devices_.delete(id);
    this.bindings = undefined;
    if (local) this.localChanges++;
    this.verified.forget(id);
    this.emit('device.removed', id);
  }

  // ── commissioning (issue #17 item 6) ────────────────────────────────────────
  /** Whether the device is still being commissioned, and when it went or goes in service. */
  commissioning(device: Device): CommissioningState {
    return commissioningState(device, this.now().getTime(), this.commissioningMaxH);
  }

  isCommissioning(device: Device): boolean {
    return !this.commissioning(device).inService;
  }

  /**
   * Put a device in service now, by `by` (a username). Idempotent: a device already in service (by
   * a person, at registration or by the bound) keeps its time, and `changed` is false.
   */
  putInService(id: string, by: string, uow?: UnitOfWork): Promise<{ device: Device; changed: boolean }> {
    return this.within(uow, async (u) => {
      const current = this.getDevice(id);
      if (this.commissioning(current).inService) return { device: current, changed: false };
      const next: Device = { ...current, inServiceAt: this.now().toISOString() };
      u.write(() => this.store.updateDevice(id, next));
      // in the same transaction: its commissioning alerts are filed with it (onInService)
      u.write(() => {
        for (const l of this.inServiceListeners) l(next, by);
      });
      u.afterCommit(() => this.cacheDevice(next));
      return { device: next, changed: true };
    });
  }

  /**
   * Persist the bound: every device whose COMMISSIONING_MAX_H has passed gets inServiceAt =
   * registration + bound, so that a larger bound configured later does not take it out of
   * service again. Returns the devices that went in service this way.
   */
  async settleCommissioning(): Promise<Device[]> {
    const now = this.now().getTime();
    const due: Device[] = [];
    for (const d of this.devices_.values()) {
      if (d.inServiceAt !== null) continue;
      const bound = commissioningBoundAt(d, this.commissioningMaxH);
      if (now >= bound) due.push({ ...d, inServiceAt: new Date(bound).toISOString() });
    }
    if (due.length === 0) return [];
    return this.runUnitOfWork(async (u) => {
      for (const next of due) u.write(() => this.store.updateDevice(next.id, next));
      u.write(() => {
        for (const d of due) for (const l of this.inServiceListeners) l(d, 'system');
      });
      u.afterCommit(() => {
        for (const next of due) this.cacheDevice(next);
      });
      return due;
    });
  }

  deleteDevice(id: string, uow?: UnitOfWork): Promise<void> {
    return this.within(uow, async (u) => {
      this.getDevice(id);
      u.write(() => this.store.deleteDevice(id));
      u.afterCommit(() => this.dropDevice(id, true));
    });
  }

  /** every registered building, from memory */
  buildingsInMemory(): IterableIterator<Building> {
    return this.buildings.values();
  }

  /** every registered device, from memory */
  devices(): IterableIterator<Device> {
    return this.devices_.values();
  }

  // ── hot path ────────────────────────────────────────────────────────────────
  /** Device and building for a device id, from memory; undefined for an unknown device. */
  context(deviceId: string): DeviceContext | undefined {
    const device = this.devices_.get(deviceId);
    if (!device) return undefined;
    return { device, building: this.buildings.get(device.buildingId) };
  }

  /** Constant-time check of a device's secret (see checkDevice). */
  async verifyDevice(username: string, secret: string): Promise<boolean> {
    return (await this.checkDevice(username, secret)) === 'ok';
  }

  /**
   * Check a device's secret in constant time. The fast form (`sha256$…`) costs microseconds, and
   * so does an unknown id (checked against a dummy of the same form). A legacy scrypt hash costs
   * ~50 ms of CPU: it runs only when `gate` admits it (else `busy`), and a good secret replaces the
   * hash with the fast form, persisted, so it is slow once per device.
   */
  async checkDevice(username: string, secret: string, gate?: SlowCheckGate): Promise<DeviceCheck> {
    const cred = this.devices_.has(username) ? await this.store.getCredential(username) : undefined;
    if (!cred) {
      verifyGeneratedSecret(secret, UNKNOWN_DEVICE_HASH);
      return 'bad';
    }
    if (isFastHash(cred.hash)) return verifyGeneratedSecret(secret, cred.hash) ? 'ok' : 'bad';
    if (this.verified.has(username, secret, cred.hash)) {
      void this.upgradeCredential(username, secret, cred.hash);
      return 'ok';
    }
    const done = gate ? gate() : () => undefined;
    if (!done) return 'busy';
    let ok = false;
    try {
      ok = await verifySecret(secret, cred.hash);
    } finally {
      done(ok);
    }
    // rotated or deleted while scrypt ran: the old secret no longer counts
    if ((await this.store.getCredential(username))?.hash !== cred.hash) return 'bad';
    if (!ok) return 'bad';
    this.verified.remember(username, secret, cred.hash);
    void this.upgradeCredential(username, secret, cred.hash);
    return 'ok';
  }

  /**
   * Replace a verified legacy hash with the fast form, only while it is still that hash (a rotation
   * in between wins: the old secret must not come back); a failed write is retried next time.
   */
  private async upgradeCredential(username: string, secret: string, legacyHash: string): Promise<void> {
    try {
      if (await this.store.replaceCredentialHash(username, legacyHash, hashGeneratedSecret(secret))) this.verified.forget(username);
    } catch {
      // the database is busy: the in-memory memo keeps the device fast until the next try
    }
  }
}
