/**
 * The registry's domain: buildings and the devices installed in them.
 * Street names are the 11 sub-districts of Yuzhong (docs/district-plan.md, "Named places").
 */
import type { Awaitable } from '../shared/awaitable.js';
import type { DeviceKind } from '../telemetry/telemetry.js';

export const STREETS = [
  '解放碑',
  '朝天门',
  '七星岗',
  '南纪门',
  '大溪沟',
  '上清寺',
  '两路口',
  '菜园坝',
  '化龙桥',
  '大坪',
  '石油路',
] as const;
export type Street = (typeof STREETS)[number];

export const BUILDING_TYPES = ['residential', 'public', 'industrial'] as const;
export type BuildingType = (typeof BUILDING_TYPES)[number];

export const BUILDING_USES = [
  'complex',
  'market',
  'hotel',
  'office',
  'residence',
  'old_compound',
  'key_site',
  'hospital',
  'school',
  'factory',
  'warehouse',
  'other',
] as const;
export type BuildingUse = (typeof BUILDING_USES)[number];

/**
 * A building's override of one building rule (issue #15 item 2: probable_fire, …), by rule id:
 * off, or another window. services/rules/building-rules.ts defines the rules and validates these.
 */
export interface BuildingRuleOverride {
  enabled?: boolean;
  windowS?: number;
}
export type BuildingRuleOverrides = Partial<Record<string, BuildingRuleOverride>>;

export interface Building {
  id: string;
  name: string;
  street: Street;
  address: string;
  type: BuildingType;
  /**
   * Building height (m), as measured: for Yuzhong's hillside buildings from the fire-engine access
   * level (消防车登高操作场地, GB 50016), whose elevation is `accessLevelM`. null = not measured;
   * the rules then estimate from floors (services/rules/defaults.ts) and flag it (building-checks.ts).
   */
  heightM: number | null;
  /** elevation (m, the city datum) of the fire-engine access level `heightM` is measured from */
  accessLevelM?: number | null;
  floors: number | null;
  areaM2: number | null;
  /** 1 | 2 for high-rise public buildings (GB 50016-2014, fact 50, docs/standards.md) */
  category: 1 | 2 | null;
  use: BuildingUse;
  contactName: string | null;
  contactPhone: string | null;
  /** what the district's market survey (annex 1.3.2) recorded, when imported from it (issue #5) */
  survey?: BuildingSurvey | null;
  /**
   * the building's overrides of the building rules (issue #15 item 2: probable_fire, …;
   * services/rules/building-rules.ts); absent or null: the defaults
   */
  buildingRules?: BuildingRuleOverrides | null;
  createdAt: string;
  updatedAt: string;
}

/** One row of the market survey form (docs/district-plan.md, "The survey the district already holds"). */
export interface BuildingSurvey {
  /** 序号 */
  no: string | null;
  /** 商市场名称 */
  marketName: string | null;
  /** 该市场所在建筑名称 */
  buildingName: string | null;
  /** 是否设置火灾自动报警系统 / 火灾自动喷水灭火系统 / 室内消火栓系统 / 防烟排烟系统 (是/否; null = not answered) */
  fireAlarm: boolean | null;
  sprinklers: boolean | null;
  hydrants: boolean | null;
  smokeControl: boolean | null;
  /** 排查发现的消防安全隐患 */
  hazards: string | null;
  /**
   * 整改情况 (a column some filled-in forms add): `rectified` 已整改, `pending` 未整改/整改中/限期整改;
   * null or absent = not recorded (an open hazard then counts as not rectified, issue #16 item 8)
   */
  rectification?: SurveyRectification | null;
  /** 备注 */
  remarks: string | null;
}

export const SURVEY_RECTIFICATIONS = ['rectified', 'pending'] as const;
export type SurveyRectification = (typeof SURVEY_RECTIFICATIONS)[number];

