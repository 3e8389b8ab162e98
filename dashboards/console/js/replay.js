/**
 * 试算 / rule replay on the device page (issue #15 item 3): before a threshold is changed, run the
 * rules — as they are, or with thresholds edited here — over the device's stored readings of a
 * range (the last 24 h by default) and show the alerts they would have raised beside the alerts
 * actually raised (POST /api/v1/rules/replay). Nothing is changed: no alert, rule or feed event.
 */
import { post } from './api.js';
import { qty, RULE_UNITS } from './alert-text.js';
import { h, replace } from './dom.js';
import { fmtDateTime, isoToShanghaiLocal, msg, name, shanghaiLocalToIso, t } from './i18n.js';

const DAY = 86_400_000;

/** the parameter of a rule that sets its limit: the fall for pressure_drop, else the threshold */
const limitKey = (rid) => (rid === 'pressure_drop' ? 'dropMpa' : 'threshold');
const unitOf = (rid) => (rid === 'device_offline' ? 's' : (RULE_UNITS[rid] ?? ''));
const num = (v) => (v === null || v === undefined || v === '' ? null : Number(v));

/** the rules worth trying: on, with a number to change */
function editable(rules) {
  return Object.entries(rules).filter(([rid, r]) => r.enabled !== false && typeof r[limitKey(rid)] === 'number');
}

function rulesForm(rules) {
  const rows = editable(rules).map(([rid, r]) => {
    const input = (key, value, step) => h('input', { type: 'number', step, min: '0', name: `${rid}.${key}`, value: String(value ?? ''), class: 'rp-input', dataset: { rule: rid, key, current: String(value ?? '') } });
    return h(
      'tr',
      { dataset: { rule: rid } },
      h('td', {}, name('rule', rid)),
      h('td', {}, input(limitKey(rid), r[limitKey(rid)], 'any'), ` ${unitOf(rid)}`),
      h('td', {}, input('forS', r.forS, '1')),
      h('td', {}, input('clearS', r.clearS, '1')),
    );
  });
  if (!rows.length) return null;
  return h(
    'table',
    { class: 'table rp-rules' },
    h('thead', {}, h('tr', {}, [t('rl_rule'), t('rl_limit'), t('rp_for'), t('rp_clear')].map((c) => h('th', {}, c)))),
    h('tbody', {}, rows),
  );
}

