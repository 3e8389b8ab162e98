/**
 * The building fire-safety code (消防安全码, docs/district-plan.md: "Each high-rise gets a fire
 * safety code … one code, smart management"). Pure: the caller gathers the facts (with `now`),
 * this decides the colour and says why in plain words, Chinese first. No I/O, no clock of its own.
 *
 * Every fact below gives a reason with a level; the code is the highest level among the reasons
 * (red > yellow > grey > green; `info` reasons are shown and never change the colour). Green needs
 * evidence: at least one device that has reported and nothing red, yellow or grey.
 *
 *   level   reason code              when (issue #16 item 8)
 *   ──────  ───────────────────────  ────────────────────────────────────────────────────────────
 *   red     hazard.<rule>            an unclosed alert that is fire evidence, whatever its severity:
 *                                    residual_current_high and temperature_high (the electrical-fire
 *                                    detector's alarms, GB 50116-2013 9.2), or device_alarm from a
 *                                    fire detector (kind electrical_fire or uitd, the fire alarm
 *                                    controller's transmission unit)                   「待处置」
 *   red     hazard.<rule>            an unclosed hazard of severity critical           「待处置」
 *   red     hazard.<rule>            an unclosed hazard of severity major that nobody acknowledged
 *                                    by its deadline (ALERT_ACK_S, "1分钟响应")         「超时未响应」
 *   yellow  hazard.<rule>            a major hazard acknowledged (「处置中」) or still within its
 *                                    deadline (「待处置」); a minor or warning hazard (level_high, the
 *                                    tank overflowing, is a warning: an overflow is not a fire)
 *   yellow  fault.<rule>             an unclosed fault other than device_offline (sensor_fault)
 *   yellow  maintenance_alerts       hazards raised in a maintenance window still unclosed (the
 *                                    window within its bound; past it they are weighed as above)
 *   yellow  offline                  a device that has reported before and has now been silent
 *                                    longer than SAFETY_CODE_OFFLINE_H (24 h), not in maintenance
 *   yellow  maintenance              a maintenance window active on the building or a device
 *   yellow  maintenance_overdue      a maintenance window active longer than
 *                                    MAINTENANCE_MAX_OPERATOR_H (72 h)
 *   yellow  survey_hazard            the district survey found hazards (排查发现的消防安全隐患, not
 *                                    "无") and 整改情况 does not say 已整改
 *   yellow  required_missing         the plan requires monitoring (coverage.ts requirementOf) and a
 *                                    required kind has no device that has ever reported
 *   grey    required_not_connected   the plan requires monitoring and no device has ever reported
 *   grey    not_connected            not required, and no device has ever reported
 *   info    offline_recent           devices silent for less than SAFETY_CODE_OFFLINE_H
 *   info    devices_pending          devices registered that have never reported
 *   info    devices_commissioning    devices being commissioned (调试, issue #17 item 6): neither
 *                                    they nor their alerts weigh on the code until in service
 *   info    survey_rectified         the survey's hazards are recorded as rectified
 *   green   all_normal               none of the above but info
 *
 * device_offline alerts are not counted as faults: the device's own silence is (offline /
 * offline_recent), so a short outage does not turn a public code yellow while the duty console
 * still sees the fault. The reasons name what is wrong by kind, never by device id, location or
 * person, and never repeat the survey's free text: the same list is shown on the public page.
 */
import { REASON_WORDS, KIND_WORDS, type CoverageReason } from '../coverage/coverage.js';
import type { DeviceKind } from '../telemetry/telemetry.js';
import type { AlertClass, Severity } from '../rules/rule-types.js';
import type { SurveyRectification } from '../devices/model.js';

export const SAFETY_STATUSES = ['green', 'yellow', 'red', 'grey'] as const;
export type SafetyStatus = (typeof SAFETY_STATUSES)[number];
/** what a reason weighs: a colour, or `info` (shown, never changes the colour) */
export const REASON_LEVELS = ['red', 'yellow', 'grey', 'green', 'info'] as const;
export type ReasonLevel = (typeof REASON_LEVELS)[number];

const RANK: Readonly<Record<ReasonLevel, number>> = { red: 4, yellow: 3, grey: 2, green: 1, info: 0 };

export interface SafetyReason {
  /** stable code: see the table above */
  code: string;
  level: ReasonLevel;
  zh: string;
  en: string;
}

