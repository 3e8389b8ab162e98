/**
 * Alerts as a duty officer handles them. Status is the human workflow (open → acknowledged →
 * closed); `cleared` is the condition's state, independent of it: an alert can clear before or
 * after acknowledgement, and a hazard stays on the board until a person closes it.
 */
import type { Message } from '../rules/messages.js';
import type { AlertClass, RuleId, Severity } from '../rules/rule-types.js';

/** Rules raised by the system itself rather than by a device's readings. */
export type SystemRuleId = 'service_outage';
export type AlertRule = RuleId | SystemRuleId;

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
  | 'maintenance';

export interface HistoryEntry {
  at: string;
  action: HistoryAction;
  /** a person's username, or 'system' */
  by: string;
  detail: string | null;
}

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
  escalationLevel: 0 | 1 | 2;
  /** raised while the device or building was in maintenance: kept, shown apart, never pages */
  maintenance: boolean;
  history: HistoryEntry[];
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
  limit: number;
}

export interface AlertStore {
  /** the alert for (device, rule) that is not closed, if any */
  findActive(deviceId: string | null, rule: AlertRule): Alert | undefined;
  insert(alert: Alert): void;
  /** replace the alert and append `added` history entries */
  update(alert: Alert, added: HistoryEntry[]): void;
  get(id: string): Alert | undefined;
  list(filter: AlertFilter): Alert[];
  /** alerts not closed, oldest first (escalation scheduling, restart) */
  unclosed(): Alert[];
}

export interface MaintenanceWindow {
  target: 'device' | 'building';
  targetId: string;
  until: string;
  reason: string;
  by: string;
  createdAt: string;
}

export interface MaintenanceStore {
  set(w: MaintenanceWindow): void;
  remove(target: 'device' | 'building', targetId: string): boolean;
  get(target: 'device' | 'building', targetId: string): MaintenanceWindow | undefined;
}

export const FEED_EVENT_TYPES = [
  'alert.raised',
  'alert.updated',
  'alert.cleared',
  'alert.escalated',
  'alert.closed',
  'device.online',
  'device.offline',
] as const;
export type FeedEventType = (typeof FEED_EVENT_TYPES)[number];

export interface FeedEvent {
  seq: number;
  type: FeedEventType;
  at: string;
  street: string | null;
  buildingId: string | null;
  data: Record<string, unknown>;
}

export interface EventLogStore {
  /** append and return the assigned sequence number (monotonically increasing, durable) */
  append(e: Omit<FeedEvent, 'seq'>): FeedEvent;
  /** events with seq > afterSeq, oldest first */
  since(afterSeq: number, limit: number): FeedEvent[];
  lastSeq(): number;
  /** drop events older than `before` (epoch ms); returns how many */
  prune(before: number): number;
}
