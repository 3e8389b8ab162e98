/** RegistryStore over SQLite: buildings, devices and device credentials (hashes only). */
import type {
  Building,
  BuildingFilter,
  Device,
  DeviceFilter,
  Gb26875Source,
  RegistryStore,
  ScopeFilter,
  StoredCredential,
} from '../../devices/model.js';
import { ConflictError, NotFoundError } from '../../shared/errors.js';
import type { Db } from './database.js';

/**
 * A violated constraint as the registry's own error, as the PostgreSQL store raises it (the
 * registry's checks before a write only choose the message; a race past them ends here, not in a
 * 500). SQLite names unique constraints by their columns and foreign keys not at all, so the write
 * that failed says which one it was.
 */
function constraint(err: unknown): 'primary' | 'address' | 'foreign' | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'primary';
  if (e?.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string' && e.message.endsWith('devices.address')) return 'address';
  if (e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign';
  return undefined;
}

function deviceError(err: unknown, d: Device): unknown {
  switch (constraint(err)) {
    case 'primary':
      return new ConflictError('device_exists', `device ${d.id} already exists`);
    case 'address':
      return new ConflictError('device_address_exists', `address ${d.address} belongs to another device`);
    case 'foreign':
      return new NotFoundError('building', d.buildingId);
    default:
      return err;
  }
}

interface BuildingRow {
  id: string;
  name: string;
  street: string;
  address: string;
  type: string;
  height_m: number | null;
  access_level_m: number | null;
  floors: number | null;
  area_m2: number | null;
  category: number | null;
  use: string;
  contact_name: string | null;
  contact_phone: string | null;
  survey: string | null;
  created_at: string;
  updated_at: string;
}

interface DeviceRow {
  id: string;
  building_id: string;
  kind: string;
  point: string | null;
  location: string | null;
  report_interval_s: number;
  vendor: string | null;
  model: string | null;
  rules: string | null;
  address: number | null;
  allowed_peers: string | null;
  gb26875_source: string | null;
  in_service_at: string | null;
  created_at: string;
  updated_at: string;
}

const toBuilding = (r: BuildingRow): Building => ({
  id: r.id,
  name: r.name,
  street: r.street as Building['street'],
  address: r.address,
  type: r.type as Building['type'],
  heightM: r.height_m,
  ...(r.access_level_m !== null ? { accessLevelM: r.access_level_m } : {}),
  floors: r.floors,
  areaM2: r.area_m2,
  category: r.category as Building['category'],
  use: r.use as Building['use'],
  contactName: r.contact_name,
  contactPhone: r.contact_phone,
  ...(r.survey !== null ? { survey: JSON.parse(r.survey) as Building['survey'] } : {}),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const buildingParams = (b: Building) => ({
  id: b.id,
  name: b.name,
  street: b.street,
  address: b.address,
  type: b.type,
  height_m: b.heightM,
  access_level_m: b.accessLevelM ?? null,
  floors: b.floors,
  area_m2: b.areaM2,
  category: b.category,
  use: b.use,
  contact_name: b.contactName,
  contact_phone: b.contactPhone,
  survey: b.survey ? JSON.stringify(b.survey) : null,
  created_at: b.createdAt,
  updated_at: b.updatedAt,
});

const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  buildingId: r.building_id,
  kind: r.kind as Device['kind'],
  point: r.point,
  location: r.location,
  reportIntervalS: r.report_interval_s,
  vendor: r.vendor,
  model: r.model,
  rules: r.rules === null ? null : (JSON.parse(r.rules) as Record<string, unknown>),
  ...(r.address !== null ? { address: r.address } : {}),
  ...(r.allowed_peers !== null ? { allowedPeers: JSON.parse(r.allowed_peers) as string[] } : {}),
  ...(r.gb26875_source !== null ? { gb26875Source: JSON.parse(r.gb26875_source) as Gb26875Source } : {}),
  inServiceAt: r.in_service_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const deviceParams = (d: Device) => ({
  id: d.id,
  building_id: d.buildingId,
  kind: d.kind,
  point: d.point,
  location: d.location,
  report_interval_s: d.reportIntervalS,
  vendor: d.vendor,
  model: d.model,
  rules: d.rules === null ? null : JSON.stringify(d.rules),
  address: d.address ?? null,
  allowed_peers: d.allowedPeers ? JSON.stringify(d.allowedPeers) : null,
  gb26875_source: d.gb26875Source ? JSON.stringify(d.gb26875Source) : null,
  // a record made without the field (e.g. seeded by the benchmark) counts as in service since registration
  in_service_at: d.inServiceAt === undefined ? d.createdAt : d.inServiceAt,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

const BUILDING_COLS =
  'id, name, street, address, type, height_m, access_level_m, floors, area_m2, category, use, contact_name, contact_phone, survey, created_at, updated_at';
const DEVICE_COLS =
  'id, building_id, kind, point, location, report_interval_s, vendor, model, rules, address, allowed_peers, gb26875_source, in_service_at, created_at, updated_at';
const placeholders = (cols: string) =>
  cols
    .split(',')
    .map((c) => `@${c.trim()}`)
    .join(', ');
const assignments = (cols: string) =>
  cols
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== 'id' && c !== 'created_at')
    .map((c) => `${c} = @${c}`)
    .join(', ');

/** `buildingColumn` in the principal's scope: a building in one of its streets or one of its buildings. */
function scopeClause(scope: ScopeFilter | undefined, buildingColumn: string): { sql: string; params: Record<string, string> } | undefined {
  if (!scope) return undefined;
  return {
    sql: `(${buildingColumn} IN (SELECT id FROM buildings WHERE street IN (SELECT value FROM json_each(@scopeStreets)))
          OR ${buildingColumn} IN (SELECT value FROM json_each(@scopeBuildings)))`,
    params: { scopeStreets: JSON.stringify(scope.streets ?? []), scopeBuildings: JSON.stringify(scope.buildingIds ?? []) },
  };
}

export class SqliteRegistryStore implements RegistryStore {
  constructor(private readonly db: Db) {}

  insertBuilding(b: Building): void {
    try {
      this.db.prepare(`INSERT INTO buildings (${BUILDING_COLS}) VALUES (${placeholders(BUILDING_COLS)})`).run(buildingParams(b));
    } catch (err) {
      throw constraint(err) === 'primary' ? new ConflictError('building_exists', `building ${b.id} already exists`) : err;
    }
  }

  updateBuilding(id: string, b: Building): void {
    this.db.prepare(`UPDATE buildings SET ${assignments(BUILDING_COLS)} WHERE id = @id`).run({ ...buildingParams(b), id });
  }

  deleteBuilding(id: string): boolean {
    try {
      return this.db.prepare('DELETE FROM buildings WHERE id = ?').run(id).changes > 0;
    } catch (err) {
      if (constraint(err) === 'foreign') throw new ConflictError('building_has_devices', `building ${id} still has device(s); delete them first`);
      throw err;
    }
  }

  getBuilding(id: string): Building | undefined {
    const row = this.db.prepare(`SELECT ${BUILDING_COLS} FROM buildings WHERE id = ?`).get(id) as BuildingRow | undefined;
    return row && toBuilding(row);
  }

  listBuildings(filter: BuildingFilter, afterId: string | undefined, limit: number): Building[] {
    const where = ['id > @after'];
    if (filter.street !== undefined) where.push('street = @street');
    if (filter.use !== undefined) where.push('use = @use');
    const scope = scopeClause(filter.scope, 'id');
    if (scope) where.push(scope.sql);
    const rows = this.db
      .prepare(`SELECT ${BUILDING_COLS} FROM buildings WHERE ${where.join(' AND ')} ORDER BY id LIMIT @limit`)
      .all({ after: afterId ?? '', street: filter.street, use: filter.use, limit, ...scope?.params }) as BuildingRow[];
    return rows.map(toBuilding);
  }

  countDevicesInBuilding(id: string): number {
    return this.db.prepare('SELECT COUNT(*) FROM devices WHERE building_id = ?').pluck().get(id) as number;
  }

  insertDevice(d: Device, cred: StoredCredential): void {
    try {
      this.db.transaction(() => {
        this.db.prepare(`INSERT INTO devices (${DEVICE_COLS}) VALUES (${placeholders(DEVICE_COLS)})`).run(deviceParams(d));
        this.setCredential(cred);
      })();
    } catch (err) {
      throw deviceError(err, d);
    }
  }

  updateDevice(id: string, d: Device): void {
    try {
      this.db.prepare(`UPDATE devices SET ${assignments(DEVICE_COLS)} WHERE id = @id`).run({ ...deviceParams(d), id });
    } catch (err) {
      throw deviceError(err, d);
    }
  }

  deleteDevice(id: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM device_status WHERE device_id = ?').run(id);
      return this.db.prepare('DELETE FROM devices WHERE id = ?').run(id).changes > 0;
    })();
  }

  getDevice(id: string): Device | undefined {
    const row = this.db.prepare(`SELECT ${DEVICE_COLS} FROM devices WHERE id = ?`).get(id) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  listDevices(filter: DeviceFilter, afterId: string | undefined, limit: number): Device[] {
    const where = ['id > @after'];
    if (filter.buildingId !== undefined) where.push('building_id = @buildingId');
    if (filter.kind !== undefined) where.push('kind = @kind');
    const scope = scopeClause(filter.scope, 'building_id');
    if (scope) where.push(scope.sql);
    const rows = this.db
      .prepare(`SELECT ${DEVICE_COLS} FROM devices WHERE ${where.join(' AND ')} ORDER BY id LIMIT @limit`)
      .all({ after: afterId ?? '', buildingId: filter.buildingId, kind: filter.kind, limit, ...scope?.params }) as DeviceRow[];
    return rows.map(toDevice);
  }

  allDevices(): Device[] {
    return (this.db.prepare(`SELECT ${DEVICE_COLS} FROM devices`).all() as DeviceRow[]).map(toDevice);
  }

  getCredential(deviceId: string): StoredCredential | undefined {
    const row = this.db
      .prepare('SELECT device_id, username, hash, rotated_at FROM device_credentials WHERE device_id = ?')
      .get(deviceId) as { device_id: string; username: string; hash: string; rotated_at: string } | undefined;
    return row && { deviceId: row.device_id, username: row.username, hash: row.hash, rotatedAt: row.rotated_at };
  }

  setCredential(cred: StoredCredential): void {
    try {
      this.db
        .prepare(
          `INSERT INTO device_credentials (device_id, username, hash, rotated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(device_id) DO UPDATE SET username = excluded.username, hash = excluded.hash, rotated_at = excluded.rotated_at`,
        )
        .run(cred.deviceId, cred.username, cred.hash, cred.rotatedAt);
    } catch (err) {
      throw constraint(err) === 'foreign' ? new NotFoundError('device', cred.deviceId) : err;
    }
  }
}
