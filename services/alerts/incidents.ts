/**
 * Incidents (警情, issue #15 item 1): one building's hazard alerts grouped into one thing a duty
 * officer handles. One overheating detector raises `temperature_high` and `device_alarm`; a real
 * fire in a complex raises a dozen alerts over several minutes. The duty board shows one card per
 * incident: the building, the evidence in the order it came, the most severe level, and one
 * acknowledge / close that applies to its alerts — each alert keeps its own history.
 *
 * How alerts group (AlertService.incidentFor, at raise): a hazard that pages the duty room
 * (`joinsIncident`: not a fault, not in maintenance, not commissioning) joins the building's
 * incident while any of that incident's alerts is unclosed, or within `incidentWindowS` (300 s)
 * of its last change; otherwise it opens a new incident. Faults stay apart: they go to the
 * maintenance company, not to the fire.
 *
 * An incident is not stored on its own: it is its alerts (each carries `incidentId` in its
 * document), so it cannot disagree with them. Its status follows them: open while any alert is
 * open (not acknowledged), acknowledged while none is open and some is not closed, closed when
 * all are. Acknowledging or closing an incident acknowledges or closes, in one step, every alert
 * of it that is still open or unclosed, with the same outcome and note.
 *
 * The live feed carries `incident.opened`, `incident.updated`, `incident.acknowledged` and
 * `incident.closed` after the alert event that changed it, in the same step (pushed once it
 * committed). The events are built from the alerts this node has seen change (seeded at start
 * from the unclosed ones); the API reads the alerts from the store and is the reference.
 */
import type { Clock } from '../shared/clock.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import type { LiveFeed } from '../live-feed/live-feed.js';
import type { Severity } from '../rules/rule-types.js';
import type { Message } from '../rules/messages.js';
import type { AlertService } from './alert-service.js';
import type { Alert, AlertMeasured, AlertStatus, Outcome } from './model.js';

const SEVERITY_RANK: Readonly<Record<string, number>> = { critical: 0, major: 1, minor: 2, warning: 3 };

/** One alert of an incident, as its card lists it. */
export interface IncidentEvidence {
  alertId: string;
  rule: string;
  severity: Severity;
  status: AlertStatus;
  cleared: boolean;
  deviceId: string | null;
  kind: string | null;
  point: string | null;
  location: string | null;
  openedAt: string;
  lastAt: string;
  count: number;
  message: Message;
  value: number | null;
  measured: AlertMeasured | null;
}

export interface Incident {
  id: string;
  buildingId: string;
  buildingName: string | null;
  street: string | null;
  status: AlertStatus;
  /** the most severe of its alerts */
  severity: Severity;
  /** its alerts in the order they were raised */
  alertIds: string[];
  openedAt: string;
  /** the latest change of any of its alerts */
  lastAt: string;
  /** the earliest deadline still running: to acknowledge (while open) and to close */
  ackDeadline: string | null;
  closeDeadline: string | null;
  escalationLevel: number;
  /** when the last of its open alerts was acknowledged (null while one is open) */
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  /** closed: when and by whom the last alert was closed, and its outcome */
  closedAt: string | null;
  closedBy: string | null;
  outcome: Outcome | null;
  contactName: string | null;
  contactPhone: string | null;
  evidence: IncidentEvidence[];
}

export type IncidentStatusFilter = 'active' | AlertStatus | 'all';

export interface IncidentFilter {
  status: IncidentStatusFilter;
  buildingId?: string;
  street?: string;
  streets?: readonly string[];
  buildingIds?: readonly string[];
  limit: number;
}

const latest = (xs: (string | null)[]): string | null => xs.reduce<string | null>((m, x) => (x !== null && (m === null || x > m) ? x : m), null);
const earliest = (xs: (string | null)[]): string | null => xs.reduce<string | null>((m, x) => (x !== null && (m === null || x < m) ? x : m), null);

