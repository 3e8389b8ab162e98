/**
 * Fire-water pressure: pressure_low (value < threshold), pressure_high (value > threshold) and
 * pressure_drop (the fall from the highest value within windowS exceeds dropMpa).
 * Thresholds come from defaults.ts (GB 50974-2014 5.2.2 / 6.2.1, GB 55036-2022 4.0.5; facts 41–46).
 */
import type { Reading } from '../../telemetry/telemetry.js';
import { afterPressure } from '../hydraulic.js';
import type { RuleSet } from '../rule-types.js';
import { aboveRule, belowRule, numberField, tidy, type FamilyResult, type RuleFamily, type RuleMemory } from './rule-family.js';

/** Bound on the remembered window: a device reporting every second still fits 60 s twice over. */
export const MAX_WINDOW_POINTS = 256;

/**
 * The fall (MPa, ≥ 0) from the highest earlier value within the window to `value`, and the
 * window with this reading added. Readings older than the newest remembered one are ignored
 * for the window (out of order), so a late packet cannot fake a drop.
 *
 * Only the maximum of the window matters, so the window is kept as a monotonic queue: each kept
 * point is higher than every later one (a point followed by a higher or equal one can never be the
 * maximum again). Its head is the window's maximum; a steady or rising signal keeps one point, so
 * the rule state saved with every processed batch stays a few bytes per device however often a
 * sensor reports.
 */
export function pressureDrop(
  window: ReadonlyArray<[number, number]>,
  ts: number,
  value: number,
  windowS: number,
): { drop: number; window: Array<[number, number]> } {
  const from = ts - windowS * 1000;
  // one pass, no closures: this runs for every pressure reading
  const recent: Array<[number, number]> = [];
  let max = value;
  for (let i = 0; i < window.length; i++) {
    const p = window[i]!;
    if (p[0] < from || p[0] > ts) continue;
    recent.push(p);
    if (p[1] > max) max = p[1];
  }
  const last = window[window.length - 1];
  const inOrder = last === undefined || ts >= last[0];
  if (!inOrder) return { drop: Math.max(0, tidy(max - value)), window: [...window] };
  while (recent.length > 0 && recent[recent.length - 1]![1] <= value) recent.pop();
  recent.push([ts, value]);
  return { drop: Math.max(0, tidy(max - value)), window: recent.length > MAX_WINDOW_POINTS ? recent.slice(-MAX_WINDOW_POINTS) : recent };
}

/**
 * The pressure now and the highest in the remembered window, from a device's memory: what a
 * pressure_drop raised by a timer (forS > 0, no reading at hand) reports as measured.
 */
export function pressureNow(memory: RuleMemory | undefined): { measured: number; from: number } | undefined {
  const w = memory?.pressures;
  if (!w || w.length === 0) return undefined;
  // the window is a monotonic queue: its head is the highest point, its tail the newest reading
  return { measured: w[w.length - 1]![1], from: w[0]![1] };
}

export const pressureFamily: RuleFamily = {
  name: 'pressure',
  ids: ['pressure_low', 'pressure_high', 'pressure_drop'],
  appliesTo: (kind) => kind === 'water_pressure',
  evaluate(reading: Reading, rules: RuleSet, memory: RuleMemory): FamilyResult {
    const v = reading.channel === 'telemetry' ? numberField(reading, 'pressureMpa') : undefined;
    if (v === undefined) return { results: {}, memory };
    const results: FamilyResult['results'] = {};
    const low = rules.pressure_low;
    if (low?.threshold !== undefined) results.pressure_low = belowRule(v, low.threshold, low.hysteresis);
    const high = rules.pressure_high;
    if (high?.threshold !== undefined) results.pressure_high = aboveRule(v, high.threshold, high.hysteresis);
    const drop = rules.pressure_drop;
    if (drop?.dropMpa === undefined || drop.windowS === undefined) return { results, memory };
    const d = pressureDrop(memory.pressures ?? [], reading.ts, v, drop.windowS);
    // A fall of *more than* dropMpa breaches; it clears once the window no longer holds such a fall.
    const dropped = aboveRule(d.drop, drop.dropMpa, drop.hysteresis);
    results.pressure_drop = { ...dropped, measured: v, from: tidy(v + d.drop) };
    // a sustained drop means water is flowing (hydraulic.ts); not during a test, which is a flow already
    const next = { ...memory, pressures: d.window };
    return { results, memory: drop.suppressed ? next : afterPressure(next, reading.ts, v, { fell: d.drop, breached: dropped.breached, dropMpa: drop.dropMpa }) };
  },
};
