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
 *
 * Engines (docs/adr/0008): the steps that change alerts run synchronously against `store` (an
 * AlertWriter: the unclosed alerts) and inside `step` — on SQLite one better-sqlite3 transaction
 * whose feed events are pushed once it committed, on PostgreSQL a write scope
 * (../shared/write-scope.ts) whose queued writes commit in one transaction, after which the events
 * are pushed. A person's acknowledgement or close is such a step and is awaited; a rule outcome
 * runs inside the processors' batch (already a step), a deadline inside a timer's implicit scope.
 * Reads for people (one alert, lists, the incident record) go to `reader` and are awaited.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { UnitOfWork } from '../shared/unit-of-work.js';
import type { Reading } from '../telemetry/telemetry.js';
import { openingClocks, stampClock, type ClockName, type SpanName } from './alarm-clocks.js';
import type { Building, Device } from '../devices/model.js';
import type { Measured, RuleOutcome } from '../rules/rule-engine.js';
import type { Severity } from '../rules/rule-types.js';
import type { BuildingRuleId } from '../rules/building-rules.js';
import type { Message } from '../rules/messages.js';
import type { Clock } from '../shared/clock.js';
import { BadRequestError, ConflictError, NotFoundError, isStorageFailure } from '../shared/errors.js';
import type { LiveFeed } from '../live-feed/live-feed.js';
import type {
  Alert,
  AlertFilter,
  AlertMeasured,
  AlertReader,
  AlertRecord,
  AlertRecordFilter,
  AlertWriter,
  HistoryEntry,
  HistoryInfo,
  MaintenanceStore,
  SyncMaintenanceStore,
  MaintenanceWindow,
  Outcome,
  SystemRuleId,
} from './model.js';

/** '2026-11-29 10:00' in Asia/Shanghai (UTC+8, no daylight saving): a time in a sentence people read */
function shanghaiTime(iso: string): string {
  const t = new Date(Date.parse(iso) + 8 * 3600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 16)}`;
}

export interface Deadlines {
  ackS: number;
  closeS: number;
}

/** Default deadlines: the district's "1分钟响应、3分钟处置" (docs/district-plan.md), overridable per building use. */
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
  /** the unclosed alerts, answering at once (SQLite's store, or PostgreSQL's mirror) */
  store: AlertWriter;
  /** any alert, lists and the incident record, for people (awaited) */
  reader: AlertReader;
  /** runs a synchronous step that changes alerts as one transaction; resolves once it committed */
  step: <T>(fn: () => T) => Promise<T>;
  /**
   * Before a person's step on an alert: make sure `store` holds it (a mirror loads an alert raised
   * on another node it has not heard of yet, or a closed one). Absent: `store` holds every alert.
   */
  hold?: (id: string) => Promise<unknown>;
  maintenance: SyncMaintenanceStore;
  /**
   * PostgreSQL: the awaited store a change-controlled window is written to, inside the unit of work
   * of its audit entry (the mirror behind `maintenance` would write it in a transaction of its own),
   * and what to do once it committed (the mirror reads the windows again). Absent: `maintenance`.
   */
  maintenanceInUnit?: { store: MaintenanceStore; committed: () => void };
  feed: LiveFeed;
  clock: Clock;
  deadlines: DeadlinePolicy;
  log: Logger;
  /** min interval between alert.updated feed events for one alert (value changes are still stored) */
  updateEventIntervalMs?: number;
  /**
   * Whether a device is still being commissioned (调试, issue #17 item 6; DeviceRegistry.isCommissioning):
   * its alerts carry `commissioning: true`, have no deadlines and are never escalated. Absent: never.
   */
  isCommissioning?: (device: Device) => boolean;
  /**
   * A person's display name for the username that acted (issue #17 item 5), kept with the entry and
   * on the alert so the console shows 李值班 rather than li.duty; null for 'system', tokens and
   * unknown names. Absent: no names are kept.
   */
  nameOf?: (by: string) => string | null;
  /** an alert's clock was set (issue #15 item 4: the spans it ends go to /metrics) */
  onClock?: (alert: Alert, clock: ClockName) => void;
  /**
   * Issue #15 item 1: a hazard raised in a building joins the building's incident (警情) while any
   * of its alerts is unclosed, or within this many seconds of the incident's last change (a fire
   * rekindling a minute after it was closed is the same fire). Default 300.
   */
  incidentWindowS?: number;
}

export interface AlertContext {
  device: Device;
  building: Building | undefined;
  /** the reading each outcome came from, by index (its clocks, issue #15 item 4); undefined for a transition of time alone */
  sources?: ReadonlyArray<Reading | undefined>;
}

const SYSTEM = 'system';
/** the notes the system writes when it closes an alert itself, in both languages (`noteText`); `note` keeps "zh / en" */
const AUTO_NOTES = {
  in_service: { zh: '设备已投入使用，调试期间的告警归档为测试', en: 'device in service: the commissioning alert is filed as a test' },
  commissioning_cleared: { zh: '调试期间的告警，条件已恢复，自动关闭', en: 'raised while commissioning; condition cleared, closed automatically' },
  fault_cleared: { zh: '条件已恢复，自动关闭', en: 'condition cleared; closed automatically' },
} as const satisfies Record<string, Message>;
const bilingual = (m: Message) => `${m.zh} / ${m.en}`;
const COMMISSIONING_ENDED_NOTE = bilingual(AUTO_NOTES.in_service);
const FEED_HISTORY_ENTRIES = 10;

function newAlertId(now: number): string {
  return `al-${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}

