/**
 * Bulk import of buildings from the district market survey (survey-csv.ts maps the rows).
 * Idempotent: a row whose name and street match an existing building updates it; otherwise a
 * building is created (use `market`, type `public`). A bad row is reported with its reasons and
 * never stops the good rows. Problems with the file itself (no header, a required column
 * missing) are a BadRequestError: no row can be judged without the header.
 *
 * On update only what the survey says is written: its non-empty cells and the survey record.
 * use, type, height and category stay as they are (a complex that also appears in the market
 * survey stays a complex, so the coverage rules for complexes keep applying). Floors may change
 * the thresholds of a building without a recorded height: such a row is written to the audit
 * history as the importer's, with the row as the reason (issue #12 item 9).
 */
import type { ChangeControl } from '../audit/change-control.js';
import type { Principal } from '../auth/model.js';
import type { Building, BuildingPatch } from '../devices/model.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { parseCsv } from '../shared/csv.js';
import { BadRequestError } from '../shared/errors.js';
import type { UnitOfWork } from '../shared/unit-of-work.js';
import { mapSurveyRecords, type RowError, type SurveyBuilding } from './survey-csv.js';

export interface FailedRow {
  /** the line of the file where the row starts (the header is usually line 1) */
  row: number;
  name: string | null;
  errors: RowError[];
}

export interface ImportResult {
  created: number;
  updated: number;
  failed: FailedRow[];
  imported: Array<{ row: number; buildingId: string; name: string; action: 'created' | 'updated' }>;
  headerRow: number | null;
  ignoredColumns: string[];
}

/** At most this many data rows per request; the CLI sends chunks well below it. */
export const MAX_IMPORT_ROWS = 20_000;

const key = (street: string, name: string) => `${street}\u0000${name}`;

export class BuildingImporter {
  /** `changes`: a row that changes a building's thresholds (floors of a building without a height) is audited */
  constructor(
    private readonly registry: DeviceRegistry,
    private readonly changes?: ChangeControl,
  ) {}

  /** `by`: who imports (an admin), recorded for the rows that change a building's thresholds. */
  async importCsv(csv: string, by?: Principal): Promise<ImportResult> {
    const parsed = parseCsv(csv);
    const records = parsed.error ? parsed.records.slice(0, -1) : parsed.records;
    const broken = parsed.error ? parsed.records[parsed.records.length - 1] : undefined;
    if (records.length === 0 && !broken) {
      throw new BadRequestError('csv_empty', '文件为空 / the CSV is empty');
    }
    const mapped = mapSurveyRecords(records);
    if (mapped.fileErrors.length > 0) {
      throw new BadRequestError('csv_header_invalid', mapped.fileErrors.map((e) => `${e.zh} / ${e.en}`).join('; '), { errors: mapped.fileErrors });
    }
    if (mapped.rows.length > MAX_IMPORT_ROWS) {
      throw new BadRequestError('csv_too_many_rows', `一次最多导入 ${MAX_IMPORT_ROWS} 行 / at most ${MAX_IMPORT_ROWS} rows per request; split the file`);
    }

    const existing = await this.existingByNameAndStreet(new Set(mapped.rows.flatMap((r) => (r.ok ? [r.building.street] : []))));
    const result: ImportResult = { created: 0, updated: 0, failed: [], imported: [], headerRow: mapped.headerRow, ignoredColumns: mapped.ignoredColumns };
    for (const r of mapped.rows) {
      if (!r.ok) {
        result.failed.push({ row: r.row, name: r.name, errors: r.errors });
        continue;
      }
      try {
        const k = key(r.building.street, r.building.name);
        const current = existing.get(k);
        const saved = current ? await this.update(current, patchFor(r.building), r.row, by) : await this.registry.createBuilding(inputFor(r.building));
        existing.set(k, saved);
        result[current ? 'updated' : 'created'] += 1;
        result.imported.push({ row: r.row, buildingId: saved.id, name: saved.name, action: current ? 'updated' : 'created' });
      } catch (err) {
        result.failed.push({
          row: r.row,
          name: r.building.name,
          errors: [{ field: null, code: 'store_failed', zh: '保存失败，请稍后重试', en: `could not be saved: ${err instanceof Error ? err.message : String(err)}` }],
        });
      }
    }
    if (broken && parsed.error) {
      result.failed.push({
        row: broken.line,
        name: null,
        errors: [{ field: null, code: 'csv_syntax', zh: `第 ${parsed.error.line} 行的引号没有闭合`, en: `the quote opened on line ${parsed.error.line} is never closed` }],
      });
    }
    result.failed.sort((a, b) => a.row - b.row);
    return result;
  }

  private update(current: Building, patch: BuildingPatch, row: number, by: Principal | undefined): Promise<Building> {
    const apply = (uow?: UnitOfWork) => this.registry.updateBuilding(current.id, patch, uow);
    if (!this.changes || !by) return apply();
    const reason = `市场调查导入第 ${row} 行 / survey import, row ${row}`;
    return this.changes.buildingChange(by, { current, next: { ...current, ...patch }, reason }, apply);
  }

  private async existingByNameAndStreet(streets: ReadonlySet<string>): Promise<Map<string, Building>> {
    const map = new Map<string, Building>();
    for (const street of streets) {
      let cursor: string | undefined;
      do {
        const page = await this.registry.listBuildings({ street }, cursor, 1000);
        for (const b of page.items) if (!map.has(key(b.street, b.name))) map.set(key(b.street, b.name), b);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    return map;
  }
}

function inputFor(b: SurveyBuilding) {
  return {
    name: b.name,
    street: b.street,
    address: b.address ?? '',
    type: 'public' as const,
    heightM: null,
    floors: b.floors,
    areaM2: b.areaM2,
    category: null,
    use: 'market' as const,
    contactName: b.contactName,
    contactPhone: b.contactPhone,
    survey: b.survey,
  };
}

function patchFor(b: SurveyBuilding): BuildingPatch {
  const patch: BuildingPatch = { survey: b.survey };
  if (b.address !== null) patch.address = b.address;
  if (b.contactName !== null) patch.contactName = b.contactName;
  if (b.contactPhone !== null) patch.contactPhone = b.contactPhone;
  if (b.areaM2 !== null) patch.areaM2 = b.areaM2;
  if (b.floors !== null) patch.floors = b.floors;
  return patch;
}
