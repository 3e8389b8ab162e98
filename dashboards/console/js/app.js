/**
 * The duty console: login, the shell (navigation by role, language, large type, sound, the
 * live-feed banner) and a hash router over the pages. Plain ES modules, no build step.
 *
 * Roles (docs/api.md, "Users and roles"): duty — board and alert handling; operator — its buildings,
 * devices, maintenance, registration, no acknowledge/close; platform — everything read-only;
 * admin — everything, including the CSV import. The server enforces all of it; the console only
 * hides what a role may not do.
 */
import { Alarm } from './alarm.js';
import { ApiError, get, post, session } from './api.js';
import { boardView } from './board.js';
import { buildingView } from './building.js';
import { coverageView } from './coverage.js';
import { deviceView } from './device.js';
import { h, replace } from './dom.js';
import { Attention } from './duty.js';
import { DutyCheckBanner } from './duty-check.js';
import { fmtTime, lang, setLang, t } from './i18n.js';
import { importView } from './importer.js';
import { fitHeader, menuButton, setMenu } from './layout.js';
import { LiveFeed } from './live.js';
import { overviewView } from './overview.js';
import { recordsView, recordView } from './records.js';
import { registerView } from './register.js';
import { Store } from './store.js';

const root = document.getElementById('app');
const LARGE_KEY = 'fw.large';

const state = {
  me: null,
  store: null,
  feed: null,
  alarm: new Alarm(),
  view: null,
  viewCleanups: [],
  feedState: { state: 'connecting' },
  main: null,
  banner: null,
  header: null,
  clock: null,
  timers: [],
};

function applyPrefs() {
  setLang(lang());
  document.documentElement.classList.toggle('large', localStorage.getItem(LARGE_KEY) === '1');
  document.title = t('app_title');
}

function permissions(role) {
  return {
    handle: role === 'admin' || role === 'duty',
    write: role === 'admin' || role === 'operator',
    admin: role === 'admin',
    register: role === 'admin' || role === 'operator',
  };
}

function toast(text) {
  const el = h('div', { class: 'toast', role: 'alert' }, text);
  document.body.append(el);
  setTimeout(() => el.remove(), 6000);
}

// ── login ─────────────────────────────────────────────────────────────────────
function renderLogin(message = '') {
  applyPrefs();
  const err = h('p', { class: 'form-error', role: 'alert' }, message);
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const token = h('input', { name: 'token', type: 'password', autocomplete: 'off' });
  replace(
    root,
    h(
      'main',
      { class: 'login' },
      h('h1', {}, h('span', { class: 'logo', 'aria-hidden': 'true' }), t('app_title')),
      h('p', { class: 'muted' }, t('district')),
      langButton(() => renderLogin()),
      h(
        'form',
        {
          class: 'panel login-form',
          onSubmit: async (ev) => {
            ev.preventDefault();
            err.textContent = '';
            try {
              const r = await post('/auth/login', { username: username.value.trim(), password: password.value }, { token: '', noLogout: true });
              session.set(r.token);
              await start();
            } catch (e) {
              err.textContent = e instanceof ApiError && e.status === 429 ? t('too_many') : t('login_failed');
            }
          },
        },
        h('label', {}, t('username'), username),
        h('label', {}, t('password'), password),
        h('button', { type: 'submit', class: 'btn primary login-submit' }, t('login')),
      ),
      h(
        'form',
        {
          class: 'panel token-form',
          onSubmit: async (ev) => {
            ev.preventDefault();
            err.textContent = '';
            const tok = token.value.trim();
            try {
              await get('/auth/me', { token: tok, noLogout: true });
              session.set(tok);
              await start();
            } catch {
              err.textContent = t('token_failed');
            }
          },
        },
        h('label', {}, t('or_token'), token),
        h('button', { type: 'submit', class: 'btn token-submit' }, t('use_token')),
      ),
      err,
    ),
  );
  username.focus();
}