function newIncidentId(now: number): string {
  return `in-${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** The alerts that make incidents (issue #15 item 1): a building's hazards that page the duty room. Faults stay apart. */
export function joinsIncident(a: Pick<Alert, 'class' | 'maintenance' | 'commissioning' | 'buildingId'>): boolean {
  return a.class === 'hazard' && !a.maintenance && !a.commissioning && a.buildingId !== null;
}

/** The card's where and whom to call (issue #17 item 2), as the registry has them now. */
function placeOf(device: Device | undefined, building: Building | undefined): Pick<Alert, 'location' | 'contactName' | 'contactPhone'> {
  return { location: device?.location ?? null, contactName: building?.contactName ?? null, contactPhone: building?.contactPhone ?? null };
}

/** A transition's measurement over the alert's: what this one knows wins, the rest is kept. */
function mergeMeasured(prev: AlertMeasured | null | undefined, m: Measured | undefined): AlertMeasured | null {
  if (!m) return prev ?? null;
  const since = m.since === null ? null : new Date(m.since).toISOString();
  return {
    value: m.value ?? prev?.value ?? null,
    unit: m.value !== null ? m.unit : (prev?.unit ?? m.unit),
    from: m.from ?? prev?.from ?? null,
    since: since ?? prev?.since ?? null,
    code: m.code ?? prev?.code ?? null,
  };
}

export type AlertEventType = 'alert.raised' | 'alert.updated' | 'alert.cleared' | 'alert.escalated' | 'alert.closed' | 'alert.clocks';

export class AlertService {
  private readonly lastUpdateEvent = new Map<string, number>();
  private readonly changeListeners: Array<(a: Alert, type: AlertEventType) => void> = [];
  /** building → its latest incident and when it last changed (the incident window, issue #15 item 1) */
  private readonly lastIncident = new Map<string, { id: string; at: number }>();

  constructor(private readonly deps: AlertServiceDeps) {}

  /** After each change, inside its step, with the feed event it published (`alert.clocks`: only its clocks changed). */
  onChange(listener: (a: Alert, type: AlertEventType) => void): void {
    this.changeListeners.push(listener);
  }

  private iso(t = this.deps.clock.now()): string {
    return new Date(t).toISOString();
  }

  private entry(action: HistoryEntry['action'], by: string, detail: string | null, info: HistoryInfo | null, at = this.iso()): HistoryEntry {
    return { at, action, by, detail, byName: this.nameOf(by), info };
  }

  /** a person's display name; null for the system itself and for tokens */
  private nameOf(by: string): string | null {
    if (by === SYSTEM || by.includes(':')) return null;
    return this.deps.nameOf?.(by) ?? null;
  }

  private publish(type: AlertEventType, alert: Alert): void {
    // the feed carries the latest history entries; the full audit trail is at GET /alerts/:id.
    // Entries and alerts stored before names were kept get them here (issue #17 item 5)
    const history = alert.history.slice(-FEED_HISTORY_ENTRIES).map((e) => (e.byName !== undefined ? e : { ...e, byName: this.nameOf(e.by) }));
    if (alert.acknowledgedByName === undefined) alert.acknowledgedByName = alert.acknowledgedBy ? this.nameOf(alert.acknowledgedBy) : null;
    if (alert.closedByName === undefined) alert.closedByName = alert.closedBy ? this.nameOf(alert.closedBy) : null;
    this.deps.feed.publish(type, { street: alert.street, buildingId: alert.buildingId }, { alert: { ...alert, history }, historyTotal: alert.history.length });
    if (alert.incidentId && alert.buildingId && type !== 'alert.clocks') this.lastIncident.set(alert.buildingId, { id: alert.incidentId, at: this.deps.clock.now() });
    for (const l of this.changeListeners) l(alert, type);
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

  /** With a unit of work (ChangeControl: the window and its audit entry), the write is queued there. */
  setMaintenance(target: 'device' | 'building', targetId: string, until: string, reason: string, by: string, uow?: UnitOfWork): MaintenanceWindow {
    const untilMs = Date.parse(until);
    if (!Number.isFinite(untilMs) || untilMs <= this.deps.clock.now()) {
      throw new BadRequestError('bad_until', 'until must be a time in the future (ISO 8601)');
    }
    const w: MaintenanceWindow = { target, targetId, until: new Date(untilMs).toISOString(), reason, by, createdAt: this.iso() };
    const inUnit = this.deps.maintenanceInUnit;
    if (uow && inUnit) {
      uow.write(() => inUnit.store.set(w));
      uow.afterCommit(inUnit.committed);
    } else if (uow) uow.write(() => this.deps.maintenance.set(w));
    else this.deps.maintenance.set(w);
    return w;
  }

  /** Ends the window, if there is one; with a unit of work, the removal is queued there. */
  endMaintenance(target: 'device' | 'building', targetId: string, uow?: UnitOfWork): void {
    const inUnit = this.deps.maintenanceInUnit;
    if (uow && inUnit) {
      uow.write(() => inUnit.store.remove(target, targetId));
      uow.afterCommit(inUnit.committed);
    } else if (uow) uow.write(() => this.deps.maintenance.remove(target, targetId));
    else this.deps.maintenance.remove(target, targetId);
  }

  // ── rule outcomes ────────────────────────────────────────────────────────────
  applyOutcomes(outcomes: readonly RuleOutcome[], ctx: AlertContext): void {
    for (const [i, o] of outcomes.entries()) {
      try {
        this.applyOne(o, ctx, ctx.sources?.[i]);
      } catch (err) {
        // storage failing: the processors' batch rolls back and is retried; a bug in one outcome is logged
        if (isStorageFailure(err)) throw err;
        this.deps.log.error({ err, deviceId: o.deviceId, rule: o.ruleId }, 'could not apply a rule outcome');
      }
    }
  }

  private commissioningNow(device: Device | undefined): boolean {
    return device !== undefined && (this.deps.isCommissioning?.(device) ?? false);
  }

  private applyOne(o: RuleOutcome, { device, building }: AlertContext, reading: Reading | undefined): void {
    let active = this.deps.store.findActive(device.id, o.ruleId);
    const at = this.iso(o.at);
    // the device went in service (its bound passed a moment ago, before endCommissioning ran)
    // while a commissioning alert was open: that one is the installation's history
    if (active?.commissioning && !this.commissioningNow(device)) {
      this.closeCommissioningAlert(active, SYSTEM);
      active = undefined;
      if (o.transition === 'clear') return;
    }
    if (o.transition === 'clear') {
      if (!active || active.cleared) return;
      active.cleared = true;
      active.clearedAt = at;
      active.lastAt = at;
      const added = [this.entry('cleared', SYSTEM, o.message.zh, { code: 'message', message: o.message }, at)];
      if (active.commissioning) {
        // an installer's test: nobody in the duty room disposes of it, it closes when the condition goes
        this.autoClose(active, 'test', 'commissioning_cleared', at);
        added.push(this.entry('closed', SYSTEM, AUTO_NOTES.commissioning_cleared.zh, { code: 'auto_closed', outcome: 'test', why: 'commissioning_cleared' }, at));
        this.save(active, added);
        this.publish('alert.closed', active);
      } else if (active.class === 'fault') {
        // a fault that went away needs no disposal; it stays in the history
        this.autoClose(active, 'fault', 'fault_cleared', at);
        added.push(this.entry('closed', SYSTEM, AUTO_NOTES.fault_cleared.zh, { code: 'auto_closed', outcome: 'fault', why: 'fault_cleared' }, at));
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
      // a recurrence is a new episode: a lane occupied since now, not since the first time
      active.measured = mergeMeasured(recurred ? null : active.measured, o.measured);
      Object.assign(active, placeOf(device, building));
      const added: HistoryEntry[] = [];
      if (recurred) {
        active.cleared = false;
        active.clearedAt = null;
        added.push(this.entry('recurred', SYSTEM, o.message.zh, { code: 'message', message: o.message }, at));
      } else if (o.realert) {
        added.push(this.entry('recurred', SYSTEM, `仍未恢复：${o.message.zh}`, { code: 'still_active', message: o.message }, at));
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
      measured: o.measured,
      at: o.at,
      reading,
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
    measured?: Measured;
    at: number;
    /** the reading that raised it: the alert's first clocks (issue #15 item 4) */
    reading?: Reading | undefined;
    /** a building rule's alert: what made it hold (issue #15 item 2) */
    evidenceIds?: string[];
  }): Alert {
    const now = this.deps.clock.now();
    const opened = this.iso(Math.min(a.at, now));
    const maintenance = this.maintenanceOf(a.device?.id ?? null, a.building?.id ?? null);
    const d = this.deps.deadlines.for(a.building?.use);
    // a commissioning device's alert goes to nobody's board: no deadlines, never escalated
    const commissioning = this.commissioningNow(a.device);
    const hazard = a.class === 'hazard' && !commissioning;
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
      commissioning,
      history: [this.entry('raised', SYSTEM, a.message.zh, { code: 'message', message: a.message })],
      ...placeOf(a.device, a.building),
      measured: mergeMeasured(null, a.measured),
      clocks: openingClocks(a.reading, this.iso(now)),
    };
    if (maintenance) {
      const until = shanghaiTime(maintenance.until);
      alert.history.push(
        this.entry('maintenance', maintenance.by, `维护中，不通知（至 ${until}）：${maintenance.reason}`, { code: 'maintenance', until: maintenance.until, reason: maintenance.reason }),
      );
    }
    if (commissioning) alert.history.push(this.entry('commissioning', SYSTEM, '设备调试中，不通知值班室', { code: 'commissioning' }));
    alert.incidentId = joinsIncident(alert) ? this.incidentFor(alert.buildingId!, now) : null;
    if (a.evidenceIds) alert.evidenceIds = a.evidenceIds;
    this.deps.store.insert(alert);
    // the reading's clocks come with the raise: the spans up to it are known now
    for (const clock of ['receivedAt', 'durableAt', 'raisedAt'] as const) this.clocked(alert, clock);
    this.publish('alert.raised', alert);
    return alert;
  }

  /**
   * The incident a new hazard in `buildingId` joins (issue #15 item 1): the one an unclosed hazard
   * of the building belongs to, else the building's latest if it changed within the window, else
   * a new one. The window is remembered in memory: after a restart only unclosed alerts group.
   */
  private incidentFor(buildingId: string, now: number): string {
    let newest: Alert | undefined;
    for (const a of this.deps.store.unclosed()) {
      if (a.buildingId === buildingId && a.incidentId && (!newest || a.openedAt > newest.openedAt)) newest = a;
    }
    if (newest?.incidentId) return newest.incidentId;
    const last = this.lastIncident.get(buildingId);
    if (last && now - last.at <= (this.deps.incidentWindowS ?? 300) * 1000) return last.id;
    return newIncidentId(now);
  }

  /**
   * A building rule's verdict (issue #15 item 2, services/alerts/building-rule-runner.ts): the
   * building's alert for the rule is raised (or recurs) while the rule holds, takes new evidence
   * while it is active, and clears when the rule no longer holds. A hazard: it stays until closed.
   */
  applyBuildingRule(building: Building, v: { rule: BuildingRuleId; severity: Severity; holds: boolean; message: Message; evidenceIds: string[] }): Alert | undefined {
    const active = this.deps.store.findActive(null, v.rule, building.id);
    const at = this.iso();
    if (!v.holds) {
      if (!active || active.cleared) return active;
      Object.assign(active, { cleared: true, clearedAt: at, lastAt: at });
      this.save(active, [this.entry('cleared', SYSTEM, v.message.zh, { code: 'message', message: v.message }, at)]);
      this.publish('alert.cleared', active);
      return active;
    }
    if (!active) {
      return this.open({ rule: v.rule, class: 'hazard', severity: v.severity, device: undefined, building, value: null, threshold: null, peak: null, count: v.evidenceIds.length, message: v.message, at: this.deps.clock.now(), evidenceIds: v.evidenceIds });
    }
    const same = !active.cleared && JSON.stringify(active.evidenceIds ?? []) === JSON.stringify(v.evidenceIds);
    if (same) return active;
    const added: HistoryEntry[] = [];
    if (active.cleared) {
      Object.assign(active, { cleared: false, clearedAt: null });
      added.push(this.entry('recurred', SYSTEM, v.message.zh, { code: 'message', message: v.message }, at));
    }
    Object.assign(active, { message: v.message, severity: v.severity, lastAt: at, count: v.evidenceIds.length, evidenceIds: v.evidenceIds });
    this.save(active, added);
    this.publish('alert.updated', active);
    return active;
  }

  /** An alert about the service itself (e.g. it was down), raised once instead of a storm of device alerts. */
  raiseSystem(rule: SystemRuleId, severity: Severity, message: Message): Alert {
    const existing = this.deps.store.findActive(null, rule);
    if (existing) return existing;
    return this.open({ rule, class: 'fault', severity, device: undefined, building: undefined, value: null, threshold: null, peak: null, count: 1, message, at: this.deps.clock.now() });
  }

  // ── people ───────────────────────────────────────────────────────────────────
  async get(id: string): Promise<Alert> {
    const a = await this.deps.reader.get(id);
    if (!a) throw new NotFoundError('alert', id);
    return a;
  }

  async find(id: string): Promise<Alert | undefined> {
    return this.deps.reader.get(id);
  }

  /** An unclosed alert as the synchronous steps see it (undefined once it is closed, on PostgreSQL). */
  peek(id: string): Alert | undefined {
    return this.deps.store.get(id);
  }

  async list(filter: AlertFilter): Promise<Alert[]> {
    return this.deps.reader.list(filter);
  }

  /** The incident record (警情记录): newest first, without history (issue #17 item 4). */
  async records(filter: AlertRecordFilter): Promise<AlertRecord[]> {
    return this.deps.reader.records(filter);
  }

  /** The building's unclosed alerts, newest first, at most `limit`; commissioning ones left out, as `list` does by default. */
  unclosedIn(buildingId: string, limit: number): Alert[] {
    return this.deps.store
      .unclosed()
      .filter((a) => a.buildingId === buildingId && !a.commissioning)
      .reverse()
      .slice(0, limit);
  }

  private held(id: string): Alert {
    const a = this.deps.store.get(id);
    if (!a) throw new NotFoundError('alert', id);
    return a;
  }

  /**
   * A person's step on one alert. On PostgreSQL the copy it decides on may be older than the
   * database's (another node changed the alert a moment ago): the version check refuses the write
   * (409 alert_changed), the mirror reads the alert again, and the step runs once more on it.
   */
  private async onAlert<T>(id: string, fn: () => T): Promise<T> {
    return this.heldStep(async () => void (await this.deps.hold?.(id)), fn);
  }

  /** `hold`, then `fn` as one step; once more (held again) when the step decided on a stale copy (409 alert_changed). */
  private async heldStep<T>(hold: () => Promise<void>, fn: () => T): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await hold();
      try {
        return await this.deps.step(fn);
      } catch (err) {
        if (attempt >= 2 || !(err instanceof ConflictError) || err.code !== 'alert_changed') throw err;
      }
    }
  }

  async acknowledge(id: string, by: string, note?: string): Promise<Alert> {
    return this.onAlert(id, () => {
      const a = this.held(id);
      if (a.status !== 'open') throw new ConflictError('alert_not_open', `alert ${id} is ${a.status}, not open`);
      return this.ackHeld(a, by, note);
    });
  }

  async close(id: string, by: string, outcome: Outcome, note: string): Promise<Alert> {
    return this.onAlert(id, () => {
      const a = this.held(id);
      if (a.status === 'closed') throw new ConflictError('alert_closed', `alert ${id} is already closed`);
      return this.closeHeld(a, by, outcome, note);
    });
  }

  /**
   * One person's acknowledgement of several alerts at once (an incident's, issue #15 item 1), as
   * one step: all or none. Those no longer open are left as they are (someone answered them a
   * moment ago); returns the alerts it acknowledged, each with its own history entry.
   */
  async acknowledgeAll(ids: readonly string[], by: string, note?: string): Promise<Alert[]> {
    return this.onAlerts(ids, () => ids.map((id) => this.deps.store.get(id)).filter((a): a is Alert => a?.status === 'open').map((a) => this.ackHeld(a, by, note)));
  }

  /** Closes several alerts as one step with one outcome and note; those already closed are left out. */
  async closeAll(ids: readonly string[], by: string, outcome: Outcome, note: string): Promise<Alert[]> {
    return this.onAlerts(ids, () =>
      ids
        .map((id) => this.deps.store.get(id))
        .filter((a): a is Alert => a !== undefined && a.status !== 'closed')
        .map((a) => this.closeHeld(a, by, outcome, note)),
    );
  }

  /** onAlert for several alerts: each held first, then one step. */
  private async onAlerts<T>(ids: readonly string[], fn: () => T): Promise<T> {
    const hold = this.deps.hold;
    // a closed alert cannot be held on PostgreSQL's mirror (not found): it is left out of the step anyway
    return this.heldStep(async () => {
      if (hold) for (const id of ids) await hold(id).catch(() => undefined);
    }, fn);
  }

  private ackHeld(a: Alert, by: string, note?: string): Alert {
    a.status = 'acknowledged';
    a.acknowledgedAt = this.iso();
    a.acknowledgedBy = by;
    a.acknowledgedByName = this.nameOf(by);
    this.stamp(a, 'acknowledgedAt', a.acknowledgedAt);
    this.save(a, [this.entry('acknowledged', by, note ?? null, note ? { code: 'note', note } : null)]);
    this.publish('alert.updated', a);
    return a;
  }

  private closeHeld(a: Alert, by: string, outcome: Outcome, note: string): Alert {
    const now = this.iso();
    if (a.status === 'open') {
      // closing straight away also answers the alert
      a.acknowledgedAt = now;
      a.acknowledgedBy = by;
      a.acknowledgedByName = this.nameOf(by);
      this.stamp(a, 'acknowledgedAt', now);
    }
    Object.assign(a, { status: 'closed', closedAt: now, closedBy: by, closedByName: this.nameOf(by), outcome, note, noteText: null });
    this.save(a, [this.entry('closed', by, `${outcome}: ${note}`, { code: 'closed', outcome, note })]);
    this.lastUpdateEvent.delete(a.id);
    this.publish('alert.closed', a);
    return a;
  }

  /** Called by the escalation scheduler when a deadline passed. */
  escalate(id: string, level: 1 | 2, reason: string): Alert | undefined {
    const a = this.deps.store.get(id);
    if (!a || a.status === 'closed' || a.escalationLevel >= level || a.maintenance || a.commissioning) return undefined;
    a.escalationLevel = level;
    const deadline = level === 1 ? 'ack' : 'close';
    this.save(a, [this.entry('escalated', SYSTEM, reason, { code: 'escalated', level, deadline, due: level === 1 ? a.ackDeadline : a.closeDeadline })]);
    this.publish('alert.escalated', a);
    return a;
  }

  unclosed(): Alert[] {
    return this.deps.store.unclosed();
  }

  // ── commissioning (issue #17 item 6) ───────────────────────────────────────────
  /** closed by the system itself: the outcome, and the note in both languages */
  private autoClose(a: Alert, outcome: Outcome, why: keyof typeof AUTO_NOTES, at: string, by = SYSTEM): void {
    Object.assign(a, { status: 'closed', closedAt: at, closedBy: by, closedByName: this.nameOf(by), outcome, note: bilingual(AUTO_NOTES[why]), noteText: AUTO_NOTES[why] });
  }

  private closeCommissioningAlert(a: Alert, by: string): void {
    const now = this.iso();
    this.autoClose(a, 'test', 'in_service', now, by);
    this.save(a, [this.entry('closed', by, `test: ${COMMISSIONING_ENDED_NOTE}`, { code: 'auto_closed', outcome: 'test', why: 'in_service' })]);
    this.lastUpdateEvent.delete(a.id);
    this.publish('alert.closed', a);
  }

  /**
   * The device went in service (a person put it in service, or its bound passed): its unclosed
   * commissioning alerts are the installation's history, closed as tests. The caller also resets
   * the device's rule state (server/main.ts), so that its next reading is judged afresh: a
   * condition that lasts (a pressure still low) is raised by it as a normal alert, with deadlines;
   * an installer's 3.2 → 0.32 of an hour ago is not. Returns the alerts closed.
   */
  endCommissioning(device: Device, by: string): Alert[] {
    const open = this.deps.store.unclosed().filter((a) => a.deviceId === device.id && a.commissioning);
    for (const a of open) this.closeCommissioningAlert(a, by);
    return open;
  }

  // ── clocks (issue #15 item 4, alarm-clocks.ts) ───────────────────────────────────
  /** Set one of the alert's clocks (stored with the caller's save); true when it was set now. */
  private stamp(a: Alert, clock: ClockName, at: string | null): boolean {
    if (!a.clocks || at === null || !stampClock(a.clocks, clock, at)) return false;
    this.clocked(a, clock);
    return true;
  }

  private clocked(a: Alert, clock: ClockName): void {
    try {
      this.deps.onClock?.(a, clock);
    } catch (err) {
      this.deps.log.warn({ err, alert: a.id }, 'could not observe an alert clock');
    }
  }

  /**
   * A duty console displayed the alert (POST /alerts/{id}/shown): the first report sets
   * `firstShownAt`, later ones change nothing (idempotent). Not set once the alert was
   * acknowledged, nor on an alert without clocks (stored before them). Returns the alert.
   */
  async shown(id: string, by: string): Promise<Alert> {
    const now = this.deps.clock.now();
    const known = this.deps.store.get(id);
    if (known && (!known.clocks || known.clocks.firstShownAt !== null || known.clocks.acknowledgedAt !== null)) return known;
    return this.onAlert(id, () => {
      const a = this.held(id);
      if (a.clocks && this.stamp(a, 'firstShownAt', this.iso(now))) {
        a.clocks.firstShownBy = by;
        this.save(a, []);
        this.publish('alert.clocks', a);
      }
      return a;
    });
  }

  /**
   * The uplink delivered an item of the alert (UplinkEvents.onDelivered): the first item sent after
   * the acknowledgement sets `forwardedAt` (its send started) and `platformConfirmedAt` (the
   * platform confirmed it). Items sent before the acknowledgement, and alerts forwarded already,
   * change nothing. Never rejects: the delivery is done whatever this records.
   */
  async forwarded(id: string, via: string, sentAt: number, confirmedAt: number): Promise<void> {
    const known = this.deps.store.get(id);
    if (known && (!known.clocks || known.clocks.forwardedAt !== null)) return;
    try {
      await this.onAlert(id, () => {
        const a = this.held(id);
        const c = a.clocks;
        if (!c || c.forwardedAt !== null || c.acknowledgedAt === null || Date.parse(c.acknowledgedAt) > sentAt) return;
        if (!this.stamp(a, 'forwardedAt', this.iso(sentAt))) return;
        c.forwardedVia = via;
        this.stamp(a, 'platformConfirmedAt', this.iso(confirmedAt));
        this.save(a, []);
        this.publish('alert.clocks', a);
      });
    } catch (err) {
      this.deps.log.warn({ err, alert: id }, 'could not record when the alert was forwarded');
    }
  }

  /**
   * A span of the alert went over its target (clock-watch.ts): the alert notes it (`clocks.late`,
   * once per span) and the duty room gets one operational alarm_clock_late alert, which names the
   * latest late alert while it is open (it recurs, no second one). Synchronous, as escalate(): in the
   * step that set the clock, or a timer's implicit scope.
   */
  clockLate(alertId: string, span: SpanName, message: Message): Alert {
    const a = this.deps.store.get(alertId);
    if (a?.clocks && !a.clocks.late?.includes(span)) {
      a.clocks.late = [...(a.clocks.late ?? []), span];
      this.save(a, []);
      this.publish('alert.clocks', a);
    }
    return this.raiseOrRecurSystem('alarm_clock_late', 'major', message);
  }

  /** raiseSystem; with one open already, that one recurs with the new message (count, history) */
  private raiseOrRecurSystem(rule: SystemRuleId, severity: Severity, message: Message): Alert {
    const existing = this.deps.store.findActive(null, rule);
    if (!existing) return this.raiseSystem(rule, severity, message);
    const at = this.iso();
    existing.count += 1;
    existing.lastAt = at;
    existing.message = message;
    this.save(existing, [this.entry('recurred', SYSTEM, message.zh, { code: 'message', message }, at)]);
    this.publish('alert.updated', existing);
    return existing;
  }
}

