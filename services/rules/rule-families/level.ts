/**
 * Tank and pool level: level_low (value < threshold) and level_high (value > threshold).
 * The control cabinet must show high, normal and low level (fact 48), but no standard gives the
 * values (UNVERIFIED), so both rules stay off until a band is configured per device.
 */
import type { RuleSet } from '../rule-types.js';
import { aboveRule, belowRule, numberField, type RuleFamily } from './rule-family.js';

export const levelFamily: RuleFamily = {
  name: 'level',
  ids: ['level_low', 'level_high'],
  appliesTo: (kind) => kind === 'water_level',
  evaluate(reading, rules: RuleSet, memory) {
    const v = reading.channel === 'telemetry' ? numberField(reading, 'levelM') : undefined;
    if (v === undefined) return { results: {}, memory };
    const results: ReturnType<RuleFamily['evaluate']>['results'] = {};
    const low = rules.level_low;
    if (low?.threshold !== undefined) results.level_low = belowRule(v, low.threshold, low.hysteresis);
    const high = rules.level_high;
    if (high?.threshold !== undefined) results.level_high = aboveRule(v, high.threshold, high.hysteresis);
    return { results, memory };
  },
};
