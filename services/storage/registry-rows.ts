/**
 * The registry's rows as both engines store them (sqlite/sqlite-registry-store.ts and
 * postgres/pg-registry-store.ts): the columns, a record's values for a write, and a row read back
 * into a record. A row here has its JSON documents decoded and the address as a number; each store
 * turns what its driver gives (SQLite: JSON as text; node-postgres: a bigint as a string) into this
 * shape first, so the mapping itself is written once.
 */
import type { Building, BuildingRuleOverrides, BuildingSurvey, Device, Gb26875Source } from '../devices/model.js';

export const BUILDING_COLUMNS = [
  'id', 'name', 'street', 'address', 'type', 'height_m', 'access_level_m', 'floors', 'area_m2', 'category', 'use',
  'contact_name', 'contact_phone', 'survey', 'building_rules', 'created_at', 'updated_at',
] as const;
export const DEVICE_COLUMNS = [
  'id', 'building_id', 'kind', 'point', 'location', 'report_interval_s', 'vendor', 'model', 'rules', 'address',
  'allowed_peers', 'gb26875_source', 'in_service_at', 'created_at', 'updated_at',
] as const;

export interface BuildingRow {
  id: string;
  name: string;
  street: string;
  address: string;
  type: string;
  height_m: number | null;
  access_level_m: number | null;
  floors: number | null;
  area_m2: number | null;
  category: number | null;
  use: string;
  contact_name: string | null;
  contact_phone: string | null;
  survey: BuildingSurvey | null;
  building_rules: BuildingRuleOverrides | null;
  created_at: string;
  updated_at: string;
}

export interface DeviceRow {
  id: string;
  building_id: string;
  kind: string;
  point: string | null;
  location: string | null;
  report_interval_s: number;
  vendor: string | null;
  model: string | null;
  rules: Record<string, unknown> | null;
  address: number | null;
  allowed_peers: string[] | null;
  gb26875_source: Gb26875Source | null;
  in_service_at: string | null;
  created_at: string;
  updated_at: string;
}

export const toBuilding = (r: BuildingRow): Building => ({
  id: r.id,
  name: r.name,
  street: r.street as Building['street'],
  address: r.address,
  type: r.type as Building['type'],
  heightM: r.height_m,
  ...(r.access_level_m !== null ? { accessLevelM: r.access_level_m } : {}),
  floors: r.floors,
  areaM2: r.area_m2,
  category: r.category as Building['category'],
  use: r.use as Building['use'],
  contactName: r.contact_name,
  contactPhone: r.contact_phone,
  ...(r.survey !== null ? { survey: r.survey } : {}),
  ...(r.building_rules !== null && r.building_rules !== undefined ? { buildingRules: r.building_rules } : {}),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A building's values by column, JSON as text (both engines take it so). */
export const buildingParams = (b: Building): Record<(typeof BUILDING_COLUMNS)[number], unknown> => ({
  id: b.id,
  name: b.name,
  street: b.street,
  address: b.address,
  type: b.type,
  height_m: b.heightM,
  access_level_m: b.accessLevelM ?? null,
  floors: b.floors,
  area_m2: b.areaM2,
  category: b.category,
  use: b.use,
  contact_name: b.contactName,
  contact_phone: b.contactPhone,
  survey: b.survey ? JSON.stringify(b.survey) : null,
  building_rules: b.buildingRules ? JSON.stringify(b.buildingRules) : null,
  created_at: b.createdAt,
  updated_at: b.updatedAt,
});

export const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  buildingId: r.building_id,
  kind: r.kind as Device['kind'],
  point: r.point,
  location: r.location,
  reportIntervalS: r.report_interval_s,
  vendor: r.vendor,
  model: r.model,
  rules: r.rules,
  ...(r.address !== null ? { address: r.address } : {}),
  ...(r.allowed_peers !== null ? { allowedPeers: r.allowed_peers } : {}),
  ...(r.gb26875_source !== null ? { gb26875Source: r.gb26875_source } : {}),
  inServiceAt: r.in_service_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A device's values by column, JSON as text (both engines take it so). */
export const deviceParams = (d: Device): Record<(typeof DEVICE_COLUMNS)[number], unknown> => ({
  id: d.id,
  building_id: d.buildingId,
  kind: d.kind,
  point: d.point,
  location: d.location,
  report_interval_s: d.reportIntervalS,
  vendor: d.vendor,
  model: d.model,
  rules: d.rules === null ? null : JSON.stringify(d.rules),
  address: d.address ?? null,
  allowed_peers: d.allowedPeers ? JSON.stringify(d.allowedPeers) : null,
  gb26875_source: d.gb26875Source ? JSON.stringify(d.gb26875Source) : null,
  // a record made without the field (e.g. seeded by the benchmark) counts as in service since registration
  in_service_at: d.inServiceAt === undefined ? d.createdAt : d.inServiceAt,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});
