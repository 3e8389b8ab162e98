/**
 * Alerts as a duty officer handles them. Status is the human workflow (open → acknowledged →
 * closed); `cleared` is the condition's state, independent of it: an alert can clear before or
 * after acknowledgement, and a hazard stays on the board until a person closes it.
 */
import type { Message } from '../rules/messages.js';
import type { AlertClocks } from './alarm-clocks.js';
import type { AlertClass, RuleId, Severity } from '../rules/rule-types.js';
import type { BuildingRuleId } from '../rules/building-rules.js';
import type { Awaitable, Settled } from '../shared/awaitable.js';

/** Rules raised by the system itself rather than by a device's readings. */
/** alarm_clock_late (issue #15 item 4): an alert's display or forwarding took longer than its target (alarm-clocks.ts) */
export type SystemRuleId = 'service_outage' | 'alarm_clock_late';
/** a building rule's alert (issue #15 item 2): no device, keyed by its building */
export type AlertRule = RuleId | SystemRuleId | BuildingRuleId;

export const ALERT_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const OUTCOMES = ['real_fire', 'false_alarm', 'test', 'fault', 'other'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type HistoryAction =
  | 'raised'
  | 'recurred'
  | 'cleared'
  | 'acknowledged'
  | 'escalated'
  | 'closed'
  | 'maintenance'
  /** raised while the device was being commissioned (issue #17 item 6) */
  | 'commissioning';

export interface HistoryEntry {
  at: string;
  action: HistoryAction;
  /** a person's username, or 'system' */
  by: string;
  /** the same as plain text (Chinese first, for clients that do not read `info`) */
  detail: string | null;
  /** `by`'s display name when a person did it (issue #17 item 5); null for the system and tokens, absent on older entries */
  byName?: string | null;
  /** what `detail` says, as data: the console words it in the reader's language and time zone (issue #17 item 5); absent on older entries */
  info?: HistoryInfo | null;
}

/**
 * The structured detail of a history entry (issue #17 item 5), by `code`:
 *   message        raised / recurred / cleared: the rule's sentence in both languages
 *   still_active   a periodic re-alert (a lane still blocked) with the rule's sentence
 *   auto_closed    closed by the system: `why` fault_cleared (a fault whose condition went away),
 *                  commissioning_cleared (an installer's test alert that cleared), in_service (the
 *                  device went in service: its commissioning alerts are filed as tests)
 *   closed         closed by a person with an outcome and a note
 *   note           acknowledged with a note
 *   escalated      a deadline passed: `deadline` ack (响应, level 1) or close (处置, level 2), `due` when it was
 *   maintenance    raised in a maintenance window: until when and why
 *   commissioning  raised while the device was being commissioned
 */
export type HistoryInfo =
  | { code: 'message'; message: Message }
  | { code: 'still_active'; message: Message }
  | { code: 'auto_closed'; outcome: Outcome; why: 'fault_cleared' | 'commissioning_cleared' | 'in_service' }
  | { code: 'closed'; outcome: Outcome; note: string }
  | { code: 'note'; note: string }
  | { code: 'escalated'; level: 1 | 2; deadline: 'ack' | 'close'; due: string | null }
  | { code: 'maintenance'; until: string; reason: string }
  | { code: 'commissioning' };

export interface Alert {
  id: string;
  rule: AlertRule;
  class: AlertClass;
  severity: Severity;
  status: AlertStatus;
  cleared: boolean;
  clearedAt: string | null;
  deviceId: string | null;
  buildingId: string | null;
  buildingName: string | null;
  street: string | null;
  kind: string | null;
  point: string | null;
  value: number | null;
  threshold: number | null;
  peak: number | null;
  count: number;
  message: Message;
  openedAt: string;
  lastAt: string;
  /** response deadlines apply to hazards ("1分钟响应、3分钟处置"); faults have none */
  ackDeadline: string | null;
  closeDeadline: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  closedAt: string | null;
  closedBy: string | null;
  outcome: Outcome | null;
  note: string | null;
  // issue #17 item 5: who, as people read it, and the system's own close note in both languages.
  // Optional: absent on alerts stored before them (and null for the system and tokens).
  /** the display name of `acknowledgedBy` when a person acknowledged it */
  acknowledgedByName?: string | null;
  /** the display name of `closedBy` when a person closed it */
  closedByName?: string | null;
  /** the note in both languages when the system wrote it (closed automatically); null when a person wrote `note` */
  noteText?: Message | null;
  escalationLevel: 0 | 1 | 2;
  /** raised while the device or building was in maintenance: kept, shown apart, never pages */
  maintenance: boolean;
  /**
   * raised while the device was being commissioned (调试, issue #17 item 6): shown on the device
   * page and to the building's operator only; no deadlines, never escalated, never on the duty
   * board, the safety code or the uplink. Alerts stored before the field existed read as false.
   */
  commissioning: boolean;
  history: HistoryEntry[];
  // issue #17 item 2: where, whom to call and what was measured, for the duty officer's card.
  // Optional: alerts stored before these fields existed have none of them.
  /** the device's installed location (楼层/位置), e.g. "62F 屋顶试验消火栓" */
  location?: string | null;
  /** the building's contact (its control room or manager) */
  contactName?: string | null;
  contactPhone?: string | null;
  measured?: AlertMeasured | null;
  /** issue #15 item 4: when each step from the reading to the platform's confirm happened (alarm-clocks.ts); absent on alerts stored before them */
  clocks?: AlertClocks | null;
  /**
   * The incident (警情, issue #15 item 1) this hazard belongs to: one building's hazard alerts
   * while any of them is unclosed, plus a short window (services/alerts/incidents.ts). Null for
   * faults, maintenance and commissioning alerts; absent on alerts stored before incidents.
   */
  incidentId?: string | null;
  /** a building rule's alert (issue #15 item 2): the alerts (or `flow:<deviceId>` signals) that made it hold */
  evidenceIds?: string[] | null;
}

/**
 * What was measured, in its unit (services/rules/rule-engine.ts Measured): `value` is the quantity
 * itself — for pressure_drop the pressure now, `from` the pressure it fell from, while the alert's
 * `value` is the fall; `since` when a lane became occupied or a device went silent; `code` the
 * device's own alarm or supervisory code, or the sensor fault's cause.
 */
export interface AlertMeasured {
  value: number | null;
  unit: string | null;
  from: number | null;
  since: string | null;
  code: string | null;
}

export interface AlertFilter {
  status?: AlertStatus | 'active';
  street?: string;
  streets?: readonly string[];
  buildingId?: string;
  buildingIds?: readonly string[];
  deviceId?: string;
  rule?: string;
  severity?: string;
  from?: string;
  to?: string;
  /** commissioning alerts (issue #17 item 6): left out unless asked for (`include`), or only them */
  commissioning?: 'exclude' | 'include' | 'only';
  /** the alerts of one incident (issue #15 item 1), or (`true`) only alerts that belong to one */
  incidentId?: string | true;
  limit: number;
}

/** An alert without its history, as the incident record (警情记录, issue #17 item 4) lists it. */
export type AlertRecord = Omit<Alert, 'history'>;

/**
 * The incident record's filter. Times are ISO 8601 instants (toISOString form, compared as text);
 * `dateField` says which time the range applies to and the list is ordered by, newest first.
 */
export interface AlertRecordFilter {
  class: AlertClass;
  dateField: 'opened' | 'closed';
  from?: string;
  to?: string;
  status?: AlertStatus | 'active';
  street?: string;
  buildingId?: string;
  rule?: string;
  outcome?: Outcome;
  /** who acknowledged or closed (username) */
  person?: string;
  /** free text in the building's name (or id) */
  q?: string;
  /** the principal's scope */
  streets?: readonly string[];
  buildingIds?: readonly string[];
  /** keyset cursor: records strictly after this (time, id) in the order */
  after?: { at: string; id: string };
  limit: number;
}

/** The contract suite that every implementation passes, fakes included, is tests/support/alert-store-contract.ts (alertStoreContract). */
export interface AlertStore {
  /**
   * the alert for (device, rule) that is not closed, if any; an alert without a device is keyed by
   * its building too (a building rule's, issue #15 item 2): `buildingId` absent or null is a system
   * alert's (no device, no building)
   */
  findActive(deviceId: string | null, rule: AlertRule, buildingId?: string | null): Awaitable<Alert | undefined>;
  insert(alert: Alert): Awaitable<void>;
  /** replace the alert and append `added` history entries */
  update(alert: Alert, added: HistoryEntry[]): Awaitable<void>;
  get(id: string): Awaitable<Alert | undefined>;
  list(filter: AlertFilter): Awaitable<Alert[]>;
  /** alerts not closed, oldest first (escalation scheduling, restart) */
  unclosed(): Awaitable<Alert[]>;
  /** the incident record: newest first by `dateField`, without history */
  records(filter: AlertRecordFilter): Awaitable<AlertRecord[]>;
}

/** AlertStore answering at once (SQLite): what its service takes while it calls the store synchronously (ADR 0008). */
export type SyncAlertStore = Settled<AlertStore>;

/**
 * What the alert service's synchronous steps (rule outcomes, acknowledge, close, escalate) read and
 * write: the unclosed alerts. SQLite's store answers at once; on PostgreSQL a mirror
 * (storage/postgres/pg-alert-mirror.ts) answers from memory and queues its writes in the write
 * scope. Its `get` answers for the alerts it holds (every unclosed one, on a mirror).
 */
export type AlertWriter = Pick<SyncAlertStore, 'findActive' | 'insert' | 'update' | 'get' | 'unclosed'>;

/** What the API reads (any alert, lists, the incident record), awaited. */
export type AlertReader = Pick<AlertStore, 'get' | 'list' | 'records'>;

export interface MaintenanceWindow {
  target: 'device' | 'building';
  targetId: string;
  until: string;
  reason: string;
  by: string;
  createdAt: string;
}

/** The contract suite that every implementation passes, fakes included, is tests/support/alert-store-contract.ts (maintenanceStoreContract). */
export interface MaintenanceStore {
  set(w: MaintenanceWindow): Awaitable<void>;
  remove(target: 'device' | 'building', targetId: string): Awaitable<boolean>;
  get(target: 'device' | 'building', targetId: string): Awaitable<MaintenanceWindow | undefined>;
}

/** MaintenanceStore answering at once (SQLite): what its service takes while it calls the store synchronously (ADR 0008). */
export type SyncMaintenanceStore = Settled<MaintenanceStore>;
