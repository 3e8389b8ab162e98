/**
 * The one contract every ReadingLog passes (services/log/reading-log.ts): the SQLite log the
 * service runs on (readings.db, written by its worker thread) and the in-memory fake the pipeline
 * and processor tests use (tests/support/in-memory-log.ts), so that what those tests rely on is
 * what production does. Each case gets a fresh, empty, started log.
 *
 * What it pins down:
 *   - an empty log: lastId 0, nothing to read; an empty append is fine and tells no listener
 *   - append resolves after the commit: what it appended is readable at once, each reading with
 *     its logId (set on the reading too), increasing, and lastId is the newest
 *   - a reading comes back as it was appended (kind, channel, ts, seq, fields, where, receivedAt,
 *     serverTs), with a receivedAt even when it had none (the time of the append)
 *   - de-duplication (docs/adr/0006-reading-log.md): with a seq and a device timestamp a reading
 *     is unique on (device, channel, seq, ts), within one append and across appends; with a seq and
 *     a server timestamp (serverTs) the same seq with the same fields from the same device and
 *     channel received within DEDUPE_WINDOW_MS is a duplicate, a different value or a later
 *     re-send is not; without a seq nothing is a duplicate. Duplicates are counted, not appended,
 *     not read, not told to listeners, and do not move lastId
 *   - readAfter: logId > afterId, oldest first, at most `limit`; paging by the last logId read
 *     visits every reading once
 *   - appends called together are committed in the order they were called, each answered with
 *     its own readings
 *   - listeners hear every commit once, in log order, with exactly what it appended
 *   - the log holds copies: changing a reading (its fields included) after the append, or one
 *     read back, does not change what a later read returns
 *   - close commits what was appended before it, then refuses appends (LogError 'log_closed');
 *     a durable log, opened again, gives back what it held, de-duplicates against it, and goes on
 *     after its last logId
 *   - health is ok while appends succeed
 */
import { afterEach, beforeEach, describe, expect, it as vitestIt, vi, type TestFunction } from 'vitest';
import { LogError, type ReadingLog } from '../../services/log/reading-log.js';
import { DEDUPE_WINDOW_MS } from '../../services/log/reading-log.js';
import type { Reading } from '../../services/telemetry/telemetry.js';

export interface ContractLog {
  /** not started: the contract starts it */
  log: ReadingLog;
  /**
   * Durable logs: close this one and open the same data again (as after a restart); returns the
   * new log, not started, which cleanup also closes. Absent for a log that keeps nothing.
   */
  reopen?: () => Promise<ReadingLog>;
  cleanup: () => Promise<void>;
}

/** Yesterday on the hour: device time well inside any clock-skew window. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;

function pressure(deviceId: string, seq: number | undefined, extra: Partial<Reading> = {}): Reading {
  const r: Reading = {
    deviceId,
    kind: 'water_pressure',
    channel: 'telemetry',
    ts: T0 + (seq ?? 0) * 1000,
    receivedAt: T0 + (seq ?? 0) * 1000 + 250,
    fields: { pressureMpa: 0.3 + (seq ?? 0) / 1000 },
    ...extra,
  };
  if (seq !== undefined) r.seq = seq;
  return r;
}

/** The reading as the log gives it back: as appended, with its logId. */
/**
 * A reading without what the log sets on it: its logId, and `durableAt` (issue #15 item 4), the
 * commit time as the appending process saw it, which a log may set and is not part of what it holds
 * (a reopened log does not know it).
 */
function withoutLogId(r: Reading): Omit<Reading, 'logId' | 'durableAt'> {
  const { logId: _logId, durableAt: _durableAt, ...rest } = r;
  return rest;
}

const logIds = (rs: readonly Reading[]): number[] => rs.map((r) => r.logId!);

function increasing(ids: number[]): boolean {
  return ids.every((id, i) => Number.isInteger(id) && id > 0 && (i === 0 || id > ids[i - 1]!));
}

export interface ContractOptions {
  /**
   * Cases (by their title) an engine cannot hold, each with why. Only for a guarantee the engine
   * does not make by design (JetStream's de-duplication window is measured on the stream's clock,
   * not on the readings' receivedAt); its test file then tests the bounded behaviour instead.
   */
  skip?: Record<string, string>;
}

