/**
 * An alert's clocks (issue #15 item 4): when each step on the way from a sensor to the 119 command
 * centre happened, so that the duty room can show GB 50440's two targets are met (docs/standards.md
 * fact 57: an alarm shown at the monitoring centre within 10 s, a confirmed fire alarm passed on
 * within 3 s). Pure: no I/O, no clock; the alert service stamps them, the clock watch
 * (clock-watch.ts) compares them with the targets.
 *
 *   deviceTs ─► receivedAt ─► durableAt ─► raisedAt ─► firstShownAt ─► acknowledgedAt ─► forwardedAt ─► platformConfirmedAt
 *   the reading's   the broker    the reading    the alert     the first duty    a person        the uplink sent     the platform
 *   own time        received it   log committed  was created   console showed    confirmed it    the confirmed       confirmed it
 *                                 it                           it                                alarm               (HTTP 2xx, GB/T confirm)
 *
 * Each clock is set once, the first time (a second report changes nothing), and only after the
 * one before it where that one is set, so the clocks read in order:
 * - deviceTs, receivedAt, durableAt come from the reading whose rule outcome raised the alert; an
 *   alert raised by time alone (a lane held occupied, a device gone silent) or by the service
 *   itself has none of them. deviceTs is null when the device sent no timestamp (ts is then our
 *   receive time, not the device's).
 * - durableAt is the commit of the log's append as the appending process learned it. It is not
 *   stored with the reading (that would need a column in the reading log); a reading read back from
 *   the log by another process (after a restart, or appended by another PostgreSQL node) carries,
 *   as the best honest value, the time the processors read it back: it was durable then at the
 *   latest (`durableAtSource: 'read_back'`). The spans that end or start there are not observed.
 * - firstShownAt: the first duty console that displayed the alert says so (POST /alerts/{id}/shown);
 *   not set once a person acknowledged the alert (it was evidently seen, and the clocks stay in order).
 * - forwardedAt / platformConfirmedAt time the *confirmed* alarm: the first uplink item of the alert
 *   sent after its acknowledgement (the acknowledgement's own alert.updated, or a later one) by an
 *   adapter that put it on the wire (UplinkAdapter.sends); when the send started, and when it
 *   resolved (HTTP: a 2xx answer; MQTT: the broker's PUBACK; the GB/T 26875.3 client has no frame
 *   for an acknowledgement, and a later item it sends, a recovery, is confirmed by the centre). The
 *   raise itself is forwarded at once and is not a clock here (it would run beside firstShownAt).
 */
import type { Reading } from '../telemetry/telemetry.js';

export const CLOCKS = ['deviceTs', 'receivedAt', 'durableAt', 'raisedAt', 'firstShownAt', 'acknowledgedAt', 'forwardedAt', 'platformConfirmedAt'] as const;
export type ClockName = (typeof CLOCKS)[number];

export interface AlertClocks {
  /** ISO 8601 instants, each null until it happened (or when it is not known) */
  deviceTs: string | null;
  receivedAt: string | null;
  durableAt: string | null;
  raisedAt: string | null;
  firstShownAt: string | null;
  acknowledgedAt: string | null;
  forwardedAt: string | null;
  platformConfirmedAt: string | null;
  /** commit: the log's commit; read_back: the time the processors read the reading back (an upper bound) */
  durableAtSource?: 'commit' | 'read_back' | null;
  /** who the console that first showed it was logged in as */
  firstShownBy?: string | null;
  /** the adapter that forwarded it first (http, mqtt, gb26875) */
  forwardedVia?: string | null;
  /** spans found over their target (the clock watch), each reported once */
  late?: SpanName[];
}

/** The spans `/metrics` observes (firewatch_alert_span_seconds{span}): from one clock to a later one. */
export const SPANS = {
  device_to_received: ['deviceTs', 'receivedAt'],
  received_to_durable: ['receivedAt', 'durableAt'],
  durable_to_raised: ['durableAt', 'raisedAt'],
  raised_to_shown: ['raisedAt', 'firstShownAt'],
  shown_to_acknowledged: ['firstShownAt', 'acknowledgedAt'],
  acknowledged_to_forwarded: ['acknowledgedAt', 'forwardedAt'],
  forwarded_to_confirmed: ['forwardedAt', 'platformConfirmedAt'],
  received_to_shown: ['receivedAt', 'firstShownAt'],
} as const satisfies Record<string, readonly [ClockName, ClockName]>;
export type SpanName = keyof typeof SPANS;
export const SPAN_NAMES = Object.keys(SPANS) as SpanName[];

/** The spans a duty room is held to, and their targets in seconds (ALERT_DISPLAY_TARGET_S, ALERT_FORWARD_TARGET_S). */
export interface ClockTargets {
  /** received → first shown, for a hazard on the duty board (GB 50440: 10 s); 0: not watched */
  displayS: number;
  /** acknowledged → forwarded, for a confirmed fire alarm (GB 50440: 3 s); 0: not watched */
  forwardS: number;
}
export type WatchedSpan = 'received_to_shown' | 'acknowledged_to_forwarded';

