/**
 * The audit history of changes that weaken or bypass alerting (issue #12 item 9): who (username
 * and role), when, what (before → after) and why. Append-only: nothing updates or deletes an entry.
 *
 * Recorded:
 * - `device.rules_loosened` — a device change (rule override, point, report interval, move) that
 *   loosens a rule in force (services/rules/loosening.ts); a reason is required.
 * - `building.thresholds_changed` — a building change that alters its devices' default rules
 *   (type, height, floors, category) or its response deadlines (use, with ALERT_DEADLINES_BY_USE);
 *   a reason is required.
 * - `maintenance.set` / `maintenance.ended` — every maintenance window put on or taken off a
 *   device or building, so a chain of short windows renewed by an operator is visible as well as
 *   a long one (longer than MAINTENANCE_MAX_OPERATOR_H needs duty or admin).
 * - `device.deleted` — a device removed from monitoring (reason optional, `?reason=`).
 * - `device.in_service` — a device put in service after commissioning (issue #17 item 6): from
 *   then on its alerts reach the duty room; who declared the installation ready, and when.
 */
import type { Role } from '../auth/model.js';
import type { Awaitable, Settled } from '../shared/awaitable.js';

export const AUDIT_ACTIONS = ['device.rules_loosened', 'building.thresholds_changed', 'maintenance.set', 'maintenance.ended', 'device.deleted', 'device.in_service'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One difference that made the change need approval or a record, e.g. `{ what: 'pressure_low.threshold', before: 0.15, after: 0.07 }`. */
export interface AuditChange {
  what: string;
  before: unknown;
  after: unknown;
}

export interface AuditEntry {
  id: number;
  at: string;
  /** the principal's username (`system:admin`, `token:<name>` for API tokens) */
  by: string;
  role: Role;
  action: AuditAction;
  buildingId: string | null;
  deviceId: string | null;
  /** the building's street when the entry was written (duty officers see their streets' entries) */
  street: string | null;
  reason: string | null;
  /** the changed fields as they were and as they became (device fields and overrides, building fields, the window) */
  before: unknown;
  after: unknown;
  /** what differs in effect: the loosened rule parameters, the changed default thresholds, the window's length */
  changes: AuditChange[];
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

export interface AuditFilter {
  buildingId?: string;
  deviceId?: string;
  action?: AuditAction;
  /** entries of these streets only (a street-limited duty officer) */
  streets?: readonly string[];
  /** entries older than this id (paging, newest first) */
  beforeId?: number;
  limit: number;
}

/** The contract suite that every implementation passes, fakes included, is tests/support/audit-store-contract.ts. */
export interface AuditStore {
  /**
   * Called as a write of a unit of work (services/shared/unit-of-work.ts): AuditLog queues it
   * with the change it records, so the two commit together or not at all.
   */
  insert(entry: Omit<AuditEntry, 'id'>): Awaitable<AuditEntry>;
  /** newest first */
  list(filter: AuditFilter): Awaitable<AuditEntry[]>;
}

/** AuditStore answering at once (SQLite, the in-memory fake). */
export type SyncAuditStore = Settled<AuditStore>;
