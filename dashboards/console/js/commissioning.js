/**
 * Commissioning check for an installer: did the first message arrive (and when: the first one,
 * not the latest), is the device online — a one-shot publish (connect, publish, disconnect) is a
 * working sensor, so a recent connection or accepted message counts (status.reachable) — are the
 * values plausible for the point, would they raise an alert, and — when the service rejected a
 * message — what to fix, in Chinese (status.lastRejected.detailZh; the English detail beside it in
 * English). A rejection followed by accepted messages is history, shown greyed, not a red mark.
 * Above the checks: whether the device is still being commissioned (调试, issue #17 item 6) and
 * the 投入使用 button for the building's operator and admins. Polls the device.
 */
import { ApiError, get, post } from './api.js';
import { h, replace } from './dom.js';
import { fmtDateTime, lang, name, t } from './i18n.js';

/**
 * Plausible for a working installation, tighter than the physical limits the service enforces:
 * a hydrant reading under 0.05 MPa is an empty pipe or a sensor on the wrong port; over 1.6 MPa is
 * above the usual PN16 rating of the pipework (a wrong unit, e.g. bar or kPa, is the usual cause).
 */
export const PLAUSIBLE = {
  pressure: { hydrant_top: [0.05, 1.6], hydrant_outlet: [0.05, 1.6], sprinkler_end: [0.05, 1.6], network: [0.05, 1.6], pump_outlet: [0.05, 2.5], default: [0.05, 1.6] },
  levelM: [0, 30],
  residualCurrentMa: [0, 1000],
  temperatureC: [-20, 120],
};

/** [{ field, value, min, max, unit, ok }] for a reading's fields */
export function plausibility(device, fields) {
  const out = [];
  const check = (field, value, [min, max], unit) => out.push({ field, value, min, max, unit, ok: typeof value === 'number' && value >= min && value <= max });
  if (!fields) return out;
  if (device.kind === 'water_pressure' && fields.pressureMpa !== undefined) {
    check('pressureMpa', fields.pressureMpa, PLAUSIBLE.pressure[device.point] ?? PLAUSIBLE.pressure.default, 'MPa');
  }
  if (device.kind === 'water_level' && fields.levelM !== undefined) check('levelM', fields.levelM, PLAUSIBLE.levelM, 'm');
  if (device.kind === 'electrical_fire') {
    if (fields.residualCurrentMa !== undefined) check('residualCurrentMa', fields.residualCurrentMa, PLAUSIBLE.residualCurrentMa, 'mA');
    (fields.temperaturesC ?? []).forEach((v, i) => check(`temperaturesC[${i}]`, v, PLAUSIBLE.temperatureC, '°C'));
  }
  if (device.kind === 'fire_lane' && fields.occupied !== undefined) out.push({ field: 'occupied', value: fields.occupied, ok: typeof fields.occupied === 'boolean' });
  return out;
}

/** which enabled rules the reading would break right now (the rule still waits its forS) */
export function wouldAlert(fields, rules) {
  const hits = [];
  const r = (id) => (rules?.[id] && rules[id].enabled !== false && typeof rules[id].threshold === 'number' ? rules[id].threshold : undefined);
  const below = (id, v) => r(id) !== undefined && typeof v === 'number' && v < r(id) && hits.push({ rule: id, value: v, threshold: r(id) });
  const above = (id, v, inclusive = false) =>
    r(id) !== undefined && typeof v === 'number' && (inclusive ? v >= r(id) : v > r(id)) && hits.push({ rule: id, value: v, threshold: r(id) });
  if (!fields) return hits;
  below('pressure_low', fields.pressureMpa);
  above('pressure_high', fields.pressureMpa);
  below('level_low', fields.levelM);
  above('level_high', fields.levelM);
  above('residual_current_high', fields.residualCurrentMa, true);
  // a channel rejected on its own arrives as null
  const temps = Array.isArray(fields.temperaturesC) ? fields.temperaturesC.filter((t) => typeof t === 'number') : [];
  if (temps.length) above('temperature_high', Math.max(...temps), true);
  return hits;
}

export function reasonText(reason) {
  return name('reason', reason);
}

function line(ok, ...content) {
  return h('li', { class: ok === null ? 'pending' : ok ? 'ok' : 'bad' }, h('span', { class: 'mark', 'aria-hidden': 'true' }, ok === null ? '…' : ok ? '✔' : '✘'), ' ', ...content);
}

/** a rejected message: what was wrong, in Chinese first (the service's English detail as a second line in English) */
export function rejectionText(rej) {
  if (lang() === 'en') return [h('div', { class: 'fix' }, h('strong', {}, `${t('fix')}: `), reasonText(rej.reason)), h('div', { class: 'muted detail mono' }, rej.detail)];
  return [h('div', { class: 'detail detail-zh' }, rej.detailZh ?? name('reason_short', rej.reason)), h('div', { class: 'fix' }, h('strong', {}, `${t('fix')}: `), reasonText(rej.reason))];
}

/** 在线: connected now, or recently (a one-shot publish); else offline since its last contact, or not yet connected */
function onlineLine(st) {
  if (st.online) return line(true, h('span', { class: 'online-state', dataset: { state: 'online' } }, t('cm_online_now')));
  if (st.reachable) return line(true, h('span', { class: 'online-state', dataset: { state: 'recent' } }, t('cm_online_recent', fmtDateTime(st.lastContactAt))));
  if (st.lastContactAt) return line(false, h('span', { class: 'online-state', dataset: { state: 'offline' } }, t('cm_offline_since', fmtDateTime(st.lastContactAt))));
  return line(null, h('span', { class: 'online-state', dataset: { state: 'waiting' } }, t('cm_waiting_connect')));
}

