/**
 * The live alert board: hazards, faults and maintenance alerts in three separate sections,
 * each sorted by severity, escalation and age; countdowns to the acknowledge and close
 * deadlines ("1分钟响应、3分钟处置") on the server's clock; acknowledge in one click, close in two
 * (outcome + note); silence per alert; who did what.
 */
import { post } from './api.js';
import { h, replace } from './dom.js';
import { fmtDateTime, fmtDuration, fmtTime, msg, name, OUTCOMES, t } from './i18n.js';
import { uplinkPanel } from './uplink.js';

export function alertMeta(a) {
  return h(
    'div',
    { class: 'meta' },
    a.buildingId ? h('a', { href: `#/building/${encodeURIComponent(a.buildingId)}`, class: 'building-link' }, a.buildingName ?? a.buildingId) : null,
    a.street ? h('span', { class: 'street' }, a.street) : null,
    a.deviceId
      ? h('a', { href: `#/device/${encodeURIComponent(a.deviceId)}`, class: 'device-link' }, a.deviceId, a.point ? ` · ${name('point', a.point)}` : a.kind ? ` · ${name('kind', a.kind)}` : '')
      : null,
    a.value !== null ? h('span', {}, `${t('value')} ${a.value}`) : null,
    a.threshold !== null ? h('span', {}, `${t('threshold')} ${a.threshold}`) : null,
    a.peak !== null && a.peak !== a.value ? h('span', {}, `${t('peak')} ${a.peak}`) : null,
    a.count > 1 ? h('span', {}, `${t('count')} ${a.count}`) : null,
  );
}

export function historyList(a, n = 3) {
  const items = (a.history ?? []).slice(-n).reverse();
  if (!items.length) return null;
  return h(
    'ol',
    { class: 'history', 'aria-label': t('history') },
    items.map((e) => h('li', {}, h('time', { datetime: e.at }, fmtTime(e.at)), ' ', name('action', e.action), ' · ', e.by, e.detail ? ` · ${e.detail}` : '')),
  );
}

/** a countdown span; its text and colour are refreshed by tickCountdowns() */
function countdown(kind, deadline, level) {
  return h('span', { class: ['countdown', `cd-${kind}`], dataset: { deadline, kind, level: String(level) } });
}

export function tickCountdowns(root, now) {
  for (const el of root.querySelectorAll('.countdown')) {
    const { deadline, kind, level } = el.dataset;
    const left = Date.parse(deadline) - now;
    const lvl = Number(level);
    const overdue = left < 0 || (kind === 'ack' ? lvl >= 1 : lvl >= 2);
    el.classList.toggle('overdue', overdue);
    const label = overdue ? t(`${kind}_overdue`) : t(`${kind}_in`);
    el.textContent = `${label} ${overdue ? (left < 0 ? fmtDuration(-left) : '') : fmtDuration(left)}`.trim();
  }
  for (const el of root.querySelectorAll('.age')) el.textContent = fmtDuration(now - Date.parse(el.dataset.since));
}

