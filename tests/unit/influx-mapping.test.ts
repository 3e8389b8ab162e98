/**
 * Pure mapping Reading ⇄ InfluxDB: line protocol text, escaping, and query rows back to the
 * pipeline's field shape. The client library's own escapers serve as an independent oracle.
 */
import { escape as clientEscape } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import {
  EVENT_MEASUREMENT,
  LineProtocolError,
  escapeMeasurement,
  escapeStringField,
  escapeTag,
  influxqlString,
  measurementFor,
  measurementsFor,
  msRangeToNs,
  nsToEpochMs,
  pointOffsetNs,
  pointTimeNs,
  readingFields,
  readingToLine,
  rfc3339ToEpochMs,
  rowToStoredReading,
  seriesToRows,
  toCamelCase,
  toSnakeCase,
} from '../../services/storage/influx/influx-mapping.js';
import type { Reading } from '../../services/telemetry/telemetry.js';

const TS = Date.UTC(2025, 5, 1, 8, 0, 0);
/** TS in epoch ns at offset 0 of its millisecond (what a reading without logId and seq gets). */
const TS_NS = `${TS}000000`;

function r(partial: Partial<Reading> & Pick<Reading, 'kind' | 'fields'>): Reading {
  return { deviceId: 'wp-001', channel: 'telemetry', ts: TS, ...partial };
}

describe('measurements', () => {
  it('maps each kind to its own measurement and every event to device_event', () => {
    expect(measurementFor({ kind: 'water_pressure', channel: 'telemetry' })).toBe('water_pressure');
    expect(measurementFor({ kind: 'water_level', channel: 'telemetry' })).toBe('water_level');
    expect(measurementFor({ kind: 'electrical_fire', channel: 'telemetry' })).toBe('electrical_fire');
    expect(measurementFor({ kind: 'fire_lane', channel: 'telemetry' })).toBe('fire_lane');
    expect(measurementFor({ kind: 'fire_lane', channel: 'event' })).toBe(EVENT_MEASUREMENT);
    expect(measurementsFor('event')).toEqual(['device_event']);
    expect(measurementsFor('telemetry')).toEqual(['water_pressure', 'water_level', 'electrical_fire', 'fire_lane', 'uitd']);
  });
});

