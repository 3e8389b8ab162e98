/** RegistryStore over SQLite: buildings, devices and device credentials (hashes only). */
import type {
  Building,
  BuildingFilter,
  BuildingRuleOverrides,
  BuildingSurvey,
  Device,
  DeviceFilter,
  Gb26875Source,
  RegistryStore,
  ScopeFilter,
  StoredCredential,
} from '../../devices/model.js';
import { ConflictError, NotFoundError } from '../../shared/errors.js';
import { BUILDING_COLUMNS, DEVICE_COLUMNS, buildingParams, deviceParams, toBuilding, toDevice, type BuildingRow, type DeviceRow } from '../registry-rows.js';
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

/** A row as better-sqlite3 gives it: JSON documents as text. */
interface SqliteBuildingRow extends Omit<BuildingRow, 'survey' | 'building_rules'> {
  survey: string | null;
  building_rules: string | null;
}

interface SqliteDeviceRow extends Omit<DeviceRow, 'rules' | 'allowed_peers' | 'gb26875_source'> {
  rules: string | null;
  allowed_peers: string | null;
  gb26875_source: string | null;
}

const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

const buildingOf = (r: SqliteBuildingRow): Building => toBuilding({ ...r, survey: json<BuildingSurvey>(r.survey), building_rules: json<BuildingRuleOverrides>(r.building_rules) });

const deviceOf = (r: SqliteDeviceRow): Device =>
  toDevice({ ...r, rules: json(r.rules), allowed_peers: json(r.allowed_peers), gb26875_source: json<Gb26875Source>(r.gb26875_source) });

const BUILDING_COLS = BUILDING_COLUMNS.join(', ');
const DEVICE_COLS = DEVICE_COLUMNS.join(', ');
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
    const row = this.db.prepare(`SELECT ${BUILDING_COLS} FROM buildings WHERE id = ?`).get(id) as SqliteBuildingRow | undefined;
    return row && buildingOf(row);
  }

  listBuildings(filter: BuildingFilter, afterId: string | undefined, limit: number): Building[] {
    const where = ['id > @after'];
    if (filter.street !== undefined) where.push('street = @street');
    if (filter.use !== undefined) where.push('use = @use');
    const scope = scopeClause(filter.scope, 'id');
    if (scope) where.push(scope.sql);
    const rows = this.db
      .prepare(`SELECT ${BUILDING_COLS} FROM buildings WHERE ${where.join(' AND ')} ORDER BY id LIMIT @limit`)
      .all({ after: afterId ?? '', street: filter.street, use: filter.use, limit, ...scope?.params }) as SqliteBuildingRow[];
    return rows.map(buildingOf);
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
    const row = this.db.prepare(`SELECT ${DEVICE_COLS} FROM devices WHERE id = ?`).get(id) as SqliteDeviceRow | undefined;
    return row && deviceOf(row);
  }

  listDevices(filter: DeviceFilter, afterId: string | undefined, limit: number): Device[] {
    const where = ['id > @after'];
    if (filter.buildingId !== undefined) where.push('building_id = @buildingId');
    if (filter.kind !== undefined) where.push('kind = @kind');
    const scope = scopeClause(filter.scope, 'building_id');
    if (scope) where.push(scope.sql);
    const rows = this.db
      .prepare(`SELECT ${DEVICE_COLS} FROM devices WHERE ${where.join(' AND ')} ORDER BY id LIMIT @limit`)
      .all({ after: afterId ?? '', buildingId: filter.buildingId, kind: filter.kind, limit, ...scope?.params }) as SqliteDeviceRow[];
    return rows.map(deviceOf);
  }

  allDevices(): Device[] {
    return (this.db.prepare(`SELECT ${DEVICE_COLS} FROM devices`).all() as SqliteDeviceRow[]).map(deviceOf);
  }

  getCredential(deviceId: string): StoredCredential | undefined {
    const row = this.db
      .prepare('SELECT device_id, username, hash, rotated_at FROM device_credentials WHERE device_id = ?')
      .get(deviceId) as { device_id: string; username: string; hash: string; rotated_at: string } | undefined;
    return row && { deviceId: row.device_id, username: row.username, hash: row.hash, rotatedAt: row.rotated_at };
  }

  replaceCredentialHash(deviceId: string, fromHash: string, toHash: string): boolean {
    return this.db.prepare('UPDATE device_credentials SET hash = ? WHERE device_id = ? AND hash = ?').run(toHash, deviceId, fromHash).changes === 1;
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
