/**
 * The live alert board: hazards, faults and maintenance alerts in three separate sections,
 * each sorted unacknowledged and overdue first, then by severity, escalation and age (issue #17
 * item 1); countdowns to the acknowledge and close deadlines ("1分钟响应、3分钟处置") on the
 * server's clock; where (building · street, the device's 楼层/位置), whom to call (a tel: link)
 * and what was measured, in words with units (item 2); acknowledge in one click, close in two
 * (an outcome chosen, never preselected, and a note, with templates per outcome: item 3);
 * silence per alert; who did what.
 */
import { get, post } from './api.js';
import { h, replace } from './dom.js';
import { actor, alertNote, fmtDateTime, fmtDuration, fmtTime, msg, name, noteTemplates, OUTCOMES, t } from './i18n.js';
import { fmtSpan, historyText, valueLine } from './alert-text.js';
import { recentClosures } from './records.js';
import { Store } from './store.js';
import { uplinkPanel } from './uplink.js';
import { clockLine } from './clocks.js';

// what a history entry says, also for pages and tests that load only the board
export { historyText } from './alert-text.js';

/** 'tel:' with the digits (and a leading +) of a phone number as people write it: '023-6310 0000' → 'tel:02363100000' */
export function telHref(phone) {
  const digits = String(phone).replace(/[^\d+]/g, '');
  return `tel:${digits.replace(/(?!^)\+/g, '')}`;
}

/** where: building · street · the device's installed location (楼层/位置) */
export function alertMeta(a) {
  return h(
    'div',
    { class: 'meta place' },
    a.buildingId ? h('a', { href: `#/building/${encodeURIComponent(a.buildingId)}`, class: 'building-link' }, a.buildingName ?? a.buildingId) : null,
    a.street ? h('span', { class: 'street' }, a.street) : null,
    a.location ? h('span', { class: 'location' }, `${t('card_location')} `, h('strong', {}, a.location)) : null,
  );
}

/** whom to call: the building's contact, the number as a tel: link */
export function contactLine(a) {
  if (!a.contactPhone && !a.contactName) return null;
  return h(
    'div',
    { class: 'meta contact' },
    `${t('card_contact')} `,
    a.contactName ? h('span', { class: 'contact-name' }, a.contactName) : null,
    a.contactPhone ? h('a', { class: 'tel', href: telHref(a.contactPhone) }, '☎ ', a.contactPhone) : null,
  );
}

/** which device: its id (a link) and point, and how many breaching readings */
function deviceLine(a) {
  if (!a.deviceId && !(a.count > 1)) return null;
  return h(
    'div',
    { class: 'meta device' },
    a.deviceId
      ? h('a', { href: `#/device/${encodeURIComponent(a.deviceId)}`, class: 'device-link' }, a.deviceId, a.point ? ` · ${name('point', a.point)}` : a.kind ? ` · ${name('kind', a.kind)}` : '')
      : null,
    a.count > 1 ? h('span', {}, `${t('count')} ${a.count}`) : null,
  );
}