export interface SafetyCounts {
  /** unclosed hazard alerts not shielded by maintenance */
  hazards: number;
  /** unclosed fault alerts other than device_offline */
  faults: number;
  /** devices that have reported before and are not connected and reporting now */
  offline: number;
  /** active maintenance windows (building and devices) */
  maintenance: number;
}

/** The bounds of the table, in hours (config: SAFETY_CODE_OFFLINE_H, MAINTENANCE_MAX_OPERATOR_H). */
export interface SafetyBounds {
  offlineH: number;
  maintenanceH: number;
}
export const DEFAULT_SAFETY_BOUNDS: SafetyBounds = { offlineH: 24, maintenanceH: 72 };

/** Rules whose alert is the electrical-fire detector's own alarm (GB 50116-2013 9.2): fire evidence. */
export const FIRE_EVIDENCE_RULES: readonly string[] = ['residual_current_high', 'temperature_high'];
/** device_alarm from these kinds is a fire detector's alarm: fire evidence. */
export const FIRE_DETECTOR_KINDS: readonly string[] = ['electrical_fire', 'uitd'];

export interface AlertFact {
  class: AlertClass;
  rule: string;
  severity: Severity;
  /** the device's kind (null for system alerts) */
  kind: string | null;
  deviceId: string | null;
  /** raised while the device or building was in maintenance */
  maintenance: boolean;
  acknowledged: boolean;
  /** ISO time by which a hazard must be acknowledged (null for faults) */
  ackDeadline: string | null;
  /** raised while the device was being commissioned: an installer's test, never weighed */
  commissioning?: boolean;
}

export interface DeviceFact {
  id: string;
  kind: DeviceKind;
  /** the device has connected or reported at least once */
  commissioned: boolean;
  /** connected and reporting now (no device_offline alert open) */
  online: boolean;
  /** start of its silence (epoch ms) when commissioned and not online */
  offlineSince: number | null;
  /** start of its active maintenance window (epoch ms), or null */
  maintenanceSince: number | null;
  /** being commissioned (调试): not monitored yet, only noted */
  commissioning?: boolean;
}

/** The facts about one building that decide its code. */
export interface SafetyFacts {
  now: number;
  bounds: SafetyBounds;
  /** why the plan requires the building to be monitored and with which kinds (coverage.ts), or null */
  requirement: { reasons: readonly CoverageReason[]; required: readonly DeviceKind[] } | null;
  /** the building's alerts that are not closed */
  unclosedAlerts: readonly AlertFact[];
  devices: readonly DeviceFact[];
  /** start of the building's active maintenance window (epoch ms), or null */
  buildingMaintenanceSince: number | null;
  /** what the district survey recorded, or null when not imported from it */
  survey: { hazardFound: boolean; rectification: SurveyRectification | null } | null;
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
  device_supervisory: { zh: '消防设施监管报警（信号阀、压力开关等异常）', en: 'A fire-protection facility reports a supervisory condition' },
  device_offline: { zh: '监测设备长时间未上报数据', en: 'A sensor has stopped reporting' },
  sensor_fault: { zh: '监测设备故障', en: 'A sensor is faulty' },
};

function words(rule: string): { zh: string; en: string } {
  return RULE_WORDS[rule] ?? { zh: `监测异常（${rule}）`, en: `Monitoring issue (${rule})` };
}

const times = (n: number) => ({ zh: n > 1 ? `（${n} 处）` : '', en: n > 1 ? ` (${n})` : '' });
const devicesEn = (n: number, singular: string, plural: string) => `${n} monitoring device${n > 1 ? `s ${plural}` : ` ${singular}`}`;

/** How an alert's state reads, worst first (the order picks the words for a group of alerts). */
const HAZARD_STATES = {
  open: { zh: '待处置', en: 'being handled' },
  unanswered: { zh: '超时未响应', en: 'not answered in time' },
  handling: { zh: '处置中', en: 'acknowledged, being dealt with' },
} as const;
type HazardState = keyof typeof HAZARD_STATES;

