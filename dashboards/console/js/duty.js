/**
 * What calls the duty officer's attention on every page (issue #17 item 1): a badge in the
 * navigation with the hazards 待确认 (not acknowledged) and 逾期 (past the "1分钟响应、3分钟处置"
 * deadlines, on the server's clock), the tab title "(3) 待确认 · Firewatch" while any hazard waits,
 * and a toast for each new alarm that arrives over the live feed — clicking it opens the board at
 * the card. Counts come from the store; nothing here asks the API.
 */
import { h } from './dom.js';
import { name, t } from './i18n.js';

const TOAST_MS = 20_000;

export class Attention {
  constructor({ store, feed }) {
    this.store = store;
    this.feed = feed;
    this.el = null;
    this.toasts = h('div', { class: 'alarm-toasts', 'aria-live': 'assertive' });
    this.unsub = store.subscribe((e) => this.onEvent(e));
    this.timer = setInterval(() => this.update(), 1000);
  }

  stop() {
    this.unsub();
    clearInterval(this.timer);
    this.toasts.remove();
    if (document.title !== t('app_title')) document.title = t('app_title');
  }

  /** the navigation badge; the shell is rebuilt on language changes, so this makes a new one each time */
  badge() {
    this.el = h('a', { class: 'attention', href: '#/board', title: t('att_hint') }, h('span', { class: 'att-pending' }), h('span', { class: 'att-overdue' }));
    this.update();
    return this.el;
  }

  update() {
    const { pending, overdue } = this.store.attention(this.feed.serverNow());
    if (this.el) {
      const [p, o] = this.el.children;
      p.textContent = t('att_pending', pending);
      p.classList.toggle('on', pending > 0);
      p.dataset.n = String(pending);
      o.textContent = t('att_overdue', overdue);
      o.classList.toggle('on', overdue > 0);
      o.dataset.n = String(overdue);
    }
    const title = pending > 0 ? t('title_pending', pending) : t('app_title');
    if (document.title !== title) document.title = title;
    // a toast whose alarm was acknowledged (here or in another duty room) has done its work
    for (const el of [...this.toasts.children]) if (!this.store.fresh.has(el.dataset.alertId)) el.remove();
  }

  onEvent(e) {
    const id = e?.type === 'alert.raised' ? e.data?.alert?.id : undefined;
    if (id && this.store.fresh.has(id)) this.toast(this.store.alerts.get(id));
    this.update();
  }

  toast(a) {
    if (!this.toasts.isConnected) document.body.append(this.toasts);
    const where = [a.buildingName ?? a.buildingId ?? '', a.location].filter(Boolean).join(' ');
    const el = h(
      'div',
      { class: 'toast alarm-toast', role: 'alert', dataset: { alertId: a.id } },
      h('button', { type: 'button', class: 'toast-open', onClick: () => (el.remove(), openCard(a.id)) }, t('new_alarm', where, name('rule', a.rule))),
      h('button', { type: 'button', class: 'toast-dismiss', 'aria-label': t('dismiss'), onClick: () => el.remove() }, '×'),
    );
    this.toasts.prepend(el);
    setTimeout(() => el.remove(), TOAST_MS);
  }
}

/** Go to the board and bring the alert's card into view (the router renders on hashchange). */
export function openCard(id) {
  if (document.body.dataset.page !== 'board') location.hash = '#/board';
  let tries = 0;
  const find = () => {
    const card = [...document.querySelectorAll('article.alert')].find((el) => el.dataset.alertId === id);
    if (!card) {
      if (++tries < 40) setTimeout(find, 50);
      return;
    }
    card.scrollIntoView({ block: 'center' });
    card.focus({ preventScroll: true });
    card.classList.remove('flash');
    void card.offsetWidth; // restart the animation
    card.classList.add('flash');
  };
  setTimeout(find, 0);
}