/** The clocks of a new alert: those of the reading that raised it (if any) and the raise. */
export function openingClocks(reading: Reading | undefined, raisedAt: string): AlertClocks {
  const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
  return {
    deviceTs: reading && !reading.serverTs ? iso(reading.ts) : null,
    receivedAt: iso(reading?.receivedAt),
    durableAt: iso(reading?.durableAt),
    durableAtSource: reading?.durableAt === undefined ? null : reading.durableReadBack ? 'read_back' : 'commit',
    raisedAt,
    firstShownAt: null,
    acknowledgedAt: null,
    forwardedAt: null,
    platformConfirmedAt: null,
  };
}

/**
 * Set `clock` to `at` unless it is set already (the first report wins) or a later clock is (the
 * clocks stay in order); true when it was set. A clock earlier than the one before it is raised to
 * that one (two machines' clocks, or one clock's milliseconds, never run the clocks backwards).
 */
export function stampClock(c: AlertClocks, clock: ClockName, at: string): boolean {
  const i = CLOCKS.indexOf(clock);
  if (c[clock] !== null) return false;
  for (let j = i + 1; j < CLOCKS.length; j++) if (c[CLOCKS[j]!] !== null) return false;
  let value = at;
  for (let j = i - 1; j >= 0; j--) {
    const before = c[CLOCKS[j]!];
    if (before === null) continue;
    // the device's own clock may run ahead of ours (within MAX_CLOCK_SKEW_S): not a reason to move ours
    if (CLOCKS[j] !== 'deviceTs' && Date.parse(before) > Date.parse(value)) value = before;
    break;
  }
  c[clock] = value;
  return true;
}

/** A span in seconds, when both its clocks are known (and neither end is a read-back stand-in); negative for a device clock ahead of ours. */
export function spanSeconds(c: AlertClocks, span: SpanName): number | undefined {
  const [from, to] = SPANS[span];
  const a = c[from];
  const b = c[to];
  if (a === null || b === null) return undefined;
  if (c.durableAtSource === 'read_back' && (from === 'durableAt' || to === 'durableAt')) return undefined;
  return (Date.parse(b) - Date.parse(a)) / 1000;
}

/** The spans that end at `clock` and are known now (what to observe once it was set); a negative span (device clock ahead) is left out. */
export function spansEndingAt(c: AlertClocks, clock: ClockName): Array<{ span: SpanName; seconds: number }> {
  const out: Array<{ span: SpanName; seconds: number }> = [];
  for (const span of SPAN_NAMES) {
    if (SPANS[span][1] !== clock) continue;
    const seconds = spanSeconds(c, span);
    if (seconds !== undefined && seconds >= 0) out.push({ span, seconds });
  }
  return out;
}

/**
 * One watched span of an alert: from when (epoch ms) it runs, its target, and when it ended (null:
 * not yet). The display span runs from receipt, or from the raise when no reading raised the alert.
 */
export interface WatchedClock {
  span: WatchedSpan;
  fromMs: number;
  targetS: number;
  endMs: number | null;
}

/** What an alert is watched for, as the clock watch sees it. */
export interface WatchedAlert {
  rule: string;
  class: string;
  status: string;
  maintenance: boolean;
  commissioning?: boolean;
  clocks?: AlertClocks | null;
}

/**
 * The spans of `a` held to a target now: the display of a hazard on the duty board until a person
 * acknowledged it (faults, maintenance and commissioning alerts page nobody), and the forwarding of
 * a confirmed fire alarm (`fireAlarm`) while an uplink forwards (`forwarding`). Alerts without
 * clocks (stored before them) and the service's own alerts are not watched.
 */
export function watchedClocks(a: WatchedAlert, targets: ClockTargets, opts: { fireAlarm: boolean; forwarding: boolean; system: boolean }): WatchedClock[] {
  const c = a.clocks;
  if (!c || opts.system || a.maintenance || a.commissioning) return [];
  const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
  const out: WatchedClock[] = [];
  const from = ms(c.receivedAt) ?? ms(c.raisedAt);
  if (targets.displayS > 0 && a.class === 'hazard' && from !== null && (c.firstShownAt !== null || c.acknowledgedAt === null)) {
    out.push({ span: 'received_to_shown', fromMs: from, targetS: targets.displayS, endMs: ms(c.firstShownAt) });
  }
  const acked = ms(c.acknowledgedAt);
  if (targets.forwardS > 0 && opts.fireAlarm && opts.forwarding && acked !== null) {
    out.push({ span: 'acknowledged_to_forwarded', fromMs: acked, targetS: targets.forwardS, endMs: ms(c.forwardedAt) });
  }
  return out;
}

/** Over its target: it ended too late, or has not ended by `now` and the target passed. */
export function isLate(w: WatchedClock, now: number): boolean {
  const due = w.fromMs + w.targetS * 1000;
  return w.endMs !== null ? w.endMs > due : now > due;
}
