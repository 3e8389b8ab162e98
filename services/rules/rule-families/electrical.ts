/**
 * Electrical-fire detectors: residual_current_high and temperature_high, both "at or above the
 * setpoint" (issue #3; fact 38: an alarm means the quantity reached the setpoint).
 * Setpoints: 300 mA (GB 50116-2013 9.2.3, facts 30/33/35), 80 °C on any channel (fact 36).
 */
import type { RuleSet } from '../rule-types.js';
import { aboveRule, numberField, type RuleFamily } from './rule-family.js';

/** The hottest channel decides: one overheating conductor is enough. */
export function hottest(reading: { fields: Record<string, unknown> }): number | undefined {
  const temps = reading.fields.temperaturesC;
  if (!Array.isArray(temps)) return undefined;
  const finite = temps.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  return finite.length > 0 ? Math.max(...finite) : undefined;
}

export const electricalFamily: RuleFamily = {
  name: 'electrical',
  ids: ['residual_current_high', 'temperature_high'],
  appliesTo: (kind) => kind === 'electrical_fire',
  evaluate(reading, rules: RuleSet, memory) {
    const results: ReturnType<RuleFamily['evaluate']>['results'] = {};
    if (reading.channel !== 'telemetry') return { results, memory };
    const rc = numberField(reading, 'residualCurrentMa');
    const rcRule = rules.residual_current_high;
    if (rc !== undefined && rcRule?.threshold !== undefined) {
      results.residual_current_high = aboveRule(rc, rcRule.threshold, rcRule.hysteresis, true);
    }
    const t = hottest(reading);
    const tRule = rules.temperature_high;
    if (t !== undefined && tRule?.threshold !== undefined) {
      results.temperature_high = aboveRule(t, tRule.threshold, tRule.hysteresis, true);
    }
    return { results, memory };
  },
};
