/**
 * The alerts and the maintenance windows as the synchronous services need them on PostgreSQL
 * (docs/adr/0008, ../../shared/write-scope.ts): PgAlertMirror is the AlertService's `store` (an
 * AlertWriter: the unclosed alerts), PgMaintenanceMirror its `maintenance`.
 *
 * Why mirrors. The rule engine and the alert service decide synchronously — inside the
 * processors' batch, a rule tick, a person's acknowledgement — and PgAlertStore answers with
 * promises. A mirror answers the synchronous reads from the node's copy, applies a write to the
 * copy at once (so the rest of the same step sees it), and queues the store's write in the write
 * scope, which commits everything one step queued in one transaction. The copy is only a guess at
 * what is stored; the database decides:
 *   - one unclosed alert per device and rule: the partial unique index alerts_one_active
 *     (schema-alerts.ts). A node that did not know of another node's unclosed alert raises a second
 *     one; its insert is refused (node-postgres' DatabaseError, SQLSTATE 23505, a storage failure:
 *     the processors' batch rolls back and is retried), the mirror reloads and the retry finds the
 *     winner's alert and updates it;
 *   - an update decided on an old copy: every held alert keeps the `version` of its row (migration
 *     11) and its update is `PgAlertStore.updateIfUnchanged(alert, added, version)`; another node's
 *     update in between makes it StaleAlertError (409 alert_changed), nothing is written, the scope
 *     rolls back and the mirror reloads. The held version goes up by one when the write is queued,
 *     so a second update of the same alert in one step expects the first one's row.
 *   Maintenance windows carry no version: the last commit wins, as on SQLite.
 *
 * Copies. AlertService changes the alert object it was given and then calls update(alert, added);
 * a rolled-back step must leave the copy as stored whatever was done to those objects. So the
 * mirror keeps its own structured clones: every read hands out a new clone, every write clones
 * what it is given (and queues that clone's write). Nothing outside ever holds the mirror's objects.
 *
 * What the copy holds, and when it is read again:
 *   - open: every unclosed alert with its version (one statement), and every window; LISTEN first,
 *     so nothing committed between the load and the LISTEN is missed;
 *   - a step that rolled back: `scope.onRollback` reloads everything (direct reads: the hook runs
 *     between two steps, before the next one decides);
 *   - another node's committed write: its transaction NOTIFYs `firewatch_alerts` with
 *     `{"node": id, "id": alertId}` (or `firewatch_maintenance` with `{"node": id}`; a node ignores its
 *     own). The alert named is read again — unclosed: held, closed or gone: dropped — (every
 *     window, for maintenance) in a scope of its own: after the steps queued before it committed,
 *     installed right after its commit, before the next step, so it never lands in the middle of a
 *     step nor is it decided on by one still to commit. Notices arriving while such a read is
 *     queued join it (one statement for all the ids);
 *   - the listening connection broke: once it is back, everything is read again (onResync);
 *   - `hold(id)`: one alert of any status, read in a scope of its own as above (the API calls it
 *     before a person's step on an alert this node may not have heard of yet, or a closed one);
 *   - `reload()`: everything, directly; calls are serialized, and one asked for while another
 *     waits joins it (the processors' lease taken over: the other node's alerts are the truth).
 * A read is installed key by key only where nothing newer happened to that key after the read
 * started (a later write of this node, a later read): a slow read never replaces a newer copy. A
 * write of this node that a read overtook before it committed (a rollback's reload of an earlier
 * step while a timer's implicit write was queued) is put back once it commits.
 *
 * A closed alert leaves the unclosed set (findActive, unclosed) as soon as its update is queued,
 * and stays gettable until the next full reload (or a notice about it).
 *
 * Staleness (what another node wrote is seen here when):
 *   - an alert raised, acknowledged, escalated or closed elsewhere: once its NOTIFY arrived and the
 *     read queued behind this node's pending steps committed — milliseconds after the commit, longer
 *     while this node's steps are busy; after a break of the listening connection, only once it is
 *     back (backoff up to 10 s, pg-notify.ts) and everything was read again. In that time this
 *     node's rules find the old copy (or none): a raise is refused by alerts_one_active and an
 *     update by the version check, so nothing stale is written — the step fails and is retried
 *     after the reload (the processors) or answered 409 (a person) — but reads that write nothing
 *     (`unclosed` for a building's board, the escalation timer's choice of what is due) can be
 *     that old. A notice whose read failed (the database failing) leaves that alert as it was
 *     until the next reload; onWatchError hears of it;
 *   - a maintenance window set or ended elsewhere: the same delay; an alert raised here meanwhile
 *     is (not) marked maintenance as this node's copy said — nothing in the database checks it;
 *   - API reads (one alert, lists, the incident record) never come from here: they read the store.
 */
