/**
 * The district market survey form (annex 1.3.2, docs/district-plan.md) as CSV → buildings. Pure.
 *
 *   序号 | 商市场名称 | 地址 | 联系人 | 电话 | 面积 | 该市场所在建筑名称 | 该市场所在建筑的总层数 |
 *   是否设置火灾自动报警系统 | 是否设置火灾自动喷水灭火系统 | 是否设置室内消火栓系统 |
 *   是否设置防烟排烟系统 | 排查发现的消防安全隐患 | 所属街道 | 备注
 *
 * A row becomes a building: name = 商市场名称 (or 该市场所在建筑名称 when empty), street = 所属街道
 * (with or without the suffix 街道), address, contact, phone, area, floors; the four 是/否 answers,
 * hazards and remarks are kept as `survey`. An optional column 整改情况 (not on the printed form;
 * the district adds it when it follows up) records whether the hazards were rectified: 已整改 →
 * `rectified`, 未整改 / 整改中 / 限期整改 → `pending`, empty → not recorded. The safety code
 * (services/safety-code/safety-code.ts) keeps a building with unrectified hazards at least yellow. Each row is judged alone: a bad row gets its reasons
 * (Chinese and English) and never stops the others. The header may sit below a title line (forms
 * often carry one), columns may come in any order, and unknown columns are ignored.
 */
import { STREETS, type BuildingSurvey, type Street, type SurveyRectification } from '../devices/model.js';
import type { CsvRecord } from '../shared/csv.js';

export const SURVEY_COLUMNS = {
  no: '序号',
  marketName: '商市场名称',
  address: '地址',
  contactName: '联系人',
  contactPhone: '电话',
  areaM2: '面积',
  buildingName: '该市场所在建筑名称',
  floors: '该市场所在建筑的总层数',
  fireAlarm: '是否设置火灾自动报警系统',
  sprinklers: '是否设置火灾自动喷水灭火系统',
  hydrants: '是否设置室内消火栓系统',
  smokeControl: '是否设置防烟排烟系统',
  hazards: '排查发现的消防安全隐患',
  rectification: '整改情况',
  street: '所属街道',
  remarks: '备注',
} as const;
export type SurveyColumn = keyof typeof SURVEY_COLUMNS;

/** Other spellings seen on filled-in forms. */
const ALIASES: Readonly<Record<string, SurveyColumn>> = {
  联系电话: 'contactPhone',
  市场名称: 'marketName',
  商场名称: 'marketName',
  商场市场名称: 'marketName',
  建筑名称: 'buildingName',
  所在建筑名称: 'buildingName',
  总层数: 'floors',
  建筑总层数: 'floors',
  街道: 'street',
  建筑面积: 'areaM2',
  消防安全隐患: 'hazards',
  隐患整改情况: 'rectification',
  整改落实情况: 'rectification',
  整改状态: 'rectification',
  是否整改: 'rectification',
  是否已整改: 'rectification',
};

export interface RowError {
  /** the column concerned (its Chinese header), or null for the row as a whole */
  field: string | null;
  code: string;
  zh: string;
  en: string;
}

/** A row that maps to a building. */
export interface SurveyBuilding {
  name: string;
  street: Street;
  address: string | null;
  contactName: string | null;
  contactPhone: string | null;
  areaM2: number | null;
  floors: number | null;
  survey: BuildingSurvey;
}

export type SurveyRow = { row: number; ok: true; building: SurveyBuilding } | { row: number; ok: false; name: string | null; errors: RowError[] };

export interface SurveyParse {
  /** problems with the file as a whole (no header found, required columns missing) */
  fileErrors: RowError[];
  /** the line of the header, when found */
  headerRow: number | null;
  rows: SurveyRow[];
  /** header cells that are not survey columns (ignored) */
  ignoredColumns: string[];
}

const normaliseHeader = (h: string) =>
  h
    .replace(/\s+/g, '')
    .replace(/[（(][^）)]*[）)]$/, '') // 面积（㎡）, 面积(m2)
    .replace(/[*＊]/g, '');

