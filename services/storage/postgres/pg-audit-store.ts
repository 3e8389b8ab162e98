/**
 * The audit history (services/audit/model.ts) on PostgreSQL, the twin of
 * ../sqlite/sqlite-audit-store.ts, held to the same contract (tests/support/audit-store-contract.ts).
 * Table: schema-audit.ts. AuditLog queues `insert` as a write of the change's unit of work
 * (pg-unit-of-work.ts): the entry and the change commit in one transaction, on one client.
 */
import type { AuditEntry, AuditFilter, AuditStore } from '../../audit/model.js';
import { toAuditEntry, type AuditRow } from '../audit-rows.js';
import type { PgDatabase } from './database.js';

/** node-postgres parses json columns and gives a bigint id as a string (toAuditEntry numbers it). */
const fromRow = (r: AuditRow): AuditEntry => toAuditEntry(r, (parsed) => parsed);

export class PgAuditStore implements AuditStore {
  constructor(private readonly db: PgDatabase) {}

  async insert(e: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    // the documents go as JSON text: node-postgres would send a JavaScript array as a PostgreSQL array
    const [row] = await this.db.query<{ id: string }>(
      `INSERT INTO audit_log (at, by, role, action, building_id, device_id, street, reason, before, after, changes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10::json, $11::json) RETURNING id`,
      [e.at, e.by, e.role, e.action, e.buildingId, e.deviceId, e.street, e.reason, JSON.stringify(e.before ?? null), JSON.stringify(e.after ?? null), JSON.stringify(e.changes)],
    );
    // a copy: what the caller does to its entry afterwards changes nothing here
    return structuredClone({ ...e, before: e.before ?? null, after: e.after ?? null, id: Number(row!.id) });
  }

  async list(f: AuditFilter): Promise<AuditEntry[]> {
    if (f.streets !== undefined && f.streets.length === 0) return [];
    const where: string[] = [];
    const args: unknown[] = [];
    const cond = (sql: (n: string) => string, value: unknown) => {
      args.push(value);
      where.push(sql(`$${args.length}`));
    };
    if (f.buildingId !== undefined) cond((n) => `building_id = ${n}`, f.buildingId);
    if (f.deviceId !== undefined) cond((n) => `device_id = ${n}`, f.deviceId);
    if (f.action !== undefined) cond((n) => `action = ${n}`, f.action);
    if (f.beforeId !== undefined) cond((n) => `id < ${n}`, f.beforeId);
    if (f.streets !== undefined) cond((n) => `street = ANY(${n}::text[])`, [...f.streets]);
    args.push(Math.max(0, f.limit));
    const rows = await this.db.query<AuditRow>(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map(fromRow);
  }
}