/** Red or yellow for one unshielded hazard, per the table. */
export function hazardWeight(a: AlertFact, now: number): { level: 'red' | 'yellow'; state: HazardState } {
  const fireEvidence = FIRE_EVIDENCE_RULES.includes(a.rule) || (a.rule === 'device_alarm' && a.kind !== null && FIRE_DETECTOR_KINDS.includes(a.kind));
  if (fireEvidence || a.severity === 'critical') return { level: 'red', state: a.acknowledged ? 'handling' : 'open' };
  if (a.severity === 'major') {
    if (a.acknowledged) return { level: 'yellow', state: 'handling' };
    const deadline = a.ackDeadline === null ? NaN : Date.parse(a.ackDeadline);
    return Number.isFinite(deadline) && now >= deadline ? { level: 'red', state: 'unanswered' } : { level: 'yellow', state: 'open' };
  }
  return { level: 'yellow', state: a.acknowledged ? 'handling' : 'open' };
}

function kindList(kinds: readonly DeviceKind[]): { zh: string; en: string } {
  return { zh: kinds.map((k) => KIND_WORDS[k]?.zh ?? k).join('、'), en: kinds.map((k) => KIND_WORDS[k]?.en ?? k).join(', ') };
}

export function computeSafetyCode(facts: SafetyFacts): SafetyCode {
  const { now, bounds } = facts;
  const offlineBoundMs = bounds.offlineH * 3_600_000;
  const maintenanceBoundMs = bounds.maintenanceH * 3_600_000;
  const overdue = (since: number | null) => since !== null && now - since > maintenanceBoundMs;
  // a device being commissioned is not monitored yet: it and its alerts are only noted (issue #17 item 6)
  const inCommissioning = facts.devices.filter((d) => d.commissioning === true);
  const devices = facts.devices.filter((d) => d.commissioning !== true);
  const unclosedAlerts = facts.unclosedAlerts.filter((a) => a.commissioning !== true);
  const devicesById = new Map(devices.map((d) => [d.id, d]));
  const buildingOverdue = overdue(facts.buildingMaintenanceSince);
  const reasons: SafetyReason[] = [];
  const add = (code: string, level: ReasonLevel, zh: string, en: string) => reasons.push({ code, level, zh, en });

  // ── alerts ─────────────────────────────────────────────────────────────────────────────────
  // a maintenance alert is shielded (yellow, to be confirmed) unless the window it belongs to has
  // lasted past its bound: then it weighs as any other alert
  const shielded = (a: AlertFact) => {
    if (!a.maintenance) return false;
    const device = a.deviceId === null ? undefined : devicesById.get(a.deviceId);
    return !(buildingOverdue || overdue(device?.maintenanceSince ?? null));
  };
  const hazards = unclosedAlerts.filter((a) => a.class === 'hazard' && !shielded(a));
  const maintenanceHazards = unclosedAlerts.filter((a) => a.class === 'hazard' && shielded(a));
  const faults = unclosedAlerts.filter((a) => a.class === 'fault' && a.rule !== 'device_offline');

  const byRule = new Map<string, { level: 'red' | 'yellow'; state: HazardState; n: number }>();
  const stateOrder: HazardState[] = ['unanswered', 'open', 'handling'];
  for (const a of hazards) {
    const w = hazardWeight(a, now);
    const g = byRule.get(a.rule);
    if (!g) byRule.set(a.rule, { ...w, n: 1 });
    else {
      g.n += 1;
      if (RANK[w.level] > RANK[g.level]) g.level = w.level;
      if (stateOrder.indexOf(w.state) < stateOrder.indexOf(g.state)) g.state = w.state;
    }
  }
  for (const [rule, g] of byRule) {
    const w = words(rule);
    const t = times(g.n);
    const s = HAZARD_STATES[g.state];
    add(`hazard.${rule}`, g.level, `${w.zh}${t.zh}，${s.zh}`, `${w.en}${t.en}; ${s.en}`);
  }
  const faultsByRule = new Map<string, number>();
  for (const a of faults) faultsByRule.set(a.rule, (faultsByRule.get(a.rule) ?? 0) + 1);
  for (const [rule, n] of faultsByRule) {
    const w = words(rule);
    const t = times(n);
    add(`fault.${rule}`, 'yellow', `${w.zh}${t.zh}，待维修`, `${w.en}${t.en}; awaiting repair`);
  }
  if (maintenanceHazards.length > 0) {
    const n = maintenanceHazards.length;
    add('maintenance_alerts', 'yellow', `维护期间产生的告警 ${n} 条，待确认`, `${n} alert${n > 1 ? 's' : ''} raised during maintenance, to be confirmed`);
  }

  // ── devices: silence and maintenance ───────────────────────────────────────────────────────
  const inBoundMaintenance = (d: DeviceFact) =>
    (d.maintenanceSince !== null && !overdue(d.maintenanceSince)) || (facts.buildingMaintenanceSince !== null && !buildingOverdue);
  const commissioned = devices.filter((d) => d.commissioned);
  const offline = commissioned.filter((d) => !d.online);
  const longOffline = offline.filter((d) => !inBoundMaintenance(d) && d.offlineSince !== null && now - d.offlineSince > offlineBoundMs);
  const recentOffline = offline.length - longOffline.length;
  if (longOffline.length > 0) {
    const n = longOffline.length;
    add('offline', 'yellow', `${n} 台监测设备离线超过 ${bounds.offlineH} 小时`, `${devicesEn(n, 'has', 'have')} been offline for more than ${bounds.offlineH} h`);
  }
  const deviceWindows = devices.filter((d) => d.maintenanceSince !== null);
  const overdueDevices = deviceWindows.filter((d) => overdue(d.maintenanceSince)).length;
  const inBoundDevices = deviceWindows.length - overdueDevices;
  if (facts.buildingMaintenanceSince !== null && !buildingOverdue) add('maintenance', 'yellow', '消防设施维护保养中', 'Fire facilities are under maintenance');
  else if (facts.buildingMaintenanceSince === null && inBoundDevices > 0) {
    add('maintenance', 'yellow', `${inBoundDevices} 台监测设备维护中`, `${devicesEn(inBoundDevices, 'is', 'are')} under maintenance`);
  }
  if (buildingOverdue) {
    add('maintenance_overdue', 'yellow', `消防设施维护保养已超过 ${bounds.maintenanceH} 小时`, `Fire facilities have been under maintenance for more than ${bounds.maintenanceH} h`);
  } else if (overdueDevices > 0) {
    add(
      'maintenance_overdue',
      'yellow',
      `${overdueDevices} 台监测设备维护已超过 ${bounds.maintenanceH} 小时`,
      `${devicesEn(overdueDevices, 'has', 'have')} been under maintenance for more than ${bounds.maintenanceH} h`,
    );
  }

  // ── the district survey ────────────────────────────────────────────────────────────────────
  if (facts.survey?.hazardFound) {
    if (facts.survey.rectification === 'rectified') {
      add('survey_rectified', 'info', '区消防安全排查发现的隐患已整改', 'The hazards found by the district fire-safety survey are rectified');
    } else if (facts.survey.rectification === 'pending') {
      add('survey_hazard', 'yellow', '区消防安全排查发现隐患，尚未整改', 'The district fire-safety survey found hazards that are not rectified yet');
    } else {
      add('survey_hazard', 'yellow', '区消防安全排查发现隐患，尚无整改完成记录', 'The district fire-safety survey found hazards; no rectification is recorded');
    }
  }

  // ── coverage: is there evidence at all, and of everything the plan asks for ────────────────
  const req = facts.requirement;
  const why = req ? { zh: req.reasons.map((r) => REASON_WORDS[r].zh).join('、'), en: req.reasons.map((r) => REASON_WORDS[r].en).join(', ') } : undefined;
  if (commissioned.length === 0) {
    if (req && why) {
      add('required_not_connected', 'grey', `按区消防物联网建设要求（${why.zh}）应接入监测，尚未接入`, `The district plan requires monitoring (${why.en}); not connected yet`);
    } else {
      add('not_connected', 'grey', '尚未接入物联网监测设备，本码不反映消防设施状态', 'No monitoring device is connected: the code cannot show the state of the fire facilities');
    }
  } else if (req && why) {
    const have = new Set(commissioned.map((d) => d.kind));
    const missing = req.required.filter((k) => !have.has(k));
    if (missing.length > 0) {
      const m = kindList(missing);
      add('required_missing', 'yellow', `按区消防物联网建设要求（${why.zh}）应接入的监测尚缺：${m.zh}`, `Monitoring the district plan requires (${why.en}) is missing: ${m.en}`);
    }
  }
  if (recentOffline > 0) {
    add(
      'offline_recent',
      'info',
      `${recentOffline} 台监测设备暂时离线（不足 ${bounds.offlineH} 小时）`,
      `${devicesEn(recentOffline, 'is', 'are')} briefly offline (less than ${bounds.offlineH} h)`,
    );
  }
  const pending = devices.length - commissioned.length;
  if (pending > 0) add('devices_pending', 'info', `${pending} 台监测设备已登记，尚未接入`, `${devicesEn(pending, 'is', 'are')} registered but not connected yet`);
  if (inCommissioning.length > 0) {
    const n = inCommissioning.length;
    add('devices_commissioning', 'info', `${n} 台监测设备安装调试中，尚未投入使用`, `${devicesEn(n, 'is', 'are')} being commissioned, not in service yet`);
  }

  let status: SafetyStatus = 'green';
  for (const r of reasons) if (r.level !== 'info' && r.level !== 'green' && RANK[r.level] > RANK[status]) status = r.level;
  if (status === 'green') add('all_normal', 'green', '消防设施监测正常', 'All monitored fire facilities are normal');
  // highest level first; within a level, the table's order
  const sorted = reasons.map((r, i) => [r, i] as const).sort(([a, i], [b, j]) => RANK[b.level] - RANK[a.level] || i - j).map(([r]) => r);

  const counts: SafetyCounts = {
    hazards: hazards.length,
    faults: faults.length,
    offline: offline.length,
    maintenance: (facts.buildingMaintenanceSince !== null ? 1 : 0) + deviceWindows.length,
  };
  return { status, reasons: sorted, counts };
}

