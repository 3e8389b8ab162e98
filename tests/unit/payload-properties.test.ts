/**
 * Property-based tests (fast-check) for the device payload decoder and validator (issue #12):
 * whatever a device sends, the decoder and the validator answer with a value, never an exception;
 * every message of a batch is either a reading or a counted rejection (nothing vanishes); what is
 * accepted is within the physical limits and the clock-skew bound; a well-formed message is
 * accepted with its fields unchanged.
 */
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { measuringRange } from '../../services/devices/measuring-range.js';
import type { DeviceRegistry } from '../../services/devices/registry.js';
import { buildStages } from '../../services/pipeline/pipeline.js';
import type { IngestContext } from '../../services/pipeline/types.js';
import { DEVICE_KINDS, PHYSICAL_LIMITS, validateMessage, type Channel, type DeviceKind } from '../../services/telemetry/telemetry.js';

const NOW = Date.UTC(2026, 11, 2, 8, 0, 0);
const SKEW_MS = 300_000;
const OPTS = { now: NOW, maxClockSkewMs: SKEW_MS };

const kindArb = fc.constantFrom<DeviceKind>(...DEVICE_KINDS);
const channelArb = fc.constantFrom<Channel>('telemetry', 'event');

/** Values near and beyond every limit, plus the JSON-representable oddities. */
const numberArb = fc.oneof(
  fc.double({ noNaN: false }),
  fc.integer(),
  fc.constantFrom(-0.1, 10, 0, 320, 30_000, -50, 1000, -0.1000001, 10.000001, 320.0001, -50.0001, 1000.0001, Number.MAX_VALUE, -Number.MAX_VALUE),
);
const fieldNames = ['pressureMpa', 'levelM', 'residualCurrentMa', 'temperaturesC', 'occupied', 'alarm', 'fault', 'code', 'message', 'analogType', 'value', 'unit', 'ts', 'seq', 'kind'];
/** Objects built from the real field names with values of any type: closer to real mistakes than random keys. */
const nearMessageArb = fc.dictionary(
  fc.constantFrom(...fieldNames),
  fc.oneof(numberArb, fc.boolean(), fc.string(), fc.array(numberArb, { maxLength: 6 }), fc.constant(null), fc.jsonValue()),
  { maxKeys: 6 },
);
const anyMessageArb = fc.oneof(nearMessageArb, fc.jsonValue(), fc.anything());

function withinLimits(fields: Record<string, unknown>): boolean {
  const inRange = (v: unknown, lim: { min: number; max: number }) => typeof v === 'number' && Number.isFinite(v) && v >= lim.min && v <= lim.max;
  if ('pressureMpa' in fields && !inRange(fields.pressureMpa, PHYSICAL_LIMITS.pressureMpa)) return false;
  if ('levelM' in fields && !inRange(fields.levelM, PHYSICAL_LIMITS.levelM)) return false;
  if ('residualCurrentMa' in fields && !inRange(fields.residualCurrentMa, PHYSICAL_LIMITS.residualCurrentMa)) return false;
  if ('temperaturesC' in fields) {
    const t = fields.temperaturesC;
    // a channel rejected on its own is null in its position
    if (!Array.isArray(t) || !t.every((x) => x === null || inRange(x, PHYSICAL_LIMITS.temperatureC)) || t.every((x) => x === null)) return false;
  }
  return true;
}

