/**
 * GET /api/v1/coverage[.csv]?street=: the buildings the district plan requires to be monitored
 * (services/coverage/coverage.ts says which and with what) and which sensor kinds they have
 * online now. Limited to the principal's scope. The CSV is UTF-8 with a BOM so Excel shows the
 * Chinese correctly.
 */
import { ROLES, type Principal } from '../../auth/model.js';
import { buildingFilterFor } from '../../auth/scope.js';
import { coverageCsvRows, coverageOf, summarise, type CoverageItem } from '../../coverage/coverage.js';
import type { DeviceStatusTracker } from '../../devices/device-status.js';
import { STREETS, type Building } from '../../devices/model.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import type { DeviceKind } from '../../telemetry/telemetry.js';
import { normaliseStreet } from '../../import/survey-csv.js';
import { BadRequestError } from '../../shared/errors.js';
import { stringifyCsvForSpreadsheet } from '../../shared/csv.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { CoverageQuery, CoverageSchema } from '../schemas/safety-code.js';

export interface CoverageRouteOptions {
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
}

export async function coverageRoutes(app: Api, deps: CoverageRouteOptions): Promise<void> {
  const tags = ['coverage'];

  const report = async (p: Principal, streetParam: string | undefined) => {
    let street: string | undefined;
    if (streetParam !== undefined && streetParam !== '') {
      street = normaliseStreet(streetParam);
      if (!street) throw new BadRequestError('street_unknown', `"${streetParam}" is not one of the 11 streets: ${STREETS.join(', ')}`);
    }
    const scope = buildingFilterFor(p);
    const devicesByBuilding = new Map<string, Array<{ kind: DeviceKind; online: boolean }>>();
    for (const d of deps.registry.devices()) {
      let list = devicesByBuilding.get(d.buildingId);
      if (!list) devicesByBuilding.set(d.buildingId, (list = []));
      list.push({ kind: d.kind, online: deps.status.isOnline(d.id) });
    }
    const items: CoverageItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.registry.listBuildings({ ...(street ? { street } : {}), ...(scope === 'all' ? {} : { scope }) }, cursor, 1000);
      for (const b of page.items as Building[]) {
        const item = coverageOf(b, devicesByBuilding.get(b.id) ?? []);
        if (item) items.push(item);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const order = (s: string) => (STREETS as readonly string[]).indexOf(s);
    items.sort((a, b) => order(a.street) - order(b.street) || b.missing.length - a.missing.length || a.name.localeCompare(b.name, 'zh-CN'));
    // every street the principal covers, so a street with nothing to monitor shows as 0
    const streets = street
      ? [street]
      : scope === 'all'
        ? [...STREETS]
        : scope.streets
          ? STREETS.filter((s) => scope.streets!.includes(s))
          : [...new Set(items.map((i) => i.street))];
    return { items, summary: summarise(items, streets) };
  };

  app.get(
    '/coverage',
    {
      config: { roles: ROLES },
      schema: {
        tags,
        description:
          'Buildings the district plan requires to be monitored (complexes > 20,000 m², markets > 10,000 m², high-rises), ' +
          'the sensor kinds each needs, which are online and which are missing; with counts per street.',
        querystring: CoverageQuery,
        response: { 200: CoverageSchema },
      },
    },
    async (req) => report(principalOf(req), req.query.street),
  );

  app.get(
    '/coverage.csv',
    { config: { roles: ROLES }, schema: { tags, description: 'The coverage report as CSV (UTF-8 with BOM, for Excel).', querystring: CoverageQuery } },
    async (req, reply) => {
      const { items } = await report(principalOf(req), req.query.street);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="coverage.csv"; filename*=UTF-8''${encodeURIComponent('消防监测覆盖.csv')}`)
        .send(`\uFEFF${stringifyCsvForSpreadsheet(coverageCsvRows(items))}`);
    },
  );
}
