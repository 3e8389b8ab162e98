/**
 * Building page: details and contacts, the fire-safety code (colour, QR, public link), its
 * devices with online state and last reading, a readings chart per device with the alert
 * thresholds drawn on it, and its alert history.
 */
import { ApiError, api, get, getAll, isMissingRoute } from './api.js';
import { historyList } from './board.js';
import { deviceCharts } from './chart.js';
import { h, replace } from './dom.js';
import { actor, alertNote, fmtDateTime, msg, name, t } from './i18n.js';
import { showMore, stackTable, tabs } from './layout.js';

/** A reading as a duty officer reads it (issue #17 item 5): 水压 0.32 MPa，…; fields without words as they are. */
export function fmtReading(fields) {
  if (!fields) return '—';
  const parts = [];
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'ts' || k === 'seq' || k === 'kind') continue;
    if (k === 'pressureMpa') parts.push(t('f_pressure', v));
    else if (k === 'levelM') parts.push(t('f_level', v));
    else if (k === 'residualCurrentMa') parts.push(t('f_residual', v));
    else if (k === 'temperaturesC' && Array.isArray(v)) parts.push(t('f_temperatures', v.map((x) => x ?? '—').join(' / ')));
    else if (k === 'occupied') parts.push(t(v ? 'f_occupied' : 'f_clear'));
    else if (k === 'flowing') {
      if (v) parts.push(t('f_flowing'));
    } else parts.push(`${k}=${Array.isArray(v) ? v.join('/') : v}`);
  }
  return parts.length ? parts.join(t('list_sep')) : '—';
}

