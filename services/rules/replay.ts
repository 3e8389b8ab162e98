/**
 * Rule replay (试算, issue #15 item 3), pure: stored readings and a rule set in, the alerts those
 * rules would have raised out. Before a threshold is changed, the duty room sees what it would
 * have done over a past range.
 *
 *   readings of every device, in time order ─┐
 *   a fresh RuleEngine + InMemoryRuleStateStore (never the service's live state)
 *   before each reading: the timers due before it (forS held, clearS held, re-alerts, a silence
 *     of device_offline), each at its due time, as the RuleRunner's ticks would have run them
 *   the reading: engine.evaluate, then (a device counted offline) offlineCheck brings it back
 *   at `to`: the timers due up to `to`
 *   outcomes ─► episodes: raise … update … clear  →  one would-be alert each
 *
 * What the replay cannot know from stored readings, and so leaves out: the state at `from` (every
 * condition starts normal: an alert open before `from` is raised again at its first breaching
 * reading), connections without a message, rejected messages (sensor_fault from a run of them),
 * last wills, and people closing alerts (live, a hazard that recurs before it is closed is the same
 * alert; here each episode is one). A device's silence counts from the later of `from` and its
 * registration, as the RuleRunner measures it from its own start.
 *
 * No clock, no I/O: times are the readings' and `to`. `replaySteps` yields every `chunk` readings
 * so the caller can let other work run between chunks; `replayRules` runs it to the end.
 */
import type { Building, Device } from '../devices/model.js';
import type { Reading } from '../telemetry/telemetry.js';
import type { Message } from './messages.js';
import { RuleEngine, type RuleContext, type RuleOutcome } from './rule-engine.js';
import { InMemoryRuleStateStore } from './rule-state-store.js';
import type { AlertClass, RuleId, Severity } from './rule-types.js';

/** A span of a scheduled test of a fire-water point (services/devices/test-windows.ts), epoch ms. */
export interface ReplayTestSpan {
  startedAt: number;
  /** when it ended (early, or by itself): exclusive */
  endsAt: number;
}

export interface ReplayDevice {
  device: Device;
  building: Building;
  /** the overrides to replay with: validated (rule-params.ts validateRuleOverrides) */
  overrides: unknown;
  /** the device's readings in the range, telemetry and events, oldest first */
  readings: readonly Reading[];
  /** scheduled tests that overlap the range (water_pressure only) */
  tests?: readonly ReplayTestSpan[];
}

export interface ReplayInput {
  devices: readonly ReplayDevice[];
  /** epoch ms, inclusive */
  from: number;
  /** epoch ms, inclusive */
  to: number;
}

/** An alert the rules would have raised: one episode, raise to clear. */
export interface WouldBeAlert {
  rule: RuleId;
  deviceId: string;
  buildingId: string;
  class: AlertClass;
  severity: Severity;
  /** epoch ms */
  raisedAt: number;
  /** epoch ms; null when still active at `to` */
  clearedAt: number | null;
  /** worst value of the episode (lowest for low-side rules) */
  peak: number | null;
  /** breaching readings in the episode */
  count: number;
  threshold: number | null;
  /** the value at the last transition */
  value: number | null;
  /** periodic re-alerts while it stayed (lane_blocked) */
  realerts: number;
  /** the raise's message, as the alert would have said it */
  message: Message;
}

export interface ReplayResult {
  alerts: WouldBeAlert[];
  /** readings replayed, per device and in all */
  readings: number;
  perDevice: Record<string, number>;
}

const key = (deviceId: string, ruleId: RuleId) => `${deviceId}\u0000${ruleId}`;

const inTest = (spans: readonly ReplayTestSpan[] | undefined, at: number) => spans !== undefined && spans.some((s) => at >= s.startedAt && at < s.endsAt);

