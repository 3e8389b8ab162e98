/**
 * PgAlertMirror and PgMaintenanceMirror (services/storage/postgres/pg-alert-mirror.ts) on a real
 * PostgreSQL server: two nodes — two PgDatabase pools on one fresh database (tests/support/pg-harness.ts
 * twoNodes, dropped after each case) — each with its own WriteScope and mirrors, as two service
 * nodes have. What is checked is what the database ends up holding and what each node's copy
 * answers afterwards: another node's writes arrive by NOTIFY, a second unclosed alert for one
 * device and rule is refused by alerts_one_active, an update decided on an old copy by the version
 * check, and every rolled-back scope leaves the copy as stored.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alert, HistoryEntry, MaintenanceWindow } from '../../services/alerts/model.js';
import { WriteScope } from '../../services/shared/write-scope.js';
import { uniqueViolation, type PgDatabase } from '../../services/storage/postgres/database.js';
import { PgAlertMirror, PgMaintenanceMirror, StaleAlertError } from '../../services/storage/postgres/pg-alert-mirror.js';
import { ALERTS_ONE_ACTIVE, PgAlertStore, PgMaintenanceStore } from '../../services/storage/postgres/pg-alert-store.js';
import { pgUnitOfWork } from '../../services/storage/postgres/pg-unit-of-work.js';
import { alert as contractAlert } from '../support/alert-store-contract.js';
import { twoNodes } from '../support/pg-harness.js';

const T0 = Date.UTC(2026, 10, 29, 8);
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
/** how long another node's notice may take to arrive here */
const SOON = { timeout: 5_000, interval: 20 };

function alert(id: string, deviceId: string | null, over: Partial<Alert> = {}): Alert {
  const system = { rule: 'service_outage', class: 'fault', buildingId: null, buildingName: null, street: null, kind: null, point: null } as const;
  return contractAlert(id, { deviceId, ...(deviceId === null ? system : {}), ...over });
}

function entry(action: HistoryEntry['action'], by: string, seconds: number): HistoryEntry {
  return { at: iso(seconds), action, by, detail: null };
}

/** What AlertService.acknowledge does to the alert it got from the mirror. */
function acknowledge(mirror: PgAlertMirror, id: string, by: string, seconds: number): void {
  const a = mirror.get(id)!;
  const e = entry('acknowledged', by, seconds);
  Object.assign(a, { status: 'acknowledged', acknowledgedAt: iso(seconds), acknowledgedBy: by });
  a.history.push(e);
  mirror.update(a, [e]);
}

/** What AlertService.close does. */
function close(mirror: PgAlertMirror, id: string, by: string, seconds: number): void {
  const a = mirror.get(id)!;
  const e = entry('closed', by, seconds);
  Object.assign(a, { status: 'closed', closedAt: iso(seconds), closedBy: by, outcome: 'false_alarm', note: '误报' });
  a.history.push(e);
  mirror.update(a, [e]);
}

interface Node {
  db: PgDatabase;
  store: PgAlertStore;
  maintenanceStore: PgMaintenanceStore;
  scope: WriteScope;
  alerts: PgAlertMirror;
  maintenance: PgMaintenanceMirror;
  implicitErrors: unknown[];
  watchErrors: unknown[];
}

async function openNode(db: PgDatabase, nodeId: string): Promise<Node> {
  const implicitErrors: unknown[] = [];
  const watchErrors: unknown[] = [];
  const store = new PgAlertStore(db);
  const maintenanceStore = new PgMaintenanceStore(db);
  const scope = new WriteScope(pgUnitOfWork(db), { onImplicitError: (err) => implicitErrors.push(err) });
  const alerts = await PgAlertMirror.open({ db, store, scope, nodeId, onWatchError: (err) => watchErrors.push(err) });
  const maintenance = await PgMaintenanceMirror.open({ db, store: maintenanceStore, scope, nodeId, onWatchError: (err) => watchErrors.push(err) });
  return { db, store, maintenanceStore, scope, alerts, maintenance, implicitErrors, watchErrors };
}

const ids = (alerts: readonly Alert[]) => alerts.map((a) => a.id);

