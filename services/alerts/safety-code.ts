/**
 * The building fire-safety code (消防安全码, mission-context.md: "Each high-rise gets a fire
 * safety code … one code, smart management"). Pure: the caller gathers the facts, this decides
 * the colour and says why in plain words, Chinese first. No I/O, no clock.
 *
 *   red     an unclosed hazard alert that was not raised in maintenance (a person must act)
 *   yellow  unclosed fault alerts, devices offline, active maintenance windows on the building
 *           or its devices, or hazards raised during maintenance still unclosed
 *   green   otherwise (with a reason saying whether the building has sensors at all)
 *
 * The reasons name what is wrong by kind, never by device id, location or person: the same
 * list is shown on the public page behind the QR code.
 */
import type { AlertClass } from '../rules/rule-types.js';

export const SAFETY_STATUSES = ['green', 'yellow', 'red'] as const;
export type SafetyStatus = (typeof SAFETY_STATUSES)[number];

export interface SafetyReason {
  /** stable code: `hazard.<rule>`, `fault.<rule>`, `offline`, `maintenance`, `maintenance_alerts`, `all_normal`, `no_devices` */
  code: string;
  zh: string;
  en: string;
}

export interface SafetyCounts {
  /** unclosed hazard alerts not raised in maintenance */
  hazards: number;
  /** unclosed fault alerts */
  faults: number;
  /** devices not connected now */
  offline: number;
  /** active maintenance windows (building and devices) */
  maintenance: number;
}

/** The facts about one building that decide its code. */
export interface SafetyFacts {
  /** the building's alerts that are not closed */
  unclosedAlerts: ReadonlyArray<{ class: AlertClass; rule: string; maintenance: boolean }>;
  devices: ReadonlyArray<{ online: boolean; inMaintenance: boolean }>;
  buildingInMaintenance: boolean;
}

export interface SafetyCode {
  status: SafetyStatus;
  reasons: SafetyReason[];
  counts: SafetyCounts;
}

/** What each rule means in plain words (no numbers or thresholds: those are for the duty room). */
const RULE_WORDS: Readonly<Record<string, { zh: string; en: string }>> = {
  pressure_low: { zh: '消防水压偏低', en: 'Fire-water pressure is too low' },
  pressure_high: { zh: '消防水压偏高', en: 'Fire-water pressure is too high' },
  pressure_drop: { zh: '消防水压骤降', en: 'Fire-water pressure dropped suddenly' },
  level_low: { zh: '消防水池/水箱水位偏低', en: 'Fire-water tank level is too low' },
  level_high: { zh: '消防水池/水箱水位偏高', en: 'Fire-water tank level is too high' },
  residual_current_high: { zh: '电气线路剩余电流超限（电气火灾隐患）', en: 'Residual current over the limit (electrical fire risk)' },
  temperature_high: { zh: '电气线缆温度过高（电气火灾隐患）', en: 'Cable temperature too high (electrical fire risk)' },
  lane_blocked: { zh: '消防车道被占用', en: 'Fire lane is blocked' },
  device_alarm: { zh: '监测设备报警', en: 'A detector raised its alarm' },
  device_offline: { zh: '监测设备长时间未上报数据', en: 'A sensor has stopped reporting' },
  sensor_fault: { zh: '监测设备故障', en: 'A sensor is faulty' },
};

function words(rule: string): { zh: string; en: string } {
  return RULE_WORDS[rule] ?? { zh: `监测异常（${rule}）`, en: `Monitoring issue (${rule})` };
}

/** Count by key, keeping first-seen order. */
function countBy<T>(items: readonly T[], key: (t: T) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m];
}

const times = (n: number) => ({ zh: n > 1 ? `（${n} 处）` : '', en: n > 1 ? ` (${n})` : '' });

export function computeSafetyCode(facts: SafetyFacts): SafetyCode {
  const hazards = facts.unclosedAlerts.filter((a) => a.class === 'hazard' && !a.maintenance);
  const maintenanceHazards = facts.unclosedAlerts.filter((a) => a.class === 'hazard' && a.maintenance);
  const faults = facts.unclosedAlerts.filter((a) => a.class === 'fault');
  const offline = facts.devices.filter((d) => !d.online).length;
  const maintenance = (facts.buildingInMaintenance ? 1 : 0) + facts.devices.filter((d) => d.inMaintenance).length;
  const counts: SafetyCounts = { hazards: hazards.length, faults: faults.length, offline, maintenance };

  const reasons: SafetyReason[] = [];
  for (const [rule, n] of countBy(hazards, (a) => a.rule)) {
    const w = words(rule);
    const t = times(n);
    reasons.push({ code: `hazard.${rule}`, zh: `${w.zh}${t.zh}，待处置`, en: `${w.en}${t.en}; being handled` });
  }
  for (const [rule, n] of countBy(faults, (a) => a.rule)) {
    const w = words(rule);
    const t = times(n);
    reasons.push({ code: `fault.${rule}`, zh: `${w.zh}${t.zh}，待维修`, en: `${w.en}${t.en}; awaiting repair` });
  }
  if (offline > 0) {
    reasons.push({
      code: 'offline',
      zh: `${offline} 台监测设备离线`,
      en: `${offline} monitoring device${offline > 1 ? 's are' : ' is'} offline`,
    });
  }
  if (maintenance > 0) {
    reasons.push({
      code: 'maintenance',
      zh: facts.buildingInMaintenance ? '消防设施维护保养中' : `${maintenance} 台监测设备维护中`,
      en: facts.buildingInMaintenance ? 'Fire facilities are under maintenance' : `${maintenance} monitoring device${maintenance > 1 ? 's are' : ' is'} under maintenance`,
    });
  }
  if (maintenanceHazards.length > 0) {
    reasons.push({
      code: 'maintenance_alerts',
      zh: `维护期间产生的告警 ${maintenanceHazards.length} 条，待确认`,
      en: `${maintenanceHazards.length} alert${maintenanceHazards.length > 1 ? 's' : ''} raised during maintenance, to be confirmed`,
    });
  }

  let status: SafetyStatus = 'green';
  if (hazards.length > 0) status = 'red';
  else if (reasons.length > 0) status = 'yellow';

  if (status === 'green') {
    reasons.push(
      facts.devices.length === 0
        ? { code: 'no_devices', zh: '尚未接入物联网监测设备', en: 'No monitoring devices are connected yet' }
        : { code: 'all_normal', zh: '消防设施监测正常', en: 'All monitored fire facilities are normal' },
    );
  }
  return { status, reasons, counts };
}

export const STATUS_WORDS: Readonly<Record<SafetyStatus, { zh: string; en: string }>> = {
  green: { zh: '绿码：正常', en: 'Green: normal' },
  yellow: { zh: '黄码：需关注（故障、离线或维护中）', en: 'Yellow: attention (fault, offline or maintenance)' },
  red: { zh: '红码：存在未处置的消防险情', en: 'Red: an open fire-safety hazard' },
};
