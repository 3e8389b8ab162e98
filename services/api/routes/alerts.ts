/** /api/v1/alerts and maintenance mode; who acknowledged or closed is the logged-in principal. */
import { z } from 'zod';
import type { AlertService } from '../../alerts/alert-service.js';
import { decodeRecordCursor, encodeRecordCursor, recordBound, recordCsvRows } from '../../alerts/alert-records.js';
import type { Alert, AlertRecord, AlertRecordFilter, HistoryEntry, MaintenanceWindow } from '../../alerts/model.js';
import type { AuthService } from '../../auth/auth-service.js';
import { ROLES, type Principal } from '../../auth/model.js';
import type { ChangeControl } from '../../audit/change-control.js';
import { buildingFilterFor, canApproveAlertChanges, canHandleAlerts, canManageMaintenance, canReadAlert, canReadBuilding } from '../../auth/scope.js';
import type { Building } from '../../devices/model.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import { normaliseStreet } from '../../import/survey-csv.js';
import { stringifyCsvForSpreadsheet } from '../../shared/csv.js';
import { BadRequestError, ForbiddenError, NotFoundError } from '../../shared/errors.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { AckBody, AlertListQuery, AlertSchema, CloseBody, MaintenanceBody, MaintenanceSchema, RecordPage, RecordQuery } from '../schemas/alerts.js';
import { IdParams } from '../schemas/registry.js';

export interface AlertRouteOptions {
  alerts: AlertService;
  registry: DeviceRegistry;
  changeControl: ChangeControl;
  /** display names of people (issue #17 item 5): for alerts and windows stored before they carried them */
  auth: Pick<AuthService, 'displayNameOf'>;
}

/** the most rows one CSV export carries */
const RECORDS_CSV_MAX = 100_000;

