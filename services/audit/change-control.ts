/**
 * Changes that weaken alerting need the duty room (issue #12 item 9). The API routes ask this
 * class before they apply a device change, a building change or a maintenance window: it decides
 * whether the change weakens alerting, refuses it for a principal who may not approve that (403,
 * Chinese first), requires a reason from one who may (400 `reason_required`), and writes the audit
 * entry in the same transaction as the change.
 *
 * - Device: the rules in force before and after the change are compared (rules/loosening.ts), so
 *   an override, a new point, a longer report interval or a move to another building are judged
 *   by their effect alike. Tightening needs nobody's approval.
 * - Building: a change of type, height, floors or category that alters any default rule of the
 *   building's devices (probed at every point and kind, so future devices count too), or of its
 *   use that alters its response deadlines (ALERT_DEADLINES_BY_USE), in either direction: the
 *   building's class is the fire authority's fact, not the operator's setting. Creating a
 *   building is an admin's act and has nothing to weaken yet.
 * - Maintenance: a window longer than MAINTENANCE_MAX_OPERATOR_H. Every window set or ended is
 *   recorded, the short ones too, so an operator renewing short windows shows up in the history.
 */
import type { Principal } from '../auth/model.js';
import { canApproveAlertChanges } from '../auth/scope.js';
import type { Building, Device } from '../devices/model.js';
import { defaultRules } from '../rules/defaults.js';
import { buildingRulesFor } from '../rules/building-rules.js';
import { BUILDING_THRESHOLD_FIELDS, buildingDefaultChanges, describeChange, loosenings, type RuleChange } from '../rules/loosening.js';
import { mergeRules, validateRuleOverrides } from '../rules/rule-params.js';
import type { RuleSet } from '../rules/rule-types.js';
import type { Clock } from '../shared/clock.js';
import type { UnitOfWork } from '../shared/unit-of-work.js';
import { BadRequestError, ForbiddenError } from '../shared/errors.js';
import { actor, type AuditedChange, type AuditLog } from './audit-log.js';
import type { AuditChange } from './model.js';

/** The device fields that change its rules; the only ones a duty officer may change. */
export const DEVICE_ALERT_FIELDS = ['rules', 'point', 'reportIntervalS'] as const;
/** The building fields that change its alerting; the only ones a duty officer may change. */
export const BUILDING_ALERT_FIELDS = [...BUILDING_THRESHOLD_FIELDS, 'use', 'buildingRules'] as const;

export interface Deadlines {
  ackS: number;
  closeS: number;
}

/**
 * A change as ChangeControl gets it: given a unit of work when it is recorded (it queues its writes
 * there, with the audit entry), called without one when nothing needs recording (it commits on its own).
 */
export type Change<T> = (uow?: UnitOfWork) => Promise<T>;

export interface ChangeControlDeps {
  audit: AuditLog;
  clock: Clock;
  /** MAINTENANCE_MAX_OPERATOR_H */
  maintenanceMaxOperatorH: number;
  /** the response deadlines of a building use (DeadlinePolicy.for) */
  deadlinesFor: (use: string) => Deadlines;
}

export interface MaintenanceSpec {
  kind: 'device' | 'building';
  id: string;
  building: Building;
  until: string;
  reason: string;
}

/** The rules in force; stored overrides that no longer validate count as absent (the engine's fallback). */
export function effectiveRules(device: Device, building: Building): RuleSet {
  const v = validateRuleOverrides(device.rules, device, building);
  return mergeRules(defaultRules(device, building), v.ok ? v.value : undefined);
}

const MAX_LISTED = 5;
const listed = (items: string[]) => (items.length > MAX_LISTED ? [...items.slice(0, MAX_LISTED), `… +${items.length - MAX_LISTED}`] : items).join('; ');

const toAuditChange = (c: RuleChange): AuditChange => ({ what: c.param === 'rule' ? c.ruleId : `${c.ruleId}.${c.param}`, before: c.before, after: c.after });

function pick<T extends object>(o: T, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k] ?? null]));
}

/** A reason with something in it, or 400. */
export function requireReason(reason: string | undefined, what: string): string {
  const r = reason?.trim();
  if (!r) {
    throw new BadRequestError('reason_required', `此项修改须填写原因（reason 字段）/ this change needs a reason (field "reason"): ${what}`);
  }
  return r;
}

