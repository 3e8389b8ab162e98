/**
 * The alarm clocks' pure parts (issue #15 item 4): services/alerts/alarm-clocks.ts (stamping in
 * order, spans, what is watched and when it is late), the operational alert's sentence
 * (clock-watch.ts lateMessage) and the log's commit times (services/log/reading-log.ts CommitTimes).
 */
import { describe, expect, it } from 'vitest';
import { CLOCKS, isLate, openingClocks, spanSeconds, spansEndingAt, stampClock, watchedClocks, type AlertClocks } from '../../services/alerts/alarm-clocks.js';
import { lateMessage } from '../../services/alerts/clock-watch.js';
import { CommitTimes } from '../../services/log/reading-log.js';
import type { Reading } from '../../services/telemetry/telemetry.js';

const T0 = Date.parse('2026-12-04T10:00:00.000Z');
const iso = (dt: number) => new Date(T0 + dt).toISOString();
const reading = (extra: Partial<Reading> = {}): Reading => ({
  deviceId: 'd1', kind: 'electrical_fire', channel: 'event', ts: T0 - 300, receivedAt: T0, durableAt: T0 + 4, fields: { alarm: true }, ...extra,
});
const targets = { displayS: 10, forwardS: 3 };

describe('openingClocks', () => {
  it("takes the reading's time, receipt and commit, and the raise; the rest null", () => {
    expect(openingClocks(reading(), iso(6))).toEqual({
      deviceTs: iso(-300), receivedAt: iso(0), durableAt: iso(4), durableAtSource: 'commit', raisedAt: iso(6),
      firstShownAt: null, acknowledgedAt: null, forwardedAt: null, platformConfirmedAt: null,
    });
  });

  it('no device time when the device sent none; a read-back commit says so; no reading: only the raise', () => {
    expect(openingClocks(reading({ serverTs: true, ts: T0 }), iso(6)).deviceTs).toBeNull();
    expect(openingClocks(reading({ durableReadBack: true }), iso(6)).durableAtSource).toBe('read_back');
    const none = openingClocks(undefined, iso(6));
    expect(none).toMatchObject({ deviceTs: null, receivedAt: null, durableAt: null, durableAtSource: null, raisedAt: iso(6) });
  });
});

describe('stampClock', () => {
  it('sets a clock once: the first report wins', () => {
    const c = openingClocks(reading(), iso(6));
    expect(stampClock(c, 'firstShownAt', iso(900))).toBe(true);
    expect(stampClock(c, 'firstShownAt', iso(1200))).toBe(false);
    expect(c.firstShownAt).toBe(iso(900));
  });

  it('never behind the clock before it, never once a later one is set: the clocks stay in order', () => {
    const c = openingClocks(reading(), iso(6));
    // a console's report computed a moment before the raise committed: raised to the raise
    expect(stampClock(c, 'firstShownAt', iso(5))).toBe(true);
    expect(c.firstShownAt).toBe(iso(6));
    expect(stampClock(c, 'acknowledgedAt', iso(2000))).toBe(true);
    const late = openingClocks(reading(), iso(6));
    stampClock(late, 'acknowledgedAt', iso(2000));
    // shown after the acknowledgement (acknowledged through the API): not recorded
    expect(stampClock(late, 'firstShownAt', iso(3000))).toBe(false);
    expect(late.firstShownAt).toBeNull();
    for (const x of [c, late]) {
      const set = CLOCKS.map((k) => x[k]).filter((v): v is string => v !== null && v !== x.deviceTs);
      expect(set).toEqual([...set].sort());
    }
  });

  it("a device clock ahead of ours does not move ours", () => {
    const c = openingClocks(reading({ ts: T0 + 5000, receivedAt: undefined, durableAt: undefined }), iso(6));
    expect(stampClock(c, 'firstShownAt', iso(100))).toBe(true);
    expect(c.firstShownAt).toBe(iso(100));
  });
});

describe('spans', () => {
  const full: AlertClocks = {
    deviceTs: iso(-300), receivedAt: iso(0), durableAt: iso(4), durableAtSource: 'commit', raisedAt: iso(6), firstShownAt: iso(906),
    acknowledgedAt: iso(5000), forwardedAt: iso(5010), platformConfirmedAt: iso(5030),
  };

  it('in seconds between two set clocks', () => {
    expect(spanSeconds(full, 'device_to_received')).toBe(0.3);
    expect(spanSeconds(full, 'received_to_durable')).toBe(0.004);
    expect(spanSeconds(full, 'received_to_shown')).toBe(0.906);
    expect(spanSeconds(full, 'forwarded_to_confirmed')).toBe(0.02);
    expect(spanSeconds({ ...full, forwardedAt: null }, 'acknowledged_to_forwarded')).toBeUndefined();
  });

  it('a read-back commit time is no span: neither end of it is observed', () => {
    const back = { ...full, durableAtSource: 'read_back' as const };
    expect(spanSeconds(back, 'received_to_durable')).toBeUndefined();
    expect(spanSeconds(back, 'durable_to_raised')).toBeUndefined();
    expect(spanSeconds(back, 'received_to_shown')).toBe(0.906);
  });

  it('the spans a new clock ends: the display ends two, a negative (device clock ahead) is left out', () => {
    expect(spansEndingAt(full, 'firstShownAt').map((s) => s.span).sort()).toEqual(['raised_to_shown', 'received_to_shown']);
    expect(spansEndingAt({ ...full, deviceTs: iso(50) }, 'receivedAt')).toEqual([]);
  });
});

