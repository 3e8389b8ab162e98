/**
 * Phones and large type (issue #17 item 8), in a real headless Chromium (playwright-core, the system's
 * /usr/bin/chromium) against the real service, with a building as full as a real one: 12 devices of
 * every kind with half an hour of readings, 24 closed hazards and 3 open ones, the change audit of
 * every rule set, and nine more buildings in three streets for the coverage report.
 *
 * - coverage at 390×844: the page is no wider than the screen and no cell is squeezed to a character;
 * - the building page at 390×844 fits in a few screen heights (its sections are tabs, long lists
 *   show the first entries and 显示更多);
 * - chart labels render at ≥ 11 px at phone and desktop widths;
 * - large type (a 24 px root at 390 px, the console's A+ 大字 on a 1366 px laptop): the header keeps
 *   one or two clean rows, nothing in it overlaps, the 待确认/逾期 badge stays in view, and the
 *   navigation collapsed into 菜单 still works.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, SHOTS } from '../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { ADMIN_TOKEN, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

// page.evaluate / waitForFunction callbacks run in the browser; this file compiles without the DOM lib
declare const window: any;
declare const document: any;
declare const getComputedStyle: any;

const PHONE = { width: 390, height: 844 };
const BUILDING = 'tower-l';

let svc: TestService;
let clock: ManualClock;
let browser: Browser;
let base: string;
const clients: MqttClient[] = [];
const pageErrors: string[] = [];
/** what the checks measured, printed at the end (the numbers in the change's description) */
const measured: Record<string, unknown> = {};

