/**
 * The HTTP payload "firewatch.uplink/v1" and its field mapping (UPLINK_HTTP_MAPPING).
 * No national JSON schema exists and provinces differ (docs/standards.md fact 58), so the
 * canonical payload is versioned and a JSON file can rename, select, translate and add fields
 * without code. docs/uplink-format.md documents both, with an example.
 *
 *   canonical { version, sentAt, items: [{ id, type, occurredAt, deviceId, buildingId, street, data }] }
 *        │  mapping: envelope renames · fields (source path → target path) · values · constants · types
 *        ▼
 *   platform body
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CategoryOverridesSchema, alertCategory, formatIssues, type AlertCategory, type CategorisedAlert } from './alert-category.js';
import { UPLINK_FORMAT, UPLINK_ITEM_TYPES, type UplinkItem } from './model.js';

export interface UplinkPayload {
  version: typeof UPLINK_FORMAT;
  sentAt: string;
  items: UplinkItem[];
}

const path = z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a dot path such as data.alert.severity');

export const MappingSchema = z
  .object({
    /** the canonical format the mapping was written for; a mapping for another version is refused */
    format: z.literal(UPLINK_FORMAT),
    /** rename the envelope's keys: { "version": "ver", "sentAt": "sendTime", "items": "records" } */
    envelope: z.object({ version: path.optional(), sentAt: path.optional(), items: path.optional() }).strict().default({}),
    /** source path in the canonical item → target path in the sent item */
    fields: z.record(path, path).optional(),
    /** with `fields`: also keep the fields not listed (default false: only the listed ones are sent) */
    keepUnmapped: z.boolean().default(false),
    /** value tables per source path: { "type": { "alert.raised": "ALARM" } } (unlisted values pass unchanged) */
    values: z.record(path, z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))).default({}),
    /** target path → constant added to every item, e.g. the operator's unique code */
    constants: z.record(path, z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
    /** send only these item types; the others count as delivered for this adapter */
    types: z.array(z.enum(UPLINK_ITEM_TYPES)).optional(),
    /** this platform's alert categories (`data.category`): selector → fire | supervisory | fault, over the default table */
    categories: CategoryOverridesSchema.optional(),
  })
  .strict();
export type Mapping = z.infer<typeof MappingSchema>;

/** Parse a mapping; throws an Error listing every problem (a start with a broken mapping fails). */
export function parseMapping(json: unknown, source = 'mapping'): Mapping {
  const r = MappingSchema.safeParse(json);
  if (!r.success) throw new Error(`${source}: ${formatIssues(r.error)}`);
  return r.data;
}

export function loadMapping(file: string): Mapping {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`UPLINK_HTTP_MAPPING ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseMapping(json, `UPLINK_HTTP_MAPPING ${file}`);
}

export function getPath(obj: unknown, p: string): unknown {
  let cur: unknown = obj;
  for (const k of p.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, p: string, value: unknown): void {
  const keys = p.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

function deleteLeaf(obj: Record<string, unknown>, p: string): void {
  const keys = p.split('.');
  let cur: unknown = obj;
  for (const k of keys.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return;
    cur = (cur as Record<string, unknown>)[k];
  }
  if (cur !== null && typeof cur === 'object') delete (cur as Record<string, unknown>)[keys[keys.length - 1]!];
}

function translate(mapping: Mapping, source: string, value: unknown): unknown {
  const table = mapping.values[source];
  if (!table || (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')) return value;
  const key = String(value);
  return Object.hasOwn(table, key) ? table[key] : value;
}

/** Map one canonical item. Pure; the input is not modified. */
export function mapItem(item: UplinkItem, mapping: Mapping | undefined): Record<string, unknown> {
  const canonical = structuredClone(item) as unknown as Record<string, unknown>;
  if (!mapping) return canonical;
  let out: Record<string, unknown>;
  if (mapping.fields === undefined) {
    out = canonical;
    for (const source of Object.keys(mapping.values)) {
      const v = getPath(canonical, source);
      if (v !== undefined) setPath(out, source, translate(mapping, source, v));
    }
  } else {
    out = mapping.keepUnmapped ? structuredClone(canonical) : {};
    if (mapping.keepUnmapped) for (const source of Object.keys(mapping.fields)) deleteLeaf(out, source);
    for (const [source, target] of Object.entries(mapping.fields)) {
      const v = getPath(canonical, source);
      if (v !== undefined) setPath(out, target, translate(mapping, source, v));
    }
  }
  for (const [target, value] of Object.entries(mapping.constants)) setPath(out, target, value);
  return out;
}

/** Whether this adapter forwards items of this type under the mapping. */
export function mappingSends(mapping: Mapping | undefined, type: UplinkItem['type']): boolean {
  return mapping?.types === undefined || mapping.types.includes(type);
}

/** The request body for a batch. */
export function buildPayload(items: readonly UplinkItem[], sentAt: Date, mapping: Mapping | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  setPath(body, mapping?.envelope.version ?? 'version', UPLINK_FORMAT);
  setPath(body, mapping?.envelope.sentAt ?? 'sentAt', sentAt.toISOString());
  setPath(
    body,
    mapping?.envelope.items ?? 'items',
    items.filter((i) => mappingSends(mapping, i.type)).map((i) => mapItem(i, mapping)),
  );
  return body;
}

/**
 * How urgently a platform should handle an alert item (`data.priority`, issue #15 item 2): `urgent`
 * for critical fire evidence (probable_fire: fire evidence and water flowing in one building), `high`
 * for other fire evidence, `normal` for the rest. The GB/T 26875.3 centre reads the same as its
 * fire alarm bit (the category).
 */
export function alertPriority(category: AlertCategory, severity: unknown): 'urgent' | 'high' | 'normal' {
  if (category !== 'fire') return 'normal';
  return severity === 'critical' ? 'urgent' : 'high';
}

/**
 * The item as sent: outbox bookkeeping (seq, createdAt) stripped, and for alert items the alert's
 * category (`data.category`: fire | supervisory | fault, alert-category.ts) added at send time, so
 * items queued before an upgrade carry it too. `categories`: the platform's overrides.
 */
export function canonicalItem(i: UplinkItem, categories?: Readonly<Record<string, AlertCategory>>): UplinkItem {
  const alert = i.data.alert as (CategorisedAlert & { severity?: unknown }) | undefined;
  let data = i.data;
  if (i.type.startsWith('alert.') && alert && typeof alert === 'object') {
    const category = alertCategory(alert, categories);
    data = { ...i.data, category, priority: alertPriority(category, alert.severity) };
  }
  return { id: i.id, type: i.type, occurredAt: i.occurredAt, deviceId: i.deviceId, buildingId: i.buildingId, street: i.street, data };
}
