/** CSV parsing, the survey row mapping and the coverage rules: pure modules of issue #5. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coverageCsvRows, coverageOf, coverageReasons, summarise, type CoverageBuilding } from '../../services/coverage/coverage.js';
import { mapSurveyRecords, mapSurveyRow, normaliseStreet, parseArea, parseFloors, parseYesNo } from '../../services/import/survey-csv.js';
import { decodeCsvBytes, parseCsv, stringifyCsv } from '../../services/shared/csv.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'market-survey.csv');

describe('parseCsv', () => {
  it('handles BOM, CRLF, quoted commas, doubled quotes and line breaks, with record lines', () => {
    const r = parseCsv('\uFEFFa,b,c\r\n1,"x, ""y""",3\r\n2,"two\r\nlines",4\n\n5,6,7');
    expect(r.error).toBeUndefined();
    expect(r.records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, "y"', '3'] },
      { line: 3, fields: ['2', 'two\r\nlines', '4'] },
      { line: 5, fields: [''] },
      { line: 6, fields: ['5', '6', '7'] },
    ]);
  });

  it('reports an unclosed quote', () => {
    const r = parseCsv('a,b\n1,"open\n2,3\n');
    expect(r.error).toMatchObject({ line: 2 });
  });

  it('round-trips through stringifyCsv', () => {
    const rows = [['名称', 'x'], ['a,b', 'say "hi"'], ['multi\nline', ' padded ']];
    expect(parseCsv(stringifyCsv(rows)).records.map((r) => r.fields)).toEqual(rows);
  });

  it('decodes UTF-8 with BOM, UTF-8, and GB18030 (Excel in China)', () => {
    const gbk = Buffer.from([0xcb, 0xf9, 0xca, 0xf4, 0xbd, 0xd6, 0xb5, 0xc0]); // 所属街道
    expect(decodeCsvBytes(gbk)).toEqual({ text: '所属街道', encoding: 'gb18030' });
    expect(decodeCsvBytes(Buffer.from('\uFEFF所属街道', 'utf8'))).toEqual({ text: '所属街道', encoding: 'utf-8' });
    expect(decodeCsvBytes(Buffer.from('所属街道', 'utf8')).text).toBe('所属街道');
  });
});

describe('survey cells', () => {
  it('streets with or without 街道, and only the 11 of Yuzhong', () => {
    expect(normaliseStreet('解放碑街道')).toBe('解放碑');
    expect(normaliseStreet(' 解放碑 ')).toBe('解放碑');
    expect(normaliseStreet('渝中区大坪街道办事处')).toBe('大坪');
    expect(normaliseStreet('观音桥')).toBeUndefined();
  });

  it('是/否, areas and floors', () => {
    expect([parseYesNo('是'), parseYesNo('否'), parseYesNo(''), parseYesNo('有'), parseYesNo('不清楚')]).toEqual([true, false, null, true, 'invalid']);
    expect([parseArea('1,788'), parseArea('530㎡'), parseArea('1050 平方米'), parseArea('')]).toEqual([1788, 530, 1050, null]);
    expect(parseArea('abc')).toBeNaN();
    expect([parseFloors('29'), parseFloors('7层'), parseFloors('')]).toEqual([29, 7, null]);
    expect(parseFloors('二十')).toBeNaN();
  });

  it('a row with several problems lists them all, in Chinese and English', () => {
    const r = mapSurveyRow(9, { street: '观音桥', areaM2: '-5', floors: '0', fireAlarm: '不清楚', contactPhone: '没有' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.code)).toEqual(['name_missing', 'street_unknown', 'area_invalid', 'floors_invalid', 'yes_no_invalid', 'phone_invalid']);
    for (const e of r.errors) {
      expect(e.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(e.en).toMatch(/[a-z]/);
    }
  });

  it('the building name stands in when the market name is empty', () => {
    const r = mapSurveyRow(2, { buildingName: '某大厦', street: '大坪' });
    expect(r).toMatchObject({ ok: true, building: { name: '某大厦', street: '大坪', survey: { marketName: null, buildingName: '某大厦' } } });
  });

  it('整改情况 (optional, or its aliases) is kept as survey.rectification; a value that is neither fails the row', () => {
    const csv = (col: string, v: string) => mapSurveyRecords(parseCsv(`商市场名称,所属街道,排查发现的消防安全隐患,${col}\n某市场,大坪,堵塞疏散通道,${v}\n`).records).rows[0];
    expect(csv('整改情况', '已整改')).toMatchObject({ ok: true, building: { survey: { hazards: '堵塞疏散通道', rectification: 'rectified' } } });
    expect(csv('是否整改', '否')).toMatchObject({ ok: true, building: { survey: { rectification: 'pending' } } });
    expect(csv('整改状态', '')).toMatchObject({ ok: true, building: { survey: { rectification: null } } });
    expect(mapSurveyRow(2, { marketName: '某市场', street: '大坪' })).toMatchObject({ ok: true, building: { survey: { rectification: null } } });
    const bad = csv('整改情况', '看情况');
    expect(bad).toMatchObject({ ok: false, errors: [{ field: '整改情况', code: 'rectification_invalid' }] });
  });
});

describe('the fixture file', () => {
  const parsed = mapSurveyRecords(parseCsv(decodeCsvBytes(readFileSync(FIXTURE)).text).records);

  it('maps the three sample rows from the district plan (docs/district-plan.md)', () => {
    expect(parsed.fileErrors).toEqual([]);
    const good = parsed.rows.filter((r) => r.ok);
    expect(good.map((r) => (r.ok ? [r.row, r.building.name, r.building.street, r.building.floors, r.building.areaM2] : []))).toEqual([
      [2, '十八梯综合大楼', '南纪门', 29, 1788],
      [3, '解放西路121号住宅楼', '解放碑', 7, 1050],
      [5, '解放碑地下人防工程', '解放碑', 1, 530],
    ]);
    const second = good[1];
    expect(second?.ok && second.building.survey).toMatchObject({ fireAlarm: true, sprinklers: false, hydrants: true, smokeControl: false, remarks: '底层商铺\n与住宅共用楼梯' });
  });

  it('reports the bad rows by line with their reasons', () => {
    const bad = parsed.rows.filter((r) => !r.ok);
    expect(bad.map((r) => [r.row, r.ok ? [] : r.errors.map((e) => e.code)])).toEqual([
      [6, ['street_unknown']],
      [7, ['name_missing', 'area_invalid']],
      [8, ['floors_invalid', 'yes_no_invalid']],
    ]);
  });

  it('finds a header below a title line; a file without the street column is refused', () => {
    const withTitle = mapSurveyRecords(parseCsv('附件1.3.2 商市场消防安全排查表,,\n商市场名称,所属街道,面积\n某市场,大坪,100\n').records);
    expect(withTitle.headerRow).toBe(2);
    expect(withTitle.rows).toMatchObject([{ row: 3, ok: true }]);
    const noStreet = mapSurveyRecords(parseCsv('商市场名称,面积\n某市场,100\n').records);
    expect(noStreet.fileErrors.map((e) => e.code)).toEqual(['column_missing']);
  });
});

describe('coverage', () => {
  const b = (over: Partial<CoverageBuilding>): CoverageBuilding => ({
    id: 'b1',
    name: 'B',
    street: '解放碑',
    use: 'office',
    type: 'public',
    heightM: 20,
    floors: null,
    areaM2: null,
    ...over,
  });

  it('who the plan requires: complexes > 20,000 m², markets > 10,000 m², high-rises', () => {
    expect(coverageReasons(b({ use: 'complex', areaM2: 230000, heightM: 288 }))).toEqual(['complex>20000m2', 'high_rise']);
    expect(coverageReasons(b({ use: 'complex', areaM2: 20000 }))).toEqual([]);
    expect(coverageReasons(b({ use: 'market', areaM2: 12000 }))).toEqual(['market>10000m2']);
    expect(coverageReasons(b({ use: 'market', areaM2: 9000 }))).toEqual([]);
    expect(coverageReasons(b({ type: 'residential', heightM: 27 }))).toEqual([]);
    expect(coverageReasons(b({ type: 'residential', heightM: 28 }))).toEqual(['high_rise']);
    expect(coverageReasons(b({ heightM: null, floors: 7 }))).toEqual(['high_rise']); // 7 × 3.6 m = 25.2 m
  });

  it('required, online and missing kinds', () => {
    const item = coverageOf(b({ use: 'complex', areaM2: 50000, heightM: 10 }), [
      { kind: 'water_pressure', online: true },
      { kind: 'electrical_fire', online: false },
    ]);
    expect(item).toMatchObject({
      reasons: ['complex>20000m2'],
      required: ['water_pressure', 'water_level', 'electrical_fire', 'fire_lane'],
      registered: ['water_pressure', 'electrical_fire'],
      online: ['water_pressure'],
      missing: ['water_level', 'electrical_fire', 'fire_lane'],
    });
    expect(coverageOf(b({ heightM: 10 }), [])).toBeUndefined();
    const market = coverageOf(b({ use: 'market', areaM2: 15000, heightM: 10 }), []);
    expect(market?.required).toEqual(['water_pressure', 'electrical_fire']);
  });

  it('summary per street and CSV rows', () => {
    const items = [
      coverageOf(b({ id: 'a', heightM: 50 }), [{ kind: 'water_pressure', online: true }, { kind: 'electrical_fire', online: true }, { kind: 'fire_lane', online: true }])!,
      coverageOf(b({ id: 'c', heightM: 50 }), [])!,
    ];
    const [s, empty] = summarise(items, ['解放碑', '大坪']);
    expect(s).toMatchObject({ street: '解放碑', buildings: 2, covered: 1, partial: 0, uncovered: 1, missingByKind: { water_pressure: 1, fire_lane: 1 } });
    expect(empty).toMatchObject({ street: '大坪', buildings: 0 });
    const rows = coverageCsvRows(items);
    expect(rows[0]?.[0]).toBe('街道 street');
    expect(rows[2]?.[7]).toBe('消防水压(water_pressure); 电气火灾(electrical_fire); 消防车道(fire_lane)');
  });
});
