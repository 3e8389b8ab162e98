/**
 * The alert lifecycle. Rule outcomes come in (raise / update / clear); people acknowledge and
 * close; deadlines escalate (escalation.ts). Every change is stored with who, when and what, and
 * published on the live feed.
 *
 *   raise  ─► no unclosed alert for (device, rule)? create it (open) : it recurs (count, peak)
 *   update ─► the unclosed alert takes the value, count and peak (a closed one is left closed;
 *             a lane re-alert after close opens a new alert)
 *   clear  ─► cleared = true; a fault closes itself, a hazard stays until a person closes it
 *
 * At most one unclosed alert per device and rule: checks and writes run synchronously on one
 * thread, and the database's partial unique index holds the line even so.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Building, Device } from '../devices/model.js';
import type { RuleOutcome } from '../rules/rule-engine.js';
import type { Severity } from '../rules/rule-types.js';
import type { Message } from '../rules/messages.js';
import type { Clock } from '../shared/clock.js';
import { BadRequestError, ConflictError, NotFoundError, isStorageFailure } from '../shared/errors.js';
import type { LiveFeed } from './live-feed.js';
import type { Alert, AlertFilter, AlertStore, HistoryEntry, MaintenanceStore, MaintenanceWindow, Outcome, SystemRuleId } from './model.js';

export interface Deadlines {
  ackS: number;
  closeS: number;
}

/** Default deadlines: the district's "1分钟响应、3分钟处置" (mission-context.md), overridable per building use. */
export class DeadlinePolicy {
  constructor(
    private readonly defaults: Deadlines = { ackS: 60, closeS: 180 },
    private readonly byUse: Readonly<Record<string, Deadlines>> = {},
  ) {}

  for(use: string | undefined): Deadlines {
    return (use && this.byUse[use]) || this.defaults;
  }
}

export interface AlertServiceDeps {
  store: AlertStore;
  maintenance: MaintenanceStore;
  feed: LiveFeed;
  clock: Clock;
  deadlines: DeadlinePolicy;
  log: Logger;
  /** min interval between alert.updated feed events for one alert (value changes are still stored) */
  updateEventIntervalMs?: number;
}

export interface AlertContext {
  device: Device;
  building: Building | undefined;
}

const SYSTEM = 'system';
const FEED_HISTORY_ENTRIES = 10;

