/**
 * Human sentences for rule outcomes, Chinese first, e.g.
 *   顶层消火栓静压 0.05 MPa 低于 0.10 MPa（GB 50974-2014 5.2.2）
 *   Top-floor hydrant static pressure 0.05 MPa below 0.10 MPa (GB 50974-2014 5.2.2)
 * The clause is the default threshold's source; a default no clause backs says "system default";
 * an overridden threshold says "device setting".
 */
import type { PressurePoint } from '../telemetry/telemetry.js';
import type { Transition } from './condition.js';
import { RULE_UNITS, SYSTEM_DEFAULT_SOURCE, type RuleId } from './rule-types.js';

export interface Message {
  zh: string;
  en: string;
}

export interface MessageInput {
  ruleId: RuleId;
  transition: Transition;
  value: number;
  threshold: number | null;
  point: PressurePoint | null;
  source?: string | undefined;
  detail?: string | undefined;
  realert?: boolean | undefined;
  /** minutes the condition has lasted, for re-alerts */
  durationMin?: number | undefined;
}

const POINT: Record<PressurePoint, Message> = {
  hydrant_top: { zh: '顶层消火栓静压', en: 'Top-floor hydrant static pressure' },
  hydrant_outlet: { zh: '消火栓栓口压力', en: 'Hydrant outlet pressure' },
  sprinkler_end: { zh: '喷淋末端试水压力', en: 'Sprinkler end-of-line test pressure' },
  pump_outlet: { zh: '消防泵出水压力', en: 'Fire pump outlet pressure' },
  network: { zh: '消防管网压力', en: 'Fire-water network pressure' },
};

const SUBJECT: Partial<Record<RuleId, Message>> = {
  level_low: { zh: '消防水池/水箱水位', en: 'Fire water tank level' },
  level_high: { zh: '消防水池/水箱水位', en: 'Fire water tank level' },
  residual_current_high: { zh: '剩余电流', en: 'Residual current' },
  temperature_high: { zh: '线缆温度', en: 'Cable temperature' },
};

/** MPa and m with at least 2 decimals and at most 3 (0.095 must not print as 0.10). */
export function formatValue(ruleId: RuleId, v: number): string {
  const unit = RULE_UNITS[ruleId];
  if (unit === 'MPa' || unit === 'm') {
    const s = v.toFixed(3);
    return `${s.endsWith('0') ? s.slice(0, -1) : s} ${unit}`;
  }
  if (unit === '°C') return `${Number(v.toFixed(1))} °C`;
  return `${Math.round(v)}${unit ? ` ${unit}` : ''}`;
}