async function device(id: string, spec: Record<string, unknown>, rules: Record<string, unknown>) {
  const p = await provisionDevice(svc.api, { id, reportIntervalS: 3600, ...spec }, BUILDING);
  expect((await svc.api.patch(`/api/v1/devices/${id}`, { rules, reason: `layout test: ${id}` })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  let seq = 0;
  return { id, send: (m: Record<string, unknown>) => publish(client, `fire/v1/${id}/telemetry`, { seq: ++seq, ...m }), history: (n: number, f: (i: number) => Record<string, unknown>) => {
    const now = clock.now();
    return publish(client, `fire/v1/${id}/telemetry`, Array.from({ length: n }, (_, i) => ({ ts: now - (n - i) * 60_000, seq: ++seq, ...f(i) })));
  } };
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
  base = svc.fw.httpUrl;
  const building = async (b: Record<string, unknown>) =>
    expect((await svc.api.post('/api/v1/buildings', { address: '朝天门广场 1 号', type: 'public', heightM: 250, floors: 60, category: 1, use: 'complex', areaM2: 1_120_000, ...b })).status).toBe(201);
  await building({ id: BUILDING, name: '重庆来福士', street: '朝天门', contactName: '陈经理', contactPhone: '023-6380 1234' });
  // nine more for the coverage report: complexes, markets and high-rises in three streets
  for (let i = 0; i < 3; i++) {
    await building({ id: `jfb-${i}`, name: `解放碑商业综合体${i + 1}号`, street: '解放碑', areaM2: 30_000 + i });
    await building({ id: `qxg-${i}`, name: `七星岗高层住宅${i + 1}栋`, street: '七星岗', type: 'residential', use: 'residence', heightM: 80, areaM2: 8000 });
    await building({ id: `nmj-${i}`, name: `南纪门建材市场${i + 1}`, street: '南纪门', use: 'market', heightM: 15, floors: 3, areaM2: 12_000 });
  }

  const hydrants = [];
  for (const [i, point] of (['hydrant_top', 'hydrant_outlet', 'sprinkler_end', 'pump_outlet'] as const).entries()) {
    hydrants.push(await device(`rf-wp-${i + 1}`, { kind: 'water_pressure', point, location: `T${i + 1} 屋顶消火栓` }, { pressure_low: { forS: 0, clearS: 0 }, pressure_drop: { enabled: false } }));
  }
  const levels = [await device('rf-wl-1', { kind: 'water_level', location: '屋顶消防水箱' }, { level_low: { enabled: true, threshold: 2.5 } }), await device('rf-wl-2', { kind: 'water_level', location: 'B3 消防水池' }, { level_low: { enabled: true, threshold: 2.5 } })];
  const efs = [];
  for (let i = 0; i < 4; i++) efs.push(await device(`rf-ef-${i + 1}`, { kind: 'electrical_fire', location: `B${i + 1} 配电室` }, { residual_current_high: { forS: 0 }, temperature_high: { forS: 0 } }));
  const lanes = [await device('rf-fl-1', { kind: 'fire_lane', location: '东侧消防车道' }, { lane_blocked: { forS: 600 } }), await device('rf-fl-2', { kind: 'fire_lane', location: '西侧消防车道' }, { lane_blocked: { forS: 600 } })];

  // half an hour of readings for the charts
  for (const [i, d] of hydrants.entries()) await d.history(30, (j) => ({ pressureMpa: 0.3 + 0.05 * Math.sin(j / 4 + i) }));
  for (const d of levels) await d.history(30, (j) => ({ levelM: 3.2 - j * 0.01 }));
  for (const d of efs) await d.history(30, (j) => ({ residualCurrentMa: 120 + (j % 7) * 10, temperaturesC: [38 + (j % 5), 36, 40 + (j % 3)] }));
  for (const d of lanes) await d.history(30, (j) => ({ occupied: j % 9 === 0 }));

  // 24 hazards raised and closed on the hydrants, 3 left open on the electrical-fire detectors
  for (let round = 0; round < 6; round++) {
    for (const d of hydrants) {
      await d.send({ pressureMpa: 0.05 + round * 0.001 });
      const a = await waitFor(async () => (await svc.api.get(`/api/v1/alerts?deviceId=${d.id}&rule=pressure_low&status=active`)).body.items[0], `pressure_low on ${d.id}`);
      clock.advance(30_000);
      await d.send({ pressureMpa: 0.32 });
      expect((await svc.api.post(`/api/v1/alerts/${a.id}/close`, { outcome: round % 2 ? 'false_alarm' : 'test', note: `第 ${round + 1} 轮联动测试，现场核查压力恢复正常` })).status).toBe(200);
      clock.advance(30_000);
    }
  }
  for (const d of efs.slice(0, 3)) await d.send({ residualCurrentMa: 420 + d.id.length });
  await waitFor(async () => (await svc.api.get(`/api/v1/alerts?buildingId=${BUILDING}&status=active`)).body.items.length >= 3, 'three open hazards');
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await browser?.close();
  await svc?.stop();
  console.log(`[console-layout] measured ${JSON.stringify(measured, null, 1)}`);
});

async function newPage(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
  // bypassCSP: only so that the test can inject the 24 px root font (the console's own CSP forbids inline styles)
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Europe/Berlin', bypassCSP: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  await page.goto(`${base}/`);
  await page.fill('.token-form input[name=token]', ADMIN_TOKEN);
  await page.click('.token-submit');
  await page.locator('header.top .user').waitFor({ state: 'attached' });
  return { context, page };
}

/** the rendered size of every chart label: its font size times the scale from SVG units to CSS pixels */
function chartLabelSizes(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('svg.chart text')]
      .filter((el: any) => el.getBoundingClientRect().width > 0)
      .map((el: any) => {
        const m = el.getScreenCTM();
        return Math.hypot(m.a, m.b) * parseFloat(getComputedStyle(el).fontSize);
      }),
  );
}