describe('PgAlertMirror on two nodes', () => {
  let closeNodes: () => Promise<void>;
  let A: Node;
  let B: Node;

  beforeEach(async () => {
    const two = await twoNodes();
    closeNodes = two.close;
    [A, B] = await Promise.all([openNode(two.nodes[0]!, 'node-a'), openNode(two.nodes[1]!, 'node-b')]);
  });

  afterEach(async () => {
    for (const n of [A, B]) {
      await n.scope.settled();
      await n.alerts.close();
      await n.maintenance.close();
    }
    await closeNodes();
  });

  it("an alert inserted on A is stored at version 0, and B's mirror holds it soon after the commit", async () => {
    await A.scope.run(() => {
      A.alerts.insert(alert('al-1', 'd-1'));
      A.alerts.insert(alert('al-sys', null));
    });
    expect(await A.store.getWithVersion('al-1')).toMatchObject({ version: 0, alert: { id: 'al-1', deviceId: 'd-1', status: 'open' } });
    expect(A.alerts.findActive('d-1', 'pressure_low')?.id).toBe('al-1');
    expect(A.alerts.findActive(null, 'service_outage')?.id).toBe('al-sys');

    await vi.waitFor(() => expect(B.alerts.findActive('d-1', 'pressure_low')?.id).toBe('al-1'), SOON);
    await vi.waitFor(() => expect(B.alerts.findActive(null, 'service_outage')?.id).toBe('al-sys'), SOON);
    expect(B.alerts.get('al-1')).toEqual(await B.store.get('al-1'));
    expect(ids(B.alerts.unclosed()).sort()).toEqual(['al-1', 'al-sys']);
    // a system alert is not any device's, and the rule matters
    expect(B.alerts.findActive('d-1', 'service_outage')).toBeUndefined();
    expect(B.alerts.findActive('d-2', 'pressure_low')).toBeUndefined();
  });

  it('hands out copies: changing what it returned changes nothing held', async () => {
    await A.scope.run(() => A.alerts.insert(alert('al-1', 'd-1')));
    const got = A.alerts.get('al-1')!;
    got.count = 42;
    got.history.push(entry('recurred', 'system', 5));
    A.alerts.findActive('d-1', 'pressure_low')!.status = 'closed';
    A.alerts.unclosed()[0]!.severity = 'minor';
    expect(A.alerts.get('al-1')).toMatchObject({ count: 1, status: 'open', severity: 'major' });
    expect(A.alerts.get('al-1')!.history).toHaveLength(1);
  });

  it('unclosed() is oldest opened first, then by id, as the store orders it', async () => {
    await A.scope.run(() => {
      A.alerts.insert(alert('al-c', 'd-3', { openedAt: iso(20) }));
      A.alerts.insert(alert('al-b', 'd-2', { openedAt: iso(10) }));
      A.alerts.insert(alert('al-a', 'd-1', { openedAt: iso(20) }));
    });
    expect(ids(A.alerts.unclosed())).toEqual(['al-b', 'al-a', 'al-c']);
    expect(ids(A.alerts.unclosed())).toEqual(ids(await A.store.unclosed()));
    await vi.waitFor(() => expect(ids(B.alerts.unclosed())).toEqual(['al-b', 'al-a', 'al-c']), SOON);
  });

  it("both nodes raise the alert of one device and rule: one commit wins, the other is refused by alerts_one_active and its mirror then holds the winner's", async () => {
    const results = await Promise.allSettled([
      A.scope.run(() => A.alerts.insert(alert('al-a', 'd-1'))),
      B.scope.run(() => B.alerts.insert(alert('al-b', 'd-1'))),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(uniqueViolation(lost[0]!.reason)).toBe(ALERTS_ONE_ACTIVE);

    const [winner, loser] = results[0]!.status === 'fulfilled' ? [A, B] : [B, A];
    const winnerId = winner === A ? 'al-a' : 'al-b';
    const loserId = winner === A ? 'al-b' : 'al-a';
    // the loser's rollback reloaded its mirror before its run rejected
    expect(loser.alerts.findActive('d-1', 'pressure_low')?.id).toBe(winnerId);
    expect(loser.alerts.get(loserId)).toBeUndefined();
    expect(ids(loser.alerts.unclosed())).toEqual([winnerId]);
    expect(winner.alerts.findActive('d-1', 'pressure_low')?.id).toBe(winnerId);
    expect(ids(await A.store.unclosed())).toEqual([winnerId]);
    expect(await A.store.get(loserId)).toBeUndefined();

    // the retry (what the processors do) updates the winner's alert
    await loser.scope.run(() => {
      const a = loser.alerts.findActive('d-1', 'pressure_low')!;
      const e = entry('recurred', 'system', 30);
      a.count += 1;
      a.history.push(e);
      loser.alerts.update(a, [e]);
    });
    expect(await A.store.getWithVersion(winnerId)).toMatchObject({ version: 1, alert: { count: 2 } });
  });

  it("an update decided on an old copy is refused with StaleAlertError; B's mirror then holds A's version, and the store keeps it", async () => {
    await A.scope.run(() => A.alerts.insert(alert('al-1', 'd-1')));
    await vi.waitFor(() => expect(B.alerts.get('al-1')).toBeDefined(), SOON);

    // B decides on its copy (version 0); its commit waits until A's acknowledgement committed
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let decided = false;
    const late = B.scope.run(() => {
      B.scope.write(() => gate);
      acknowledge(B.alerts, 'al-1', 'wang', 20);
      decided = true;
    });
    await vi.waitFor(() => expect(decided).toBe(true), SOON);
    expect(B.alerts.get('al-1')).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'wang' });

    await A.scope.run(() => acknowledge(A.alerts, 'al-1', 'li', 10));
    release();
    const err = await late.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StaleAlertError);
    expect(err).toMatchObject({ code: 'alert_changed', status: 409, alertId: 'al-1', expectedVersion: 0 });

    expect(B.alerts.get('al-1')).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'li' });
    const stored = (await B.store.getWithVersion('al-1'))!;
    expect(stored.version).toBe(1);
    expect(stored.alert.acknowledgedBy).toBe('li');
    expect(stored.alert.history.map((h) => [h.action, h.by])).toEqual([
      ['raised', 'system'],
      ['acknowledged', 'li'],
    ]);

    // decided again on what is stored, B's close commits: two updates of one alert in one step
    await B.scope.run(() => {
      const a = B.alerts.get('al-1')!;
      const e = entry('escalated', 'system', 30);
      a.escalationLevel = 2;
      a.history.push(e);
      B.alerts.update(a, [e]);
      close(B.alerts, 'al-1', 'wang', 40);
    });
    const closed = (await A.store.getWithVersion('al-1'))!;
    expect(closed.version).toBe(3);
    expect(closed.alert).toMatchObject({ status: 'closed', closedBy: 'wang', escalationLevel: 2 });
    expect(closed.alert.history.map((h) => h.action)).toEqual(['raised', 'acknowledged', 'escalated', 'closed']);
  });

  it('the unchecked update of the contract also moves the version: a checked one on the older copy is refused', async () => {
    await A.store.insert(alert('al-1', 'd-1'));
    const read = (await A.store.getWithVersion('al-1'))!;
    await A.store.update({ ...read.alert, count: 2 }, []);
    expect((await A.store.getWithVersion('al-1'))!.version).toBe(1);
    await expect(A.store.updateIfUnchanged({ ...read.alert, count: 3 }, [entry('recurred', 'system', 5)], read.version)).rejects.toBeInstanceOf(StaleAlertError);
    expect((await A.store.getWithVersion('al-1'))!.alert.count).toBe(2);
    expect((await A.store.get('al-1'))!.history).toHaveLength(1);
    expect(await A.store.updateIfUnchanged({ ...read.alert, count: 3 }, [], 1)).toBe(2);
  });

  it('a write outside run opens an implicit scope that commits; a failing one goes to onImplicitError and the mirror is reloaded', async () => {
    A.alerts.insert(alert('al-i', 'd-1'));
    expect(A.scope.inScope).toBe(false);
    await A.scope.settled();
    expect(await A.store.get('al-i')).toMatchObject({ id: 'al-i', deviceId: 'd-1' });
    expect(A.implicitErrors).toEqual([]);

    // an id already stored (by a write A's mirror never heard of): the primary key refuses it
    await A.store.insert(alert('al-x', 'd-2'));
    A.alerts.insert(alert('al-x', 'd-3'));
    expect(A.alerts.findActive('d-3', 'pressure_low')?.id).toBe('al-x'); // applied at once
    await A.scope.settled();
    await vi.waitFor(() => expect(A.implicitErrors).toHaveLength(1), SOON);
    expect(uniqueViolation(A.implicitErrors[0])).toBe('alerts_pkey');
    // reloaded: the stored one
    expect(A.alerts.findActive('d-3', 'pressure_low')).toBeUndefined();
    expect(A.alerts.findActive('d-2', 'pressure_low')?.id).toBe('al-x');
    expect(await A.store.findActive('d-3', 'pressure_low')).toBeUndefined();
  });

  it('a scope rolled back by a later write leaves the mirror as stored, whatever was done to the objects', async () => {
    await A.scope.run(() => A.alerts.insert(alert('al-1', 'd-1')));
    let seen: Alert | undefined;
    const failing = A.scope.run(() => {
      const a = A.alerts.get('al-1')!;
      a.count = 99;
      close(A.alerts, 'al-1', 'li', 10);
      A.alerts.insert(alert('al-2', 'd-2'));
      seen = A.alerts.get('al-1');
      A.scope.write(() => {
        throw new Error('a later write fails');
      });
    });
    await expect(failing).rejects.toThrow('a later write fails');
    expect(seen).toMatchObject({ status: 'closed' }); // the step saw its own writes

    expect(A.alerts.get('al-1')).toEqual(await A.store.get('al-1'));
    expect(A.alerts.get('al-1')).toMatchObject({ status: 'open', count: 1 });
    expect(A.alerts.findActive('d-1', 'pressure_low')?.id).toBe('al-1');
    expect(A.alerts.get('al-2')).toBeUndefined();
    expect(A.alerts.findActive('d-2', 'pressure_low')).toBeUndefined();
    expect(ids(A.alerts.unclosed())).toEqual(['al-1']);
    expect((await A.store.getWithVersion('al-1'))!.version).toBe(0);
    expect(await A.store.get('al-2')).toBeUndefined();

    // a step that throws after queuing writes rolls back the same way
    await expect(
      A.scope.run(() => {
        acknowledge(A.alerts, 'al-1', 'li', 20);
        throw new Error('the step failed');
      }),
    ).rejects.toThrow('the step failed');
    expect(A.alerts.get('al-1')).toMatchObject({ status: 'open', acknowledgedBy: null });
    // and the next step, decided on what is stored, commits
    await A.scope.run(() => acknowledge(A.alerts, 'al-1', 'li', 30));
    expect(await A.store.getWithVersion('al-1')).toMatchObject({ version: 1, alert: { acknowledgedBy: 'li' } });
  });

  it('a write made outside run while an earlier scope was pending survives that scope\'s rollback and reload once it commits', async () => {
    await A.scope.run(() => A.alerts.insert(alert('al-1', 'd-1')));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const failing = A.scope.run(() => {
      A.scope.write(async () => {
        await gate;
        throw new Error('the earlier scope fails');
      });
    });
    // a timer's write (the escalation scheduler's): an implicit scope queued behind `failing`
    acknowledge(A.alerts, 'al-1', 'li', 10);
    expect(A.alerts.get('al-1')).toMatchObject({ acknowledgedBy: 'li' });
    release();
    await expect(failing).rejects.toThrow('the earlier scope fails');
    await A.scope.settled();
    expect(A.implicitErrors).toEqual([]);
    // the rollback's reload read the alert before the acknowledgement committed; the commit put it back
    expect(await A.store.getWithVersion('al-1')).toMatchObject({ version: 1, alert: { acknowledgedBy: 'li' } });
    expect(A.alerts.get('al-1')).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'li' });
    // held at the stored version: the next update passes the check
    await A.scope.run(() => close(A.alerts, 'al-1', 'li', 20));
    expect(await A.store.getWithVersion('al-1')).toMatchObject({ version: 2, alert: { status: 'closed' } });
  });

  it('hold(id) loads an alert B never heard of (any status) for a following step; a missing one is false', async () => {
    await A.store.insert(alert('al-h', 'd-1')); // straight to the store: no notice
    expect(B.alerts.get('al-h')).toBeUndefined();
    expect(await B.alerts.hold('al-h')).toBe(true);
    expect(B.alerts.get('al-h')).toEqual(await A.store.get('al-h'));
    expect(B.alerts.findActive('d-1', 'pressure_low')?.id).toBe('al-h');
    await B.scope.run(() => acknowledge(B.alerts, 'al-h', 'wang', 10));
    expect(await A.store.getWithVersion('al-h')).toMatchObject({ version: 1, alert: { acknowledgedBy: 'wang' } });

    expect(await B.alerts.hold('al-none')).toBe(false);
    expect(B.alerts.get('al-none')).toBeUndefined();

    // a closed one: gettable (a person's step answers "already closed"), not unclosed
    const c = (await A.store.get('al-h'))!;
    await A.store.update({ ...c, status: 'closed', closedAt: iso(20), closedBy: 'li', outcome: 'test' }, [entry('closed', 'li', 20)]);
    expect(await B.alerts.hold('al-h')).toBe(true);
    expect(B.alerts.get('al-h')).toMatchObject({ status: 'closed', closedBy: 'li' });
    expect(B.alerts.findActive('d-1', 'pressure_low')).toBeUndefined();
    expect(B.alerts.unclosed()).toEqual([]);

    // not inside a step: it would join the step and resolve before reading
    await expect(B.scope.run(() => B.alerts.hold('al-h'))).rejects.toThrow(/scope of its own/);
  });

  it('closing an alert takes it out of unclosed() at once, keeps it gettable until a reload, and B drops it on the notice', async () => {
    await A.scope.run(() => {
      A.alerts.insert(alert('al-1', 'd-1'));
      A.alerts.insert(alert('al-2', 'd-2', { openedAt: iso(5) }));
    });
    await vi.waitFor(() => expect(ids(B.alerts.unclosed())).toEqual(['al-1', 'al-2']), SOON);

    // the rest of the step no longer finds it
    const seen = await A.scope.run(() => {
      close(A.alerts, 'al-1', 'li', 10);
      return { unclosed: ids(A.alerts.unclosed()), active: A.alerts.findActive('d-1', 'pressure_low'), got: A.alerts.get('al-1')?.status };
    });
    expect(seen).toEqual({ unclosed: ['al-2'], active: undefined, got: 'closed' });
    expect(A.alerts.get('al-1')).toMatchObject({ status: 'closed', closedBy: 'li' });
    expect(await A.store.findActive('d-1', 'pressure_low')).toBeUndefined();
    expect(await A.store.get('al-1')).toMatchObject({ status: 'closed' });

    await vi.waitFor(() => expect(B.alerts.get('al-1')).toBeUndefined(), SOON);
    expect(ids(B.alerts.unclosed())).toEqual(['al-2']);
    expect(B.alerts.findActive('d-1', 'pressure_low')).toBeUndefined();

    // a new alert for the key may be raised now, on either node
    await B.scope.run(() => B.alerts.insert(alert('al-3', 'd-1', { openedAt: iso(20) })));
    await vi.waitFor(() => expect(A.alerts.findActive('d-1', 'pressure_low')?.id).toBe('al-3'), SOON);

    await A.alerts.reload();
    expect(A.alerts.get('al-1')).toBeUndefined();
    expect(ids(A.alerts.unclosed())).toEqual(['al-2', 'al-3']);
  });

  it('reloads everything once its listening connection is back (what was notified meanwhile is lost)', async () => {
    await B.db.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN firewatch_alerts' AND pid <> pg_backend_pid()",
    );
    await A.store.insert(alert('al-r', 'd-1')); // no notice at all
    await vi.waitFor(() => expect(B.alerts.findActive('d-1', 'pressure_low')?.id).toBe('al-r'), { timeout: 15_000, interval: 50 });
    await vi.waitFor(() => expect(A.alerts.findActive('d-1', 'pressure_low')?.id).toBe('al-r'), { timeout: 15_000, interval: 50 });
    expect(B.watchErrors.length).toBeGreaterThan(0);
  });
});

