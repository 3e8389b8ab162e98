/** The audit history (services/audit/model.ts) over SQLite: indexed columns to filter by, the rest as JSON. */
import type { AuditEntry, AuditFilter, SyncAuditStore } from '../../audit/model.js';
import { toAuditEntry, type AuditRow } from '../audit-rows.js';
import type { Db } from './database.js';

const fromRow = (r: AuditRow): AuditEntry => toAuditEntry(r, (text) => JSON.parse(text as string) as unknown);

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
    return (this.db.prepare(sql).all(...args, f.limit) as AuditRow[]).map(fromRow);
  }
}
