/**
 * What the console knows live: the active alerts (GET /alerts?status=active once, then feed
 * events) and the devices' online state from device.online/offline events. Views subscribe and
 * re-render; nothing here touches the DOM.
 */
const SEVERITY_RANK = { critical: 0, major: 1, minor: 2, warning: 3 };
const STATUS_RANK = { open: 0, acknowledged: 1, closed: 2 };

/**
 * Past a deadline on the server's clock `now` (or escalated for it): `ack` — open and not
 * acknowledged in time; `close` — not closed in time ("1分钟响应、3分钟处置").
 */
export function overdueOf(a, now) {
  const past = (iso) => !!iso && Date.parse(iso) < now;
  return {
    ack: a.status === 'open' && (a.escalationLevel >= 1 || past(a.ackDeadline)),
    close: a.status !== 'closed' && (a.escalationLevel >= 2 || past(a.closeDeadline)),
  };
}

/** The board's order (issue #17 item 1): 0 overdue and unacknowledged, 1 unacknowledged, 2 acknowledged but overdue, 3 the rest. */
export function urgencyRank(a, now) {
  const o = overdueOf(a, now);
  if (a.status === 'open') return o.ack || o.close ? 0 : 1;
  return o.close ? 2 : 3;
}

/** a hazard that pages the duty room: not a fault, not in maintenance */
const pages = (a) => a.class === 'hazard' && !a.maintenance && !a.commissioning;

export class Store {
  constructor() {
    this.alerts = new Map();
    this.closed = []; // most recent first, for "who did what"
    this.online = new Map();
    /** ids of hazards that arrived over the live feed and are not acknowledged yet (highlighted) */
    this.fresh = new Set();
    this.listeners = new Set();
    this.version = 0;
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e) {
    this.version++;
    for (const fn of this.listeners) fn(e);
  }

  load(items) {
    this.alerts.clear();
    for (const a of items) if (a.status !== 'closed') this.alerts.set(a.id, a);
    this.emit({ type: 'load' });
  }

  /** an alert as answered by an ack/close request: applied at once, the feed event follows */
  upsert(a) {
    this.apply(a);
    this.emit({ type: 'alert.local', alert: a });
  }

  apply(a) {
    // a late REST answer must not undo a newer feed event: status only moves forward
    // (open → acknowledged → closed) and the escalation level never goes down
    const known = this.alerts.get(a.id) ?? this.closed.find((c) => c.id === a.id);
    if (known && STATUS_RANK[known.status] > STATUS_RANK[a.status]) return;
    if (known && known.escalationLevel > a.escalationLevel) a = { ...a, escalationLevel: known.escalationLevel };
    if (a.status !== 'open') this.fresh.delete(a.id);
    if (a.status === 'closed') {
      this.alerts.delete(a.id);
      this.closed = [a, ...this.closed.filter((c) => c.id !== a.id)].slice(0, 8);
    } else {
      this.alerts.set(a.id, a);
    }
  }

  onEvent(e) {
    if (e.type.startsWith('alert.') && e.data?.alert) this.apply(e.data.alert);
    const raised = e.type === 'alert.raised' ? this.alerts.get(e.data?.alert?.id) : undefined;
    if (raised && raised.status === 'open' && pages(raised)) this.fresh.add(raised.id);
    if (e.type === 'device.online' || e.type === 'device.offline') this.online.set(e.data.deviceId, e.type === 'device.online');
    this.emit(e);
  }

  list() {
    return [...this.alerts.values()];
  }

  /** hazards not acknowledged (待确认) and past a deadline (逾期), on the server's clock `now` */
  attention(now) {
    let pending = 0;
    let overdue = 0;
    for (const a of this.alerts.values()) {
      if (!pages(a)) continue;
      const o = overdueOf(a, now);
      if (a.status === 'open') pending++;
      if (o.ack || o.close) overdue++;
    }
    return { pending, overdue };
  }

  /**
   * Unacknowledged and overdue first, always (issue #17 item 1): then unacknowledged, then
   * acknowledged but overdue, then the rest; within each by severity, escalation and age.
   */
  static sorted(alerts, now = Date.now()) {
    return [...alerts].sort(
      (a, b) =>
        urgencyRank(a, now) - urgencyRank(b, now) ||
        (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) ||
        b.escalationLevel - a.escalationLevel ||
        Date.parse(a.openedAt) - Date.parse(b.openedAt),
    );
  }

  /** hazard vs fault vs maintenance: three separate groups, never mixed; hazards of one incident are one item (incidentsOf) */
  groups(now = Date.now()) {
    const all = this.list();
    return {
      hazards: Store.sorted(incidentsOf(all.filter((a) => a.class === 'hazard' && !a.maintenance)), now),
      faults: Store.sorted(all.filter((a) => a.class === 'fault' && !a.maintenance), now),
      maintenance: Store.sorted(all.filter((a) => a.maintenance), now),
    };
  }
}

/**
 * A building's hazards as one incident (警情, issue #15 item 1): alerts that share an `incidentId`
 * become one item with `incident: true`, its alerts in the order raised (`alerts`), and the
 * fields the board sorts and counts down by — the most urgent of its alerts: open while any is
 * open, the worst severity, the highest escalation, the earliest deadlines still running. An
 * incident of one alert stays that alert's own card.
 */
export function incidentsOf(alerts) {
  const byIncident = new Map();
  const out = [];
  for (const a of alerts) {
    if (!a.incidentId) out.push(a);
    else if (byIncident.has(a.incidentId)) byIncident.get(a.incidentId).push(a);
    else byIncident.set(a.incidentId, [a]);
  }
  for (const [id, members] of byIncident) {
    if (members.length === 1) {
      out.push(members[0]);
      continue;
    }
    members.sort((a, b) => Date.parse(a.openedAt) - Date.parse(b.openedAt) || (a.id < b.id ? -1 : 1));
    const open = members.filter((a) => a.status === 'open');
    const first = members[0];
    const newest = members[members.length - 1];
    const earliest = (xs) => xs.filter(Boolean).sort()[0] ?? null;
    const worst = members.reduce((w, a) => ((SEVERITY_RANK[a.severity] ?? 9) < (SEVERITY_RANK[w.severity] ?? 9) ? a : w), first);
    out.push({
      incident: true,
      id,
      alerts: members,
      class: 'hazard',
      maintenance: false,
      status: open.length > 0 ? 'open' : 'acknowledged',
      severity: worst.severity,
      escalationLevel: Math.max(...members.map((a) => a.escalationLevel ?? 0)),
      openedAt: first.openedAt,
      ackDeadline: earliest(open.map((a) => a.ackDeadline)),
      closeDeadline: earliest(members.map((a) => a.closeDeadline)),
      buildingId: first.buildingId,
      buildingName: newest.buildingName ?? first.buildingName,
      street: newest.street ?? first.street,
      contactName: newest.contactName ?? null,
      contactPhone: newest.contactPhone ?? null,
    });
  }
  return out;
}
