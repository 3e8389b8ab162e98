import { describe, expect, it } from 'vitest';
import { validateMessage } from '../../services/telemetry/telemetry.js';

const now = Date.UTC(2026, 10, 29, 0, 0, 0);
const opts = { now, maxClockSkewMs: 300_000 };

describe('validateMessage', () => {
  it('accepts each kind and normalises ts', () => {
    const r = validateMessage('water_pressure', 'telemetry', 'd1', { ts: '2026-11-29T08:00:00+08:00', seq: 3, pressureMpa: 0.12 }, opts);
    expect(r).toEqual({ ok: true, reading: { deviceId: 'd1', kind: 'water_pressure', channel: 'telemetry', ts: now, seq: 3, fields: { pressureMpa: 0.12 } } });
    expect(validateMessage('water_level', 'telemetry', 'd', { levelM: 0 }, opts).ok).toBe(true);
    expect(validateMessage('electrical_fire', 'telemetry', 'd', { temperaturesC: [20, 21, 22, 23] }, opts).ok).toBe(true);
    expect(validateMessage('fire_lane', 'telemetry', 'd', { occupied: false }, opts).ok).toBe(true);
  });

  it('uses server time when ts is absent and strips unknown fields', () => {
    const r = validateMessage('fire_lane', 'telemetry', 'd', { occupied: true, vendorExtra: 1 }, opts);
    expect(r.ok && r.reading.ts).toBe(now);
    expect(r.ok && r.reading.fields).toEqual({ occupied: true });
  });

  it.each([
    ['schema', 'water_pressure', { pressureMpa: '0.1' }],
    ['schema', 'water_pressure', {}],
    ['schema', 'electrical_fire', {}],
    ['schema', 'electrical_fire', { temperaturesC: [1, 2, 3, 4, 5] }],
    ['schema', 'electrical_fire', { temperaturesC: [] }],
    ['schema', 'fire_lane', { occupied: 'yes' }],
    ['schema', 'water_pressure', { ts: 'yesterday', pressureMpa: 0.1 }],
    ['schema', 'water_pressure', { ts: 12, pressureMpa: 0.1 }],
    ['schema', 'water_pressure', { seq: -1, pressureMpa: 0.1 }],
    ['schema', 'water_pressure', { kind: 'water_level', pressureMpa: 0.1 }],
    ['unknown_kind', 'water_pressure', { kind: 'smoke', pressureMpa: 0.1 }],
    ['out_of_range', 'water_pressure', { pressureMpa: -0.2 }],
    ['out_of_range', 'water_pressure', { pressureMpa: 10.01 }],
    ['out_of_range', 'water_level', { levelM: -0.11 }],
    ['out_of_range', 'electrical_fire', { residualCurrentMa: 30_001 }],
    ['out_of_range', 'electrical_fire', { temperaturesC: [1001, -51] }],
    ['future_ts', 'water_pressure', { ts: now + 301_000, pressureMpa: 0.1 }],
  ] as const)('rejects %s: %s %j', (reason, kind, msg) => {
    const r = validateMessage(kind, 'telemetry', 'd', msg, opts);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('accepts the physical limits themselves and a ts inside the skew', () => {
    expect(validateMessage('water_pressure', 'telemetry', 'd', { pressureMpa: -0.1 }, opts).ok).toBe(true);
    expect(validateMessage('water_pressure', 'telemetry', 'd', { pressureMpa: 10 }, opts).ok).toBe(true);
    expect(validateMessage('water_pressure', 'telemetry', 'd', { ts: now + 299_000, pressureMpa: 1 }, opts).ok).toBe(true);
  });

  it('events need alarm or fault; ranges are not applied to events', () => {
    expect(validateMessage('electrical_fire', 'event', 'd', { alarm: true }, opts).ok).toBe(true);
    expect(validateMessage('electrical_fire', 'event', 'd', { code: 'x' }, opts).ok).toBe(false);
  });

  it('a non-object message is a schema rejection, never a throw', () => {
    for (const m of [null, 1, 'x', [1]]) {
      const r = validateMessage('water_pressure', 'telemetry', 'd', m, opts);
      expect(r).toMatchObject({ ok: false, reason: 'schema' });
    }
  });
});
