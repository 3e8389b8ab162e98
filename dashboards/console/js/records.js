/**
 * 警情记录 — the incident record (issue #17 item 4): every alert ever raised, hazards apart from
 * faults, searchable by date (days in Asia/Shanghai), street, building, rule, outcome, person and
 * status, newest first and paged (GET /api/v1/alerts/records), exportable as CSV for the current
 * filter (GET /api/v1/alerts/records.csv). The filter lives in the address (#/records?…), so the
 * back button from a record returns to the same list. #/records/{alertId} is one record with its
 * whole history. recentClosures() feeds the board's 最近处置: hazards closed by a person.
 */
import { api, get } from './api.js';
import { h, replace } from './dom.js';
import { historyText, valueLine } from './alert-text.js';
import { clockLine } from './clocks.js';
import { actor, alertNote, fmtDateTime, msg, name, OUTCOMES, STREETS, t } from './i18n.js';

const PAGE = 50;
const LAST_QUERY_KEY = 'fw.records.q';
const RULES = {
  hazard: ['pressure_low', 'pressure_high', 'pressure_drop', 'level_low', 'level_high', 'residual_current_high', 'temperature_high', 'lane_blocked', 'device_alarm', 'device_supervisory', 'probable_fire', 'lane_blocked_in_fire'],
  fault: ['device_offline', 'sensor_fault', 'service_outage', 'alarm_clock_late'],
};
const FIELDS = ['class', 'dateField', 'from', 'to', 'street', 'buildingId', 'q', 'rule', 'outcome', 'person', 'status'];
const DEFAULTS = { class: 'hazard', dateField: 'opened' };

/** the filter in the address: #/records?outcome=false_alarm&… */
function readFilter() {
  const i = location.hash.indexOf('?');
  const p = new URLSearchParams(i >= 0 ? location.hash.slice(i + 1) : '');
  return Object.fromEntries(FIELDS.map((k) => [k, p.get(k) ?? DEFAULTS[k] ?? '']));
}

/** only what is set, without the defaults: the same text for the address, the API and the CSV */
function queryOf(filter) {
  const p = new URLSearchParams();
  for (const k of FIELDS) if (filter[k] && filter[k] !== DEFAULTS[k]) p.set(k, filter[k]);
  return p.toString();
}

export function recordsHref(filter = {}) {
  const qs = queryOf({ ...DEFAULTS, ...filter });
  return `#/records${qs ? `?${qs}` : ''}`;
}

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'offscreen' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const who = (by, byName, at) => (by ? h('span', { class: 'who-at', title: by }, actor(by, byName), h('div', { class: 'muted' }, fmtDateTime(at))) : '—');

