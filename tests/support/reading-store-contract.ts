/**
 * The one contract every ReadingStore passes (the abstract-persistence pattern of
 * aedes' tests): SQLite, InfluxDB v1 and InfluxDB v2 run these same cases.
 * Each case uses its own device ids, so one store (one database) serves the whole suite, and a
 * store that is shared with other test files cannot see their data.
 *
 * What it pins down:
 *   - every kind and the event channel round-trip: fields exactly as the pipeline stored them
 *     (camelCase, temperaturesC as an array), ts and seq
 *   - newest first; from/to inclusive; limit; other devices and the other channel never leak
 *   - the same reading written twice (device, seq, ts) comes back once (QoS 1 redelivery)
 *   - readings of one device in one millisecond with distinct log positions (logId) all come back
 *     (in no promised order inside that ms) and a replay of them adds none (InfluxDB keys a point
 *     by time: see influx-mapping.ts, "time")
 *   - an empty batch is fine; ping resolves
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceKind, Reading, ReadingFields } from '../../services/telemetry/telemetry.js';
import type { ReadingStore, StoredReading } from '../../services/storage/reading-store.js';

export interface ContractStore {
  store: ReadingStore;
  cleanup: () => Promise<void>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/**
 * Yesterday, on the hour: inside any bucket's retention period (a fixed date would fall out of a
 * 30-day InfluxDB v2 bucket and be refused with 422) and never in the future.
 */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR;

function deviceId(label: string): string {
  return `ct-${label}-${randomUUID().slice(0, 8)}`;
}

function reading(
  id: string,
  kind: DeviceKind,
  ts: number,
  fields: ReadingFields,
  extra: Partial<Pick<Reading, 'seq' | 'channel' | 'buildingId' | 'street' | 'point' | 'logId' | 'serverTs'>> = {},
): Reading {
  return { deviceId: id, kind, channel: 'telemetry', ts, fields, ...extra };
}

function stored(r: Reading): StoredReading {
  return { ts: r.ts, ...(r.seq !== undefined ? { seq: r.seq } : {}), fields: { ...r.fields } };
}

