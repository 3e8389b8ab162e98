/**
 * Device page for installers: live status, the last rejected message and why, recent raw
 * readings and events, maintenance mode with an expiry, credentials rotation (shown once).
 */
import { ApiError, del, get, post, put } from './api.js';
import { alertTable, auditPanel, fmtFields } from './building.js';
import { deviceCharts } from './chart.js';
import { commissioningPanel, rejectionText } from './commissioning.js';
import { uitdCommandsPanel } from './uitd-commands.js';
import { replayPanel } from './replay.js';
import { copyText, h, replace } from './dom.js';
import { fmtSpan, qty, RULE_UNITS } from './alert-text.js';
import { actor, fmtDateTime, isoToShanghaiLocal, msg, name, shanghaiLocalToIso, t } from './i18n.js';

export function secretBox(label, secret) {
  const btn = h('button', { type: 'button', class: 'btn copy-btn' }, t('copy'));
  btn.addEventListener('click', async () => {
    if (await copyText(secret)) btn.textContent = t('copied');
  });
  return h('div', { class: 'secret' }, h('span', { class: 'label' }, label), h('code', { class: 'secret-value' }, secret), btn);
}

function readingsTable(items) {
  if (!items.length) return h('p', { class: 'empty' }, t('chart_none'));
  return h(
    'table',
    { class: 'table readings' },
    h('thead', {}, h('tr', {}, h('th', {}, t('time')), h('th', {}, 'seq'), h('th', {}, t('fields')))),
    h('tbody', {}, items.map((r) => h('tr', {}, h('td', {}, fmtDateTime(r.ts)), h('td', {}, r.seq ?? ''), h('td', { class: 'mono' }, fmtFields(r))))),
  );
}

function maintenancePanel(ctx, d) {
  const el = h('section', { class: 'panel maintenance-panel' }, h('h3', {}, t('maintenance_mode')));
  const path = `/devices/${encodeURIComponent(d.id)}/maintenance`;
  const render = async () => {
    const w = await get(path);
    const body = [];
    body.push(
      h(
        'p',
        { class: ['maint-state', w ? 'on' : 'off'] },
        w ? t('maintenance_active', fmtDateTime(w.until), w.reason, actor(w.by, w.byName)) : t('maintenance_none'),
      ),
    );
    if (ctx.can.write) {
      if (w) {
        body.push(h('button', { class: 'btn maint-off', onClick: async () => (await del(path), render()) }, t('maintenance_off')));
      } else {
        const until = h('input', { type: 'datetime-local', name: 'until', required: true, value: isoToShanghaiLocal(ctx.feed.serverNow() + 2 * 3600_000) });
        const reason = h('input', { type: 'text', name: 'reason', required: true, maxlength: '500', placeholder: t('maintenance_reason') });
        const err = h('span', { class: 'form-error', role: 'alert' });
        body.push(
          h(
            'form',
            {
              class: 'maint-form',
              onSubmit: async (ev) => {
                ev.preventDefault();
                try {
                  await put(path, { until: shanghaiLocalToIso(until.value), reason: reason.value.trim() });
                  render();
                } catch (e) {
                  err.textContent = e.message;
                }
              },
            },
            h('label', {}, `${t('maintenance_until')} (UTC+8) `, until),
            h('label', {}, `${t('maintenance_reason')} `, reason),
            h('button', { type: 'submit', class: 'btn' }, t('maintenance_on')),
            err,
          ),
        );
      }
    }
    replace(el, h('h3', {}, t('maintenance_mode')), body);
  };
  render().catch((e) => el.append(h('p', { class: 'error' }, e.message)));
  return el;
}

function credentialsPanel(ctx, d) {
  const out = h('div', {});
  const el = h('section', { class: 'panel credentials-panel' }, h('h3', {}, 'MQTT'), h('p', { class: 'mono' }, `${d.mqtt.username} · ${d.mqtt.telemetryTopic}`), out);
  if (!ctx.can.write) return el;
  const start = h('button', { class: 'btn rotate-btn' }, t('rotate'));
  start.addEventListener('click', () => {
    replace(
      out,
      h('p', { class: 'warn' }, t('rotate_confirm')),
      h(
        'button',
        {
          class: 'btn danger rotate-confirm',
          onClick: async () => {
            try {
              const c = await post(`/devices/${encodeURIComponent(d.id)}/credentials`);
              replace(out, h('p', { class: 'warn' }, t('credentials_once')), secretBox(t('new_password'), c.password));
            } catch (e) {
              replace(out, h('p', { class: 'error' }, e.message));
            }
          },
        },
        t('rotate'),
      ),
      h('button', { class: 'btn', onClick: () => replace(out, start) }, t('cancel')),
    );
  });
  out.append(start);
  return el;
}

