/**
 * A UITD's page: the centre's commands (issue #14). The duty room (duty, admin) sends the UITD a
 * clock sync, a duty check or a read of its running status, software version, configuration,
 * time or a component's analog values; each answer — or the timeout after 3 tries — is listed with who sent it, newest first.
 */
import { ApiError, get, post } from './api.js';
import { h, replace } from './dom.js';
import { fmtDateTime, t } from './i18n.js';

const COMMANDS = ['clock_sync', 'duty_check', 'read_status', 'read_version', 'read_config', 'read_time'];

/** what a read answered, in words */
function answerText(r) {
  const a = r.answer;
  if (!a) return '';
  switch (r.command) {
    case 'read_status':
      return Object.entries(a.flags ?? {})
        .filter(([, on]) => on)
        .map(([bit]) => t(`uitd_bit_${bit}`))
        .join('、') || t('uitd_bits_none');
    case 'read_version':
      return `${a.major}.${a.minor}`;
    case 'read_config':
      return String(a.text ?? '');
    case 'read_time':
      return a.time ? fmtDateTime(a.time) : '';
    case 'read_analog':
      return (a.values ?? []).map((v) => t('uc_analog_value', v.analogType, v.value)).join('；');
    default:
      return '';
  }
}

export function uitdCommandsPanel(ctx, deviceId) {
  const list = h('tbody');
  const note = h('p', { class: 'muted uc-note' });
  const el = h(
    'section',
    { class: 'panel uitd-commands' },
    h('h3', {}, t('uc_title')),
    ctx.can.handle
      ? h(
          'p',
          { class: 'uc-buttons' },
          COMMANDS.map((c) =>
            h('button', { type: 'button', class: 'btn uc-send', dataset: { command: c }, onClick: (e) => send(c, e.currentTarget) }, t(`uc_${c}`)),
          ),
        )
      : null,
    ctx.can.handle ? analogForm() : null,
    note,
    h('table', { class: 'table uc-history' }, h('thead', {}, h('tr', {}, [t('uc_when'), t('uc_command'), t('uc_outcome'), t('uc_answer'), t('uc_by')].map((c) => h('th', {}, c)))), list),
  );

  /** read_analog names a component: system type and address, zone and position (as the UITD's points list them) */
  function analogForm() {
    const field = (name, label, max) => h('label', {}, `${label} `, h('input', { name, type: 'number', min: '0', max: String(max), required: true, class: `uc-${name}` }));
    const form = h(
      'form',
      { class: 'uc-analog' },
      field('systemType', t('uc_system_type'), 255),
      field('systemAddress', t('uc_system_address'), 255),
      field('zone', t('uc_zone'), 65535),
      field('position', t('uc_position'), 65535),
      h('button', { type: 'submit', class: 'btn uc-send', dataset: { command: 'read_analog' } }, t('uc_read_analog')),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = (n) => Number(form.querySelector(`input[name=${n}]`).value);
      void send('read_analog', form.querySelector('button'), { systemType: v('systemType'), systemAddress: v('systemAddress'), zone: v('zone'), position: v('position') });
    });
    return form;
  }

  const render = (items) =>
    replace(
      list,
      items.length === 0
        ? h('tr', {}, h('td', { colspan: '5', class: 'muted' }, t('uc_none')))
        : items.map((r) =>
            h(
              'tr',
              { dataset: { command: r.command, outcome: r.outcome } },
              h('td', {}, fmtDateTime(r.sentAt)),
              h('td', {}, t(`uc_${r.command}`)),
              h('td', { class: `uc-outcome ${r.outcome}` }, t(`uc_out_${r.outcome}`, r.attempts)),
              h('td', { class: 'uc-answer' }, answerText(r)),
              h('td', {}, r.by),
            ),
          ),
    );

  const load = async () => {
    try {
      render((await get(`/devices/${encodeURIComponent(deviceId)}/gb26875/commands`)).items);
    } catch {
      /* no gateway: the panel stays empty */
    }
  };

  async function send(command, button, target = {}) {
    const buttons = el.querySelectorAll('.uc-send');
    for (const b of buttons) b.disabled = true;
    replace(note, t('uc_waiting', t(`uc_${command}`)));
    try {
      await post(`/devices/${encodeURIComponent(deviceId)}/gb26875/commands`, { command, ...target });
      replace(note, '');
    } catch (err) {
      replace(note, `${t('error')}: ${err instanceof ApiError ? err.message : String(err)}`);
    } finally {
      for (const b of buttons) b.disabled = false;
      button?.focus?.();
      await load();
    }
  }

  void load();
  return el;
}
