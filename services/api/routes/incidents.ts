/**
 * /api/v1/incidents (警情, issue #15 item 1): a building's hazard alerts as one card. Reading and
 * handling follow the alerts' rules (services/auth/scope.ts): whoever may read the building's
 * alerts reads its incidents; the duty room of its street (or an admin) acknowledges and closes,
 * and that acknowledges or closes each of its alerts, each with its own history entry.
 */
import { z } from 'zod';
import type { Incident, IncidentService } from '../../alerts/incidents.js';
import { ROLES, type Principal } from '../../auth/model.js';
import { buildingFilterFor, canHandleAlerts, canReadAlert } from '../../auth/scope.js';
import { ForbiddenError, NotFoundError } from '../../shared/errors.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { AckBody, CloseBody } from '../schemas/alerts.js';
import { IncidentListQuery, IncidentSchema } from '../schemas/incidents.js';
import { IdParams } from '../schemas/registry.js';

export interface IncidentRouteOptions {
  incidents: IncidentService;
}

export async function incidentRoutes(app: Api, { incidents }: IncidentRouteOptions): Promise<void> {
  const tags = ['incidents'];
  const config = { roles: ROLES };
  const readable = async (p: Principal, id: string): Promise<Incident> => {
    const i = await incidents.get(id);
    if (!canReadAlert(p, i)) throw new NotFoundError('incident', id);
    return i;
  };
  const handled = async (p: Principal, id: string): Promise<Incident> => {
    const i = await readable(p, id);
    if (!canHandleAlerts(p, i)) throw new ForbiddenError('only the duty room covering this street (or an admin) handles its incidents');
    return i;
  };

  app.get(
    '/incidents',
    {
      config,
      schema: {
        tags,
        description: "Incidents newest first, within the principal's streets or buildings; `status=active` (default) is the duty board's.",
        querystring: IncidentListQuery,
        response: { 200: z.object({ items: z.array(IncidentSchema) }) },
      },
    },
    async (req) => {
      const scope = buildingFilterFor(principalOf(req));
      const { status, buildingId, street, limit } = req.query;
      const items = await incidents.list({
        status,
        limit,
        ...(buildingId ? { buildingId } : {}),
        ...(street ? { street } : {}),
        ...(scope !== 'all' && scope.streets ? { streets: scope.streets } : {}),
        ...(scope !== 'all' && scope.buildingIds ? { buildingIds: scope.buildingIds } : {}),
      });
      return { items };
    },
  );

  app.get('/incidents/:id', { config, schema: { tags, params: IdParams, response: { 200: IncidentSchema } } }, async (req) => readable(principalOf(req), req.params.id));

  app.post(
    '/incidents/:id/ack',
    { config, schema: { tags, description: 'Acknowledges every open alert of the incident, in one step (409 incident_not_open when none is open).', params: IdParams, body: AckBody, response: { 200: IncidentSchema } } },
    async (req) => {
      const p = principalOf(req);
      const i = await handled(p, req.params.id);
      return incidents.acknowledge(i.id, p.username, req.body.note);
    },
  );

  app.post(
    '/incidents/:id/close',
    {
      config,
      schema: { tags, description: 'Closes every unclosed alert of the incident with one outcome and note, in one step (409 incident_closed when all are closed).', params: IdParams, body: CloseBody, response: { 200: IncidentSchema } },
    },
    async (req) => {
      const p = principalOf(req);
      const i = await handled(p, req.params.id);
      return incidents.close(i.id, p.username, req.body.outcome, req.body.note);
    },
  );
}
