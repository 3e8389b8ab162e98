/**
 * CSV import of buildings (admin): the district survey format. The file is read in the browser
 * and posted as JSON { csv }; the answer lists created, updated and every failed row with why.
 */
import { post } from './api.js';
import { h, replace } from './dom.js';
import { msg, t } from './i18n.js';

const errText = (e) => (typeof e === 'string' ? e : e?.zh || e?.en ? msg(e) : [e?.field ?? e?.column ?? e?.path, e?.message ?? e?.detail ?? e?.code].filter(Boolean).join(': ') || JSON.stringify(e));

export function importView() {
  const file = h('input', { type: 'file', name: 'csv', accept: '.csv,text/csv' });
  const out = h('div', { class: 'import-result', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, t('import_submit'));
  const form = h(
    'form',
    {
      class: 'panel import-form',
      onSubmit: async (ev) => {
        ev.preventDefault();
        const f = file.files?.[0];
        if (!f) return replace(out, h('p', { class: 'form-error' }, t('import_choose')));
        submit.disabled = true;
        replace(out, h('p', { class: 'loading' }, t('loading')));
        try {
          const r = await post('/import/buildings', { csv: await f.text() });
          const failed = r.failed ?? [];
          replace(
            out,
            h(
              'p',
              { class: 'import-summary' },
              h('span', { class: 'created' }, `${t('created')} ${r.created}`),
              ' · ',
              h('span', { class: 'updated' }, `${t('updated')} ${r.updated}`),
              ' · ',
              h('span', { class: ['failed', failed.length && 'bad'] }, `${t('failed')} ${failed.length}`),
            ),
            failed.length
              ? h(
                  'table',
                  { class: 'table import-errors' },
                  h('thead', {}, h('tr', {}, h('th', {}, t('row')), h('th', {}, t('errors')))),
                  h('tbody', {}, failed.map((x) => h('tr', { dataset: { row: String(x.row) } }, h('td', {}, String(x.row)), h('td', {}, h('ul', {}, (x.errors ?? []).map((e) => h('li', {}, errText(e)))))))),
                )
              : null,
          );
        } catch (err) {
          replace(out, h('p', { class: 'error' }, `${t('error')}: ${err.message}`));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('p', { class: 'muted' }, t('import_hint')),
    file,
    submit,
  );
  return { el: h('section', { class: 'import-page' }, h('h2', {}, t('import_title')), form, out), destroy() {} };
}