function columnOf(header: string): SurveyColumn | undefined {
  const h = normaliseHeader(header);
  for (const [key, zh] of Object.entries(SURVEY_COLUMNS)) if (zh === h) return key as SurveyColumn;
  return ALIASES[h];
}

const STREET_LIST = STREETS.join('、');

export function normaliseStreet(value: string): Street | undefined {
  const v = value.replace(/\s+/g, '').replace(/^(重庆市)?(渝中区)?/, '').replace(/街道(办事处)?$/, '');
  return (STREETS as readonly string[]).includes(v) ? (v as Street) : undefined;
}

const YES = new Set(['是', '有', '已设置', '设置', 'y', 'yes', 'true', '1', '√', '✓', '✔']);
const NO = new Set(['否', '无', '没有', '未设置', 'n', 'no', 'false', '0', '×', '✗', '✘']);

export function parseYesNo(value: string): boolean | null | 'invalid' {
  const v = value.trim().toLowerCase();
  if (v === '') return null;
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  return 'invalid';
}

const RECTIFIED = /^(是|已整改.*|整改完毕|整改完成|已完成|完成|已落实|已消除|y|yes)$/i;
const PENDING = /^(否|未整改.*|整改中|正在整改|待整改|部分整改|限期整改|责令.*整改|已责令.*整改|未完成|n|no)$/i;

/** 整改情况: 已整改 → rectified; 未整改, 整改中, 限期整改 … → pending; '' → null; anything else → 'invalid'. */
export function parseRectification(value: string): SurveyRectification | null | 'invalid' {
  const v = value.replace(/\s+/g, '');
  if (v === '') return null;
  if (RECTIFIED.test(v)) return 'rectified';
  if (PENDING.test(v)) return 'pending';
  return 'invalid';
}

/** What surveyors write in 排查发现的消防安全隐患 when they found none. */
const NO_HAZARD = /^(无|没有|暂无|未发现|无隐患|未发现隐患|无明显隐患|未发现明显隐患|未发现消防安全隐患|无消防安全隐患|\/|-|—|——|无。)$/;

/** Whether the survey recorded a hazard (its text is not empty and not a "none" such as 无, 未发现隐患, /). */
export function surveyFoundHazard(hazards: string | null | undefined): boolean {
  const v = (hazards ?? '').replace(/\s+/g, '');
  return v !== '' && !NO_HAZARD.test(v);
}

/** "1,788", "1788㎡", "1788 平方米", "1788m²" → 1788; '' → null; anything else → NaN. */
export function parseArea(value: string): number | null {
  const v = value.replace(/[\s,，]/g, '').replace(/(㎡|m²|m2|平方米|平米)$/i, '');
  if (v === '') return null;
  return /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
}

/** "29", "29层" → 29; '' → null; anything else → NaN. */
export function parseFloors(value: string): number | null {
  const v = value.replace(/\s+/g, '').replace(/层$/, '');
  if (v === '') return null;
  return /^\d+$/.test(v) ? Number(v) : NaN;
}

const text = (v: string | undefined): string | null => {
  const t = (v ?? '').trim();
  return t === '' ? null : t;
};

const LIMITS = { name: 200, address: 300, contactName: 100, contactPhone: 40, long: 2000 } as const;