export async function alertRoutes(app: Api, { alerts, registry, changeControl, auth }: AlertRouteOptions): Promise<void> {
  const tags = ['alerts'];
  // every role reaches these handlers: what a principal may see or do depends on the alert or building
  const config = { roles: ROLES };
  // who, as people read it (issue #17 item 5): the names kept with the alert, else the user's name now
  // (alerts stored before names were kept); one lookup per username and request
  const namer = () => {
    const cache = new Map<string, string | null>();
    const nameOf = (by: string | null) => {
      if (by === null) return null;
      if (!cache.has(by)) cache.set(by, auth.displayNameOf(by));
      return cache.get(by)!;
    };
    return <T extends AlertRecord & { history?: HistoryEntry[] }>(a: T): T => ({
      ...a,
      acknowledgedByName: a.acknowledgedByName !== undefined ? a.acknowledgedByName : nameOf(a.acknowledgedBy),
      closedByName: a.closedByName !== undefined ? a.closedByName : nameOf(a.closedBy),
      ...(a.history ? { history: a.history.map((e) => (e.byName !== undefined ? e : { ...e, byName: nameOf(e.by) })) } : {}),
    });
  };
  const windowNamed = (w: MaintenanceWindow | undefined) => (w ? { ...w, byName: auth.displayNameOf(w.by) } : null);
  const readable = (p: Principal, a: Alert) => {
    if (!canReadAlert(p, a)) throw new NotFoundError('alert', a.id);
    return p;
  };

  app.get('/alerts', { config, schema: { tags, querystring: AlertListQuery, response: { 200: z.object({ items: z.array(AlertSchema) }) } } }, async (req) => {
    const scope = buildingFilterFor(principalOf(req));
    const { status, street, buildingId, deviceId, rule, severity, from, to, limit, commissioning } = req.query;
    const items = await alerts.list({
      limit,
      commissioning,
      ...(status ? { status } : {}),
      ...(street ? { street } : {}),
      ...(buildingId ? { buildingId } : {}),
      ...(deviceId ? { deviceId } : {}),
      ...(rule ? { rule } : {}),
      ...(severity ? { severity } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(scope !== 'all' && scope.streets ? { streets: scope.streets } : {}),
      ...(scope !== 'all' && scope.buildingIds ? { buildingIds: scope.buildingIds } : {}),
    });
    return { items: items.map(namer()) };
  });

  // ── the incident record (警情记录, issue #17 item 4) ─────────────────────────────────────
  const recordFilter = (p: Principal, q: z.infer<typeof RecordQuery>): Omit<AlertRecordFilter, 'limit'> => {
    const scope = buildingFilterFor(p);
    const given = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
    let street = given(q.street);
    if (street !== undefined) {
      const known = normaliseStreet(street);
      if (!known) throw new BadRequestError('street_unknown', `"${street}" is not one of the 11 streets`);
      street = known;
    }
    const from = given(q.from);
    const to = given(q.to);
    const cursor = given(q.cursor);
    const opt = { street, buildingId: given(q.buildingId), rule: given(q.rule), person: given(q.person), q: given(q.q) };
    return {
      class: q.class,
      dateField: q.dateField,
      ...(from !== undefined ? { from: recordBound(from, 'from') } : {}),
      ...(to !== undefined ? { to: recordBound(to, 'to') } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
      ...Object.fromEntries(Object.entries(opt).filter(([, v]) => v !== undefined)),
      ...(cursor !== undefined ? { after: decodeRecordCursor(cursor) } : {}),
      ...(scope !== 'all' && scope.streets ? { streets: scope.streets } : {}),
      ...(scope !== 'all' && scope.buildingIds ? { buildingIds: scope.buildingIds } : {}),
    };
  };
  // where the device is: as recorded with the alert, else the device's location now (older alerts)
  const withLocation = (a: AlertRecord) => ({ ...a, location: a.location ?? (a.deviceId ? registry.context(a.deviceId)?.device.location : null) ?? null });
  const timeOf = (a: AlertRecord, f: Pick<AlertRecordFilter, 'dateField'>) => (f.dateField === 'closed' ? a.closedAt : a.openedAt) ?? '';

  app.get(
    '/alerts/records',
    {
      config,
      schema: {
        tags,
        description:
          'The incident record (警情记录): alerts newest first, hazards or faults (never mixed), by date, street, building, rule, outcome, ' +
          'who acknowledged or closed, status and building name; limited to the principal\'s streets or buildings.',
        querystring: RecordQuery,
        response: { 200: RecordPage },
      },
    },
    async (req) => {
      const f = { ...recordFilter(principalOf(req), req.query), limit: req.query.limit + 1 };
      const rows = await alerts.records(f);
      const items = rows.slice(0, req.query.limit);
      const last = items[items.length - 1];
      const named = namer();
      return { items: items.map((a) => named(withLocation(a))), nextCursor: rows.length > req.query.limit && last ? encodeRecordCursor(timeOf(last, f), last.id) : null };
    },
  );

  app.get(
    '/alerts/records.csv',
    {
      config,
      schema: {
        tags,
        description: `The incident record for the same filter as CSV (UTF-8 with BOM, for Excel): Chinese headers first, times in Asia/Shanghai, at most ${RECORDS_CSV_MAX} rows; limit and cursor are ignored.`,
        querystring: RecordQuery,
      },
    },
    async (req, reply) => {
      const base = recordFilter(principalOf(req), { ...req.query, cursor: undefined });
      const all: AlertRecord[] = [];
      let after: AlertRecordFilter['after'];
      for (;;) {
        const page = await alerts.records({ ...base, ...(after ? { after } : {}), limit: Math.min(1000, RECORDS_CSV_MAX - all.length) });
        all.push(...page);
        const last = page[page.length - 1];
        if (!last || page.length < 1000 || all.length >= RECORDS_CSV_MAX) break;
        after = { at: timeOf(last, base), id: last.id };
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="alert-records.csv"; filename*=UTF-8''${encodeURIComponent('警情记录.csv')}`)
        .send(`\uFEFF${stringifyCsvForSpreadsheet(recordCsvRows(all.map(namer()).map(withLocation)))}`);
    },
  );

  app.get('/alerts/:id', { config, schema: { tags, params: IdParams, response: { 200: AlertSchema } } }, async (req) => {
    const a = await alerts.get(req.params.id);
    readable(principalOf(req), a);
    return namer()(a);
  });

  app.post('/alerts/:id/ack', { config, schema: { tags, params: IdParams, body: AckBody, response: { 200: AlertSchema } } }, async (req) => {
    const a = await alerts.get(req.params.id);
    const p = readable(principalOf(req), a);
    if (!canHandleAlerts(p, a)) throw new ForbiddenError('only the duty room covering this street (or an admin) handles its alerts');
    return namer()(await alerts.acknowledge(a.id, p.username, req.body.note));
  });

  // issue #15 item 4: a duty console displayed the alert; the first report is its firstShownAt
  app.post(
    '/alerts/:id/shown',
    {
      config,
      schema: {
        tags,
        description:
          'A duty console displayed the alert: the first report sets clocks.firstShownAt (GB 50440: an alarm shown within 10 s), later ones change nothing. ' +
          'Duty officers of its street and admins; not once the alert was acknowledged, nor on alerts stored before clocks.',
        params: IdParams,
        body: z.object({}).optional(),
        response: { 200: AlertSchema },
      },
    },
    async (req) => {
      const a = await alerts.get(req.params.id);
      const p = readable(principalOf(req), a);
      if (!canHandleAlerts(p, a)) throw new ForbiddenError('only the duty room covering this street (or an admin) reports what its consoles show');
      return namer()(await alerts.shown(a.id, p.username));
    },
  );

  app.post('/alerts/:id/close', { config, schema: { tags, params: IdParams, body: CloseBody, response: { 200: AlertSchema } } }, async (req) => {
    const a = await alerts.get(req.params.id);
    const p = readable(principalOf(req), a);
    if (!canHandleAlerts(p, a)) throw new ForbiddenError('only the duty room covering this street (or an admin) handles its alerts');
    return namer()(await alerts.close(a.id, p.username, req.body.outcome, req.body.note));
  });

  // ── maintenance ─────────────────────────────────────────────────────────────
  const target = (kind: 'device' | 'building', id: string) => {
    if (kind === 'device') {
      const d = registry.getDevice(id);
      return { buildingId: d.buildingId, building: registry.getBuilding(d.buildingId) };
    }
    return { buildingId: id, building: registry.getBuilding(id) };
  };
  // the building's operator, the duty room of its street, or an admin (a long window: not the operator)
  const mayManage = (p: Principal, t: { buildingId: string; building: Building }) => canManageMaintenance(p, t.buildingId) || canApproveAlertChanges(p, t.building);
  const NOT_YOURS = '维护模式由楼宇运营方、辖区值班人员或管理员设置 / maintenance mode is set by the building operator, the duty room of its street or an admin';
  const windowOf = (kind: 'device' | 'building', id: string) => {
    const w = alerts.maintenanceOf(kind === 'device' ? id : null, kind === 'building' ? id : null);
    return w && w.target === kind ? w : undefined;
  };
  for (const kind of ['device', 'building'] as const) {
    const path = `/${kind}s/:id/maintenance`;
    app.put(
      path,
      {
        config,
        schema: {
          tags: ['maintenance'],
          description: `Start (or replace) maintenance mode. A window longer than MAINTENANCE_MAX_OPERATOR_H (${changeControl.maintenanceMaxOperatorH} h) needs a duty officer or an admin; every window is audited.`,
          params: IdParams,
          body: MaintenanceBody,
          response: { 200: MaintenanceSchema },
        },
      },
      async (req) => {
        const p = principalOf(req);
        const t = target(kind, req.params.id);
        if (!canReadBuilding(p, t.building)) throw new NotFoundError(kind, req.params.id);
        if (!mayManage(p, t)) throw new ForbiddenError(NOT_YOURS);
        const spec = { kind, id: req.params.id, building: t.building, until: req.body.until, reason: req.body.reason };
        return windowNamed(
          await changeControl.setMaintenance(p, spec, windowOf(kind, req.params.id), async (uow) =>
            alerts.setMaintenance(kind, req.params.id, req.body.until, req.body.reason, p.username, uow),
          ),
        )!;
      },
    );
    app.get(path, { config, schema: { tags: ['maintenance'], params: IdParams, response: { 200: MaintenanceSchema.nullable() } } }, async (req) => {
      const t = target(kind, req.params.id);
      if (!canReadBuilding(principalOf(req), t.building)) throw new NotFoundError(kind, req.params.id);
      return windowNamed(windowOf(kind, req.params.id));
    });
    app.delete(path, { config, schema: { tags: ['maintenance'], params: IdParams, response: { 204: z.null() } } }, async (req, reply) => {
      const p = principalOf(req);
      const t = target(kind, req.params.id);
      if (!canReadBuilding(p, t.building)) throw new NotFoundError(kind, req.params.id);
      if (!mayManage(p, t)) throw new ForbiddenError(NOT_YOURS);
      await changeControl.endMaintenance(p, { kind, id: req.params.id, building: t.building }, windowOf(kind, req.params.id), async (uow) =>
        alerts.endMaintenance(kind, req.params.id, uow),
      );
      return reply.code(204).send(null);
    });
  }
}