function newAlertId(now: number): string {
  return `al-${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}

export class AlertService {
  private readonly lastUpdateEvent = new Map<string, number>();
  private readonly changeListeners: Array<(a: Alert) => void> = [];

  constructor(private readonly deps: AlertServiceDeps) {}

  onChange(listener: (a: Alert) => void): void {
    this.changeListeners.push(listener);
  }

  private iso(t = this.deps.clock.now()): string {
    return new Date(t).toISOString();
  }

  private entry(action: HistoryEntry['action'], by: string, detail: string | null, at = this.iso()): HistoryEntry {
    return { at, action, by, detail };
  }

  private publish(type: 'alert.raised' | 'alert.updated' | 'alert.cleared' | 'alert.escalated' | 'alert.closed', alert: Alert): void {
    // the feed carries the latest history entries; the full audit trail is at GET /alerts/:id
    const history = alert.history.slice(-FEED_HISTORY_ENTRIES);
    this.deps.feed.publish(type, { street: alert.street, buildingId: alert.buildingId }, { alert: { ...alert, history }, historyTotal: alert.history.length });
    for (const l of this.changeListeners) l(alert);
  }

  private save(alert: Alert, added: HistoryEntry[]): void {
    alert.history.push(...added);
    this.deps.store.update(alert, added);
  }

  // ── maintenance ──────────────────────────────────────────────────────────────
  maintenanceOf(deviceId: string | null, buildingId: string | null): MaintenanceWindow | undefined {
    const now = this.deps.clock.now();
    for (const [target, id] of [['device', deviceId], ['building', buildingId]] as const) {
      if (!id) continue;
      const w = this.deps.maintenance.get(target, id);
      if (w && Date.parse(w.until) > now) return w;
    }
    return undefined;
  }

  setMaintenance(target: 'device' | 'building', targetId: string, until: string, reason: string, by: string): MaintenanceWindow {
    const untilMs = Date.parse(until);
    if (!Number.isFinite(untilMs) || untilMs <= this.deps.clock.now()) {
      throw new BadRequestError('bad_until', 'until must be a time in the future (ISO 8601)');
    }
    const w: MaintenanceWindow = { target, targetId, until: new Date(untilMs).toISOString(), reason, by, createdAt: this.iso() };
    this.deps.maintenance.set(w);
    return w;
  }

  endMaintenance(target: 'device' | 'building', targetId: string): boolean {
    return this.deps.maintenance.remove(target, targetId);
  }

  // ── rule outcomes ────────────────────────────────────────────────────────────
  applyOutcomes(outcomes: readonly RuleOutcome[], ctx: AlertContext): void {
    for (const o of outcomes) {
      try {
        this.applyOne(o, ctx);
      } catch (err) {
        // storage failing: the processors' batch rolls back and is retried; a bug in one outcome is logged
        if (isStorageFailure(err)) throw err;
        this.deps.log.error({ err, deviceId: o.deviceId, rule: o.ruleId }, 'could not apply a rule outcome');
      }
    }
  }

  private applyOne(o: RuleOutcome, { device, building }: AlertContext): void {
    const active = this.deps.store.findActive(device.id, o.ruleId);
    const at = this.iso(o.at);
    if (o.transition === 'clear') {
      if (!active || active.cleared) return;
      active.cleared = true;
      active.clearedAt = at;
      active.lastAt = at;
      const added = [this.entry('cleared', SYSTEM, o.message.zh, at)];
      if (active.class === 'fault') {
        // a fault that went away needs no disposal; it stays in the history
        Object.assign(active, { status: 'closed', closedAt: at, closedBy: SYSTEM, outcome: 'fault', note: '条件已恢复，自动关闭 / condition cleared; closed automatically' });
        added.push(this.entry('closed', SYSTEM, 'fault cleared', at));
        this.save(active, added);
        this.publish('alert.closed', active);
      } else {
        this.save(active, added);
        this.publish('alert.cleared', active);
      }
      return;
    }
    if (active) {
      const recurred = active.cleared;
      active.value = o.value;
      active.peak = o.peak;
      // each outcome is one breaching reading; a recurrence brings its pending readings along
      active.count += recurred ? Math.max(1, o.count) : 1;
      active.lastAt = at;
      active.message = o.message;
      active.severity = o.severity;
      const added: HistoryEntry[] = [];
      if (recurred) {
        active.cleared = false;
        active.clearedAt = null;
        added.push(this.entry('recurred', SYSTEM, o.message.zh, at));
      } else if (o.realert) {
        added.push(this.entry('recurred', SYSTEM, `仍未恢复 / still active: ${o.message.zh}`, at));
      }
      this.save(active, added);
      const last = this.lastUpdateEvent.get(active.id) ?? 0;
      if (added.length > 0 || this.deps.clock.now() - last >= (this.deps.updateEventIntervalMs ?? 5000)) {
        this.lastUpdateEvent.set(active.id, this.deps.clock.now());
        this.publish('alert.updated', active);
      }
      return;
    }
    // 'update' without an unclosed alert: a person closed it while the condition went on.
    // Only a raise, or a periodic re-alert (the lane is still blocked), opens a new one.
    if (o.transition === 'update' && !o.realert) return;
    this.open({
      rule: o.ruleId,
      class: o.class,
      severity: o.severity,
      device,
      building,
      value: o.value,
      threshold: o.threshold,
      peak: o.peak,
      count: Math.max(1, o.count),
      message: o.message,
      at: o.at,
    });
  }

  private open(a: {
    rule: Alert['rule'];
    class: Alert['class'];
    severity: Severity;
    device: Device | undefined;
    building: Building | undefined;
    value: number | null;
    threshold: number | null;
    peak: number | null;
    count: number;
    message: Message;
    at: number;
  }): Alert {
    const now = this.deps.clock.now();
    const opened = this.iso(Math.min(a.at, now));
    const maintenance = this.maintenanceOf(a.device?.id ?? null, a.building?.id ?? null);
    const d = this.deps.deadlines.for(a.building?.use);
    const hazard = a.class === 'hazard';
    const alert: Alert = {
      id: newAlertId(now),
      rule: a.rule,
      class: a.class,
      severity: a.severity,
      status: 'open',
      cleared: false,
      clearedAt: null,
      deviceId: a.device?.id ?? null,
      buildingId: a.building?.id ?? a.device?.buildingId ?? null,
      buildingName: a.building?.name ?? null,
      street: a.building?.street ?? null,
      kind: a.device?.kind ?? null,
      point: a.device?.point ?? null,
      value: a.value,
      threshold: a.threshold,
      peak: a.peak,
      count: a.count,
      message: a.message,
      openedAt: opened,
      lastAt: opened,
      // deadlines run from when the duty room learns of it, not from the device's timestamp
      ackDeadline: hazard ? this.iso(now + d.ackS * 1000) : null,
      closeDeadline: hazard ? this.iso(now + d.closeS * 1000) : null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      closedAt: null,
      closedBy: null,
      outcome: null,
      note: null,
      escalationLevel: 0,
      maintenance: maintenance !== undefined,
      history: [this.entry('raised', SYSTEM, a.message.zh)],
    };
    if (maintenance) alert.history.push(this.entry('maintenance', maintenance.by, `维护中，不通知 / in maintenance until ${maintenance.until}: ${maintenance.reason}`));
    this.deps.store.insert(alert);
    this.publish('alert.raised', alert);
    return alert;
  }

  /** An alert about the service itself (e.g. it was down), raised once instead of a storm of device alerts. */
  raiseSystem(rule: SystemRuleId, severity: Severity, message: Message): Alert {
    const existing = this.deps.store.findActive(null, rule);
    if (existing) return existing;
    return this.open({ rule, class: 'fault', severity, device: undefined, building: undefined, value: null, threshold: null, peak: null, count: 1, message, at: this.deps.clock.now() });
  }

  // ── people ───────────────────────────────────────────────────────────────────
  get(id: string): Alert {
    const a = this.deps.store.get(id);
    if (!a) throw new NotFoundError('alert', id);
    return a;
  }

  find(id: string): Alert | undefined {
    return this.deps.store.get(id);
  }

  list(filter: AlertFilter): Alert[] {
    return this.deps.store.list(filter);
  }

  acknowledge(id: string, by: string, note?: string): Alert {
    const a = this.get(id);
    if (a.status !== 'open') throw new ConflictError('alert_not_open', `alert ${id} is ${a.status}, not open`);
    a.status = 'acknowledged';
    a.acknowledgedAt = this.iso();
    a.acknowledgedBy = by;
    this.save(a, [this.entry('acknowledged', by, note ?? null)]);
    this.publish('alert.updated', a);
    return a;
  }

  close(id: string, by: string, outcome: Outcome, note: string): Alert {
    const a = this.get(id);
    if (a.status === 'closed') throw new ConflictError('alert_closed', `alert ${id} is already closed`);
    const now = this.iso();
    if (a.status === 'open') {
      // closing straight away also answers the alert
      a.acknowledgedAt = now;
      a.acknowledgedBy = by;
    }
    Object.assign(a, { status: 'closed', closedAt: now, closedBy: by, outcome, note });
    this.save(a, [this.entry('closed', by, `${outcome}: ${note}`)]);
    this.lastUpdateEvent.delete(a.id);
    this.publish('alert.closed', a);
    return a;
  }

  /** Called by the escalation scheduler when a deadline passed. */
  escalate(id: string, level: 1 | 2, reason: string): Alert | undefined {
    const a = this.deps.store.get(id);
    if (!a || a.status === 'closed' || a.escalationLevel >= level || a.maintenance) return undefined;
    a.escalationLevel = level;
    this.save(a, [this.entry('escalated', SYSTEM, reason)]);
    this.publish('alert.escalated', a);
    return a;
  }

  unclosed(): Alert[] {
    return this.deps.store.unclosed();
  }
}

