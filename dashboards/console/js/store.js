/**
 * What the console knows live: the active alerts (GET /alerts?status=active once, then feed
 * events) and the devices' online state from device.online/offline events. Views subscribe and
 * re-render; nothing here touches the DOM.
 */
const SEVERITY_RANK = { critical: 0, major: 1, minor: 2, warning: 3 };
const STATUS_RANK = { open: 0, acknowledged: 1, closed: 2 };

export class Store {
  constructor() {
    this.alerts = new Map();
    this.closed = []; // most recent first, for "who did what"
    this.online = new Map();
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
    if (a.status === 'closed') {
      this.alerts.delete(a.id);
      this.closed = [a, ...this.closed.filter((c) => c.id !== a.id)].slice(0, 8);
    } else {
      this.alerts.set(a.id, a);
    }
  }

  onEvent(e) {
    if (e.type.startsWith('alert.') && e.data?.alert) this.apply(e.data.alert);
    if (e.type === 'device.online' || e.type === 'device.offline') this.online.set(e.data.deviceId, e.type === 'device.online');
    this.emit(e);
  }

  list() {
    return [...this.alerts.values()];
  }

  static sorted(alerts) {
    return [...alerts].sort(
      (a, b) =>
        (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) ||
        b.escalationLevel - a.escalationLevel ||
        Date.parse(a.openedAt) - Date.parse(b.openedAt),
    );
  }

  /** hazard vs fault vs maintenance: three separate groups, never mixed */
  groups() {
    const all = this.list();
    return {
      hazards: Store.sorted(all.filter((a) => a.class === 'hazard' && !a.maintenance)),
      faults: Store.sorted(all.filter((a) => a.class === 'fault' && !a.maintenance)),
      maintenance: Store.sorted(all.filter((a) => a.maintenance)),
    };
  }
}
