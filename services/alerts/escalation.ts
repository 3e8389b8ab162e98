/**
 * Escalation: an alert not acknowledged by its ack deadline goes to level 1, one not closed by
 * its close deadline to level 2, each published as alert.escalated. One timer, armed for the
 * earliest pending deadline; on start it looks at every unclosed alert, so an escalation due
 * while the service was down happens at once after the restart (the level is stored on the alert).
 */
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { AlertService } from './alert-service.js';
import type { Alert } from './model.js';

interface Pending {
  id: string;
  at: number;
  level: 1 | 2;
  reason: string;
}

function nextStep(a: Alert): Pending | undefined {
  // maintenance and commissioning alerts (issue #17 item 6) never page anybody
  if (a.status === 'closed' || a.maintenance || a.commissioning) return undefined;
  if (a.escalationLevel < 1 && a.status === 'open' && a.ackDeadline) {
    return { id: a.id, at: Date.parse(a.ackDeadline), level: 1, reason: '超过响应时限未确认接警 / not acknowledged by the response deadline' };
  }
  if (a.escalationLevel < 2 && a.closeDeadline) {
    return { id: a.id, at: Date.parse(a.closeDeadline), level: 2, reason: '超过处置时限未处置关闭 / not closed by the disposal deadline' };
  }
  return undefined;
}

export class EscalationScheduler {
  private readonly pending = new Map<string, Pending>();
  private timer: TimerHandle | undefined;
  private armedFor: number | undefined;
  private closed = false;

  constructor(
    private readonly alerts: AlertService,
    private readonly clock: Clock,
  ) {}

  start(): void {
    for (const a of this.alerts.unclosed()) this.track(a);
    this.alerts.onChange((a) => this.track(a));
    this.run();
  }

  private track(a: Alert): void {
    const p = nextStep(a);
    if (p) this.pending.set(a.id, p);
    else this.pending.delete(a.id);
    if (p && (this.armedFor === undefined || p.at < this.armedFor)) this.arm();
  }

  private arm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = undefined;
    if (this.closed) return;
    let next: number | undefined;
    for (const p of this.pending.values()) if (next === undefined || p.at < next) next = p.at;
    if (next === undefined) return;
    this.armedFor = next;
    this.timer = this.clock.at(next, () => this.run());
  }

  private run(): void {
    const now = this.clock.now();
    // an escalation can make the next one due at once (both deadlines passed while down): repeat
    for (let round = 0; round < 3; round++) {
      const due = [...this.pending.values()].filter((p) => p.at <= now);
      if (due.length === 0) break;
      for (const p of due) {
        this.pending.delete(p.id);
        // escalate() publishes, and the change listener tracks the alert's next step
        if (!this.alerts.escalate(p.id, p.level, p.reason)) {
          const a = this.alerts.peek(p.id);
          if (a) this.track(a);
        }
      }
    }
    this.arm();
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
  }
}
