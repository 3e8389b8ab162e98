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

  /** hazard vs fault vs maintenance: three separate groups, never mixed */
  groups(now = Date.now()) {
    const all = this.list();
    return {
      hazards: Store.sorted(all.filter((a) => a.class === 'hazard' && !a.maintenance), now),
      faults: Store.sorted(all.filter((a) => a.class === 'fault' && !a.maintenance), now),
      maintenance: Store.sorted(all.filter((a) => a.maintenance), now),
    };
  }
}
