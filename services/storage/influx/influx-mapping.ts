/**
 * Pure mapping between a Reading and InfluxDB: line protocol out, query rows back in. No I/O.
 *
 *   measurement  one per device kind (water_pressure, water_level, electrical_fire, fire_lane);
 *                the 'event' channel goes to device_event whatever the kind
 *   tags         device, building, street, point (empty ones omitted: InfluxDB rejects empty tag values)
 *   fields       snake_case of the camelCase reading fields (pressureMpa → pressure_mpa);
 *                temperaturesC[i] → temperature_c_{i+1}; seq → integer field `seq`
 *   time         epoch NANOseconds: reading.ts * 10^6 + (logId mod 10^6); writes use precision=ns
 *
 * Why the time is not simply reading.ts in ms: InfluxDB identifies a point by measurement + tag set
 * + time, and writing a point that exists overwrites it (the field sets merge, the new values win).
 * Two readings of one device in the same millisecond are common (a reading without a device
 * timestamp gets the server's receive time, and a burst read from one socket shares it), and at
 * precision=ms they became one point: 200 acknowledged readings gave 64 points. So each reading gets
 * its own nanosecond inside its millisecond, taken from its position in the durable log (`logId`):
 * unique across readings, so readings do not merge, and the same on every replay, so a replay
 * overwrites the point written before instead of adding one (idempotent).
 *
 * The residual case, plainly: two readings of one device (same measurement and tags) still become
 * one point if, and only if, they carry the same millisecond AND their log positions differ by a
 * multiple of 10^6 (exactly 1 000 000, 2 000 000, … positions apart in the log). Readings a million
 * log positions apart rarely share a millisecond, but nothing rules it out (a device with a stuck
 * clock sending a fixed ts); then the later one overwrites the earlier.
 *
 * A reading without a logId (tests construct them) uses seq mod 10^6 instead, or 0 when it has no
 * seq either: deterministic, so replaying it is idempotent too, but two such readings of one device
 * in one millisecond with the same seq (or both without one) are one point, as they were before.
 * Points written before this change sit at offset 0 of their millisecond; a replay of such a
 * reading now lands at its logId offset, beside the old point, unless logId mod 10^6 is 0.
 *
 * Inside one millisecond InfluxDB orders points by that offset, logId mod 10^6: log order, except
 * across a multiple of 10^6 (…999 999 sorts after …000 000); newestFirst() only orders by ms.
 *
 * Queries read the time back as epoch ms, floor(ns / 10^6), which is reading.ts again (the v1
 * store asks for epoch=ms, the v2 store cuts Flux's RFC 3339 ns to ms); a `to` bound in ms covers
 * its whole millisecond, up to to * 10^6 + 999 999 ns (msRangeToNs). ts * 10^6 exceeds 2^53, so the
 * nanosecond arithmetic is BigInt and the time goes out as decimal text.
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
import type { StoredReading } from '../reading-store.js';
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
      // a channel rejected on its own is null: no field for it, the others keep their numbers
      value.forEach((t, i) => {
        if (t !== null) out.push([`temperature_c_${i + 1}`, floatValue(`${name}[${i}]`, t)]);
      });
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

/** How many distinct point times one millisecond holds at precision=ns. */
export const NS_PER_MS = 1_000_000;
const NS_PER_MS_BIG = BigInt(NS_PER_MS);
/** InfluxDB's time range (int64 ns minus the two sentinel values; 1.x line protocol reference). */
const MIN_TIME_NS = -9_223_372_036_854_775_806n;
const MAX_TIME_NS = 9_223_372_036_854_775_806n;

function offsetOf(label: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new LineProtocolError(`${label} ${value} is not a non-negative integer`);
  return value % NS_PER_MS;
}

/**
 * The nanosecond of its millisecond that a reading's point gets: logId mod 10^6; without a logId,
 * seq mod 10^6; without either, 0. See the header for why.
 */
