/**
 * RegistryStore over PostgreSQL: buildings, devices and device credentials (hashes only), the twin
 * of ../sqlite/sqlite-registry-store.ts (tables: migrations.ts, version 1). Both pass
 * tests/support/registry-store-contract.ts.
 *
 * Uniqueness is the database's (docs/adr/0008): a second id or a taken GB/T 26875.3 address is
 * refused by a constraint, and the violation becomes the ConflictError DeviceRegistry raises for
 * the same case (`building_exists`, `device_exists`, `device_address_exists`); nothing is checked
 * before a write. A foreign-key violation becomes the registry's error too: a building that still
 * has devices (`building_has_devices`), a device in a building or a credential for a device that
 * does not exist (NotFoundError).
 *
 * deleteDevice deletes the device, by the cascade its credential, and its live status row
 * (schema-state.ts), in one statement, as the SQLite store does in one transaction.
 *
 * Every node keeps the registry in memory (DeviceRegistry): each write also NOTIFYs
 * REGISTRY_CHANNEL, in its own transaction (or the caller's, inside a unit of work), with this
 * store's node id and what changed, so the notification goes out only once the change is committed;
 * `watch` LISTENs and passes on the other nodes' changes (pg-notify.ts).
 */
import { randomUUID } from 'node:crypto';
import type {
  Building,
  BuildingFilter,
  Device,
  DeviceFilter,
  RegistryChange,
  RegistryStore,
  RegistryWatchHandlers,
  ScopeFilter,
  StoredCredential,
} from '../../devices/model.js';
import { ConflictError, NotFoundError } from '../../shared/errors.js';
import { BUILDING_COLUMNS, DEVICE_COLUMNS, buildingParams, deviceParams, toBuilding, toDevice, type BuildingRow, type DeviceRow } from '../registry-rows.js';
import { foreignKeyViolation, uniqueViolation, type PgDatabase } from './database.js';
import { listen, notify } from './pg-notify.js';

/** A device row as node-postgres gives it: json columns parsed, the bigint address as a string. */
interface PgDeviceRow extends Omit<DeviceRow, 'address'> {
  address: string | null;
}

const deviceOf = (r: PgDeviceRow): Device => toDevice({ ...r, address: r.address === null ? null : Number(r.address) });

interface CredentialRow {
  device_id: string;
  username: string;
  hash: string;
  rotated_at: string;
}

/** The constraints (migrations.ts) whose violations become domain errors. */
const BUILDINGS_PKEY = 'buildings_pkey';
const DEVICES_PKEY = 'devices_pkey';
const DEVICES_ADDRESS = 'devices_address';
const DEVICES_BUILDING_FKEY = 'devices_building_fkey';
const CREDENTIALS_DEVICE_FKEY = 'device_credentials_device_fkey';

const toCredential = (r: CredentialRow): StoredCredential => ({ deviceId: r.device_id, username: r.username, hash: r.hash, rotatedAt: r.rotated_at });

/** `INSERT INTO table (cols) VALUES ($1, …)`; the values are `insertValues(cols, params)`. */
function insertSql(table: string, cols: readonly string[]): string {
  return `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`;
}

/** Every column but id and created_at: what an update replaces. */
const updatedCols = (cols: readonly string[]) => cols.filter((c) => c !== 'id' && c !== 'created_at');

/** `UPDATE table SET col = $2, … WHERE id = $1`; the values are `updateValues(id, cols, params)`. */
function updateSql(table: string, cols: readonly string[]): string {
  const set = updatedCols(cols).map((c, i) => `${c} = $${i + 2}`);
  return `UPDATE ${table} SET ${set.join(', ')} WHERE id = $1`;
}

const insertValues = <C extends string>(cols: readonly C[], params: Record<C, unknown>) => cols.map((c) => params[c]);
const updateValues = <C extends string>(id: string, cols: readonly C[], params: Record<C, unknown>) => [
  id,
  ...(updatedCols(cols) as C[]).map((c) => params[c]),
];

const INSERT_BUILDING = insertSql('buildings', BUILDING_COLUMNS);
const UPDATE_BUILDING = updateSql('buildings', BUILDING_COLUMNS);
const INSERT_DEVICE = insertSql('devices', DEVICE_COLUMNS);
const UPDATE_DEVICE = updateSql('devices', DEVICE_COLUMNS);
const UPSERT_CREDENTIAL = `
  INSERT INTO device_credentials (device_id, username, hash, rotated_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (device_id) DO UPDATE SET username = excluded.username, hash = excluded.hash, rotated_at = excluded.rotated_at`;

