/**
 * The for/clear state machine (services/rules/condition.ts): time is passed explicitly as epoch ms.
 */
import { describe, expect, it } from 'vitest';
import { due, initialState, step, tick, type ConditionState, type StepInput, type TimingParams } from '../../services/rules/condition.js';

const T0 = Date.UTC(2026, 5, 1);
const at = (seconds: number) => T0 + seconds * 1000;

/** Feed readings [seconds, breached, cleared, value]; return the transitions with their times in s. */
function run(params: TimingParams, inputs: Array<[number, boolean, boolean, number]>, start: ConditionState = initialState()) {
  let state = start;
  const events: string[] = [];
  for (const [t, breached, cleared, value] of inputs) {
    const input: StepInput = { breached, cleared, value, at: at(t), lowerIsWorse: true };
    const r = step(state, input, params);
    state = r.state;
    if (r.transition) events.push(`${r.transition}${r.realert ? '!' : ''}@${t}`);
  }
  return { state, events };
}

const B = true;
const N = false;

describe('forS', () => {
  const p: TimingParams = { forS: 60, clearS: 30 };

  it('raises only once the condition has held forS', () => {
    expect(run(p, [[0, B, N, 0.05], [30, B, N, 0.04], [59, B, N, 0.05]]).events).toEqual([]);
    expect(run(p, [[0, B, N, 0.05], [30, B, N, 0.04], [60, B, N, 0.05]]).events).toEqual(['raise@60']);
  });

  it('a break in the condition restarts the timer (a pump start dip is not an alarm)', () => {
    const r = run(p, [[0, B, N, 0.05], [40, N, B, 0.2], [50, B, N, 0.05], [100, B, N, 0.05], [110, B, N, 0.05]]);
    expect(r.events).toEqual(['raise@110']);
  });

  it('forS = 0 raises on the first breaching reading', () => {
    expect(run({ forS: 0, clearS: 0 }, [[0, B, N, 1]]).events).toEqual(['raise@0']);
  });

  it('tracks count, last value and the worst value as updates', () => {
    const r = run({ forS: 0, clearS: 30 }, [[0, B, N, 0.06], [10, B, N, 0.03], [20, B, N, 0.05]]);
    expect(r.events).toEqual(['raise@0', 'update@10', 'update@20']);
    expect(r.state).toMatchObject({ phase: 'active', count: 3, value: 0.05, peak: 0.03, activeSince: at(0) });
  });
});

describe('clearS and hysteresis', () => {
  const p: TimingParams = { forS: 0, clearS: 30 };

  it('clears only after the clear condition held clearS', () => {
    const r = run(p, [[0, B, N, 0.05], [10, N, B, 0.2], [39, N, B, 0.2], [40, N, B, 0.2]]);
    expect(r.events).toEqual(['raise@0', 'clear@40']);
    expect(r.state.phase).toBe('normal');
  });

  it('a breach while clearing keeps the same alert (an update, not a new raise)', () => {
    const r = run(p, [[0, B, N, 0.05], [10, N, B, 0.2], [20, B, N, 0.05], [30, N, B, 0.2], [60, N, B, 0.2]]);
    expect(r.events).toEqual(['raise@0', 'update@20', 'clear@60']);
  });

  it('flapping input around the threshold produces a single raise', () => {
    // threshold 0.10, hysteresis 0.01: below 0.10 breaches, ≥ 0.11 clears, between is neither.
    const values = [0.099, 0.101, 0.098, 0.104, 0.099, 0.105, 0.097, 0.102, 0.099, 0.103];
    const inputs = values.map((v, i): [number, boolean, boolean, number] => [i * 10, v < 0.1, v >= 0.11, v]);
    const r = run(p, inputs);
    expect(r.events.filter((e) => e.startsWith('raise'))).toEqual(['raise@0']);
    expect(r.events.some((e) => e.startsWith('clear'))).toBe(false);
  });

  it('a reading inside the hysteresis band interrupts clearing', () => {
    const r = run(p, [[0, B, N, 0.05], [10, N, B, 0.2], [20, N, N, 0.105], [45, N, B, 0.2], [70, N, B, 0.2], [75, N, B, 0.2]]);
    expect(r.events).toEqual(['raise@0', 'clear@75']);
  });

  it('clearS = 0 clears on the first clear reading', () => {
    expect(run({ forS: 0, clearS: 0 }, [[0, B, N, 1], [5, N, B, 0]]).events).toEqual(['raise@0', 'clear@5']);
  });
});

describe('due and tick: time-based transitions without a new reading', () => {
  const lane: TimingParams = { forS: 300, clearS: 30, realertS: 600 };

  it('a lane reported occupied once alerts after forS', () => {
    const { state } = run(lane, [[0, B, N, 1]]);
    expect(due(state, lane)).toBe(at(300));
    expect(tick(state, at(299), lane).transition).toBeUndefined();
    const r = tick(state, at(305), lane);
    expect(r).toMatchObject({ transition: 'raise', at: at(300) });
    expect(r.state.activeSince).toBe(at(300));
  });

  it('re-alerts every realertS while active, once per tick even after a long gap', () => {
    const raised = tick(run(lane, [[0, B, N, 1]]).state, at(300), lane).state;
    expect(due(raised, lane)).toBe(at(900));
    const r = tick(raised, at(2000), lane);
    expect(r).toMatchObject({ transition: 'update', realert: true, at: at(2000) });
    expect(due(r.state, lane)).toBe(at(2600));
  });

  it('re-alert also rides on a breaching reading that arrives after realertS', () => {
    const r = run(lane, [[0, B, N, 1], [300, B, N, 1], [600, B, N, 1], [900, B, N, 1]]);
    expect(r.events).toEqual(['raise@300', 'update@600', 'update!@900']);
  });

  it('clearing completes on a tick', () => {
    const { state } = run({ forS: 0, clearS: 30 }, [[0, B, N, 1], [10, N, B, 0]]);
    expect(due(state, { forS: 0, clearS: 30 })).toBe(at(40));
    expect(tick(state, at(41), { forS: 0, clearS: 30 })).toMatchObject({ transition: 'clear', at: at(40) });
  });

  it('nothing is due in normal or in active without re-alert', () => {
    expect(due(initialState(), lane)).toBeUndefined();
    const { state } = run({ forS: 0, clearS: 0 }, [[0, B, N, 1]]);
    expect(due(state, { forS: 0, clearS: 0 })).toBeUndefined();
  });

  it('state is plain JSON: it survives a round trip through storage', () => {
    const { state } = run(lane, [[0, B, N, 1], [300, B, N, 1]]);
    const restored = JSON.parse(JSON.stringify(state)) as ConditionState;
    expect(restored).toEqual(state);
    expect(tick(restored, at(900), lane)).toMatchObject({ transition: 'update', realert: true });
  });
});
