/**
 * The district's daily duty check of its UITDs (查岗, issue #14): Firewatch, as the monitoring
 * centre, sends every UITD in service a duty check (centre-commands.ts) and records who answered —
 * a person at the building presses the UITD's answer button, and the UITD sends an operation record
 * with the duty-check-answered bit (the listener's onDutyCheckAnswered) — within
 * GB26875_DUTY_CHECK_S. Run every day at GB26875_DUTY_ROUND_AT (in GB26875_TZ), or now from the API.
 *
 *   round ─► each UITD: duty_check ─► confirmed ─► waiting ─► its 查岗应答 record ─► answered
 *                                   │                       └── the window passes ──► unanswered
 *                                   └── denied, timeout, not connected ───────────► unreachable
 *
 * The last 30 rounds are kept in the settings store: the report a district reads.
 */
import type { Logger } from 'pino';
import type { CentreCommands, DutyRound, DutyRounds } from '../../services/devices/gb26875-points.js';
import type { Device } from '../../services/devices/model.js';
import type { Clock, TimerHandle } from '../../services/shared/clock.js';
import type { OutageReporter } from '../../services/shared/outage.js';
import type { SyncSettingsStore } from '../../services/shared/settings.js';

export interface DutyRoundsDeps {
  commands: CentreCommands;
  /** the UITDs in service now */
  uitds: () => Device[];
  settings: SyncSettingsStore;
  clock: Clock;
  windowS: number;
  /** minutes after midnight, in the zone `offsetMinutes` east of UTC; undefined: no daily round */
  dailyAtMin: number | undefined;
  offsetMinutes: number;
  /** a failed save of the rounds is a storage outage (counted, on /readyz); they stay in memory */
  outages: Pick<OutageReporter, 'failed' | 'ok'>;
  log: Logger;
}

const KEY = 'gb26875_duty_rounds';
const KEPT = 30;
const DAY = 86_400_000;

export class UitdDutyRounds implements DutyRounds {
  private rounds: DutyRound[] = [];
  private readonly timers = new Set<TimerHandle>();
  private daily: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly deps: DutyRoundsDeps) {}

  start(): void {
    const raw = this.deps.settings.get(KEY);
    this.rounds = raw ? (JSON.parse(raw) as DutyRound[]) : [];
    for (const r of this.rounds) if (r.items.some((i) => i.status === 'waiting')) this.armDeadline(r);
    this.scheduleDaily();
  }

  /** Check every UITD in service now; resolves once each duty check was confirmed or failed. */
  async run(by: string): Promise<DutyRound> {
    const now = this.deps.clock.now();
    const uitds = this.deps.uitds();
    const round: DutyRound = {
      id: `dr-${now.toString(36)}`,
      startedAt: new Date(now).toISOString(),
      by,
      deadline: new Date(now + this.deps.windowS * 1000).toISOString(),
      items: uitds.map((d) => ({ deviceId: d.id, buildingId: d.buildingId, sent: 'sending', status: 'waiting', answeredAt: null })),
    };
    this.rounds = [round, ...this.rounds].slice(0, KEPT);
    this.armDeadline(round);
    await Promise.all(
      round.items.map(async (item) => {
        try {
          const r = await this.deps.commands.run(item.deviceId, 'duty_check', by);
          item.sent = r.outcome;
          if (r.outcome !== 'confirmed' && item.status === 'waiting') item.status = 'unreachable';
        } catch (err) {
          item.sent = 'failed';
          item.status = 'unreachable';
          this.deps.log.warn({ err, deviceId: item.deviceId }, 'duty check not sent');
        }
      }),
    );
    this.save();
    const answered = round.items.filter((i) => i.status === 'answered').length;
    this.deps.log.info({ id: round.id, uitds: round.items.length, unreachable: round.items.filter((i) => i.status === 'unreachable').length, answered }, 'duty check round sent to the UITDs');
    return structuredClone(round);
  }

  /** A UITD says a person answered a duty check on it: the newest round waiting for it is answered. */
  answered(deviceId: string, at: number): void {
    for (const r of this.rounds) {
      if (Date.parse(r.startedAt) > at) continue;
      const item = r.items.find((i) => i.deviceId === deviceId);
      if (!item) continue;
      if (item.status === 'waiting') {
        item.status = 'answered';
        item.answeredAt = new Date(at).toISOString();
        this.save();
      }
      return; // only the newest round the device was in
    }
  }

  /** Newest first. */
  list(): DutyRound[] {
    return structuredClone(this.rounds);
  }

  close(): void {
    this.closed = true;
    this.daily?.cancel();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  private armDeadline(r: DutyRound): void {
    const t = this.deps.clock.at(Date.parse(r.deadline) + 1, () => {
      this.timers.delete(t);
      if (this.closed) return;
      let changed = false;
      for (const i of r.items) {
        if (i.status !== 'waiting') continue;
        i.status = 'unanswered';
        changed = true;
      }
      if (changed) this.save();
    });
    this.timers.add(t);
  }

  /** The next daily round: today's time if still ahead, else tomorrow's, in the configured zone. */
  private scheduleDaily(): void {
    const at = this.deps.dailyAtMin;
    if (at === undefined || this.closed) return;
    const now = this.deps.clock.now();
    const offset = this.deps.offsetMinutes * 60_000;
    const localMidnight = Math.floor((now + offset) / DAY) * DAY - offset;
    let due = localMidnight + at * 60_000;
    if (due <= now) due += DAY;
    this.daily = this.deps.clock.at(due, () => {
      if (this.closed) return;
      void this.run('system:schedule').catch((err: unknown) => this.deps.log.error({ err }, 'daily duty check round failed'));
      this.scheduleDaily();
    });
  }

  private save(): void {
    try {
      this.deps.settings.set(KEY, JSON.stringify(this.rounds));
      this.deps.outages.ok('duty_rounds');
    } catch (err) {
      this.deps.outages.failed('duty_rounds', err);
    }
  }
}
