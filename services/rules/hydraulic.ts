/**
 * The hydraulic state of a fire-water measuring point, and the rules that apply in it.
 *
 *   standby  the system at rest: a gauge reads STATIC pressure (GB 50974-2014 5.2.2, fact 41)
 *   flowing  water flows: a hydrant or head open, a pump running; DYNAMIC limits apply (facts 42, 44)
 *   test     a scheduled test (end-of-line test, pump test, hydrant test): flowing limits apply and
 *            `pressure_drop` gives no verdict — the drawdown is the test, recorded as one
 *
 * What makes a point flowing, strongest first:
 *   1. a scheduled test for the device (services/devices/test-windows.ts);
 *   2. a flow signal in the device's own message, `"flowing": true|false` (a pump-running contact or
 *      a flow switch wired to the transmitter), held until a message says false, at most
 *      FLOW_LATCH_MAX_S;
 *   3. a sustained drop: `pressure_drop` breached — flowing from the next reading until the
 *      pressure recovers to within the drop of where it fell from, at most FLOW_LATCH_MAX_S.
 * A reading is judged in the state known when it arrives (a drop shows up in the reading that
 * reveals it; the flowing limits start with the next one).
 *
 * Pure: state lives in the rule memory the engine persists with the condition states.
 */
import type { Reading } from '../telemetry/telemetry.js';
import type { FlowMemory, RuleMemory } from './rule-families/rule-family.js';
import type { RuleParams, RuleSet } from './rule-types.js';

export type HydraulicState = 'standby' | 'flowing' | 'test';

/** Design choice: a flow that no signal or recovery ends is assumed over after 30 min. */
export const FLOW_LATCH_MAX_S = 30 * 60;

/**
 * The state for this reading, and the memory with the reading's flow signal applied. Only
 * water-pressure readings carry a state; other kinds are always standby.
 */
export function hydraulicState(memory: RuleMemory, reading: Reading | undefined, at: number, testing: boolean): { state: HydraulicState; memory: RuleMemory } {
  let flow = memory.flow;
  const signal = reading?.channel === 'telemetry' ? reading.fields.flowing : undefined;
  if (signal === true) flow = flow?.cause === 'signal' ? flow : { cause: 'signal', since: at };
  else if (signal === false) flow = undefined;
  if (flow && at - flow.since > FLOW_LATCH_MAX_S * 1000) flow = undefined;
  const next = flow === memory.flow ? memory : withFlow(memory, flow);
  if (testing) return { state: 'test', memory: next };
  return { state: flow ? 'flowing' : 'standby', memory: next };
}

/** After the pressure family saw this reading: a sustained drop starts a flow; recovery ends it. */
export function afterPressure(memory: RuleMemory, at: number, value: number, drop: { fell: number; breached: boolean; dropMpa: number }): RuleMemory {
  const flow = memory.flow;
  if (!flow && drop.breached) return withFlow(memory, { cause: 'drop', since: at, from: value + drop.fell });
  if (flow?.cause === 'drop' && flow.from !== undefined && value >= flow.from - drop.dropMpa) return withFlow(memory, undefined);
  return memory;
}

function withFlow(memory: RuleMemory, flow: FlowMemory | undefined): RuleMemory {
  const { flow: _old, ...rest } = memory;
  return flow ? { ...rest, flow } : rest;
}

const specialised = new WeakMap<RuleSet, Map<HydraulicState, RuleSet>>();

/** The rules as they apply in a state: flowing thresholds while flowing, pressure_drop quiet in a test. */
export function rulesInState(rules: RuleSet, state: HydraulicState): RuleSet {
  if (state === 'standby') return rules;
  let byState = specialised.get(rules);
  if (!byState) specialised.set(rules, (byState = new Map()));
  let out = byState.get(state);
  if (!out) {
    out = { ...rules };
    for (const id of ['pressure_low', 'pressure_high'] as const) {
      const p = rules[id];
      if (p) out[id] = flowingParams(p);
    }
    if (state === 'test' && rules.pressure_drop) out.pressure_drop = { ...rules.pressure_drop, suppressed: true };
    byState.set(state, out);
  }
  return out;
}

function flowingParams(p: RuleParams): RuleParams {
  if (p.flowingThreshold === undefined) return p;
  if (p.flowingThreshold === null) return { ...p, suppressed: true };
  const { flowingSource, flowingThreshold, ...rest } = p;
  const out: RuleParams = { ...rest, threshold: flowingThreshold };
  if (flowingSource !== undefined) out.source = flowingSource;
  else delete out.source;
  return out;
}

export interface RuleLimit {
  /** standby: at rest; flowing: while water flows or under test; any: the rule has no states */
  state: 'standby' | 'flowing' | 'any';
  /** the threshold (for pressure_drop the fall in MPa); null when the rule is not checked in that state */
  value: number | null;
  /** the standard clause, or "design choice: …"; absent for a value set on the device */
  source?: string;
}

/** What a rule checks in each state, for the rules API and the console. */
export function ruleLimits(ruleId: string, p: RuleParams): RuleLimit[] {
  const value = (ruleId === 'pressure_drop' ? p.dropMpa : p.threshold) ?? null;
  const at = (state: RuleLimit['state'], v: number | null, source: string | undefined): RuleLimit => (source === undefined ? { state, value: v } : { state, value: v, source });
  if (ruleId !== 'pressure_low' && ruleId !== 'pressure_high') return [at('any', value, p.source)];
  if (p.flowingThreshold === undefined) return [at('standby', value, p.source), at('flowing', value, p.source)];
  return [at('standby', value, p.source), at('flowing', p.flowingThreshold, p.flowingThreshold === null ? undefined : p.flowingSource)];
}