/** 调试中 / 已投入使用, and the button that puts the device in service */
function serviceState(ctx, d, onChange, onInService) {
  if (d.inService) {
    return h('p', { class: 'commission-state in-service', dataset: { state: 'in_service' } }, h('span', { class: 'badge ok' }, t('cm_state_in_service', fmtDateTime(d.inServiceAt))));
  }
  const err = h('span', { class: 'form-error', role: 'alert' });
  const btn = ctx.can.write
    ? h(
        'button',
        {
          type: 'button',
          class: 'btn primary put-in-service',
          title: t('cm_put_in_service_hint'),
          onClick: async () => {
            btn.disabled = true;
            err.textContent = '';
            try {
              const updated = await post(`/devices/${encodeURIComponent(d.id)}/in-service`, {});
              onInService?.(updated);
              onChange();
            } catch (e) {
              btn.disabled = false;
              err.textContent = `${t('error')}: ${e instanceof ApiError && e.status === 403 ? t('forbidden') : e.message}`;
            }
          },
        },
        t('cm_put_in_service'),
      )
    : null;
  return h(
    'div',
    { class: 'commission-state commissioning-now', dataset: { state: 'commissioning' } },
    h('p', {}, h('span', { class: 'badge cm-badge' }, t('cm_state_commissioning')), ' ', h('span', { class: 'muted' }, t('cm_state_note', fmtDateTime(d.commissioningUntil)))),
    btn ? h('p', {}, btn, ' ', h('span', { class: 'muted' }, t('cm_put_in_service_hint')), err) : null,
  );
}

export function commissioningPanel(ctx, deviceId, { everyMs = 2000, onInService } = {}) {
  const list = h('ul', { class: 'checks' }, line(null, t('loading')));
  const state = h('div', { class: 'commission-state-box' });
  const el = h('section', { class: 'panel commissioning', dataset: { deviceId } }, h('h3', {}, t('commissioning')), state, list);
  let timer = null;
  let rules = null;
  let stopped = false;
  const again = () => {
    clearTimeout(timer);
    poll();
  };
  const poll = async () => {
    try {
      const d = await get(`/devices/${encodeURIComponent(deviceId)}`);
      rules ??= (await get(`/devices/${encodeURIComponent(deviceId)}/rules`)).rules;
      const st = d.status ?? {};
      const items = [];
      el.dataset.inService = String(!!d.inService);
      replace(state, serviceState(ctx, d, again, onInService));
      const arrived = st.accepted > 0 || !!st.lastReading;
      // the FIRST message's time (a device from before that was kept shows only that messages came)
      items.push(
        arrived
          ? line(true, h('span', { class: 'first-message' }, st.firstAcceptedAt ? t('first_arrived', fmtDateTime(st.firstAcceptedAt)) : t('cm_first_unknown')))
          : line(null, h('span', { class: 'first-message waiting' }, t('waiting_first'))),
      );
      items.push(onlineLine(st));
      const fields = st.lastReading?.fields;
      const checks = plausibility(d, fields);
      if (checks.length) {
        const ok = checks.every((c) => c.ok);
        items.push(
          line(
            ok,
            h('span', { class: ok ? 'plausible' : 'implausible' }, ok ? t('plausible') : t('implausible')),
            ': ',
            checks.map((c) => `${c.field}=${c.value}${c.unit ? ` ${c.unit}` : ''}${c.min !== undefined ? ` (${c.min}–${c.max})` : ''}`).join(', '),
            ok
              ? null
              : h(
                  'div',
                  { class: 'fix' },
                  lang() === 'en'
                    ? 'Check the unit (MPa, not bar or kPa; mA; °C), the sensor span and that it sits on the right point.'
                    : '检查单位（MPa 而不是 bar/kPa；mA；°C）、传感器量程，以及是否安装在登记的测点上。',
                ),
          ),
        );
        for (const hit of wouldAlert(fields, rules)) {
          items.push(line(false, h('span', { class: 'would-alert' }, t('would_alert', `${name('rule', hit.rule)} (${hit.value} / ${hit.threshold})`))));
        }
      }
      const rej = st.lastRejected;
      if (rej && rej.supersededAt) {
        // accepted messages came after it: history, greyed, not a red mark
        items.push(
          h(
            'li',
            { class: 'history rejected-history', dataset: { reason: rej.reason } },
            h('span', { class: 'mark', 'aria-hidden': 'true' }, '·'),
            ' ',
            h('span', { class: 'rejected-reason', dataset: { reason: rej.reason } }, `${t('cm_rejected_history')}: ${name('reason_short', rej.reason)} · ${fmtDateTime(rej.at)}`),
            h('div', { class: 'detail' }, lang() === 'en' ? rej.detail : (rej.detailZh ?? '')),
          ),
        );
      } else if (rej) {
        items.push(
          line(
            false,
            h('span', { class: 'rejected-reason', dataset: { reason: rej.reason } }, `${t('last_rejected')}: ${name('reason_short', rej.reason)} · ${fmtDateTime(rej.at)}`),
            ...rejectionText(rej),
          ),
        );
      }
      replace(list, items);
    } catch (err) {
      replace(list, line(false, `${t('error')}: ${err.message}`));
    }
    if (!stopped) timer = setTimeout(poll, everyMs);
  };
  poll();
  ctx.cleanups.push(() => {
    stopped = true;
    clearTimeout(timer);
  });
  return el;
}