describe('readingToLine', () => {
  it('writes sorted tags, snake_case float fields, an integer seq and a ns timestamp', () => {
    const line = readingToLine(
      r({ kind: 'water_pressure', fields: { pressureMpa: 0.35 }, seq: 17, buildingId: 'B-1', street: 'Jiefangbei', point: 'hydrant_top' }),
    );
    expect(line).toBe(`water_pressure,building=B-1,device=wp-001,point=hydrant_top,street=Jiefangbei pressure_mpa=0.35,seq=17i ${TS}000017`);
  });

  it('keeps integer-valued numbers as floats (no i suffix) so the field type never changes', () => {
    expect(readingToLine(r({ kind: 'water_level', fields: { levelM: 12 } }))).toBe(`water_level,device=wp-001 level_m=12 ${TS_NS}`);
  });

  it('omits empty and absent tags', () => {
    const line = readingToLine(r({ kind: 'fire_lane', fields: { occupied: true }, street: '', buildingId: 'B-2' }));
    expect(line).toBe(`fire_lane,building=B-2,device=wp-001 occupied=true ${TS_NS}`);
  });

  it('escapes spaces, commas and equals signs in tags and leaves Chinese text as it is', () => {
    const line = readingToLine(r({ kind: 'fire_lane', fields: { occupied: false }, deviceId: 'lane 1,a=b', street: '解放碑 街道,渝中区' }));
    expect(line).toBe(`fire_lane,device=lane\\ 1\\,a\\=b,street=解放碑\\ 街道\\,渝中区 occupied=false ${TS_NS}`);
  });

  it('splits temperaturesC into temperature_c_1..n beside residual_current_ma', () => {
    const line = readingToLine(r({ kind: 'electrical_fire', fields: { residualCurrentMa: 120, temperaturesC: [40.5, 41, 42, 43.25] } }));
    expect(line).toBe(
      `electrical_fire,device=wp-001 residual_current_ma=120,temperature_c_1=40.5,temperature_c_2=41,temperature_c_3=42,temperature_c_4=43.25 ${TS_NS}`,
    );
  });

  it('writes events to device_event with quoted, escaped string fields', () => {
    const line = readingToLine(
      r({ kind: 'water_pressure', channel: 'event', seq: 3, fields: { alarm: true, fault: false, code: 'E 1', message: 'say "hi" C:\\temp 低压' } }),
    );
    expect(line).toBe(`device_event,device=wp-001 alarm=true,fault=false,code="E 1",message="say \\"hi\\" C:\\\\temp 低压",seq=3i ${TS}000003`);
  });

  it('refuses what line protocol cannot carry', () => {
    const bad: Array<[string, Reading]> = [
      ['line break in a tag', r({ kind: 'fire_lane', fields: { occupied: true }, street: 'a\nb' })],
      ['trailing backslash in a tag', r({ kind: 'fire_lane', fields: { occupied: true }, deviceId: 'dev\\' })],
      ['backslash before a space', r({ kind: 'fire_lane', fields: { occupied: true }, deviceId: 'dev\\ x' })],
      ['NaN', r({ kind: 'water_level', fields: { levelM: Number.NaN } })],
      ['Infinity in an array', r({ kind: 'electrical_fire', fields: { temperaturesC: [1, Number.POSITIVE_INFINITY] } })],
      ['an unknown array field', r({ kind: 'electrical_fire', fields: { currents: [1, 2] } })],
      ['no fields at all', r({ kind: 'water_level', fields: {} })],
      ['a fractional ts', r({ kind: 'water_level', fields: { levelM: 1 }, ts: TS + 0.5 })],
    ];
    for (const [label, reading] of bad) expect(() => readingToLine(reading), label).toThrow(LineProtocolError);
  });

  it('accepts a backslash inside a tag that is not before a special character', () => {
    expect(readingToLine(r({ kind: 'fire_lane', fields: { occupied: true }, deviceId: 'a\\b' }))).toBe(
      `fire_lane,device=a\\b occupied=true ${TS_NS}`,
    );
  });
});