/** the boxes of the header's visible children and of the nav links, and whether any two of them overlap */
function headerBoxes(page: Page) {
  return page.evaluate(() => {
    const visible = (el: any) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const header = document.querySelector('header.top');
    const rect = (el: any) => {
      const r = el.getBoundingClientRect();
      return { l: r.left, t: r.top, r: r.right, b: r.bottom, what: el.className || el.tagName };
    };
    const groups = [
      [...header.querySelectorAll('nav a')].filter(visible).map(rect),
      [...header.querySelectorAll(':scope > *, :scope > .tools > *, :scope .menu-panel > *')].filter((el: any) => visible(el) && el.tagName !== 'NAV' && !el.classList.contains('tools') && !el.classList.contains('spacer') && !el.classList.contains('menu-panel')).map(rect),
    ];
    const overlaps: string[] = [];
    for (const boxes of groups)
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!;
          const b = boxes[j]!;
          if (Math.min(a.r, b.r) - Math.max(a.l, b.l) > 0.5 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 0.5) overlaps.push(`${a.what} × ${b.what}`);
        }
    const badge = header.querySelector('.attention');
    const br = badge?.getBoundingClientRect();
    const h = header.getBoundingClientRect();
    return {
      headerHeight: Math.round(h.height),
      fit: header.dataset.fit,
      rootFontPx: parseFloat(getComputedStyle(document.documentElement).fontSize),
      navVisible: groups[0]!.length,
      overlaps,
      badge: br ? { w: Math.round(br.width), h: Math.round(br.height), top: Math.round(br.top), right: Math.round(br.right), inView: br.width > 0 && br.top >= 0 && br.bottom <= window.innerHeight && br.left >= 0 && br.right <= window.innerWidth } : null,
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
}

/** click a control of the header, opening 菜单 first when the header has put it there */
async function inHeader(page: Page, selector: string) {
  const el = page.locator(`header.top ${selector}`);
  if (!(await el.isVisible())) await page.click('header.top .menu-toggle');
  await el.click();
}

describe('a phone-sized screen (390×844)', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => ({ context, page } = await newPage(PHONE)));
  afterAll(async () => context?.close());

  it('coverage fits the screen: no sideways page scroll, every cell at least three characters (48 px) wide', async () => {
    await page.goto(`${base}/#/coverage`);
    await page.locator('table.coverage tbody tr').first().waitFor();
    expect(await page.locator('table.coverage tbody tr').count()).toBe(10);
    const m = await page.evaluate(() => {
      // (a stacked table's header row is there for screen readers only, 1 px and clipped)
      const shown = (el: any) => el.getBoundingClientRect().width > 1 && (!el.closest('thead') || el.closest('thead').getBoundingClientRect().width > 1);
      const cells = [...document.querySelectorAll('.coverage-page td, .coverage-page th')].filter((td: any) => shown(td) && td.textContent.trim());
      // the width the cell's text may use: from where its text starts to the cell's inner right edge
      // (a stacked card's label, a ::before, is not part of the text)
      const widths = cells.map((td: any) => {
        const range = document.createRange();
        range.selectNodeContents(td);
        const rects = [...range.getClientRects()].filter((r: any) => r.width > 0);
        const cs = getComputedStyle(td);
        const right = td.getBoundingClientRect().right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth);
        const left = Math.min(...rects.map((r: any) => r.left));
        return { text: td.textContent.trim().slice(0, 12), w: Math.round(right - left), font: parseFloat(cs.fontSize) };
      });
      const narrow = widths.filter((c) => c.w < Math.max(48, 3 * c.font));
      return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, cells: widths.length, narrowest: Math.min(...widths.map((c) => c.w)), narrow: narrow.slice(0, 5) };
    });
    measured.coverage = m;
    await page.screenshot({ path: join(SHOTS, 'coverage-phone.png'), fullPage: true });
    expect(m.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    expect(m.narrow).toEqual([]);
  });

  it('the building page fits in a few screen heights: tabs, the first devices and 显示更多', async () => {
    await page.goto(`${base}/#/building/${BUILDING}`);
    await page.locator('.building-page h2').waitFor();
    await page.locator('.safety-code .code').waitFor();
    // everything has arrived: the charts and the audit (each shows 加载中… until then)
    await page.waitForFunction(() => !document.querySelector('.building-page .loading') && document.querySelectorAll('.building-page svg.chart, .building-page .chart-fit').length > 0);
    const height = await page.evaluate(() => document.body.scrollHeight);
    measured.buildingScrollHeight = height;
    await page.screenshot({ path: join(SHOTS, 'building-phone.png'), fullPage: true });
    // three screens of 844 px: the header, the building's code and details, the tab bar and a few devices
    expect(height).toBeLessThanOrEqual(3 * PHONE.height);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);

    // every section is one tap away, and none of them is endless either
    const tabs = page.locator('.building-tabs [role=tab]');
    const names = await tabs.evaluateAll((els) => els.map((e: any) => e.dataset.tab));
    expect(names).toEqual(['devices', 'charts', 'open', 'history', 'details', 'audit']);
    const heights: Record<string, number> = {};
    for (const name of names) {
      await page.click(`.building-tabs [data-tab="${name}"]`);
      const panel = page.locator(`.building-page [role=tabpanel][data-tab="${name}"]`);
      await panel.waitFor();
      expect(await page.locator('.building-page [role=tabpanel]:visible').count()).toBe(1);
      expect(await page.locator(`.building-tabs [data-tab="${name}"]`).getAttribute('aria-selected')).toBe('true');
      if (name === 'charts') await panel.locator('svg.chart').first().waitFor();
      await page.waitForTimeout(200);
      heights[name] = await page.evaluate(() => document.body.scrollHeight);
      expect(heights[name], name).toBeLessThanOrEqual(3 * PHONE.height);
    }
    measured.buildingTabHeights = heights;
    // the devices: all twelve in rows, with their state
    expect(await page.locator('[role=tabpanel][data-tab="devices"] .device-row').count()).toBe(12);
    // the open hazards are the three residual-current alarms; the history has all 27, as cards, 5 at a time on a phone
    expect(await page.locator('[role=tabpanel][data-tab="open"] tr[data-alert-id]').count()).toBe(3);
    await page.click('.building-tabs [data-tab="history"]');
    const rows = page.locator('[role=tabpanel][data-tab="history"] table.alert-history tbody tr');
    expect(await rows.count()).toBe(27);
    expect(await rows.filter({ visible: true }).count()).toBe(5);
    await page.click('[role=tabpanel][data-tab="history"] .show-more');
    expect(await rows.filter({ visible: true }).count()).toBe(10);
    expect(await page.locator('[role=tabpanel][data-tab="history"] .show-more').textContent()).toBe('显示更多（还有 17 条）');
    await page.screenshot({ path: join(SHOTS, 'building-history-phone.png'), fullPage: true });
    // the charts: four at first on a phone, then four more at a time, each device with its own
    await page.click('.building-tabs [data-tab="charts"]');
    const cards = page.locator('.device-card');
    expect(await cards.count()).toBe(12);
    expect(await cards.filter({ visible: true }).count()).toBe(4);
    await page.click('[role=tabpanel][data-tab="charts"] .show-more');
    await page.click('[role=tabpanel][data-tab="charts"] .show-more');
    expect(await cards.filter({ visible: true }).count()).toBe(12);
    expect(await page.locator('[role=tabpanel][data-tab="charts"] .show-more').count()).toBe(0);
    await page.locator('.device-card[data-device-id="rf-fl-2"] svg.chart').waitFor();
    // the chosen tab is in the address: a reload (or back) opens it again
    await page.click('.building-tabs [data-tab="audit"]');
    expect(page.url()).toContain('tab=audit');
    await page.reload();
    await page.locator('[role=tabpanel][data-tab="audit"] .audit-panel tr[data-action]').first().waitFor();
  });

  it('chart labels render at 11 px or more on the phone', async () => {
    await page.goto(`${base}/#/building/${BUILDING}?tab=charts`);
    await page.locator('.device-card svg.chart text').first().waitFor();
    const sizes = await chartLabelSizes(page);
    measured.chartLabelPxPhone = { min: Math.min(...sizes), max: Math.max(...sizes), n: sizes.length };
    await page.screenshot({ path: join(SHOTS, 'building-charts-phone.png'), fullPage: true });
    expect(sizes.length).toBeGreaterThan(10);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(11);
    // and on the device page
    await page.goto(`${base}/#/device/rf-ef-1`);
    await page.locator('.device-page svg.chart text').first().waitFor();
    const device = await chartLabelSizes(page);
    measured.chartLabelPxPhoneDevicePage = Math.min(...device);
    expect(Math.min(...device)).toBeGreaterThanOrEqual(11);
  });

  it('large type (a 24 px root, as the browser\'s text size would make it): the header stays tidy, the badge in view, the menu works', async () => {
    await page.goto(`${base}/#/board`);
    await page.locator('.lane-hazards article.alert').first().waitFor();
    await page.addStyleTag({ content: ':root, html, html.large { font-size: 24px !important; }' });
    await page.waitForTimeout(300);
    const m = await headerBoxes(page);
    measured.headerPhone24px = m;
    await page.screenshot({ path: join(SHOTS, 'header-phone-large.png') });
    expect(m.rootFontPx).toBe(24);
    expect(m.overlaps).toEqual([]);
    expect(m.badge?.inView).toBe(true);
    expect(await page.locator('header.top .attention .att-pending').textContent()).toMatch(/待确认 3/);
    // at most a quarter of the screen: two rows of 24 px controls and the padding (2 × 2.2 em + gaps ≈ 130 px)
    expect(m.headerHeight).toBeLessThanOrEqual(PHONE.height / 4);
    expect(m.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    // the navigation is in the menu: open it, nothing overlaps there, a link navigates and closes it
    await page.click('header.top .menu-toggle');
    const open = await headerBoxes(page);
    measured.headerPhone24pxMenuOpen = { navVisible: open.navVisible, overlaps: open.overlaps, headerHeight: open.headerHeight };
    expect(open.navVisible).toBe(6);
    expect(open.overlaps).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'header-phone-menu.png') });
    await page.click('header.top nav a.nav-coverage');
    await page.locator('table.coverage').waitFor();
    expect(await page.locator('header.top nav a.nav-coverage').isVisible()).toBe(false);
  });
});