describe('what is watched, and when it is late', () => {
  const hazard = { rule: 'device_alarm', class: 'hazard', status: 'open', maintenance: false, commissioning: false };
  const opts = { fireAlarm: false, forwarding: true, system: false };

  it('a hazard is held to the display target from its receipt until a person acknowledged it unseen', () => {
    const c = openingClocks(reading(), iso(6));
    const [w] = watchedClocks({ ...hazard, clocks: c }, targets, opts);
    expect(w).toEqual({ span: 'received_to_shown', fromMs: T0, targetS: 10, endMs: null });
    expect(isLate(w!, T0 + 10_000)).toBe(false);
    expect(isLate(w!, T0 + 10_001)).toBe(true);
    expect(isLate({ ...w!, endMs: T0 + 9_000 }, T0 + 60_000)).toBe(false);
    expect(isLate({ ...w!, endMs: T0 + 10_500 }, T0 + 60_000)).toBe(true);
    stampClock(c, 'acknowledgedAt', iso(2000));
    expect(watchedClocks({ ...hazard, clocks: c }, targets, opts)).toEqual([]);
  });

  it('an alert raised by time alone runs from its raise; faults, maintenance, commissioning, system alerts and alerts without clocks are not watched', () => {
    const c = openingClocks(undefined, iso(6));
    expect(watchedClocks({ ...hazard, clocks: c }, targets, opts)[0]!.fromMs).toBe(T0 + 6);
    expect(watchedClocks({ ...hazard, class: 'fault', clocks: c }, targets, opts)).toEqual([]);
    expect(watchedClocks({ ...hazard, maintenance: true, clocks: c }, targets, opts)).toEqual([]);
    expect(watchedClocks({ ...hazard, commissioning: true, clocks: c }, targets, opts)).toEqual([]);
    expect(watchedClocks({ ...hazard, clocks: c }, targets, { ...opts, system: true })).toEqual([]);
    expect(watchedClocks({ ...hazard }, targets, opts)).toEqual([]);
  });

  it('a confirmed fire alarm is held to the forwarding target from its acknowledgement, while an uplink forwards', () => {
    const c = openingClocks(reading(), iso(6));
    stampClock(c, 'firstShownAt', iso(500));
    stampClock(c, 'acknowledgedAt', iso(4000));
    const fire = { ...opts, fireAlarm: true };
    expect(watchedClocks({ ...hazard, clocks: c }, targets, fire).map((w) => w.span)).toEqual(['received_to_shown', 'acknowledged_to_forwarded']);
    expect(watchedClocks({ ...hazard, clocks: c }, targets, { ...fire, forwarding: false }).map((w) => w.span)).toEqual(['received_to_shown']);
    expect(watchedClocks({ ...hazard, clocks: c }, targets, opts).map((w) => w.span)).toEqual(['received_to_shown']);
    const fwd = watchedClocks({ ...hazard, clocks: c }, targets, fire)[1]!;
    expect(fwd).toEqual({ span: 'acknowledged_to_forwarded', fromMs: T0 + 4000, targetS: 3, endMs: null });
  });
});

describe('the operational alert says which alert, which span, how late: Chinese first', () => {
  const a = { id: 'al-1', rule: 'device_alarm' as const, buildingName: '解放碑商场', buildingId: 'b1', deviceId: 'd1' };
  it('not shown at all, shown late, not forwarded, forwarded late', () => {
    const shown = { span: 'received_to_shown' as const, fromMs: T0, targetS: 10 };
    expect(lateMessage(a, { ...shown, endMs: null }).zh).toBe('告警“探测器报警”（解放碑商场）接收后 10 秒内未在任何值班控制台显示，超过显示时限（GB 50440）；告警编号 al-1');
    expect(lateMessage(a, { ...shown, endMs: T0 + 12_345 })).toEqual({
      zh: '告警“探测器报警”（解放碑商场）从接收到首次显示用时 12.345 秒，超过 10 秒的显示时限（GB 50440）；告警编号 al-1',
      en: 'Alert device_alarm (解放碑商场) took 12.345 s from its receipt to its first display, over the 10 s display target (GB 50440); alert al-1',
    });
    const fwd = { span: 'acknowledged_to_forwarded' as const, fromMs: T0, targetS: 3 };
    expect(lateMessage(a, { ...fwd, endMs: null }).zh).toContain('确认后 3 秒内未转发至市级平台');
    expect(lateMessage(a, { ...fwd, endMs: T0 + 4500 }).en).toContain('took 4.5 s from its confirmation to its forwarding, over the 3 s forwarding target');
  });
});

describe('CommitTimes', () => {
  const r = (logId: number): Reading => ({ deviceId: 'd', kind: 'water_pressure', channel: 'telemetry', ts: 1, fields: {}, logId });

  it("stamps the appended readings, and readings read back within a recent commit's range", () => {
    const t = new CommitTimes(2);
    const first = [r(1), r(2), r(3)];
    t.committed(first, 1000);
    expect(first.map((x) => x.durableAt)).toEqual([1000, 1000, 1000]);
    t.committed([r(5), r(4)], 2000);
    const back = [r(1), r(3), r(4), r(5), r(6)];
    t.stamp(back);
    expect(back.map((x) => x.durableAt)).toEqual([1000, 1000, 2000, 2000, undefined]);
    // only the last `max` commits are kept
    t.committed([r(6)], 3000);
    const again = [r(2), r(6)];
    t.stamp(again);
    expect(again.map((x) => x.durableAt)).toEqual([undefined, 3000]);
  });

  it('ids between two commits of ours (another node’s) get nothing', () => {
    const t = new CommitTimes();
    t.committed([r(10), r(11)], 1000);
    t.committed([r(20)], 2000);
    const mid = [r(15)];
    t.stamp(mid);
    expect(mid[0]!.durableAt).toBeUndefined();
  });
});
