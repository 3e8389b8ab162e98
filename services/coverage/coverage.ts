/**
 * Which buildings the district plan requires to be monitored, with which sensor kinds, and
 * whether those kinds are online. Pure: buildings and device states in, report out.
 *
 * Who is in scope (docs/district-plan.md, "What the plan asks of smart fire monitoring"):
 *   complex>20000m2   large commercial complexes over 20,000 m² (annex 1.4; the 15 named complexes)
 *   market>10000m2    markets over 10,000 m² must have "digital" supervision (annex 1.3, 数字化监管)
 *   high_rise         high-rise buildings (annex 1.2): residential > 27 m, others > 24 m (GB 50016-2014
 *                     2.1.1, fact 50; isHighRise() in rules/defaults.ts, which counts a building of
 *                     unknown height and floors as high-rise, the stricter reading)
 * Area must be known for the first two: without it a complex or market is not listed under them
 * (a tall one still is, as high-rise).
 *
 * What each needs, in the plan's words:
 *   high-rise  消防车到不了 → fire_lane; 消防用水上不去 → water_pressure; 电气火灾防不住 → electrical_fire
 *              (the fourth problem, 智慧消防不到位, is what this system itself answers)
 *   complex    电气火灾监控 → electrical_fire; 水压监测 → water_pressure; 疏散通道监测 → fire_lane
 *              (life passage, 生命通道数字监测预警); and the fire-water tank level → water_level
 *              (消防用水 at the complex's own tank). Gas leaks and crowd density have no sensor kind here.
 *   market     数字化监管 of the fire water and electrical monitoring (annex 1.3 asks electrical
 *              monitoring from 5,000 m²) → electrical_fire, water_pressure
 * A building in several groups needs the union.
 */
import type { Building } from '../devices/model.js';
import { isHighRise } from '../rules/defaults.js';
import { DEVICE_KINDS, type DeviceKind } from '../telemetry/telemetry.js';

export const COVERAGE_REASONS = ['complex>20000m2', 'market>10000m2', 'high_rise'] as const;
export type CoverageReason = (typeof COVERAGE_REASONS)[number];

export const COMPLEX_MIN_M2 = 20_000;
export const MARKET_MIN_M2 = 10_000;

export const REQUIRED_KINDS: Readonly<Record<CoverageReason, readonly DeviceKind[]>> = {
  high_rise: ['water_pressure', 'electrical_fire', 'fire_lane'],
  'complex>20000m2': ['water_pressure', 'electrical_fire', 'fire_lane', 'water_level'],
  'market>10000m2': ['electrical_fire', 'water_pressure'],
};

/** Words for the CSV export and the console. */
export const KIND_WORDS: Readonly<Partial<Record<DeviceKind, { zh: string; en: string }>>> = {
  water_pressure: { zh: '消防水压', en: 'fire-water pressure' },
  water_level: { zh: '消防水位', en: 'fire-water level' },
  electrical_fire: { zh: '电气火灾', en: 'electrical fire' },
  fire_lane: { zh: '消防车道', en: 'fire lane' },
};

export const REASON_WORDS: Readonly<Record<CoverageReason, { zh: string; en: string }>> = {
  'complex>20000m2': { zh: '2万㎡以上商业综合体', en: 'complex over 20,000 m²' },
  'market>10000m2': { zh: '1万㎡以上商市场', en: 'market over 10,000 m²' },
  high_rise: { zh: '高层建筑', en: 'high-rise' },
};

export type CoverageBuilding = Pick<Building, 'id' | 'name' | 'street' | 'use' | 'type' | 'heightM' | 'floors' | 'areaM2'>;

export interface CoverageItem {
  street: string;
  buildingId: string;
  name: string;
  use: string;
  reasons: CoverageReason[];
  required: DeviceKind[];
  /** kinds with at least one device registered */
  registered: DeviceKind[];
  /** required kinds with at least one device online now */
  online: DeviceKind[];
  /** required kinds with no device online */
  missing: DeviceKind[];
}