function langButton(after) {
  return h(
    'button',
    {
      type: 'button',
      class: 'btn lang-toggle',
      'aria-label': 'language',
      onClick: () => {
        setLang(lang() === 'en' ? 'zh' : 'en');
        after();
      },
    },
    lang() === 'en' ? '中文' : 'EN',
  );
}

// ── session ───────────────────────────────────────────────────────────────────
async function start() {
  let me;
  try {
    me = await get('/auth/me', { noLogout: true });
  } catch {
    session.clear();
    renderLogin();
    return;
  }
  stop();
  state.me = me;
  state.store = new Store();
  let loading = true;
  let buffered = [];
  const loadActive = async () => {
    try {
      const r = await get('/alerts?status=active&limit=1000');
      state.store.load(r.items);
      for (const e of buffered) state.store.onEvent(e);
      buffered = [];
      loading = false;
    } catch {
      state.timers.push(setTimeout(loadActive, 3000));
    }
  };
  state.feed = new LiveFeed({
    token: session.token,
    // the board is loaded after the first hello, so no event between the two is lost
    onHello: (_hello, first) => first && loadActive(),
    // an installer's test alert (commissioning, issue #17 item 6) is the device page's, never the board's
    onEvent: (e) => (e.data?.alert?.commissioning ? undefined : loading ? buffered.push(e) : state.store.onEvent(e)),
    onState: (s) => {
      state.feedState = s;
      // a role or scope change leaves the session valid: start over (start() checks /auth/me)
      if (s.state === 'unauthorized') return s.reason === 'role_changed' || s.reason === 'scope_changed' ? start() : logout(t('feed_unauthorized'));
      renderBanner();
      tickClock();
    },
  });
  // the alarm follows the alerts on every page, not only on the board
  state.store.subscribe(() => state.alarm.sync(state.store.list()));
  // so do the 待确认 / 逾期 badge, the tab title and the new-alarm toasts (issue #17 item 1)
  state.attention = new Attention({ store: state.store, feed: state.feed });
  // the monitoring centre's duty check (查岗), answered by the duty room (issue #14)
  state.dutyCheck = new DutyCheckBanner({ store: state.store, feed: state.feed, canAnswer: permissions(me.role).handle });
  window.__firewatch = { feed: state.feed, store: state.store, alarm: state.alarm, me };
  state.feed.start();
  renderShell();
  route();
}

function stop() {
  state.feed?.stop();
  state.attention?.stop();
  state.attention = null;
  state.dutyCheck?.stop();
  state.dutyCheck = null;
  for (const id of state.timers) clearTimeout(id);
  state.timers = [];
  destroyView();
}

async function logout(message = '') {
  const tok = session.token;
  stop();
  session.clear();
  if (tok) post('/auth/logout', {}, { token: tok, noLogout: true }).catch(() => undefined);
  renderLogin(message);
}

// ── shell ─────────────────────────────────────────────────────────────────────
function navItems() {
  const can = permissions(state.me.role);
  return [
    ['board', t('nav_board'), true],
    ['overview', t('nav_overview'), true],
    ['records', t('nav_records'), true],
    ['coverage', t('nav_coverage'), state.me.role !== 'operator'],
    ['register', t('nav_register'), can.register],
    ['import', t('nav_import'), can.admin],
  ].filter(([, , show]) => show);
}

function renderBanner() {
  if (!state.banner) return;
  const s = state.feedState;
  state.banner.hidden = s.state === 'up';
  state.banner.className = `feed-banner ${s.state}`;
  state.banner.dataset.state = s.state;
  replace(state.banner, s.state === 'down' ? `⚠ ${t('feed_down', s.retryInS ?? '—')}` : t('feed_connecting'));
  document.body.classList.toggle('feed-down', s.state === 'down');
}

