/**
 * An in-memory AuditStore (services/audit/model.ts) for unit tests: the change-control tests read
 * `rows` directly. It passes the same contract as the SQLite store
 * (tests/support/audit-store-contract.ts): filters, newest first, paging by id, copies in and out,
 * and `atomically` undoing the inserts of a failed run.
 */
import type { AuditEntry, AuditFilter, AuditStore } from '../../services/audit/model.js';

export class MemoryAuditStore implements AuditStore {
  /** every entry, oldest first (what a test inspects) */
  rows: AuditEntry[] = [];
  private nextId = 1;

  insert(e: Omit<AuditEntry, 'id'>): AuditEntry {
    const row: AuditEntry = structuredClone({ id: this.nextId++, ...e, before: e.before ?? null, after: e.after ?? null });
    this.rows.push(row);
    return structuredClone(row);
  }

  list(f: AuditFilter): AuditEntry[] {
    const streets = f.streets;
    return this.rows
      .filter(
        (r) =>
          (f.buildingId === undefined || r.buildingId === f.buildingId) &&
          (f.deviceId === undefined || r.deviceId === f.deviceId) &&
          (f.action === undefined || r.action === f.action) &&
          (f.beforeId === undefined || r.id < f.beforeId) &&
          (streets === undefined || (r.street !== null && streets.includes(r.street))),
      )
      .reverse()
      .slice(0, Math.max(0, f.limit))
      .map((r) => structuredClone(r));
  }

  atomically<T>(fn: () => T): T {
    const n = this.rows.length;
    try {
      return fn();
    } catch (err) {
      this.rows.length = n;
      throw err;
    }
  }
}