describe('PgMaintenanceMirror on two nodes', () => {
  let closeNodes: () => Promise<void>;
  let A: Node;
  let B: Node;

  beforeEach(async () => {
    const two = await twoNodes();
    closeNodes = two.close;
    [A, B] = await Promise.all([openNode(two.nodes[0]!, 'node-a'), openNode(two.nodes[1]!, 'node-b')]);
  });

  afterEach(async () => {
    for (const n of [A, B]) {
      await n.scope.settled();
      await n.alerts.close();
      await n.maintenance.close();
    }
    await closeNodes();
  });

  const window = (targetId: string, over: Partial<MaintenanceWindow> = {}): MaintenanceWindow => ({
    target: 'device',
    targetId,
    until: iso(3600),
    reason: '更换压力表',
    by: 'op-1',
    createdAt: iso(0),
    ...over,
  });

  it('a window set on A is held there at once, stored on commit and seen by B soon; a copy is handed out', async () => {
    // outside a step (an implicit scope): applied at once, committed at the end of the turn
    A.maintenance.set(window('d-1'));
    expect(A.maintenance.get('device', 'd-1')).toEqual(window('d-1'));
    await A.scope.settled();
    expect(A.implicitErrors).toEqual([]);
    expect(await A.maintenanceStore.get('device', 'd-1')).toEqual(window('d-1'));
    await vi.waitFor(() => expect(B.maintenance.get('device', 'd-1')).toEqual(window('d-1')), SOON);
    expect(B.maintenance.get('building', 'd-1')).toBeUndefined();

    B.maintenance.get('device', 'd-1')!.until = iso(1);
    expect(B.maintenance.get('device', 'd-1')!.until).toBe(iso(3600));

    // replaced on B, seen on A
    await B.scope.run(() => B.maintenance.set(window('d-1', { until: iso(7200), by: 'op-2' })));
    await vi.waitFor(() => expect(A.maintenance.get('device', 'd-1')).toMatchObject({ until: iso(7200), by: 'op-2' }), SOON);
  });

  it('remove says whether a window was held; the removal reaches the other node', async () => {
    await A.scope.run(() => A.maintenance.set(window('d-1')));
    await vi.waitFor(() => expect(B.maintenance.get('device', 'd-1')).toBeDefined(), SOON);

    const removed = await B.scope.run(() => [B.maintenance.remove('device', 'd-1'), B.maintenance.remove('device', 'd-1')]);
    expect(removed).toEqual([true, false]);
    expect(await B.scope.run(() => B.maintenance.remove('building', 'b-1'))).toBe(false);
    expect(await A.maintenanceStore.get('device', 'd-1')).toBeUndefined();
    await vi.waitFor(() => expect(A.maintenance.get('device', 'd-1')).toBeUndefined(), SOON);
  });

  it('a rolled-back scope restores the windows as stored', async () => {
    await A.scope.run(() => A.maintenance.set(window('d-1')));
    let removed: boolean | undefined;
    await expect(
      A.scope.run(() => {
        removed = A.maintenance.remove('device', 'd-1');
        A.maintenance.set(window('b-1', { target: 'building' }));
        A.scope.write(() => {
          throw new Error('a later write fails');
        });
      }),
    ).rejects.toThrow('a later write fails');
    expect(removed).toBe(true);
    expect(A.maintenance.get('device', 'd-1')).toEqual(window('d-1'));
    expect(A.maintenance.get('building', 'b-1')).toBeUndefined();
    expect(await A.maintenanceStore.get('device', 'd-1')).toEqual(window('d-1'));
    expect(await A.maintenanceStore.get('building', 'b-1')).toBeUndefined();
  });
});
