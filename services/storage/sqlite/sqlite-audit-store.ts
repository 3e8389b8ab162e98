/** The audit history (services/audit/model.ts) over SQLite: indexed columns to filter by, the rest as JSON. */
import type { Role } from '../../auth/model.js';
import type { AuditAction, AuditEntry, AuditFilter, SyncAuditStore } from '../../audit/model.js';
import type { Db } from './database.js';

interface Row {
  id: number;
  at: string;
  by: string;
  role: Role;
  action: AuditAction;
  building_id: string | null;
  device_id: string | null;
  street: string | null;
  reason: string | null;
  before: string;
  after: string;
  changes: string;
}

const fromRow = (r: Row): AuditEntry => ({
  id: r.id,
  at: r.at,
  by: r.by,
  role: r.role,
  action: r.action,
  buildingId: r.building_id,
  deviceId: r.device_id,
  street: r.street,
  reason: r.reason,
  before: JSON.parse(r.before) as unknown,
  after: JSON.parse(r.after) as unknown,
  changes: JSON.parse(r.changes) as AuditEntry['changes'],
});

export class SqliteAuditStore implements SyncAuditStore {
  private readonly insertStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO audit_log (at, by, role, action, building_id, device_id, street, reason, before, after, changes)
       VALUES (@at, @by, @role, @action, @building_id, @device_id, @street, @reason, @before, @after, @changes)`,
    );
  }

  insert(e: Omit<AuditEntry, 'id'>): AuditEntry {
    const id = Number(
      this.insertStmt.run({
        at: e.at,
        by: e.by,
        role: e.role,
        action: e.action,
        building_id: e.buildingId,
        device_id: e.deviceId,
        street: e.street,
        reason: e.reason,
        before: JSON.stringify(e.before ?? null),
        after: JSON.stringify(e.after ?? null),
        changes: JSON.stringify(e.changes),
      }).lastInsertRowid,
    );
    return { id, ...e };
  }

  list(f: AuditFilter): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const eq = (column: string, value: unknown, op = '=') => {
      where.push(`${column} ${op} ?`);
      args.push(value);
    };
    if (f.buildingId !== undefined) eq('building_id', f.buildingId);
    if (f.deviceId !== undefined) eq('device_id', f.deviceId);
    if (f.action !== undefined) eq('action', f.action);
    if (f.beforeId !== undefined) eq('id', f.beforeId, '<');
    if (f.streets !== undefined) {
      if (f.streets.length === 0) return [];
      where.push(`street IN (${f.streets.map(() => '?').join(', ')})`);
      args.push(...f.streets);
    }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as Row[]).map(fromRow);
  }
}
