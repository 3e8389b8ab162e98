/**
 * Writes audit entries together with the change they describe (one unit of work: one
 * transaction), and reads them.
 */
import type { Principal } from '../auth/model.js';
import type { Clock } from '../shared/clock.js';
import type { RunUnitOfWork, UnitOfWork } from '../shared/unit-of-work.js';
import type { AuditEntry, AuditFilter, AuditStore, NewAuditEntry } from './model.js';

/** A change that joins the caller's unit of work: it queues its writes there (DeviceRegistry's mutations take one). */
export type AuditedChange<T> = (uow: UnitOfWork) => Promise<T>;

export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
    private readonly runUnitOfWork: RunUnitOfWork,
  ) {}

  /**
   * Record `entry` and make the change `apply` queues: both are committed or neither (the entry is
   * queued first). A check in `apply` that throws records nothing.
   */
  record<T>(entry: NewAuditEntry, apply: AuditedChange<T>): Promise<T> {
    return this.runUnitOfWork(async (uow) => {
      const at = new Date(this.clock.now()).toISOString();
      uow.write(() => this.store.insert({ ...entry, at }));
      return apply(uow);
    });
  }

  async list(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.store.list(filter);
  }
}

/** Who, for an entry: the principal's username and role. */
export const actor = (p: Principal): Pick<NewAuditEntry, 'by' | 'role'> => ({ by: p.username, role: p.role });