export function historyList(a, n = 3) {
  const items = (a.history ?? []).slice(-n).reverse();
  if (!items.length) return null;
  return h(
    'ol',
    { class: 'history', 'aria-label': t('history') },
    items.map((e) => {
      const detail = historyText(e);
      return h(
        'li',
        { dataset: { action: e.action } },
        h('time', { datetime: e.at }, fmtTime(e.at)),
        ' ',
        name('action', e.action),
        ' · ',
        h('span', { class: 'by', title: e.by }, actor(e.by, e.byName)),
        detail ? ` · ${detail}` : '',
      );
    }),
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
  for (const el of root.querySelectorAll('.elapsed')) el.textContent = t(el.dataset.key, fmtSpan(now - Date.parse(el.dataset.since)));
}

export function boardView(ctx) {
  const { store, alarm, can } = ctx;
  const root = h('section', { class: 'board' });
  const forms = new Map(); // alert id → its open close form (kept across re-renders, so typing is not lost)
  const busy = new Set();
  const uplink = uplinkPanel(ctx);
  const recent = recentClosures(store, () => render()); // before the board's own listener: it sees each closure first

  const act = async (a, fn) => {
    busy.add(a.id);
    render();
    try {
      // an alert, or the alerts an incident's ack/close changed (issue #15 item 1)
      const changed = await fn();
      for (const x of Array.isArray(changed) ? changed : [changed]) store.upsert(x);
    } catch (err) {
      ctx.toast(`${t('error')}: ${err.message}`);
    } finally {
      busy.delete(a.id);
      render();
    }
  };

  // an incident's members as the server has them after its ack/close, for the store (the feed follows)
  const incidentAct = (i, path, body) => async () => {
    const r = await post(`/incidents/${encodeURIComponent(i.id)}/${path}`, body);
    return Promise.all(r.alertIds.map((id) => get(`/alerts/${encodeURIComponent(id)}`)));
  };

  const closeForm = (a) => {
    const note = h('input', { type: 'text', name: 'note', maxlength: '2000', placeholder: t('note'), 'aria-label': t('note'), class: 'note' });
    // nothing is preselected: a hurried close must not record a false alarm (issue #17 item 3)
    const templates = h('div', { class: 'note-templates', 'aria-label': t('note_templates') });
    const outcome = h(
      'select',
      {
        name: 'outcome',
        'aria-label': t('outcome'),
        class: 'outcome',
        onChange: () => {
          error.textContent = '';
          replace(
            templates,
            noteTemplates(outcome.value).map((text) =>
              h('button', { type: 'button', class: 'btn tpl', onClick: () => ((note.value = text), (error.textContent = ''), note.focus()) }, text),
            ),
          );
        },
      },
      h('option', { value: '', disabled: true, selected: true }, t('outcome_choose')),
      OUTCOMES.map((o) => h('option', { value: o }, name('outcome', o))),
    );
    const error = h('span', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      {
        class: 'close-form',
        onSubmit: (ev) => {
          ev.preventDefault();
          const missing = [!outcome.value && t('outcome_choose'), !note.value.trim() && t('note_required')].filter(Boolean);
          if (missing.length) {
            error.textContent = missing.join(t('list_sep'));
            (outcome.value ? note : outcome).focus();
            return;
          }
          forms.delete(a.id);
          const body = { outcome: outcome.value, note: note.value.trim() };
          act(a, a.incident ? incidentAct(a, 'close', body) : () => post(`/alerts/${encodeURIComponent(a.id)}/close`, body));
        },
      },
      h('label', {}, t('outcome'), ' ', outcome),
      note,
      h('button', { type: 'submit', class: 'btn danger close-submit' }, t('close_submit')),
      h('button', { type: 'button', class: 'btn', onClick: () => (forms.delete(a.id), render()) }, t('cancel')),
      error,
      templates,
    );
    forms.set(a.id, form);
    return form;
  };

  const card = (a) => {
    const hazard = a.class === 'hazard' && !a.maintenance;
    const sounding = alarm.sounding.has(a.id);
    // arrived over the live feed and not acknowledged yet
    const fresh = a.status === 'open' && store.fresh.has(a.id);
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
        class: ['alert', `cls-${a.class}`, a.maintenance && 'maint', `sev-${a.severity}`, `st-${a.status}`, a.escalationLevel > 0 && `esc esc-${a.escalationLevel}`, sounding && 'sounding', fresh && 'fresh'],
        dataset: { alertId: a.id, rule: a.rule },
        tabindex: '-1',
      },
      h(
        'header',
        {},
        fresh ? h('span', { class: 'badge fresh-badge' }, t('new_badge')) : null,
        h('span', { class: ['badge', `sev-${a.severity}`] }, name('severity', a.severity)),
        a.escalationLevel > 0 ? h('span', { class: 'badge escalation', dataset: { level: String(a.escalationLevel) } }, t('escalated', a.escalationLevel)) : null,
        h('h3', {}, name('rule', a.rule)),
        h('span', { class: ['badge', 'status', `st-${a.status}`] }, t(`status_${a.status}`)),
        a.cleared ? h('span', { class: 'badge cleared' }, t('cleared')) : null,
      ),
      h('p', { class: 'message' }, msg(a.message)),
      alertMeta(a),
      contactLine(a),
      valueLine(a),
      deviceLine(a),
      h('div', { class: 'timers' }, h('span', { class: 'opened' }, `${t('opened_at')} ${fmtDateTime(a.openedAt)}`), ...timers),
      a.acknowledgedBy ? h('p', { class: 'who' }, t('acked_by', actor(a.acknowledgedBy, a.acknowledgedByName), fmtTime(a.acknowledgedAt))) : null,
      historyList(a),
      clockLine(a, ctx),
      actions.length || forms.has(a.id) ? h('div', { class: 'actions' }, actions, forms.get(a.id) ?? null) : null,
    );
  };

  /**
   * An incident (警情, issue #15 item 1): one card for the building, with its evidence in the
   * order raised (a timeline), the most severe level, and one acknowledge and one close for all of
   * its alerts (each keeps its own history). Its alerts' own cards follow inside it, most urgent
   * first, so one of them (a false alarm beside the fire) can still be handled alone.
   */
  const incidentCard = (i) => {
    const sounding = i.alerts.filter((a) => alarm.sounding.has(a.id));
    const actions = [];
    if (can.handle) {
      if (i.status === 'open') actions.push(h('button', { class: 'btn primary incident-ack-btn', disabled: busy.has(i.id), onClick: () => act(i, incidentAct(i, 'ack', {})) }, t('incident_ack')));
      if (!forms.has(i.id)) {
        actions.push(
          h('button', { class: 'btn incident-close-btn', disabled: busy.has(i.id), onClick: () => (closeForm(i), render(), forms.get(i.id)?.querySelector('.note')?.focus()) }, t('incident_close')),
        );
      }
    }
    if (sounding.length) actions.push(h('button', { class: 'btn silence-btn', onClick: () => (sounding.forEach((a) => alarm.silence(a)), render()) }, t('silence')));
    const timers = [];
    if (i.status === 'open' && i.ackDeadline) timers.push(countdown('ack', i.ackDeadline, i.escalationLevel));
    if (i.closeDeadline) timers.push(countdown('close', i.closeDeadline, i.escalationLevel));
    return h(
      'article',
      {
        class: ['incident', `sev-${i.severity}`, `st-${i.status}`, i.escalationLevel > 0 && `esc esc-${i.escalationLevel}`, sounding.length && 'sounding'],
        dataset: { incidentId: i.id },
        tabindex: '-1',
      },
      h(
        'header',
        {},
        h('span', { class: 'badge incident-badge' }, t('incident')),
        h('span', { class: ['badge', `sev-${i.severity}`] }, name('severity', i.severity)),
        i.escalationLevel > 0 ? h('span', { class: 'badge escalation', dataset: { level: String(i.escalationLevel) } }, t('escalated', i.escalationLevel)) : null,
        h('h3', {}, i.buildingName ?? i.buildingId),
        h('span', { class: ['badge', 'status', `st-${i.status}`] }, t(`status_${i.status}`)),
      ),
      h('p', { class: 'incident-summary' }, t('incident_summary', i.alerts.length)),
      alertMeta(i),
      contactLine(i),
      h(
        'ol',
        { class: 'evidence', 'aria-label': t('incident_evidence') },
        i.alerts.map((a) =>
          h(
            'li',
            { dataset: { alertId: a.id, rule: a.rule }, class: [`sev-${a.severity}`, `st-${a.status}`] },
            h('time', { datetime: a.openedAt }, fmtTime(a.openedAt)),
            ' ',
            h('strong', { class: 'rule' }, name('rule', a.rule)),
            a.location ? ` · ${a.location}` : a.point ? ` · ${name('point', a.point)}` : '',
            ' · ',
            h('span', { class: 'evidence-message' }, msg(a.message)),
          ),
        ),
      ),
      h('div', { class: 'timers' }, h('span', { class: 'opened' }, `${t('opened_at')} ${fmtDateTime(i.openedAt)}`), ...timers),
      actions.length || forms.has(i.id) ? h('div', { class: 'actions' }, actions, forms.get(i.id) ?? null) : null,
      h('div', { class: 'incident-alerts' }, Store.sorted(i.alerts, ctx.feed.serverNow()).map(card)),
    );
  };

  const section = (key, items, emptyKey) =>
    h(
      'section',
      { class: ['lane', `lane-${key}`], 'aria-label': t(key) },
      h('h2', {}, t(key), h('span', { class: 'count' }, String(items.length))),
      items.length ? items.map((x) => (x.incident ? incidentCard(x) : card(x))) : h('p', { class: 'empty' }, t(emptyKey)),
    );

  let order = '';
  const orderOf = (g) => [g.hazards, g.faults, g.maintenance].map((l) => l.map((a) => a.id).join()).join('|');
  const render = () => {
    const g = store.groups(ctx.feed.serverNow());
    order = orderOf(g);
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

  // 最近处置 (issue #17 item 4): hazards a person closed, each a link to its record; self-closed faults stay out
  const closedList = () => {
    const items = recent.list();
    return items.length
      ? h(
          'section',
          { class: 'lane lane-closed', 'aria-label': t('recently_closed') },
          h('h2', {}, t('recently_closed'), h('a', { href: '#/records', class: 'records-all' }, t('rec_all'))),
          h(
            'ul',
            { class: 'closed-list' },
            items.map((a) =>
              h(
                'li',
                { dataset: { alertId: a.id } },
                h(
                  'a',
                  { href: `#/records/${encodeURIComponent(a.id)}`, class: 'record-link' },
                  h('strong', {}, name('rule', a.rule)),
                  ` · ${a.buildingName ?? a.buildingId ?? ''} · ${name('outcome', a.outcome)} · `,
                  h('span', { class: 'who' }, t('closed_by', actor(a.closedBy, a.closedByName), fmtTime(a.closedAt))),
                ),
                a.note ? h('div', { class: 'muted' }, alertNote(a)) : null,
              ),
            ),
          ),
        )
      : null;
  };

  const unsub = store.subscribe(render);
  // a deadline passing moves a card up even before the server's escalation event arrives
  const ticker = setInterval(() => (orderOf(store.groups(ctx.feed.serverNow())) !== order ? render() : tickCountdowns(root, ctx.feed.serverNow())), 500);
  render();
  return {
    el: root,
    destroy() {
      unsub();
      recent.destroy();
      clearInterval(ticker);
    },
  };
}