function cite(source: string | undefined): Message {
  if (source?.startsWith(SYSTEM_DEFAULT_SOURCE)) return { zh: '（设计取值，无标准值）', en: ' (design choice, no standard value)' };
  if (!source) return { zh: '（设备设定值）', en: ' (device setting)' };
  // the clause only: "GB 50974-2014 5.2.2 (static, fact 41)" → "GB 50974-2014 5.2.2"
  const clause = source.replace(/\s*\(.*$/, '');
  return { zh: `（${clause}）`, en: ` (${clause})` };
}

function subject(input: MessageInput): Message {
  if (input.ruleId.startsWith('pressure_')) return input.point ? POINT[input.point] : { zh: '消防水压', en: 'Fire-water pressure' };
  return SUBJECT[input.ruleId] ?? { zh: '', en: '' };
}

function thresholdSentence(input: MessageInput, below: boolean): Message {
  const s = subject(input);
  const v = formatValue(input.ruleId, input.value);
  const t = input.threshold === null ? '' : formatValue(input.ruleId, input.threshold);
  const c = cite(input.source);
  if (input.transition === 'clear') {
    return { zh: `${s.zh}已恢复至 ${v}（阈值 ${t}）`, en: `${s.en} back to ${v} (threshold ${t})` };
  }
  if (below) return { zh: `${s.zh} ${v} 低于 ${t}${c.zh}`, en: `${s.en} ${v} below ${t}${c.en}` };
  const inclusive = input.ruleId === 'residual_current_high' || input.ruleId === 'temperature_high';
  return inclusive
    ? { zh: `${s.zh} ${v} 达到或超过设定值 ${t}${c.zh}`, en: `${s.en} ${v} at or above the setpoint ${t}${c.en}` }
    : { zh: `${s.zh} ${v} 高于 ${t}${c.zh}`, en: `${s.en} ${v} above ${t}${c.en}` };
}

const FAULT_CAUSE: Record<string, Message> = {
  flag: { zh: '设备上报故障', en: 'the device reports a fault' },
  clamp: { zh: '读数处于量程端点', en: 'the reading is pinned at the end of the sensor span' },
  stuck: { zh: '读数长时间不变', en: 'the reading has not changed for a long time' },
};

/** Rejection reasons (services/telemetry/telemetry.ts REJECT_REASONS) as an installer reads them. */
export const REJECT_REASON_TEXT: Record<string, Message> = {
  bad_json: { zh: '不是有效的 JSON', en: 'not valid JSON' },
  schema: { zh: '字段缺失或格式错误', en: 'missing or malformed fields' },
  unknown_kind: { zh: '设备类型不符', en: 'wrong device kind' },
  out_of_range: { zh: '数值超出传感器量程', en: 'value outside the sensor range' },
  future_ts: { zh: '时间戳超前于服务器时间', en: 'timestamp ahead of server time' },
  unknown_device: { zh: '设备未登记', en: 'device not registered' },
  topic_acl: { zh: '主题无权限', en: 'topic not allowed' },
  too_large: { zh: '消息过大', en: 'message too large' },
  rate_limited: { zh: '发送过于频繁', en: 'sending too often' },
};

/**
 * Alarm codes devices are known to send with `alarm: true` (the electrical-fire detectors of
 * simulators/models/electrical.ts and those modelled on them); any other code is shown as it is,
 * labelled as the device's code. The console has the same words (dashboards/console/js/i18n.js).
 */
export const ALARM_CODE_WORDS: Readonly<Record<string, Message>> = {
  temperature_alarm: { zh: '线缆温度报警', en: 'cable temperature alarm' },
  residual_current_alarm: { zh: '剩余电流报警', en: 'residual current alarm' },
};

/** A silence in seconds as a duty officer reads it: "45 秒", "12 分钟", "3 小时 5 分钟". */
export function silenceZh(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} 秒`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} 分钟`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} 小时` : `${h} 小时 ${m % 60} 分钟`;
}

/** The sentence for one outcome. */
export function ruleMessage(input: MessageInput): Message {
  const { ruleId, transition } = input;
  const clear = transition === 'clear';
  switch (ruleId) {
    case 'pressure_low':
    case 'level_low':
      return thresholdSentence(input, true);
    case 'pressure_high':
    case 'level_high':
    case 'residual_current_high':
    case 'temperature_high':
      return thresholdSentence(input, false);
    case 'pressure_drop': {
      const s = subject(input);
      const v = formatValue(ruleId, input.value);
      const t = input.threshold === null ? '' : formatValue(ruleId, input.threshold);
      return clear
        ? { zh: `${s.zh}已稳定`, en: `${s.en} has stabilised` }
        : { zh: `${s.zh}骤降 ${v}，超过 ${t}（疑似爆管或阀门开启）`, en: `${s.en} fell by ${v}, more than ${t} (burst pipe or opened valve?)` };
    }
    case 'lane_blocked': {
      if (clear) return { zh: '消防车道已恢复畅通', en: 'Fire lane clear again' };
      const m = input.durationMin;
      return input.realert && m !== undefined
        ? { zh: `消防车道仍被占用（已 ${m} 分钟）`, en: `Fire lane still blocked (${m} min)` }
        : { zh: '消防车道被占用', en: 'Fire lane blocked' };
    }
    case 'device_offline':
      return clear
        ? { zh: '设备恢复在线', en: 'Device back online' }
        : { zh: `设备离线：${silenceZh(input.value)}无数据`, en: `Device offline: no data for ${formatValue(ruleId, input.value)}` };
    case 'sensor_fault': {
      if (clear) return { zh: '传感器故障已恢复', en: 'Sensor fault cleared' };
      if (input.detail?.startsWith('rejected:')) {
        const reason = input.detail.slice('rejected:'.length);
        const why = REJECT_REASON_TEXT[reason] ?? { zh: reason, en: reason };
        const n = Math.round(input.value);
        return {
          zh: `传感器故障：连续 ${n} 条消息被拒收（${why.zh}），请检查接线、量程和单位（维护事项，非火警）`,
          en: `Sensor fault: ${n} messages in a row rejected (${why.en}); check the wiring, span and units (maintenance, not a fire alarm)`,
        };
      }
      const cause = FAULT_CAUSE[input.detail ?? 'flag'] ?? FAULT_CAUSE.flag!;
      return { zh: `传感器故障：${cause.zh}（维护事项，非火警）`, en: `Sensor fault: ${cause.en} (maintenance, not a fire alarm)` };
    }
    case 'device_alarm': {
      if (clear) return { zh: '设备报警已复位', en: 'Device alarm reset' };
      // the device's own code is data: labelled, and worded when it is a known one (issue #17 item 5)
      const code = input.detail;
      if (!code) return { zh: '设备自身报警', en: 'Device reports an alarm' };
      const words = ALARM_CODE_WORDS[code];
      return words
        ? { zh: `设备自身报警：${words.zh}（代码 ${code}）`, en: `Device reports an alarm: ${words.en} (code ${code})` }
        : { zh: `设备自身报警（代码 ${code}）`, en: `Device reports an alarm (code ${code})` };
    }
    case 'device_supervisory': {
      if (clear) return { zh: '监管报警已恢复', en: 'Supervisory signal cleared' };
      const point = input.detail ?? '设备上报监管信号';
      return { zh: `监管报警：${point}（设施异常，非火警）`, en: `Supervisory signal: ${point} (a facility out of its normal state, not a fire alarm)` };
    }
  }
}
