/**
 * Building rules (issue #15 item 2): conditions across a building's sensors, declared as data
 * beside the per-device rules. A rule names the kinds of evidence it needs, each a list of
 * selectors over the building's alerts (`<rule>/<device kind>` or `<rule>`, the convention of the
 * uplink's alert categories) or over a device's flow signal, and how close in time they must be.
 *
 *   probable_fire          fire evidence and water flowing in one building within 10 min: very
 *                          likely a real fire, not a fault (a detector alone can be dust, a
 *                          pressure drop alone a burst pipe or a test; both together is a fire
 *                          someone or a sprinkler is fighting)
 *   lane_blocked_in_fire   the building's fire lane blocked while fire evidence is active: the
 *                          engines are coming and cannot get in
 *
 * A building may override a rule's parameters (`Building.buildingRules`: `enabled`, `windowS`);
 * switching one off or narrowing its window weakens alerting, so it goes through change control
 * like the building's other alerting fields. The next rule is one entry in BUILDING_RULES (and its
 * sentence in BUILDING_RULE_TEXT).
 *
 * Pure: evidence in, verdicts out; services/alerts/building-rule-runner.ts gathers the evidence and
 * raises the alerts.
 */
import { z } from 'zod';
import type { Message } from './messages.js';
import { SYSTEM_DEFAULT_SOURCE, type Severity } from './rule-types.js';
import type { BuildingRuleOverrides } from '../devices/model.js';

export const BUILDING_RULE_IDS = ['probable_fire', 'lane_blocked_in_fire'] as const;
export type BuildingRuleId = (typeof BUILDING_RULE_IDS)[number];

