/**
 * Pure mapping between a Reading and InfluxDB: line protocol out, query rows back in. No I/O.
 *
 *   measurement  one per device kind (water_pressure, water_level, electrical_fire, fire_lane);
 *                the 'event' channel goes to device_event whatever the kind
 *   tags         device, building, street, point (empty ones omitted: InfluxDB rejects empty tag values)
 *   fields       snake_case of the camelCase reading fields (pressureMpa → pressure_mpa);
 *                temperaturesC[i] → temperature_c_{i+1}; seq → integer field `seq`
 *   time         reading.ts, epoch ms (writes use precision=ms)
 *
 * Escaping follows the line protocol reference (docs.influxdata.com/influxdb/v1.6/write_protocols/
 * line_protocol_reference/#special-characters): measurement `,` and space; tag keys, tag values and
 * field keys `,` `=` space; string field values `"` and `\`. InfluxDB 1.x does not unescape `\\` in
 * tags (checked against influxd 1.6.7: `a\\b` is stored as two backslashes), so a tag with a
 * backslash before a special character or at its end, or with a line break, cannot be written
 * faithfully; we refuse it (LineProtocolError) rather than store a different device id.
 * Numbers are floats except `seq`: a field's type is fixed per shard, and pressure 1 and 1.2 must
 * land in the same float field.
 */
import type { StoredReading } from '../sink.js';
import type { Channel, DeviceKind, Reading } from '../../telemetry/telemetry.js';

export const KIND_MEASUREMENTS = {
  water_pressure: 'water_pressure',
  water_level: 'water_level',
  electrical_fire: 'electrical_fire',
  fire_lane: 'fire_lane',
  uitd: 'uitd',
} as const satisfies Record<DeviceKind, string>;

export const EVENT_MEASUREMENT = 'device_event';

export const TAG_KEYS = ['device', 'building', 'street', 'point'] as const;

const TEMPERATURES_FIELD = 'temperaturesC';
const TEMPERATURE_COLUMN = /^temperature_c_([1-9][0-9]*)$/;

/** A reading that line protocol cannot carry; retrying will not help. */
export class LineProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineProtocolError';
  }
}

export function measurementFor(reading: Pick<Reading, 'kind' | 'channel'>): string {
  return reading.channel === 'event' ? EVENT_MEASUREMENT : KIND_MEASUREMENTS[reading.kind];
}

/** Measurements a query on `channel` must look in (ReadingQuery carries no kind). */
export function measurementsFor(channel: Channel): readonly string[] {
  return channel === 'event' ? [EVENT_MEASUREMENT] : Object.values(KIND_MEASUREMENTS);
}

export function escapeMeasurement(name: string): string {
  return name.replace(/[, ]/g, (c) => `\\${c}`);
}

export function escapeTag(value: string): string {
  if (/[\r\n]/.test(value) || /\\(?=[, =]|$)/.test(value)) {
    throw new LineProtocolError(
      `tag ${JSON.stringify(value)} cannot be written: InfluxDB line protocol has no escape for a line break or a backslash before ',', '=', ' ' or the end`,
    );
  }
  return value.replace(/[, =]/g, (c) => `\\${c}`);
}

export function escapeStringField(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** An InfluxQL string literal: single quotes, `\` and `'` escaped (InfluxQL spec, "Strings"). */
export function influxqlString(value: string): string {
  return `'${value.replace(/['\\]/g, (c) => `\\${c}`)}'`;
}

/** An InfluxQL identifier in double quotes. */
export function influxqlIdentifier(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function toCamelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function floatValue(key: string, value: number): string {
  if (!Number.isFinite(value)) throw new LineProtocolError(`field ${key}=${value} is not a finite number`);
  return String(value);
}

function fieldValue(key: string, value: unknown): string {
  if (typeof value === 'number') return floatValue(key, value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return escapeStringField(value);
  throw new LineProtocolError(`field ${key} has a value of type ${typeof value} that line protocol cannot carry`);
}

/** snake_case field → line protocol value, in the reading's field order. */
export function readingFields(reading: Reading): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(reading.fields)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      if (name !== TEMPERATURES_FIELD) {
        throw new LineProtocolError(`array field ${name} has no InfluxDB mapping (only ${TEMPERATURES_FIELD})`);
      }
      value.forEach((t, i) => out.push([`temperature_c_${i + 1}`, floatValue(`${name}[${i}]`, t)]));
      continue;
    }
    const key = toSnakeCase(name);
    out.push([key, fieldValue(key, value)]);
  }
  if (reading.seq !== undefined) {
    if (!Number.isSafeInteger(reading.seq)) throw new LineProtocolError(`seq ${reading.seq} is not an integer`);
    out.push(['seq', `${reading.seq}i`]);
  }
  return out;
}

