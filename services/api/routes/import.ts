/**
 * POST /api/v1/import/buildings (admin): the district market survey as CSV.
 * Body: text/csv (UTF-8 with or without BOM, or GB18030 as Excel/WPS save it in China), or JSON
 * `{ "csv": "…" }`. Answers `{ created, updated, failed: [{ row, name, errors }], imported, … }`;
 * a bad row is reported and never stops the good ones. A plugin of its own (an encapsulated scope),
 * so the CSV body parser applies to this route only.
 */
import type { BuildingImporter } from '../../import/building-import.js';
import { decodeCsvBytes } from '../../shared/csv.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { ImportBody, ImportResultSchema } from '../schemas/safety-code.js';

export const IMPORT_BODY_LIMIT = 8 * 1024 * 1024;

export interface ImportRouteOptions {
  importer: BuildingImporter;
}

export async function importRoutes(app: Api, deps: ImportRouteOptions): Promise<void> {
  app.addContentTypeParser(['text/csv', 'text/plain', 'application/csv'], { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => {
    done(null, decodeCsvBytes(body as Buffer).text);
  });
  app.post(
    '/import/buildings',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      // checked before the body is read (authenticated.ts): a non-admin does not get to send 8 MiB
      config: { roles: ['admin'] },
      schema: {
        tags: ['import'],
        description:
          'Import buildings from the district market survey (annex 1.3.2 columns, Chinese headers, 是/否 values). ' +
          'Send text/csv or JSON {"csv": "..."}. A row whose name and street exist updates that building. ' +
          '`row` is the line of the file where the row starts.',
        body: ImportBody,
        response: { 200: ImportResultSchema },
      },
    },
    async (req) => {
      const csv = typeof req.body === 'string' ? req.body : req.body.csv;
      // a row that changes a building's thresholds is recorded in the audit history as the importer's
      return deps.importer.importCsv(csv, principalOf(req));
    },
  );
}
