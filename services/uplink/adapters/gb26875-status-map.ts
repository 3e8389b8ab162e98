/**
 * Alert → GB/T 26875.3-2011 component status bits (type 2 object, 2-byte word, low byte first):
 * bit0 normal operation (0 = test), bit1 fire alarm 火警, bit2 fault 故障, bit3 disabled 屏蔽,
 * bit4 supervisory 监管, bit5 started 启动, bit6 feedback 反馈, bit7 delay 延时, bit8 power fault.
 *
 *   alert ─► category (services/uplink/alert-category.ts: fire / supervisory / fault)
 *         ─► bits   (fire → bit1, supervisory → bit4, fault → bit2)   + bit0 always (not a test)
 *   recovery ─► bit0 only
 *
 * A monitoring centre passes a confirmed fire alarm on to 119 within seconds, so bit1 is for fire
 * evidence only. Per platform (UPLINK_GB26875_STATUS_MAP, a JSON file or inline JSON) both steps
 * can be overridden:
 *
 *   { "alerts": { "residual_current_high": "fire", "lane_blocked": ["supervisory", "delay"] },
 *     "categories": { "supervisory": ["fault"] } }
 *
 * `alerts` maps a selector (`<rule>`, `<rule>/<kind>`, `class:<class>`) to a category or to a
 * list of bits; any match there wins over the default table. `categories` changes the bits of a
 * category. docs/gb26875-gateway.md prints the tables.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  ALERT_CATEGORIES,
  AlertCategorySchema,
  SelectorSchema,
  alertCategory,
  formatIssues,
  lookupSelector,
  type AlertCategory,
  type CategorisedAlert,
} from '../alert-category.js';
import { COMPONENT_STATUS_BITS, encodeComponentStatus, type ComponentStatusFlags } from '../../protocols/gb26875/tables.js';

/** The bits an alert may set: every component status flag but bit0, which we always set. */
export const ALERT_STATUS_BITS = COMPONENT_STATUS_BITS.map(([name]) => name).filter((n) => n !== 'normal') as Exclude<keyof ComponentStatusFlags, 'normal'>[];
export type AlertStatusBit = (typeof ALERT_STATUS_BITS)[number];

/** Category → bits, the default. */
export const DEFAULT_CATEGORY_BITS: Readonly<Record<AlertCategory, readonly AlertStatusBit[]>> = {
  fire: ['fireAlarm'],
  supervisory: ['supervisory'],
  fault: ['fault'],
};

const Bits = z
  .array(z.enum(ALERT_STATUS_BITS as [AlertStatusBit, ...AlertStatusBit[]], { error: `a bit is one of ${ALERT_STATUS_BITS.join(', ')} (bit0 "normal" is always set)` }))
  .min(1, { error: 'at least one bit (a recovery is what sends bit0 alone)' });

export const StatusMapSchema = z.strictObject(
  {
    /** selector → a category, or the bits themselves */
    alerts: z.record(SelectorSchema, z.union([AlertCategorySchema, Bits], { error: `a category (${ALERT_CATEGORIES.join(', ')}) or a list of bits (${ALERT_STATUS_BITS.join(', ')})` })).default({}),
    /** category → bits, replacing the default for that category */
    categories: z
      .strictObject(Object.fromEntries(ALERT_CATEGORIES.map((c) => [c, Bits.optional()])) as Record<AlertCategory, z.ZodOptional<typeof Bits>>, {
        error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown category ${iss.keys.join(', ')} (categories: ${ALERT_CATEGORIES.join(', ')})` : 'must be an object: category → list of bits'),
      })
      .default({}),
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key(s) ${iss.keys.join(', ')} (allowed: alerts, categories)` : 'must be an object { alerts?, categories? }') },
);
export type StatusMap = z.infer<typeof StatusMapSchema>;

export const ENV_NAME = 'UPLINK_GB26875_STATUS_MAP';

export function parseStatusMap(json: unknown, source = ENV_NAME): StatusMap {
  const r = StatusMapSchema.safeParse(json);
  if (!r.success) throw new Error(`${source}: ${formatIssues(r.error)}`);
  return r.data;
}

/** The variable's value: inline JSON when it starts with `{`, else the path of a JSON file. */
export function loadStatusMap(value: string): StatusMap {
  const inline = value.trimStart().startsWith('{');
  const source = inline ? `${ENV_NAME} (inline JSON)` : `${ENV_NAME} ${value}`;
  let json: unknown;
  try {
    json = JSON.parse(inline ? value : readFileSync(value, 'utf8'));
  } catch (err) {
    throw new Error(`${source}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseStatusMap(json, source);
}

/** The bits (without bit0) an active alert sets. */
export function alertBits(alert: CategorisedAlert, map?: StatusMap): readonly AlertStatusBit[] {
  const own = lookupSelector(map?.alerts, alert);
  if (Array.isArray(own)) return own;
  const category: AlertCategory = own ?? alertCategory(alert);
  return map?.categories[category] ?? DEFAULT_CATEGORY_BITS[category];
}

/** The component status word: bit0 (normal operation, not test) plus the alert's bits while active. */
export function statusWordFor(alert: CategorisedAlert, active: boolean, map?: StatusMap): number {
  const flags: Partial<ComponentStatusFlags> = { normal: true };
  if (active) for (const b of alertBits(alert, map)) flags[b] = true;
  return encodeComponentStatus(flags);
}