/** The incident its alerts make (all of one incident, any order). */
export function incidentOf(alerts: readonly Alert[]): Incident {
  if (alerts.length === 0) throw new Error('an incident has at least one alert');
  const members = [...alerts].sort((a, b) => (a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : a.id < b.id ? -1 : 1));
  const first = members[0]!;
  const open = members.filter((a) => a.status === 'open');
  const unclosed = members.filter((a) => a.status !== 'closed');
  const status: AlertStatus = open.length > 0 ? 'open' : unclosed.length > 0 ? 'acknowledged' : 'closed';
  const worst = members.reduce((w, a) => ((SEVERITY_RANK[a.severity] ?? 9) < (SEVERITY_RANK[w.severity] ?? 9) ? a : w), first);
  const lastAcked = members.filter((a) => a.acknowledgedAt !== null).sort((a, b) => (a.acknowledgedAt! < b.acknowledgedAt! ? 1 : -1))[0];
  const lastClosed = members.filter((a) => a.closedAt !== null).sort((a, b) => (a.closedAt! < b.closedAt! ? 1 : -1))[0];
  const newest = members[members.length - 1]!;
  return {
    id: first.incidentId!,
    buildingId: first.buildingId!,
    buildingName: newest.buildingName ?? first.buildingName,
    street: newest.street ?? first.street,
    status,
    severity: worst.severity,
    alertIds: members.map((a) => a.id),
    openedAt: first.openedAt,
    lastAt: latest(members.map((a) => latest([a.lastAt, a.acknowledgedAt, a.closedAt]))) ?? first.openedAt,
    ackDeadline: earliest(open.map((a) => a.ackDeadline)),
    closeDeadline: earliest(unclosed.map((a) => a.closeDeadline)),
    escalationLevel: Math.max(...unclosed.map((a) => a.escalationLevel), 0),
    acknowledgedAt: status === 'open' ? null : (lastAcked?.acknowledgedAt ?? null),
    acknowledgedBy: status === 'open' ? null : (lastAcked?.acknowledgedBy ?? null),
    closedAt: status === 'closed' ? (lastClosed?.closedAt ?? null) : null,
    closedBy: status === 'closed' ? (lastClosed?.closedBy ?? null) : null,
    outcome: status === 'closed' ? (lastClosed?.outcome ?? null) : null,
    contactName: newest.contactName ?? null,
    contactPhone: newest.contactPhone ?? null,
    evidence: members.map((a) => ({
      alertId: a.id,
      rule: a.rule,
      severity: a.severity,
      status: a.status,
      cleared: a.cleared,
      deviceId: a.deviceId,
      kind: a.kind,
      point: a.point,
      location: a.location ?? null,
      openedAt: a.openedAt,
      lastAt: a.lastAt,
      count: a.count,
      message: a.message,
      value: a.value,
      measured: a.measured ?? null,
    })),
  };
}

const inScope = (f: Pick<IncidentFilter, 'streets' | 'buildingIds' | 'buildingId' | 'street'>, a: Pick<Alert, 'street' | 'buildingId'>): boolean =>
  (!f.streets || (a.street !== null && f.streets.includes(a.street))) &&
  (!f.buildingIds || (a.buildingId !== null && f.buildingIds.includes(a.buildingId))) &&
  (f.buildingId === undefined || a.buildingId === f.buildingId) &&
  (f.street === undefined || a.street === f.street);

const matches = (status: IncidentStatusFilter, i: Incident): boolean =>
  status === 'all' || (status === 'active' ? i.status !== 'closed' : i.status === status);

/** an incident holds at most this many alerts in one answer (a fire of a whole complex stays far below) */
const MAX_MEMBERS = 500;
/**
 * the feed's incident events carry the latest this many pieces of evidence (and `evidenceTotal`):
 * a large incident's event stays small however many alerts it gathered; GET /incidents/{id} has all
 */
export const FEED_EVIDENCE = 10;

export interface IncidentServiceDeps {
  alerts: AlertService;
  feed: LiveFeed;
  clock: Clock;
  /** how long a closed incident is kept for the feed's view of it (AlertService's incident window) */
  windowS?: number;
}

export class IncidentService {
  /** the alerts of the incidents this node has seen change, by incident (the feed's view) */
  private readonly known = new Map<string, { alerts: Map<string, Alert>; status: AlertStatus; changedAt: number }>();

  constructor(private readonly deps: IncidentServiceDeps) {
    // a change of an alert's clocks only (shown, forwarded) changes nothing an incident shows
    deps.alerts.onChange((a, type) => {
      if (type !== 'alert.clocks') this.changed(a);
    });
  }

  /** Seed the feed's view with the incidents that have unclosed alerts (at start). */
  async start(): Promise<void> {
    const ids = new Set(this.deps.alerts.unclosed().flatMap((a) => (a.incidentId ? [a.incidentId] : [])));
    for (const id of ids) {
      const members = await this.members(id);
      if (members.length === 0 || this.known.has(id)) continue;
      this.known.set(id, { alerts: new Map(members.map((a) => [a.id, a])), status: incidentOf(members).status, changedAt: this.deps.clock.now() });
    }
  }

