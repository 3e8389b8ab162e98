/**
 * POST /api/v1/import/buildings (admin): the district market survey as CSV.
 * Body: text/csv (UTF-8 with or without BOM, or GB18030 as Excel/WPS save it in China), or JSON
 * `{ "csv": "…" }`. Answers `{ created, updated, failed: [{ row, name, errors }], imported, … }`;
 * a bad row is reported and never stops the good ones. Registered in its own scope so the CSV
 * body parser applies to this route only.
 */
import { requireRole } from '../../auth/scope.js';
import type { BuildingImporter } from '../../import/building-import.js';
import { decodeCsvBytes } from '../../shared/csv.js';
import type { Api } from '../app.js';
import { ImportBody, ImportResultSchema } from '../schemas/safety-code.js';

export const IMPORT_BODY_LIMIT = 8 * 1024 * 1024;

export async function registerImportRoutes(app: Api, deps: { importer: BuildingImporter }): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser(['text/csv', 'text/plain', 'application/csv'], { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => {
      done(null, decodeCsvBytes(body as Buffer).text);
    });
    (scope as Api).post(
      '/import/buildings',
      {
        bodyLimit: IMPORT_BODY_LIMIT,
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
        const p = requireRole(req.principal, 'admin');
        const csv = typeof req.body === 'string' ? req.body : req.body.csv;
        // a row that changes a building's thresholds is recorded in the audit history as the importer's
        return deps.importer.importCsv(csv, p);
      },
    );
  });
}
