/**
 * 警情记录 in a real headless Chromium (playwright-core, the system's /usr/bin/chromium) against the
 * real service (issue #17 item 4): alarms raised over MQTT and closed with different outcomes through
 * the API; a duty officer of 解放碑 finds them on the records page by outcome, opens one, follows it to
 * its building, exports the filter as CSV; the board's 最近处置 links to the records and keeps real
 * closures when faults close themselves.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, SHOTS } from '../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { parseCsv } from '../../services/shared/csv.js';
import { ApiClient, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

// page.evaluate / waitForFunction callbacks run in the browser; this file compiles without the DOM lib
declare const window: any;
declare const document: any;

const DUTY = { username: 'li.duty', password: 'duty-password-123', displayName: '李值班' };
const FALSE_NOTE = '现场核实：探测器受潮误报';
const FORMULA_NOTE = '=1+2 已扑灭，消防站到场';

let svc: TestService;
let clock: ManualClock;
let browser: Browser;
let base: string;
let duty: ApiClient;
const clients: MqttClient[] = [];
const pageErrors: string[] = [];
const ids = { falseAlarm: '', realFire: '', test: '', otherStreet: '' };

async function device(spec: Record<string, unknown>, buildingId: string, rules: Record<string, unknown>) {
  const p = await provisionDevice(svc.api, { reportIntervalS: 3600, ...spec }, buildingId);
  expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules, reason: 'records browser test' })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return { ...p, send: (m: unknown) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m) };
}

async function raised(deviceId: string, rule: string): Promise<string> {
  const a = await waitFor(async () => ((await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}&rule=${rule}&status=active`)).body.items as any[])[0], `${rule} on ${deviceId}`);
  return a.id as string;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  clock = new ManualClock(); // 2026-11-29 00:00 UTC = 08:00 in Shanghai
  svc = await startService({}, undefined, { clock });
  base = svc.fw.httpUrl;
  const building = async (b: Record<string, unknown>) =>
    expect((await svc.api.post('/api/v1/buildings', { address: '民权路 28 号', type: 'public', heightM: 60, floors: 15, category: 1, use: 'complex', ...b })).status).toBe(201);
  await building({ id: 'tower-a', name: '重庆时代广场', street: '解放碑' });
  await building({ id: 'b-qxg', name: '七星岗某住宅', street: '七星岗', type: 'residential', use: 'residence' });
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty', streets: ['解放碑'] })).status).toBe(201);
  const login = await new ApiClient(base, undefined).post('/api/v1/auth/login', { username: DUTY.username, password: DUTY.password });
  duty = new ApiClient(base, login.body.token);

  const hydrant = await device({ kind: 'water_pressure', point: 'hydrant_top', location: 'T1 15F 屋顶消火栓' }, 'tower-a', { pressure_low: { forS: 0, clearS: 0 }, pressure_drop: { enabled: false } });
  const ef = await device({ kind: 'electrical_fire', location: 'B1 配电室' }, 'tower-a', { residual_current_high: { forS: 0 }, temperature_high: { forS: 0 } });
  const qef = await device({ kind: 'electrical_fire', location: '1 单元配电箱' }, 'b-qxg', { residual_current_high: { forS: 0 } });
  await hydrant.send({ pressureMpa: 0.05 });
  ids.falseAlarm = await raised(hydrant.deviceId, 'pressure_low');
  clock.advance(20_000);
  await ef.send({ residualCurrentMa: 650 });
  ids.realFire = await raised(ef.deviceId, 'residual_current_high');
  clock.advance(20_000);
  await ef.send({ temperaturesC: [85, 40, 41] });
  ids.test = await raised(ef.deviceId, 'temperature_high');
  await qef.send({ residualCurrentMa: 650 });
  ids.otherStreet = await raised(qef.deviceId, 'residual_current_high');
  // another street's false alarm, closed by an admin: never on 解放碑's records
  expect((await svc.api.post(`/api/v1/alerts/${ids.otherStreet}/close`, { outcome: 'false_alarm', note: '七星岗误报' })).status).toBe(200);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await browser?.close();
  await svc?.stop();
});

describe('a duty officer finds and exports the incident record', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    // the browser's zone is not Shanghai: the page must show Asia/Shanghai anyway
    context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN', timezoneId: 'Europe/Berlin', acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
    await page.goto(`${base}/`);
    await page.fill('.login-form input[name=username]', DUTY.username);
    await page.fill('.login-form input[name=password]', DUTY.password);
    await page.click('.login-submit');
    await page.locator('header.top .user').waitFor();
    await page.locator(`.lane-hazards article.alert[data-alert-id="${ids.test}"]`).waitFor();
  });
  afterAll(async () => context?.close());

  it('最近处置 lists the hazards a person closed, each a link to its record; faults that close themselves do not push them out', async () => {
    // three alarms closed with different outcomes through the API, by the duty officer
    expect((await duty.post(`/api/v1/alerts/${ids.falseAlarm}/close`, { outcome: 'false_alarm', note: FALSE_NOTE })).status).toBe(200);
    clock.advance(10_000);
    expect((await duty.post(`/api/v1/alerts/${ids.realFire}/ack`, {})).status).toBe(200);
    expect((await duty.post(`/api/v1/alerts/${ids.realFire}/close`, { outcome: 'real_fire', note: FORMULA_NOTE })).status).toBe(200);
    clock.advance(10_000);
    expect((await duty.post(`/api/v1/alerts/${ids.test}/close`, { outcome: 'test', note: '联动测试' })).status).toBe(200);
    const closed = page.locator('.lane-closed .closed-list li');
    await page.locator(`.lane-closed li[data-alert-id="${ids.test}"]`).waitFor();
    expect(await closed.evaluateAll((els) => els.map((e: any) => e.dataset.alertId))).toEqual([ids.test, ids.realFire, ids.falseAlarm]);

    // nine sensors go silent and come back: nine faults open and close themselves (closedBy system)
    const flaky = await Promise.all(Array.from({ length: 9 }, (_, i) => provisionDevice(svc.api, { id: `flaky-${i}`, kind: 'water_pressure', point: 'network', reportIntervalS: 10 }, 'tower-a')));
    clock.advance(31_000);
    await waitFor(async () => (await svc.api.get('/api/v1/alerts?rule=device_offline&status=active&limit=100')).body.items.length === 9, 'nine offline faults');
    for (const f of flaky) {
      const c = await connectDevice(svc.mqttUrl, f);
      clients.push(c);
      await publish(c, `fire/v1/${f.deviceId}/telemetry`, { pressureMpa: 0.3 });
    }
    await page.waitForFunction(() => window.__firewatch.store.closed.filter((a: any) => a.rule === 'device_offline').length >= 8);
    expect(await closed.evaluateAll((els) => els.map((e: any) => e.dataset.alertId))).toEqual([ids.test, ids.realFire, ids.falseAlarm]);
    expect(await page.locator('.lane-closed').textContent()).not.toContain('设备离线');
    const item = page.locator(`.lane-closed li[data-alert-id="${ids.falseAlarm}"]`);
    expect(await item.textContent()).toMatch(/水压过低.*重庆时代广场.*误报.*李值班/);
    expect(await item.locator('a.record-link').getAttribute('href')).toBe(`#/records/${ids.falseAlarm}`);
    // a new shift (a reload) sees them too: loaded from the record, not only from the live feed
    await page.reload();
    await page.locator(`.lane-closed li[data-alert-id="${ids.falseAlarm}"] a.record-link`).waitFor();
    expect(await closed.count()).toBe(3);
    await page.screenshot({ path: join(SHOTS, 'board-recently-closed.png'), fullPage: true });
    await item.locator('a.record-link').click();
    await page.locator(`.record-page article.record[data-alert-id="${ids.falseAlarm}"]`).waitFor();
    expect(await page.locator('.record-page .note').textContent()).toBe(FALSE_NOTE);
  });

  it('the 警情记录 page is in the navigation: hazards of its street only, newest first, in Shanghai time', async () => {
    await page.goto(`${base}/#/board`);
    await page.locator('nav a.nav-records').click();
    await page.locator('.records-page table.records tbody tr').first().waitFor();
    expect(await page.locator('nav a.nav-records').textContent()).toBe('警情记录');
    expect(await page.locator('nav a.nav-records').getAttribute('class')).toContain('active');
    const rows = page.locator('table.records tbody tr.record-row');
    expect(await rows.evaluateAll((els) => els.map((e: any) => e.dataset.alertId))).toEqual([ids.test, ids.realFire, ids.falseAlarm]);
    expect(await page.locator(`tr[data-alert-id="${ids.otherStreet}"]`).count()).toBe(0); // 七星岗 is not this officer's
    expect(await page.locator('tr[data-rule="device_offline"]').count()).toBe(0); // faults are apart
    const first = rows.filter({ has: page.locator(`a[href="#/records/${ids.falseAlarm}"]`) });
    expect(await first.locator('td.opened').textContent()).toBe('2026-11-29 08:00:00');
    expect(await first.textContent()).toContain('T1 15F 屋顶消火栓');
  });

  it('filters by outcome (误报), finds the closed alarm, and clicks through to the record and its building', async () => {
    await page.selectOption('.records-filter select[name=outcome]', 'false_alarm');
    await page.click('.records-search');
    await page.waitForFunction(() => document.querySelectorAll('table.records tbody tr').length === 1);
    const row = page.locator('table.records tbody tr.record-row');
    expect(await row.getAttribute('data-alert-id')).toBe(ids.falseAlarm);
    expect(await row.locator('td.outcome').textContent()).toBe('误报');
    expect(await row.locator('td.closed').textContent()).toContain('李值班'); // by display name (issue #17 item 5)
    expect(await row.locator('td.note').textContent()).toBe(FALSE_NOTE);
    expect(page.url()).toContain('outcome=false_alarm');
    await page.screenshot({ path: join(SHOTS, 'records.png'), fullPage: true });

    await row.locator('a.record-link').click();
    const record = page.locator(`.record-page article.record[data-alert-id="${ids.falseAlarm}"]`);
    await record.waitFor();
    expect(page.url()).toContain(`#/records/${ids.falseAlarm}`);
    expect(await record.locator('.outcome').textContent()).toBe('误报');
    expect(await record.locator('table.record-history tr[data-action="closed"]').textContent()).toContain('李值班');
    await record.locator('a.building-link').click();
    await page.locator('.building-page h2').waitFor();
    expect(page.url()).toContain('#/building/tower-a');
    // back twice: the list again, with the filter kept
    await page.goBack();
    await record.waitFor();
    await page.goBack();
    await page.waitForFunction(() => document.querySelectorAll('table.records tbody tr').length === 1);
    expect(await page.locator('.records-filter select[name=outcome]').inputValue()).toBe('false_alarm');
  });

  it('exports the current filter as CSV: UTF-8 with BOM, Chinese headers, Shanghai times, the one alarm', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.records-page .export-csv')]);
    expect(download.suggestedFilename()).toMatch(/^警情记录.*\.csv$/);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...data] = parseCsv(bytes.toString('utf8')).records.map((r) => r.fields);
    expect(header![0]).toMatch(/^开始时间/);
    expect(header!.map((h) => h.split(' ')[0])).toEqual(expect.arrayContaining(['街道', '楼宇', '位置', '规则', '处置人', '处置结果', '处置说明']));
    expect(data).toHaveLength(1);
    expect(data[0]![0]).toBe('2026-11-29 08:00:00');
    expect(data[0]).toEqual(expect.arrayContaining(['解放碑', '重庆时代广场', 'T1 15F 屋顶消火栓', '误报(false_alarm)', '李值班 (li.duty)', FALSE_NOTE, ids.falseAlarm]));

    // every outcome: the formula note is neutralised, another street's alarm is not there
    await page.click('.records-reset');
    await page.waitForFunction(() => document.querySelectorAll('table.records tbody tr').length === 3);
    const [all] = await Promise.all([page.waitForEvent('download'), page.click('.records-page .export-csv')]);
    const text = readFileSync((await all.path())!).toString('utf8');
    expect(text).toContain(`'${FORMULA_NOTE}`);
    expect(text).not.toContain(ids.otherStreet);
    expect(parseCsv(text).records).toHaveLength(4);
  });

  it('faults apart: the toggle lists the self-closed faults; person and date filters narrow', async () => {
    await page.click('.class-toggle .class-fault');
    await page.waitForFunction(() => document.querySelectorAll('table.records tbody tr[data-rule="device_offline"]').length === 9);
    expect(await page.locator('table.records tbody tr:not([data-rule="device_offline"])').count()).toBe(0);
    expect(await page.locator('table.records tbody tr td.closed').first().textContent()).toContain('系统');
    expect(page.url()).toContain('class=fault');
    await page.click('.class-toggle .class-hazard');
    await page.waitForFunction(() => document.querySelectorAll('table.records tbody tr').length === 3);
    await page.fill('.records-filter input[name=person]', 'someone.else');
    await page.click('.records-search');
    await page.locator('.records-empty').waitFor();
    await page.fill('.records-filter input[name=person]', 'li.duty');
    await page.fill('.records-filter input[name=from]', '2026-11-30');
    await page.click('.records-search');
    await page.locator('.records-empty').waitFor();
    await page.fill('.records-filter input[name=from]', '2026-11-29');
    await page.fill('.records-filter input[name=to]', '2026-11-29');
    await page.click('.records-search');
    await page.waitForFunction(() => document.querySelectorAll('table.records tbody tr').length === 3);
  });

  it('fits a phone-sized screen without sideways scrolling (the table scrolls in itself)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const view of ['records', `records/${ids.realFire}`]) {
      await page.goto(`${base}/#/${view}`);
      await page.locator('.records-page table.records tbody tr, .record-page article.record').first().waitFor();
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
      expect(scroll, view).toBeLessThanOrEqual(width);
    }
    await page.screenshot({ path: join(SHOTS, 'record-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1600, height: 1000 });
  });

  it('English when switched; no page threw an uncaught error', async () => {
    await page.click('.lang-toggle');
    await page.waitForFunction(() => document.querySelector('nav a.nav-records')?.textContent === 'Alert records');
    await page.goto(`${base}/#/records?outcome=false_alarm`);
    await page.waitForFunction(() => document.querySelectorAll('table.records tbody tr').length === 1);
    expect(await page.locator('.records-page h2').textContent()).toBe('Alert records');
    expect(await page.locator('table.records td.outcome').textContent()).toBe('False alarm');
    await page.click('.lang-toggle');
    await page.waitForFunction(() => document.querySelector('nav a.nav-records')?.textContent === '警情记录');
    expect(pageErrors).toEqual([]);
  });
});