import type { Alert, AlertRule, AlertWriter, HistoryEntry, MaintenanceWindow, SyncMaintenanceStore } from '../../alerts/model.js';
import type { WriteScope } from '../../shared/write-scope.js';
import type { PgDatabase } from './database.js';
import type { PgAlertStore, PgMaintenanceStore, VersionedAlert } from './pg-alert-store.js';
import { listen, notify, type Listening } from './pg-notify.js';

export type { AlertWriter } from '../../alerts/model.js';
export { StaleAlertError } from './pg-alert-store.js';

/** The channel of alert changes; the payload is `{"node": nodeId, "id": alertId}`. */
export const ALERTS_CHANNEL = 'firewatch_alerts';
/** The channel of maintenance window changes; the payload is `{"node": nodeId, "target": …, "targetId": …}`. */
export const MAINTENANCE_CHANNEL = 'firewatch_maintenance';

export interface AlertMirrorDeps {
  db: PgDatabase;
  store: PgAlertStore;
  scope: WriteScope;
  /** this node, in its notifications (its own are ignored) */
  nodeId: string;
  /** the listening connection broke (it reconnects by itself), or a read on another node's notice failed */
  onWatchError?: (err: unknown) => void;
}

export interface MaintenanceMirrorDeps {
  db: PgDatabase;
  store: PgMaintenanceStore;
  scope: WriteScope;
  nodeId: string;
  onWatchError?: (err: unknown) => void;
}

/**
 * A keyed copy whose keys remember what last set them: a write of this node or a read, numbered in
 * the order they happened (a read by when it started). A read is installed only on the keys nothing
 * newer set since it started. Stamps are kept per key until the next full install, which stands for
 * every key it did not skip (`floor`).
 */
class Copies<V> {
  readonly values = new Map<string, V>();
  private seq = 0;
  private floor = 0;
  private readonly stamps = new Map<string, number>();
  /** each key's latest write of this node, until it committed */
  private readonly locals = new Map<string, number>();

  constructor(private readonly changed: (key: string, before: V | undefined, after: V | undefined) => void = () => undefined) {}

  /** A read starts now: what it reads is at least as new as every write of this node before this. */
  begin(): number {
    return ++this.seq;
  }

  /** A write of this node (undefined: a removal), applied now; its stamp for `committed`. */
  local(key: string, value: V | undefined): number {
    const s = ++this.seq;
    this.put(key, value, s);
    this.locals.set(key, s);
    return s;
  }

  /** The write stamped `s` committed: it is what is stored, unless this node wrote the key again since. */
  committed(key: string, s: number, value: V | undefined): void {
    if (this.locals.get(key) !== s) return;
    this.locals.delete(key);
    if (this.stamps.get(key) === s) return; // nothing overtook it
    this.put(key, value, ++this.seq);
  }

  /** What a read started at `n` found for `rows`' keys (undefined: absent), where nothing newer set them. */
  install(n: number, rows: ReadonlyMap<string, V | undefined>): void {
    for (const [key, value] of rows) if (this.stampOf(key) < n) this.put(key, value, n);
  }

  /** What a read of everything started at `n` found: every key it did not find is removed. */
  installAll(n: number, rows: ReadonlyMap<string, V>): void {
    if (n < this.floor) return; // a newer read of everything is in already
    for (const key of new Set([...this.values.keys(), ...rows.keys()])) {
      if (this.stampOf(key) < n) this.put(key, rows.get(key), n);
    }
    this.floor = n;
    for (const [key, s] of this.stamps) if (s <= n) this.stamps.delete(key);
  }

  private stampOf(key: string): number {
    return this.stamps.get(key) ?? this.floor;
  }

  private put(key: string, value: V | undefined, stamp: number): void {
    const before = this.values.get(key);
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
    this.stamps.set(key, stamp);
    this.changed(key, before, value);
  }
}

