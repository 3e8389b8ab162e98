/** /api/v1/alerts and maintenance mode; who acknowledged or closed is the logged-in principal. */
import { z } from 'zod';
import type { AlertService } from '../../alerts/alert-service.js';
import type { Alert } from '../../alerts/model.js';
import type { Principal } from '../../auth/model.js';
import { buildingFilterFor, canHandleAlerts, canManageMaintenance, canReadAlert, canReadBuilding, requireRole } from '../../auth/scope.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import { ForbiddenError, NotFoundError } from '../../shared/errors.js';
import type { Api } from '../app.js';
import { AckBody, AlertListQuery, AlertSchema, CloseBody, MaintenanceBody, MaintenanceSchema } from '../schemas/alerts.js';
import { IdParams } from '../schemas/registry.js';

export interface AlertRouteDeps {
  alerts: AlertService;
  registry: DeviceRegistry;
}

export function registerAlertRoutes(app: Api, { alerts, registry }: AlertRouteDeps): void {
  const tags = ['alerts'];
  const readable = (req: { principal?: Principal }, a: Alert) => {
    const p = requireRole(req.principal, 'admin', 'duty', 'operator', 'platform');
    if (!canReadAlert(p, a)) throw new NotFoundError('alert', a.id);
    return p;
  };

  app.get('/alerts', { schema: { tags, querystring: AlertListQuery, response: { 200: z.object({ items: z.array(AlertSchema) }) } } }, async (req) => {
    const p = requireRole(req.principal, 'admin', 'duty', 'operator', 'platform');
    const scope = buildingFilterFor(p);
    const { status, street, buildingId, deviceId, rule, severity, from, to, limit } = req.query;
    const items = alerts.list({
      limit,
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
    return { items };
  });

  app.get('/alerts/:id', { schema: { tags, params: IdParams, response: { 200: AlertSchema } } }, async (req) => {
    const a = alerts.get(req.params.id);
    readable(req, a);
    return a;
  });

  app.post('/alerts/:id/ack', { schema: { tags, params: IdParams, body: AckBody, response: { 200: AlertSchema } } }, async (req) => {
    const a = alerts.get(req.params.id);
    const p = readable(req, a);
    if (!canHandleAlerts(p, a)) throw new ForbiddenError('only the duty room covering this street (or an admin) handles its alerts');
    return alerts.acknowledge(a.id, p.username, req.body.note);
  });

  app.post('/alerts/:id/close', { schema: { tags, params: IdParams, body: CloseBody, response: { 200: AlertSchema } } }, async (req) => {
    const a = alerts.get(req.params.id);
    const p = readable(req, a);
    if (!canHandleAlerts(p, a)) throw new ForbiddenError('only the duty room covering this street (or an admin) handles its alerts');
    return alerts.close(a.id, p.username, req.body.outcome, req.body.note);
  });

  // ── maintenance ─────────────────────────────────────────────────────────────
  const target = (kind: 'device' | 'building', id: string) => {
    if (kind === 'device') {
      const d = registry.getDevice(id);
      return { buildingId: d.buildingId, building: registry.getBuilding(d.buildingId) };
    }
    return { buildingId: id, building: registry.getBuilding(id) };
  };
  for (const kind of ['device', 'building'] as const) {
    const path = `/${kind}s/:id/maintenance`;
    app.put(path, { schema: { tags: ['maintenance'], params: IdParams, body: MaintenanceBody, response: { 200: MaintenanceSchema } } }, async (req) => {
      const p = requireRole(req.principal, 'admin', 'operator', 'duty', 'platform');
      const t = target(kind, req.params.id);
      if (!canReadBuilding(p, t.building)) throw new NotFoundError(kind, req.params.id);
      if (!canManageMaintenance(p, t.buildingId)) throw new ForbiddenError('maintenance mode is set by the building operator or an admin');
      return alerts.setMaintenance(kind, req.params.id, req.body.until, req.body.reason, p.username);
    });
    app.get(path, { schema: { tags: ['maintenance'], params: IdParams, response: { 200: MaintenanceSchema.nullable() } } }, async (req) => {
      const p = requireRole(req.principal, 'admin', 'operator', 'duty', 'platform');
      const t = target(kind, req.params.id);
      if (!canReadBuilding(p, t.building)) throw new NotFoundError(kind, req.params.id);
      const w = alerts.maintenanceOf(kind === 'device' ? req.params.id : null, kind === 'building' ? req.params.id : null);
      return w && w.target === kind ? w : null;
    });
    app.delete(path, { schema: { tags: ['maintenance'], params: IdParams, response: { 204: z.null() } } }, async (req, reply) => {
      const p = requireRole(req.principal, 'admin', 'operator', 'duty', 'platform');
      const t = target(kind, req.params.id);
      if (!canReadBuilding(p, t.building)) throw new NotFoundError(kind, req.params.id);
      if (!canManageMaintenance(p, t.buildingId)) throw new ForbiddenError('maintenance mode is set by the building operator or an admin');
      alerts.endMaintenance(kind, req.params.id);
      return reply.code(204).send(null);
    });
  }
}