describe('point time: ts ms * 10^6 + (logId mod 10^6) ns', () => {
  const base = r({ kind: 'water_pressure', fields: { pressureMpa: 0.3 } });

  it('gives readings of one device in the same millisecond with different logIds different times', () => {
    const logIds = [0, 1, 2, 41_999_998, 42_000_003, 999_999, 7_123_456];
    const times = logIds.map((logId) => pointTimeNs({ ...base, logId }));
    expect(new Set(times).size).toBe(logIds.length);
    expect(pointTimeNs({ ...base, logId: 7_123_456 })).toBe(`${TS}123456`);
    expect(pointTimeNs({ ...base, logId: 999_999 })).toBe(`${TS}999999`);
    // A seq of its own does not matter once the log assigned a position.
    expect(pointTimeNs({ ...base, logId: 3, seq: 17 })).toBe(`${TS}000003`);
  });

  it('gives the same logId the same time on every replay, whatever else the copy carries', () => {
    const first = { ...base, logId: 123_456_789, seq: 4, receivedAt: TS + 5 };
    const replay = { ...base, logId: 123_456_789, seq: 4, receivedAt: TS + 90_000, serverTs: true };
    expect(pointTimeNs(replay)).toBe(pointTimeNs(first));
    expect(readingToLine(replay)).toBe(readingToLine(first));
    expect(readingToLine(first)).toBe(`water_pressure,device=wp-001 pressure_mpa=0.3,seq=4i ${TS}456789`);
  });

  it('collides only for log positions a multiple of 10^6 apart in the same millisecond (the residual case)', () => {
    expect(pointTimeNs({ ...base, logId: 5 })).toBe(pointTimeNs({ ...base, logId: 1_000_005 }));
    expect(pointTimeNs({ ...base, logId: 5 })).toBe(pointTimeNs({ ...base, logId: 3_000_005 }));
    expect(pointTimeNs({ ...base, logId: 5 })).not.toBe(pointTimeNs({ ...base, logId: 1_000_004 }));
    expect(pointTimeNs({ ...base, logId: 5 })).not.toBe(pointTimeNs({ ...base, ts: TS + 1, logId: 1_000_005 }));
  });

  it('without a logId uses seq mod 10^6, and 0 without a seq: deterministic', () => {
    expect(pointOffsetNs({})).toBe(0);
    expect(pointOffsetNs({ seq: 42 })).toBe(42);
    expect(pointOffsetNs({ seq: 1_000_042 })).toBe(42);
    expect(pointOffsetNs({ logId: 7, seq: 42 })).toBe(7);
    expect(pointTimeNs(base)).toBe(TS_NS);
    expect(pointTimeNs({ ...base, seq: 9 })).toBe(pointTimeNs({ ...base, seq: 9 }));
  });

  it('is exact beyond 2^53 (BigInt, not float arithmetic)', () => {
    const ts = 4_102_444_799_999; // 2099-12-31T23:59:59.999Z
    expect(Number.isSafeInteger(ts * 1_000_000)).toBe(false);
    expect(pointTimeNs({ ...base, ts, logId: 999_999 })).toBe('4102444799999999999');
    expect(pointTimeNs({ ...base, ts, logId: 1 })).toBe('4102444799999000001');
  });

  it('round-trips to the reading\'s ms: floor(ns / 10^6) = ts for every offset', () => {
    for (const ts of [TS, TS + 1, TS - 1, 946_684_800_000, 4_102_444_799_999, 0, -1, -1_000]) {
      for (const logId of [0, 1, 499_999, 500_000, 999_999, 1_000_000, 98_765_432_109]) {
        const ns = pointTimeNs({ ...base, ts, logId });
        expect(nsToEpochMs(ns), `${ts}/${logId}`).toBe(ts);
        expect(nsToEpochMs(BigInt(ns)), `${ts}/${logId}`).toBe(ts);
      }
    }
  });

  it('refuses a logId that is not a non-negative integer, and a ts outside InfluxDB\'s time range', () => {
    for (const logId of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => readingToLine({ ...base, logId }), String(logId)).toThrow(LineProtocolError);
    }
    expect(() => pointTimeNs({ ...base, ts: 9_223_372_036_855 })).toThrow(LineProtocolError);
    expect(() => pointTimeNs({ ...base, ts: -9_223_372_036_855 })).toThrow(LineProtocolError);
    expect(pointTimeNs({ ...base, ts: 9_223_372_036_854 })).toBe('9223372036854000000');
  });
});