export const EVIDENCE_KINDS = ['fire', 'water', 'lane'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/**
 * What counts as each kind of evidence. Alert selectors match an unclosed, uncleared alert of the
 * building; `flow_signal` is a water-pressure point's own flow signal (`"flowing": true` from a
 * pump-running contact or a flow switch, services/rules/hydraulic.ts).
 */
export const EVIDENCE_SELECTORS: Readonly<Record<EvidenceKind, readonly string[]>> = {
  // a UITD's fire alarm (a detector or the fire alarm controller), an electrical-fire detector's
  // own latched alarm, a cable over temperature
  fire: ['device_alarm/uitd', 'device_alarm/electrical_fire', 'temperature_high'],
  // water flowing: a sustained fall of a hydrant or sprinkler pressure, a pump started
  water: ['pressure_drop/water_pressure', 'flow_signal'],
  lane: ['lane_blocked'],
};

export interface BuildingRuleSpec {
  id: BuildingRuleId;
  severity: Severity;
  /** every kind must be present */
  needs: readonly EvidenceKind[];
  /**
   * seconds within which the first evidence of each kind must have come (counted from the
   * earliest to the latest); null: all present at once, whenever they came
   */
  windowS: number | null;
  /** why the rule and its parameters are what they are */
  source: string;
}

export const BUILDING_RULES: readonly BuildingRuleSpec[] = [
  {
    id: 'probable_fire',
    severity: 'critical',
    needs: ['fire', 'water'],
    windowS: 600,
    source: `${SYSTEM_DEFAULT_SOURCE}: fire evidence and water flowing in one building within 10 min (issue #15 item 2); forwarded to the platforms as fire evidence`,
  },
  {
    id: 'lane_blocked_in_fire',
    severity: 'critical',
    needs: ['lane', 'fire'],
    windowS: null,
    source: `${SYSTEM_DEFAULT_SOURCE}: a fire lane blocked while fire evidence is active in the building (GB 50016-2014 7.1: fire lanes kept clear for fire engines)`,
  },
];

export const BUILDING_RULE_TEXT: Readonly<Record<BuildingRuleId, { raised: Message; cleared: Message }>> = {
  probable_fire: {
    raised: { zh: '疑似真实火灾：{fire}，且{water}', en: 'Probable fire: {fire}, and {water}' },
    cleared: { zh: '疑似火灾的证据已全部恢复或处置', en: 'The evidence of a probable fire has all cleared or been closed' },
  },
  lane_blocked_in_fire: {
    raised: { zh: '火警期间消防车通道被占用：{lane}；{fire}', en: 'Fire lane blocked during a fire: {lane}; {fire}' },
    cleared: { zh: '消防车通道已恢复或火警证据已恢复', en: 'The fire lane is clear again or the fire evidence has cleared' },
  },
};

/** A building's override of one rule: off, or another window. */
export const BuildingRuleOverrideSchema = z.strictObject({
  enabled: z.boolean().optional(),
  windowS: z.number().int().min(60).max(3600).optional().describe('seconds (60–3600) within which the evidence must come; rules whose evidence must only be present at once take none'),
});
export const BuildingRuleOverridesSchema = z.strictObject(Object.fromEntries(BUILDING_RULE_IDS.map((id) => [id, BuildingRuleOverrideSchema.optional()])) as Record<BuildingRuleId, z.ZodOptional<typeof BuildingRuleOverrideSchema>>);
/** what a building stores (devices/model.ts), as this schema accepts it */
export type { BuildingRuleOverrides } from '../devices/model.js';

export interface EffectiveBuildingRule extends BuildingRuleSpec {
  enabled: boolean;
  /** the building's own setting changed this rule */
  overridden: boolean;
}

/** The rules as they apply in a building: the defaults with the building's overrides. */
export function buildingRulesFor(overrides: BuildingRuleOverrides | null | undefined): EffectiveBuildingRule[] {
  return BUILDING_RULES.map((spec) => {
    const o = overrides?.[spec.id];
    const windowS = spec.windowS !== null && o?.windowS !== undefined ? o.windowS : spec.windowS;
    return { ...spec, windowS, enabled: o?.enabled ?? true, overridden: o !== undefined && (o.enabled !== undefined || (o.windowS !== undefined && spec.windowS !== null)) };
  });
}

/** Whether an override weakens a rule against another (off, or a narrower window): it needs approval. */
export function weakens(before: BuildingRuleOverrides | null | undefined, after: BuildingRuleOverrides | null | undefined): boolean {
  const b = buildingRulesFor(before);
  const a = buildingRulesFor(after);
  return a.some((r, i) => (b[i]!.enabled && !r.enabled) || (r.windowS !== null && b[i]!.windowS !== null && r.windowS < b[i]!.windowS!));
}

/** One piece of evidence in a building: an alert, or a flow signal. */
export interface Evidence {
  kind: EvidenceKind;
  /** the alert's id, or `flow:<deviceId>` */
  ref: string;
  /** when it began (epoch ms) */
  since: number;
  /** the sentence people read */
  text: Message;
  deviceId: string | null;
}

/** The evidence kind an alert or signal is, by EVIDENCE_SELECTORS (undefined: none). */
export function evidenceKindOf(rule: string, deviceKind: string | null): EvidenceKind | undefined {
  const selectors = deviceKind ? [`${rule}/${deviceKind}`, rule] : [rule];
  for (const kind of EVIDENCE_KINDS) if (selectors.some((s) => EVIDENCE_SELECTORS[kind].includes(s))) return kind;
  return undefined;
}

export interface BuildingVerdict {
  ruleId: BuildingRuleId;
  severity: Severity;
  /** the evidence that makes it hold (the earliest of each kind), empty when it does not hold */
  evidence: Evidence[];
  holds: boolean;
}

/**
 * Each enabled rule's verdict over the building's present evidence: it holds when every kind it
 * needs is present and, with a window, some choice of one piece of each kind lies within it.
 */
export function evaluateBuildingRules(rules: readonly EffectiveBuildingRule[], evidence: readonly Evidence[]): BuildingVerdict[] {
  const out: BuildingVerdict[] = [];
  for (const r of rules) {
    if (!r.enabled) continue;
    const found = matchWithin(r.needs.map((k) => evidence.filter((e) => e.kind === k).sort((a, b) => a.since - b.since)), r.windowS);
    out.push({ ruleId: r.id, severity: r.severity, evidence: found ?? [], holds: found !== undefined });
  }
  return out;
}

/** One piece from each list, all within `windowS` of each other (the earliest such set), or undefined. */
function matchWithin(lists: Evidence[][], windowS: number | null): Evidence[] | undefined {
  if (lists.some((l) => l.length === 0)) return undefined;
  if (windowS === null) return lists.map((l) => l[0]!);
  // every candidate start: the set is the earliest piece of each list at or after it within the window
  const starts = lists.flat().sort((a, b) => a.since - b.since);
  for (const start of starts) {
    const set: Evidence[] = [];
    for (const l of lists) {
      const e = l.find((x) => x.since >= start.since && x.since - start.since <= windowS * 1000);
      if (!e) break;
      set.push(e);
    }
    if (set.length === lists.length) return set;
  }
  return undefined;
}

/** The alert's sentence: the rule's, with the evidence filled in. */
export function buildingRuleMessage(ruleId: BuildingRuleId, evidence: readonly Evidence[], transition: 'raised' | 'cleared'): Message {
  const text = BUILDING_RULE_TEXT[ruleId][transition];
  if (transition === 'cleared') return text;
  const of = (kind: EvidenceKind, lang: 'zh' | 'en') =>
    evidence
      .filter((e) => e.kind === kind)
      .map((e) => e.text[lang])
      .join(lang === 'zh' ? '；' : '; ');
  const fill = (s: string, lang: 'zh' | 'en') => s.replace(/\{(fire|water|lane)\}/g, (_, k: EvidenceKind) => of(k, lang));
  return { zh: fill(text.zh, 'zh'), en: fill(text.en, 'en') };
}