  private members(id: string): Promise<Alert[]> {
    return this.deps.alerts.list({ incidentId: id, limit: MAX_MEMBERS, commissioning: 'exclude' });
  }

  async get(id: string): Promise<Incident> {
    const members = await this.members(id);
    if (members.length === 0) throw new NotFoundError('incident', id);
    return incidentOf(members);
  }

  /** Incidents newest first. Active ones come from the unclosed alerts; closed ones from the latest alerts that belong to one. */
  async list(f: IncidentFilter): Promise<Incident[]> {
    let ids: string[];
    if (f.status === 'active' || f.status === 'open' || f.status === 'acknowledged') {
      const newest = new Map<string, string>();
      for (const a of this.deps.alerts.unclosed()) {
        if (!a.incidentId || a.commissioning || !inScope(f, a)) continue;
        const at = newest.get(a.incidentId);
        if (at === undefined || a.openedAt > at) newest.set(a.incidentId, a.openedAt);
      }
      ids = [...newest.entries()].sort((a, b) => (a[1] < b[1] ? 1 : -1)).map(([id]) => id);
    } else {
      const recent = await this.deps.alerts.list({
        incidentId: true,
        limit: Math.min(5000, f.limit * 20),
        ...(f.streets ? { streets: f.streets } : {}),
        ...(f.buildingIds ? { buildingIds: f.buildingIds } : {}),
        ...(f.buildingId ? { buildingId: f.buildingId } : {}),
        ...(f.street ? { street: f.street } : {}),
      });
      ids = [...new Set(recent.map((a) => a.incidentId as string))];
    }
    const out: Incident[] = [];
    for (const id of ids) {
      if (out.length >= f.limit) break;
      const members = await this.members(id);
      if (members.length === 0) continue;
      const i = incidentOf(members);
      if (matches(f.status, i)) out.push(i);
    }
    return out;
  }

  /** Acknowledge every open alert of the incident, as one step (409 if none is open). */
  async acknowledge(id: string, by: string, note?: string): Promise<Incident> {
    const before = await this.get(id);
    const open = before.evidence.filter((e) => e.status === 'open').map((e) => e.alertId);
    if (open.length === 0) throw new ConflictError('incident_not_open', `incident ${id} is ${before.status}, not open`);
    const done = await this.deps.alerts.acknowledgeAll(open, by, note);
    if (done.length === 0) throw new ConflictError('incident_not_open', `incident ${id} was answered a moment ago`);
    return this.get(id);
  }

  /** Close every unclosed alert of the incident with one outcome and note, as one step (409 if all are closed). */
  async close(id: string, by: string, outcome: Outcome, note: string): Promise<Incident> {
    const before = await this.get(id);
    const unclosed = before.evidence.filter((e) => e.status !== 'closed').map((e) => e.alertId);
    if (unclosed.length === 0) throw new ConflictError('incident_closed', `incident ${id} is already closed`);
    const done = await this.deps.alerts.closeAll(unclosed, by, outcome, note);
    if (done.length === 0) throw new ConflictError('incident_closed', `incident ${id} was closed a moment ago`);
    return this.get(id);
  }

  /** An alert changed (inside its step): the incident's event follows the alert's. */
  private changed(a: Alert): void {
    if (!a.incidentId) return;
    const now = this.deps.clock.now();
    this.forget(now);
    let k = this.known.get(a.incidentId);
    const opened = k === undefined;
    if (!k) this.known.set(a.incidentId, (k = { alerts: new Map(), status: 'open', changedAt: now }));
    k.alerts.set(a.id, structuredClone(a));
    const incident = incidentOf([...k.alerts.values()]);
    const type = opened
      ? 'incident.opened'
      : incident.status === 'closed'
        ? 'incident.closed'
        : incident.status === 'acknowledged' && k.status === 'open'
          ? 'incident.acknowledged'
          : 'incident.updated';
    if (type === 'incident.closed' && k.status === 'closed') return; // closed already: a late change of a closed alert
    k.status = incident.status;
    k.changedAt = now;
    const evidenceTotal = incident.evidence.length;
    const brief = { ...incident, evidence: incident.evidence.slice(-FEED_EVIDENCE), evidenceTotal };
    this.deps.feed.publish(type, { street: incident.street, buildingId: incident.buildingId }, { incident: brief });
  }

  /** closed incidents leave the feed's view once a new alert can no longer join them */
  private forget(now: number): void {
    const keepMs = (this.deps.windowS ?? 300) * 1000 * 2;
    for (const [id, k] of this.known) if (k.status === 'closed' && now - k.changedAt > keepMs) this.known.delete(id);
  }
}
