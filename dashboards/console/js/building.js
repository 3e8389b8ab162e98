/**
 * Building page: details and contacts, the fire-safety code (colour, QR, public link), its
 * devices with online state and last reading, a readings chart per device with the alert
 * thresholds drawn on it, and its alert history.
 */
import { ApiError, api, get, getAll, isMissingRoute } from './api.js';
import { historyList } from './board.js';
import { deviceCharts } from './chart.js';
import { h, replace } from './dom.js';
import { fmtDateTime, msg, name, t } from './i18n.js';

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
          h('td', {}, a.outcome ? name('outcome', a.outcome) : '', a.closedBy ? h('div', { class: 'muted' }, t('closed_by', a.closedBy, fmtDateTime(a.closedAt))) : null, a.note ? h('div', { class: 'muted' }, a.note) : null),
          h('td', {}, historyList(a, 4)),
        ),
      ),
    ),
  );
}

const show = (v) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Who loosened a rule, reclassified the building or set maintenance, when, what and why (GET /audit). */
export function auditPanel(query) {
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
                  h('td', {}, e.by, h('div', { class: 'muted' }, name('role', e.role))),
                  h('td', {}, name('audit', e.action)),
                  h('td', {}, e.deviceId ? h('a', { href: `#/device/${encodeURIComponent(e.deviceId)}` }, e.deviceId) : '—'),
                  h('td', {}, e.reason ?? '—'),
                  h('td', { class: 'mono' }, e.changes.length ? h('ul', {}, e.changes.map((c) => h('li', {}, `${c.what}: ${show(c.before)} → ${show(c.after)}`))) : '—'),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, t('audit_none'));
      replace(el, h('h3', {}, t('change_audit')), body);
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
    const devicesEl = h('div', { class: 'device-cards' });
    replace(
      root,
      h('h2', {}, b.name, h('span', { class: 'muted' }, ` · ${b.street} · ${name('use', b.use)}`)),
      h(
        'div',
        { class: 'building-top' },
        h(
          'section',
          { class: 'panel' },
          h('h3', {}, t('details')),
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
        safetyCodePanel(ctx, id),
      ),
      h('h3', {}, t('devices'), ` (${devices.length})`),
      devices.length ? devicesEl : h('p', { class: 'empty' }, t('no_devices')),
      h('h3', {}, t('alert_history')),
      alertTable(alerts.items),
      // the audit history is for the duty room and admins (GET /audit answers 403 to others)
      ctx.can.handle ? auditPanel(`buildingId=${encodeURIComponent(id)}`) : null,
    );
    for (const d of devices) devicesEl.append(deviceCard(d));
  };
  load();
  return { el: root, destroy() {} };
}

function deviceCard(d) {
  const chartBox = h('div', { class: 'chart-box' }, h('p', { class: 'loading' }, t('loading')));
  const online = d.status?.online;
  const el = h(
    'article',
    { class: ['device-card', online ? 'is-online' : 'is-offline'], dataset: { deviceId: d.id } },
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
      `${t('last_reading')}: ${fmtFields(d.status?.lastReading?.fields)} · ${t('last_seen')}: ${d.status?.lastSeenAt ? fmtDateTime(d.status.lastSeenAt) : t('never')}`,
    ),
    chartBox,
  );
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