/** One data record → a building or its errors. `cells` maps a survey column to its raw text. */
export function mapSurveyRow(row: number, cells: Partial<Record<SurveyColumn, string>>): SurveyRow {
  const errors: RowError[] = [];
  const col = (c: SurveyColumn) => SURVEY_COLUMNS[c];
  const marketName = text(cells.marketName);
  const buildingName = text(cells.buildingName);
  const name = marketName ?? buildingName;
  if (name === null) {
    errors.push({
      field: col('marketName'),
      code: 'name_missing',
      zh: `缺少名称：“${col('marketName')}”和“${col('buildingName')}”都为空`,
      en: `no name: both ${col('marketName')} (market name) and ${col('buildingName')} (building name) are empty`,
    });
  } else if (name.length > LIMITS.name) {
    errors.push({ field: col('marketName'), code: 'too_long', zh: `名称超过 ${LIMITS.name} 个字`, en: `the name is longer than ${LIMITS.name} characters` });
  }

  const streetText = text(cells.street);
  const street = streetText === null ? undefined : normaliseStreet(streetText);
  if (streetText === null) {
    errors.push({ field: col('street'), code: 'street_missing', zh: '缺少所属街道', en: `no street (${col('street')})` });
  } else if (street === undefined) {
    errors.push({
      field: col('street'),
      code: 'street_unknown',
      zh: `所属街道“${streetText}”不是渝中区的街道（${STREET_LIST}）`,
      en: `street "${streetText}" is not one of Yuzhong's 11 streets (${STREET_LIST})`,
    });
  }

  const areaM2 = parseArea(cells.areaM2 ?? '');
  if (areaM2 !== null && !(Number.isFinite(areaM2) && areaM2 > 0)) {
    errors.push({
      field: col('areaM2'),
      code: 'area_invalid',
      zh: `面积“${cells.areaM2 ?? ''}”不是正数（单位：平方米）`,
      en: `area "${cells.areaM2 ?? ''}" is not a positive number of square metres`,
    });
  }
  const floors = parseFloors(cells.floors ?? '');
  if (floors !== null && !(Number.isInteger(floors) && floors >= 1 && floors <= 200)) {
    errors.push({
      field: col('floors'),
      code: 'floors_invalid',
      zh: `总层数“${cells.floors ?? ''}”不是 1–200 的整数`,
      en: `floors "${cells.floors ?? ''}" is not a whole number from 1 to 200`,
    });
  }

  const yesNo = (c: 'fireAlarm' | 'sprinklers' | 'hydrants' | 'smokeControl'): boolean | null => {
    const v = parseYesNo(cells[c] ?? '');
    if (v !== 'invalid') return v;
    errors.push({
      field: col(c),
      code: 'yes_no_invalid',
      zh: `“${col(c)}”应填“是”或“否”，而不是“${cells[c] ?? ''}”`,
      en: `${col(c)} must be 是 (yes) or 否 (no), not "${cells[c] ?? ''}"`,
    });
    return null;
  };
  const rectification = parseRectification(cells.rectification ?? '');
  if (rectification === 'invalid') {
    errors.push({
      field: col('rectification'),
      code: 'rectification_invalid',
      zh: `“${col('rectification')}”应填“已整改”“未整改”或“整改中”，而不是“${cells.rectification ?? ''}”`,
      en: `${col('rectification')} must be 已整改 (rectified), 未整改 (not rectified) or 整改中 (in progress), not "${cells.rectification ?? ''}"`,
    });
  }
  const survey: BuildingSurvey = {
    no: text(cells.no),
    marketName,
    buildingName,
    fireAlarm: yesNo('fireAlarm'),
    sprinklers: yesNo('sprinklers'),
    hydrants: yesNo('hydrants'),
    smokeControl: yesNo('smokeControl'),
    hazards: text(cells.hazards),
    rectification: rectification === 'invalid' ? null : rectification,
    remarks: text(cells.remarks),
  };

  const contactPhone = text(cells.contactPhone);
  if (contactPhone !== null && (!/\d/.test(contactPhone) || contactPhone.length > LIMITS.contactPhone)) {
    errors.push({
      field: col('contactPhone'),
      code: 'phone_invalid',
      zh: `电话“${contactPhone}”不是电话号码（需含数字，最多 ${LIMITS.contactPhone} 个字符）`,
      en: `phone "${contactPhone}" is not a phone number (digits, at most ${LIMITS.contactPhone} characters)`,
    });
  }
  const address = text(cells.address);
  const contactName = text(cells.contactName);
  for (const [key, value, max] of [
    ['address', address, LIMITS.address],
    ['contactName', contactName, LIMITS.contactName],
    ['hazards', survey.hazards, LIMITS.long],
    ['remarks', survey.remarks, LIMITS.long],
  ] as const) {
    if (value !== null && value.length > max) {
      errors.push({ field: col(key), code: 'too_long', zh: `“${col(key)}”超过 ${max} 个字`, en: `${col(key)} is longer than ${max} characters` });
    }
  }

  if (errors.length > 0 || name === null || street === undefined) return { row, ok: false, name, errors };
  return {
    row,
    ok: true,
    building: {
      name,
      street,
      address,
      contactName,
      contactPhone,
      areaM2: areaM2 !== null && Number.isFinite(areaM2) ? areaM2 : null,
      floors: floors !== null && Number.isFinite(floors) ? floors : null,
      survey,
    },
  };
}

