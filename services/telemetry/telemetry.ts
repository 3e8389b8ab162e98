/**
 * Device message contract: what a sensor may publish, and the normalised Reading we keep.
 * A leaf module: no I/O, no internal imports. Simulators share it.
 *
 * Units are in the field names (pressureMpa, levelM, residualCurrentMa, temperaturesC).
 * Physical limits below reject values no sensor of that kind can report; they are not alarm
 * thresholds (those are rules, see docs/standards.md §2–§4).
 */
import { z } from 'zod';

/** `uitd`: a GB/T 26875.3 user information transmission device reporting over TCP (issue #6). */
export const DEVICE_KINDS = ['water_pressure', 'water_level', 'electrical_fire', 'fire_lane', 'uitd'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const PRESSURE_POINTS = ['hydrant_top', 'hydrant_outlet', 'sprinkler_end', 'pump_outlet', 'network'] as const;
export type PressurePoint = (typeof PRESSURE_POINTS)[number];

/** Closed union of rejection reasons (metrics label values, API values). */
export const REJECT_REASONS = [
  'bad_json',
  'schema',
  'unknown_kind',
  'out_of_range',
  'future_ts',
  'unknown_device',
  'topic_acl',
  'too_large',
  'rate_limited',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type Channel = 'telemetry' | 'event';

/**
 * Physical plausibility limits per field. Beyond these the value is `out_of_range`.
 * - pressure: −0.1 MPa is full vacuum (suction compound gauges, fact 47); 10 MPa is far above
 *   any fire-water system (zoning starts at 2.4 MPa, fact 43).
 * - level: 0–320 m is the GB/T 26875.3 "height" analog range (fact §1.10), with the small tolerance
 *   a transmitter has around its span (a level at an empty tank reads slightly negative).
 * The device's own measuring range narrows these (ValidateOptions.range).
 * - residual current: detector setpoints span 20–1000 mA (fact 33); 30 A covers saturated sensors.
 * - temperature: −50…1000 °C covers cable-temperature detectors in a fire.
 */
export const PHYSICAL_LIMITS = {
  pressureMpa: { min: -0.1, max: 10 },
  levelM: { min: -0.1, max: 330 },
  residualCurrentMa: { min: 0, max: 30_000 },
  temperatureC: { min: -50, max: 1000 },
} as const;

const EPOCH_2000_MS = Date.UTC(2000, 0, 1);

const tsField = z
  .union([z.iso.datetime({ offset: true }), z.number().int().positive()])
  .optional()
  .describe('ISO 8601 with offset, or epoch milliseconds; server time when absent');
const seqField = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional();
const kindField = z.string().optional();

const common = { ts: tsField, seq: seqField, kind: kindField };

export const TelemetrySchemas = {
  // flowing: a pump-running contact or flow switch wired to the transmitter, when it has one
  // (services/rules/hydraulic.ts: flowing limits apply while true)
  water_pressure: z.object({ ...common, pressureMpa: z.number(), flowing: z.boolean().optional() }),
  water_level: z.object({ ...common, levelM: z.number() }),
  electrical_fire: z
    .object({
      ...common,
      residualCurrentMa: z.number().optional(),
      temperaturesC: z.array(z.number()).min(1).max(4).optional(),
    })
    .refine((v) => v.residualCurrentMa !== undefined || v.temperaturesC !== undefined, {
      message: 'residualCurrentMa or temperaturesC is required',
    }),
  fire_lane: z.object({ ...common, occupied: z.boolean() }),
  /**
   * A GB/T 26875.3 analog value (type 3 object, docs/standards.md §1.10), already scaled by the
   * gateway: `value` in `unit`, from the component that measured it.
   */
  uitd: z.object({
    ...common,
    analogType: z.number().int().min(0).max(255),
    quantity: z.string().max(32).optional(),
    value: z.number(),
    unit: z.string().max(16),
    systemType: z.number().int().min(0).max(255).optional(),
    systemAddress: z.number().int().min(0).max(255).optional(),
    componentType: z.number().int().min(0).max(255).optional(),
    componentAddress: z.number().int().min(0).max(0xffffffff).optional(),
  }),
} as const;

/**
 * A device's own flags (alarm latched, fault), published to fire/v1/{id}/event. `supervisory`: a
 * supervisory (监管) signal, GB/T 26875.3 bit4, sent by the UITD gateway (issue #16 item 7) with
 * `supervisoryCode` naming the point.
 */
export const EventSchema = z
  .object({
    ...common,
    alarm: z.boolean().optional(),
    fault: z.boolean().optional(),
    supervisory: z.boolean().optional(),
    code: z.string().max(64).optional(),
    supervisoryCode: z.string().max(64).optional(),
    message: z.string().max(256).optional(),
  })
  .refine((v) => v.alarm !== undefined || v.fault !== undefined || v.supervisory !== undefined, { message: 'alarm, fault or supervisory is required' });

/** `temperaturesC` keeps its channel positions: a channel rejected on its own is null. */
export type ReadingFields = Record<string, number | boolean | string | number[] | Array<number | null>>;

/** A validated, normalised message ready to be enriched and stored. */
export interface Reading {
  deviceId: string;
  kind: DeviceKind;
  channel: Channel;
  /** epoch ms */
  ts: number;
  seq?: number;
  /** epoch ms when the service received it */
  receivedAt?: number;
  fields: ReadingFields;
  /** true when `ts` is the server's receive time (the device sent no timestamp) */
  serverTs?: boolean;
  /**
   * Position in the durable reading log (services/log/reading-log.ts), set by the append that made
   * the reading durable: unique and increasing, the same on every replay of the reading.
   */
  logId?: number;
  /**
   * epoch ms when the log committed it (issue #15 item 4): set by the append, as the appending
   * process learned of the commit, and on the readings that process reads back from the log; not
   * stored with the reading. A reading read back by another process (after a restart) gets the time
   * the processors read it (`durableReadBack`): it was durable then at the latest.
   */
  durableAt?: number;
  durableReadBack?: boolean;
  /** filled by enrich */
  buildingId?: string;
  street?: string;
  point?: string;
}

/** One field of an otherwise valid message, rejected on its own (issue #16 item 5). */
export interface FieldRejection {
  /** the field, without a channel index: `residualCurrentMa`, `temperaturesC` */
  field: string;
  detail: string;
}

export type ValidationResult =
  | { ok: true; reading: Reading; rejectedFields?: FieldRejection[] }
  | { ok: false; reason: RejectReason; detail: string };

function outOfRange(field: string, value: number, lim: { min: number; max: number }): string | undefined {
  if (!Number.isFinite(value) || value < lim.min || value > lim.max) {
    return `${field}=${value} outside the physical range ${lim.min}…${lim.max}`;
  }
  return undefined;
}

function checkRanges(kind: DeviceKind, v: Record<string, unknown>): string | undefined {
  switch (kind) {
    case 'water_pressure':
      return outOfRange('pressureMpa', v.pressureMpa as number, PHYSICAL_LIMITS.pressureMpa);
    case 'water_level':
      return outOfRange('levelM', v.levelM as number, PHYSICAL_LIMITS.levelM);
    case 'electrical_fire': // per field: electricalFields()
    case 'fire_lane':
    case 'uitd': // the gateway already checked the value against the analog type's range
      return undefined;
  }
}

/**
 * An electrical-fire detector's channels are independent measurements: one channel out of range
 * (a broken sensor on one conductor) must not lose the residual current or the other channels.
 * Each bad value is rejected on its own; a channel keeps its position as null. The message is
 * rejected whole only when no valid value is left.
 */
function electricalFields(v: Record<string, unknown>): { fields: Record<string, unknown>; rejected: FieldRejection[] } {
  const fields = { ...v };
  const rejected: FieldRejection[] = [];
  if (fields.residualCurrentMa !== undefined) {
    const r = outOfRange('residualCurrentMa', fields.residualCurrentMa as number, PHYSICAL_LIMITS.residualCurrentMa);
    if (r) {
      rejected.push({ field: 'residualCurrentMa', detail: r });
      delete fields.residualCurrentMa;
    }
  }
  const temps = fields.temperaturesC as number[] | undefined;
  if (temps !== undefined) {
    const kept = temps.map((t, i) => {
      const r = outOfRange(`temperaturesC[${i}]`, t, PHYSICAL_LIMITS.temperatureC);
      if (!r) return t;
      rejected.push({ field: 'temperaturesC', detail: r });
      return null;
    });
    if (kept.every((t) => t === null)) delete fields.temperaturesC;
    else fields.temperaturesC = kept;
  }
  return { fields, rejected };
}

function zodDetail(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
    .join('; ');
}

export interface ValidateOptions {
  now: number;
  maxClockSkewMs: number;
  /**
   * The device's measuring range for its primary field (services/devices/measuring-range.ts):
   * values beyond `min − below … max + above` are out_of_range. Within the physical limits below.
   */
  range?: { field: string; unit: string; min: number; max: number; below: number; above: number };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function outOfSpan(v: Record<string, unknown>, range: NonNullable<ValidateOptions['range']>): string | undefined {
  const value = v[range.field];
  if (typeof value !== 'number') return undefined;
  const lo = round(range.min - range.below);
  const hi = round(range.max + range.above);
  if (value >= lo && value <= hi) return undefined;
  const hint = range.unit === 'MPa' && value > hi ? ' (a value in bar or kPa sent as MPa?)' : '';
  return `${range.field}=${value} outside the sensor's range ${range.min}…${range.max} ${range.unit} (accepted ${lo}…${hi})${hint}`;
}

function parseTs(ts: string | number | undefined, now: number): number {
  if (ts === undefined) return now;
  return typeof ts === 'number' ? ts : Date.parse(ts);
}

/**
 * Validate one decoded message object for a device of `kind`. Never throws: bad input is a value.
 */
export function validateMessage(
  kind: DeviceKind,
  channel: Channel,
  deviceId: string,
  message: unknown,
  opts: ValidateOptions,
): ValidationResult {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { ok: false, reason: 'schema', detail: 'each message must be a JSON object' };
  }
  const declared = (message as { kind?: unknown }).kind;
  if (declared !== undefined) {
    if (typeof declared !== 'string' || !(DEVICE_KINDS as readonly string[]).includes(declared)) {
      return { ok: false, reason: 'unknown_kind', detail: `kind ${JSON.stringify(declared)} is not one of ${DEVICE_KINDS.join(', ')}` };
    }
    if (declared !== kind) {
      return { ok: false, reason: 'schema', detail: `kind ${declared} does not match the device's kind ${kind}` };
    }
  }
  const schema = channel === 'event' ? EventSchema : TelemetrySchemas[kind];
  const parsed = schema.safeParse(message);
  if (!parsed.success) return { ok: false, reason: 'schema', detail: zodDetail(parsed.error) };
  const { ts: rawTs, seq, kind: _k, ...fields } = parsed.data as Record<string, unknown> & {
    ts?: string | number;
    seq?: number;
    kind?: string;
  };
  const ts = parseTs(rawTs, opts.now);
  if (!Number.isFinite(ts) || ts < EPOCH_2000_MS) {
    return { ok: false, reason: 'schema', detail: `ts ${JSON.stringify(rawTs)} is not a plausible time` };
  }
  if (ts > opts.now + opts.maxClockSkewMs) {
    return {
      ok: false,
      reason: 'future_ts',
      detail: `ts ${new Date(ts).toISOString()} is more than ${opts.maxClockSkewMs / 1000}s ahead of server time`,
    };
  }
  let kept: Record<string, unknown> = fields;
  let rejectedFields: FieldRejection[] | undefined;
  if (channel === 'telemetry') {
    const range = checkRanges(kind, fields) ?? (opts.range ? outOfSpan(fields, opts.range) : undefined);
    if (range) return { ok: false, reason: 'out_of_range', detail: range };
    if (kind === 'electrical_fire') {
      const e = electricalFields(fields);
      if (e.rejected.length > 0) {
        if (e.fields.residualCurrentMa === undefined && e.fields.temperaturesC === undefined) {
          return { ok: false, reason: 'out_of_range', detail: e.rejected.map((r) => r.detail).join('; ') };
        }
        kept = e.fields;
        rejectedFields = e.rejected;
      }
    }
  }
  const reading: Reading = { deviceId, kind, channel, ts, fields: kept as ReadingFields };
  if (rawTs === undefined) reading.serverTs = true;
  if (seq !== undefined) reading.seq = seq;
  return rejectedFields ? { ok: true, reading, rejectedFields } : { ok: true, reading };
}
