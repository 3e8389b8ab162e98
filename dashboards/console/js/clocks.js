/**
 * An alert's clocks on the console (issue #15 item 4): when each step from the sensor to the
 * municipal platform happened — 设备时间, 接收, 落盘, 告警生成, 首次显示, 确认, 转发, 平台确认 — with
 * the time each step took, and the spans the service found over GB 50440's targets (an alarm
 * shown within 10 s, a confirmed fire alarm forwarded within 3 s) marked 超时.
 *
 * The console also reports that it displayed an alert: the first time a card of an alert without
 * `firstShownAt` is on screen (the page visible), POST /alerts/{id}/shown, once per alert and
 * console; the server keeps the first report of any console. Only consoles whose user may handle
 * the alert report (duty officers of its street, admins).
 *
 * Its own module (the board is restructured beside it): the board and the record page call
 * clockLine(a, ctx) where the clocks go, and that is all.
 */
import { post } from './api.js';
import { h } from './dom.js';
import { fmtDateTime, lang } from './i18n.js';

/** the clocks in their order, [zh, en] */
const CLOCKS = [
  ['deviceTs', '设备时间', 'Device time'],
  ['receivedAt', '接收', 'Received'],
  ['durableAt', '落盘', 'Stored'],
  ['raisedAt', '告警生成', 'Raised'],
  ['firstShownAt', '首次显示', 'First shown'],
  ['acknowledgedAt', '确认', 'Acknowledged'],
  ['forwardedAt', '转发', 'Forwarded'],
  ['platformConfirmedAt', '平台确认', 'Platform confirmed'],
];
/** the spans the service holds to a target: the clock each ends at */
const LATE_AT = { received_to_shown: 'firstShownAt', acknowledged_to_forwarded: 'forwardedAt' };
const WORDS = {
  title: ['告警时钟', 'Alarm clocks'],
  late: ['超时', 'late'],
  read_back: ['（重启后读回，时间为上限）', ' (read back after a restart: an upper bound)'],
  received_to_shown: ['接收→显示', 'received → shown'],
  not_yet: ['—', '—'],
};
const w = (key) => WORDS[key][lang() === 'en' ? 1 : 0];

/** '+1.234 s' between two instants */
function step(ms) {
  const s = Math.max(0, ms) / 1000;
  return `+${s < 10 ? s.toFixed(3) : s.toFixed(1)} s`;
}

/** 08:01:02.345 in Asia/Shanghai: the clocks are milliseconds apart */
function at(iso) {
  const ms = String(Date.parse(iso) % 1000).padStart(3, '0');
  return `${fmtDateTime(iso).slice(11)}.${ms}`;
}

const reported = new Set(); // alert ids this console reported (or is reporting)
const opened = new Set(); // alert ids whose clocks a person unfolded: kept across re-renders
let waitingForVisible = [];

function report(a) {
  if (reported.has(a.id)) return;
  if (document.visibilityState !== 'visible') {
    // not displayed while the page is hidden: report once it is seen
    if (waitingForVisible.length === 0) document.addEventListener('visibilitychange', flushVisible);
    if (!waitingForVisible.some((x) => x.id === a.id)) waitingForVisible.push(a);
    return;
  }
  reported.add(a.id);
  post(`/alerts/${encodeURIComponent(a.id)}/shown`, {}).catch((err) => {
    // a refusal is final (another street's alert, a closed one); a network failure is tried again at the next render
    if (!err?.status) reported.delete(a.id);
  });
}

function flushVisible() {
  if (document.visibilityState !== 'visible') return;
  document.removeEventListener('visibilitychange', flushVisible);
  const pending = waitingForVisible;
  waitingForVisible = [];
  for (const a of pending) report(a);
}

/**
 * The alert's clocks as a fold-out list (open on the record page: `{ open: true }`), and the
 * console's "shown" report on the board. Null for alerts stored before clocks.
 */
export function clockLine(a, ctx, opts = {}) {
  const c = a.clocks;
  if (!c) return null;
  if (ctx?.can?.handle && a.status !== 'closed' && !c.firstShownAt && !c.acknowledgedAt) setTimeout(() => report(a), 0);
  const late = new Set((c.late ?? []).map((span) => LATE_AT[span]).filter(Boolean));
  let before = null;
  const rows = CLOCKS.map(([key, zh, en]) => {
    const v = c[key];
    const delta = v && before && key !== 'receivedAt' ? step(Date.parse(v) - Date.parse(before)) : '';
    if (v) before = v;
    return h(
      'li',
      { class: ['clock', !v && 'unset', late.has(key) && 'late'], dataset: { clock: key } },
      h('span', { class: 'clock-label' }, lang() === 'en' ? en : zh),
      h('span', { class: 'clock-at' }, v ? at(v) : w('not_yet'), key === 'durableAt' && c.durableAtSource === 'read_back' ? w('read_back') : ''),
      delta ? h('span', { class: 'clock-step' }, delta) : null,
      late.has(key) ? h('span', { class: 'badge clock-late' }, w('late')) : null,
    );
  });
  const from = c.receivedAt ?? c.raisedAt;
  const shown = c.firstShownAt && from ? ` · ${w('received_to_shown')} ${step(Date.parse(c.firstShownAt) - Date.parse(from))}` : '';
  const details = h(
    'details',
    { class: ['clocks', late.size > 0 && 'late'], dataset: { alertId: a.id }, ...(opts.open || opened.has(a.id) ? { open: true } : {}) },
    h('summary', {}, w('title'), shown, late.size > 0 ? h('span', { class: 'badge clock-late' }, w('late')) : null),
    h('ol', { class: 'clock-list' }, rows),
  );
  details.addEventListener('toggle', () => (details.open ? opened.add(a.id) : opened.delete(a.id)));
  return details;
}
