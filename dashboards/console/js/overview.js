/**
 * District overview: the 11 streets of Yuzhong, each with its buildings' states at a glance
 * (open hazards, faults, offline devices) and a link to every building.
 */
import { getAll } from './api.js';
import { h, replace } from './dom.js';
import { name, STREETS, t } from './i18n.js';

/** green / yellow / red at a glance from what the console knows (the safety code itself weighs more: services/safety-code/safety-code.ts) */
export function buildingState(c) {
  if (c.hazards > 0) return 'red';
  if (c.faults > 0 || c.offline > 0 || c.maintenance > 0) return 'yellow';
  return 'green';
}

export function countsFor(buildings, devices, alerts, online) {
  const by = new Map(buildings.map((b) => [b.id, { hazards: 0, faults: 0, offline: 0, maintenance: 0, devices: 0 }]));
  for (const d of devices) {
    const c = by.get(d.buildingId);
    if (!c) continue;
    c.devices++;
    const isOnline = online.has(d.id) ? online.get(d.id) : d.status?.online;
    if (!isOnline) c.offline++;
  }
  for (const a of alerts) {
    const c = by.get(a.buildingId);
    if (!c) continue;
    if (a.maintenance) c.maintenance++;
    else if (a.class === 'hazard') c.hazards++;
    else c.faults++;
  }
  return by;
}

export function overviewView(ctx) {
  const root = h('section', { class: 'overview' }, h('p', { class: 'loading' }, t('loading')));
  let buildings = [];
  let devices = [];
  let timer = null;

  const render = () => {
    const counts = countsFor(buildings, devices, ctx.store.list(), ctx.store.online);
    replace(
      root,
      h('h2', {}, t('nav_overview')),
      h(
        'div',
        { class: 'streets' },
        STREETS.map((street) => {
          const bs = buildings.filter((b) => b.street === street);
          const sum = { hazards: 0, faults: 0, offline: 0 };
          for (const b of bs) {
            const c = counts.get(b.id);
            sum.hazards += c.hazards;
            sum.faults += c.faults;
            sum.offline += c.offline;
          }
          const state = buildingState({ ...sum, maintenance: 0 });
          return h(
            'article',
            { class: ['street-card', `state-${bs.length ? state : 'none'}`], dataset: { street } },
            h('h3', {}, street, h('span', { class: 'muted' }, ` ${t('buildings_n', bs.length)}`)),
            h(
              'div',
              { class: 'street-counts' },
              h('span', { class: ['pill', 'pill-hazard', sum.hazards && 'on'] }, `${t('open_hazards')} ${sum.hazards}`),
              h('span', { class: ['pill', 'pill-fault', sum.faults && 'on'] }, `${t('faults')} ${sum.faults}`),
              h('span', { class: ['pill', 'pill-offline', sum.offline && 'on'] }, `${t('offline')} ${sum.offline}`),
            ),
            bs.length
              ? h(
                  'ul',
                  { class: 'building-list' },
                  bs.map((b) => {
                    const c = counts.get(b.id);
                    const st = buildingState(c);
                    return h(
                      'li',
                      { class: `state-${st}`, dataset: { buildingId: b.id } },
                      h('span', { class: ['dot', `dot-${st}`], 'aria-hidden': 'true' }),
                      h('a', { href: `#/building/${encodeURIComponent(b.id)}` }, b.name),
                      h('span', { class: 'muted' }, ` ${name('use', b.use)}`),
                      h(
                        'span',
                        { class: 'mini-counts' },
                        c.hazards ? h('span', { class: 'n-hazard', title: t('open_hazards') }, `▲${c.hazards}`) : null,
                        c.faults ? h('span', { class: 'n-fault', title: t('faults') }, `◆${c.faults}`) : null,
                        c.offline ? h('span', { class: 'n-offline', title: t('offline') }, `⨯${c.offline}`) : null,
                        h('span', { class: 'muted', title: t('devices') }, ` ${c.devices - c.offline}/${c.devices}`),
                      ),
                    );
                  }),
                )
              : h('p', { class: 'empty' }, t('no_buildings')),
          );
        }),
      ),
    );
  };

  const load = async () => {
    try {
      [buildings, devices] = await Promise.all([getAll('/buildings'), getAll('/devices')]);
      render();
    } catch (err) {
      replace(root, h('p', { class: 'error' }, `${t('error')}: ${err.message}`));
    }
  };
  // live alert events re-render at once; device lists are re-read now and then for new devices
  const unsub = ctx.store.subscribe(() => buildings.length && render());
  const poll = setInterval(load, 60_000);
  load();
  return {
    el: root,
    destroy() {
      unsub();
      clearInterval(poll);
      clearTimeout(timer);
    },
  };
}