export function readingStoreContract(name: string, makeStore: () => Promise<ContractStore>): void {
  describe(`ReadingStore contract: ${name}`, () => {
    let handle: ContractStore | undefined;
    const store = (): ReadingStore => {
      if (!handle) throw new Error(`${name}: makeStore() did not finish; see the beforeAll error`);
      return handle.store;
    };

    beforeAll(async () => {
      handle = await makeStore();
    });

    afterAll(async () => {
      await handle?.cleanup();
    });

    it('ping resolves', async () => {
      await expect(store().ping()).resolves.toBeUndefined();
    });

    it('round-trips a reading of every kind, with tags, fields, ts and seq', async () => {
      const ids = {
        pressure: deviceId('wp'),
        level: deviceId('wl'),
        electrical: deviceId('ef'),
        lane: deviceId('fl'),
      };
      const site = { buildingId: 'B-007', street: '解放碑 街道, 渝中', point: 'hydrant_top' };
      const written: Record<keyof typeof ids, Reading[]> = {
        pressure: [
          reading(ids.pressure, 'water_pressure', T0, { pressureMpa: 0.35 }, { seq: 1, ...site }),
          // An integer-valued pressure must stay a number in the same (float) field.
          reading(ids.pressure, 'water_pressure', T0 + MINUTE, { pressureMpa: 1 }, { seq: 2, ...site }),
          reading(ids.pressure, 'water_pressure', T0 + 2 * MINUTE, { pressureMpa: -0.05 }),
        ],
        level: [reading(ids.level, 'water_level', T0, { levelM: 12.75 }, { seq: 7, buildingId: 'B-007' })],
        electrical: [
          reading(ids.electrical, 'electrical_fire', T0, { residualCurrentMa: 120.5 }, { seq: 1 }),
          reading(ids.electrical, 'electrical_fire', T0 + 1 * MINUTE, { temperaturesC: [41.5] }, { seq: 2 }),
          reading(ids.electrical, 'electrical_fire', T0 + 2 * MINUTE, { temperaturesC: [40, 41.25] }, { seq: 3 }),
          reading(ids.electrical, 'electrical_fire', T0 + 3 * MINUTE, { temperaturesC: [40, 41, 42.5] }, { seq: 4 }),
          reading(
            ids.electrical,
            'electrical_fire',
            T0 + 4 * MINUTE,
            { residualCurrentMa: 300, temperaturesC: [40, 41, 42, 95.5] },
            { seq: 5, ...site },
          ),
        ],
        lane: [
          reading(ids.lane, 'fire_lane', T0, { occupied: true }, { seq: 10 }),
          reading(ids.lane, 'fire_lane', T0 + MINUTE, { occupied: false }, { seq: 11 }),
        ],
      };
      await store().write(Object.values(written).flat());
      for (const key of Object.keys(ids) as Array<keyof typeof ids>) {
        const got = await store().query({ deviceId: ids[key], limit: 100 });
        expect(got, key).toEqual(written[key].map(stored).reverse());
      }
    });

    it('round-trips an event-channel reading and keeps it apart from telemetry', async () => {
      const id = deviceId('ev');
      const telemetry = reading(id, 'water_pressure', T0, { pressureMpa: 0.2 }, { seq: 1 });
      const event = reading(
        id,
        'water_pressure',
        T0 + MINUTE,
        { alarm: true, fault: false, code: 'E,42 =x', message: 'low "pressure" \\ 低压 报警' },
        { seq: 2, channel: 'event', buildingId: 'B-1' },
      );
      const faultOnly = reading(id, 'water_pressure', T0 + 2 * MINUTE, { fault: true }, { seq: 3, channel: 'event' });
      await store().write([telemetry, event, faultOnly]);
      expect(await store().query({ deviceId: id, limit: 10 })).toEqual([stored(telemetry)]);
      expect(await store().query({ deviceId: id, limit: 10, channel: 'telemetry' })).toEqual([stored(telemetry)]);
      expect(await store().query({ deviceId: id, limit: 10, channel: 'event' })).toEqual([stored(faultOnly), stored(event)]);
    });

    it('returns newest first whatever the write order', async () => {
      const id = deviceId('order');
      const offsets = [3, 0, 4, 1, 2];
      await store().write(offsets.map((o) => reading(id, 'water_level', T0 + o * MINUTE, { levelM: o }, { seq: o })));
      const got = await store().query({ deviceId: id, limit: 10 });
      expect(got.map((r) => r.ts)).toEqual([4, 3, 2, 1, 0].map((o) => T0 + o * MINUTE));
      expect(got.map((r) => r.seq)).toEqual([4, 3, 2, 1, 0]);
    });

    it('filters from/to inclusively and applies the limit to the newest', async () => {
      const id = deviceId('range');
      await store().write([0, 1, 2, 3, 4].map((o) => reading(id, 'water_pressure', T0 + o * MINUTE, { pressureMpa: o / 10 }, { seq: o })));
      const ts = async (q: { from?: number; to?: number; limit: number }): Promise<number[]> =>
        (await store().query({ deviceId: id, ...q })).map((r) => (r.ts - T0) / MINUTE);
      expect(await ts({ from: T0 + MINUTE, to: T0 + 3 * MINUTE, limit: 10 })).toEqual([3, 2, 1]);
      expect(await ts({ from: T0 + 3 * MINUTE, limit: 10 })).toEqual([4, 3]);
      expect(await ts({ to: T0 + MINUTE, limit: 10 })).toEqual([1, 0]);
      expect(await ts({ from: T0 + 2 * MINUTE, to: T0 + 2 * MINUTE, limit: 10 })).toEqual([2]);
      expect(await ts({ from: T0 + MINUTE + 1, to: T0 + 2 * MINUTE - 1, limit: 10 })).toEqual([]);
      expect(await ts({ limit: 2 })).toEqual([4, 3]);
      expect(await ts({ from: T0, to: T0 + 3 * MINUTE, limit: 1 })).toEqual([3]);
    });

    it('does not return readings of another device', async () => {
      const mine = deviceId('mine');
      const other = deviceId('other');
      // Same kind, same times: only the device tells them apart.
      await store().write([
        reading(mine, 'fire_lane', T0, { occupied: true }, { seq: 1 }),
        reading(other, 'fire_lane', T0, { occupied: false }, { seq: 1 }),
        reading(other, 'fire_lane', T0 + MINUTE, { occupied: true }, { seq: 2 }),
      ]);
      expect(await store().query({ deviceId: mine, limit: 10 })).toEqual([{ ts: T0, seq: 1, fields: { occupied: true } }]);
      expect(await store().query({ deviceId: deviceId('nobody'), limit: 10 })).toEqual([]);
    });

    it('keeps a reading written twice (same device, seq and ts) once', async () => {
      const id = deviceId('dup');
      const r = reading(id, 'water_pressure', T0, { pressureMpa: 0.31 }, { seq: 42 });
      await store().write([r]);
      await store().write([r]);
      await store().write([{ ...r }, { ...r }]);
      expect(await store().query({ deviceId: id, limit: 10 })).toEqual([stored(r)]);
    });

    it('keeps every reading of one device in one millisecond with distinct logIds, and a replay adds none', async () => {
      const id = deviceId('burst');
      const n = 50;
      // Log positions across a multiple of 10^6, where InfluxDB's ns offset inside the ms wraps to 0.
      const burst = Array.from({ length: n }, (_, i) =>
        reading(id, 'water_pressure', T0, { pressureMpa: i / 100 }, { seq: 100 + i, logId: 9_999_975 + i, serverTs: true }),
      );
      // The order inside one millisecond is not part of the contract (SQLite: insertion order;
      // InfluxDB: logId mod 10^6), so compare by seq.
      const bySeq = (rows: StoredReading[]): StoredReading[] => [...rows].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      const expected = burst.map(stored);
      await store().write(burst);
      expect(bySeq(await store().query({ deviceId: id, limit: 1000 }))).toEqual(expected);
      await store().write(burst);
      await store().write([...burst.slice(10, 20)].reverse());
      expect(bySeq(await store().query({ deviceId: id, limit: 1000 }))).toEqual(expected);
      // ms bounds cover the whole millisecond, and only it.
      expect(bySeq(await store().query({ deviceId: id, from: T0, to: T0, limit: 1000 }))).toEqual(expected);
      expect(await store().query({ deviceId: id, to: T0 - 1, limit: 1000 })).toEqual([]);
      expect(await store().query({ deviceId: id, from: T0 + 1, limit: 1000 })).toEqual([]);
      const three = await store().query({ deviceId: id, limit: 3 });
      expect(three).toHaveLength(3);
      expect(new Set(three.map((r) => r.seq)).size).toBe(3);
    });

    it('keeps same-millisecond readings without a seq apart when their logIds differ', async () => {
      const id = deviceId('noseq');
      const burst = [11, 12, 13].map((logId) => reading(id, 'water_level', T0 + MINUTE, { levelM: logId }, { logId, serverTs: true }));
      await store().write(burst);
      const got = await store().query({ deviceId: id, limit: 10 });
      expect(got.map((r) => r.fields.levelM).sort()).toEqual([11, 12, 13]);
      expect(got.every((r) => r.ts === T0 + MINUTE && r.seq === undefined)).toBe(true);
    });

    it('accepts an empty batch', async () => {
      await expect(store().write([])).resolves.toBeUndefined();
      expect(await store().query({ deviceId: deviceId('empty'), limit: 10 })).toEqual([]);
    });
  });
}