export function pointOffsetNs(reading: Pick<Reading, 'logId' | 'seq'>): number {
  if (reading.logId !== undefined) return offsetOf('logId', reading.logId);
  if (reading.seq !== undefined) return offsetOf('seq', reading.seq);
  return 0;
}

/** The point's time in epoch ns, as decimal text: ts * 10^6 + pointOffsetNs. */
export function pointTimeNs(reading: Pick<Reading, 'ts' | 'logId' | 'seq'>): string {
  if (!Number.isSafeInteger(reading.ts)) throw new LineProtocolError(`ts ${reading.ts} is not an integer epoch ms`);
  const ns = BigInt(reading.ts) * NS_PER_MS_BIG + BigInt(pointOffsetNs(reading));
  if (ns < MIN_TIME_NS || ns > MAX_TIME_NS) throw new LineProtocolError(`ts ${reading.ts} is outside InfluxDB's time range`);
  return ns.toString();
}

/** Epoch ns (decimal text or bigint) → the epoch ms it lies in: floor(ns / 10^6). */
export function nsToEpochMs(ns: string | bigint): number {
  const big = typeof ns === 'bigint' ? ns : BigInt(ns);
  let ms = big / NS_PER_MS_BIG; // truncates toward zero
  if (big < 0n && ms * NS_PER_MS_BIG !== big) ms -= 1n;
  return Number(ms);
}

/**
 * Inclusive ms bounds → inclusive ns bounds as decimal text: `from` starts at the first ns of its
 * millisecond, `to` ends at the last (to * 10^6 + 999 999), so every point whose ts lies in
 * [from, to] is in. Fractional bounds round inward, as an integer ts compares with them.
 */
export function msRangeToNs(from: number | undefined, to: number | undefined): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  if (from !== undefined) out.from = (BigInt(Math.ceil(finiteBound(from))) * NS_PER_MS_BIG).toString();
  if (to !== undefined) out.to = (BigInt(Math.floor(finiteBound(to))) * NS_PER_MS_BIG + NS_PER_MS_BIG - 1n).toString();
  return out;
}

function finiteBound(value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`time bound ${value} is not a finite epoch ms`);
  return value;
}

/**
 * An RFC 3339 time as Flux returns it (`2025-06-01T08:00:00.000000123Z`, up to 9 fraction digits)
 * → epoch ms, floor. The fraction is cut to ms before Date.parse: ECMAScript only defines 3 digits.
 */
export function rfc3339ToEpochMs(text: string): number {
  const ms = Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
  if (!Number.isFinite(ms)) throw new LineProtocolError(`query row with an unreadable time: ${JSON.stringify(text)}`);
  return ms;
}

/** One line of line protocol, timestamp in ns (pointTimeNs). Throws LineProtocolError for what cannot be written. */
export function readingToLine(reading: Reading): string {
  const time = pointTimeNs(reading);
  const fields = readingFields(reading);
  if (fields.length === 0) throw new LineProtocolError(`reading of ${reading.deviceId} at ${reading.ts} has no fields`);
  // Tags sorted by key: InfluxDB recommends it for write performance (line protocol tutorial, "Tags").
  const tags = readingTags(reading)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `,${escapeTag(k)}=${escapeTag(v)}`)
    .join('');
  const fieldText = fields.map(([k, v]) => `${escapeTag(k)}=${v}`).join(',');
  return `${escapeMeasurement(measurementFor(reading))}${tags} ${fieldText} ${time}`;
}

export function readingsToLines(readings: readonly Reading[]): string[] {
  return readings.map(readingToLine);
}

/**
 * A query row (column → value; `time` in epoch ms, as epoch=ms returns it) back to the shape the
 * pipeline stored.
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
    // channel n at index n − 1; a channel without a value (rejected on its own) is null
    const channels: Array<number | null> = new Array<number | null>(Math.max(...temperatures.map(([n]) => n))).fill(null);
    for (const [n, v] of temperatures) channels[n - 1] = v;
    fields[TEMPERATURES_FIELD] = channels;
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
