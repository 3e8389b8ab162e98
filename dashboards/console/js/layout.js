/**
 * Phones and large type (issue #17 item 8): the header that fits its width and font size, tabs,
 * "显示更多" for long lists, and tables that stack into cards on a narrow screen. Layout only: the
 * words come from the callers.
 */
import { h } from './dom.js';

const ro = (fn) => (typeof window.ResizeObserver === 'function' ? new window.ResizeObserver(fn) : null);
const px = (v) => parseFloat(v) || 0;

// ── the header ────────────────────────────────────────────────────────────────
/**
 * The header shows everything on one row when it fits; otherwise the navigation gets a row of its
 * own ('hdr-split'); when even that does not fit (a phone, large type on a laptop) the navigation and
 * the tools (language, 大字, the user, 退出) go behind the 菜单 button ('hdr-menu') while the brand, the
 * 待确认/逾期 badge, the clock and the sound toggle stay in the bar. Measured on the natural widths, so
 * it follows the language, the role's navigation, the browser's text size and the console's 大字.
 */
let observer = null;
let fitQueued = false;
let onWinResize = null;

function fitNow(header) {
  fitQueued = false;
  if (!header.isConnected) return;
  const nav = header.querySelector(':scope > nav');
  // measured without the current mode's classes (put back at once: nothing is painted in between)
  header.classList.remove('hdr-split', 'hdr-menu');
  header.classList.add('hdr-measure');
  const cs = window.getComputedStyle(header);
  const avail = header.clientWidth - px(cs.paddingLeft) - px(cs.paddingRight);
  const gap = px(cs.columnGap);
  const sum = (els) => {
    const ws = els.map((el) => el.getBoundingClientRect().width).filter((w) => w > 0);
    return ws.reduce((a, b) => a + b, 0) + gap * Math.max(0, ws.length - 1);
  };
  const items = [...header.children].filter((el) => !el.classList.contains('spacer') && !el.classList.contains('menu-toggle'));
  const all = sum(items);
  const row = sum(items.filter((el) => el !== nav));
  const navW = nav ? nav.getBoundingClientRect().width : 0;
  header.classList.remove('hdr-measure');
  const slack = 2; // rounding of sub-pixel widths
  const mode = all + slack <= avail ? 'one' : row + slack <= avail && navW + slack <= avail ? 'split' : 'menu';
  header.classList.toggle('hdr-split', mode === 'split');
  header.classList.toggle('hdr-menu', mode === 'menu');
  if (header.dataset.fit !== mode) {
    header.dataset.fit = mode;
    if (mode !== 'menu') setMenu(header, false);
  }
  // the new-alarm toasts sit below the header, whatever its height
  document.documentElement.style.setProperty('--header-h', `${Math.ceil(header.getBoundingClientRect().height)}px`);
}

function queueFit(header) {
  if (fitQueued) return;
  fitQueued = true;
  window.requestAnimationFrame(() => fitNow(header));
}

export function setMenu(header, open) {
  header.classList.toggle('menu-open', open);
  header.querySelector('.menu-toggle')?.setAttribute('aria-expanded', String(open));
}

/** Fit the header now and whenever its width, the font size or an item's width (the clock arriving) changes. */
export function fitHeader(header) {
  observer?.disconnect();
  if (onWinResize) window.removeEventListener('resize', onWinResize);
  onWinResize = () => queueFit(header);
  window.addEventListener('resize', onWinResize);
  // resize observations are handled in the next frame: fitting never changes a size inside the callback
  observer = ro(() => queueFit(header));
  if (observer) for (const el of [header, ...header.querySelectorAll(':scope > *, :scope > .tools > *, .logo')]) observer.observe(el);
  fitNow(header);
}

/** The 菜单 button: opens and closes the navigation and tools on a narrow header; Escape or a click elsewhere closes. */
export function menuButton(label, controls) {
  const btn = h('button', { type: 'button', class: 'btn menu-toggle', 'aria-expanded': 'false', 'aria-controls': controls }, h('span', { 'aria-hidden': 'true' }, '☰ '), label);
  btn.addEventListener('click', () => {
    const header = btn.closest('header');
    setMenu(header, !header.classList.contains('menu-open'));
  });
  return btn;
}

