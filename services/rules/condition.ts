/**
 * The for/clear state machine of one (device, rule) condition. Pure and serialisable: the state
 * is plain JSON so the alerts layer can persist it and the timers survive a restart.
 *
 *            breached (forS > 0)           held forS (step or tick)
 *   normal ───────────────────► pending ─────────────────────────► active ──┐ breached: update
 *     ▲  ◄─────────────────────── │  not breached                     │ ▲ ◄──┘ realertS: update+realert
 *     │                                              cleared (clearS>0)│ │ breached / not cleared
 *     │            clear held clearS (step or tick)                    ▼ │
 *     └───────────────────────────────────────────────────────────── clearing
 *
 * `breached` and `cleared` come from the rule family: breached compares with the threshold,
 * cleared with the threshold moved by the hysteresis, so a value hovering at the threshold is
 * neither and changes nothing once raised. forS = 0 raises on the first breaching reading;
 * clearS = 0 clears on the first clear reading. Times are epoch ms passed in; never a clock.
 */
import type { RuleParams } from './rule-types.js';

export type Phase = 'normal' | 'pending' | 'active' | 'clearing';
export type Transition = 'raise' | 'update' | 'clear';

export interface ConditionState {
  phase: Phase;
  /** start of the current pending or clearing phase; null otherwise */
  since: number | null;
  /** when the alert was raised; null unless active or clearing */
  activeSince: number | null;
  /** last value seen */
  value: number | null;
  /** worst value since the condition began (pending or active) */
  peak: number | null;
  /** breaching readings since the condition began */
  count: number;
  /** last raise or re-alert, for realertS */
  lastAlertAt: number | null;
}

export interface StepInput {
  breached: boolean;
  cleared: boolean;
  value: number;
  at: number;
  /** for low-side rules the worst value is the smallest */
  lowerIsWorse?: boolean;
}

export interface StepResult {
  state: ConditionState;
  transition?: Transition;
  /** true when an 'update' is a periodic re-alert (lane_blocked) */
  realert?: boolean;
  /** when the transition happened; for tick, the due time rather than the tick time */
  at?: number;
}

export type TimingParams = Pick<RuleParams, 'forS' | 'clearS' | 'realertS'>;

export const NORMAL: ConditionState = Object.freeze({
  phase: 'normal',
  since: null,
  activeSince: null,
  value: null,
  peak: null,
  count: 0,
  lastAlertAt: null,
}) as ConditionState;

export function initialState(): ConditionState {
  return { ...NORMAL };
}

const ms = (s: number | undefined) => (s ?? 0) * 1000;

function worse(a: number | null, b: number, lowerIsWorse: boolean | undefined): number {
  if (a === null) return b;
  return lowerIsWorse ? Math.min(a, b) : Math.max(a, b);
}

/** Apply one reading's verdict. Call tick(state, at) first so an overdue timer is not skipped. */
export function step(state: ConditionState, input: StepInput, params: TimingParams): StepResult {
  const { breached, cleared, value, at } = input;
  const peak = breached ? worse(state.peak, value, input.lowerIsWorse) : state.peak;
  switch (state.phase) {
    case 'normal': {
      if (!breached) return { state: { ...state, value } };
      const started: ConditionState = { ...NORMAL, phase: 'pending', since: at, value, peak: value, count: 1 };
      if (params.forS > 0) return { state: started };
      return raise(started, at, at);
    }
    case 'pending': {
      // The condition must hold without a break: any non-breaching reading resets the timer.
      if (!breached) return { state: { ...NORMAL, value } };
      const next = { ...state, value, peak, count: state.count + 1 };
      if (at - (state.since ?? at) >= ms(params.forS)) return raise(next, at, at);
      return { state: next };
    }
    case 'active':
    case 'clearing': {
      if (breached) {
        const next: ConditionState = { ...state, phase: 'active', since: null, value, peak, count: state.count + 1 };
        const realert = realertDue(next, at, params);
        if (realert) return { state: { ...next, lastAlertAt: at }, transition: 'update', realert: true, at };
        return { state: next, transition: 'update', at };
      }
      if (!cleared) return { state: { ...state, phase: 'active', since: null, value } };
      const since = state.phase === 'clearing' ? (state.since ?? at) : at;
      if (at - since >= ms(params.clearS)) return { state: { ...NORMAL, value }, transition: 'clear', at };
      return { state: { ...state, phase: 'clearing', since, value } };
    }
  }
}

function raise(state: ConditionState, at: number, now: number): StepResult {
  return {
    state: { ...state, phase: 'active', since: null, activeSince: at, lastAlertAt: now },
    transition: 'raise',
    at,
  };
}

function realertDue(state: ConditionState, at: number, params: TimingParams): boolean {
  if (!params.realertS || state.lastAlertAt === null) return false;
  return at - state.lastAlertAt >= ms(params.realertS);
}

/** When the next time-based transition is due (epoch ms), so an engine can set one timer. */
export function due(state: ConditionState, params: TimingParams): number | undefined {
  switch (state.phase) {
    case 'normal':
      return undefined;
    case 'pending':
      return (state.since ?? 0) + ms(params.forS);
    case 'clearing':
      return (state.since ?? 0) + ms(params.clearS);
    case 'active':
      return params.realertS && state.lastAlertAt !== null ? state.lastAlertAt + ms(params.realertS) : undefined;
  }
}

/**
 * Apply the time-based transition due by `now`, assuming the last reading still holds (a lane
 * reported occupied stays occupied until told otherwise). A raise is dated at its due time; a
 * re-alert missed during downtime is sent once, not once per missed interval.
 */
export function tick(state: ConditionState, now: number, params: TimingParams): StepResult {
  const when = due(state, params);
  if (when === undefined || now < when) return { state };
  switch (state.phase) {
    case 'pending':
      return raise(state, when, now);
    case 'clearing':
      return { state: { ...NORMAL, value: state.value }, transition: 'clear', at: when };
    case 'active':
      return { state: { ...state, lastAlertAt: now }, transition: 'update', realert: true, at: now };
    case 'normal':
      return { state };
  }
}
