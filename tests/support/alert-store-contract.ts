/**
 * The contracts every AlertStore and every MaintenanceStore pass (services/alerts/model.ts): the
 * SQLite stores (firewatch.db's alerts, alert_history and maintenance tables) today, a PostgreSQL
 * store later, unchanged: the cases use the interfaces only. Each case gets a fresh, empty store.
 *
 * AlertStore (what AlertService, the escalation scheduler and GET /alerts, /alerts/records rely on):
 *   - an alert comes back as inserted, every field and its history in order; an alert stored
 *     before the optional fields existed comes back without them
 *   - findActive: the alert for (device, rule) that is not closed (open or acknowledged), and a
 *     system alert (no device) only for `null`; at most one such alert per (device, rule): a
 *     second insert is refused and leaves nothing, and once the first is closed a new one may open
 *   - update replaces the alert and appends `added` to its history, called as the service calls it
 *     (the alert's own history already ends with `added`); with nothing added the history stays;
 *     findActive, list, unclosed and records see every field as replaced (device, rule, building,
 *     street, opened time, class, status, who), not as inserted
 *   - list: newest opened first, `limit` the newest; each filter (status incl. 'active', street,
 *     streets, building, buildingIds, device, rule, severity, from/to inclusive, commissioning
 *     left out unless included or asked for only) and all of them together; filters see updates
 *   - unclosed: every alert not closed, commissioning and system ones included, oldest first
 *   - records: one class only, never commissioning alerts, no history; newest first by the date
 *     field (closed: closed alerts only); every filter, free text matched literally (`%`, `_`,
 *     `\` are characters), the keyset cursor strictly after (time, id) with ties by id, every
 *     record once when paged
 *   - a durable store gives back after a reopen what it held
 *   A history entry written with `byName: null` or `info: null` may come back with the field null
 *   or absent (HistoryEntry: absent on older entries; readers treat both alike), so entries are
 *   compared with those nulls dropped.
 *
 * MaintenanceStore (AlertService.maintenanceOf / setMaintenance / endMaintenance): one window per
 * target, replaced by the next `set`; device and building targets apart; remove says whether there
 * was one; a durable store keeps them over a reopen.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { attempt, contractHarness } from './contract-harness.js';
import type { Alert, AlertFilter, AlertRecordFilter, AlertStore, HistoryEntry, MaintenanceStore, MaintenanceWindow } from '../../services/alerts/model.js';

export interface ContractAlertStore {
  store: AlertStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<AlertStore> | AlertStore;
  cleanup: () => Promise<void> | void;
}

export interface ContractMaintenanceStore {
  store: MaintenanceStore;
  reopen?: () => Promise<MaintenanceStore> | MaintenanceStore;
  cleanup: () => Promise<void> | void;
}

const T0 = Date.UTC(2026, 10, 29, 0, 0, 0);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const MSG = { zh: '水压过低：0.08 MPa（阈值 0.15）', en: 'Pressure low: 0.08 MPa (threshold 0.15)' };

function raised(minutes: number): HistoryEntry {
  return { at: iso(minutes), action: 'raised', by: 'system', detail: MSG.zh, byName: null, info: { code: 'message', message: MSG } };
}

/** an alert as AlertService.open makes it, with `over` on top (also for store tests beside the contract) */
export function alert(id: string, over: Partial<Alert> = {}): Alert {
  const openedAt = over.openedAt ?? iso(0);
  return {
    id,
    rule: 'pressure_low',
    class: 'hazard',
    severity: 'major',
    status: 'open',
    cleared: false,
    clearedAt: null,
    deviceId: 'd-1',
    buildingId: 'b-1',
    buildingName: '解放碑大厦',
    street: '解放碑',
    kind: 'water_pressure',
    point: 'hydrant_top',
    value: 0.08,
    threshold: 0.15,
    peak: 0.05,
    count: 1,
    message: MSG,
    openedAt,
    lastAt: openedAt,
    ackDeadline: new Date(Date.parse(openedAt) + 60_000).toISOString(),
    closeDeadline: new Date(Date.parse(openedAt) + 180_000).toISOString(),
    acknowledgedAt: null,
    acknowledgedBy: null,
    closedAt: null,
    closedBy: null,
    outcome: null,
    note: null,
    acknowledgedByName: null,
    closedByName: null,
    noteText: null,
    escalationLevel: 0,
    maintenance: false,
    commissioning: false,
    history: [raised(Date.parse(openedAt) / 60_000 - T0 / 60_000)],
    location: '62F 屋顶试验消火栓',
    contactName: '王经理',
    contactPhone: '023-6380 0000',
    measured: { value: 0.08, unit: 'MPa', from: null, since: null, code: null },
    ...over,
  };
}

/** closed by a person, as AlertService.close leaves it */
function closed(a: Alert, by: string, minutes: number, outcome: Alert['outcome'] = 'false_alarm'): Alert {
  return {
    ...a,
    status: 'closed',
    acknowledgedAt: a.acknowledgedAt ?? iso(minutes),
    acknowledgedBy: a.acknowledgedBy ?? by,
    closedAt: iso(minutes),
    closedBy: by,
    outcome,
    note: '现场确认 / checked on site',
  };
}