/** Hours from `nowMs` to `until`, rounded to 0.1 h; NaN when `until` is not a time. */
export function windowHours(until: string, nowMs: number): number {
  const t = Date.parse(until);
  return Number.isFinite(t) ? Math.round(((t - nowMs) / 3_600_000) * 10) / 10 : Number.NaN;
}

export class ChangeControl {
  constructor(private readonly deps: ChangeControlDeps) {}

  get audit(): AuditLog {
    return this.deps.audit;
  }

  get maintenanceMaxOperatorH(): number {
    return this.deps.maintenanceMaxOperatorH;
  }

  /**
   * Apply a device change: at once when it loosens nothing, otherwise only for an approver with a
   * reason, recorded. `next` is the device as it will be, `nextBuilding` its building then.
   */
  async deviceChange<T>(
    p: Principal,
    change: { current: Device; building: Building; next: Device; nextBuilding: Building; fields: readonly string[]; reason: string | undefined },
    apply: Change<T>,
  ): Promise<T> {
    const { current, building, next, nextBuilding } = change;
    const loosened = loosenings(effectiveRules(current, building), effectiveRules(next, nextBuilding));
    if (loosened.length === 0) return apply();
    const what = listed(loosened.map(describeChange));
    const moved = nextBuilding.id !== building.id;
    if (!canApproveAlertChanges(p, building) || (moved && !canApproveAlertChanges(p, nextBuilding))) {
      throw new ForbiddenError(`放宽告警规则须由值班人员或管理员批准 / loosening an alert rule needs a duty officer or an admin: ${what}`);
    }
    const reason = requireReason(change.reason, what);
    return this.deps.audit.record(
      {
        ...actor(p),
        action: 'device.rules_loosened',
        buildingId: building.id,
        deviceId: current.id,
        street: building.street,
        reason,
        before: pick(current, change.fields),
        after: pick(next, change.fields),
        changes: loosened.map(toAuditChange),
      },
      apply,
    );
  }

  /**
   * What a building change alters in alerting: the alerting fields that differ, the default rule
   * parameters that change at any point, and the response deadlines. Empty when nothing in
   * alerting changes (the changed fields are then not listed either).
   */
  buildingAlertChanges(current: Building, next: Building): AuditChange[] {
    const defaults = buildingDefaultChanges(current, next).map((c) => {
      const change = toAuditChange(c);
      return { ...change, what: `${c.at} ${change.what}` };
    });
    const dBefore = this.deps.deadlinesFor(current.use);
    const dAfter = this.deps.deadlinesFor(next.use);
    const deadlines = (['ackS', 'closeS'] as const)
      .filter((k) => dBefore[k] !== dAfter[k])
      .map((k) => ({ what: `deadline.${k}`, before: dBefore[k], after: dAfter[k] }));
    // the building rules (issue #15 item 2): each rule's switch and window as they apply
    const rBefore = buildingRulesFor(current.buildingRules);
    const rAfter = buildingRulesFor(next.buildingRules);
    const rules = rAfter.flatMap((r, i) => {
      const b = rBefore[i]!;
      return [
        ...(b.enabled !== r.enabled ? [{ what: `building_rule.${r.id}.enabled`, before: b.enabled, after: r.enabled }] : []),
        ...(b.windowS !== r.windowS ? [{ what: `building_rule.${r.id}.windowS`, before: b.windowS, after: r.windowS }] : []),
      ];
    });
    if (defaults.length === 0 && deadlines.length === 0 && rules.length === 0) return [];
    const fields = BUILDING_ALERT_FIELDS.filter((f) => f !== 'buildingRules' && current[f] !== next[f]).map((f) => ({ what: f, before: current[f], after: next[f] }));
    return [...fields, ...defaults, ...deadlines, ...rules];
  }