/** only what was changed from the rules in force: { rule: { key: value } } */
function changedRules(form) {
  const out = {};
  for (const el of form.querySelectorAll('input.rp-input')) {
    const { rule, key, current } = el.dataset;
    const v = num(el.value);
    if (v === null || !Number.isFinite(v) || v === num(current)) continue;
    (out[rule] ??= {})[key] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** would-be and actual alerts of one rule paired where their spans overlap */
function pair(wouldBe, actual, to) {
  const end = (a) => Date.parse(a.clearedAt ?? to);
  const used = new Set();
  const rows = wouldBe.map((w) => {
    const i = actual.findIndex((x, j) => !used.has(j) && x.rule === w.rule && x.deviceId === w.deviceId && Date.parse(x.raisedAt) <= end(w) && Date.parse(w.raisedAt) <= end(x));
    if (i >= 0) used.add(i);
    return { rule: w.rule, at: w.raisedAt, would: w, actual: i >= 0 ? actual[i] : null };
  });
  actual.forEach((a, i) => {
    if (!used.has(i)) rows.push({ rule: a.rule, at: a.raisedAt, would: null, actual: a });
  });
  return rows.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}

const span = (a) => [h('div', {}, fmtDateTime(a.raisedAt)), h('div', { class: 'muted' }, a.clearedAt ? `→ ${fmtDateTime(a.clearedAt)}` : `→ ${t('rp_still')}`)];
const detail = (a) => h('div', { class: 'muted' }, t('rp_peak_count', a.peak === null ? '—' : qty(a.peak, RULE_UNITS[a.rule] ?? ''), a.count));

function compared(row) {
  if (!row.actual) return h('span', { class: 'badge rp-new' }, t('rp_new'));
  if (!row.would) return h('span', { class: 'badge rp-gone' }, t('rp_gone'));
  const same = row.would.raisedAt === row.actual.raisedAt && row.would.clearedAt === row.actual.clearedAt;
  return h('span', { class: ['badge', same ? 'rp-same' : 'rp-shifted'] }, t(same ? 'rp_same' : 'rp_shifted'));
}

function resultView(res) {
  const rows = pair(res.wouldBe, res.actual, res.to);
  const out = [
    h('p', { class: 'rp-summary' }, t('rp_summary', res.readings, fmtDateTime(res.from), fmtDateTime(res.to), res.wouldBe.length, res.actual.length)),
    res.complete ? null : h('p', { class: 'warn rp-incomplete' }, t('rp_incomplete'), res.incomplete.map((i) => msg(i.message)).join('；')),
    res.actualTruncated ? h('p', { class: 'warn' }, t('rp_actual_truncated')) : null,
  ];
  if (!rows.length) return [...out, h('p', { class: 'empty rp-empty' }, t('rp_none'))];
  return [
    ...out,
    h(
      'table',
      { class: 'table rp-results' },
      h('thead', {}, h('tr', {}, [t('rl_rule'), t('rp_would'), t('rp_actual'), t('rp_diff')].map((c) => h('th', {}, c)))),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { class: [`cls-${(r.would ?? r.actual).class}`], dataset: { rule: r.rule, kind: r.would && r.actual ? 'both' : r.would ? 'would' : 'actual' } },
            h('td', {}, h('strong', {}, name('rule', r.rule)), h('div', { class: 'muted' }, name('severity', (r.would ?? r.actual).severity))),
            h('td', { class: 'rp-would' }, r.would ? [span(r.would), detail(r.would), r.would.realerts ? h('div', { class: 'muted' }, t('rp_realerts', r.would.realerts)) : null] : '—'),
            h('td', { class: 'rp-actual' }, r.actual ? [span(r.actual), detail(r.actual)] : '—'),
            h('td', {}, compared(r)),
          ),
        ),
      ),
    ),
  ];
}

/** The 试算 panel for a device: its rules (as GET /devices/{id}/rules answers them) to start from. */
export function replayPanel(ctx, device, rules) {
  const now = ctx.feed.serverNow();
  const from = h('input', { type: 'datetime-local', name: 'from', required: true, value: isoToShanghaiLocal(now - DAY) });
  const to = h('input', { type: 'datetime-local', name: 'to', required: true, value: isoToShanghaiLocal(now) });
  const table = rulesForm(rules);
  const err = h('span', { class: 'form-error', role: 'alert' });
  const result = h('div', { class: 'rp-result' });
  const run = h('button', { type: 'submit', class: 'btn rp-run' }, t('rp_run'));
  const form = h(
    'form',
    {
      class: 'rp-form',
      onSubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = '';
        run.disabled = true;
        replace(result, h('p', { class: 'loading' }, t('rp_running')));
        try {
          const ruleChanges = changedRules(form);
          const res = await post('/rules/replay', { deviceId: device.id, from: shanghaiLocalToIso(from.value), to: shanghaiLocalToIso(to.value), ...(ruleChanges ? { rules: ruleChanges } : {}) });
          replace(result, resultView(res));
        } catch (e) {
          replace(result);
          err.textContent = e.message;
        } finally {
          run.disabled = false;
        }
      },
    },
    h('div', { class: 'rp-range' }, h('label', {}, `${t('rp_from')} (UTC+8) `, from), h('label', {}, `${t('rp_to')} (UTC+8) `, to)),
    table ? [h('h4', {}, t('rp_rules')), table] : null,
    h('div', { class: 'rp-actions' }, run, ' ', err),
  );
  return h('section', { class: 'panel replay-panel' }, h('h3', {}, t('rp_title')), h('p', { class: 'muted' }, t('rp_intro')), form, result);
}
