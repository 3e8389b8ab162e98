/**
 * Device health and the device's own verdicts:
 * - sensor_fault (class 'fault'): the device's fault flag (GB/T 26875.3 bit2, fact 38), a value
 *   pinned at either end of the sensor's configured span, or a value unchanged for stuckS seconds
 *   and at least stuckReadings readings. A maintenance issue, never shown as a fire alarm.
 * - device_alarm (class 'hazard'): the device's own alarm flag from an event (a detector
 *   latched in alarm, fact 38). Alarm and fault are separate flags that may be set together
 *   (fact 24), so each rule remembers its own flag and recovers when the flag clears.
 * - device_supervisory (class 'hazard'): the event's supervisory flag (监管, GB/T 26875.3 bit4,
 *   from the UITD gateway): a fire-protection facility out of its normal state, not a fire.
 */
import type { DeviceKind, Reading } from '../../telemetry/telemetry.js';
import type { RuleParams, RuleSet } from '../rule-types.js';
import { numberField, type FamilyResult, type RuleFamily, type RuleMemory } from './rule-family.js';
import { hottest } from './electrical.js';

/** The value watched for stuck and clamp detection, per kind; fire lanes have none. */
export function primaryValue(kind: DeviceKind, reading: Reading): number | undefined {
  switch (kind) {
    case 'water_pressure':
      return numberField(reading, 'pressureMpa');
    case 'water_level':
      return numberField(reading, 'levelM');
    case 'electrical_fire':
      return numberField(reading, 'residualCurrentMa') ?? hottest(reading);
    case 'fire_lane':
      return undefined;
  }
}

function observeTelemetry(reading: Reading, p: RuleParams, memory: RuleMemory): RuleMemory {
  const v = primaryValue(reading.kind, reading);
  if (v === undefined) return memory;
  const prev = memory.unchanged;
  const unchanged = prev && prev.value === v ? { ...prev, count: prev.count + 1 } : { value: v, since: reading.ts, count: 1 };
  const stuck =
    p.stuckS !== undefined && unchanged.count >= (p.stuckReadings ?? 2) && reading.ts - unchanged.since >= p.stuckS * 1000;
  const clamped = (p.spanMin !== undefined && v <= p.spanMin) || (p.spanMax !== undefined && v >= p.spanMax);
  return { ...memory, unchanged, stuck, clamped };
}

function observeEvent(reading: Reading, memory: RuleMemory): RuleMemory {
  const next = { ...memory };
  const { fault, alarm, code, supervisory, supervisoryCode } = reading.fields;
  if (typeof fault === 'boolean') next.faultFlag = fault;
  if (typeof alarm === 'boolean') next.alarmFlag = alarm;
  if (typeof code === 'string') next.eventCode = code;
  if (typeof supervisory === 'boolean') {
    next.supervisoryFlag = supervisory;
    if (typeof supervisoryCode === 'string') next.supervisoryCode = supervisoryCode;
    else delete next.supervisoryCode;
  }
  return next;
}

export const faultFamily: RuleFamily = {
  name: 'fault',
  ids: ['sensor_fault', 'device_alarm', 'device_supervisory'],
  appliesTo: () => true,
  evaluate(reading: Reading, rules: RuleSet, memory: RuleMemory): FamilyResult {
    const results: FamilyResult['results'] = {};
    const sf = rules.sensor_fault;
    let next = memory;
    if (reading.channel === 'event') next = observeEvent(reading, memory);
    else if (sf) next = observeTelemetry(reading, sf, memory);

    const informsFault = reading.channel === 'telemetry' || typeof reading.fields.fault === 'boolean';
    if (sf && informsFault) {
      const detail = next.faultFlag ? 'flag' : next.clamped ? 'clamp' : next.stuck ? 'stuck' : undefined;
      const value = primaryValue(reading.kind, reading) ?? next.unchanged?.value ?? (detail ? 1 : 0);
      results.sensor_fault = { breached: detail !== undefined, cleared: detail === undefined, value, ...(detail ? { detail } : {}) };
    }
    if (rules.device_alarm && reading.channel === 'event' && typeof reading.fields.alarm === 'boolean') {
      const alarm = reading.fields.alarm;
      results.device_alarm = { breached: alarm, cleared: !alarm, value: alarm ? 1 : 0, ...(next.eventCode ? { detail: next.eventCode } : {}) };
    }
    if (rules.device_supervisory && reading.channel === 'event' && typeof reading.fields.supervisory === 'boolean') {
      const on = reading.fields.supervisory;
      results.device_supervisory = { breached: on, cleared: !on, value: on ? 1 : 0, ...(on && next.supervisoryCode ? { detail: next.supervisoryCode } : {}) };
    }
    return { results, memory: next };
  },
};
