/** /api/v1/buildings — admins register buildings; everyone sees only the buildings of their scope. */
import { z } from 'zod';
import { buildingFilterFor, canReadBuilding, canWriteRegistry, requireRole } from '../../auth/scope.js';
import { ForbiddenError, NotFoundError } from '../../shared/errors.js';
import type { Api, ApiDeps } from '../app.js';
import { Building, BuildingBody, BuildingListQuery, BuildingPatchBody, IdParams, Page } from '../schemas/registry.js';

export function registerBuildingRoutes(app: Api, { registry }: ApiDeps): void {
  const tags = ['buildings'];
  const ALL = ['admin', 'duty', 'operator', 'platform'] as const;

  app.post('/buildings', { schema: { tags, body: BuildingBody, response: { 201: Building } } }, async (req, reply) => {
    requireRole(req.principal, 'admin');
    return reply.code(201).send(registry.createBuilding(req.body));
  });

  app.get('/buildings', { schema: { tags, querystring: BuildingListQuery, response: { 200: Page(Building) } } }, async (req) => {
    const p = requireRole(req.principal, ...ALL);
    const { limit, cursor, ...filter } = req.query;
    const scope = buildingFilterFor(p);
    return registry.listBuildings({ ...filter, ...(scope === 'all' ? {} : { scope }) }, cursor, limit);
  });

  app.get('/buildings/:id', { schema: { tags, params: IdParams, response: { 200: Building } } }, async (req) => {
    const p = requireRole(req.principal, ...ALL);
    const b = registry.getBuilding(req.params.id);
    if (!canReadBuilding(p, b)) throw new NotFoundError('building', req.params.id);
    return b;
  });

  app.patch('/buildings/:id', { schema: { tags, params: IdParams, body: BuildingPatchBody, response: { 200: Building } } }, async (req) => {
    const p = requireRole(req.principal, ...ALL);
    const b = registry.getBuilding(req.params.id);
    if (!canReadBuilding(p, b)) throw new NotFoundError('building', req.params.id);
    if (!canWriteRegistry(p, b.id)) throw new ForbiddenError('only an admin or the building\'s operator changes it');
    if (p.role !== 'admin' && req.body.street !== undefined && req.body.street !== b.street) {
      throw new ForbiddenError('only an admin moves a building to another street');
    }
    return registry.updateBuilding(req.params.id, req.body);
  });

  app.delete('/buildings/:id', { schema: { tags, params: IdParams, response: { 204: z.null() } } }, async (req, reply) => {
    requireRole(req.principal, 'admin');
    registry.deleteBuilding(req.params.id);
    return reply.code(204).send(null);
  });
}