/** A list query's WHERE clause and its parameters, numbered as they are added. */
class Where {
  readonly conditions: string[] = [];
  readonly params: unknown[] = [];

  /** Adds a parameter; its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(condition: string): void {
    this.conditions.push(condition);
  }

  toString(): string {
    return this.conditions.join(' AND ');
  }
}

/** `buildingColumn` in the principal's scope: a building in one of its streets or one of its buildings. */
function addScope(where: Where, scope: ScopeFilter | undefined, buildingColumn: string): void {
  if (!scope) return;
  const streets = where.param([...(scope.streets ?? [])]);
  const buildingIds = where.param([...(scope.buildingIds ?? [])]);
  where.add(`(${buildingColumn} IN (SELECT id FROM buildings WHERE street = ANY(${streets}::text[]))
          OR ${buildingColumn} = ANY(${buildingIds}::text[]))`);
}

/** The registry's error for a violated constraint of buildings; any other error as it is. */
function buildingError(err: unknown, id: string): unknown {
  if (uniqueViolation(err) === BUILDINGS_PKEY) return new ConflictError('building_exists', `building ${id} already exists`);
  if (foreignKeyViolation(err) === DEVICES_BUILDING_FKEY) {
    return new ConflictError('building_has_devices', `building ${id} still has device(s); delete them first`);
  }
  return err;
}

/** The registry's error for a violated constraint of devices; any other error as it is. */
function deviceError(err: unknown, d: Device): unknown {
  const unique = uniqueViolation(err);
  if (unique === DEVICES_PKEY) return new ConflictError('device_exists', `device ${d.id} already exists`);
  if (unique === DEVICES_ADDRESS) return new ConflictError('device_address_exists', `address ${d.address} belongs to another device`);
  if (foreignKeyViolation(err) === DEVICES_BUILDING_FKEY) return new NotFoundError('building', d.buildingId);
  return credentialError(err, d.id);
}

function credentialError(err: unknown, deviceId: string): unknown {
  if (foreignKeyViolation(err) === CREDENTIALS_DEVICE_FKEY) return new NotFoundError('device', deviceId);
  return err;
}

const credentialValues = (cred: StoredCredential) => [cred.deviceId, cred.username, cred.hash, cred.rotatedAt];

/** The channel of the registry's change notifications. */
export const REGISTRY_CHANNEL = 'firewatch_registry';

export class PgRegistryStore implements RegistryStore {
  /** this node's id in its notifications, so it does not reload on its own changes */
  readonly node: string;

  constructor(
    private readonly db: PgDatabase,
    opts: { node?: string } = {},
  ) {
    this.node = opts.node ?? randomUUID();
  }

  async watch(handlers: RegistryWatchHandlers): Promise<{ close(): Promise<void> }> {
    return listen(this.db, REGISTRY_CHANNEL, {
      onMessage: (payload) => {
        let m: { node?: unknown; kind?: unknown; id?: unknown };
        try {
          m = JSON.parse(payload) as typeof m;
        } catch {
          return; // not ours
        }
        if (m.node === this.node || typeof m.id !== 'string') return;
        if (m.kind === 'building' || m.kind === 'device' || m.kind === 'credential') handlers.onChange({ kind: m.kind, id: m.id });
      },
      onResync: () => handlers.onResync(),
      ...(handlers.onError ? { onError: (err: Error) => handlers.onError?.(err) } : {}),
    });
  }

  /** `write` and its notification, in one transaction (a savepoint of the caller's, if any). */
  private changed<T>(kind: RegistryChange['kind'], id: string, write: () => Promise<T>): Promise<T> {
    return this.db.transaction(async () => {
      const out = await write();
      await notify(this.db, REGISTRY_CHANNEL, JSON.stringify({ node: this.node, kind, id }));
      return out;
    });
  }

  async insertBuilding(b: Building): Promise<void> {
    try {
      await this.changed('building', b.id, () => this.db.query(INSERT_BUILDING, insertValues(BUILDING_COLUMNS, buildingParams(b))));
    } catch (err) {
      throw buildingError(err, b.id);
    }
  }

  async updateBuilding(id: string, b: Building): Promise<void> {
    await this.changed('building', id, () => this.db.query(UPDATE_BUILDING, updateValues(id, BUILDING_COLUMNS, buildingParams(b))));
  }

  async deleteBuilding(id: string): Promise<boolean> {
    try {
      const rows = await this.changed('building', id, () => this.db.query('DELETE FROM buildings WHERE id = $1 RETURNING id', [id]));
      return rows.length > 0;
    } catch (err) {
      throw buildingError(err, id);
    }
  }

