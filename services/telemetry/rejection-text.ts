/**
 * A rejected message's detail in Chinese, for the installer (issue #17 item 6). The details are
 * written in English where the message is judged (telemetry.ts, the pipeline, the broker's topic
 * ACL; zod's own issue texts for a schema mismatch) and logged that way; an operator reads this
 * instead: `pressureMpa: Invalid input: expected number, received string` becomes
 * 「字段 pressureMpa 应为数值，收到的是字符串」.
 *
 * Pure and total: every known form is translated, a part that matches none of them falls back to
 * the reason's Chinese sentence with the field named (never raw English).
 */
import type { RejectReason } from './telemetry.js';

const TYPE_ZH: Readonly<Record<string, string>> = {
  number: '数值',
  int: '整数',
  string: '字符串',
  boolean: '布尔值（true/false）',
  object: 'JSON 对象',
  array: '数组',
  undefined: '空（缺少该字段）',
  null: 'null',
  NaN: 'NaN',
};
const typeZh = (t: string) => TYPE_ZH[t] ?? t;

/** What each reason means, when the detail says nothing more specific. */
export const REASON_ZH: Readonly<Record<RejectReason, string>> = {
  bad_json: '消息不是合法的 JSON',
  schema: '消息格式不符合要求（字段缺失或类型错误）',
  unknown_kind: 'kind 不是已知的设备类型',
  out_of_range: '数值超出允许范围',
  future_ts: '时间戳在未来',
  too_large: '消息过大',
  rate_limited: '上报过于频繁',
  unknown_device: '设备未登记或已被删除',
  topic_acl: '发布或订阅了不允许的主题',
};

/** One zod issue (`path: message`, as telemetry.ts zodDetail writes it) in Chinese. */
function zodIssueZh(path: string, message: string): string | undefined {
  const field = path === '(message)' ? '消息' : `字段 ${path}`;
  let m = /^Invalid input: expected (\w+), received (\w+)$/.exec(message);
  if (m) {
    return m[2] === 'undefined' ? `缺少${field === '消息' ? '必填字段' : field}（应为${typeZh(m[1]!)}）` : `${field} 应为${typeZh(m[1]!)}，收到的是${typeZh(m[2]!)}`;
  }
  m = /^Too small: expected (\w+) to (?:be|have) (>=?)\s*(-?[\d.]+)( items)?$/.exec(message);
  if (m) return m[4] ? `${field} 至少应有 ${m[3]} 项` : `${field} 应${m[2] === '>=' ? '不小于' : '大于'} ${m[3]}`;
  m = /^Too big: expected (\w+) to (?:be|have) (<=?)\s*(-?[\d.]+)( items)?$/.exec(message);
  if (m) return m[4] ? `${field} 最多只能有 ${m[3]} 项` : `${field} 应${m[2] === '<=' ? '不大于' : '小于'} ${m[3]}`;
  if (/^Invalid ISO datetime$/.test(message)) return `${field} 不是带时区的 ISO 8601 时间（如 2026-11-29T08:00:00+08:00）或毫秒时间戳`;
  if (/^Invalid input$/.test(message)) return `${field} 的值无效`;
  m = /^(.+) is required$/.exec(message);
  if (m) return `消息须包含 ${m[1]!.replace(/ or /g, ' 或 ').replace(/, /g, '、')} 之一`;
  if (/^Unrecognized keys?/.test(message)) return `${field} 含有不允许的字段`;
  return undefined;
}

/** One `;`-separated part of a detail in Chinese, or undefined when no known form matches. */
function partZh(part: string): string | undefined {
  let m: RegExpExecArray | null;
  // out_of_range (telemetry.ts outOfSpan, outOfRange)
  m = /^(\S+)=(\S+) outside the sensor's range (\S+)…(\S+) (\S+) \(accepted (\S+)…(\S+)\)( \(a value in bar or kPa sent as MPa\?\))?$/.exec(part);
  if (m) {
    const hint = m[8] ? '；是否把 bar 或 kPa 的数值当作 MPa 发送了？' : '';
    return `${m[1]}=${m[2]} 超出传感器量程 ${m[3]}…${m[4]} ${m[5]}（可接收 ${m[6]}…${m[7]}）${hint}`;
  }
  m = /^(\S+)=(\S+) outside the physical range (\S+)…(\S+)$/.exec(part);
  if (m) return `${m[1]}=${m[2]} 超出物理上可能的范围 ${m[3]}…${m[4]}（检查单位）`;
  // schema (telemetry.ts validateMessage, pipeline.ts)
  if (part === 'each message must be a JSON object') return '每条消息必须是一个 JSON 对象';
  if (part === 'payload must be a JSON object or an array of objects') return '消息必须是 JSON 对象或由对象组成的数组';
  if (part === 'empty array') return '消息是空数组';
  m = /^kind (\S+) does not match the device's kind (\S+)$/.exec(part);
  if (m) return `kind ${m[1]} 与设备登记的类型 ${m[2]} 不一致`;
  m = /^kind (.+) is not one of (.+)$/.exec(part);
  if (m) return `kind ${m[1]} 不是已知类型（${m[2]}）`;
  m = /^ts (.+) is not a plausible time$/.exec(part);
  if (m) return `时间戳 ts ${m[1]} 不是合理的时间`;
  m = /^ts (\S+) is more than (\S+)s ahead of server time$/.exec(part);
  if (m) return `时间戳 ${m[1]} 比服务器时间快 ${m[2]} 秒以上：请校准设备时钟（NTP）`;
  m = /^payload of (\d+) bytes exceeds (\d+)$/.exec(part);
  if (m) return `消息 ${m[1]} 字节，超过上限 ${m[2]} 字节`;
  m = /^more than (\S+)\/s \(burst (\S+)\)$/.exec(part);
  if (m) return `每秒超过 ${m[1]} 条（突发上限 ${m[2]} 条）`;
  m = /^device (\S+) is not registered$/.exec(part);
  if (m) return `设备 ${m[1]} 未登记（或已被删除）`;
  m = /^(publish|subscribe) to (\S+) is not allowed$/.exec(part);
  if (m) return `不允许${m[1] === 'publish' ? '发布到' : '订阅'}主题 ${m[2]}`;
  // a zod issue: `path: message`
  m = /^([^:]+): (.+)$/.exec(part);
  if (m) return zodIssueZh(m[1]!, m[2]!);
  return undefined;
}

/** The detail of a rejection in Chinese. */
export function rejectionDetailZh(reason: RejectReason, detail: string): string {
  if (reason === 'bad_json') {
    return /Unexpected end of JSON input/.test(detail) ? '消息不是合法的 JSON：内容不完整（缺少结尾的 } 或 ]）' : '消息不是合法的 JSON（检查引号、逗号和括号）';
  }
  const parts = detail
    .split('; ')
    .map((p) => p.trim())
    .filter(Boolean);
  const zh = parts.map((p) => {
    const t = partZh(p);
    if (t) return t;
    const field = /^([A-Za-z_][\w.[\]]*)[:=]/.exec(p)?.[1];
    return field ? `${REASON_ZH[reason] ?? '消息被拒收'}（字段 ${field}）` : (REASON_ZH[reason] ?? '消息被拒收');
  });
  return zh.length > 0 ? [...new Set(zh)].join('；') : (REASON_ZH[reason] ?? '消息被拒收');
}