export function readingLogContract(name: string, make: () => Promise<ContractLog>, options: ContractOptions = {}): void {
  const it = (title: string, fn: TestFunction) => {
    const why = options.skip?.[title];
    if (why !== undefined) vitestIt.skip(`${title} (not on ${name}: ${why})`, fn);
    else vitestIt(title, fn);
  };
  describe(`ReadingLog contract: ${name}`, () => {
    let handle: ContractLog | undefined;
    let current: ReadingLog | undefined;
    const log = (): ReadingLog => {
      if (!current) throw new Error(`${name}: make() did not finish; see the beforeEach error`);
      return current;
    };
    const all = async (l: ReadingLog = log()): Promise<Reading[]> => l.readAfter(0, 100_000);

    beforeEach(async () => {
      handle = await make();
      current = handle.log;
      await current.start();
    });

    afterEach(async () => {
      await handle?.cleanup();
      handle = undefined;
      current = undefined;
    });

    it('starts empty, and an empty append is fine and tells no listener', async () => {
      const heard: Reading[][] = [];
      log().onAppend((rs) => heard.push([...rs]));
      expect(await log().lastId()).toBe(0);
      expect(await all()).toEqual([]);
      await expect(log().append([])).resolves.toEqual({ appended: [], duplicates: 0 });
      expect(await log().lastId()).toBe(0);
      expect(heard).toEqual([]);
      expect(log().health()).toMatchObject({ ok: true, failures: 0 });
    });

    it('resolves after the commit: what it appended is readable at once, with increasing logIds', async () => {
      const batch = [pressure('d-1', 1), pressure('d-1', 2), pressure('d-2', 1)];
      const res = await log().append(batch);
      expect(res.duplicates).toBe(0);
      expect(res.appended.map(withoutLogId)).toEqual(batch.map(withoutLogId));
      expect(increasing(logIds(res.appended))).toBe(true);
      expect(logIds(batch)).toEqual(logIds(res.appended)); // set on the readings appended, too
      const read = await all();
      expect(read).toEqual(res.appended);
      expect(await log().lastId()).toBe(res.appended[2]!.logId);

      const next = await log().append([pressure('d-1', 3)]);
      expect(next.appended[0]!.logId).toBeGreaterThan(res.appended[2]!.logId!);
      expect(await log().lastId()).toBe(next.appended[0]!.logId);
    });

    it('gives a reading back as it was appended, every field and tag', async () => {
      const telemetry: Reading = {
        deviceId: 'ef-1',
        kind: 'electrical_fire',
        channel: 'telemetry',
        ts: T0,
        seq: 7,
        receivedAt: T0 + 40,
        fields: { residualCurrentMa: 120.5, temperaturesC: [40, null, 95.5] },
        buildingId: 'B-007',
        street: '解放碑 街道, 渝中',
        point: 'hydrant_top',
      };
      const event: Reading = {
        deviceId: 'ef-1',
        kind: 'electrical_fire',
        channel: 'event',
        ts: T0 + 1000,
        seq: 8,
        receivedAt: T0 + 1000,
        serverTs: true,
        fields: { alarm: true, fault: false, code: 'E,42 =x', message: 'low "pressure" \\ 低压 报警' },
      };
      const lane: Reading = { deviceId: 'fl-1', kind: 'fire_lane', channel: 'telemetry', ts: T0, receivedAt: T0 + 3, fields: { occupied: true } };
      await log().append([telemetry, event, lane]);
      expect((await all()).map(withoutLogId)).toEqual([telemetry, event, lane].map(withoutLogId));
    });

    it('gives a reading appended without receivedAt the time of its append', async () => {
      const r = pressure('d-1', 1);
      delete r.receivedAt;
      const before = Date.now();
      await log().append([r]);
      const after = Date.now();
      const [got] = await all();
      expect(got!.receivedAt).toBeGreaterThanOrEqual(before);
      expect(got!.receivedAt).toBeLessThanOrEqual(after);
    });

    it('keeps a reading with a seq and a device timestamp once, within an append and across appends', async () => {
      const heard: Reading[][] = [];
      log().onAppend((rs) => heard.push([...rs]));
      const first = await log().append([pressure('d-1', 1), pressure('d-1', 1), pressure('d-1', 2)]);
      expect(first.duplicates).toBe(1);
      expect(first.appended.map((r) => r.seq)).toEqual([1, 2]);
      const lastId = await log().lastId();

      // a QoS 1 redelivery (the same message, received later), whole and in part
      const again = await log().append([pressure('d-1', 1, { receivedAt: T0 + 60_000 }), pressure('d-1', 2)]);
      expect(again).toEqual({ appended: [], duplicates: 2 });
      const part = await log().append([pressure('d-1', 2), pressure('d-1', 3)]);
      expect(part.duplicates).toBe(1);
      expect(part.appended.map((r) => r.seq)).toEqual([3]);

      // the same seq and ts is a duplicate even with other fields; not so on another device,
      // channel or time (a device that rebooted and counts from 1 again)
      const variants = await log().append([
        pressure('d-1', 1, { fields: { pressureMpa: 0.9 } }),
        pressure('d-2', 1),
        pressure('d-1', 1, { channel: 'event', fields: { fault: true } }),
        pressure('d-1', 1, { ts: T0 + 3_600_000 }),
      ]);
      expect(variants.duplicates).toBe(1);
      expect(variants.appended.map((r) => `${r.deviceId}/${r.channel}/${r.ts - T0}`)).toEqual(['d-2/telemetry/1000', 'd-1/event/1000', 'd-1/telemetry/3600000']);

      expect((await all()).map((r) => `${r.deviceId}/${r.channel}/${r.seq}/${r.ts - T0}`)).toEqual([
        'd-1/telemetry/1/1000',
        'd-1/telemetry/2/2000',
        'd-1/telemetry/3/3000',
        'd-2/telemetry/1/1000',
        'd-1/event/1/1000',
        'd-1/telemetry/1/3600000',
      ]);
      expect(await log().lastId()).toBeGreaterThan(lastId);
      // listeners heard the appended readings only, once each
      await vi.waitFor(() => expect(heard.flat().map((r) => r.logId)).toEqual(logIds([...first.appended, ...part.appended, ...variants.appended])));
    });

    it('keeps a server-timestamped re-send (same seq, same fields, within the window) once; a new value or a late re-send is new', async () => {
      const at = Date.now();
      // no device clock: ts is the receive time, so every delivery of one message has another ts
      const untimed = (seq: number, receivedAt: number, fields: Reading['fields'] = { pressureMpa: 0.31 }): Reading =>
        pressure('nc-1', seq, { ts: receivedAt, receivedAt, serverTs: true, fields });
      const first = await log().append([untimed(5, at), untimed(5, at + 10)]);
      expect(first.duplicates).toBe(1); // a redelivery inside one batch
      expect((await log().append([untimed(5, at + 60_000)])).duplicates).toBe(1); // a minute later
      expect((await log().append([untimed(5, at + DEDUPE_WINDOW_MS - 1)])).duplicates).toBe(1);
      // another value under the same seq: a device that rebooted and counts again
      const other = await log().append([untimed(5, at + 120_000, { pressureMpa: 0.4 })]);
      expect(other.appended).toHaveLength(1);
      // after the window: a new reading, even with the same value
      const late = await log().append([untimed(5, at + DEDUPE_WINDOW_MS + 200_000)]);
      expect(late.appended).toHaveLength(1);
      // the rule is per device and channel
      const elsewhere = await log().append([
        pressure('nc-2', 5, { ts: at + 5, receivedAt: at + 5, serverTs: true, fields: { pressureMpa: 0.31 } }),
        pressure('nc-1', 5, { channel: 'event', ts: at + 5, receivedAt: at + 5, serverTs: true, fields: { pressureMpa: 0.31 } }),
      ]);
      expect(elsewhere.appended).toHaveLength(2);
      expect((await all()).map((r) => [r.deviceId, r.channel, r.fields.pressureMpa])).toEqual([
        ['nc-1', 'telemetry', 0.31],
        ['nc-1', 'telemetry', 0.4],
        ['nc-1', 'telemetry', 0.31],
        ['nc-2', 'telemetry', 0.31],
        ['nc-1', 'event', 0.31],
      ]);
    });

    it('never takes a reading without a seq for a duplicate', async () => {
      const r = pressure('ns-1', undefined);
      const res = await log().append([r, { ...r }]);
      const again = await log().append([{ ...r }]);
      expect(res.duplicates + again.duplicates).toBe(0);
      expect(await all()).toHaveLength(3);
    });

    it('reads after a position, oldest first, at most limit; paging by the last logId visits every reading once', async () => {
      for (let i = 0; i < 5; i++) await log().append(Array.from({ length: 5 }, (_, j) => pressure(`p-${j}`, i * 5 + j)));
      const everything = await all();
      expect(everything).toHaveLength(25);
      expect(increasing(logIds(everything))).toBe(true);
      expect(everything.map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i));

      const pages: Reading[][] = [];
      for (let after = 0; ; ) {
        const page = await log().readAfter(after, 10);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(10);
        pages.push(page);
        after = page[page.length - 1]!.logId!;
      }
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(everything);

      const middle = everything[12]!.logId!;
      expect(logIds(await log().readAfter(middle, 3))).toEqual(logIds(everything.slice(13, 16)));
      expect(await log().readAfter(everything[24]!.logId!, 10)).toEqual([]);
      expect(await log().lastId()).toBe(everything[24]!.logId);
    });

    it('commits appends called together in the order they were called, each answered with its own readings', async () => {
      const calls = Array.from({ length: 30 }, (_, i) => Array.from({ length: 1 + (i % 3) }, (_, j) => pressure(`c-${i % 4}`, i * 10 + j)));
      const results = await Promise.all(calls.map((batch) => log().append(batch)));
      results.forEach((res, i) => {
        expect(res.duplicates).toBe(0);
        expect(res.appended.map((r) => `${r.deviceId}/${r.seq}`)).toEqual(calls[i]!.map((r) => `${r.deviceId}/${r.seq}`));
      });
      const everything = await all();
      expect(everything.map((r) => `${r.deviceId}/${r.seq}`)).toEqual(calls.flat().map((r) => `${r.deviceId}/${r.seq}`));
      expect(logIds(everything)).toEqual(results.flatMap((r) => logIds(r.appended)));
      expect(increasing(logIds(everything))).toBe(true);
    });

    it('tells every listener of every commit once, in log order, with what it appended', async () => {
      const a: Reading[] = [];
      const b: number[] = [];
      log().onAppend((rs) => a.push(...rs));
      log().onAppend((rs) => {
        expect(rs.length).toBeGreaterThan(0);
        b.push(...logIds(rs));
      });
      await Promise.all(Array.from({ length: 20 }, (_, i) => log().append([pressure(`l-${i % 3}`, i), pressure(`l-${i % 3}`, i)])));
      await log().append([pressure('l-0', 0)]); // all duplicates: nothing to tell
      const everything = await all();
      expect(everything).toHaveLength(20);
      await vi.waitFor(() => expect(b).toEqual(logIds(everything)));
      expect(a.map(withoutLogId)).toEqual(everything.map(withoutLogId));
      expect(logIds(a)).toEqual(logIds(everything));
    });

    it('holds copies: changing a reading after the append, or one read back, changes nothing it gives later', async () => {
      const mine = pressure('m-1', 1, { fields: { residualCurrentMa: 100, temperaturesC: [40, 41] }, kind: 'electrical_fire', buildingId: 'B-1' });
      const expected = withoutLogId(structuredClone(mine));
      await log().append([mine]);
      mine.fields.residualCurrentMa = 999;
      (mine.fields.temperaturesC as number[]).push(99);
      mine.buildingId = 'B-2';
      const [read] = await all();
      expect(withoutLogId(read!)).toEqual(expected);
      read!.fields.residualCurrentMa = 1;
      (read!.fields.temperaturesC as number[])[0] = 0;
      read!.deviceId = 'someone-else';
      expect((await all()).map(withoutLogId)).toEqual([expected]);
    });

    it('commits what was appended before close, then refuses appends', async () => {
      const heard: number[] = [];
      log().onAppend((rs) => heard.push(...logIds(rs)));
      const inFlight = [log().append([pressure('x-1', 1)]), log().append([pressure('x-1', 2), pressure('x-2', 1)])];
      await log().close();
      const done = await Promise.all(inFlight);
      expect(done.map((r) => r.appended.length)).toEqual([1, 2]);
      expect(heard).toEqual(done.flatMap((r) => logIds(r.appended)));
      const refused = await log().append([pressure('x-1', 3)]).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(LogError);
      expect((refused as LogError).code).toBe('log_closed');
      await log().close(); // twice is fine
    });

    it('when durable, gives back after a reopen what it held, de-duplicates against it and goes on after it', async (ctx) => {
      if (!handle?.reopen) return ctx.skip();
      const first = await log().append([pressure('r-1', 1), pressure('r-1', 2), pressure('r-2', 1)]);
      const before = await all();
      current = await handle.reopen();
      await current.start();
      expect((await all()).map(withoutLogId)).toEqual(before.map(withoutLogId));
      expect(logIds(await all())).toEqual(logIds(before));
      expect(await log().lastId()).toBe(first.appended[2]!.logId);
      const again = await log().append([pressure('r-1', 2), pressure('r-1', 3)]);
      expect(again.duplicates).toBe(1);
      expect(again.appended[0]!.logId).toBeGreaterThan(first.appended[2]!.logId!);
      expect((await all()).map((r) => `${r.deviceId}/${r.seq}`)).toEqual(['r-1/1', 'r-1/2', 'r-2/1', 'r-1/3']);
    });
  });
}
