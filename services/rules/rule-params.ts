/**
 * Per-device overrides merged over the defaults. Validation is a value (for the PATCH route);
 * resolveRules() throws a typed error for an override that should never have been stored.
 */
import { BadRequestError } from '../shared/errors.js';
import type { Building, Device } from '../devices/model.js';
import { defaultRules } from './defaults.js';
import { RULE_IDS, RuleOverridesSchema, type RuleId, type RuleOverrides, type RuleParams, type RuleSet } from './rule-types.js';

export type OverrideValidation = { ok: true; value: RuleOverrides } | { ok: false; detail: string; issues: string[] };

/** Parameters whose change makes the standard's citation no longer the source of the value. */
const THRESHOLD_KEYS = ['threshold', 'dropMpa', 'windowS'] as const;
const HYSTERESIS_CAP = 0.1;

function merge(defaults: RuleParams, override: Partial<RuleParams>, ruleId: RuleId): RuleParams {
  const merged: RuleParams = { ...defaults, ...override };
  if (THRESHOLD_KEYS.some((k) => override[k] !== undefined)) delete merged.source;
  if (override.flowingThreshold !== undefined) delete merged.flowingSource;
  // An inherited hysteresis must stay small against a new threshold (30 mA is fine at 300 mA,
  // absurd at 20 mA): cap it at 10 % of the overridden threshold unless set explicitly.
  if (override.threshold !== undefined && override.hysteresis === undefined && merged.hysteresis !== undefined) {
    merged.hysteresis = Math.min(merged.hysteresis, Math.abs(override.threshold) * HYSTERESIS_CAP);
  }
  // Level rules are off until a band is configured: configuring one switches it on.
  if ((ruleId === 'level_low' || ruleId === 'level_high') && override.threshold !== undefined && override.enabled === undefined) {
    merged.enabled = true;
  }
  return merged;
}

function crossCheck(rules: RuleSet): string[] {
  const issues: string[] = [];
  const low = rules.level_low;
  const high = rules.level_high;
  for (const [id, p] of [['level_low', low], ['level_high', high]] as const) {
    if (p?.enabled && p.threshold === undefined) issues.push(`${id}: enabled needs a threshold (no standard default, fact 48)`);
  }
  if (low?.enabled && high?.enabled && low.threshold !== undefined && high.threshold !== undefined && low.threshold >= high.threshold) {
    issues.push(`level_low.threshold ${low.threshold} m must be below level_high.threshold ${high.threshold} m`);
  }
  const sf = rules.sensor_fault;
  if (sf?.spanMin !== undefined && sf.spanMax !== undefined && sf.spanMin >= sf.spanMax) {
    issues.push(`sensor_fault.spanMin ${sf.spanMin} must be below spanMax ${sf.spanMax}`);
  }
  for (const id of RULE_IDS) {
    const p = rules[id];
    if (p?.hysteresis !== undefined && p.threshold !== undefined && p.hysteresis >= Math.abs(p.threshold) && p.threshold !== 0) {
      issues.push(`${id}.hysteresis ${p.hysteresis} must be smaller than the threshold ${p.threshold}`);
    }
  }
  return issues;
}

/**
 * Check an override object for a device: shape and ranges (zod), rules that do not apply to the
 * device kind, and the merged result's consistency (level band order, span order).
 */
export function validateRuleOverrides(input: unknown, device: Device, building: Building): OverrideValidation {
  const parsed = RuleOverridesSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'rules'}: ${i.message}`);
    return { ok: false, detail: issues.join('; '), issues };
  }
  const defaults = defaultRules(device, building);
  const issues: string[] = [];
  for (const id of RULE_IDS) {
    if (parsed.data[id] !== undefined && defaults[id] === undefined) {
      issues.push(`${id}: does not apply to a ${device.kind} device`);
    }
  }
  issues.push(...crossCheck(mergeRules(defaults, parsed.data)));
  return issues.length === 0 ? { ok: true, value: parsed.data } : { ok: false, detail: issues.join('; '), issues };
}

/** Merge validated overrides over defaults; rules that do not apply to the device are ignored. */
export function mergeRules(defaults: RuleSet, overrides: RuleOverrides | undefined): RuleSet {
  const out: RuleSet = { ...defaults };
  for (const id of RULE_IDS) {
    const base = defaults[id];
    const o = overrides?.[id];
    if (base && o) out[id] = merge(base, o, id);
  }
  return out;
}

export class RuleOverrideError extends BadRequestError {
  constructor(deviceId: string, readonly issues: string[]) {
    super('invalid_rule_override', `invalid rule overrides for device ${deviceId}: ${issues.join('; ')}`, { issues });
    this.name = 'RuleOverrideError';
  }
}

/** The effective rules of a device. Throws RuleOverrideError listing every issue and allowed range. */
export function resolveRules(device: Device, building: Building, overrides: unknown): RuleSet {
  const v = validateRuleOverrides(overrides, device, building);
  if (!v.ok) throw new RuleOverrideError(device.id, v.issues);
  return mergeRules(defaultRules(device, building), v.value);
}
