/**
 * An in-memory AuditStore (services/audit/model.ts) for unit tests: the change-control tests read
 * `rows` directly. It passes the same contract as the SQLite store
 * (tests/support/audit-store-contract.ts): filters, newest first, paging by id, copies in and out,
 * and memoryUnitOfWork (below) undoing the inserts of a failed unit.
 */
import type { AuditEntry, AuditFilter, SyncAuditStore } from '../../services/audit/model.js';
import { isThenable, runQueuedUnitOfWork, type RunUnitOfWork } from '../../services/shared/unit-of-work.js';

export class MemoryAuditStore implements SyncAuditStore {
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

}

/**
 * The unit of work over in-memory stores (services/shared/unit-of-work.ts), for unit tests: the
 * queued writes run in order; when one throws, what the earlier ones added to `audit` is taken
 * back, as a rolled-back transaction would (other in-memory state is the test's to check).
 */
export function memoryUnitOfWork(audit: MemoryAuditStore): RunUnitOfWork {
  return (work) =>
    runQueuedUnitOfWork(work, (writes) => {
      const n = audit.rows.length;
      try {
        for (const write of writes) {
          const out = write();
          if (isThenable(out)) throw new Error('memoryUnitOfWork: a write returned a promise; in-memory stores answer at once');
        }
      } catch (err) {
        audit.rows.length = n;
        throw err;
      }
    });
}
