/**
 * Platform uplink status (issue 6): "N 条数据尚未被市级平台接收" when GET /api/v1/uplink exists
 * and an adapter has a backlog; hidden when the endpoint is not there (404) or all is delivered.
 */
import { get, isMissingRoute } from './api.js';
import { h, replace } from './dom.js';
import { fmtDateTime, t } from './i18n.js';

export function uplinkPanel(ctx) {
  const el = h('aside', { class: 'uplink', hidden: true, role: 'status' });
  let timer = null;
  const poll = async () => {
    try {
      const r = await get('/uplink');
      const adapters = r?.adapters ?? [];
      const backlog = adapters.reduce((n, a) => n + (Number(a.backlog) || 0), 0);
      el.hidden = backlog <= 0;
      replace(
        el,
        h('strong', {}, '⚠ ', t('uplink_backlog', backlog)),
        h(
          'ul',
          {},
          adapters
            .filter((a) => a.backlog > 0 || a.lastError)
            .map((a) =>
              h(
                'li',
                {},
                `${a.name}: ${a.backlog}`,
                a.oldestAgeS ? ` · ${Math.round(a.oldestAgeS)} s` : '',
                a.deadLetters ? ` · dead letters ${a.deadLetters}` : '',
                a.lastError ? ` · ${t('uplink_error')}: ${a.lastError}` : '',
                a.lastSuccessAt ? ` · ✓ ${fmtDateTime(a.lastSuccessAt)}` : '',
              ),
            ),
        ),
      );
      timer = setTimeout(poll, 15_000);
    } catch (err) {
      el.hidden = true;
      // the endpoint is not deployed: stop asking; other errors: try again later
      if (!isMissingRoute(err) && err.status !== 404 && err.status !== 403) timer = setTimeout(poll, 30_000);
    }
  };
  poll();
  ctx.cleanups.push(() => clearTimeout(timer));
  return el;
}