describe('query bounds and times back in ms', () => {
  it('covers a whole millisecond: from at its first ns, to at its last', () => {
    expect(msRangeToNs(TS, TS)).toEqual({ from: `${TS}000000`, to: `${TS}999999` });
    expect(msRangeToNs(undefined, TS)).toEqual({ to: `${TS}999999` });
    expect(msRangeToNs(TS, undefined)).toEqual({ from: `${TS}000000` });
    expect(msRangeToNs(undefined, undefined)).toEqual({});
    const { from, to } = msRangeToNs(TS, TS);
    for (const logId of [0, 1, 999_999]) {
      const ns = BigInt(pointTimeNs({ ts: TS, logId }));
      expect(ns >= BigInt(from ?? '') && ns <= BigInt(to ?? '')).toBe(true);
    }
  });

  it('rounds fractional bounds inward, as an integer ts compares with them', () => {
    expect(msRangeToNs(TS + 0.5, TS + 1.5)).toEqual({ from: `${TS + 1}000000`, to: `${TS + 1}999999` });
    expect(() => msRangeToNs(Number.NaN, undefined)).toThrow(RangeError);
    expect(() => msRangeToNs(undefined, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('reads Flux RFC 3339 times with up to 9 fraction digits as epoch ms, floor', () => {
    const iso = new Date(TS).toISOString().replace('.000Z', '');
    expect(rfc3339ToEpochMs(`${iso}Z`)).toBe(TS);
    expect(rfc3339ToEpochMs(`${iso}.5Z`)).toBe(TS + 500);
    expect(rfc3339ToEpochMs(`${iso}.000000001Z`)).toBe(TS);
    expect(rfc3339ToEpochMs(`${iso}.000999999Z`)).toBe(TS);
    expect(rfc3339ToEpochMs(`${iso}.001000000Z`)).toBe(TS + 1);
    expect(rfc3339ToEpochMs(`${iso}.999999999Z`)).toBe(TS + 999);
    expect(() => rfc3339ToEpochMs('yesterday')).toThrow(LineProtocolError);
  });
});

describe('escapers agree with @influxdata/influxdb-client', () => {
  const samples = ['plain', 'with space', 'a,b', 'k=v', '解放碑 步行街', ' lead,=trail ', '渝中区,七星岗'];
  it.each(samples)('tag %j', (s) => {
    expect(escapeTag(s)).toBe(clientEscape.tag(s));
  });
  it.each(['water_pressure', 'a b,c'])('measurement %j', (s) => {
    expect(escapeMeasurement(s)).toBe(clientEscape.measurement(s));
  });
  it.each(['', 'plain', 'say "hi"', 'C:\\temp\\', '多行\n文本'])('string field %j', (s) => {
    expect(escapeStringField(s)).toBe(clientEscape.quoted(s));
  });
});

describe('InfluxQL literals', () => {
  it('escapes quotes and backslashes in string literals', () => {
    expect(influxqlString("it's")).toBe("'it\\'s'");
    expect(influxqlString('a\\b')).toBe("'a\\\\b'");
    expect(influxqlString("x' OR '1'='1")).toBe("'x\\' OR \\'1\\'=\\'1'");
  });
});

describe('rows back to readings', () => {
  it('converts snake_case columns back to the camelCase fields, drops tags and nulls', () => {
    const rows = seriesToRows({
      columns: ['time', 'building', 'device', 'residual_current_ma', 'seq', 'street', 'temperature_c_2', 'temperature_c_1', 'point'],
      values: [
        [TS, 'B-1', 'ef-1', 300, 5, '解放碑', 41, 40, null],
        [TS - 1000, null, 'ef-1', 12.5, null, null, null, null, null],
      ],
    });
    expect(rows.map(rowToStoredReading)).toEqual([
      { ts: TS, seq: 5, fields: { residualCurrentMa: 300, temperaturesC: [40, 41] } },
      { ts: TS - 1000, fields: { residualCurrentMa: 12.5 } },
    ]);
  });

  it('orders temperature channels numerically', () => {
    const row = { time: TS, temperature_c_4: 4, temperature_c_2: 2, temperature_c_1: 1 };
    // channel 3 has no value (rejected on its own): its position is kept as null
    expect(rowToStoredReading(row).fields).toEqual({ temperaturesC: [1, 2, null, 4] });
  });

  it('round-trips every field shape through the line protocol values', () => {
    const readings: Reading[] = [
      r({ kind: 'water_pressure', fields: { pressureMpa: -0.05 }, seq: 1 }),
      r({ kind: 'water_level', fields: { levelM: 320 } }),
      r({ kind: 'electrical_fire', fields: { residualCurrentMa: 29_999.5, temperaturesC: [-50, 999.9] }, seq: Number.MAX_SAFE_INTEGER }),
      r({ kind: 'electrical_fire', fields: { residualCurrentMa: 120, temperaturesC: [41, null, 43] } }),
      r({ kind: 'fire_lane', fields: { occupied: true }, seq: 0 }),
      r({ kind: 'water_level', channel: 'event', fields: { alarm: false, fault: true, code: 'F"2', message: '水位\\低 "x"' } }),
    ];
    for (const reading of readings) {
      const row: Record<string, unknown> = { time: reading.ts, device: reading.deviceId };
      for (const [key, text] of readingFields(reading)) row[key] = decodeFieldValue(text);
      expect(rowToStoredReading(row)).toEqual({ ts: reading.ts, ...(reading.seq !== undefined ? { seq: reading.seq } : {}), fields: reading.fields });
    }
  });

  it('maps the field names both ways', () => {
    for (const name of ['pressureMpa', 'levelM', 'residualCurrentMa', 'occupied', 'alarm', 'fault', 'code', 'message']) {
      expect(toCamelCase(toSnakeCase(name))).toBe(name);
    }
    expect(toSnakeCase('residualCurrentMa')).toBe('residual_current_ma');
  });
});

/** The inverse of our field value encoding (what InfluxDB hands back as JSON). */
function decodeFieldValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (text.endsWith('i')) return Number(text.slice(0, -1));
  if (text.startsWith('"')) return text.slice(1, -1).replace(/\\(["\\])/g, '$1');
  return Number(text);
}
