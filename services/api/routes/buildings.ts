/** /api/v1/buildings — admins register buildings; everyone sees only the buildings of their scope. */
import { z } from 'zod';
import { BUILDING_ALERT_FIELDS, type ChangeControl } from '../../audit/change-control.js';
import { ROLES } from '../../auth/model.js';
import { buildingFilterFor, canApproveAlertChanges, canReadBuilding, canWriteRegistry } from '../../auth/scope.js';
import type { Building as BuildingModel } from '../../devices/model.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import { buildingChecks, heightView } from '../../rules/building-checks.js';
import { EVIDENCE_SELECTORS, buildingRulesFor } from '../../rules/building-rules.js';
import { ForbiddenError, NotFoundError } from '../../shared/errors.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { Building, BuildingBody, BuildingListQuery, BuildingPatchBody, IdParams, Page } from '../schemas/registry.js';

/** A building as the API shows it: with how the rules see its height and what to check (issue #16 item 9). */
const view = (b: BuildingModel) => ({ ...b, height: heightView(b), checks: buildingChecks(b) });

export interface BuildingRouteOptions {
  registry: DeviceRegistry;
  changeControl: ChangeControl;
}

export async function buildingRoutes(app: Api, { registry, changeControl }: BuildingRouteOptions): Promise<void> {
  const tags = ['buildings'];

  app.post('/buildings', { config: { roles: ['admin'] }, schema: { tags, body: BuildingBody, response: { 201: Building } } }, async (req, reply) =>
    reply.code(201).send(view(await registry.createBuilding(req.body))),
  );

  app.get('/buildings', { config: { roles: ROLES }, schema: { tags, querystring: BuildingListQuery, response: { 200: Page(Building) } } }, async (req) => {
    const p = principalOf(req);
    const { limit, cursor, ...filter } = req.query;
    const scope = buildingFilterFor(p);
    return registry.listBuildings({ ...filter, ...(scope === 'all' ? {} : { scope }) }, cursor, limit);
  });

  app.get('/buildings/:id', { config: { roles: ROLES }, schema: { tags, params: IdParams, response: { 200: Building } } }, async (req) => {
    const p = principalOf(req);
    const b = registry.getBuilding(req.params.id);
    if (!canReadBuilding(p, b)) throw new NotFoundError('building', req.params.id);
    return view(b);
  });

  app.get(
    '/buildings/:id/rules',
    {
      config: { roles: ROLES },
      schema: {
        tags,
        description:
          "The building rules in force here (issue #15 item 2: probable_fire, lane_blocked_in_fire): each with its severity, the evidence it needs (and what counts as each kind), its window, its source, and whether the building's own setting (`buildingRules`) changed it.",
        params: IdParams,
        response: {
          200: z.object({
            buildingId: z.string(),
            rules: z.array(
              z.object({
                id: z.string(),
                severity: z.string(),
                enabled: z.boolean(),
                needs: z.array(z.object({ kind: z.string(), selectors: z.array(z.string()) })),
                windowS: z.number().nullable(),
                source: z.string(),
                overridden: z.boolean(),
              }),
            ),
            overrides: z.record(z.string(), z.unknown()).nullable(),
          }),
        },
      },
    },
    async (req) => {
      const b = registry.getBuilding(req.params.id);
      if (!canReadBuilding(principalOf(req), b)) throw new NotFoundError('building', req.params.id);
      const rules = buildingRulesFor(b.buildingRules).map((r) => ({
        id: r.id,
        severity: r.severity,
        enabled: r.enabled,
        needs: r.needs.map((kind) => ({ kind, selectors: [...EVIDENCE_SELECTORS[kind]] })),
        windowS: r.windowS,
        source: r.source,
        overridden: r.overridden,
      }));
      return { buildingId: b.id, rules, overrides: (b.buildingRules ?? null) as Record<string, unknown> | null };
    },
  );

  app.patch(
    '/buildings/:id',
    {
      // who may change what depends on the building (below): its operator, duty for the alerting fields, admins
      config: { roles: ROLES },
      schema: {
        tags,
        description:
          'Change a building. A change of type, heightM, floors, category or use that alters its alert thresholds or deadlines needs a duty officer or an admin and a `reason`, and is audited.',
        params: IdParams,
        body: BuildingPatchBody,
        response: { 200: Building },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const { reason, ...patch } = req.body;
      const b = registry.getBuilding(req.params.id);
      if (!canReadBuilding(p, b)) throw new NotFoundError('building', req.params.id);
      if (!canWriteRegistry(p, b.id)) {
        // the duty room approves reclassifications: it changes a building's alerting fields, nothing else
        const others = Object.keys(patch).filter((k) => !(BUILDING_ALERT_FIELDS as readonly string[]).includes(k));
        if (!canApproveAlertChanges(p, b)) throw new ForbiddenError('only an admin or the building\'s operator changes it');
        if (others.length > 0) {
          throw new ForbiddenError(`值班人员只能修改楼宇的告警字段（${BUILDING_ALERT_FIELDS.join('、')}）/ a duty officer changes only a building's alerting fields (${BUILDING_ALERT_FIELDS.join(', ')}), not ${others.join(', ')}`);
        }
      }
      if (p.role !== 'admin' && patch.street !== undefined && patch.street !== b.street) {
        throw new ForbiddenError('only an admin moves a building to another street');
      }
      const next = { ...b, ...patch } as BuildingModel;
      return view(await changeControl.buildingChange(p, { current: b, next, reason }, (uow) => registry.updateBuilding(req.params.id, patch, uow)));
    },
  );

  app.delete('/buildings/:id', { config: { roles: ['admin'] }, schema: { tags, params: IdParams, response: { 204: z.null() } } }, async (req, reply) => {
    await registry.deleteBuilding(req.params.id);
    return reply.code(204).send(null);
  });
}