describe('validateMessage, for any input', () => {
  it('never throws, and a rejection always names a reason and a detail', () => {
    fc.assert(
      fc.property(kindArb, channelArb, anyMessageArb, (kind, channel, message) => {
        const r = validateMessage(kind, channel, 'dev-1', message, OPTS);
        if (!r.ok) {
          expect(typeof r.reason).toBe('string');
          expect(r.detail.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts nothing outside the physical limits, non-finite, or ahead of the clock-skew bound', () => {
    fc.assert(
      fc.property(kindArb, nearMessageArb, (kind, message) => {
        const r = validateMessage(kind, 'telemetry', 'dev-1', message, OPTS);
        if (!r.ok) return;
        expect(withinLimits(r.reading.fields)).toBe(true);
        expect(Number.isFinite(r.reading.ts)).toBe(true);
        expect(r.reading.ts).toBeLessThanOrEqual(NOW + SKEW_MS);
        expect(r.reading.kind).toBe(kind);
      }),
      { numRuns: 5000 },
    );
  });
});

const inRange = (lim: { min: number; max: number }) => fc.double({ min: lim.min, max: lim.max, noNaN: true, noDefaultInfinity: true });
const tsArb = fc.option(fc.integer({ min: Date.UTC(2000, 0, 1), max: NOW + SKEW_MS }), { nil: undefined });
const seqArb = fc.option(fc.nat(), { nil: undefined });
const validTelemetry: Record<Exclude<DeviceKind, 'uitd'>, fc.Arbitrary<Record<string, unknown>>> = {
  water_pressure: fc.record({ pressureMpa: inRange(PHYSICAL_LIMITS.pressureMpa) }),
  water_level: fc.record({ levelM: inRange(PHYSICAL_LIMITS.levelM) }),
  electrical_fire: fc.record(
    { residualCurrentMa: inRange(PHYSICAL_LIMITS.residualCurrentMa), temperaturesC: fc.array(inRange(PHYSICAL_LIMITS.temperatureC), { minLength: 1, maxLength: 4 }) },
    { requiredKeys: [] },
  ).filter((m) => Object.keys(m).length > 0),
  fire_lane: fc.record({ occupied: fc.boolean() }),
};

describe('a well-formed message', () => {
  for (const [kind, fieldsArb] of Object.entries(validTelemetry) as Array<[DeviceKind, fc.Arbitrary<Record<string, unknown>>]>) {
    it(`${kind}: is accepted with its fields, ts and seq unchanged`, () => {
      fc.assert(
        fc.property(fieldsArb, tsArb, seqArb, fc.boolean(), (fields, ts, seq, declareKind) => {
          const message = { ...fields, ...(ts !== undefined ? { ts } : {}), ...(seq !== undefined ? { seq } : {}), ...(declareKind ? { kind } : {}) };
          const r = validateMessage(kind, 'telemetry', 'dev-1', message, OPTS);
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.reading.fields).toEqual(fields);
          expect(r.reading.ts).toBe(ts ?? NOW);
          expect(r.reading.serverTs === true).toBe(ts === undefined);
          expect(r.reading.seq).toBe(seq);
        }),
        { numRuns: 1000 },
      );
    });
  }

  it('an ISO 8601 timestamp with an offset means the same instant as its epoch milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: NOW }), fc.integer({ min: -12 * 60, max: 14 * 60 }), (ms, offsetMin) => {
        const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const iso = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        const r = validateMessage('water_pressure', 'telemetry', 'dev-1', { pressureMpa: 0.3, ts: iso }, OPTS);
        expect(r.ok && r.reading.ts).toBe(ms);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('decode + validate on raw payload bytes', () => {
  const kinds = new Map<string, DeviceKind>(DEVICE_KINDS.map((k) => [`dev-${k}`, k]));
  const registry = {
    context: (id: string) => {
      const kind = kinds.get(id);
      return kind ? { device: { id, kind, buildingId: 'b-1' }, building: { id: 'b-1', street: '解放碑' } } : undefined;
    },
  } as unknown as DeviceRegistry;
  const stages = buildStages({
    registry,
    status: {} as never,
    log: {} as never,
    metrics: {} as never,
    logger: pino({ level: 'silent' }),
    limits: { maxPayloadBytes: 65536, deviceRatePerS: 1e9, deviceRateBurst: 1e9, maxClockSkewS: SKEW_MS / 1000, rejectLogIntervalS: 60 },
    now: () => NOW,
  }).filter((s) => s.name !== 'append');

  const run = (deviceId: string, channel: Channel, payload: Buffer): IngestContext => {
    const ctx: IngestContext = { raw: { deviceId, channel, payload, receivedAt: NOW }, messages: [], readings: [], rejections: [], fieldRejections: [], duplicates: 0 };
    for (const s of stages) void s.run(ctx);
    return ctx;
  };
  const deviceArb = fc.constantFrom(...kinds.keys());

  it('arbitrary bytes never throw and end as readings or rejections, never as nothing', () => {
    fc.assert(
      fc.property(deviceArb, channelArb, fc.uint8Array({ maxLength: 512 }), (deviceId, channel, bytes) => {
        const ctx = run(deviceId, channel, Buffer.from(bytes));
        expect(ctx.readings.length + ctx.rejections.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('every element of a JSON array is accounted for: one reading or one rejection each, the good ones kept beside the bad', () => {
    fc.assert(
      fc.property(deviceArb, channelArb, fc.array(anyMessageArb.filter((m) => m !== undefined), { minLength: 1, maxLength: 20 }), (deviceId, channel, batch) => {
        let text: string;
        try {
          text = JSON.stringify(batch);
        } catch {
          return; // BigInt and friends are not JSON; a device cannot send them
        }
        const decoded = JSON.parse(text) as unknown[];
        const ctx = run(deviceId, channel, Buffer.from(text));
        expect(ctx.readings.length + ctx.rejections.length).toBe(decoded.length);
        // a field rejected on its own belongs to an accepted reading, never to a lost one
        if (ctx.fieldRejections.length > 0) expect(ctx.readings.length).toBeGreaterThan(0);
        // each accepted reading is exactly what validateMessage says of its element
        const range = measuringRange(registry.context(deviceId)!.device);
        const expected = decoded.map((m) => validateMessage(kinds.get(deviceId)!, channel, deviceId, m, { ...OPTS, ...(range ? { range } : {}) })).filter((r) => r.ok);
        expect(ctx.readings.map((r) => r.fields)).toEqual(expected.map((r) => r.ok && r.reading.fields));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('one bad channel does not drop the others (issue #16 item 5)', () => {
  const temp = fc.double({ min: PHYSICAL_LIMITS.temperatureC.min, max: PHYSICAL_LIMITS.temperatureC.max, noNaN: true });
  const badTemp = fc.oneof(fc.double({ min: 1000.001, max: 1e9, noNaN: true }), fc.double({ min: -1e9, max: -50.001, noNaN: true }));
  const channel = fc.oneof(temp.map((v) => ({ v, ok: true })), badTemp.map((v) => ({ v, ok: false })));

  it('each out-of-range channel becomes null in its position and is named; residual current and good channels are kept', () => {
    fc.assert(
      fc.property(fc.option(fc.double({ min: 0, max: 30_000, noNaN: true }), { nil: undefined }), fc.array(channel, { minLength: 1, maxLength: 4 }), (rc, chans) => {
        const message = { ...(rc !== undefined ? { residualCurrentMa: rc } : {}), temperaturesC: chans.map((c) => c.v) };
        const r = validateMessage('electrical_fire', 'telemetry', 'dev-1', message, OPTS);
        const bad = chans.filter((c) => !c.ok).length;
        if (rc === undefined && bad === chans.length) {
          expect(r.ok).toBe(false);
          return;
        }
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.reading.fields.residualCurrentMa).toBe(rc);
        if (bad === chans.length) expect(r.reading.fields.temperaturesC).toBeUndefined();
        else expect(r.reading.fields.temperaturesC).toEqual(chans.map((c) => (c.ok ? c.v : null)));
        expect(r.rejectedFields?.length ?? 0).toBe(bad);
      }),
      { numRuns: 2000 },
    );
  });
});