/** a rule's limit in its unit: 0.10 MPa, 300 mA, 3 小时 0 分钟 (device_offline), a fall within a window (pressure_drop) */
function limitValue(rid, r, value) {
  if (rid === 'device_offline') return fmtSpan(value * 1000);
  if (rid === 'pressure_drop') return t('rl_fall', qty(value, 'MPa'), fmtSpan((r.windowS ?? 60) * 1000));
  return qty(value, RULE_UNITS[rid] ?? '');
}

/** a source as people read it: the API's words (Chinese / English), a value set on the device as such */
function sourceWords(limit) {
  if (limit.sourceText) return msg(limit.sourceText);
  if (limit.source) return limit.source.startsWith('design choice') ? t('rl_design') : limit.source.replace(/\s*\(.*$/, '');
  return limit.value === null || limit.value === undefined ? '' : t('rl_device_setting');
}

/**
 * The rules in force (issue #17 item 5): each rule's limit per state — 静水压（平时）and 动水压（用水时）
 * for the pressure rules — with its source, a standard clause as it is or 设计取值（无标准值）.
 */
function rulesTable(rules) {
  const row = ([rid, r]) => {
    const limits = Array.isArray(r.limits) && r.limits.length ? r.limits : [{ state: 'any', value: r.threshold ?? null, source: r.source, sourceText: r.sourceText }];
    const shown = limits.filter((l) => l.state !== 'any' || (l.value !== null && l.value !== undefined));
    const values = shown.map((l) => {
      const v = l.value === null ? t('rl_not_checked') : limitValue(rid, r, l.value);
      return h('div', { class: 'limit', dataset: { state: l.state } }, l.state === 'any' ? v : t('rl_state_value', t(`rl_${l.state}`), v));
    });
    const sources = [...new Set(shown.map(sourceWords).filter(Boolean))];
    return h(
      'tr',
      { dataset: { rule: rid } },
      h('td', {}, name('rule', rid)),
      h('td', { class: 'limits' }, values.length ? values : '—'),
      h('td', {}, `${r.forS !== undefined ? fmtSpan(r.forS * 1000) : '—'} / ${r.clearS !== undefined ? fmtSpan(r.clearS * 1000) : '—'}`),
      h('td', {}, r.enabled === false ? '✘' : '✔'),
      h('td', { class: 'muted source' }, sources.length ? sources.map((x) => h('div', {}, x)) : '—'),
    );
  };
  return h(
    'table',
    { class: 'table rules' },
    h('thead', {}, h('tr', {}, [t('rl_rule'), t('rl_limit'), t('rl_for_clear'), t('rl_enabled'), t('rl_source')].map((c) => h('th', {}, c)))),
    h('tbody', {}, Object.entries(rules).map(row)),
  );
}

export function deviceView(ctx, id) {
  const root = h('section', { class: 'device-page' }, h('p', { class: 'loading' }, t('loading')));
  const statusBox = h('section', { class: 'panel device-status' });
  let timer = null;

  const renderStatus = (d) => {
    const st = d.status ?? {};
    const rej = st.lastRejected;
    replace(
      statusBox,
      h('h3', {}, t('status')),
      h('p', {}, h('span', { class: ['badge', st.online ? 'ok' : 'off'] }, st.online ? t('online') : t('offline')), ` ${t('last_seen')}: ${st.lastSeenAt ? fmtDateTime(st.lastSeenAt) : t('never')}`),
      h('p', {}, `${t('accepted')}: `, h('strong', { class: 'accepted' }, String(st.accepted ?? 0)), ` · ${t('rejected')}: `, h('strong', { class: 'rejected' }, String(st.rejected ?? 0)),
        Object.keys(st.rejectedByReason ?? {}).length ? t('paren', Object.entries(st.rejectedByReason).map(([k, v]) => `${name('reason_short', k)} ${v}`).join(t('list_sep'))) : ''),
      h('p', {}, `${t('last_reading')}: `, h('span', { class: 'mono' }, fmtFields(st.lastReading?.fields)), st.lastReading ? ` · ${fmtDateTime(st.lastReading.ts)}` : ''),
      h('h4', {}, t('last_rejected')),
      rej
        ? h(
            'div',
            { class: ['last-rejected', rej.supersededAt && 'history'], dataset: { reason: rej.reason } },
            h('p', {}, h('strong', {}, name('reason_short', rej.reason)), ` · ${fmtDateTime(rej.at)}`, rej.supersededAt ? h('span', { class: 'muted' }, ` · ${t('cm_rejected_history')}`) : null),
            rejectionText(rej),
          )
        : h('p', { class: 'muted' }, t('no_rejected')),
    );
  };

  const load = async () => {
    let d;
    try {
      d = await get(`/devices/${encodeURIComponent(id)}`);
    } catch (err) {
      replace(root, h('p', { class: 'error' }, err instanceof ApiError && err.status === 404 ? t('not_found') : `${t('error')}: ${err.message}`));
      return;
    }
    const [readings, events, rules, alerts] = await Promise.all([
      get(`/devices/${encodeURIComponent(id)}/readings?limit=200`),
      get(`/devices/${encodeURIComponent(id)}/readings?limit=20&channel=event`),
      get(`/devices/${encodeURIComponent(id)}/rules`),
      // the device page shows its alerts from commissioning too (issue #17 item 6), marked
      get(`/alerts?deviceId=${encodeURIComponent(id)}&limit=50&commissioning=include`),
    ]);
    renderStatus(d);
    const charts = deviceCharts(d, readings.items, rules.rules);
    replace(
      root,
      h('h2', {}, d.id, h('span', { class: 'muted' }, ` · ${name('kind', d.kind)}${d.point ? ` · ${name('point', d.point)}` : ''}`), d.inService === false ? h('span', { class: 'badge cm-badge device-commissioning' }, t('cm_state_commissioning')) : null),
      h('p', {}, h('a', { href: `#/building/${encodeURIComponent(d.buildingId)}`, class: 'building-back' }, t('back_to_building', d.buildingName ?? d.buildingId)), d.location ? ` · ${d.location}` : '', d.vendor ? ` · ${d.vendor} ${d.model ?? ''}` : '', ` · ${t('report_interval')}: ${d.reportIntervalS}`),
      h('div', { class: 'device-top' }, statusBox, commissioningPanel(ctx, id, { everyMs: 5000, onInService: () => root.querySelector('.device-commissioning')?.remove() }), maintenancePanel(ctx, d), credentialsPanel(ctx, d)),
      // a UITD: the centre's commands and their answers (issue #14)
      d.kind === 'uitd' ? uitdCommandsPanel(ctx, d.id) : null,
      h('div', { class: 'chart-box' }, charts.length ? charts : h('p', { class: 'empty' }, t('chart_none'))),
      h('h3', {}, t('rules')),
      rulesTable(rules.rules),
      // 试算: the rules over the stored readings, beside the actual alerts (issue #15 item 3)
      replayPanel(ctx, d, rules.rules),
      h('h3', {}, t('raw_readings')),
      readingsTable(readings.items.slice(0, 20)),
      h('h3', {}, t('events')),
      readingsTable(events.items),
      h('h3', {}, t('alert_history')),
      alerts.items.some((a) => a.commissioning) ? h('p', { class: 'muted commissioning-alerts-note' }, t('cm_alerts_note')) : null,
      alertTable(alerts.items),
      ctx.can.handle ? auditPanel(`deviceId=${encodeURIComponent(id)}`) : null,
    );
    // the status block follows the device live (cheap: one GET)
    const refresh = async () => {
      try {
        renderStatus(await get(`/devices/${encodeURIComponent(id)}`));
      } catch {
        /* keep the last view */
      }
      timer = setTimeout(refresh, 5000);
    };
    timer = setTimeout(refresh, 5000);
  };
  ctx.cleanups.push(() => clearTimeout(timer));
  load();
  return { el: root, destroy() {} };
}
