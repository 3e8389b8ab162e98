/**
 * How an alert reads, as words (issue #17 items 2 and 5): the measured value with its unit per rule,
 * and what each history entry says. Pure helpers of the board and the records pages, in a module of
 * their own so that neither page imports the other for them.
 */
import { h } from './dom.js';
import { bilingualHalf, fmtDateTime, fmtTime, msg, name, t } from './i18n.js';

/** units of alerts stored before they carried `measured` (the server's RULE_UNITS) */
export const RULE_UNITS = {
  pressure_low: 'MPa', pressure_high: 'MPa', pressure_drop: 'MPa', level_low: 'm', level_high: 'm',
  residual_current_high: 'mA', temperature_high: '°C',
};

/** the number as the server's messages print it: MPa and m with 2–3 decimals, °C with 1, mA whole */
function num(v, unit) {
  if (unit === 'MPa' || unit === 'm') {
    const s = v.toFixed(3);
    return s.endsWith('0') ? s.slice(0, -1) : s;
  }
  if (unit === '°C') return String(Number(v.toFixed(1)));
  return String(Math.round(v));
}
export const qty = (v, unit) => `${num(v, unit)}${unit ? ` ${unit}` : ''}`;

/** 75 s → '1 分钟'; under a minute in seconds, over an hour in hours and minutes */
export function fmtSpan(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t('u_s', s);
  const m = Math.floor(s / 60);
  return m < 60 ? t('u_min', m) : t('u_h_min', Math.floor(m / 60), m % 60);
}

const paren = (parts) => {
  const p = parts.filter(Boolean);
  return p.length ? t('paren', p.join(t('list_sep'))) : '';
};

/** a span whose text `t(key, <time since>)` is refreshed by tickCountdowns() on the server's clock */
const elapsed = (key, since) => h('span', { class: 'elapsed', dataset: { key, since } });

/** The measured value in words with its unit, per rule (issue #17 item 2); null when there is nothing to add. */
export function valueLine(a) {
  const m = a.measured ?? null;
  const unit = m?.unit ?? RULE_UNITS[a.rule] ?? null;
  const q = (v) => qty(v, unit);
  const line = (...body) => h('p', { class: 'value-line', dataset: { rule: a.rule } }, ...body);
  switch (a.rule) {
    case 'pressure_drop': {
      // the alert's value is the fall; the pressure itself is what was measured
      const fell = a.value !== null ? t('v_fell', q(a.value)) : null;
      const thr = a.threshold !== null ? t('v_threshold', q(a.threshold)) : null;
      if (m?.value != null && m.from != null) return line(t('v_pressure_fell', num(m.from, unit), q(m.value)), paren([fell, thr]));
      if (m?.value != null) return line(t('v_pressure', q(m.value)), paren([fell, thr]));
      return a.value !== null ? line(t('v_fell_only', q(a.value)), paren([thr])) : null;
    }
    case 'lane_blocked': {
      const since = m?.since ?? a.openedAt;
      if (a.cleared && a.clearedAt) return line(t('v_lane_cleared', fmtSpan(Date.parse(a.clearedAt) - Date.parse(since))));
      return line(elapsed('v_lane', since));
    }
    case 'device_offline': {
      // the value is the silence (s) when it was raised
      const since = m?.since ?? new Date(Date.parse(a.openedAt) - (a.value ?? 0) * 1000).toISOString();
      return line(elapsed('v_offline', since));
    }
    case 'device_alarm': {
      // the device's own code is data: labelled, and worded when it is a known one (issue #17 item 5)
      const words = m?.code ? name('alarm_code', m.code) : '';
      return line(words && words !== m.code ? t('v_device_alarm_words', words) : t('v_device_alarm'), m?.code ? paren([t('v_code', m.code)]) : '');
    }
    case 'device_supervisory':
      return line(t('v_supervisory'), m?.code ? paren([m.code]) : '');
    case 'sensor_fault':
      // the message names the cause; a pinned or unchanged reading is worth its number
      return m?.value != null && unit ? line(t('v_reading', q(m.value))) : null;
    default: {
      const cur = m?.value ?? a.value;
      if (!unit || cur === null || cur === undefined) return null;
      const low = a.rule === 'pressure_low' || a.rule === 'level_low';
      const setpoint = a.rule === 'residual_current_high' || a.rule === 'temperature_high';
      const thr = a.threshold !== null ? t(setpoint ? 'v_setpoint' : 'v_threshold', q(a.threshold)) : null;
      const peak = a.peak !== null && a.peak !== cur ? t(low ? 'v_lowest' : 'v_highest', q(a.peak)) : null;
      return line(t('v_now', q(cur)), paren([thr, peak]));
    }
  }
}

/**
 * What a history entry says, in the reader's language and in Shanghai time (issue #17 item 5): from
 * its structured `info`; entries stored before it have only the service's text, read as best it can.
 */
export function historyText(e) {
  const i = e.info;
  switch (i?.code) {
    case 'message':
      return msg(i.message);
    case 'still_active':
      return t('h_still_active', msg(i.message));
    case 'auto_closed':
      return t(`h_auto_${i.why}`);
    case 'closed':
      return t('h_closed', name('outcome', i.outcome), i.note);
    case 'note':
      return i.note;
    case 'escalated':
      return t(i.deadline === 'ack' ? 'h_esc_ack' : 'h_esc_close', i.due ? fmtTime(i.due) : '—');
    case 'maintenance':
      return t('h_maintenance', fmtDateTime(i.until), i.reason);
    case 'commissioning':
      return t('h_commissioning');
    default:
      return legacyHistoryText(e);
  }
}

const LEGACY_AUTO_CLOSED = { 'fault cleared': 'h_auto_fault_cleared', 'commissioning alert cleared': 'h_auto_commissioning_cleared' };

function legacyHistoryText(e) {
  const d = e.detail ?? '';
  if (!d) return '';
  if (e.action === 'closed') {
    if (LEGACY_AUTO_CLOSED[d]) return t(LEGACY_AUTO_CLOSED[d]);
    const closed = /^(real_fire|false_alarm|test|fault|other): ([\s\S]*)$/.exec(d);
    if (closed) return t('h_closed', name('outcome', closed[1]), bilingualHalf(closed[2]));
  }
  const maintenance = /^维护中，不通知 \/ in maintenance until (\S+): ([\s\S]*)$/.exec(d);
  if (maintenance) return t('h_maintenance', fmtDateTime(maintenance[1]), maintenance[2]);
  const still = /^仍未恢复 \/ still active: ([\s\S]*)$/.exec(d);
  if (still) return t('h_still_active', still[1]);
  // the service's own "中文 / English" sentences; a person's note stays as written
  return e.by === 'system' ? bilingualHalf(d) : d;
}