describe('desktop widths', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => ({ context, page } = await newPage({ width: 1366, height: 768 })));
  afterAll(async () => context?.close());

  it('chart labels render at 11 px or more on a laptop and on a wall screen', async () => {
    for (const width of [1366, 1920]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${base}/#/building/${BUILDING}?tab=charts`);
      await page.locator('.device-card svg.chart text').first().waitFor();
      await page.waitForTimeout(300);
      const sizes = await chartLabelSizes(page);
      measured[`chartLabelPx${width}`] = { min: Math.min(...sizes), max: Math.max(...sizes), n: sizes.length };
      await page.screenshot({ path: join(SHOTS, `building-charts-${width}.png`) });
      expect(Math.min(...sizes), String(width)).toBeGreaterThanOrEqual(11);
    }
  });

  it('A+ 大字 on a 1366 px laptop and a 1024 px tablet: at most two clean rows, nothing overlaps, the badge stays', async () => {
    for (const width of [1366, 1024]) {
      await page.setViewportSize({ width, height: 768 });
      await page.goto(`${base}/#/board`);
      await page.locator('.lane-hazards article.alert').first().waitFor();
      const normal = await headerBoxes(page);
      measured[`header${width}`] = { headerHeight: normal.headerHeight, fit: normal.fit, overlaps: normal.overlaps };
      expect(normal.overlaps).toEqual([]);
      await inHeader(page, '.large-toggle');
      await page.waitForFunction(() => document.documentElement.classList.contains('large'));
      await page.waitForTimeout(300);
      const m = await headerBoxes(page);
      measured[`header${width}Large`] = m;
      await page.screenshot({ path: join(SHOTS, `header-${width}-large.png`) });
      expect(m.overlaps, String(width)).toEqual([]);
      expect(m.badge?.inView, String(width)).toBe(true);
      // two rows of 22 px controls (2.2 em ≈ 46 px each), the gap and the padding: 2 × 46 + 11 + 22 ≈ 125 px
      expect(m.headerHeight, String(width)).toBeLessThanOrEqual(130);
      expect(m.scrollWidth, String(width)).toBeLessThanOrEqual(width);
      // the toggle is still at hand to switch back (in 菜单 when the header is collapsed)
      await inHeader(page, '.large-toggle');
      await page.waitForFunction(() => !document.documentElement.classList.contains('large'));
    }
  });

  it('no page threw an uncaught error', () => {
    expect(pageErrors).toEqual([]);
  });
});
