/**
 * The duty console in a real headless Chromium (playwright-core, the system's /usr/bin/chromium;
 * no browser is ever downloaded) against the real service: real MQTT devices raise alerts, the
 * live feed carries them to the page, time moves only by the injected ManualClock.
 *
 * The browser's own clock is real while the service's is manual: the console computes its
 * countdowns on the server's time line (hello.serverTime and each live event's `at`).
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
declare const sessionStorage: any;
declare const localStorage: any;
type HTMLImageElement = any;

const DUTY = { username: 'li.duty', password: 'duty-password-123', displayName: '李值班' };
const OPERATOR = { username: 'wang.ops', password: 'operator-password-1', displayName: '王运营' };
const PHONE = '023-6310 0000';

let svc: TestService;
let clock: ManualClock;
let browser: Browser;
let base: string;
const clients: MqttClient[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
  base = svc.fw.httpUrl;
  const b = await svc.api.post('/api/v1/buildings', {
    id: 'tower-a', name: '重庆时代广场', street: '解放碑', address: '民权路 28 号', type: 'public', heightM: 60, floors: 15,
    category: 1, use: 'complex', areaM2: 120000, contactName: '王经理', contactPhone: PHONE,
  });
  expect(b.status).toBe(201);
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty', streets: ['解放碑'] })).status).toBe(201);
  expect((await svc.api.post('/api/v1/users', { ...OPERATOR, role: 'operator', buildingIds: ['tower-a'] })).status).toBe(201);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await browser?.close();
  await svc?.stop();
});

async function newPage(opts: { timezoneId?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  // the browser's zone is deliberately not Shanghai: the console must format in Asia/Shanghai anyway
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN', timezoneId: opts.timezoneId ?? 'Europe/Berlin' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  return { context, page };
}

async function login(page: Page, user: { username: string; password: string }) {
  await page.goto(`${base}/`);
  await page.fill('.login-form input[name=username]', user.username);
  await page.fill('.login-form input[name=password]', user.password);
  await page.click('.login-submit');
  await page.locator('header.top .user').waitFor();
}

async function loginWithToken(page: Page, token: string) {
  await page.goto(`${base}/`);
  await page.fill('.token-form input[name=token]', token);
  await page.click('.token-submit');
  await page.locator('header.top .user').waitFor();
}

async function pressureDevice(id: string) {
  const p = await provisionDevice(svc.api, { id, kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600, location: 'T1 15F 屋顶消火栓' }, 'tower-a');
  expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules: { pressure_low: { forS: 0, clearS: 0 }, pressure_drop: { enabled: false } }, reason: 'console test: no drop alerts' })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return { ...p, client, send: (m: unknown) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m) };
}

describe('the service serves the console without hiding the API', () => {
  it('/ is the console (with a CSP), assets under /console/, and /docs, /api, /healthz, /readyz, /metrics still answer', async () => {
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/text\/html/);
    expect(root.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await root.text()).toContain('/console/js/app.js');
    const js = await fetch(`${base}/console/js/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/console/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/docs/json`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/buildings`)).status).toBe(401);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('a duty shift in the browser', () => {
  let context: BrowserContext;
  let page: Page;
  let hydrant: Awaited<ReturnType<typeof pressureDevice>>;
  let alertId: string;

  beforeAll(async () => {
    ({ context, page } = await newPage());
    hydrant = await pressureDevice('tower-a-hydrant-top');
    // a recent history for the chart: one reading a minute over the last ten minutes
    const now = clock.now();
    await hydrant.send(Array.from({ length: 10 }, (_, i) => ({ ts: now - (10 - i) * 60_000, seq: i + 1, pressureMpa: 0.3 - i * 0.015 })));
  });
  afterAll(async () => context?.close());

  it('logs in with username and password; the duty role sees the board, not the import', async () => {
    await login(page, DUTY);
    await expect(page.locator('header.top .user').textContent()).resolves.toContain('值班人员');
    await page.locator('.lane-hazards').waitFor();
    expect(await page.locator('nav a.nav-import').count()).toBe(0);
    expect(await page.locator('nav a.nav-register').count()).toBe(0);
    expect(await page.locator('.lane-hazards .empty').textContent()).toContain('当前无火警隐患');
    // the token is kept for the tab only
    expect(await page.evaluate(() => sessionStorage.getItem('fw.token'))).toBeTruthy();
    expect(await page.evaluate(() => localStorage.getItem('fw.token'))).toBeNull();
  });

  it('a reading published over MQTT raises a hazard that appears on the board without a reload, with its countdown and the alarm', async () => {
    await hydrant.send({ seq: 11, pressureMpa: 0.05 });
    const card = page.locator('.lane-hazards article.alert[data-rule=pressure_low]');
    await card.waitFor();
    alertId = (await card.getAttribute('data-alert-id'))!;
    expect(alertId).toBeTruthy();
    expect(await page.locator('.lane-faults article.alert').count()).toBe(0);
    const text = await card.textContent();
    expect(text).toContain('水压过低');
    expect(text).toContain('重庆时代广场');
    expect(text).toContain('0.05');
    // a countdown to the 60 s acknowledge deadline on the server's clock, not yet overdue
    const ack = card.locator('.countdown.cd-ack');
    // 响应: the plan's word for the deadline, on the card as in the escalation (issue #17 item 5)
    await page.waitForFunction(() => /响应剩余 0:[0-5]\d/.test(document.querySelector('.cd-ack')?.textContent ?? ''));
    expect(await ack.getAttribute('class')).not.toContain('overdue');
    await expect(card.locator('.countdown.cd-close').textContent()).resolves.toMatch(/处置剩余 [23]:\d\d/);
    // sound needs a user gesture: the button enables it, the new hazard sounds, silence stops it
    expect(await page.locator('.sound-hint').textContent()).toContain('声音未开启');
    await page.click('.sound-toggle');
    await page.waitForFunction(() => (window as any).__firewatch.alarm.beeps > 0);
    expect(await page.evaluate(() => [...(window as any).__firewatch.alarm.sounding])).toEqual([alertId]);
    await card.locator('.silence-btn').click();
    expect(await page.evaluate(() => (window as any).__firewatch.alarm.sounding.size)).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'board.png'), fullPage: true });
  });

  it('61 s later the server escalates it: level-1 badge and the acknowledge countdown turns red (overdue)', async () => {
    clock.advance(61_000);
    const card = page.locator(`article.alert[data-alert-id="${alertId}"]`);
    await card.locator('.badge.escalation[data-level="1"]').waitFor();
    expect(await card.locator('.badge.escalation').textContent()).toContain('已升级 1 级');
    await page.waitForFunction(() => document.querySelector('.cd-ack')?.classList.contains('overdue'));
    expect(await card.locator('.cd-ack').textContent()).toMatch(/响应逾期/);
    // silenced at level 0, it sounds again at level 1
    expect(await page.evaluate(() => [...(window as any).__firewatch.alarm.sounding])).toEqual([alertId]);
    await page.screenshot({ path: join(SHOTS, 'board-escalated.png'), fullPage: true });
  });

  it('acknowledges in one click and closes with outcome and note in two; who did what is shown', async () => {
    const card = page.locator(`article.alert[data-alert-id="${alertId}"]`);
    await card.locator('.ack-btn').click();
    await card.locator('.badge.st-acknowledged').waitFor();
    // people by their display name (issue #17 item 5); the API keeps the username
    expect(await card.locator('.who').textContent()).toContain('李值班');
    expect(await card.locator('.ack-btn').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__firewatch.alarm.sounding.size)).toBe(0);
    expect((await svc.api.get(`/api/v1/alerts/${alertId}`)).body).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'li.duty' });

    await card.locator('.close-btn').click();
    await card.locator('.close-submit').click(); // without a note: refused in the page
    expect(await card.locator('.form-error').textContent()).toContain('请填写处置说明');
    await card.locator('select.outcome').selectOption('false_alarm');
    await card.locator('input.note').fill('现场核实：压力表校验，管网压力正常');
    await card.locator('.close-submit').click();
    await card.waitFor({ state: 'detached' });
    const closed = page.locator(`.lane-closed li[data-alert-id="${alertId}"]`);
    await closed.waitFor();
    expect(await closed.textContent()).toMatch(/误报.*李值班/);
    expect((await svc.api.get(`/api/v1/alerts/${alertId}`)).body).toMatchObject({
      status: 'closed', closedBy: 'li.duty', outcome: 'false_alarm', note: '现场核实：压力表校验，管网压力正常',
    });
  });

  it('misses nothing across a feed outage: shows the banner, reconnects by itself with ?since=<last seq>', async () => {
    const lastSeq = await page.evaluate(() => (window as any).__firewatch.feed.lastSeq as number);
    await page.evaluate(() => (window as any).__firewatch.feed.pause());
    await page.locator('.feed-banner.down').waitFor();
    expect(await page.locator('.feed-banner').textContent()).toContain('实时连接中断');
    // raised while the console is disconnected
    const ef = await provisionDevice(svc.api, { id: 'tower-a-ef-b1', kind: 'electrical_fire', reportIntervalS: 3600, location: 'B1 配电室' }, 'tower-a');
    const c = await connectDevice(svc.mqttUrl, ef);
    clients.push(c);
    await publish(c, `fire/v1/${ef.deviceId}/telemetry`, { residualCurrentMa: 420, temperaturesC: [41.5, 39, 44.2] });
    await waitFor(async () => (await svc.api.get(`/api/v1/alerts?deviceId=${ef.deviceId}`)).body.items.length === 1, 'residual current alert');
    expect(await page.locator('article.alert[data-rule=residual_current_high]').count()).toBe(0);

    await page.evaluate(() => (window as any).__firewatch.feed.resume());
    await page.locator('.lane-hazards article.alert[data-rule=residual_current_high]').waitFor();
    await page.locator('.feed-banner').waitFor({ state: 'hidden' });
    const urls = await page.evaluate(() => (window as any).__firewatch.feed.urls as string[]);
    expect(urls.at(-1)).toContain(`since=${lastSeq}`);
    expect(urls[0]).not.toContain('since=');

    // an unplanned drop: the client comes back by itself (backoff), again with since
    const before = urls.length;
    await page.evaluate(() => (window as any).__firewatch.feed.drop());
    await page.waitForFunction((n) => (window as any).__firewatch.feed.urls.length > n && (window as any).__firewatch.feed.ws?.readyState === 1, before);
    const seqNow = await page.evaluate(() => (window as any).__firewatch.feed.lastSeq as number);
    expect((await page.evaluate(() => (window as any).__firewatch.feed.urls.at(-1))) as string).toContain(`since=${seqNow}`);

    // and a reload of the tab keeps the session and rebuilds the board from the API
    await page.reload();
    await page.locator('.lane-hazards article.alert[data-rule=residual_current_high]').waitFor();
  });

  it('district overview: the 11 streets, the building with its counts, drilling down to the building', async () => {
    await page.click('nav a.nav-overview');
    await page.locator('.street-card').first().waitFor();
    expect(await page.locator('.street-card').count()).toBe(11);
    const street = page.locator('.street-card[data-street="解放碑"]');
    await street.locator('li[data-building-id="tower-a"]').waitFor();
    expect(await street.getAttribute('class')).toContain('state-red');
    const active = (await svc.api.get('/api/v1/alerts?status=active&buildingId=tower-a')).body.items as any[];
    const hazards = active.filter((a) => a.class === 'hazard' && !a.maintenance).length;
    expect(hazards).toBeGreaterThan(0);
    expect(await street.locator('.pill-hazard').textContent()).toBe(`火警隐患 ${hazards}`);
    expect(await street.locator('li[data-building-id="tower-a"] .n-hazard').textContent()).toBe(`▲${hazards}`);
    await street.locator('li[data-building-id="tower-a"] a').click();
    await page.locator('.building-page h2').waitFor();
    expect(page.url()).toContain('#/building/tower-a');
  });

  it('building page: details and contacts, devices, a readings chart with the alert threshold, alert history', async () => {
    await page.goto(`${base}/#/building/tower-a`);
    // the page is in tabs (issue #17 item 8): the devices' rows first, their charts one tab on
    await page.locator('.device-row[data-device-id="tower-a-hydrant-top"]').waitFor();
    await page.click('.building-tabs [data-tab="charts"]');
    const card = page.locator('.device-card[data-device-id="tower-a-hydrant-top"]');
    await card.locator('svg.chart polyline').waitFor();
    const points = await card.locator('svg.chart polyline').first().getAttribute('points');
    expect(points!.trim().split(/\s+/).length).toBeGreaterThanOrEqual(11);
    expect(await card.locator('svg.chart .threshold').first().getAttribute('data-value')).toBe('0.1');
    expect(await card.locator('svg.chart .threshold-line').count()).toBeGreaterThanOrEqual(1);
    // the electrical-fire detector: residual current and temperatures, each with its setpoint
    const ef = page.locator('.device-card[data-device-id="tower-a-ef-b1"] svg.chart');
    await ef.first().waitFor();
    expect(await ef.count()).toBe(2);
    const details = await page.locator('dl.details').textContent();
    expect(details).toContain(PHONE);
    expect(details).toContain('王经理');
    const history = page.locator('table.alert-history');
    expect(await history.textContent()).toContain('李值班');
    // the change audit (issue #12 item 9): the admin switched pressure_drop off with a reason
    await page.click('.building-tabs [data-tab="audit"]');
    const audit = page.locator('.audit-panel tr[data-action="device.rules_loosened"]').first();
    await audit.waitFor();
    expect(await audit.textContent()).toContain('console test: no drop alerts');
    expect(await audit.textContent()).toContain('水压骤降 · 启用：是 → 否');
    await page.screenshot({ path: join(SHOTS, 'building.png'), fullPage: true });
  });

  it('device page for installers: status, counts, raw readings and the rules', async () => {
    await page.goto(`${base}/#/device/tower-a-hydrant-top`);
    await page.locator('.device-status .accepted').waitFor();
    expect(Number(await page.locator('.device-status .accepted').textContent())).toBe(11);
    expect(await page.locator('table.readings').first().textContent()).toContain('pressureMpa=0.05');
    expect(await page.locator('table.rules').textContent()).toContain('GB 50974');
    // a duty officer does not rotate credentials or set maintenance
    expect(await page.locator('.rotate-btn').count()).toBe(0);
    expect(await page.locator('.maint-form').count()).toBe(0);
  });

  it('switches to English and keeps the choice; times stay in Asia/Shanghai', async () => {
    await page.goto(`${base}/#/board`);
    await page.click('.lang-toggle');
    await page.waitForFunction(() => document.querySelector('nav a.nav-board')?.textContent === 'Alert board');
    await page.reload();
    await page.locator('nav a.nav-board').waitFor();
    expect(await page.locator('nav a.nav-board').textContent()).toBe('Alert board');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.locator('article.alert[data-rule=residual_current_high]').waitFor();
    // the manual clock is 2026-11-29 00:0x UTC = 08:0x in Shanghai, whatever the browser's zone (Berlin here)
    expect(await page.locator('article.alert[data-rule=residual_current_high] .opened').textContent()).toMatch(/2026-11-29 08:0\d:\d\d/);
    await page.click('.lang-toggle');
    await page.waitForFunction(() => document.querySelector('nav a.nav-board')?.textContent === '告警看板');
  });
  it('large type for a wall screen, and a phone-sized screen without sideways scrolling', async () => {
    await page.goto(`${base}/#/board`);
    await page.locator('article.alert').first().waitFor();
    await page.click('.large-toggle');
    await page.waitForFunction(() => document.documentElement.classList.contains('large'));
    expect(await page.evaluate(() => localStorage.getItem('fw.large'))).toBe('1');
    await page.screenshot({ path: join(SHOTS, 'board-large-type.png') });
    await page.click('.large-toggle');
    await page.setViewportSize({ width: 390, height: 844 });
    for (const view of ['board', 'overview', 'building/tower-a']) {
      await page.goto(`${base}/#/${view}`);
      await page.locator('main.view > section').waitFor();
      await page.waitForTimeout(300);
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
      expect(scroll, view).toBeLessThanOrEqual(width);
    }
    await page.goto(`${base}/#/board`);
    await page.locator('article.alert').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'board-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1600, height: 1000 });
  });
});

describe('an operator installs and commissions a sensor', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => ({ context, page } = await newPage({ timezoneId: 'America/New_York' })));
  afterAll(async () => context?.close());

  it('sees its buildings and alerts but no acknowledge or close buttons', async () => {
    await login(page, OPERATOR);
    expect(await page.locator('header.top .user').textContent()).toContain('楼宇运营方');
    await page.goto(`${base}/#/board`);
    await page.locator('article.alert[data-rule=residual_current_high]').waitFor();
    expect(await page.locator('.ack-btn, .close-btn').count()).toBe(0);
    expect(await page.locator('nav a.nav-import').count()).toBe(0);
    // the audit history is the duty room's and the admins': no panel for an operator
    await page.goto(`${base}/#/building/tower-a`);
    await page.click('.building-tabs [data-tab="history"]');
    await page.locator('table.alert-history, .building-page .empty').first().waitFor();
    expect(await page.locator('.audit-panel').count()).toBe(0);
  });

  it('registers a device, sees its credentials once with mosquitto_pub examples, and the commissioning check follows live', async () => {
    await page.click('nav a.nav-register');
    await page.locator('.register-form select[name=buildingId] option[value="tower-a"]').waitFor({ state: 'attached' });
    await page.selectOption('.register-form select[name=kind]', 'water_pressure');
    await page.selectOption('.register-form select[name=point]', 'hydrant_top');
    await page.fill('.register-form input[name=id]', 'comm-hydrant-1');
    await page.fill('.register-form input[name=location]', 'T1 15F');
    await page.click('.register-form button[type=submit]');
    const secret = page.locator('.credentials-once .secret-value');
    await secret.nth(1).waitFor();
    const username = await secret.nth(0).textContent();
    const password = (await secret.nth(1).textContent())!;
    expect(username).toBe('comm-hydrant-1');
    expect(password.length).toBeGreaterThan(10);
    const example = (await page.locator('.credentials-once .code-block pre').first().textContent())!;
    expect(example).toContain('mosquitto_pub');
    expect(example).toContain('-t fire/v1/comm-hydrant-1/telemetry');
    expect(example).toContain(`-p ${svc.fw.mqttPorts.mqtt}`);
    expect(example).toContain('pressureMpa');
    expect(example).toContain(password);
    await page.locator('.commissioning .first-message.waiting').waitFor();

    // the installer's first try sends bar instead of MPa: rejected, and the page says what to fix
    const client = await connectDevice(svc.mqttUrl, { deviceId: 'comm-hydrant-1', password });
    clients.push(client);
    await publish(client, 'fire/v1/comm-hydrant-1/telemetry', { pressureMpa: 32 });
    await page.locator('.commissioning .rejected-reason[data-reason="out_of_range"]').waitFor();
    expect(await page.locator('.commissioning .fix').first().textContent()).toContain('检查单位');
    // a plausible reading: first message arrived, values plausible
    await publish(client, 'fire/v1/comm-hydrant-1/telemetry', { pressureMpa: 0.32 });
    await page.locator('.commissioning .first-message:not(.waiting)').waitFor();
    await page.locator('.commissioning .plausible').waitFor();
    // a value within the sensor's 0–2.5 MPa span but not plausible at a top-floor hydrant
    await publish(client, 'fire/v1/comm-hydrant-1/telemetry', { pressureMpa: 1.9 });
    await page.locator('.commissioning .implausible').waitFor();
    await page.screenshot({ path: join(SHOTS, 'commissioning.png'), fullPage: true });
  });

  it('device page: maintenance on with an expiry and off, and credentials rotation shown once', async () => {
    await page.goto(`${base}/#/device/comm-hydrant-1`);
    await page.locator('.maint-form').waitFor();
    await page.fill('.maint-form input[name=reason]', '更换压力变送器');
    await page.click('.maint-form button[type=submit]');
    await page.locator('.maint-state.on').waitFor();
    const w = (await svc.api.get('/api/v1/devices/comm-hydrant-1/maintenance')).body;
    expect(w).toMatchObject({ reason: '更换压力变送器', by: 'wang.ops' });
    // the default expiry is two hours ahead on the server's clock, entered as Shanghai wall time
    expect(Math.abs(Date.parse(w.until) - (clock.now() + 2 * 3600_000))).toBeLessThan(5 * 60_000);
    await page.click('.maint-off');
    await page.locator('.maint-state.off').waitFor();
    expect((await svc.api.get('/api/v1/devices/comm-hydrant-1/maintenance')).body).toBeNull();

    await page.click('.rotate-btn');
    await page.click('.rotate-confirm');
    const pw = (await page.locator('.credentials-panel .secret-value').textContent())!;
    expect(pw.length).toBeGreaterThan(10);
    await connectDevice(svc.mqttUrl, { deviceId: 'comm-hydrant-1', password: pw }).then((c) => clients.push(c));
  });
});

// These pages build on the safety-code, import and coverage endpoints (issue 5, built alongside).
describe('safety code, CSV import and coverage', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    ({ context, page } = await newPage());
    await loginWithToken(page, ADMIN_TOKEN);
  });
  afterAll(async () => context?.close());

  it('the building page shows the safety code with its QR; the public page shows the status and nothing private', async () => {
    const code = await svc.api.get('/api/v1/buildings/tower-a/safety-code');
    expect(code.status).toBe(200);
    expect(code.body.status).toBe('red'); // the residual-current hazard is still open
    await page.goto(`${base}/#/building/tower-a`);
    await page.locator('.safety-code .code[data-status="red"]').waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector('.safety-code img.qr') as HTMLImageElement | null;
      return !!img && img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0;
    });
    const href = (await page.locator('.safety-code a.public-link').getAttribute('href'))!;

    const pub = await newPage();
    try {
      await pub.page.goto(new URL(href, base).toString());
      await pub.page.waitForLoadState('load');
      const text = (await pub.page.locator('body').textContent())!;
      expect(text).toContain('重庆时代广场');
      expect(text).not.toContain(PHONE);
      expect(text).not.toMatch(/\d{3}-\d{4}\s?\d{4}/);
      expect(text).not.toContain('王经理');
      const html = await pub.page.content();
      expect(html).not.toContain('tower-a-ef-b1'); // no device ids or credentials
      await pub.page.screenshot({ path: join(SHOTS, 'public-safety-code.png'), fullPage: true });
    } finally {
      await pub.context.close();
    }
  });

  it('CSV import (admin) reports created rows and the bad rows with why', async () => {
    const csv = [
      '序号,商市场名称,地址,联系人,电话,面积,该市场所在建筑名称,该市场所在建筑的总层数,是否设置火灾自动报警系统,是否设置火灾自动喷水灭火系统,是否设置室内消火栓系统,是否设置防烟排烟系统,排查发现的消防安全隐患,所属街道,备注',
      '1,十八梯综合大楼,十八梯步行街1号,陈经理,023-6380 0001,"1,788",十八梯综合大楼,29,是,是,是,是,疏散通道堆放杂物,南纪门街道,',
      '2,不存在的市场,某路1号,李,023-0000 0000,800,某楼,3,是,否,是,否,,火星街道,',
      '3,解放碑地下人防工程,民权路地下通道,王工,023-6380 0003,530㎡,解放碑地下人防工程,1,是,是,是,是,,解放碑街道,',
    ].join('\n');
    await page.click('nav a.nav-import');
    await page.locator('.import-form input[type=file]').setInputFiles({ name: 'survey.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await page.click('.import-form button[type=submit]');
    await page.locator('.import-summary').waitFor();
    expect(await page.locator('.import-summary .created').textContent()).toContain('2');
    expect(await page.locator('.import-summary .failed').textContent()).toContain('1');
    const bad = page.locator('table.import-errors tbody tr');
    expect(await bad.count()).toBe(1);
    expect(await bad.first().getAttribute('data-row')).toBe('3'); // the line of the file
    expect((await bad.first().textContent())!.length).toBeGreaterThan(3);
  });

  it('coverage page: the table per street and a CSV export', async () => {
    await page.click('nav a.nav-coverage');
    await page.locator('table.coverage tbody tr').first().waitFor();
    expect(await page.locator('table.coverage tr[data-building-id="tower-a"]').count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.export-csv')]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
  });

  it('the city platform (API token pasted at login) reads everything and can change nothing', async () => {
    const tok = await svc.api.post('/api/v1/tokens', { name: 'city-platform', role: 'platform' });
    expect(tok.status).toBe(201);
    const p = await newPage();
    try {
      await loginWithToken(p.page, tok.body.token);
      expect(await p.page.locator('header.top .user').textContent()).toContain('市级平台');
      await p.page.locator('article.alert[data-rule=residual_current_high]').waitFor();
      expect(await p.page.locator('.ack-btn, .close-btn').count()).toBe(0);
      expect(await p.page.locator('nav a.nav-register, nav a.nav-import').count()).toBe(0);
      await p.page.goto(`${base}/#/device/tower-a-ef-b1`);
      await p.page.locator('.device-status .accepted').waitFor();
      expect(await p.page.locator('.rotate-btn, .maint-form').count()).toBe(0);
    } finally {
      await p.context.close();
    }
  });

  it('no page threw an uncaught error', () => {
    expect(pageErrors).toEqual([]);
  });
});
