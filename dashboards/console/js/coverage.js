/**
 * Coverage per street: which buildings the plan requires to be monitored have which sensor
 * kinds online, and what is missing. The CSV export is fetched with the token and saved.
 */
import { api, get, isMissingRoute } from './api.js';
import { h, replace } from './dom.js';
import { msg, name, STREETS, t } from './i18n.js';

const list = (v, group) => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? name(group, x) : msg(x) || x.code || JSON.stringify(x))).join('、') : v === null || v === undefined ? '' : String(v));

export function coverageView(ctx) {
  const street = h('select', { name: 'street', 'aria-label': t('street') }, h('option', { value: '' }, t('all_streets')), STREETS.map((s) => h('option', { value: s }, s)));
  const out = h('div', { class: 'coverage-result' }, h('p', { class: 'loading' }, t('loading')));
  const exportBtn = h('button', { type: 'button', class: 'btn export-csv' }, t('export_csv'));
  const qs = () => (street.value ? `?street=${encodeURIComponent(street.value)}` : '');

  exportBtn.addEventListener('click', async () => {
    try {
      const res = await api('GET', `/coverage.csv${qs()}`, undefined, { raw: true });
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: `coverage${street.value ? `-${street.value}` : ''}.csv`, class: 'offscreen' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      ctx.toast(`${t('error')}: ${err.message}`);
    }
  });

  const load = async () => {
    try {
      const r = await get(`/coverage${qs()}`);
      replace(
        out,
        r.summary ? h('p', { class: 'coverage-summary' }, `${t('summary')}: `, typeof r.summary === 'object' ? Object.entries(r.summary).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ') : String(r.summary)) : null,
        h(
          'table',
          { class: 'table coverage' },
          h('thead', {}, h('tr', {}, [t('street'), t('building'), t('use'), t('reasons'), t('required'), t('online'), t('missing')].map((c) => h('th', {}, c)))),
          h(
            'tbody',
            {},
            r.items.map((i) =>
              h(
                'tr',
                { class: Array.isArray(i.missing) && i.missing.length ? 'has-missing' : 'complete', dataset: { buildingId: i.buildingId } },
                h('td', {}, i.street),
                h('td', {}, h('a', { href: `#/building/${encodeURIComponent(i.buildingId)}` }, i.name)),
                h('td', {}, name('use', i.use)),
                h('td', {}, list(i.reasons, 'reason')),
                h('td', {}, list(i.required, 'kind')),
                h('td', {}, list(i.online, 'kind')),
                h('td', { class: 'missing' }, list(i.missing, 'kind')),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      replace(out, h('p', { class: 'muted' }, isMissingRoute(err) ? t('coverage_unavailable') : `${t('error')}: ${err.message}`));
    }
  };
  street.addEventListener('change', load);
  load();
  return { el: h('section', { class: 'coverage-page' }, h('h2', {}, t('coverage_title')), h('div', { class: 'toolbar' }, street, exportBtn), out), destroy() {} };
}