  /** Apply a building change: at once when it leaves alerting as it was, otherwise only for an approver with a reason, recorded. */
  async buildingChange<T>(p: Principal, change: { current: Building; next: Building; reason: string | undefined }, apply: Change<T>): Promise<T> {
    const { current, next } = change;
    const changes = this.buildingAlertChanges(current, next);
    if (changes.length === 0) return apply();
    const what = listed(changes.map((c) => `${c.what} ${String(c.before)} → ${String(c.after)}`));
    if (!canApproveAlertChanges(p, current)) {
      throw new ForbiddenError(
        `楼宇的类型、高度、层数、类别和用途决定告警阈值和处置时限，须由值班人员或管理员修改 / a building's type, height, floors, category and use set its alert thresholds and deadlines; a duty officer or an admin changes them: ${what}`,
      );
    }
    const reason = requireReason(change.reason, what);
    return this.deps.audit.record(
      {
        ...actor(p),
        action: 'building.thresholds_changed',
        buildingId: current.id,
        deviceId: null,
        street: current.street,
        reason,
        before: pick(current, BUILDING_ALERT_FIELDS),
        after: pick(next, BUILDING_ALERT_FIELDS),
        changes,
      },
      apply,
    );
  }

  /**
   * Set a maintenance window: one longer than MAINTENANCE_MAX_OPERATOR_H only for an approver
   * (with a reason, as every window has). Every window is recorded with the one it replaces.
   */
  async setMaintenance<T>(p: Principal, m: MaintenanceSpec, previous: { until: string } | undefined, apply: AuditedChange<T>): Promise<T> {
    const hours = windowHours(m.until, this.deps.clock.now());
    const until = Number.isFinite(hours) ? new Date(Date.parse(m.until)).toISOString() : m.until;
    const max = this.deps.maintenanceMaxOperatorH;
    if (hours > max) {
      if (!canApproveAlertChanges(p, m.building)) {
        throw new ForbiddenError(
          `维护期 ${hours} 小时超过楼宇运营方可设置的 ${max} 小时，须由值班人员或管理员设置 / a maintenance window of ${hours} h is longer than the ${max} h a building operator may set; a duty officer or an admin sets it`,
        );
      }
      requireReason(m.reason, `maintenance of ${hours} h`);
    }
    return this.deps.audit.record(
      {
        ...actor(p),
        action: 'maintenance.set',
        buildingId: m.building.id,
        deviceId: m.kind === 'device' ? m.id : null,
        street: m.building.street,
        reason: m.reason.trim(),
        before: previous ?? null,
        after: { target: m.kind, targetId: m.id, until, hours },
        changes: [{ what: 'maintenance.until', before: previous?.until ?? null, after: until }],
      },
      apply,
    );
  }

  /** End a maintenance window early, recorded when there was one. */
  async endMaintenance<T>(p: Principal, m: Omit<MaintenanceSpec, 'until' | 'reason'>, previous: { until: string } | undefined, apply: Change<T>): Promise<T> {
    if (!previous) return apply();
    return this.deps.audit.record(
      {
        ...actor(p),
        action: 'maintenance.ended',
        buildingId: m.building.id,
        deviceId: m.kind === 'device' ? m.id : null,
        street: m.building.street,
        reason: null,
        before: previous,
        after: null,
        changes: [{ what: 'maintenance.until', before: previous.until, after: new Date(this.deps.clock.now()).toISOString() }],
      },
      apply,
    );
  }

  /**
   * Put a device being commissioned in service (issue #17 item 6), recorded: who declared the
   * installation ready, and when its alerts began to reach the duty room.
   */
  async deviceInService<T>(p: Principal, device: Device, building: Building, note: string | undefined, apply: AuditedChange<T>): Promise<T> {
    const now = new Date(this.deps.clock.now()).toISOString();
    return this.deps.audit.record(
      {
        ...actor(p),
        action: 'device.in_service',
        buildingId: building.id,
        deviceId: device.id,
        street: building.street,
        reason: note?.trim() || null,
        before: { inServiceAt: null, createdAt: device.createdAt },
        after: { inServiceAt: now },
        changes: [{ what: 'inServiceAt', before: null, after: now }],
      },
      apply,
    );
  }

  /** Delete a device (it stops being monitored), recorded. */
  async deviceDeleted<T>(p: Principal, device: Device, building: Building, reason: string | undefined, apply: AuditedChange<T>): Promise<T> {
    return this.deps.audit.record(
      {
        ...actor(p),
        action: 'device.deleted',
        buildingId: building.id,
        deviceId: device.id,
        street: building.street,
        reason: reason?.trim() || null,
        before: pick(device, ['kind', 'point', 'location', 'reportIntervalS', 'rules']),
        after: null,
        changes: [],
      },
      apply,
    );
  }
}
