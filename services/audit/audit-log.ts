/**
 * Writes audit entries together with the change they describe (one transaction), and reads them.
 */
import type { Principal } from '../auth/model.js';
import type { Clock } from '../shared/clock.js';
import type { AuditEntry, AuditFilter, AuditStore, NewAuditEntry } from './model.js';

export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
  ) {}

  /** Record `entry` and run `apply`: both happen or neither (the entry is written first). */
  record<T>(entry: NewAuditEntry, apply: () => T): T {
    return this.store.atomically(() => {
      this.store.insert({ ...entry, at: new Date(this.clock.now()).toISOString() });
      return apply();
    });
  }

  list(filter: AuditFilter): AuditEntry[] {
    return this.store.list(filter);
  }
}

/** Who, for an entry: the principal's username and role. */
export const actor = (p: Principal): Pick<NewAuditEntry, 'by' | 'role'> => ({ by: p.username, role: p.role });
