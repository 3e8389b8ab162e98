/**
 * The clock watch (issue #15 item 4): holds every alert's watched spans (alarm-clocks.ts
 * watchedClocks) to their targets and tells the duty room when one is over:
 *
 *   received → first shown       a hazard on the duty board     ALERT_DISPLAY_TARGET_S (10 s, GB 50440)
 *   acknowledged → forwarded     a confirmed fire alarm          ALERT_FORWARD_TARGET_S (3 s, GB 50440)
 *
 * A span is late when its later clock came after the target, or when the target passed and it has
 * not come at all (no console showed the alarm; the platform is unreachable): a timer per span
 * fires then. Each late span is reported once per alert (`clocks.late`, kept with the alert, so a
 * restart does not report it again) as one operational alert, `alarm_clock_late` (class fault): one
 * open at a time, naming the latest late alert and span, its count the number of late spans since
 * it was opened (AlertService.clockLate). The service's own alerts are not watched.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { AlertService } from './alert-service.js';
import { isLate, watchedClocks, type ClockTargets, type SpanName, type WatchedClock, type WatchedSpan } from './alarm-clocks.js';
import { RULE_WORDS } from './alert-records.js';
import type { Alert } from './model.js';

const WATCHED: readonly WatchedSpan[] = ['received_to_shown', 'acknowledged_to_forwarded'];
const SYSTEM_RULES: ReadonlySet<string> = new Set(['service_outage', 'alarm_clock_late']);
/** spans reported kept in memory, the oldest forgotten first (the alert's `clocks.late` is the lasting record) */
const REPORTED_MAX = 10_000;

export interface ClockWatchDeps {
  alerts: Pick<AlertService, 'unclosed' | 'onChange' | 'clockLate'>;
  clock: Clock;
  targets: ClockTargets;
  /** a fire alarm (the uplink's category `fire`): its confirmation is forwarded within forwardS */
  fireAlarm: (a: Alert) => boolean;
  /** an uplink adapter that sends confirmed alarms is configured (HTTP, MQTT; without one nothing is forwarded, and nothing is late) */
  forwarding: boolean;
  /** PostgreSQL: the holder of the processors' lease reports (one node, not each). Absent: always */
  active?: () => boolean;
  /** a late span was reported (metrics) */
  onLate?: (span: SpanName) => void;
  log: Logger;
}

/** "1.234": seconds as the sentence gives them */
const secs = (ms: number) => String(Math.round(ms) / 1000);

/** The operational alert's sentence, Chinese first: which alert, which span, how late. */
export function lateMessage(a: Pick<Alert, 'id' | 'rule' | 'buildingName' | 'buildingId' | 'deviceId'>, w: WatchedClock): { zh: string; en: string } {
  const where = a.buildingName ?? a.buildingId ?? a.deviceId ?? '—';
  const rule = RULE_WORDS[a.rule] ?? a.rule;
  const took = w.endMs === null ? null : secs(w.endMs - w.fromMs);
  const t = String(w.targetS);
  if (w.span === 'received_to_shown') {
    return took === null
      ? {
          zh: `告警“${rule}”（${where}）接收后 ${t} 秒内未在任何值班控制台显示，超过显示时限（GB 50440）；告警编号 ${a.id}`,
          en: `Alert ${a.rule} (${where}) was not shown on any duty console within ${t} s of its receipt, over the display target (GB 50440); alert ${a.id}`,
        }
      : {
          zh: `告警“${rule}”（${where}）从接收到首次显示用时 ${took} 秒，超过 ${t} 秒的显示时限（GB 50440）；告警编号 ${a.id}`,
          en: `Alert ${a.rule} (${where}) took ${took} s from its receipt to its first display, over the ${t} s display target (GB 50440); alert ${a.id}`,
        };
  }
  return took === null
    ? {
        zh: `已确认的火警“${rule}”（${where}）确认后 ${t} 秒内未转发至市级平台，超过转发时限（GB 50440）；告警编号 ${a.id}`,
        en: `The confirmed fire alarm ${a.rule} (${where}) was not forwarded to the platform within ${t} s of its confirmation, over the forwarding target (GB 50440); alert ${a.id}`,
      }
    : {
        zh: `已确认的火警“${rule}”（${where}）从确认到转发平台用时 ${took} 秒，超过 ${t} 秒的转发时限（GB 50440）；告警编号 ${a.id}`,
        en: `The confirmed fire alarm ${a.rule} (${where}) took ${took} s from its confirmation to its forwarding, over the ${t} s forwarding target (GB 50440); alert ${a.id}`,
      };
}

export class ClockWatch {
  /** `${alert id} ${span}` → the timer for a span still running */
  private readonly timers = new Map<string, TimerHandle>();
  /** the latest copy of each alert with a running span (what a timer looks at) */
  private readonly latest = new Map<string, Alert>();
  /** spans reported by this process (the alert's `clocks.late` keeps them across restarts) */
  private readonly reported = new Set<string>();
  private closed = false;

  constructor(private readonly deps: ClockWatchDeps) {}

  start(): void {
    for (const a of this.deps.alerts.unclosed()) this.track(a);
    this.deps.alerts.onChange((a) => this.track(a));
  }

  /** Look at the alert as it is now: report what is late, arm a timer for what still runs. */
  track(a: Alert): void {
    if (this.closed) return;
    const { targets, clock } = this.deps;
    const watched = SYSTEM_RULES.has(a.rule) ? [] : watchedClocks(a, targets, { fireAlarm: this.deps.fireAlarm(a), forwarding: this.deps.forwarding, system: false });
    const now = clock.now();
    let running = false;
    for (const span of WATCHED) {
      const key = `${a.id} ${span}`;
      const w = watched.find((x) => x.span === span);
      if (!w || this.reported.has(key) || a.clocks?.late?.includes(span)) {
        this.cancel(key);
        continue;
      }
      if (isLate(w, now)) {
        this.cancel(key);
        this.report(a, w, key);
      } else if (w.endMs === null) {
        running = true;
        if (!this.timers.has(key)) {
          this.timers.set(
            key,
            clock.at(w.fromMs + w.targetS * 1000 + 1, () => {
              this.timers.delete(key);
              const cur = this.latest.get(a.id);
              if (cur) this.track(cur);
            }),
          );
        }
      } else this.cancel(key);
    }
    if (running) this.latest.set(a.id, a);
    else this.latest.delete(a.id);
  }

  private cancel(key: string): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  private report(a: Alert, w: WatchedClock, key: string): void {
    if (this.deps.active && !this.deps.active()) return;
    this.reported.add(key); // first: clockLate publishes, and its change comes back here
    if (this.reported.size > REPORTED_MAX) this.reported.delete(this.reported.values().next().value!);
    try {
      this.deps.alerts.clockLate(a.id, w.span, lateMessage(a, w));
      this.deps.onLate?.(w.span);
    } catch (err) {
      this.reported.delete(key);
      this.deps.log.warn({ err, alert: a.id, span: w.span }, 'could not report a late alarm clock');
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.latest.clear();
  }
}