/** The replay as steps: yields after every `chunk` readings, returns the result. */
export function* replaySteps(input: ReplayInput, opts: { chunk?: number; engine?: RuleEngine } = {}): Generator<void, ReplayResult, void> {
  const engine = opts.engine ?? new RuleEngine();
  const store = new InMemoryRuleStateStore();
  const chunk = Math.max(1, opts.chunk ?? 5000);
  const byId = new Map(input.devices.map((d) => [d.device.id, d]));
  const contextAt = (d: ReplayDevice, at: number): RuleContext => ({
    device: d.device,
    building: d.building,
    overrides: d.overrides,
    testing: d.device.kind === 'water_pressure' && inTest(d.tests, at),
  });

  // ── episodes ────────────────────────────────────────────────────────────────
  const alerts: WouldBeAlert[] = [];
  const open = new Map<string, WouldBeAlert>();
  const record = (outcomes: readonly RuleOutcome[]) => {
    for (const o of outcomes) {
      const k = key(o.deviceId, o.ruleId);
      const a = open.get(k);
      if (o.transition === 'raise') {
        const raised: WouldBeAlert = {
          rule: o.ruleId,
          deviceId: o.deviceId,
          buildingId: o.buildingId,
          class: o.class,
          severity: o.severity,
          raisedAt: o.at,
          clearedAt: null,
          peak: o.peak,
          count: Math.max(1, o.count),
          threshold: o.threshold,
          value: o.value,
          realerts: 0,
          message: o.message,
        };
        alerts.push(raised);
        open.set(k, raised);
      } else if (a) {
        if (o.transition === 'clear') {
          a.clearedAt = o.at;
          open.delete(k);
        } else {
          a.severity = o.severity;
          a.count = Math.max(a.count, o.count);
          if (o.realert) a.realerts++;
        }
        if (o.peak !== null) a.peak = o.peak;
        if (o.value !== null) a.value = o.value;
      }
    }
  };

  // ── time: the rules' timers and the silences of device_offline ──────────────
  const registeredAt = (d: Device) => Date.parse(d.createdAt) || 0;
  /** when each device was last heard from (epoch ms): its silence counts from here */
  const lastSeen = new Map<string, number>();
  /** when each device's silence is due to be checked, soonest first (stale entries skipped by `version`) */
  const silences = new MinHeap<{ at: number; d: ReplayDevice; version: number }>((a, b) => a.at - b.at);
  const version = new Map<string, number>();
  const heard = (d: ReplayDevice, at: number) => {
    lastSeen.set(d.device.id, at);
    const v = (version.get(d.device.id) ?? 0) + 1;
    version.set(d.device.id, v);
    const due = engine.offlineDue(d.device, d.building, d.overrides, at);
    if (due !== undefined) silences.push({ at: due, d, version: v });
  };
  for (const d of input.devices) heard(d, Math.max(input.from, registeredAt(d.device)));
  const isOffline = (id: string) => {
    const s = store.get(id, 'device_offline');
    return s !== undefined && s.phase !== 'normal';
  };
  const lookupAt = (now: number) => (id: string) => {
    const d = byId.get(id);
    return d ? contextAt(d, now) : undefined;
  };
  const nextSilence = () => {
    for (;;) {
      const top = silences.peek();
      if (!top || top.version === version.get(top.d.device.id)) return top;
      silences.pop();
    }
  };
  /** run every timer due before `until` (or at it, with `inclusive`), each at its own time */
  const runTimers = (until: number, inclusive: boolean) => {
    const inTime = (t: number) => (inclusive ? t <= until : t < until);
    let last = -Infinity;
    for (;;) {
      let rule = engine.nextDue(store, lookupAt(Number.isFinite(last) ? last : input.from));
      // a timer that did not move (its rule no longer applies at that time): later ticks see it again
      if (rule !== undefined && rule <= last) rule = undefined;
      const at = Math.min(rule ?? Infinity, nextSilence()?.at ?? Infinity);
      if (!Number.isFinite(at) || !inTime(at)) return;
      last = at;
      if (rule !== undefined && rule <= at) record(engine.dueChecks(at, store, lookupAt(at)));
      for (let s = nextSilence(); s && s.at <= at; s = nextSilence()) {
        silences.pop();
        const d = s.d;
        if (!isOffline(d.device.id)) record(engine.offlineCheck({ device: d.device, building: d.building, overrides: d.overrides, lastSeenAt: lastSeen.get(d.device.id)!, now: s.at }, store));
      }
    }
  };

  // ── the readings, all devices in one timeline (stable within a device) ──────
  const timeline: Array<{ r: Reading; d: ReplayDevice }> = [];
  const perDevice: Record<string, number> = {};
  for (const d of input.devices) {
    let n = 0;
    for (const r of d.readings) {
      if (r.ts < input.from || r.ts > input.to) continue;
      timeline.push({ r, d });
      n++;
    }
    perDevice[d.device.id] = n;
  }
  timeline.sort((a, b) => a.r.ts - b.r.ts);

  let done = 0;
  for (const { r, d } of timeline) {
    // a timer due exactly at the reading is left to the reading (rule-engine.ts apply), as live
    runTimers(r.ts, false);
    const c = contextAt(d, r.ts);
    record(engine.evaluate(r, d.device, d.building, d.overrides, store, c.testing ? { testing: true } : {}));
    heard(d, r.ts);
    // a message from a device counted offline brings it back (RuleRunner.processDevice)
    if (isOffline(d.device.id)) record(engine.offlineCheck({ device: d.device, building: d.building, overrides: d.overrides, lastSeenAt: r.ts, now: r.ts }, store));
    if (++done % chunk === 0) yield;
  }
  runTimers(input.to, true);
  alerts.sort((a, b) => a.raisedAt - b.raisedAt || a.deviceId.localeCompare(b.deviceId) || a.rule.localeCompare(b.rule));
  return { alerts, readings: timeline.length, perDevice };
}

/** The replay run to the end (tests, small ranges). */
export function replayRules(input: ReplayInput, opts: { engine?: RuleEngine } = {}): ReplayResult {
  const steps = replaySteps(input, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** A binary min-heap: the soonest silence among many devices in O(log n) per reading. */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.less(a[i]!, a[p]!) >= 0) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const end = a.pop();
    if (a.length > 0 && end !== undefined) {
      a[0] = end;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