document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape') return;
  const header = document.querySelector('header.top.menu-open');
  if (header) {
    setMenu(header, false);
    header.querySelector('.menu-toggle')?.focus();
  }
});
document.addEventListener('click', (ev) => {
  const header = document.querySelector('header.top.menu-open');
  // a click elsewhere, or on a link in the menu (also the page already shown: no hashchange then)
  if (header && (!header.contains(ev.target) || ev.target.closest?.('nav a'))) setMenu(header, false);
});

// ── tabs ──────────────────────────────────────────────────────────────────────
/**
 * tabs([{ key, label, panel }], { selected, onSelect }) → { bar, panels }: a tablist of buttons and
 * one panel shown at a time (the others hidden, still in the page). Arrow keys move between tabs.
 */
export function tabs(items, { selected, onSelect, label = '', class: cls = '' } = {}) {
  const initial = items.some((i) => i.key === selected) ? selected : items[0]?.key;
  const buttons = [];
  const panels = items.map((item) =>
    h('div', { class: ['tab-panel', `tab-${item.key}`], role: 'tabpanel', id: `tabpanel-${item.key}`, 'aria-labelledby': `tab-${item.key}`, dataset: { tab: item.key }, hidden: item.key !== initial }, item.panel),
  );
  const select = (key, focus = false) => {
    items.forEach((item, i) => {
      const on = item.key === key;
      buttons[i].setAttribute('aria-selected', String(on));
      buttons[i].tabIndex = on ? 0 : -1;
      panels[i].hidden = !on;
      if (on && focus) buttons[i].focus();
    });
    onSelect?.(key);
  };
  items.forEach((item, i) => {
    const btn = h(
      'button',
      { type: 'button', class: 'tab', role: 'tab', id: `tab-${item.key}`, 'aria-controls': `tabpanel-${item.key}`, 'aria-selected': String(item.key === initial), tabindex: item.key === initial ? '0' : '-1', dataset: { tab: item.key } },
      item.label,
    );
    btn.addEventListener('click', () => select(item.key));
    btn.addEventListener('keydown', (ev) => {
      const d = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
      if (!d) return;
      ev.preventDefault();
      select(items[(i + d + items.length) % items.length].key, true);
    });
    buttons.push(btn);
  });
  return { bar: h('div', { class: ['tab-bar', cls], role: 'tablist', 'aria-label': label }, buttons), panels };
}

// ── 显示更多 ──────────────────────────────────────────────────────────────────
/**
 * Show the first `first` children of `list` (a tbody, a grid of cards…) and a button that shows
 * `step` more at a time; returns the button (null when everything is shown), to be placed after it.
 * label(n) is the button's text for n entries still hidden.
 */
export function showMore(list, { first, step = first, label }) {
  const items = [...list.children];
  if (items.length <= first) return null;
  items.forEach((el, i) => (el.hidden = i >= first));
  let shown = first;
  const btn = h('button', { type: 'button', class: 'btn show-more' }, label(items.length - shown));
  btn.addEventListener('click', () => {
    shown = Math.min(items.length, shown + step);
    items.forEach((el, i) => (el.hidden = i >= shown));
    if (shown >= items.length) btn.remove();
    else btn.textContent = label(items.length - shown);
  });
  return btn;
}

// ── tables that stack into cards ──────────────────────────────────────────────
/**
 * Gives each cell the words of its column (data-label) and the table the class 'stack': under the
 * phone breakpoint console.css turns every row into a card of label / value lines.
 */
export function stackTable(table) {
  if (table?.tagName !== 'TABLE') return table;
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  for (const tr of table.querySelectorAll('tbody tr')) [...tr.children].forEach((td, i) => heads[i] && (td.dataset.label = heads[i]));
  table.classList.add('stack');
  return table;
}
