/**
 * The registry service: buildings and devices, their credentials, and a read-through cache that
 * the hot path (authenticate, enrich) uses without touching the database.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { generateSecret, hashSecret, verifySecret, VerifiedSecretCache } from './credentials.js';
import type {
  Building,
  BuildingFilter,
  BuildingInput,
  BuildingPatch,
  Device,
  DeviceFilter,
  DeviceInput,
  DevicePatch,
  Page,
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

export type RegistryListener = (event: { type: 'device_removed' | 'credentials_rotated'; deviceId: string }) => void;
/** Building registry changes (the platform uplink forwards them, issue #6). */
export type BuildingListener = (event: { type: 'building.created' | 'building.updated' | 'building.deleted'; building: Building }) => void;

/** Ids travel in MQTT topics and URLs: no '/', '+', '#', spaces. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$/;

const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
const decodeCursor = (c: string | undefined) => (c ? Buffer.from(c, 'base64url').toString('utf8') : undefined);

function page<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!.id) : null };
}

export class DeviceRegistry {
  private readonly devices_ = new Map<string, Device>();
  private readonly buildings = new Map<string, Building>();
  private readonly verified = new VerifiedSecretCache();
  private readonly listeners: RegistryListener[] = [];
  private readonly buildingListeners: BuildingListener[] = [];

  constructor(
    private readonly store: RegistryStore,
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const d of store.allDevices()) this.devices_.set(d.id, d);
  }

  onChange(listener: RegistryListener): void {
    this.listeners.push(listener);
  }

  onBuildingChange(listener: BuildingListener): void {
    this.buildingListeners.push(listener);
  }

  private emitBuilding(type: 'building.created' | 'building.updated' | 'building.deleted', building: Building): void {
    for (const l of this.buildingListeners) l({ type, building });
  }

  private emit(type: 'device_removed' | 'credentials_rotated', deviceId: string): void {
    for (const l of this.listeners) l({ type, deviceId });
  }

  // ── buildings ───────────────────────────────────────────────────────────────
  createBuilding(input: BuildingInput): Building {
    const id = input.id ?? `b-${randomBytes(5).toString('hex')}`;
    if (this.store.getBuilding(id)) throw new ConflictError('building_exists', `building ${id} already exists`);
    const ts = this.now().toISOString();
    const building: Building = { ...input, id, createdAt: ts, updatedAt: ts };
    this.store.insertBuilding(building);
    this.emitBuilding('building.created', building);
    return building;
  }

  getBuilding(id: string): Building {
    const b = this.store.getBuilding(id);
    if (!b) throw new NotFoundError('building', id);
    return b;
  }

  listBuildings(filter: BuildingFilter, cursor: string | undefined, limit: number): Page<Building> {
    return page(this.store.listBuildings(filter, decodeCursor(cursor), limit + 1), limit);
  }

  updateBuilding(id: string, patch: BuildingPatch): Building {
    const current = this.getBuilding(id);
    const next: Building = { ...current, ...patch, id, updatedAt: this.now().toISOString() };
    this.store.updateBuilding(id, next);
    this.buildings.delete(id);
    this.emitBuilding('building.updated', next);
    return next;
  }

  deleteBuilding(id: string): void {
    const building = this.getBuilding(id);
    const n = this.store.countDevicesInBuilding(id);
    if (n > 0) throw new ConflictError('building_has_devices', `building ${id} still has ${n} device(s); delete them first`);
    this.store.deleteBuilding(id);
    this.buildings.delete(id);
    this.emitBuilding('building.deleted', building);
  }

  // ── devices ─────────────────────────────────────────────────────────────────
  async createDevice(input: DeviceInput): Promise<{ device: Device; credentials: Credentials }> {
    this.getBuilding(input.buildingId);
    const id = input.id ?? `dev-${randomBytes(6).toString('hex')}`;
    if (this.devices_.has(id) || this.store.getDevice(id)) throw new ConflictError('device_exists', `device ${id} already exists`);
    this.checkAddressFree(input.address, id);
    const ts = this.now().toISOString();
    const device: Device = { ...input, id, rules: input.rules ?? null, createdAt: ts, updatedAt: ts };
    const password = generateSecret();
    const hash = await hashSecret(password);
    // re-check after the await: two concurrent creates with the same id
    if (this.devices_.has(id)) throw new ConflictError('device_exists', `device ${id} already exists`);
    this.checkAddressFree(input.address, id);
    this.store.insertDevice(device, { deviceId: id, username: id, hash, rotatedAt: ts });
    this.devices_.set(id, device);
    return { device, credentials: { username: id, password } };
  }

  async rotateCredentials(id: string): Promise<Credentials> {
    this.getDevice(id);
    const password = generateSecret();
    const hash = await hashSecret(password);
    this.store.setCredential({ deviceId: id, username: id, hash, rotatedAt: this.now().toISOString() });
    this.verified.forget(id);
    this.emit('credentials_rotated', id);
    return { username: id, password };
  }

  /** A GB/T 26875.3 address identifies one device (unique index; checked here for a clear error). */
  private checkAddressFree(address: number | null | undefined, id: string): void {
    if (address === undefined || address === null) return;
    const other = this.deviceByAddress(address);
    if (other && other.id !== id) throw new ConflictError('device_address_exists', `address ${address} belongs to device ${other.id}`);
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

  listDevices(filter: DeviceFilter, cursor: string | undefined, limit: number): Page<Device> {
    return page(this.store.listDevices(filter, decodeCursor(cursor), limit + 1), limit);
  }

  /** Every device whose id is after `afterId`, in id order (for filters the store cannot apply). */
  scanDevices(filter: DeviceFilter, afterId: string | undefined, limit: number): Device[] {
    return this.store.listDevices(filter, afterId, limit);
  }

  updateDevice(id: string, patch: DevicePatch): Device {
    const current = this.getDevice(id);
    if (patch.buildingId !== undefined) this.getBuilding(patch.buildingId);
    this.checkAddressFree(patch.address, id);
    const next: Device = { ...current, ...patch, id, kind: current.kind, updatedAt: this.now().toISOString() };
    this.store.updateDevice(id, next);
    this.devices_.set(id, next);
    return next;
  }

  deleteDevice(id: string): void {
    this.getDevice(id);
    this.store.deleteDevice(id);
    this.devices_.delete(id);
    this.verified.forget(id);
    this.emit('device_removed', id);
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
    let building = this.buildings.get(device.buildingId);
    if (!building) {
      building = this.store.getBuilding(device.buildingId);
      if (building) this.buildings.set(building.id, building);
    }
    return { device, building };
  }

  /** Constant-time check of a device's secret; the slow hash runs once per (device, secret). */
  async verifyDevice(username: string, secret: string): Promise<boolean> {
    const cred = this.devices_.has(username) ? this.store.getCredential(username) : undefined;
    if (!cred) {
      // spend comparable time on unknown ids so they cannot be told apart by timing
      await hashSecret(secret);
      return false;
    }
    if (this.verified.has(username, secret, cred.hash)) return true;
    const ok = await verifySecret(secret, cred.hash);
    if (ok) this.verified.remember(username, secret, cred.hash);
    return ok;
  }
}