export interface Device {
  id: string;
  buildingId: string;
  kind: DeviceKind;
  point: string | null;
  location: string | null;
  reportIntervalS: number;
  vendor: string | null;
  model: string | null;
  /** per-device rule overrides, `{ "<ruleId>": { threshold, forS, ... } }` (validated by services/rules) */
  rules: Record<string, unknown> | null;
  /**
   * kind `uitd` only: the GB/T 26875.3 48-bit source address (frame bytes 13–18, docs/standards.md §1.2)
   * read as an unsigned integer; the device's identity on the TCP gateway. Unique.
   */
  address?: number | null;
  /**
   * kind `uitd` only: the TCP peers (IPs or CIDR blocks, services/devices/peer-allow-list.ts) that
   * may send frames with this device's address. Unset: GB26875_ALLOW, else any peer (issue #12).
   */
  allowedPeers?: string[] | null;
  /**
   * kind `water_pressure` only: the sensor is wired to a UITD, whose GB/T 26875.3 analog values
   * (type 3) from this component become the device's readings (issue #16 item 7). Unique per component.
   */
  gb26875Source?: Gb26875Source | null;
  /**
   * When the device was put in service (issue #17 item 6); null while it is being commissioned
   * (调试): its alerts then carry `commissioning: true` and reach neither the duty board, the
   * safety code nor the uplink. After COMMISSIONING_MAX_H it counts as in service by itself
   * (services/devices/commissioning.ts). Undefined only on records made without the field: in service.
   */
  inServiceAt?: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A UITD's analog component (docs/standards.md §1.8): the component address is the 4-byte address
 * as one uint32 (zone + position × 65536, as the UITD's own readings show it); the other fields, when
 * given, must match too.
 */
export interface Gb26875Source {
  uitdId: string;
  systemType?: number;
  systemAddress?: number;
  componentType?: number;
  componentAddress: number;
}

/** The stored credential: never the secret itself. */
export interface StoredCredential {
  deviceId: string;
  username: string;
  hash: string;
  rotatedAt: string;
}

export type BuildingInput = Omit<Building, 'id' | 'createdAt' | 'updatedAt'> & { id?: string };
export type BuildingPatch = Partial<Omit<Building, 'id' | 'createdAt' | 'updatedAt'>>;
export type DeviceInput = Omit<Device, 'id' | 'createdAt' | 'updatedAt' | 'rules' | 'inServiceAt'> & {
  id?: string;
  rules?: Device['rules'];
  /** in service from registration (fleet provisioning, simulators); otherwise it starts in commissioning */
  inService?: boolean;
};
/** in-service is its own action (DeviceRegistry.putInService), never a patch */
export type DevicePatch = Partial<Omit<Device, 'id' | 'kind' | 'createdAt' | 'updatedAt' | 'inServiceAt'>>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Limits a list to what a principal may see: buildings in any of these streets or with these ids. */
export interface ScopeFilter {
  streets?: readonly string[];
  buildingIds?: readonly string[];
}
export interface BuildingFilter {
  street?: string;
  use?: string;
  scope?: ScopeFilter;
}
export interface DeviceFilter {
  buildingId?: string;
  kind?: string;
  scope?: ScopeFilter;
}

/**
 * What the registry needs from storage. Implemented by SqliteRegistryStore; an in-memory fake is trivial.
 * The contract suite that every implementation passes, fakes included, is tests/support/registry-store-contract.ts.
 */
export interface RegistryStore {
  insertBuilding(b: Building): Awaitable<void>;
  updateBuilding(id: string, b: Building): Awaitable<void>;
  deleteBuilding(id: string): Awaitable<boolean>;
  getBuilding(id: string): Awaitable<Building | undefined>;
  listBuildings(filter: BuildingFilter, afterId: string | undefined, limit: number): Awaitable<Building[]>;
  countDevicesInBuilding(id: string): Awaitable<number>;

  insertDevice(d: Device, cred: StoredCredential): Awaitable<void>;
  updateDevice(id: string, d: Device): Awaitable<void>;
  deleteDevice(id: string): Awaitable<boolean>;
  getDevice(id: string): Awaitable<Device | undefined>;
  listDevices(filter: DeviceFilter, afterId: string | undefined, limit: number): Awaitable<Device[]>;
  allDevices(): Awaitable<Device[]>;

  getCredential(deviceId: string): Awaitable<StoredCredential | undefined>;
  setCredential(cred: StoredCredential): Awaitable<void>;
  /**
   * Replaces the credential's hash only while it is still `fromHash` (a legacy hash upgraded to the
   * fast form once the secret was verified), in one statement: a rotation that came in between
   * wins, and the answer is false. Not a change of credential: nothing is told to other nodes.
   */
  replaceCredentialHash(deviceId: string, fromHash: string, toHash: string): Awaitable<boolean>;

  /**
   * A store shared by several nodes (PostgreSQL) tells each node of the changes the others commit,
   * so the registry's in-memory cache follows them; after its connection broke, `onResync`: a
   * change may have been missed, reload everything. A single-node store (SQLite) has no `watch`.
   */
  watch?(handlers: RegistryWatchHandlers): Promise<{ close(): Promise<void> }>;
}

/** What another node changed: a building, a device (created, updated, deleted) or a device's credential. */
export interface RegistryChange {
  kind: 'building' | 'device' | 'credential';
  id: string;
}

export interface RegistryWatchHandlers {
  onChange(change: RegistryChange): void;
  onResync(): void;
  /** the watch broke (it reconnects by itself, then onResync) */
  onError?(err: Error): void;
}