/** Reloads that must not overlap: one at a time, and one asked for while another waits joins it. */
class Serial {
  private tail: Promise<void> = Promise.resolve();
  private waiting: Promise<void> | undefined;

  run(fn: () => Promise<void>): Promise<void> {
    if (this.waiting) return this.waiting;
    const run = this.tail.then(() => {
      this.waiting = undefined;
      return fn();
    });
    this.waiting = run;
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * Runs `read` as the only write of a scope of its own and `install` right after that scope
 * committed: after every step queued before it, before the next one. `begin` is called as the read
 * starts. Refused while a scope is open (it would join it and resolve before reading).
 */
async function readInScope<T>(scope: WriteScope, begin: () => number, read: () => Promise<T>, install: (n: number, value: T) => void): Promise<T> {
  if (scope.inScope) throw new Error('a mirror reads in a scope of its own: call it outside a step');
  let n = 0;
  let value: T | undefined;
  await scope.run(() => {
    scope.write(async () => {
      n = begin();
      value = await read();
    });
    scope.afterCommit(() => install(n, value as T));
  });
  return value as T;
}

/** Parses a notification; undefined when it is not one, or this node's own. */
function noticeOf(payload: string, nodeId: string): Record<string, unknown> | undefined {
  let m: unknown;
  try {
    m = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const notice = m as Record<string, unknown>;
  return notice.node === nodeId ? undefined : notice;
}

/** (device, rule), as alerts_one_active keys it; an alert without a device by its building too (a system alert: building ''). */
const activeKey = (deviceId: string | null, rule: string, buildingId: string | null = null) => (deviceId !== null ? `${deviceId}\u0000\u0000${rule}` : `\u0000${buildingId ?? ''}\u0000${rule}`);
const keyOf = (a: Alert) => activeKey(a.deviceId, a.rule, a.buildingId);
const isUnclosed = (a: Alert) => a.status !== 'closed';
/** opened_at, then id: PgAlertStore.unclosed's order (both "C": code units compare as the bytes of these ASCII ids and ISO times) */
const byOpened = (x: Alert, y: Alert) =>
  x.openedAt < y.openedAt ? -1 : x.openedAt > y.openedAt ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;

export class PgAlertMirror implements AlertWriter {
  private readonly copies = new Copies<VersionedAlert>((id, before, after) => this.indexed(id, before, after));
  /** the unclosed alert held for each (device, rule) */
  private readonly active = new Map<string, string>();
  private readonly reloads = new Serial();
  /** alerts other nodes changed, waiting for the read queued for them */
  private readonly noticed = new Set<string>();
  private noticeRead = false;
  private listening: Listening | undefined;
  private closed = false;

  private constructor(private readonly deps: AlertMirrorDeps) {}

  /** Listens, loads every unclosed alert with its version, and reloads whenever a scope rolls back. */
  static async open(deps: AlertMirrorDeps): Promise<PgAlertMirror> {
    const m = new PgAlertMirror(deps);
    m.listening = await listen(deps.db, ALERTS_CHANNEL, {
      onMessage: (payload) => m.onNotice(payload),
      onResync: () => m.readAll(),
      onError: (err) => deps.onWatchError?.(err),
    });
    try {
      await m.reload();
    } catch (err) {
      await m.close();
      throw err;
    }
    deps.scope.onRollback(() => m.reload());
    return m;
  }

  findActive(deviceId: string | null, rule: AlertRule, buildingId?: string | null): Alert | undefined {
    const id = this.active.get(activeKey(deviceId, rule, buildingId ?? null));
    const held = id === undefined ? undefined : this.copies.values.get(id);
    return held && isUnclosed(held.alert) ? structuredClone(held.alert) : undefined;
  }

  /** A held alert: every unclosed one, a closed one until the next reload, and those `hold` loaded. */
  get(id: string): Alert | undefined {
    const held = this.copies.values.get(id);
    return held && structuredClone(held.alert);
  }

  /** The held unclosed alerts, oldest opened first (then by id). */
  unclosed(): Alert[] {
    const out: Alert[] = [];
    for (const { alert } of this.copies.values.values()) if (isUnclosed(alert)) out.push(alert);
    return out.sort(byOpened).map((a) => structuredClone(a));
  }

  /** Held now; stored (with its notice) when the scope commits. A second unclosed one for its device and rule fails the commit (alerts_one_active). */
  insert(alert: Alert): void {
    const held: VersionedAlert = { alert: structuredClone(alert), version: 0 };
    const id = held.alert.id;
    const s = this.copies.local(id, held);
    this.deps.scope.write(async () => {
      await this.deps.store.insert(held.alert);
      await this.notify(id);
    });
    this.deps.scope.afterCommit(() => this.copies.committed(id, s, held));
  }

  /**
   * `alert` as it is now (its history already including `added`), held now at the next version;
   * stored when the scope commits, if the row is still at the version held before — otherwise the
   * commit fails with StaleAlertError. Only a held alert can be updated (read it first).
   */
  update(alert: Alert, added: HistoryEntry[]): void {
    const before = this.copies.values.get(alert.id);
    if (!before) throw new Error(`PgAlertMirror.update: alert ${alert.id} is not held; read it (get, findActive, unclosed or hold) before changing it`);
    const held: VersionedAlert = { alert: structuredClone(alert), version: before.version + 1 };
    const entries = structuredClone(added);
    const id = held.alert.id;
    const s = this.copies.local(id, held);
    this.deps.scope.write(async () => {
      await this.deps.store.updateIfUnchanged(held.alert, entries, before.version);
      await this.notify(id);
    });
    this.deps.scope.afterCommit(() => this.copies.committed(id, s, held));
  }

  /**
   * Reads one alert (any status) into the held set, after the steps queued so far: a following
   * step's `get(id)` sees it as stored. Whether it exists. Not inside a step.
   */
  async hold(id: string): Promise<boolean> {
    const row = await readInScope(
      this.deps.scope,
      () => this.copies.begin(),
      () => this.deps.store.getWithVersion(id),
      (n, r) => this.copies.install(n, new Map([[id, r]])),
    );
    return row !== undefined;
  }

  /** Every unclosed alert again (held closed ones are dropped); serialized with itself. */
  reload(): Promise<void> {
    return this.reloads.run(async () => {
      if (this.closed) return;
      const n = this.copies.begin();
      const rows = await this.deps.store.unclosedWithVersions();
      this.copies.installAll(n, new Map(rows.map((r) => [r.alert.id, r])));
    });
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    const l = this.listening;
    this.listening = undefined;
    await l?.close();
  }

  private notify(id: string): Promise<void> {
    return notify(this.deps.db, ALERTS_CHANNEL, JSON.stringify({ node: this.deps.nodeId, id }));
  }

  /** keeps `active` the index of the held unclosed alerts */
  private indexed(id: string, before: VersionedAlert | undefined, after: VersionedAlert | undefined): void {
    if (before && isUnclosed(before.alert)) {
      const key = keyOf(before.alert);
      if (this.active.get(key) === id) {
        this.active.delete(key);
        // two held for one key (a moment between two reads): the other one stands
        for (const [other, v] of this.copies.values) {
          if (other !== id && isUnclosed(v.alert) && keyOf(v.alert) === key) this.active.set(key, other);
        }
      }
    }
    if (after && isUnclosed(after.alert)) this.active.set(keyOf(after.alert), id);
  }

  /** Another node changed an alert: read it (with any others noticed meanwhile) in a scope of its own. */
  private onNotice(payload: string): void {
    const m = noticeOf(payload, this.deps.nodeId);
    if (!m || typeof m.id !== 'string' || this.closed) return;
    this.noticed.add(m.id);
    if (this.noticeRead) return; // the read queued has not started: it takes this one too
    this.noticeRead = true;
    let ids: string[] = [];
    readInScope(
      this.deps.scope,
      () => {
        this.noticeRead = false;
        ids = [...this.noticed];
        this.noticed.clear();
        return this.copies.begin();
      },
      () => this.deps.store.withVersions(ids),
      (n, rows) => {
        // unclosed: held; closed or gone: dropped
        const unclosed = new Map(rows.filter((r) => isUnclosed(r.alert)).map((r) => [r.alert.id, r]));
        this.copies.install(n, new Map(ids.map((id) => [id, unclosed.get(id)])));
      },
    ).catch((err: unknown) => {
      // the scope's rollback reloaded everything (or the database is failing: the next reload will)
      this.noticeRead = false;
      this.deps.onWatchError?.(err);
    });
  }

  /** After a break of the listening connection: everything again, in a scope of its own. */
  private readAll(): void {
    if (this.closed) return;
    readInScope(
      this.deps.scope,
      () => this.copies.begin(),
      () => this.deps.store.unclosedWithVersions(),
      (n, rows) => this.copies.installAll(n, new Map(rows.map((r) => [r.alert.id, r]))),
    ).catch((err: unknown) => this.deps.onWatchError?.(err));
  }
}

const windowKey = (target: MaintenanceWindow['target'], targetId: string) => `${target}\u0000${targetId}`;

/** Every maintenance window in memory (SyncMaintenanceStore) over PgMaintenanceStore. */
export class PgMaintenanceMirror implements SyncMaintenanceStore {
  private readonly copies = new Copies<MaintenanceWindow>();
  private readonly reloads = new Serial();
  /** a read of every window is queued on another node's notice and has not started */
  private noticeRead = false;
  private listening: Listening | undefined;
  private closed = false;

  private constructor(private readonly deps: MaintenanceMirrorDeps) {}

  /** Listens, loads every window, and reloads whenever a scope rolls back. */
  static async open(deps: MaintenanceMirrorDeps): Promise<PgMaintenanceMirror> {
    const m = new PgMaintenanceMirror(deps);
    m.listening = await listen(deps.db, MAINTENANCE_CHANNEL, {
      onMessage: (payload) => {
        if (noticeOf(payload, deps.nodeId)) m.readAll();
      },
      onResync: () => m.readAll(),
      onError: (err) => deps.onWatchError?.(err),
    });
    try {
      await m.reload();
    } catch (err) {
      await m.close();
      throw err;
    }
    deps.scope.onRollback(() => m.reload());
    return m;
  }

  get(target: MaintenanceWindow['target'], targetId: string): MaintenanceWindow | undefined {
    const w = this.copies.values.get(windowKey(target, targetId));
    return w && { ...w };
  }

  /** Held now (replacing the target's window); stored when the scope commits. */
  set(w: MaintenanceWindow): void {
    const held = { ...w };
    const key = windowKey(held.target, held.targetId);
    const s = this.copies.local(key, held);
    this.deps.scope.write(async () => {
      await this.deps.store.set(held);
      await this.notify(held.target, held.targetId);
    });
    this.deps.scope.afterCommit(() => this.copies.committed(key, s, held));
  }

  /** Gone now, removed when the scope commits; whether a window was held for the target. */
  remove(target: MaintenanceWindow['target'], targetId: string): boolean {
    const key = windowKey(target, targetId);
    const had = this.copies.values.has(key);
    const s = this.copies.local(key, undefined);
    this.deps.scope.write(async () => {
      await this.deps.store.remove(target, targetId);
      await this.notify(target, targetId);
    });
    this.deps.scope.afterCommit(() => this.copies.committed(key, s, undefined));
    return had;
  }

  /** Every window again (committed state); serialized with itself. */
  reload(): Promise<void> {
    return this.reloads.run(async () => {
      if (this.closed) return;
      const n = this.copies.begin();
      this.copies.installAll(n, this.keyed(await this.deps.store.all()));
    });
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    const l = this.listening;
    this.listening = undefined;
    await l?.close();
  }

  private keyed(rows: readonly MaintenanceWindow[]): Map<string, MaintenanceWindow> {
    return new Map(rows.map((w) => [windowKey(w.target, w.targetId), w]));
  }

  private notify(target: MaintenanceWindow['target'], targetId: string): Promise<void> {
    return notify(this.deps.db, MAINTENANCE_CHANNEL, JSON.stringify({ node: this.deps.nodeId, target, targetId }));
  }

  /** Another node changed a window (or the connection came back): every window, in a scope of its own. */
  private readAll(): void {
    if (this.noticeRead || this.closed) return;
    this.noticeRead = true;
    readInScope(
      this.deps.scope,
      () => {
        this.noticeRead = false;
        return this.copies.begin();
      },
      () => this.deps.store.all(),
      (n, rows) => this.copies.installAll(n, this.keyed(rows)),
    ).catch((err: unknown) => {
      this.noticeRead = false;
      this.deps.onWatchError?.(err);
    });
  }
}
