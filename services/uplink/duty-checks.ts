/**
 * Duty checks (查岗) from the GB/T 26875.3 monitoring centre (issue #14): the centre asks whether
 * somebody is on duty; the UITD confirms the frame at once (gb26875-adapter.ts), and a person has to
 * answer within GB26875_DUTY_CHECK_S (300 s) — on a UITD by pressing its answer button, here on the
 * duty console ("应答"). The answer goes to the centre as a UITD operation record (type 24) with the
 * duty-check-answered bit (查岗应答); no answer in time is a missed check, recorded and shown. That
 * is what the check is for: the centre learns whether the duty room is manned.
 *
 *   centre ─91─► adapter: confirm ─► received() ─► pending ── answer(by) ─► type 24 ─► answered
 *                                                     └── deadline passed ─────────────► missed
 *
 * Each change is a live-feed event (`duty_check.requested`, `.answered`, `.missed`, for every duty
 * console); the last 50 checks are kept in the settings store, so a restart keeps them and a check
 * whose deadline passed while the service was down is missed.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { AppError, ConflictError, NotFoundError } from '../shared/errors.js';
import type { OutageReporter } from '../shared/outage.js';
import type { SyncSettingsStore } from '../shared/settings.js';

export interface DutyCheck {
  id: string;
  /** the centre's frame serial number */
  serial: number;
  receivedAt: string;
  /** answered after this is too late: missed */
  deadline: string;
  status: 'pending' | 'answered' | 'missed';
  answeredBy: string | null;
  answeredAt: string | null;
}

export type DutyCheckEvent = 'duty_check.requested' | 'duty_check.answered' | 'duty_check.missed';

export interface DutyChecksDeps {
  settings: SyncSettingsStore;
  clock: Clock;
  /** how long a person has to answer (GB26875_DUTY_CHECK_S) */
  windowS: number;
  /** send the centre the answer (the operation record); rejects when it is not confirmed */
  sendAnswer: () => Promise<void>;
  /** a change, for the live feed */
  publish: (type: DutyCheckEvent, check: DutyCheck) => void;
  /** a failed save of the checks is a storage outage (counted, on /readyz); they stay in memory */
  outages: Pick<OutageReporter, 'failed' | 'ok'>;
  log: Logger;
}

const SETTINGS_KEY = 'gb26875_duty_checks';
const KEPT = 50;

export class DutyChecks {
  private checks: DutyCheck[] = [];
  private readonly timers = new Map<string, TimerHandle>();
  private closed = false;

  constructor(private readonly deps: DutyChecksDeps) {}

  /** Load what was kept; a check whose deadline passed meanwhile is missed. */
  start(): void {
    const raw = this.deps.settings.get(SETTINGS_KEY);
    this.checks = raw ? (JSON.parse(raw) as DutyCheck[]) : [];
    for (const c of this.checks) if (c.status === 'pending') this.arm(c);
  }

  /** The centre checked on duty (its frame is confirmed already). */
  received(check: { serial: number; at: number }): DutyCheck {
    const c: DutyCheck = {
      id: `dc-${check.at.toString(36)}-${check.serial}`,
      serial: check.serial,
      receivedAt: new Date(check.at).toISOString(),
      deadline: new Date(check.at + this.deps.windowS * 1000).toISOString(),
      status: 'pending',
      answeredBy: null,
      answeredAt: null,
    };
    this.checks = [c, ...this.checks.filter((x) => x.id !== c.id)].slice(0, KEPT);
    this.save();
    this.deps.publish('duty_check.requested', c);
    this.arm(c);
    return c;
  }

  /**
   * A duty officer answers: the operation record goes to the centre, then the check is answered.
   * 404 unknown, 409 already answered or missed (too late), 503 when the centre did not confirm
   * the answer (the check stays pending: answer again).
   */
  async answer(id: string, by: string): Promise<DutyCheck> {
    const c = this.checks.find((x) => x.id === id);
    if (!c) throw new NotFoundError('duty check', id);
    if (c.status === 'pending' && this.deps.clock.now() > Date.parse(c.deadline)) this.expire(c);
    if (c.status === 'missed') throw new ConflictError('duty_check_missed', `duty check ${id} was not answered by ${c.deadline}: it is recorded as missed`);
    if (c.status === 'answered') throw new ConflictError('duty_check_answered', `duty check ${id} was answered by ${c.answeredBy} at ${c.answeredAt}`);
    try {
      await this.deps.sendAnswer();
    } catch (err) {
      throw new AppError('centre_unavailable', 503, `the monitoring centre did not confirm the answer: ${err instanceof Error ? err.message : String(err)}; answer again`);
    }
    if (c.status !== 'pending') return c; // answered meanwhile by somebody else's request
    c.status = 'answered';
    c.answeredBy = by;
    c.answeredAt = new Date(this.deps.clock.now()).toISOString();
    this.timers.get(c.id)?.cancel();
    this.timers.delete(c.id);
    this.save();
    this.deps.publish('duty_check.answered', c);
    this.deps.log.info({ id: c.id, by }, 'duty check answered');
    return c;
  }

  /** Newest first; `status` filters. */
  list(status?: DutyCheck['status']): DutyCheck[] {
    return this.checks.filter((c) => status === undefined || c.status === status).map((c) => ({ ...c }));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private arm(c: DutyCheck): void {
    const due = Date.parse(c.deadline);
    if (due <= this.deps.clock.now()) return this.expire(c);
    this.timers.set(
      c.id,
      this.deps.clock.at(due + 1, () => {
        if (!this.closed && c.status === 'pending') this.expire(c);
      }),
    );
  }

  private expire(c: DutyCheck): void {
    c.status = 'missed';
    this.timers.delete(c.id);
    this.save();
    this.deps.publish('duty_check.missed', c);
    this.deps.log.warn({ id: c.id, deadline: c.deadline }, 'duty check from the monitoring centre not answered in time: missed');
  }

  private save(): void {
    try {
      this.deps.settings.set(SETTINGS_KEY, JSON.stringify(this.checks));
      this.deps.outages.ok('duty_checks');
    } catch (err) {
      this.deps.outages.failed('duty_checks', err);
    }
  }
}
