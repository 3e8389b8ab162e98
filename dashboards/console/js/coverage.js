/**
 * Coverage per street: which buildings the plan requires to be monitored have which sensor
 * kinds online, and what is missing. The CSV export is fetched with the token and saved.
 */
import { api, get, isMissingRoute } from './api.js';
import { h, replace } from './dom.js';
import { msg, name, STREETS, t } from './i18n.js';
import { stackTable } from './layout.js';

const list = (v, group) => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? name(group, x) : msg(x) || x.code || JSON.stringify(x))).join(t('enum_sep')) : v === null || v === undefined ? '' : String(v));

/**
 * The per-street summary as people read it (issue #17 item 5): a sentence with the totals, and a
 * table — buildings to monitor, fully / partly / not covered, and how many miss each kind.
 */
function summaryView(summary) {
  if (!Array.isArray(summary) || !summary.length) return null;
  const sum = (k) => summary.reduce((n, s) => n + (s[k] ?? 0), 0);
  const missing = (byKind) => {
    const parts = Object.entries(byKind ?? {})
      .filter(([, n]) => n > 0)
      .map(([k, n]) => t('cv_kind_count', name('kind', k), n));
    return parts.length ? parts.join(t('enum_sep')) : t('cv_none');
  };
  const row = (s, cls) =>
    h(
      'tr',
      { class: cls, dataset: s.street ? { street: s.street } : {} },
      h('td', {}, s.street ?? t('cv_total')),
      ...['buildings', 'covered', 'partial', 'uncovered'].map((k) => h('td', { class: `n-${k}` }, String(s[k] ?? 0))),
      h('td', { class: 'missing' }, missing(s.missingByKind)),
    );
  const byKind = {};
  for (const s of summary) for (const [k, n] of Object.entries(s.missingByKind ?? {})) byKind[k] = (byKind[k] ?? 0) + n;
  return h(
    'div',
    { class: 'coverage-summary' },
    h('h3', {}, t('summary')),
    h('p', { class: 'summary-line' }, t('cv_summary_line', sum('buildings'), sum('covered'), sum('partial'), sum('uncovered'))),
    h(
      'table',
      { class: 'table coverage-summary-table' },
      h('thead', {}, h('tr', {}, [t('street'), t('cv_buildings'), t('cv_covered'), t('cv_partial'), t('cv_uncovered'), t('cv_missing_by_kind')].map((c) => h('th', {}, c)))),
      h('tbody', {}, summary.map((s) => row(s)), summary.length > 1 ? row({ buildings: sum('buildings'), covered: sum('covered'), partial: sum('partial'), uncovered: sum('uncovered'), missingByKind: byKind }, 'total') : null),
    ),
  );
}

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
        summaryView(r.summary),
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
                h('td', { class: 'reasons' }, list(i.reasons, 'coverage_reason')),
                h('td', {}, list(i.required, 'kind')),
                h('td', {}, list(i.online, 'kind')),
                h('td', { class: 'missing' }, list(i.missing, 'kind')),
              ),
            ),
          ),
        ),
      );
      // on a phone each row is a card of label / value lines (issue #17 item 8)
      for (const table of out.querySelectorAll('table')) stackTable(table);
    } catch (err) {
      replace(out, h('p', { class: 'muted' }, isMissingRoute(err) ? t('coverage_unavailable') : `${t('error')}: ${err.message}`));
    }
  };
  street.addEventListener('change', load);
  load();
  return { el: h('section', { class: 'coverage-page' }, h('h2', {}, t('coverage_title')), h('div', { class: 'toolbar' }, street, exportBtn), out), destroy() {} };
}