const HEADER_SEARCH_ROWS = 10;

export const isBlankRecord = (r: CsvRecord) => r.fields.every((f) => f.trim() === '');

/** Index of the header among the first records (a form may have a title line above it), or -1. */
export function findHeaderIndex(records: readonly CsvRecord[]): number {
  return records.slice(0, HEADER_SEARCH_ROWS).findIndex((r) => {
    const cols = r.fields.map(columnOf);
    return cols.includes('street') || cols.includes('marketName') || cols.includes('buildingName');
  });
}

/** Parsed CSV records → header, rows and their mapping. Blank records are skipped. */
export function mapSurveyRecords(records: readonly CsvRecord[]): SurveyParse {
  const blank = isBlankRecord;
  const headerIndex = findHeaderIndex(records);
  const header = headerIndex >= 0 ? records[headerIndex] : undefined;
  if (!header) {
    return {
      fileErrors: [
        {
          field: null,
          code: 'header_missing',
          zh: `找不到表头：前 ${HEADER_SEARCH_ROWS} 行中没有“${SURVEY_COLUMNS.street}”“${SURVEY_COLUMNS.marketName}”等列名`,
          en: `no header: none of the first ${HEADER_SEARCH_ROWS} lines has the survey's column names (${SURVEY_COLUMNS.street}, ${SURVEY_COLUMNS.marketName}, …)`,
        },
      ],
      headerRow: null,
      rows: [],
      ignoredColumns: [],
    };
  }
  const columns = header.fields.map(columnOf);
  const fileErrors: RowError[] = [];
  if (!columns.includes('street')) {
    fileErrors.push({ field: SURVEY_COLUMNS.street, code: 'column_missing', zh: `缺少“${SURVEY_COLUMNS.street}”列`, en: `the column ${SURVEY_COLUMNS.street} (street) is missing` });
  }
  if (!columns.includes('marketName') && !columns.includes('buildingName')) {
    fileErrors.push({
      field: SURVEY_COLUMNS.marketName,
      code: 'column_missing',
      zh: `缺少“${SURVEY_COLUMNS.marketName}”或“${SURVEY_COLUMNS.buildingName}”列`,
      en: `neither ${SURVEY_COLUMNS.marketName} (market name) nor ${SURVEY_COLUMNS.buildingName} (building name) is there`,
    });
  }
  const ignoredColumns = header.fields.filter((h, i) => columns[i] === undefined && h.trim() !== '');
  if (fileErrors.length > 0) return { fileErrors, headerRow: header.line, rows: [], ignoredColumns };

  const rows: SurveyRow[] = [];
  for (const record of records.slice(headerIndex + 1)) {
    if (blank(record)) continue;
    const cells: Partial<Record<SurveyColumn, string>> = {};
    columns.forEach((c, i) => {
      // the first column of a name wins if a form repeats one
      if (c !== undefined && cells[c] === undefined) cells[c] = record.fields[i] ?? '';
    });
    rows.push(mapSurveyRow(record.line, cells));
  }
  return { fileErrors, headerRow: header.line, rows, ignoredColumns };
}
