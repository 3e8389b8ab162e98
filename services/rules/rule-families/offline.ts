/**
 * device_offline (class 'fault'): no message for `threshold` seconds, by default 3 ×
 * reportIntervalS (issue #3). Readings cannot report their own absence, so the engine asks
 * offlineDueAt() when to look again and offlineCheck() at that time; any reading clears it.
 */
import type { RuleParams } from '../rule-types.js';
import type { RuleEvaluation, RuleFamily } from './rule-family.js';

/** When the device counts as offline if nothing arrives (epoch ms); undefined when disabled. */
export function offlineDueAt(lastSeenAt: number, params: RuleParams): number | undefined {
  if (!params.enabled || params.threshold === undefined) return undefined;
  return lastSeenAt + params.threshold * 1000;
}

/** Silence in seconds is the value; it breaches at or beyond the threshold. */
export function offlineCheck(lastSeenAt: number, now: number, params: RuleParams): RuleEvaluation | undefined {
  const dueAt = offlineDueAt(lastSeenAt, params);
  if (dueAt === undefined) return undefined;
  const silentS = Math.max(0, Math.floor((now - lastSeenAt) / 1000));
  const breached = now >= dueAt;
  return { breached, cleared: !breached, value: silentS };
}

export const offlineFamily: RuleFamily = {
  name: 'offline',
  ids: ['device_offline'],
  appliesTo: () => true,
  // Any message, telemetry or event, proves the device is alive.
  evaluate: (_reading, rules, memory) => ({
    results: rules.device_offline ? { device_offline: { breached: false, cleared: true, value: 0 } } : {},
    memory,
  }),
};
