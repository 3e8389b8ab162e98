/**
 * The registry's domain: buildings and the devices installed in them.
 * Street names are the 11 sub-districts of Yuzhong (mission-context.md, "Named places").
 */
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

export interface Building {
  id: string;
  name: string;
  street: Street;
  address: string;
  type: BuildingType;
  heightM: number | null;
  floors: number | null;
  areaM2: number | null;
  /** 1 | 2 for high-rise public buildings (GB 50016-2014, domain-facts fact 50) */
  category: 1 | 2 | null;
  use: BuildingUse;
  contactName: string | null;
  contactPhone: string | null;
  /** what the district's market survey (annex 1.3.2) recorded, when imported from it (issue #5) */
  survey?: BuildingSurvey | null;
  createdAt: string;
  updatedAt: string;
}

/** One row of the market survey form (mission-context.md, "Data the district already collects"). */
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
  /** 备注 */
  remarks: string | null;
}

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
   * kind `uitd` only: the GB/T 26875.3 48-bit source address (frame bytes 13–18, domain-facts §1.2)
   * read as an unsigned integer; the device's identity on the TCP gateway. Unique.
   */
  address?: number | null;
  createdAt: string;
  updatedAt: string;
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
export type DeviceInput = Omit<Device, 'id' | 'createdAt' | 'updatedAt' | 'rules'> & { id?: string; rules?: Device['rules'] };
export type DevicePatch = Partial<Omit<Device, 'id' | 'kind' | 'createdAt' | 'updatedAt'>>;

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

/** What the registry needs from storage. Implemented by SqliteRegistryStore; an in-memory fake is trivial. */
export interface RegistryStore {
  insertBuilding(b: Building): void;
  updateBuilding(id: string, b: Building): void;
  deleteBuilding(id: string): boolean;
  getBuilding(id: string): Building | undefined;
  listBuildings(filter: BuildingFilter, afterId: string | undefined, limit: number): Building[];
  countDevicesInBuilding(id: string): number;

  insertDevice(d: Device, cred: StoredCredential): void;
  updateDevice(id: string, d: Device): void;
  deleteDevice(id: string): boolean;
  getDevice(id: string): Device | undefined;
  listDevices(filter: DeviceFilter, afterId: string | undefined, limit: number): Device[];
  allDevices(): Device[];

  getCredential(deviceId: string): StoredCredential | undefined;
  setCredential(cred: StoredCredential): void;
}