export function boardView(ctx) {
  const { store, alarm, can } = ctx;
  const root = h('section', { class: 'board' });
  const forms = new Map(); // alert id → its open close form (kept across re-renders, so typing is not lost)
  const busy = new Set();
  const uplink = uplinkPanel(ctx);

  const act = async (a, fn) => {
    busy.add(a.id);
    render();
    try {
      store.upsert(await fn());
    } catch (err) {
      ctx.toast(`${t('error')}: ${err.message}`);
    } finally {
      busy.delete(a.id);
      render();
    }
  };

  const closeForm = (a) => {
    const note = h('input', { type: 'text', name: 'note', maxlength: '2000', placeholder: t('note'), 'aria-label': t('note'), class: 'note' });
    const outcome = h(
      'select',
      { name: 'outcome', 'aria-label': t('outcome'), class: 'outcome' },
      OUTCOMES.map((o) => h('option', { value: o }, name('outcome', o))),
    );
    const error = h('span', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      {
        class: 'close-form',
        onSubmit: (ev) => {
          ev.preventDefault();
          if (!note.value.trim()) {
            error.textContent = t('note_required');
            note.focus();
            return;
          }
          forms.delete(a.id);
          act(a, () => post(`/alerts/${encodeURIComponent(a.id)}/close`, { outcome: outcome.value, note: note.value.trim() }));
        },
      },
      h('label', {}, t('outcome'), ' ', outcome),
      note,
      h('button', { type: 'submit', class: 'btn danger close-submit' }, t('close_submit')),
      h('button', { type: 'button', class: 'btn', onClick: () => (forms.delete(a.id), render()) }, t('cancel')),
      error,
    );
    forms.set(a.id, form);
    return form;
  };

  const card = (a) => {
    const hazard = a.class === 'hazard' && !a.maintenance;
    const sounding = alarm.sounding.has(a.id);
    const actions = [];
    if (can.handle) {
      if (a.status === 'open') {
        actions.push(h('button', { class: 'btn primary ack-btn', disabled: busy.has(a.id), onClick: () => act(a, () => post(`/alerts/${encodeURIComponent(a.id)}/ack`, {})) }, t('ack')));
      }
      if (!forms.has(a.id)) {
        actions.push(h('button', { class: 'btn close-btn', disabled: busy.has(a.id), onClick: () => (closeForm(a), render(), forms.get(a.id)?.querySelector('.note')?.focus()) }, t('close')));
      }
    }
    if (sounding) actions.push(h('button', { class: 'btn silence-btn', onClick: () => (alarm.silence(a), render()) }, t('silence')));
    else if (hazard && a.status === 'open' && alarm.isSilenced(a)) actions.push(h('span', { class: 'muted' }, t('silenced')));

    const timers = [];
    if (a.status === 'open' && a.ackDeadline) timers.push(countdown('ack', a.ackDeadline, a.escalationLevel));
    if (a.closeDeadline) timers.push(countdown('close', a.closeDeadline, a.escalationLevel));
    if (!timers.length) timers.push(h('span', { class: 'age-wrap' }, h('span', { class: 'age', dataset: { since: a.openedAt } })));

    return h(
      'article',
      {
        class: ['alert', `cls-${a.class}`, a.maintenance && 'maint', `sev-${a.severity}`, `st-${a.status}`, a.escalationLevel > 0 && `esc esc-${a.escalationLevel}`, sounding && 'sounding'],
        dataset: { alertId: a.id, rule: a.rule },
      },
      h(
        'header',
        {},
        h('span', { class: ['badge', `sev-${a.severity}`] }, name('severity', a.severity)),
        a.escalationLevel > 0 ? h('span', { class: 'badge escalation', dataset: { level: String(a.escalationLevel) } }, t('escalated', a.escalationLevel)) : null,
        h('h3', {}, name('rule', a.rule)),
        h('span', { class: ['badge', 'status', `st-${a.status}`] }, t(`status_${a.status}`)),
        a.cleared ? h('span', { class: 'badge cleared' }, t('cleared')) : null,
      ),
      h('p', { class: 'message' }, msg(a.message)),
      alertMeta(a),
      h('div', { class: 'timers' }, h('span', { class: 'opened' }, `${t('opened_at')} ${fmtDateTime(a.openedAt)}`), ...timers),
      a.acknowledgedBy ? h('p', { class: 'who' }, t('acked_by', a.acknowledgedBy, fmtTime(a.acknowledgedAt))) : null,
      historyList(a),
      actions.length || forms.has(a.id) ? h('div', { class: 'actions' }, actions, forms.get(a.id) ?? null) : null,
    );
  };

  const section = (key, items, emptyKey) =>
    h(
      'section',
      { class: ['lane', `lane-${key}`], 'aria-label': t(key) },
      h('h2', {}, t(key), h('span', { class: 'count' }, String(items.length))),
      items.length ? items.map(card) : h('p', { class: 'empty' }, t(emptyKey)),
    );

  const render = () => {
    const g = store.groups();
    alarm.sync(store.list());
    const focused = document.activeElement;
    replace(
      root,
      uplink,
      !alarm.enabled && alarm.sounding.size > 0 ? h('p', { class: 'sound-hint', role: 'alert' }, '⚠ ', t('sound_off_hint')) : null,
      h(
        'div',
        { class: 'lanes' },
        section('hazards', g.hazards, 'none_hazards'),
        h('div', { class: 'side' }, section('faults', g.faults, 'none_faults'), section('maintenance', g.maintenance, 'none_maintenance'), closedList()),
      ),
    );
    // a kept close form was moved, not rebuilt: give its field the focus back
    if (focused && focused !== document.activeElement && focused.isConnected && root.contains(focused)) focused.focus();
    tickCountdowns(root, ctx.feed.serverNow());
  };

  const closedList = () =>
    store.closed.length
      ? h(
          'section',
          { class: 'lane lane-closed', 'aria-label': t('recently_closed') },
          h('h2', {}, t('recently_closed')),
          h(
            'ul',
            { class: 'closed-list' },
            store.closed.map((a) =>
              h(
                'li',
                { dataset: { alertId: a.id } },
                h('strong', {}, name('rule', a.rule)),
                ` · ${a.buildingName ?? a.buildingId ?? ''} · ${name('outcome', a.outcome)} · `,
                h('span', { class: 'who' }, t('closed_by', a.closedBy, fmtTime(a.closedAt))),
                a.note ? h('div', { class: 'muted' }, a.note) : null,
              ),
            ),
          ),
        )
      : null;

  const unsub = store.subscribe(render);
  const ticker = setInterval(() => tickCountdowns(root, ctx.feed.serverNow()), 500);
  render();
  return {
    el: root,
    destroy() {
      unsub();
      clearInterval(ticker);
    },
  };
}