export function recordsView(ctx) {
  const filter = readFilter();
  const streets = ctx.me.role === 'duty' && Array.isArray(ctx.me.streets) ? STREETS.filter((s) => ctx.me.streets.includes(s)) : STREETS;
  const field = (key, el) => ((el.name = key), (el.value = filter[key] ?? ''), el);
  const select = (key, label, options) =>
    h('label', {}, label, field(key, h('select', { 'aria-label': label }, h('option', { value: '' }, t('rec_any')), options.map(([v, text]) => h('option', { value: v }, text)))));
  const input = (key, label, attrs = {}) => h('label', {}, label, field(key, h('input', { 'aria-label': label, ...attrs })));

  const ruleSelect = () => select('rule', t('rec_rule'), RULES[filter.class].map((r) => [r, name('rule', r)]));
  let ruleLabel = ruleSelect();
  const classToggle = h(
    'div',
    { class: 'class-toggle', role: 'group', 'aria-label': t('rec_class') },
    ['hazard', 'fault'].map((c) =>
      h(
        'button',
        {
          type: 'button',
          class: ['btn', `class-${c}`],
          dataset: { class: c },
          'aria-pressed': String(filter.class === c),
          onClick: () => {
            if (filter.class === c) return;
            filter.class = c;
            filter.rule = ''; // the rules differ; the other fields stay
            for (const b of classToggle.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.class === c));
            const fresh = ruleSelect();
            ruleLabel.replaceWith(fresh);
            ruleLabel = fresh;
            search();
          },
        },
        t(c === 'hazard' ? 'hazards' : 'faults'),
      ),
    ),
  );

  const buildingChip = () =>
    filter.buildingId
      ? h(
          'span',
          { class: 'chip building-chip' },
          `${t('building')}: ${filter.buildingId} `,
          h('button', { type: 'button', class: 'btn chip-clear', 'aria-label': t('rec_reset'), onClick: () => ((filter.buildingId = ''), chip.replaceWith((chip = h('span'))), search()) }, '✕'),
        )
      : h('span');
  let chip = buildingChip();

  const form = h(
    'form',
    {
      class: 'panel records-filter',
      onSubmit: (ev) => {
        ev.preventDefault();
        search();
      },
    },
    h(
      'div',
      { class: 'toolbar' },
      classToggle,
      chip,
    ),
    h(
      'div',
      { class: 'filter-fields' },
      select('dateField', t('rec_date_field'), [['opened', t('rec_by_opened')], ['closed', t('rec_by_closed')]]),
      input('from', t('rec_from'), { type: 'date' }),
      input('to', t('rec_to'), { type: 'date' }),
      select('street', t('street'), streets.map((s) => [s, s])),
      input('q', t('building'), { type: 'search', placeholder: t('rec_building_ph'), maxlength: '100' }),
      ruleLabel,
      select('outcome', t('outcome'), OUTCOMES.map((o) => [o, name('outcome', o)])),
      input('person', t('rec_person'), { type: 'search', placeholder: t('rec_person_ph'), maxlength: '100', autocomplete: 'off' }),
      select('status', t('status'), [['active', t('rec_status_active')], ['closed', t('status_closed')]]),
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'submit', class: 'btn primary records-search' }, t('rec_search')),
      h(
        'button',
        {
          type: 'button',
          class: 'btn records-reset',
          onClick: () => {
            for (const k of FIELDS) filter[k] = k === 'class' ? filter.class : (DEFAULTS[k] ?? '');
            for (const el of form.querySelectorAll('input, select')) el.value = filter[el.name] ?? '';
            chip.replaceWith((chip = h('span')));
            search();
          },
        },
        t('rec_reset'),
      ),
      h('button', { type: 'button', class: 'btn export-csv', onClick: () => exportCsv() }, t('export_csv')),
    ),
  );
  // the default value of the date-field select is 'opened', not blank
  form.elements.dateField.querySelector('option[value=""]')?.remove();
  form.elements.dateField.value = filter.dateField;

  const out = h('div', { class: 'records-result' }, h('p', { class: 'loading' }, t('loading')));
  const pager = h('div', { class: 'toolbar pager' });
  let cursors = [null]; // cursors[i]: the cursor of page i (null: the first)
  let pageNo = 0;
  let seq = 0;

  const readForm = () => {
    for (const el of form.querySelectorAll('input[name], select[name]')) filter[el.name] = el.value.trim();
  };

  const search = () => {
    readForm();
    const qs = queryOf(filter);
    // the filter goes into the address without a hashchange (no re-route): back from a record restores it
    window.history.replaceState(null, '', `#/records${qs ? `?${qs}` : ''}`);
    sessionStorage.setItem(LAST_QUERY_KEY, qs);
    cursors = [null];
    pageNo = 0;
    load();
  };

  const exportCsv = async () => {
    readForm();
    const qs = queryOf(filter);
    try {
      const res = await api('GET', `/alerts/records.csv${qs ? `?${qs}` : ''}`, undefined, { raw: true });
      const span = [filter.from, filter.to].filter(Boolean).join('_');
      download(await res.blob(), `${t('nav_records')}${span ? `-${span}` : ''}.csv`);
    } catch (err) {
      ctx.toast(`${t('error')}: ${err.message}`);
    }
  };

  const row = (a) =>
    h(
      'tr',
      { class: ['record-row', `cls-${a.class}`, a.maintenance && 'maint', `st-${a.status}`], dataset: { alertId: a.id, rule: a.rule, outcome: a.outcome ?? '' } },
      h('td', { class: 'opened' }, fmtDateTime(a.openedAt)),
      h('td', {}, a.street ?? '—'),
      h('td', {}, a.buildingId ? h('a', { href: `#/building/${encodeURIComponent(a.buildingId)}`, class: 'building-link' }, a.buildingName ?? a.buildingId) : '—'),
      h('td', {}, a.location ?? (a.point ? name('point', a.point) : a.deviceId ?? '—')),
      h(
        'td',
        {},
        h('a', { href: `#/records/${encodeURIComponent(a.id)}`, class: 'record-link' }, name('rule', a.rule)),
        a.maintenance ? h('span', { class: 'badge maint-badge' }, t('maintenance')) : null,
        h('div', { class: 'muted' }, msg(a.message)),
      ),
      h('td', {}, h('span', { class: ['badge', `sev-${a.severity}`] }, name('severity', a.severity))),
      h('td', {}, h('span', { class: ['badge', 'status', `st-${a.status}`] }, t(`status_${a.status}`))),
      h('td', { class: 'acked' }, who(a.acknowledgedBy, a.acknowledgedByName, a.acknowledgedAt)),
      h('td', { class: 'closed' }, who(a.closedBy, a.closedByName, a.closedAt)),
      h('td', { class: 'outcome' }, a.outcome ? name('outcome', a.outcome) : '—'),
      h('td', { class: 'note' }, alertNote(a)),
    );

  const load = async () => {
    const mine = ++seq;
    const qs = queryOf(filter);
    const cursor = cursors[pageNo];
    replace(out, h('p', { class: 'loading' }, t('loading')));
    replace(pager);
    try {
      const r = await get(`/alerts/records?${qs ? `${qs}&` : ''}limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (mine !== seq) return;
      cursors[pageNo + 1] = r.nextCursor;
      replace(
        out,
        r.items.length
          ? h(
              'table',
              { class: 'table records' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  [t('rec_opened'), t('street'), t('building'), t('location'), t('rec_rule'), t('rec_severity'), t('status'), t('rec_acked'), t('rec_closed'), t('outcome'), t('note')].map((c) => h('th', {}, c)),
                ),
              ),
              h('tbody', {}, r.items.map(row)),
            )
          : h('p', { class: 'empty records-empty' }, t('rec_none')),
      );
      replace(
        pager,
        h('button', { type: 'button', class: 'btn page-prev', disabled: pageNo === 0, onClick: () => (pageNo--, load()) }, `‹ ${t('rec_prev')}`),
        h('span', { class: 'page-no' }, t('rec_page', pageNo + 1)),
        h('button', { type: 'button', class: 'btn page-next', disabled: !r.nextCursor, onClick: () => (pageNo++, load()) }, `${t('rec_next')} ›`),
      );
    } catch (err) {
      if (mine !== seq) return;
      replace(out, h('p', { class: 'form-error', role: 'alert' }, `${t('error')}: ${err.message}`));
    }
  };

  sessionStorage.setItem(LAST_QUERY_KEY, queryOf(filter));
  load();
  return {
    el: h('section', { class: 'records-page' }, h('h2', {}, t('rec_title')), form, out, pager),
    destroy() {
      seq++;
    },
  };
}

/** #/records/{id}: one incident with everything that happened to it */
export function recordView(ctx, id) {
  const root = h('section', { class: 'record-page' }, h('p', { class: 'loading' }, t('loading')));
  const back = () => {
    const qs = sessionStorage.getItem(LAST_QUERY_KEY);
    return h('a', { href: `#/records${qs ? `?${qs}` : ''}`, class: 'records-back' }, `‹ ${t('rec_back')}`);
  };
  (async () => {
    try {
      const a = await get(`/alerts/${encodeURIComponent(id)}`);
      const dd = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];
      replace(
        root,
        back(),
        h(
          'article',
          { class: ['panel', 'record', `cls-${a.class}`, a.maintenance && 'maint'], dataset: { alertId: a.id, rule: a.rule } },
          h(
            'header',
            { class: 'record-head' },
            h('h2', {}, name('rule', a.rule)),
            h('span', { class: ['badge', `sev-${a.severity}`] }, name('severity', a.severity)),
            h('span', { class: 'badge' }, t(a.class === 'hazard' ? 'hazards' : 'faults')),
            h('span', { class: ['badge', 'status', `st-${a.status}`] }, t(`status_${a.status}`)),
            a.maintenance ? h('span', { class: 'badge' }, t('maintenance')) : null,
            a.escalationLevel > 0 ? h('span', { class: 'badge escalation' }, t('escalated', a.escalationLevel)) : null,
          ),
          h('p', { class: 'message' }, msg(a.message)),
          h(
            'dl',
            { class: 'details' },
            dd(t('building'), a.buildingId ? h('a', { href: `#/building/${encodeURIComponent(a.buildingId)}`, class: 'building-link' }, a.buildingName ?? a.buildingId) : '—'),
            dd(t('street'), a.street ?? '—'),
            dd(t('location'), a.location ?? '—'),
            dd(t('device'), a.deviceId ? h('a', { href: `#/device/${encodeURIComponent(a.deviceId)}`, class: 'device-link' }, a.deviceId, a.point ? ` · ${name('point', a.point)}` : '') : '—'),
            // the card's value line: the measured value with its unit, in words per rule
            a.value !== null ? dd(t('value'), valueLine(a)) : null,
            dd(t('rec_opened'), fmtDateTime(a.openedAt)),
            dd(t('rec_acked'), a.acknowledgedBy ? `${actor(a.acknowledgedBy, a.acknowledgedByName)} · ${fmtDateTime(a.acknowledgedAt)}` : '—'),
            dd(t('rec_closed'), a.closedBy ? `${actor(a.closedBy, a.closedByName)} · ${fmtDateTime(a.closedAt)}` : '—'),
            dd(t('outcome'), h('span', { class: 'outcome' }, a.outcome ? name('outcome', a.outcome) : '—')),
            dd(t('note'), h('span', { class: 'note' }, a.note ? alertNote(a) : '—')),
          ),
          clockLine(a, null, { open: true }),
          a.status !== 'closed' ? h('p', {}, h('a', { href: '#/board', class: 'board-link' }, t('rec_on_board'))) : null,
          h('h3', {}, t('history')),
          h(
            'table',
            { class: 'table record-history' },
            h('thead', {}, h('tr', {}, [t('time'), t('rec_action'), t('rec_by'), t('rec_detail')].map((c) => h('th', {}, c)))),
            h(
              'tbody',
              {},
              (a.history ?? []).map((e) =>
                h('tr', { dataset: { action: e.action } }, h('td', {}, fmtDateTime(e.at)), h('td', {}, name('action', e.action)), h('td', { title: e.by }, actor(e.by, e.byName)), h('td', {}, historyText(e))),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      replace(root, back(), h('p', { class: 'form-error', role: 'alert' }, err.status === 404 ? t('not_found') : `${t('error')}: ${err.message}`));
    }
  })();
  return { el: root, destroy() {} };
}

/**
 * The board's 最近处置: hazards a person closed, newest first. Loaded from the record (so a reload
 * or a new shift sees them too) and kept current from the store's events; faults that closed
 * themselves never push a real closure out.
 */
export function recentClosures(store, onChange, n = 8) {
  const byId = new Map();
  const add = (a) => {
    if (!a || a.status !== 'closed' || a.class !== 'hazard' || !a.closedBy || a.closedBy === 'system') return false;
    byId.set(a.id, a);
    return true;
  };
  const list = () => [...byId.values()].sort((x, y) => Date.parse(y.closedAt) - Date.parse(x.closedAt)).slice(0, n);
  for (const a of store.closed ?? []) add(a);
  // registered before the board's own listener, so the board renders with the closure in
  const unsub = store.subscribe((e) => {
    if (add(e?.alert ?? e?.data?.alert) && byId.size > n * 4) {
      const keep = new Set(list().map((a) => a.id));
      for (const k of byId.keys()) if (!keep.has(k)) byId.delete(k);
    }
  });
  let stopped = false;
  get(`/alerts/records?class=hazard&status=closed&dateField=closed&limit=${n}`)
    .then((r) => {
      if (stopped) return;
      // a live closure may be newer than the answer: keep what the store already gave
      for (const a of r.items) if (!byId.has(a.id)) add(a);
      onChange();
    })
    .catch(() => undefined);
  return {
    list,
    destroy() {
      stopped = true;
      unsub();
    },
  };
}