export interface StreetSummary {
  street: string;
  /** buildings the plan requires to be monitored */
  buildings: number;
  /** with every required kind online */
  covered: number;
  /** some but not all required kinds online */
  partial: number;
  /** no required kind online */
  uncovered: number;
  /** buildings missing each kind */
  missingByKind: Record<DeviceKind, number>;
}

export function coverageReasons(b: CoverageBuilding): CoverageReason[] {
  const reasons: CoverageReason[] = [];
  if (b.use === 'complex' && b.areaM2 !== null && b.areaM2 > COMPLEX_MIN_M2) reasons.push('complex>20000m2');
  if (b.use === 'market' && b.areaM2 !== null && b.areaM2 > MARKET_MIN_M2) reasons.push('market>10000m2');
  if (isHighRise(b)) reasons.push('high_rise');
  return reasons;
}

const inKindOrder = (kinds: ReadonlySet<DeviceKind>) => DEVICE_KINDS.filter((k) => kinds.has(k));

export interface CoverageRequirement {
  reasons: CoverageReason[];
  /** the union of the reasons' kinds, in DEVICE_KINDS order */
  required: DeviceKind[];
}

/**
 * Whether the plan requires the building to be monitored, why, and with which kinds; undefined
 * when it does not. The one place that decides it (the coverage report and the safety code).
 */
export function requirementOf(b: CoverageBuilding): CoverageRequirement | undefined {
  const reasons = coverageReasons(b);
  if (reasons.length === 0) return undefined;
  return { reasons, required: inKindOrder(new Set(reasons.flatMap((r) => REQUIRED_KINDS[r]))) };
}

/** The coverage row of a building, or undefined when the plan does not require it to be monitored. */
export function coverageOf(b: CoverageBuilding, devices: ReadonlyArray<{ kind: DeviceKind; online: boolean }>): CoverageItem | undefined {
  const requirement = requirementOf(b);
  if (!requirement) return undefined;
  const { reasons, required } = requirement;
  const onlineKinds = new Set(devices.filter((d) => d.online).map((d) => d.kind));
  return {
    street: b.street,
    buildingId: b.id,
    name: b.name,
    use: b.use,
    reasons,
    required,
    registered: inKindOrder(new Set(devices.map((d) => d.kind))),
    online: required.filter((k) => onlineKinds.has(k)),
    missing: required.filter((k) => !onlineKinds.has(k)),
  };
}

export function summarise(items: readonly CoverageItem[], streets: readonly string[]): StreetSummary[] {
  const byStreet = new Map<string, StreetSummary>();
  const entry = (street: string) => {
    let s = byStreet.get(street);
    if (!s) {
      s = { street, buildings: 0, covered: 0, partial: 0, uncovered: 0, missingByKind: Object.fromEntries(DEVICE_KINDS.map((k) => [k, 0])) as Record<DeviceKind, number> };
      byStreet.set(street, s);
    }
    return s;
  };
  for (const street of streets) entry(street);
  for (const item of items) {
    const s = entry(item.street);
    s.buildings += 1;
    if (item.missing.length === 0) s.covered += 1;
    else if (item.online.length === 0) s.uncovered += 1;
    else s.partial += 1;
    for (const k of item.missing) s.missingByKind[k] += 1;
  }
  return [...byStreet.values()];
}

/** The report as CSV rows (header first), Chinese with English beside it. */
export function coverageCsvRows(items: readonly CoverageItem[]): string[][] {
  const kinds = (ks: readonly DeviceKind[]) => ks.map((k) => `${KIND_WORDS[k]?.zh ?? k}(${k})`).join('; ');
  return [
    ['街道 street', '建筑编号 building id', '名称 name', '用途 use', '纳入原因 reasons', '应装 required', '在线 online', '缺少 missing'],
    ...items.map((i) => [
      i.street,
      i.buildingId,
      i.name,
      i.use,
      i.reasons.map((r) => `${REASON_WORDS[r].zh}(${r})`).join('; '),
      kinds(i.required),
      kinds(i.online),
      kinds(i.missing),
    ]),
  ];
}
