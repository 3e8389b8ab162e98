/**
 * The monitoring centre's duty check (查岗, issue #14) on every page: a banner with the time left and
 * an 应答 button, as on a UITD's own panel. Answering sends the centre the operation record with the
 * duty-check-answered bit (POST /uplink/duty-checks/{id}/answer); a check nobody answers in time is
 * recorded as missed by the server, and the banner says so. Only the duty room (duty, admin) sees it.
 */
import { ApiError, get, post } from './api.js';
import { h, replace } from './dom.js';
import { fmtTime, t } from './i18n.js';

const NOTICE_MS = 15_000;

export class DutyCheckBanner {
  constructor({ store, feed, canAnswer }) {
    this.feed = feed;
    this.canAnswer = canAnswer;
    /** pending checks by id */
    this.pending = new Map();
    this.notice = null;
    this.busy = false;
    this.el = h('div', { class: 'duty-check', role: 'alert', hidden: true });
    this.unsub = store.subscribe((e) => this.onEvent(e));
    this.timer = setInterval(() => this.render(), 1000);
    if (canAnswer) void this.load();
  }

  stop() {
    this.unsub();
    clearInterval(this.timer);
  }

  /** the shell is rebuilt on language changes: the same element is put back each time */
  element() {
    this.render();
    return this.el;
  }

  async load() {
    try {
      const r = await get('/uplink/duty-checks?status=pending');
      for (const c of r.items) this.pending.set(c.id, c);
      this.render();
    } catch {
      /* no GB/T 26875.3 uplink, or the API is down: the feed brings the next check */
    }
  }

  onEvent(e) {
    if (!this.canAnswer || typeof e?.type !== 'string' || !e.type.startsWith('duty_check.')) return;
    const c = e.data?.check;
    if (!c) return;
    if (e.type === 'duty_check.requested') this.pending.set(c.id, c);
    else {
      this.pending.delete(c.id);
      this.notice = { check: c, until: Date.now() + NOTICE_MS };
    }
    this.render();
  }

  async answer(c) {
    if (this.busy) return;
    this.busy = true;
    this.render();
    try {
      const done = await post(`/uplink/duty-checks/${encodeURIComponent(c.id)}/answer`, {});
      this.pending.delete(c.id);
      this.notice = { check: done, until: Date.now() + NOTICE_MS };
    } catch (err) {
      // missed or answered elsewhere: the feed event tells which; anything else may be tried again
      this.notice = { error: err instanceof ApiError ? err.message : String(err), until: Date.now() + NOTICE_MS };
      if (err instanceof ApiError && err.status === 409) this.pending.delete(c.id);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  render() {
    const c = [...this.pending.values()].sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt))[0];
    if (this.notice && this.notice.until < Date.now()) this.notice = null;
    if (!c && !this.notice) {
      this.el.hidden = true;
      this.el.dataset.state = 'none';
      return;
    }
    this.el.hidden = false;
    if (c) {
      const left = Math.max(0, Math.round((Date.parse(c.deadline) - this.feed.serverNow()) / 1000));
      const mmss = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
      this.el.className = 'duty-check pending';
      this.el.dataset.state = 'pending';
      this.el.dataset.checkId = c.id;
      replace(
        this.el,
        h('span', { class: 'dc-text' }, t('dc_pending', fmtTime(c.receivedAt))),
        h('span', { class: 'dc-left', dataset: { left: String(left) } }, left > 0 ? t('dc_left', mmss) : t('dc_overdue')),
        h('button', { type: 'button', class: 'btn dc-answer', disabled: this.busy, onClick: () => this.answer(c) }, t('dc_answer')),
      );
      return;
    }
    const n = this.notice;
    const state = n.error ? 'error' : n.check.status;
    this.el.className = `duty-check ${state}`;
    this.el.dataset.state = state;
    replace(
      this.el,
      h(
        'span',
        { class: 'dc-text' },
        n.error ? t('dc_error', n.error) : n.check.status === 'answered' ? t('dc_answered', n.check.answeredBy ?? '', fmtTime(n.check.answeredAt)) : t('dc_missed', fmtTime(n.check.deadline)),
      ),
    );
  }
}
