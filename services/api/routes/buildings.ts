/** /api/v1/buildings */
import { z } from 'zod';
import type { Api, ApiDeps } from '../app.js';
import { Building, BuildingBody, BuildingListQuery, BuildingPatchBody, IdParams, Page } from '../schemas/registry.js';

export function registerBuildingRoutes(app: Api, { registry }: ApiDeps): void {
  const tags = ['buildings'];
  app.post('/buildings', { schema: { tags, body: BuildingBody, response: { 201: Building } } }, async (req, reply) =>
    reply.code(201).send(registry.createBuilding(req.body)),
  );
  app.get('/buildings', { schema: { tags, querystring: BuildingListQuery, response: { 200: Page(Building) } } }, async (req) => {
    const { limit, cursor, ...filter } = req.query;
    return registry.listBuildings(filter, cursor, limit);
  });
  app.get('/buildings/:id', { schema: { tags, params: IdParams, response: { 200: Building } } }, async (req) =>
    registry.getBuilding(req.params.id),
  );
  app.patch('/buildings/:id', { schema: { tags, params: IdParams, body: BuildingPatchBody, response: { 200: Building } } }, async (req) =>
    registry.updateBuilding(req.params.id, req.body),
  );
  app.delete('/buildings/:id', { schema: { tags, params: IdParams, response: { 204: z.null() } } }, async (req, reply) => {
    registry.deleteBuilding(req.params.id);
    return reply.code(204).send(null);
  });
}