export function fmtFields(fields) {
  if (!fields) return '—';
  return Object.entries(fields)
    .filter(([k]) => k !== 'ts' && k !== 'seq')
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : v}`)
    .join(' ');
}

function dl(rows) {
  return h(
    'dl',
    { class: 'details' },
    rows.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

export function safetyCodePanel(ctx, buildingId) {
  const el = h('section', { class: 'panel safety-code' }, h('h3', {}, t('safety_code')), h('p', { class: 'loading' }, t('loading')));
  (async () => {
    try {
      const code = await get(`/buildings/${encodeURIComponent(buildingId)}/safety-code`);
      const qr = h('img', { class: 'qr', alt: `QR ${code.publicUrl ?? ''}`, width: 160, height: 160 });
      try {
        // the QR endpoint needs the bearer token, so it is fetched and shown from a blob: URL
        const res = await api('GET', `/buildings/${encodeURIComponent(buildingId)}/safety-code.svg`, undefined, { raw: true });
        const url = URL.createObjectURL(await res.blob());
        qr.src = url;
        ctx.cleanups.push(() => URL.revokeObjectURL(url));
      } catch {
        qr.alt = t('safety_unavailable');
      }
      const c = code.counts ?? {};
      replace(
        el,
        h('h3', {}, t('safety_code')),
        h(
          'div',
          { class: ['code', `code-${code.status}`], dataset: { status: code.status } },
          h('div', { class: 'code-colour', 'aria-hidden': 'true' }),
          h('div', {}, h('strong', {}, t(`safety_${code.status}`)), h('p', { class: 'muted' }, fmtDateTime(code.updatedAt))),
        ),
        code.reasons?.length ? h('ul', { class: 'reasons' }, code.reasons.map((r) => h('li', { class: r.level === 'info' ? 'muted' : null, dataset: { code: r.code, level: r.level ?? '' } }, msg(r)))) : null,
        h('p', {}, `${t('open_hazards')} ${c.hazards ?? 0} · ${t('faults')} ${c.faults ?? 0} · ${t('offline')} ${c.offline ?? 0} · ${t('maintenance')} ${c.maintenance ?? 0}`),
        qr,
        code.publicUrl ? h('p', {}, h('a', { href: code.publicUrl, target: '_blank', rel: 'noopener', class: 'public-link' }, t('public_page'), ' ↗')) : null,
      );
    } catch (err) {
      replace(el, h('h3', {}, t('safety_code')), h('p', { class: 'muted' }, isMissingRoute(err) ? t('safety_unavailable') : `${t('error')}: ${err.message}`));
    }
  })();
  return el;
}

export function alertTable(alerts) {
  if (!alerts.length) return h('p', { class: 'empty' }, t('no_alerts'));
  return h(
    'table',
    { class: 'table alert-history' },
    h('thead', {}, h('tr', {}, [t('opened_at'), t('device'), '', t('status'), t('outcome'), t('history')].map((c) => h('th', {}, c)))),
    h(
      'tbody',
      {},
      alerts.map((a) =>
        h(
          'tr',
          { class: [`cls-${a.class}`, a.maintenance && 'maint', a.commissioning && 'cm-alert'], dataset: { alertId: a.id } },
          h('td', {}, fmtDateTime(a.openedAt)),
          h('td', {}, a.deviceId ? h('a', { href: `#/device/${encodeURIComponent(a.deviceId)}` }, a.deviceId) : '—'),
          h('td', {}, h('strong', {}, name('rule', a.rule)), a.commissioning ? [' ', h('span', { class: 'badge cm-badge' }, t('cm_alert_badge'))] : null, h('div', { class: 'muted' }, msg(a.message))),
          h('td', {}, t(`status_${a.status}`), a.escalationLevel ? ` · ${t('escalated', a.escalationLevel)}` : '', a.cleared ? ` · ${t('cleared')}` : ''),
          h('td', {}, a.outcome ? name('outcome', a.outcome) : '', a.closedBy ? h('div', { class: 'muted' }, t('closed_by', actor(a.closedBy, a.closedByName), fmtDateTime(a.closedAt))) : null, a.note ? h('div', { class: 'muted' }, alertNote(a)) : null),
          h('td', {}, historyList(a, 4)),
        ),
      ),
    ),
  );
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** an audited value in words (issue #17 item 5): yes/no, times in Shanghai, the building's type and use by name */
function show(v, what) {
  if (v === null || v === undefined) return t('audit_value_none');
  if (typeof v === 'boolean') return t(v ? 'yes' : 'no');
  if (typeof v === 'string' && ISO_TIME.test(v)) return fmtDateTime(v);
  if (what === 'type' || what === 'use') return name(what, v);
  if (what.endsWith('.severity')) return name('severity', v);
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** what changed, in words: 'hydrant_top pressure_low.threshold' → '最不利点消火栓 · 水压过低 · 阈值' */
function auditWhat(what) {
  return what
    .split(' ')
    .map((part) => {
      for (const group of ['audit_field', 'point', 'kind', 'rule']) if (name(group, part) !== part) return name(group, part);
      const [rule, param] = part.split('.');
      return param !== undefined ? `${name('rule', rule)} · ${name('param', param)}` : part;
    })
    .join(' · ');
}

/** Who loosened a rule, reclassified the building or set maintenance, when, what and why (GET /audit). */
export function auditPanel(query, { first } = {}) {
  const el = h('section', { class: 'panel audit-panel' }, h('h3', {}, t('change_audit')), h('p', { class: 'loading' }, t('loading')));
  (async () => {
    try {
      const { items } = await get(`/audit?${query}&limit=50`);
      const body = items.length
        ? h(
            'table',
            { class: 'table audit' },
            h('thead', {}, h('tr', {}, [t('time'), t('audit_by'), t('audit_action'), t('device'), t('audit_reason'), t('audit_changes')].map((c) => h('th', {}, c)))),
            h(
              'tbody',
              {},
              items.map((e) =>
                h(
                  'tr',
                  { dataset: { auditId: String(e.id), action: e.action } },
                  h('td', {}, fmtDateTime(e.at)),
                  h('td', { title: e.by }, actor(e.by, e.byName), h('div', { class: 'muted' }, name('role', e.role))),
                  h('td', {}, name('audit', e.action)),
                  h('td', {}, e.deviceId ? h('a', { href: `#/device/${encodeURIComponent(e.deviceId)}` }, e.deviceId) : '—'),
                  h('td', {}, e.reason ?? '—'),
                  h('td', {}, e.changes.length ? h('ul', {}, e.changes.map((c) => h('li', { dataset: { what: c.what } }, t('rl_state_value', auditWhat(c.what), `${show(c.before, c.what)} → ${show(c.after, c.what)}`)))) : '—'),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, t('audit_none'));
      replace(el, h('h3', {}, t('change_audit')), stackTable(body));
      // on the building page the first entries, then 显示更多 (issue #17 item 8)
      const more = first && body.tagName === 'TABLE' ? showMore(body.querySelector('tbody'), { first, label: (n) => t('show_more', n) }) : null;
      if (more) el.append(more);
    } catch (err) {
      replace(el, h('h3', {}, t('change_audit')), h('p', { class: 'muted' }, isMissingRoute(err) ? t('audit_none') : `${t('error')}: ${err.message}`));
    }
  })();
  return el;
}

export function buildingView(ctx, id) {
  const root = h('section', { class: 'building-page' }, h('p', { class: 'loading' }, t('loading')));
  const load = async () => {
    let b;
    try {
      b = await get(`/buildings/${encodeURIComponent(id)}`);
    } catch (err) {
      replace(root, h('p', { class: 'error' }, err instanceof ApiError && err.status === 404 ? t('not_found') : `${t('error')}: ${err.message}`));
      return;
    }
    const [devices, alerts] = await Promise.all([getAll(`/devices?buildingId=${encodeURIComponent(id)}`), get(`/alerts?buildingId=${encodeURIComponent(id)}&limit=100`)]);
    const devicesEl = h('div', { class: 'device-rows' });
    const chartsEl = h('div', { class: 'device-cards' });
    for (const d of devices) {
      devicesEl.append(deviceCard(d, { chart: false }));
      chartsEl.append(deviceCard(d));
    }
    // the page in tabs, long lists 显示更多 (issue #17 item 8): a full building fits a phone's few screens
    const open = alerts.items.filter((a) => a.status !== 'closed');
    const openTable = stackTable(alertTable(open));
    openTable.classList.replace('alert-history', 'open-alerts');
    const historyTable = stackTable(alertTable(alerts.items));
    const more = (list, first) => (list ? showMore(list, { first, label: (n) => t('show_more', n) }) : null);
    // a phone shows fewer entries at first: cards are taller than table rows
    const narrow = window.matchMedia('(max-width: 720px)').matches;
    const count = (n, on = false) => h('span', { class: ['count', on && 'on'] }, String(n));
    const noDevices = () => h('p', { class: 'empty' }, t('no_devices'));
    const { bar, panels } = tabs(
      [
        { key: 'devices', label: [t('devices'), count(devices.length)], panel: devices.length ? [devicesEl, more(devicesEl, 20)] : noDevices() },
        // charts take room: four at a time on a phone, six on a wider screen
        { key: 'charts', label: t('tab_charts'), panel: devices.length ? [chartsEl, more(chartsEl, narrow ? 4 : 6)] : noDevices() },
        { key: 'open', label: [t('tab_open'), count(open.length, open.length > 0)], panel: openTable },
        { key: 'history', label: [t('alert_history'), count(alerts.items.length)], panel: [historyTable, more(historyTable.querySelector('tbody'), narrow ? 5 : 10)] },
        {
          key: 'details',
          label: t('details'),
          panel: h(
            'section',
            { class: 'panel' },
            dl([
              [t('street'), b.street],
              [t('address'), b.address],
              [t('type'), name('type', b.type)],
              [t('use'), name('use', b.use)],
              [t('height'), b.heightM !== null ? `${b.heightM} m` : null],
              [t('floors'), b.floors],
              [t('area'), b.areaM2 !== null ? `${b.areaM2} m²` : null],
              [t('category'), b.category],
              [t('contact'), b.contactName],
              [t('phone'), b.contactPhone ? h('a', { href: `tel:${b.contactPhone.replace(/\s+/g, '')}` }, b.contactPhone) : null],
            ]),
          ),
        },
        // the audit history is for the duty room and admins (GET /audit answers 403 to others)
        ctx.can.handle ? { key: 'audit', label: t('tab_audit'), panel: auditPanel(`buildingId=${encodeURIComponent(id)}`, { first: narrow ? 5 : 10 }) } : null,
      ].filter(Boolean),
      {
        label: t('building_sections'),
        class: 'building-tabs',
        // the tab is kept in the address (without a hashchange), so a reload or back opens it again
        selected: new URLSearchParams(location.hash.split('?')[1] ?? '').get('tab'),
        onSelect: (key) => window.history.replaceState(null, '', `#/building/${encodeURIComponent(id)}${key === 'devices' ? '' : `?tab=${key}`}`),
      },
    );
    replace(
      root,
      h(
        'div',
        { class: 'building-head' },
        h('h2', {}, b.name, h('span', { class: 'muted' }, ` · ${b.street} · ${name('use', b.use)}`)),
        b.contactName || b.contactPhone
          ? h('p', { class: 'building-contact' }, `${t('contact')} ${b.contactName ?? ''} `, b.contactPhone ? h('a', { href: `tel:${b.contactPhone.replace(/\s+/g, '')}` }, `☎ ${b.contactPhone}`) : null)
          : null,
      ),
      safetyCodePanel(ctx, id),
      bar,
      panels,
    );
  };
  load();
  return { el: root, destroy() {} };
}

/** a device with its state and last reading: with its charts (the 图表 tab), or without (a row of the 设备 tab) */
function deviceCard(d, { chart = true } = {}) {
  const chartBox = chart ? h('div', { class: 'chart-box' }, h('p', { class: 'loading' }, t('loading'))) : null;
  const online = d.status?.online;
  const el = h(
    'article',
    { class: [chart ? 'device-card' : 'device-row', online ? 'is-online' : 'is-offline'], dataset: { deviceId: d.id } },
    h(
      'header',
      {},
      h('span', { class: ['dot', online ? 'dot-green' : 'dot-grey'] }),
      h('a', { href: `#/device/${encodeURIComponent(d.id)}` }, d.id),
      h('span', { class: 'muted' }, ` ${name('kind', d.kind)}${d.point ? ` · ${name('point', d.point)}` : ''}${d.location ? ` · ${d.location}` : ''}`),
      d.inService === false ? h('span', { class: 'badge cm-badge' }, t('cm_state_commissioning')) : null,
      h('span', { class: ['badge', online ? 'ok' : 'off'] }, online ? t('online') : t('offline')),
    ),
    h(
      'p',
      { class: 'muted' },
      `${t('last_reading')}: ${fmtReading(d.status?.lastReading?.fields)} · ${t('last_seen')}: ${d.status?.lastSeenAt ? fmtDateTime(d.status.lastSeenAt) : t('never')}`,
    ),
    chartBox,
  );
  if (!chart) return el;
  (async () => {
    try {
      const [readings, rules] = await Promise.all([
        get(`/devices/${encodeURIComponent(d.id)}/readings?limit=200`),
        get(`/devices/${encodeURIComponent(d.id)}/rules`),
      ]);
      const charts = deviceCharts(d, readings.items, rules.rules);
      replace(chartBox, charts.length ? charts : h('p', { class: 'empty' }, t('chart_none')));
    } catch (err) {
      replace(chartBox, h('p', { class: 'error' }, `${t('error')}: ${err.message}`));
    }
  })();
  return el;
}
