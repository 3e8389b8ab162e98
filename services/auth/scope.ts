/**
 * Role and scope rules, as pure functions so every route and the live feed apply the same ones.
 *
 * | action                       | admin | duty                 | operator            | platform |
 * |------------------------------|-------|----------------------|---------------------|----------|
 * | read a building / its data   | all   | its streets          | its buildings       | all      |
 * | write devices of a building  | any   | —                    | its buildings       | —        |
 * | create / delete buildings    | yes   | —                    | —                   | —        |
 * | maintenance mode             | any   | its streets          | its buildings ≤ 72h | —        |
 * | loosen rules, change a       | any   | its streets          | —                   | —        |
 * | building's alerting fields   |       |                      |                     |          |
 * | acknowledge / close alerts   | any   | its streets          | —                   | —        |
 *
 * Operators do not acknowledge or close alerts: the issue gives them "devices and maintenance",
 * and the district's response deadlines are the duty room's to meet. An operator who is about to
 * work on a site puts it in maintenance, which stops the paging without hiding the hazard.
 *
 * Loosening is the duty room's call (issue #12 item 9): an operator who could switch off
 * device_alarm, reclassify the building to a lower pressure minimum or put it in maintenance until
 * 9999 could silence their own building. Those changes — a device change that loosens a rule in
 * force, a change of the fields that set a building's thresholds, a maintenance window longer than
 * MAINTENANCE_MAX_OPERATOR_H — need `duty` (its streets) or `admin`, a reason, and are audited;
 * tightening stays the operator's. A duty officer changes only those alerting fields, nothing else
 * of the registry.
 *
 * System alerts (no building, e.g. the broker itself was down) carry no building data, so every
 * role may see them; only admins and duty officers covering all streets handle them, so a
 * street-limited officer does not close an incident that concerns the whole district.
 */
import { ForbiddenError, UnauthorizedError } from '../shared/errors.js';
import type { Principal, Role } from './model.js';

export interface BuildingRef {
  id: string;
  street: string;
}

/** An alert's place; both null for a system alert. */
export interface AlertRef {
  buildingId: string | null;
  street: string | null;
}

/** What a list endpoint may return: everything, or rows matching any of the given fields. */
export type BuildingFilter = 'all' | { streets?: string[]; buildingIds?: string[] };

/** The principal, if it has one of `roles`; 401 without a principal, 403 with another role. */
export function requireRole(p: Principal | undefined, ...roles: Role[]): Principal {
  if (!p) throw new UnauthorizedError();
  if (!roles.includes(p.role)) throw new ForbiddenError(`this needs the role ${roles.join(' or ')}`);
  return p;
}

const inStreets = (p: Principal, street: string | null) => p.streets === null || (street !== null && p.streets.includes(street));
const inBuildings = (p: Principal, buildingId: string | null) =>
  p.buildingIds === null || (buildingId !== null && p.buildingIds.includes(buildingId));

export function canReadBuilding(p: Principal, building: BuildingRef): boolean {
  switch (p.role) {
    case 'admin':
    case 'platform':
      return true;
    case 'duty':
      return inStreets(p, building.street);
    case 'operator':
      return inBuildings(p, building.id);
  }
}

/** Create, change or delete devices (and their credentials) in this building. */
export function canWriteRegistry(p: Principal, buildingId: string): boolean {
  if (p.role === 'admin') return true;
  return p.role === 'operator' && inBuildings(p, buildingId);
}

/** Start or end maintenance mode on a building or one of its devices. */
export function canManageMaintenance(p: Principal, buildingId: string): boolean {
  return canWriteRegistry(p, buildingId);
}

/**
 * Approve changes that weaken alerting in this building: loosen a device's rules, change the
 * building's threshold fields, set maintenance beyond the operator's limit. Admin anywhere, duty
 * in its streets.
 */
export function canApproveAlertChanges(p: Principal, building: BuildingRef): boolean {
  if (p.role === 'admin') return true;
  return p.role === 'duty' && inStreets(p, building.street);
}

export function canReadAlert(p: Principal, alert: AlertRef): boolean {
  if (alert.buildingId === null) return true;
  return canReadBuilding(p, { id: alert.buildingId, street: alert.street ?? '' });
}

/** Acknowledge or close. */
export function canHandleAlerts(p: Principal, alert: AlertRef): boolean {
  if (p.role === 'admin') return true;
  if (p.role !== 'duty') return false;
  if (alert.buildingId === null) return p.streets === null;
  return inStreets(p, alert.street);
}

/** For list endpoints and the live feed: which buildings this principal may see. */
export function buildingFilterFor(p: Principal): BuildingFilter {
  switch (p.role) {
    case 'admin':
    case 'platform':
      return 'all';
    case 'duty':
      return p.streets === null ? 'all' : { streets: [...p.streets] };
    case 'operator':
      return p.buildingIds === null ? 'all' : { buildingIds: [...p.buildingIds] };
  }
}

/** Whether a building passes a filter from `buildingFilterFor` (e.g. for live-feed events). */
export function filterAllows(filter: BuildingFilter, building: BuildingRef): boolean {
  if (filter === 'all') return true;
  return (filter.streets?.includes(building.street) ?? false) || (filter.buildingIds?.includes(building.id) ?? false);
}
