/**
 * What an alert is to a monitoring centre or platform: fire evidence, a supervisory (监管)
 * condition, or a fault. One table for every uplink (issue #16 item 6): the JSON uplink sends the
 * category as `data.category`, the GB/T 26875.3 client turns it into component status bits
 * (services/uplink/adapters/gb26875-status-map.ts). docs/uplink-format.md prints this table.
 *
 * Why it matters: a monitoring centre forwards a confirmed fire alarm to the 119 command centre
 * within seconds (GB 50440), so only fire evidence may be labelled a fire. A low pressure, an
 * overflowing tank or a parked car in the fire lane are supervisory conditions of a fire-protection
 * facility, and an electrical-fire monitoring alarm is shown apart from fire alarms (GB 50116-2013,
 * 9.5 commentary): supervisory too.
 *
 * Selectors, most specific first: `<rule>/<device kind>` (device_alarm differs per kind),
 * `<rule>`, `class:<alert class>`. A rule the table does not name falls back to its class, so a new
 * hazard rule is never a fire until someone lists it as one.
 */
import { z } from 'zod';
import { RULE_IDS } from '../rules/rule-types.js';
import { BUILDING_RULE_IDS } from '../rules/building-rules.js';
import { DEVICE_KINDS } from '../telemetry/telemetry.js';

export const ALERT_CATEGORIES = ['fire', 'supervisory', 'fault'] as const;
export type AlertCategory = (typeof ALERT_CATEGORIES)[number];

/**
 * Rules a selector may name: the device rules' ids, the building rules' (probable_fire, fire evidence
 * combined from several signals, and lane_blocked_in_fire: issue #15 item 2), and the system's own
 * service_outage and alarm_clock_late.
 */
export const CATEGORY_RULES: readonly string[] = [...new Set<string>([...RULE_IDS, ...BUILDING_RULE_IDS, 'service_outage', 'alarm_clock_late'])];
const ALERT_CLASSES = ['hazard', 'fault'] as const;

/** The default table. Keep docs/uplink-format.md ("Alert categories") in step: a unit test compares them. */
export const DEFAULT_ALERT_CATEGORIES: Readonly<Record<string, AlertCategory>> = {
  // fire evidence (火警): a UITD reports only its fire alarm bits as `alarm` (a fire detector,
  // the fire alarm controller, the UITD's own fire alarm), so its device_alarm is a fire
  'device_alarm/uitd': 'fire',
  probable_fire: 'fire',
  // supervisory (监管): fire-water supply and level, fire lane, electrical-fire monitoring
  pressure_low: 'supervisory',
  pressure_high: 'supervisory',
  pressure_drop: 'supervisory',
  level_low: 'supervisory',
  level_high: 'supervisory',
  lane_blocked: 'supervisory',
  // a building rule (issue #15 item 2): the lane blocked while fire evidence is active; critical, still the lane's condition
  lane_blocked_in_fire: 'supervisory',
  residual_current_high: 'supervisory',
  temperature_high: 'supervisory',
  // an electrical-fire detector's latched alarm is an electrical-fire alarm, not a fire alarm
  'device_alarm/electrical_fire': 'supervisory',
  // a water or lane sensor's own alarm flag is the condition it supervises
  device_alarm: 'supervisory',
  // a facility's supervisory bit 监管 reported through a UITD (issue #16 item 7)
  device_supervisory: 'supervisory',
  // faults (故障): the device cannot tell us about a fire
  device_offline: 'fault',
  sensor_fault: 'fault',
  service_outage: 'fault',
  // the duty room's own display or forwarding was slower than GB 50440 asks (issue #15 item 4)
  alarm_clock_late: 'fault',
  'class:fault': 'fault',
  'class:hazard': 'supervisory',
};

/** What the resolver reads from an alert (the uplink item's `data.alert`). */
export interface CategorisedAlert {
  rule?: string | null;
  class?: string | null;
  kind?: string | null;
}

/** The selectors that match an alert, most specific first. */
export function selectorsFor(alert: CategorisedAlert): string[] {
  const out: string[] = [];
  if (alert.rule) {
    if (alert.kind) out.push(`${alert.rule}/${alert.kind}`);
    out.push(alert.rule);
  }
  if (alert.class) out.push(`class:${alert.class}`);
  return out;
}

/** The most specific entry of `table` for the alert, if any. */
export function lookupSelector<T>(table: Readonly<Record<string, T>> | undefined, alert: CategorisedAlert): T | undefined {
  if (!table) return undefined;
  for (const s of selectorsFor(alert)) if (Object.hasOwn(table, s)) return table[s];
  return undefined;
}

/**
 * The category of an alert. A platform's `overrides` are consulted first (any match there wins,
 * so `{ "class:hazard": "fire" }` labels every hazard a fire), then the default table; an alert
 * neither names is a fault when its class is, else supervisory.
 */
export function alertCategory(alert: CategorisedAlert, overrides?: Readonly<Record<string, AlertCategory>>): AlertCategory {
  return lookupSelector(overrides, alert) ?? lookupSelector(DEFAULT_ALERT_CATEGORIES, alert) ?? (alert.class === 'fault' ? 'fault' : 'supervisory');
}

const SELECTOR_HELP = `<rule>, <rule>/<device kind> or class:<hazard|fault>; rules: ${CATEGORY_RULES.join(', ')}; kinds: ${DEVICE_KINDS.join(', ')}`;

/** Checks a selector; returns the problem as a sentence, or undefined. */
export function selectorProblem(s: string): string | undefined {
  const cls = /^class:(.+)$/.exec(s);
  if (cls) return (ALERT_CLASSES as readonly string[]).includes(cls[1]!) ? undefined : `unknown alert class "${cls[1]}" (${SELECTOR_HELP})`;
  const [rule, kind, ...rest] = s.split('/');
  if (rest.length > 0 || !rule) return `"${s}" is not a selector (${SELECTOR_HELP})`;
  if (!CATEGORY_RULES.includes(rule)) return `unknown rule "${rule}" (${SELECTOR_HELP})`;
  if (kind !== undefined && !(DEVICE_KINDS as readonly string[]).includes(kind)) return `unknown device kind "${kind}" (${SELECTOR_HELP})`;
  return undefined;
}

/** A zod record key that is a valid selector. */
export const SelectorSchema = z.string().superRefine((s, ctx) => {
  const problem = selectorProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const AlertCategorySchema = z.enum(ALERT_CATEGORIES, { error: `must be one of ${ALERT_CATEGORIES.join(', ')}` });

/** A platform's category overrides: selector → category. */
export const CategoryOverridesSchema = z.record(SelectorSchema, AlertCategorySchema);

/** Every problem as `path: message`, with the reason a record key was refused (zod says only "Invalid key"). */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.join('.') || '(root)';
      const inner = i.code === 'invalid_key' ? i.issues.map((x) => x.message).join(', ') : '';
      return `${where}: ${inner || i.message}`;
    })
    .join('; ');
}
