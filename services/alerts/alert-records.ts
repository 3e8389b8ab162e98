/**
 * The incident record (警情记录, issue #17 item 4): every alert that was raised, searchable by date,
 * street, building, rule, outcome and person, and exportable for the duty room's reports. Hazards
 * and faults are kept apart (a filter on class, hazards by default): a device that went silent and
 * came back is maintenance, not an incident.
 *
 * Pure helpers for the route: the filter's times, the keyset cursor, and the CSV rows (Chinese
 * first, times in Asia/Shanghai). The query itself is the store's (SyncAlertStore.records).
 */
import { BadRequestError } from '../shared/errors.js';
import type { AlertRecord } from './model.js';

/** Asia/Shanghai has been UTC+8 all year since 1991: no DST to look up. */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** "2026-11-29 08:00:00" in Asia/Shanghai; '' for null. */
export function shanghaiDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  return new Date(t + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A filter bound as the store compares it (toISOString text). A date `YYYY-MM-DD` is a day in
 * Asia/Shanghai — as `from` its first instant, as `to` its last (the whole day is included); an
 * ISO 8601 time or epoch milliseconds is that instant (inclusive).
 */
export function recordBound(value: string, edge: 'from' | 'to'): string {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  let t: number;
  if (day) {
    const start = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])) - SHANGHAI_OFFSET_MS;
    t = edge === 'from' ? start : start + DAY_MS - 1;
  } else {
    t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  }
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) {
    throw new BadRequestError('bad_time', `${edge} must be a date (YYYY-MM-DD, Asia/Shanghai), an ISO 8601 time or epoch milliseconds`);
  }
  return new Date(t).toISOString();
}

/** The keyset cursor: the last record's time (of the list's date field) and id, opaque to clients. */
export function encodeRecordCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id]), 'utf8').toString('base64url');
}

export function decodeRecordCursor(cursor: string): { at: string; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return { at: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new BadRequestError('bad_cursor', 'cursor is not a nextCursor of this list');
}

// ── words for the CSV (the console has its own, dashboards/console/js/i18n.js) ───────────────────
export const RULE_WORDS: Record<string, string> = {
  pressure_low: '水压过低',
  pressure_high: '水压过高',
  pressure_drop: '水压骤降',
  level_low: '水位过低',
  level_high: '水位过高',
  residual_current_high: '剩余电流超限',
  temperature_high: '线缆温度超限',
  lane_blocked: '消防车道占用',
  device_offline: '设备离线',
  sensor_fault: '传感器故障',
  device_alarm: '探测器报警',
  device_supervisory: '监管报警',
  service_outage: '服务中断',
  alarm_clock_late: '告警时钟超时',
  probable_fire: '疑似真实火灾',
  lane_blocked_in_fire: '火警期间消防车道占用',
};
const SEVERITY_WORDS: Record<string, string> = { critical: '紧急', major: '重要', minor: '一般', warning: '提示' };
const OUTCOME_WORDS: Record<string, string> = { real_fire: '真实火情', false_alarm: '误报', test: '测试', fault: '设备故障', other: '其他' };
const STATUS_WORDS: Record<string, string> = { open: '待确认', acknowledged: '已确认', closed: '已关闭' };
const CLASS_WORDS: Record<string, string> = { hazard: '火警隐患', fault: '设备故障' };

/** '误报(false_alarm)': Chinese for the reader, the code for a formula or a filter. */
const word = (words: Record<string, string>, code: string | null | undefined) => (code ? `${words[code] ?? code}(${code})` : '');

export const RECORD_CSV_HEADER = [
  '开始时间 opened',
  '街道 street',
  '楼宇 building',
  '位置 location',
  '规则 rule',
  '级别 severity',
  '确认时间 acknowledged',
  '确认人 acknowledged by',
  '处置时间 closed',
  '处置人 closed by',
  '处置结果 outcome',
  '处置说明 note',
  '状态 status',
  '类别 class',
  '描述 message',
  '设备 device',
  '维护中 maintenance',
  '告警编号 alert id',
] as const;

/** A person as the duty room knows them: "李值班 (li.duty)"; the system as 系统. */
function person(by: string | null, name: string | null | undefined): string {
  if (by === null) return '';
  if (by === 'system') return '系统 (system)';
  return name && name !== by ? `${name} (${by})` : by;
}

/** Header and one row per record; the caller neutralises the cells (stringifyCsvForSpreadsheet). */
export function recordCsvRows(records: ReadonlyArray<AlertRecord & { location: string | null }>): string[][] {
  return [
    [...RECORD_CSV_HEADER],
    ...records.map((a) => [
      shanghaiDateTime(a.openedAt),
      a.street ?? '',
      a.buildingName ?? a.buildingId ?? '',
      a.location ?? '',
      word(RULE_WORDS, a.rule),
      word(SEVERITY_WORDS, a.severity),
      shanghaiDateTime(a.acknowledgedAt),
      person(a.acknowledgedBy, a.acknowledgedByName),
      shanghaiDateTime(a.closedAt),
      person(a.closedBy, a.closedByName),
      word(OUTCOME_WORDS, a.outcome),
      a.note ?? '',
      word(STATUS_WORDS, a.status),
      word(CLASS_WORDS, a.class),
      a.message?.zh ?? '',
      a.deviceId ?? '',
      a.maintenance ? '是' : '否',
      a.id,
    ]),
  ];
}