export function readingTags(reading: Reading): Array<[string, string]> {
  const tags: Array<[string, string | undefined]> = [
    ['device', reading.deviceId],
    ['building', reading.buildingId],
    ['street', reading.street],
    ['point', reading.point],
  ];
  return tags.filter((t): t is [string, string] => t[1] !== undefined && t[1] !== '');
}

/** One line of line protocol, timestamp in ms. Throws LineProtocolError for what cannot be written. */
export function readingToLine(reading: Reading): string {
  if (!Number.isSafeInteger(reading.ts)) throw new LineProtocolError(`ts ${reading.ts} is not an integer epoch ms`);
  const fields = readingFields(reading);
  if (fields.length === 0) throw new LineProtocolError(`reading of ${reading.deviceId} at ${reading.ts} has no fields`);
  // Tags sorted by key: InfluxDB recommends it for write performance (line protocol tutorial, "Tags").
  const tags = readingTags(reading)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `,${escapeTag(k)}=${escapeTag(v)}`)
    .join('');
  const fieldText = fields.map(([k, v]) => `${escapeTag(k)}=${v}`).join(',');
  return `${escapeMeasurement(measurementFor(reading))}${tags} ${fieldText} ${reading.ts}`;
}

export function readingsToLines(readings: readonly Reading[]): string[] {
  return readings.map(readingToLine);
}

/**
 * A query row (column → value; `time` in epoch ms) back to the shape the pipeline stored.
 * Tag columns and nulls (fields another row of the same measurement has) are left out.
 */
export function rowToStoredReading(row: Readonly<Record<string, unknown>>): StoredReading {
  const time = row.time;
  if (typeof time !== 'number') throw new LineProtocolError(`query row without a numeric time: ${JSON.stringify(time)}`);
  const fields: Record<string, unknown> = {};
  const temperatures: Array<[number, number]> = [];
  let seq: number | undefined;
  for (const [column, value] of Object.entries(row)) {
    if (column === 'time' || value === null || value === undefined) continue;
    if ((TAG_KEYS as readonly string[]).includes(column)) continue;
    if (column === 'seq') {
      if (typeof value === 'number') seq = value;
      continue;
    }
    const t = TEMPERATURE_COLUMN.exec(column);
    if (t && typeof value === 'number') {
      temperatures.push([Number(t[1]), value]);
      continue;
    }
    fields[toCamelCase(column)] = value;
  }
  if (temperatures.length > 0) {
    fields[TEMPERATURES_FIELD] = temperatures.sort(([a], [b]) => a - b).map(([, v]) => v);
  }
  return { ts: time, ...(seq !== undefined ? { seq } : {}), fields };
}

/** InfluxDB 1.x JSON series ({ columns, values }) → rows keyed by column. */
export function seriesToRows(series: { columns: readonly string[]; values?: ReadonlyArray<readonly unknown[]> }): Array<Record<string, unknown>> {
  return (series.values ?? []).map((values) => {
    const row: Record<string, unknown> = {};
    series.columns.forEach((c, i) => {
      row[c] = values[i];
    });
    return row;
  });
}

/** Newest first across several series; ties keep their order. */
export function newestFirst(readings: StoredReading[], limit: number): StoredReading[] {
  return readings.sort((a, b) => b.ts - a.ts).slice(0, Math.max(0, limit));
}
