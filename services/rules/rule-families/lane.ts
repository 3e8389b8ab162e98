/**
 * Fire lanes: lane_blocked. The sensor reports occupied true/false; the dwell time (forS, 300 s
 * by default, 60–600 s per site) and the re-alert interval live in the condition state machine,
 * so a lane reported occupied once still alerts after forS without another message (fact 55).
 */
import type { RuleFamily } from './rule-family.js';

export const laneFamily: RuleFamily = {
  name: 'lane',
  ids: ['lane_blocked'],
  appliesTo: (kind) => kind === 'fire_lane',
  evaluate(reading, rules, memory) {
    const occupied = reading.fields.occupied;
    if (reading.channel !== 'telemetry' || typeof occupied !== 'boolean' || !rules.lane_blocked) {
      return { results: {}, memory };
    }
    return { results: { lane_blocked: { breached: occupied, cleared: !occupied, value: occupied ? 1 : 0 } }, memory };
  },
};