  async getBuilding(id: string): Promise<Building | undefined> {
    const rows = await this.db.query<BuildingRow>(`SELECT ${BUILDING_COLUMNS.join(', ')} FROM buildings WHERE id = $1`, [id]);
    return rows[0] && toBuilding(rows[0]);
  }

  async listBuildings(filter: BuildingFilter, afterId: string | undefined, limit: number): Promise<Building[]> {
    const where = new Where();
    where.add(`id > ${where.param(afterId ?? '')}`);
    if (filter.street !== undefined) where.add(`street = ${where.param(filter.street)}`);
    if (filter.use !== undefined) where.add(`use = ${where.param(filter.use)}`);
    addScope(where, filter.scope, 'id');
    const sql = `SELECT ${BUILDING_COLUMNS.join(', ')} FROM buildings WHERE ${where} ORDER BY id LIMIT ${where.param(limit)}`;
    const rows = await this.db.query<BuildingRow>(sql, where.params);
    return rows.map(toBuilding);
  }

  async countDevicesInBuilding(id: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM devices WHERE building_id = $1', [id]);
    return rows[0]?.n ?? 0;
  }

  async insertDevice(d: Device, cred: StoredCredential): Promise<void> {
    try {
      await this.changed('device', d.id, () =>
        this.db.transaction(async (client) => {
          await client.query(INSERT_DEVICE, insertValues(DEVICE_COLUMNS, deviceParams(d)));
          await client.query(UPSERT_CREDENTIAL, credentialValues(cred));
        }),
      );
    } catch (err) {
      throw deviceError(err, d);
    }
  }

  async updateDevice(id: string, d: Device): Promise<void> {
    try {
      await this.changed('device', id, () => this.db.query(UPDATE_DEVICE, updateValues(id, DEVICE_COLUMNS, deviceParams(d))));
    } catch (err) {
      throw deviceError(err, { ...d, id });
    }
  }

  /** The device and, by the cascade, its credential. */
  async deleteDevice(id: string): Promise<boolean> {
    const rows = await this.changed('device', id, () =>
      this.db.query(
        `WITH status AS (DELETE FROM device_status WHERE device_id = $1)
         DELETE FROM devices WHERE id = $1 RETURNING id`,
        [id],
      ),
    );
    return rows.length > 0;
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const rows = await this.db.query<PgDeviceRow>(`SELECT ${DEVICE_COLUMNS.join(', ')} FROM devices WHERE id = $1`, [id]);
    return rows[0] && deviceOf(rows[0]);
  }

  async listDevices(filter: DeviceFilter, afterId: string | undefined, limit: number): Promise<Device[]> {
    const where = new Where();
    where.add(`id > ${where.param(afterId ?? '')}`);
    if (filter.buildingId !== undefined) where.add(`building_id = ${where.param(filter.buildingId)}`);
    if (filter.kind !== undefined) where.add(`kind = ${where.param(filter.kind)}`);
    addScope(where, filter.scope, 'building_id');
    const sql = `SELECT ${DEVICE_COLUMNS.join(', ')} FROM devices WHERE ${where} ORDER BY id LIMIT ${where.param(limit)}`;
    const rows = await this.db.query<PgDeviceRow>(sql, where.params);
    return rows.map(deviceOf);
  }

  /** Every device, in id order (the interface promises no order; SQLite's comes out in insertion order). */
  async allDevices(): Promise<Device[]> {
    const rows = await this.db.query<PgDeviceRow>(`SELECT ${DEVICE_COLUMNS.join(', ')} FROM devices ORDER BY id`);
    return rows.map(deviceOf);
  }

  async getCredential(deviceId: string): Promise<StoredCredential | undefined> {
    const rows = await this.db.query<CredentialRow>('SELECT device_id, username, hash, rotated_at FROM device_credentials WHERE device_id = $1', [deviceId]);
    return rows[0] && toCredential(rows[0]);
  }

  async replaceCredentialHash(deviceId: string, fromHash: string, toHash: string): Promise<boolean> {
    const rows = await this.db.query('UPDATE device_credentials SET hash = $1 WHERE device_id = $2 AND hash = $3 RETURNING device_id', [toHash, deviceId, fromHash]);
    return rows.length === 1;
  }

  async setCredential(cred: StoredCredential): Promise<void> {
    try {
      await this.changed('credential', cred.deviceId, () => this.db.query(UPSERT_CREDENTIAL, credentialValues(cred)));
    } catch (err) {
      throw credentialError(err, cred.deviceId);
    }
  }
}