function renderShell() {
  applyPrefs();
  const me = state.me;
  const soundBtn = h('button', { type: 'button', class: ['btn', 'sound-toggle', state.alarm.enabled ? 'on' : 'off'] }, state.alarm.enabled ? t('sound_on') : t('sound_enable'));
  soundBtn.addEventListener('click', async () => {
    await state.alarm.enable();
    renderShell();
    route();
  });
  state.clock = h('span', { class: 'clock', title: 'Asia/Shanghai' });
  state.header = h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '#/board', title: t('app_title') }, h('span', { class: 'logo', 'aria-hidden': 'true' }), h('span', { class: 'brand-name' }, t('app_title'))),
    h('nav', { id: 'main-nav' }, navItems().map(([k, label]) => h('a', { href: `#/${k}`, class: `nav-${k}`, dataset: { nav: k } }, label))),
    state.attention?.badge() ?? null,
    h('div', { class: 'spacer' }),
    state.clock,
    soundBtn,
    // language, 大字, the user and 退出: behind the 菜单 button on a narrow header (issue #17 item 8)
    h(
      'div',
      { class: 'tools', id: 'main-tools' },
      langButton(() => (renderShell(), route())),
      h(
        'button',
        {
          type: 'button',
          class: 'btn large-toggle',
          'aria-pressed': String(document.documentElement.classList.contains('large')),
          onClick: () => {
            localStorage.setItem(LARGE_KEY, localStorage.getItem(LARGE_KEY) === '1' ? '0' : '1');
            renderShell();
            route();
          },
        },
        'A+ ',
        t('large_type'),
      ),
      h('span', { class: 'user', dataset: { role: me.role } }, `${me.displayName || me.username} · ${t(`role_${me.role}`)}`),
      h('button', { type: 'button', class: 'btn logout', onClick: () => logout() }, t('logout')),
    ),
    menuButton(t('menu'), 'main-nav main-tools'),
  );
  state.banner = h('div', { class: 'feed-banner', role: 'status', hidden: true });
  state.main = h('main', { class: 'view' });
  replace(root, state.header, state.banner, ...(state.dutyCheck ? [state.dutyCheck.element()] : []), state.main);
  renderBanner();
  tickClock();
  fitHeader(state.header);
}

/** the server's time in Asia/Shanghai; blank until the first hello told the console what it is */
function tickClock() {
  if (state.clock && state.feed) state.clock.textContent = state.feed.synced ? fmtTime(new Date(state.feed.serverNow()).toISOString()) : '';
}

// ── router ────────────────────────────────────────────────────────────────────
function destroyView() {
  state.view?.destroy?.();
  for (const fn of state.viewCleanups.splice(0)) fn();
  state.view = null;
}

function route() {
  if (!state.me || !state.main) return;
  destroyView();
  const [path] = (location.hash.replace(/^#\/?/, '') || (state.me.role === 'operator' ? 'overview' : 'board')).split('?');
  const [page, ...rest] = path.split('/');
  const arg = decodeURIComponent(rest.join('/'));
  const ctx = { me: state.me, can: permissions(state.me.role), store: state.store, feed: state.feed, alarm: state.alarm, toast, cleanups: state.viewCleanups };
  const views = {
    board: () => boardView(ctx),
    overview: () => overviewView(ctx),
    records: () => (arg ? recordView(ctx, arg) : recordsView(ctx)),
    building: () => buildingView(ctx, arg),
    device: () => deviceView(ctx, arg),
    register: () => registerView(ctx),
    import: () => importView(ctx),
    coverage: () => coverageView(ctx),
  };
  state.view = (views[page] ?? views.board)();
  for (const a of state.header.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.nav === page);
  setMenu(state.header, false);
  document.body.dataset.page = views[page] ? page : 'board';
  replace(state.main, state.view.el);
}

window.addEventListener('hashchange', route);
window.addEventListener('fw:unauthorized', () => logout(t('feed_unauthorized')));
setInterval(tickClock, 1000);

applyPrefs();
if (session.token) start();
else renderLogin();
