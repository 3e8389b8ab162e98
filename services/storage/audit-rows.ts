/**
 * An audit entry as a row of audit_log, the same columns on SQLite and PostgreSQL
 * (sqlite/sqlite-audit-store.ts, postgres/pg-audit-store.ts): the filters are columns, before,
 * after and changes are JSON documents. The engines differ only in what their driver hands back
 * for those documents (SQLite: the text; node-postgres: json already parsed) and for the id
 * (node-postgres: a bigint as a string), so the row mapping takes the document reader.
 */
import type { Role } from '../auth/model.js';
import type { AuditAction, AuditEntry } from '../audit/model.js';

export interface AuditRow {
  id: number | string;
  at: string;
  by: string;
  role: Role;
  action: AuditAction;
  building_id: string | null;
  device_id: string | null;
  street: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
  changes: unknown;
}

/** The entry a row holds; `doc` turns a JSON column as the driver gave it into its value. */
export function toAuditEntry(r: AuditRow, doc: (column: unknown) => unknown): AuditEntry {
  return {
    id: Number(r.id),
    at: r.at,
    by: r.by,
    role: r.role,
    action: r.action,
    buildingId: r.building_id,
    deviceId: r.device_id,
    street: r.street,
    reason: r.reason,
    before: doc(r.before),
    after: doc(r.after),
    changes: doc(r.changes) as AuditEntry['changes'],
  };
}