function entryOf(e: HistoryEntry): HistoryEntry {
  const out = { ...e };
  if (out.byName === null) delete out.byName;
  if (out.info === null) delete out.info;
  return out;
}
/** an alert with null byName/info of its entries dropped (see the header) */
const same = (a: Alert | undefined) => a && { ...a, history: a.history.map(entryOf) };
const ids = (rows: ReadonlyArray<{ id: string }>) => rows.map((r) => r.id);
const withoutHistory = ({ history: _h, ...rest }: Alert) => rest;

export function alertStoreContract(name: string, make: () => Promise<ContractAlertStore> | ContractAlertStore): void {
  describe(`AlertStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<AlertStore, ContractAlertStore>(name, make);

    it('knows no alert to begin with', async () => {
      const s = store();
      expect(await s.get('al-none')).toBeUndefined();
      expect(await s.findActive('d-1', 'pressure_low')).toBeUndefined();
      expect(await s.findActive(null, 'service_outage')).toBeUndefined();
      expect(await s.list({ limit: 100, commissioning: 'include' })).toEqual([]);
      expect(await s.unclosed()).toEqual([]);
      expect(await s.records({ class: 'hazard', dateField: 'opened', limit: 100 })).toEqual([]);
    });

    it('gives an alert back as inserted: every field, its history in order', async () => {
      const full = alert('al-full', {
        maintenance: true,
        history: [
          raised(0),
          { at: iso(0), action: 'maintenance', by: 'zhang.op', detail: '维护中，不通知（至 2026-11-29 18:00）：检测', byName: '张工', info: { code: 'maintenance', until: iso(600), reason: '检测' } },
          { at: iso(1), action: 'acknowledged', by: 'li.duty', detail: '已派人 "现场" \\ 查看', byName: '李值班', info: { code: 'note', note: '已派人 "现场" \\ 查看' } },
          { at: iso(2), action: 'escalated', by: 'system', detail: '超时未处置', byName: null, info: { code: 'escalated', level: 2, deadline: 'close', due: iso(3) } },
        ],
        status: 'acknowledged',
        acknowledgedAt: iso(1),
        acknowledgedBy: 'li.duty',
        acknowledgedByName: '李值班',
        escalationLevel: 2,
        measured: { value: 0.31, unit: 'MPa', from: 0.35, since: iso(-5), code: 'E42' },
      });
      // as stored before issue #17 items 2 and 5: none of the optional fields, entries without byName/info
      const old = alert('al-old', { deviceId: 'd-2', history: [{ at: iso(0), action: 'raised', by: 'system', detail: null }] });
      for (const key of ['acknowledgedByName', 'closedByName', 'noteText', 'location', 'contactName', 'contactPhone', 'measured'] as const) delete old[key];
      await store().insert(full);
      await store().insert(old);
      expect(same(await store().get('al-full'))).toEqual(same(full));
      expect(await store().get('al-old')).toEqual(old);
      expect(await store().get('al-none')).toBeUndefined();
    });

    it('finds the alert of (device, rule) that is not closed; a system alert only for no device', async () => {
      const s = store();
      await s.insert(alert('al-open', { deviceId: 'd-1', rule: 'pressure_low' }));
      await s.insert(alert('al-ack', { deviceId: 'd-1', rule: 'lane_blocked', status: 'acknowledged', acknowledgedAt: iso(1), acknowledgedBy: 'li.duty' }));
      await s.insert(closed(alert('al-closed', { deviceId: 'd-1', rule: 'pressure_high' }), 'li.duty', 5));
      await s.insert(alert('al-sys', { deviceId: null, buildingId: null, buildingName: null, street: null, rule: 'service_outage', class: 'fault' }));
      expect((await s.findActive('d-1', 'pressure_low'))?.id).toBe('al-open');
      expect((await s.findActive('d-1', 'lane_blocked'))?.id).toBe('al-ack');
      expect(await s.findActive('d-1', 'pressure_high')).toBeUndefined();
      expect(await s.findActive('d-2', 'pressure_low')).toBeUndefined();
      expect((await s.findActive(null, 'service_outage'))?.id).toBe('al-sys');
      expect(await s.findActive(null, 'pressure_low')).toBeUndefined();
      expect(await s.findActive('d-1', 'service_outage')).toBeUndefined();
      // what it finds is the whole alert, history included
      expect(same(await s.findActive('d-1', 'pressure_low'))).toEqual(same(alert('al-open')));
    });

    it('holds at most one unclosed alert per (device, rule): a second is refused and leaves nothing', async () => {
      const s = store();
      await s.insert(alert('al-1', { deviceId: 'd-1', rule: 'pressure_low' }));
      await expect(attempt(() => s.insert(alert('al-2', { deviceId: 'd-1', rule: 'pressure_low', openedAt: iso(1) })))).rejects.toThrow();
      const ack = { ...(await s.get('al-1'))!, status: 'acknowledged' as const, acknowledgedAt: iso(1), acknowledgedBy: 'li.duty' };
      await s.update(ack, []);
      await expect(attempt(() => s.insert(alert('al-3', { deviceId: 'd-1', rule: 'pressure_low', openedAt: iso(2) })))).rejects.toThrow();
      await s.insert(alert('al-sys-1', { deviceId: null, rule: 'service_outage', class: 'fault', openedAt: iso(3) }));
      await expect(attempt(() => s.insert(alert('al-sys-2', { deviceId: null, rule: 'service_outage', class: 'fault', openedAt: iso(4) })))).rejects.toThrow();
      expect(await s.get('al-2')).toBeUndefined();
      expect(await s.get('al-3')).toBeUndefined();
      expect(await s.get('al-sys-2')).toBeUndefined();
      expect(ids(await s.list({ limit: 10 }))).toEqual(['al-sys-1', 'al-1']);
      // other devices, other rules and the same rule without a device are not the same key
      await s.insert(alert('al-d2', { deviceId: 'd-2', rule: 'pressure_low' }));
      await s.insert(alert('al-d1-high', { deviceId: 'd-1', rule: 'pressure_high' }));
      await s.insert(alert('al-none-low', { deviceId: null, rule: 'pressure_low' }));
      // closed: a new episode may open, and is the one found
      const c = closed((await s.get('al-1'))!, 'li.duty', 4);
      c.history.push({ at: iso(4), action: 'closed', by: 'li.duty', detail: 'false_alarm: ok', byName: '李值班', info: { code: 'closed', outcome: 'false_alarm', note: 'ok' } });
      await s.update(c, c.history.slice(-1));
      await s.insert(alert('al-4', { deviceId: 'd-1', rule: 'pressure_low', openedAt: iso(5) }));
      expect((await s.findActive('d-1', 'pressure_low'))?.id).toBe('al-4');
      expect((await s.get('al-1'))?.status).toBe('closed');
      expect((await s.get('al-1'))?.history.map((h) => h.action)).toEqual(['raised', 'closed']);
    });

    it('update replaces the alert and appends the added entries, in order, as the service calls it', async () => {
      const s = store();
      await s.insert(alert('al-1'));
      // acknowledge
      const a = (await s.get('al-1'))!;
      const ackEntry: HistoryEntry = { at: iso(1), action: 'acknowledged', by: 'li.duty', detail: '收到', byName: '李值班', info: { code: 'note', note: '收到' } };
      Object.assign(a, { status: 'acknowledged', acknowledgedAt: iso(1), acknowledgedBy: 'li.duty', acknowledgedByName: '李值班' });
      a.history.push(ackEntry);
      await s.update(a, [ackEntry]);
      // a reading: fields change, no entry
      const b = (await s.get('al-1'))!;
      Object.assign(b, { value: 0.06, peak: 0.04, count: 5, lastAt: iso(2), severity: 'critical' });
      await s.update(b, []);
      // clear and recur in one go: two entries
      const c = (await s.get('al-1'))!;
      const cleared: HistoryEntry = { at: iso(3), action: 'cleared', by: 'system', detail: '水压恢复', byName: null, info: { code: 'message', message: { zh: '水压恢复', en: 'Pressure back' } } };
      const recurred: HistoryEntry = { at: iso(4), action: 'recurred', by: 'system', detail: MSG.zh, byName: null, info: { code: 'message', message: MSG } };
      Object.assign(c, { cleared: false, clearedAt: null, lastAt: iso(4), count: 6 });
      c.history.push(cleared, recurred);
      await s.update(c, [cleared, recurred]);

      const got = (await s.get('al-1'))!;
      expect(same(got)).toEqual(same(c));
      expect(got.history.map((h) => h.action)).toEqual(['raised', 'acknowledged', 'cleared', 'recurred']);
      expect(got).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'li.duty', severity: 'critical', value: 0.06, count: 6, lastAt: iso(4) });
      // the filters see what the update changed
      expect(ids(await s.list({ limit: 10, status: 'acknowledged' }))).toEqual(['al-1']);
      expect(ids(await s.list({ limit: 10, status: 'open' }))).toEqual([]);
      expect(ids(await s.list({ limit: 10, severity: 'critical' }))).toEqual(['al-1']);
      expect(ids(await s.list({ limit: 10, severity: 'major' }))).toEqual([]);
      expect(ids(await s.records({ class: 'hazard', dateField: 'opened', person: 'li.duty', limit: 10 }))).toEqual(['al-1']);
      // closed: out of findActive, unclosed and the active list; in the closed record
      const d = closed((await s.get('al-1'))!, 'wang.duty', 6, 'real_fire');
      const closing: HistoryEntry = { at: iso(6), action: 'closed', by: 'wang.duty', detail: 'real_fire: 已扑灭', byName: '王值班', info: { code: 'closed', outcome: 'real_fire', note: '已扑灭' } };
      d.history.push(closing);
      await s.update(d, [closing]);
      expect(await s.findActive('d-1', 'pressure_low')).toBeUndefined();
      expect(await s.unclosed()).toEqual([]);
      expect(ids(await s.list({ limit: 10, status: 'active' }))).toEqual([]);
      expect(ids(await s.list({ limit: 10, status: 'closed' }))).toEqual(['al-1']);
      expect(ids(await s.records({ class: 'hazard', dateField: 'closed', outcome: 'real_fire', person: 'wang.duty', limit: 10 }))).toEqual(['al-1']);
      expect((await s.get('al-1'))!.history.map((h) => h.action)).toEqual(['raised', 'acknowledged', 'cleared', 'recurred', 'closed']);
    });

    it('update replaces the whole alert: lookups and filters see every field as it is now', async () => {
      const s = store();
      await s.insert(alert('al-1', { deviceId: 'd-1', buildingId: 'b-1', buildingName: '解放碑大厦', street: '解放碑', rule: 'pressure_low', class: 'hazard', openedAt: iso(0) }));
      await s.insert(alert('al-2', { deviceId: 'd-2', openedAt: iso(10) }));
      const next = alert('al-1', { deviceId: 'd-9', buildingId: 'b-9', buildingName: '朝天门广场', street: '朝天门', rule: 'device_offline', class: 'fault', severity: 'minor', openedAt: iso(20), history: (await s.get('al-1'))!.history });
      await s.update(next, []);
      expect(same(await s.get('al-1'))).toEqual(same(next));
      expect(await s.findActive('d-1', 'pressure_low')).toBeUndefined();
      expect((await s.findActive('d-9', 'device_offline'))?.id).toBe('al-1');
      expect(ids(await s.list({ limit: 10 }))).toEqual(['al-1', 'al-2']);
      expect(ids(await s.list({ limit: 10, deviceId: 'd-9' }))).toEqual(['al-1']);
      expect(ids(await s.list({ limit: 10, deviceId: 'd-1' }))).toEqual([]);
      expect(ids(await s.list({ limit: 10, buildingId: 'b-9' }))).toEqual(['al-1']);
      expect(ids(await s.list({ limit: 10, buildingIds: ['b-1'] }))).toEqual(['al-2']);
      expect(ids(await s.list({ limit: 10, street: '朝天门' }))).toEqual(['al-1']);
      expect(ids(await s.list({ limit: 10, rule: 'pressure_low' }))).toEqual(['al-2']);
      expect(ids(await s.list({ limit: 10, from: iso(15) }))).toEqual(['al-1']);
      expect(ids(await s.unclosed())).toEqual(['al-2', 'al-1']);
      expect(ids(await s.records({ class: 'fault', dateField: 'opened', q: '朝天门', limit: 10 }))).toEqual(['al-1']);
      expect(ids(await s.records({ class: 'hazard', dateField: 'opened', limit: 10 }))).toEqual(['al-2']);
      // and the old key is free for a new episode
      await s.insert(alert('al-3', { deviceId: 'd-1', rule: 'pressure_low', openedAt: iso(30) }));
      expect((await s.findActive('d-1', 'pressure_low'))?.id).toBe('al-3');
    });

    it("list by incident (issue #15 item 1): one incident's alerts, or only alerts that belong to one, also after an update", async () => {
      const s = store();
      await s.insert(alert('al-1', { deviceId: 'd-1', incidentId: 'in-a', openedAt: iso(0) }));
      await s.insert(alert('al-2', { deviceId: 'd-2', incidentId: 'in-b', openedAt: iso(10) }));
      await s.insert(alert('al-3', { deviceId: 'd-3', incidentId: null, openedAt: iso(20) }));
      await s.insert(alert('al-4', { deviceId: 'd-4', openedAt: iso(30) })); // stored before incidents: no field
      expect(ids(await s.list({ limit: 10, incidentId: 'in-a' }))).toEqual(['al-1']);
      expect(ids(await s.list({ limit: 10, incidentId: true }))).toEqual(['al-2', 'al-1']);
      expect(ids(await s.list({ limit: 10, incidentId: 'in-none' }))).toEqual([]);
      await s.update({ ...(await s.get('al-3'))!, incidentId: 'in-a' }, []);
      expect(ids(await s.list({ limit: 10, incidentId: 'in-a' }))).toEqual(['al-3', 'al-1']);
      expect(ids(await s.list({ limit: 10, incidentId: 'in-a', status: 'active' }))).toEqual(['al-3', 'al-1']);
    });

    describe('list and unclosed', () => {
      // opened at minutes 10..70; one system alert, one commissioning alert
      const fleet = (): Alert[] => [
        alert('al-01', { deviceId: 'd-1', buildingId: 'b-1', street: '解放碑', rule: 'pressure_low', severity: 'major', openedAt: iso(10) }),
        alert('al-02', { deviceId: 'd-2', buildingId: 'b-1', street: '解放碑', rule: 'lane_blocked', severity: 'critical', status: 'acknowledged', acknowledgedAt: iso(21), acknowledgedBy: 'li.duty', openedAt: iso(20) }),
        closed(alert('al-03', { deviceId: 'd-3', buildingId: 'b-2', buildingName: '朝天门广场', street: '朝天门', rule: 'device_offline', class: 'fault', severity: 'minor', openedAt: iso(30) }), 'wang.duty', 35, 'fault'),
        closed(alert('al-04', { deviceId: 'd-1', buildingId: 'b-1', street: '解放碑', rule: 'pressure_high', severity: 'warning', openedAt: iso(40) }), 'zhang.duty', 45),
        alert('al-05', { deviceId: null, buildingId: null, buildingName: null, street: null, kind: null, point: null, rule: 'service_outage', class: 'fault', severity: 'major', openedAt: iso(50) }),
        alert('al-06', { deviceId: 'd-4', buildingId: 'b-3', buildingName: '七星岗小区', street: '七星岗', rule: 'pressure_low', commissioning: true, ackDeadline: null, closeDeadline: null, openedAt: iso(60) }),
        closed(alert('al-07', { deviceId: 'd-2', buildingId: 'b-1', street: '解放碑', rule: 'pressure_low', severity: 'critical', openedAt: iso(70) }), 'li.duty', 80, 'real_fire'),
      ];
      const q = async (f: Omit<AlertFilter, 'limit'> & { limit?: number }) => ids(await store().list({ limit: 100, ...f }));

      beforeEach(async () => {
        // inserted out of order: the order is the store's
        const all = fleet();
        for (const i of [3, 0, 6, 2, 5, 1, 4]) await store().insert(all[i]!);
      });

      it('lists newest opened first, leaves commissioning alerts out, and applies the limit to the newest', async () => {
        expect(await q({})).toEqual(['al-07', 'al-05', 'al-04', 'al-03', 'al-02', 'al-01']);
        expect(await q({ limit: 2 })).toEqual(['al-07', 'al-05']);
        expect(await q({ limit: 1, status: 'active' })).toEqual(['al-05']);
        // what list gives back is the whole alert
        const [first] = (await store().list({ limit: 1 }));
        expect(same(first)).toEqual(same(fleet()[6]));
      });

      it('filters by status; active is every status but closed', async () => {
        expect(await q({ status: 'open' })).toEqual(['al-05', 'al-01']);
        expect(await q({ status: 'acknowledged' })).toEqual(['al-02']);
        expect(await q({ status: 'closed' })).toEqual(['al-07', 'al-04', 'al-03']);
        expect(await q({ status: 'active' })).toEqual(['al-05', 'al-02', 'al-01']);
      });

      it('filters by street, streets, building, buildingIds, device, rule and severity', async () => {
        expect(await q({ street: '解放碑' })).toEqual(['al-07', 'al-04', 'al-02', 'al-01']);
        expect(await q({ street: '大坪' })).toEqual([]);
        expect(await q({ streets: ['朝天门', '七星岗'] })).toEqual(['al-03']);
        expect(await q({ streets: ['朝天门', '七星岗'], commissioning: 'include' })).toEqual(['al-06', 'al-03']);
        expect(await q({ streets: [] })).toEqual([]);
        expect(await q({ buildingId: 'b-1' })).toEqual(['al-07', 'al-04', 'al-02', 'al-01']);
        expect(await q({ buildingIds: ['b-2', 'b-9'] })).toEqual(['al-03']);
        expect(await q({ buildingIds: [] })).toEqual([]);
        expect(await q({ deviceId: 'd-1' })).toEqual(['al-04', 'al-01']);
        expect(await q({ rule: 'pressure_low' })).toEqual(['al-07', 'al-01']);
        expect(await q({ rule: 'service_outage' })).toEqual(['al-05']);
        expect(await q({ severity: 'critical' })).toEqual(['al-07', 'al-02']);
      });

      it('filters by opened time, from and to inclusive', async () => {
        expect(await q({ from: iso(30), to: iso(50) })).toEqual(['al-05', 'al-04', 'al-03']);
        expect(await q({ from: iso(70) })).toEqual(['al-07']);
        expect(await q({ to: iso(10) })).toEqual(['al-01']);
        expect(await q({ from: iso(11), to: iso(19) })).toEqual([]);
      });

      it('commissioning alerts: left out by default and with exclude, with the rest on include, alone on only', async () => {
        expect(await q({ commissioning: 'exclude' })).toEqual(['al-07', 'al-05', 'al-04', 'al-03', 'al-02', 'al-01']);
        expect(await q({ commissioning: 'include' })).toEqual(['al-07', 'al-06', 'al-05', 'al-04', 'al-03', 'al-02', 'al-01']);
        expect(await q({ commissioning: 'only' })).toEqual(['al-06']);
        expect(await q({ commissioning: 'only', status: 'active', deviceId: 'd-4' })).toEqual(['al-06']);
        expect(await q({ commissioning: 'only', deviceId: 'd-1' })).toEqual([]);
      });

      it('applies every filter given, together', async () => {
        expect(await q({ street: '解放碑', status: 'active' })).toEqual(['al-02', 'al-01']);
        expect(await q({ rule: 'pressure_low', commissioning: 'include' })).toEqual(['al-07', 'al-06', 'al-01']);
        expect(await q({ buildingId: 'b-1', deviceId: 'd-2', severity: 'critical', from: iso(15), to: iso(65) })).toEqual(['al-02']);
        expect(await q({ streets: ['解放碑'], buildingIds: ['b-1'], status: 'closed' })).toEqual(['al-07', 'al-04']);
        expect(await q({ street: '朝天门', deviceId: 'd-1' })).toEqual([]);
      });

      it('unclosed: every alert not closed, commissioning and system ones too, oldest first', async () => {
        expect(ids(await store().unclosed())).toEqual(['al-01', 'al-02', 'al-05', 'al-06']);
        expect((await store().unclosed()).map(same)).toEqual([fleet()[0], fleet()[1], fleet()[4], fleet()[5]].map(same));
      });
    });

    describe('records', () => {
      const fleet = (): Alert[] => [
        alert('al-01', { deviceId: 'd-1', buildingId: 'b-1', street: '解放碑', rule: 'pressure_low', openedAt: iso(10) }),
        alert('al-02', { deviceId: 'd-2', buildingId: 'b-1', street: '解放碑', rule: 'lane_blocked', status: 'acknowledged', acknowledgedAt: iso(21), acknowledgedBy: 'li.duty', openedAt: iso(20) }),
        closed(alert('al-03', { deviceId: 'd-3', buildingId: 'b-2', buildingName: '朝天门广场', street: '朝天门', rule: 'device_offline', class: 'fault', openedAt: iso(30) }), 'wang.duty', 35, 'fault'),
        closed(
          alert('al-04', { deviceId: 'd-1', buildingId: 'b-1', street: '解放碑', rule: 'pressure_high', status: 'acknowledged', acknowledgedAt: iso(41), acknowledgedBy: 'li.duty', openedAt: iso(40) }),
          'zhang.duty',
          90,
        ),
        alert('al-05', { deviceId: null, buildingId: null, buildingName: null, street: null, rule: 'service_outage', class: 'fault', openedAt: iso(50) }),
        alert('al-06', { deviceId: 'd-4', buildingId: 'b-3', buildingName: '七星岗小区', street: '七星岗', commissioning: true, openedAt: iso(60) }),
        closed(alert('al-06b', { deviceId: 'd-4', buildingId: 'b-3', buildingName: '七星岗小区', street: '七星岗', rule: 'lane_blocked', commissioning: true, openedAt: iso(61) }), 'system', 62, 'test'),
        closed(alert('al-07', { deviceId: 'd-2', buildingId: 'b-1', street: '解放碑', rule: 'pressure_low', openedAt: iso(70) }), 'li.duty', 80, 'real_fire'),
      ];
      const r = async (f: Partial<AlertRecordFilter>) => ids(await store().records({ class: 'hazard', dateField: 'opened', limit: 100, ...f }));

      beforeEach(async () => {
        for (const a of fleet().reverse()) await store().insert(a);
      });

      it('one class, never commissioning alerts, newest opened first, limit the newest', async () => {
        expect(await r({})).toEqual(['al-07', 'al-04', 'al-02', 'al-01']);
        expect(await r({ class: 'fault' })).toEqual(['al-05', 'al-03']);
        expect(await r({ limit: 3 })).toEqual(['al-07', 'al-04', 'al-02']);
      });

      it('a record is the alert without its history', async () => {
        const [rec] = (await store().records({ class: 'hazard', dateField: 'opened', limit: 1 }));
        expect(rec).toEqual(withoutHistory(fleet()[7]!));
        expect(rec).not.toHaveProperty('history');
      });

      it('by closed time: closed alerts only, newest closed first, from/to on the closed time', async () => {
        expect(await r({ dateField: 'closed' })).toEqual(['al-04', 'al-07']);
        expect(await r({ dateField: 'closed', class: 'fault' })).toEqual(['al-03']);
        expect(await r({ dateField: 'closed', from: iso(80), to: iso(80) })).toEqual(['al-07']);
        expect(await r({ dateField: 'closed', from: iso(81) })).toEqual(['al-04']);
        expect(await r({ dateField: 'closed', to: iso(79) })).toEqual([]);
      });

      it('from/to inclusive on the opened time', async () => {
        expect(await r({ from: iso(20), to: iso(40) })).toEqual(['al-04', 'al-02']);
        expect(await r({ from: iso(21), to: iso(39) })).toEqual([]);
        expect(await r({ class: 'fault', to: iso(30) })).toEqual(['al-03']);
      });

      it('filters by status, street, building, rule, outcome and person (who acknowledged or closed)', async () => {
        expect(await r({ status: 'active' })).toEqual(['al-02', 'al-01']);
        expect(await r({ status: 'closed' })).toEqual(['al-07', 'al-04']);
        expect(await r({ status: 'open' })).toEqual(['al-01']);
        expect(await r({ street: '解放碑' })).toEqual(['al-07', 'al-04', 'al-02', 'al-01']);
        expect(await r({ street: '朝天门' })).toEqual([]);
        expect(await r({ street: '朝天门', class: 'fault' })).toEqual(['al-03']);
        expect(await r({ buildingId: 'b-2', class: 'fault' })).toEqual(['al-03']);
        expect(await r({ rule: 'pressure_low' })).toEqual(['al-07', 'al-01']);
        expect(await r({ outcome: 'false_alarm' })).toEqual(['al-04']);
        expect(await r({ outcome: 'real_fire' })).toEqual(['al-07']);
        expect(await r({ outcome: 'fault', class: 'fault' })).toEqual(['al-03']);
        expect(await r({ person: 'li.duty' })).toEqual(['al-07', 'al-04', 'al-02']);
        expect(await r({ person: 'zhang.duty' })).toEqual(['al-04']);
        expect(await r({ person: 'nobody' })).toEqual([]);
        expect(await r({ person: 'li.duty', status: 'closed', rule: 'pressure_high' })).toEqual(['al-04']);
      });

      it("limits to the principal's streets or buildings", async () => {
        expect(await r({ streets: ['解放碑'] })).toEqual(['al-07', 'al-04', 'al-02', 'al-01']);
        expect(await r({ streets: ['朝天门', '七星岗'] })).toEqual([]);
        expect(await r({ streets: ['朝天门', '七星岗'], class: 'fault' })).toEqual(['al-03']);
        expect(await r({ streets: [] })).toEqual([]);
        expect(await r({ buildingIds: ['b-1'], outcome: 'real_fire' })).toEqual(['al-07']);
        expect(await r({ buildingIds: [], class: 'fault' })).toEqual([]);
      });
    });

    it("records: free text in the building's name or id, matched literally", async () => {
      const s = store();
      const named = (id: string, buildingId: string, buildingName: string | null, minutes: number) =>
        alert(id, { deviceId: `d-${id}`, buildingId, buildingName, openedAt: iso(minutes) });
      await s.insert(named('al-q1', 'b-q1', 'A_B 大厦', 1));
      await s.insert(named('al-q2', 'b-q2', 'AxB 大厦', 2));
      await s.insert(named('al-q3', 'b-q3', '百分之50% 商场', 3));
      await s.insert(named('al-q4', 'b-q4', '50 号楼', 4));
      await s.insert(named('al-q5', 'b-q5-xyz', null, 5));
      await s.insert(named('al-q6', 'b-q6', 'C\\D 楼', 6));
      const q = async (text: string) => ids(await s.records({ class: 'hazard', dateField: 'opened', q: text, limit: 100 }));
      expect(await q('大厦')).toEqual(['al-q2', 'al-q1']);
      expect(await q('_')).toEqual(['al-q1']);
      expect(await q('A_B')).toEqual(['al-q1']);
      expect(await q('50%')).toEqual(['al-q3']);
      expect(await q('%')).toEqual(['al-q3']);
      expect(await q('\\')).toEqual(['al-q6']);
      expect(await q('q5-xy')).toEqual(['al-q5']);
      expect(await q('商场')).toEqual(['al-q3']);
      expect(await q('不存在')).toEqual([]);
    });

    it('records: pages with the keyset cursor, strictly after (time, id), ties by id, every record once', async () => {
      const s = store();
      const at = { 'al-a': 1, 'al-b': 2, 'al-c': 2, 'al-d': 2, 'al-e': 3, 'al-f': 4 } as const;
      for (const [id, m] of Object.entries(at)) (await s.insert(alert(id, { deviceId: `d-${id}`, openedAt: iso(m) })));
      const order = ['al-f', 'al-e', 'al-d', 'al-c', 'al-b', 'al-a'];
      expect(ids(await s.records({ class: 'hazard', dateField: 'opened', limit: 100 }))).toEqual(order);
      const seen: string[] = [];
      let after: AlertRecordFilter['after'];
      for (let pages = 0; pages < 10; pages++) {
        const page = (await s.records({ class: 'hazard', dateField: 'opened', limit: 2, ...(after ? { after } : {}) }));
        if (page.length === 0) break;
        seen.push(...ids(page));
        const last = page[page.length - 1]!;
        after = { at: last.openedAt, id: last.id };
      }
      expect(seen).toEqual(order);
      expect(ids(await s.records({ class: 'hazard', dateField: 'opened', limit: 100, after: { at: iso(2), id: 'al-c' } }))).toEqual(['al-b', 'al-a']);
      expect(ids(await s.records({ class: 'hazard', dateField: 'opened', limit: 100, after: { at: iso(2), id: 'al-z' } }))).toEqual(['al-d', 'al-c', 'al-b', 'al-a']);
    });

    it('when durable, gives back after a reopen what it held', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const s = store();
      await s.insert(alert('al-1'));
      const a = (await s.get('al-1'))!;
      const ack: HistoryEntry = { at: iso(1), action: 'acknowledged', by: 'li.duty', detail: null, byName: '李值班', info: null };
      Object.assign(a, { status: 'acknowledged', acknowledgedAt: iso(1), acknowledgedBy: 'li.duty' });
      a.history.push(ack);
      await s.update(a, [ack]);
      const c = closed(alert('al-2', { deviceId: 'd-2', openedAt: iso(2) }), 'wang.duty', 3, 'test');
      await s.insert(c);
      const again = await handle().reopen!();
      expect(same(await again.get('al-1'))).toEqual(same(a));
      expect(same(await again.get('al-2'))).toEqual(same(c));
      expect((await again.findActive('d-1', 'pressure_low'))?.id).toBe('al-1');
      expect(ids(await again.unclosed())).toEqual(['al-1']);
      expect(ids(await again.list({ limit: 10 }))).toEqual(['al-2', 'al-1']);
      expect(ids(await again.records({ class: 'hazard', dateField: 'closed', outcome: 'test', limit: 10 }))).toEqual(['al-2']);
      // still one unclosed alert per (device, rule)
      await expect(attempt(() => again.insert(alert('al-3', { openedAt: iso(4) })))).rejects.toThrow();
    });
  });
}

export function maintenanceStoreContract(name: string, make: () => Promise<ContractMaintenanceStore> | ContractMaintenanceStore): void {
  describe(`MaintenanceStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<MaintenanceStore, ContractMaintenanceStore>(name, make);

    const window = (target: MaintenanceWindow['target'], targetId: string, over: Partial<MaintenanceWindow> = {}): MaintenanceWindow => ({
      target,
      targetId,
      until: iso(600),
      reason: '年度检测 / annual inspection',
      by: 'zhang.op',
      createdAt: iso(0),
      ...over,
    });

    it('knows no window to begin with', async () => {
      expect(await store().get('device', 'd-1')).toBeUndefined();
      expect(await store().get('building', 'b-1')).toBeUndefined();
      expect(await store().remove('device', 'd-1')).toBe(false);
    });

    it('keeps a window per target, as set', async () => {
      const s = store();
      await s.set(window('device', 'd-1'));
      await s.set(window('building', 'b-1', { until: iso(120), reason: '管网改造', by: 'li.duty', createdAt: iso(5) }));
      expect(await s.get('device', 'd-1')).toEqual(window('device', 'd-1'));
      expect(await s.get('building', 'b-1')).toEqual(window('building', 'b-1', { until: iso(120), reason: '管网改造', by: 'li.duty', createdAt: iso(5) }));
      expect(await s.get('device', 'd-2')).toBeUndefined();
      expect(await s.get('building', 'd-1')).toBeUndefined();
    });

    it('replaces the window of a target with the next one set', async () => {
      const s = store();
      await s.set(window('device', 'd-1'));
      await s.set(window('device', 'd-1', { until: iso(60), reason: '延长 / renewed', by: 'li.duty', createdAt: iso(30) }));
      expect(await s.get('device', 'd-1')).toEqual(window('device', 'd-1', { until: iso(60), reason: '延长 / renewed', by: 'li.duty', createdAt: iso(30) }));
      expect(await s.remove('device', 'd-1')).toBe(true);
      expect(await s.get('device', 'd-1')).toBeUndefined();
    });

    it('keeps device and building targets apart, even with the same id', async () => {
      const s = store();
      await s.set(window('device', 'x-1', { reason: 'device' }));
      await s.set(window('building', 'x-1', { reason: 'building' }));
      expect((await s.get('device', 'x-1'))?.reason).toBe('device');
      expect((await s.get('building', 'x-1'))?.reason).toBe('building');
      expect(await s.remove('building', 'x-1')).toBe(true);
      expect(await s.get('building', 'x-1')).toBeUndefined();
      expect((await s.get('device', 'x-1'))?.reason).toBe('device');
    });

    it('remove says whether there was a window, and removes only that one', async () => {
      const s = store();
      await s.set(window('device', 'd-1'));
      await s.set(window('device', 'd-2'));
      expect(await s.remove('device', 'd-1')).toBe(true);
      expect(await s.remove('device', 'd-1')).toBe(false);
      expect(await s.remove('building', 'd-2')).toBe(false);
      expect(await s.get('device', 'd-1')).toBeUndefined();
      expect(await s.get('device', 'd-2')).toEqual(window('device', 'd-2'));
      // set again after a remove
      await s.set(window('device', 'd-1', { reason: 'again' }));
      expect((await s.get('device', 'd-1'))?.reason).toBe('again');
    });

    it('when durable, gives back after a reopen what it held', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      await store().set(window('device', 'd-1'));
      await store().set(window('building', 'b-1', { reason: '改造' }));
      await store().set(window('device', 'd-2'));
      await store().remove('device', 'd-2');
      const again = await handle().reopen!();
      expect(await again.get('device', 'd-1')).toEqual(window('device', 'd-1'));
      expect(await again.get('building', 'b-1')).toEqual(window('building', 'b-1', { reason: '改造' }));
      expect(await again.get('device', 'd-2')).toBeUndefined();
    });
  });
}