export const STATUS_WORDS: Readonly<Record<SafetyStatus, { zh: string; en: string }>> = {
  green: { zh: '绿码：正常', en: 'Green: normal' },
  yellow: { zh: '黄码：需关注', en: 'Yellow: attention' },
  red: { zh: '红码：存在未处置的消防险情', en: 'Red: an open fire-safety hazard' },
  grey: { zh: '灰码：未接入监测', en: 'Grey: not monitored' },
};

/** The rules as the public page states them (Chinese first), per colour; the same table as above. */
export function safetyRuleText(bounds: SafetyBounds): ReadonlyArray<{ status: SafetyStatus; zh: string[]; en: string[] }> {
  return [
    {
      status: 'red',
      zh: [
        '电气火灾监控探测器报警（剩余电流超限、线缆温度过高）或火灾报警设备报警，尚未处置完毕；',
        '其他严重级别的消防险情尚未处置；',
        '消防水压、水位、消防车道等告警超过响应时限无人响应。',
      ],
      en: [
        'An electrical-fire detector alarm (residual current, cable temperature) or a fire alarm that is not closed;',
        'another critical hazard that is not closed;',
        'a fire-water pressure, tank level or fire-lane alert nobody answered within the response time.',
      ],
    },
    {
      status: 'yellow',
      zh: [
        '消防水压、水位、消防车道等告警已响应、正在处置，或属一般级别（如水箱水位偏高）；',
        '监测设备故障；',
        `监测设备离线超过 ${bounds.offlineH} 小时；`,
        `消防设施或监测设备维护保养中（超过 ${bounds.maintenanceH} 小时另行提示，期间告警照常计入）；`,
        '区消防安全排查发现的隐患尚未整改（或无整改完成记录）；',
        '按区规划应接入的监测类型尚未全部接入。',
      ],
      en: [
        'A fire-water pressure, tank level or fire-lane alert being dealt with, or a minor one (e.g. the tank level too high);',
        'a faulty sensor;',
        `a sensor offline for more than ${bounds.offlineH} h;`,
        `maintenance on the fire facilities or a sensor (beyond ${bounds.maintenanceH} h it is shown as such and its alerts count as usual);`,
        'hazards found by the district fire-safety survey not rectified (or no rectification recorded);',
        'not every kind of monitoring the district plan requires is connected.',
      ],
    },
    {
      status: 'grey',
      zh: ['尚未接入物联网监测设备，本码不反映消防设施状态（按区规划应接入的建筑会注明）。'],
      en: ['No monitoring device is connected, so the code cannot show the state of the fire facilities (buildings the district plan requires to be monitored say so).'],
    },
    {
      status: 'green',
      zh: [`已接入监测，且没有上述情况。设备短暂离线（不足 ${bounds.offlineH} 小时）只作提示。`],
      en: [`Monitored, and none of the above. A sensor briefly offline (less than ${bounds.offlineH} h) is only noted.`],
    },
  ];
}
