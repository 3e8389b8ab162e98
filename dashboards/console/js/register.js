/**
 * Register a device: the form, the credentials shown once with copyable mosquitto_pub examples
 * for its kind, and the live commissioning check.
 */
import { api, getAll, post } from './api.js';
import { commissioningPanel } from './commissioning.js';
import { copyText, h, replace } from './dom.js';
import { secretBox } from './device.js';
import { name, t } from './i18n.js';

const KINDS = ['water_pressure', 'water_level', 'electrical_fire', 'fire_lane'];
const POINTS = ['hydrant_top', 'hydrant_outlet', 'sprinkler_end', 'pump_outlet', 'network'];

/** sample payloads per kind, as in docs/mqtt-contract.md */
export function examplePayloads(kind) {
  switch (kind) {
    case 'water_pressure':
      return [{ seq: 1, pressureMpa: 0.32 }];
    case 'water_level':
      return [{ seq: 1, levelM: 3.2 }];
    case 'electrical_fire':
      return [{ seq: 1, residualCurrentMa: 180, temperaturesC: [41.5, 39.0, 44.2] }];
    case 'fire_lane':
      return [{ seq: 1, occupied: false }];
    default:
      return [];
  }
}

export function mosquittoExamples({ host, port, id, password, kind }) {
  const base = `mosquitto_pub -h ${host} -p ${port} -V mqttv311 -q 1 -u ${id} -P '${password}'`;
  const lines = examplePayloads(kind).map((p) => `${base} \\\n  -t fire/v1/${id}/telemetry -m '${JSON.stringify(p)}'`);
  lines.push(`${base} \\\n  -t fire/v1/${id}/event -m '${JSON.stringify({ fault: false })}'`);
  return lines;
}

function codeBlock(text) {
  const btn = h('button', { type: 'button', class: 'btn copy-btn' }, t('copy'));
  btn.addEventListener('click', async () => {
    if (await copyText(text)) btn.textContent = t('copied');
  });
  return h('div', { class: 'code-block' }, h('pre', {}, h('code', {}, text)), btn);
}

async function mqttPort() {
  try {
    const r = await api('GET', '/readyz', undefined, { absolute: true, noLogout: true });
    return r?.checks?.broker?.ports?.mqtt ?? 1883;
  } catch (err) {
    return err.body?.checks?.broker?.ports?.mqtt ?? 1883;
  }
}

export function registerView(ctx) {
  const root = h('section', { class: 'register-page' }, h('h2', {}, t('register_title')));
  const result = h('div', { class: 'register-result' });
  const building = h('select', { name: 'buildingId', required: true }, h('option', { value: '' }, t('loading')));
  const kind = h('select', { name: 'kind', required: true }, KINDS.map((k) => h('option', { value: k }, name('kind', k))));
  const point = h('select', { name: 'point' }, POINTS.map((p) => h('option', { value: p }, name('point', p))));
  const pointLabel = h('label', {}, `${t('point')} `, point);
  const id = h('input', { name: 'id', type: 'text', pattern: '[A-Za-z0-9_.\\-]{2,64}', placeholder: 'lfs-hydrant-top-t1' });
  const locationInput = h('input', { name: 'location', type: 'text', maxlength: '200' });
  const interval = h('input', { name: 'reportIntervalS', type: 'number', min: '1', max: '86400', value: '60' });
  const vendor = h('input', { name: 'vendor', type: 'text', maxlength: '100' });
  const model = h('input', { name: 'model', type: 'text', maxlength: '100' });
  const err = h('p', { class: 'form-error', role: 'alert' });
  kind.addEventListener('change', () => (pointLabel.hidden = kind.value !== 'water_pressure'));

  const preset = new URLSearchParams(window.location.hash.split('?')[1] ?? '').get('buildingId');
  getAll('/buildings').then((bs) => {
    replace(building, bs.map((b) => h('option', { value: b.id, selected: b.id === preset }, `${b.name} (${b.street})`)));
  });

  const form = h(
    'form',
    {
      class: 'register-form panel',
      onSubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = '';
        const body = {
          buildingId: building.value,
          kind: kind.value,
          ...(kind.value === 'water_pressure' ? { point: point.value } : {}),
          ...(id.value.trim() ? { id: id.value.trim() } : {}),
          ...(locationInput.value.trim() ? { location: locationInput.value.trim() } : {}),
          reportIntervalS: Number(interval.value) || 60,
          ...(vendor.value.trim() ? { vendor: vendor.value.trim() } : {}),
          ...(model.value.trim() ? { model: model.value.trim() } : {}),
        };
        try {
          const d = await post('/devices', body);
          form.hidden = true;
          const port = await mqttPort();
          const host = window.location.hostname;
          replace(
            result,
            h(
              'section',
              { class: 'panel credentials-once' },
              h('p', { class: 'warn' }, '⚠ ', t('credentials_once')),
              secretBox(t('username'), d.credentials.username),
              secretBox(t('password'), d.credentials.password),
              h('p', { class: 'mono' }, d.mqtt.telemetryTopic),
              h('h3', {}, t('examples')),
              h('p', { class: 'muted' }, t('mqtt_port_note', port)),
              mosquittoExamples({ host, port, id: d.id, password: d.credentials.password, kind: d.kind }).map(codeBlock),
              h('p', {}, h('a', { href: `#/device/${encodeURIComponent(d.id)}`, class: 'open-device' }, t('open_device'), ' →')),
            ),
            commissioningPanel(ctx, d.id),
          );
        } catch (e) {
          err.textContent = `${t('error')}: ${e.message}${e.body?.errors ? ` ${e.body.errors.map((x) => `${x.path} ${x.message}`).join('; ')}` : ''}`;
        }
      },
    },
    h('label', {}, `${t('building')} `, building),
    h('label', {}, `${t('kind')} `, kind),
    pointLabel,
    h('label', {}, `${t('device_id')} `, id),
    h('label', {}, `${t('location')} `, locationInput),
    h('label', {}, `${t('report_interval')} `, interval),
    h('label', {}, `${t('vendor')} `, vendor),
    h('label', {}, `${t('model')} `, model),
    h('button', { type: 'submit', class: 'btn primary' }, t('register_submit')),
    err,
  );
  root.append(form, result);
  return { el: root, destroy() {} };
}
