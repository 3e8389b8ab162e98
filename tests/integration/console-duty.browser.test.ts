/**
 * Issue #17 items 1–3 in a real headless Chromium, as a duty officer (值班人员) works a shift:
 * several alarms come in over MQTT, some are acknowledged, then a new one arrives — it must be on
 * top of every acknowledged card, counted in the navigation (待确认 / 逾期) on every page, in the
 * tab title and announced by a toast; each card says where (楼层/位置), whom to call (tel:) and
 * what was measured in its unit; closing starts without an outcome and offers note templates.
 *
 * Modelled on console.browser.test.ts: the real service, a ManualClock for the server (the browser's
 * own clock is real; the console computes on the server's time line), playwright-core driving
 * /usr/bin/chromium.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { launchChromium, openDutyPage, SHOTS } from '../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

// page.evaluate / waitForFunction callbacks run in the browser; this file compiles without the DOM lib
declare const document: any;

const DUTY = { username: 'zhao.duty', password: 'duty-password-456', displayName: '赵值班' };
const BUILDING = '来福士广场';
const PHONE = '023-6371 1119';
const APP_TITLE = 'Firewatch 值班控制台';

let svc: TestService;
let clock: ManualClock;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;
const clients: MqttClient[] = [];
const pageErrors: string[] = [];

interface Dev {
  deviceId: string;
  send(m: unknown): Promise<void>;
  event(m: unknown): Promise<void>;
}

async function device(id: string, spec: Record<string, unknown>, rules?: Record<string, unknown>): Promise<Dev> {
  const p = await provisionDevice(svc.api, { id, reportIntervalS: 3600, ...spec }, 'raffles');
  if (rules) expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules, reason: 'duty console test' })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return {
    deviceId: p.deviceId,
    send: (m) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m),
    event: (m) => publish(client, `fire/v1/${p.deviceId}/event`, m),
  };
}

const alertOf = async (deviceId: string, rule: string) =>
  waitFor(async () => ((await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}&rule=${rule}`)).body.items as any[])[0], `${rule} on ${deviceId}`);

const card = (id: string): Locator => page.locator(`article.alert[data-alert-id="${id}"]`);
const top = async (l: Locator) => (await l.boundingBox())!.y;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
  base = svc.fw.httpUrl;
  const b = await svc.api.post('/api/v1/buildings', {
    id: 'raffles', name: BUILDING, street: '朝天门', address: '朝天门广场 1 号', type: 'public', heightM: 60, floors: 16,
    category: 1, use: 'complex', contactName: '消防控制室', contactPhone: PHONE,
    // this shift counts and orders the devices' own alerts; the building rules (a detector alarm and a
    // pressure drop here are a probable fire) have their own tests (building-rules.test.ts)
    buildingRules: { probable_fire: { enabled: false }, lane_blocked_in_fire: { enabled: false } },
  });
  expect(b.status).toBe(201);
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty', streets: ['朝天门'] })).status).toBe(201);
  browser = await launchChromium();
  ({ context, page } = await openDutyPage(browser, pageErrors));
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

describe('a duty shift: alarms, acknowledgements, and the one that must not sink', () => {
  let hydrant: Dev;
  let ef: Dev;
  let lane: Dev;
  let tank: Dev;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    hydrant = await device('rf-hydrant-62f', { kind: 'water_pressure', point: 'hydrant_top', location: '62F 屋顶试验消火栓' }, { pressure_low: { forS: 0, clearS: 0 } });
    ef = await device('rf-ef-b2', { kind: 'electrical_fire', location: 'B2 配电房 3# 柜' });
    lane = await device('rf-lane-north', { kind: 'fire_lane', location: '北侧消防车道' }, { lane_blocked: { forS: 60 } });
    // reports every 10 s: offline after 30 s of silence
    tank = await device('rf-tank-roof', { kind: 'water_level', location: '屋顶消防水箱', reportIntervalS: 10 });
  });

  it('logs in: no alarm yet, the badge in the navigation says 待确认 0 / 逾期 0, the title is plain', async () => {
    await page.goto(`${base}/`);
    await page.fill('.login-form input[name=username]', DUTY.username);
    await page.fill('.login-form input[name=password]', DUTY.password);
    await page.click('.login-submit');
    await page.locator('.lane-hazards .empty').waitFor();
    await page.waitForFunction(() => document.querySelector('header.top .attention .att-pending')?.textContent === '待确认 0');
    expect(await page.locator('header.top .attention .att-overdue').textContent()).toBe('逾期 0');
    expect(await page.title()).toBe(APP_TITLE);
  });

  it('five hazards come in and four are acknowledged; the one left open is counted and in the title', async () => {
    const now = clock.now();
    // 0.32 MPa, then 0.07 within the minute: low pressure and a drop (burst pipe?) from one reading
    await hydrant.send([{ ts: now - 5000, seq: 1, pressureMpa: 0.32 }, { ts: now, seq: 2, pressureMpa: 0.07 }]);
    await ef.send({ seq: 1, residualCurrentMa: 420, temperaturesC: [85.5, 40, 41] });
    await ef.event({ alarm: true, code: 'E21' });
    for (const [key, dev, rule] of [
      ['low', hydrant, 'pressure_low'], ['drop', hydrant, 'pressure_drop'], ['residual', ef, 'residual_current_high'],
      ['temp', ef, 'temperature_high'], ['alarm', ef, 'device_alarm'],
    ] as const) ids[key] = (await alertOf(dev.deviceId, rule)).id;
    await page.locator('.lane-hazards article.alert').nth(4).waitFor();
    await page.waitForFunction(() => document.querySelector('.attention .att-pending')?.textContent === '待确认 5');
    expect(await page.title()).toBe('(5) 待确认 · Firewatch');

    for (const key of ['temp', 'alarm', 'residual', 'drop']) {
      await card(ids[key]!).locator('.ack-btn').click();
      await card(ids[key]!).locator('.badge.st-acknowledged').waitFor();
    }
    await page.waitForFunction(() => document.querySelector('.attention .att-pending')?.textContent === '待确认 1');
    expect(await page.title()).toBe('(1) 待确认 · Firewatch');
    // an acknowledged card is no longer highlighted as new; the open one still is
    expect(await card(ids.temp!).getAttribute('class')).not.toContain('fresh');
    expect(await card(ids.low!).getAttribute('class')).toContain('fresh');
    // unacknowledged first, whatever its severity: the major pressure_low above the critical acknowledged ones
    expect(await top(card(ids.low!))).toBeLessThan(await top(card(ids.temp!)));
    expect(await top(card(ids.low!))).toBeLessThan(await top(card(ids.alarm!)));
  });

  it('a minute later a lane is blocked: the new alarm is above every acknowledged card, highlighted, counted, in the title and a toast', async () => {
    await lane.send({ occupied: true });
    await tank.send({ levelM: 3.2 });
    clock.advance(61_000); // the lane's 60 s dwell; the open pressure_low misses its 60 s acknowledge deadline
    const laneId: string = (await alertOf(lane.deviceId, 'lane_blocked')).id;
    ids.lane = laneId;
    const laneCard = card(laneId);
    await laneCard.waitFor();
    // the toast names the building, the place and the rule, Chinese first
    const toast = page.locator(`.alarm-toasts .alarm-toast[data-alert-id="${ids.lane}"]`);
    await toast.waitFor();
    expect(await toast.textContent()).toContain(`新警情：${BUILDING} 北侧消防车道 消防车道占用`);
    await page.waitForFunction(() => document.querySelector('.attention .att-pending')?.textContent === '待确认 2');
    await page.waitForFunction(() => document.querySelector('.attention .att-overdue')?.textContent === '逾期 1');
    expect(await page.title()).toBe('(2) 待确认 · Firewatch');
    expect(await laneCard.getAttribute('class')).toContain('fresh');
    expect(await laneCard.locator('.fresh-badge').textContent()).toBe('新警情');

    // the order: overdue and unacknowledged, then unacknowledged, then every acknowledged card
    const laneTop = await top(laneCard);
    expect(await top(card(ids.low!))).toBeLessThan(laneTop);
    for (const key of ['temp', 'alarm', 'residual', 'drop']) expect(laneTop, key).toBeLessThan(await top(card(ids[key]!)));
    const order = await page.locator('.lane-hazards article.alert').evaluateAll((els: any[]) => els.map((e) => e.dataset.alertId));
    expect(order.slice(0, 2)).toEqual([ids.low, ids.lane]);
    await page.screenshot({ path: join(SHOTS, 'duty-board-new-alarm.png'), fullPage: true });
  });

  it('on another page the badge still counts, and a new alarm there toasts; the toast opens the board at the card', async () => {
    await page.click('nav a.nav-overview');
    await page.locator('.street-card').first().waitFor();
    expect(await page.locator('header.top .attention .att-pending').textContent()).toBe('待确认 2');
    expect(await page.locator('header.top .attention .att-overdue').textContent()).toBe('逾期 1');

    const ef3 = await device('rf-ef-3f', { kind: 'electrical_fire', location: '3F 餐饮区配电箱' });
    await ef3.send({ seq: 1, temperaturesC: [92] });
    const temp3: string = (await alertOf(ef3.deviceId, 'temperature_high')).id;
    ids.temp3 = temp3;
    const toast = page.locator(`.alarm-toast[data-alert-id="${temp3}"]`);
    await toast.waitFor();
    expect(await toast.textContent()).toContain(`新警情：${BUILDING} 3F 餐饮区配电箱 线缆温度超限`);
    await page.waitForFunction(() => document.querySelector('.attention .att-pending')?.textContent === '待确认 3');
    expect(await page.title()).toBe('(3) 待确认 · Firewatch');
    expect(page.url()).toContain('#/overview');

    await toast.locator('.toast-open').click();
    await page.waitForFunction(() => document.body.dataset.page === 'board');
    const c = card(temp3);
    await c.waitFor();
    await page.waitForFunction((id: string) => {
      const el = [...document.querySelectorAll('article.alert')].find((e: any) => e.dataset.alertId === id) as any;
      const r = el?.getBoundingClientRect();
      return !!r && r.top >= 0 && r.bottom <= document.documentElement.clientHeight;
    }, temp3);
    expect(await c.getAttribute('class')).toContain('fresh');
    expect(await toast.count()).toBe(0);
  });

  it('acknowledging the new alarm ends its highlight and its toast and lowers the counts', async () => {
    const laneCard = card(ids.lane!);
    await laneCard.locator('.ack-btn').click();
    await laneCard.locator('.badge.st-acknowledged').waitFor();
    expect(await laneCard.getAttribute('class')).not.toContain('fresh');
    await page.waitForFunction(() => document.querySelector('.attention .att-pending')?.textContent === '待确认 2');
    expect(await page.title()).toBe('(2) 待确认 · Firewatch');
    await page.locator(`.alarm-toast[data-alert-id="${ids.lane}"]`).waitFor({ state: 'detached' });
  });

  it('each card says where (楼层/位置), whom to call (tel:) and what was measured, with units', async () => {
    // the drop: the pressure itself, from and to, with the size of the fall as the detail
    const drop = card(ids.drop!);
    expect(await drop.locator('.location').textContent()).toContain('62F 屋顶试验消火栓');
    expect(await drop.locator('.place').textContent()).toContain(`${BUILDING}朝天门`);
    const tel = drop.locator('a.tel');
    expect(await tel.getAttribute('href')).toBe('tel:02363711119');
    expect(await tel.textContent()).toContain(PHONE);
    expect(await drop.locator('.contact').textContent()).toContain('消防控制室');
    expect(await drop.locator('.value-line').textContent()).toBe('水压 0.32 → 0.07 MPa（骤降 0.25 MPa，阈值 0.05 MPa）');
    expect(await card(ids.low!).locator('.value-line').textContent()).toBe('当前 0.07 MPa（阈值 0.10 MPa）');
    expect(await card(ids.residual!).locator('.value-line').textContent()).toBe('当前 420 mA（设定值 300 mA）');
    expect(await card(ids.temp!).locator('.value-line').textContent()).toBe('当前 85.5 °C（设定值 80 °C）');
    expect(await card(ids.temp!).locator('.location').textContent()).toContain('B2 配电房 3# 柜');
    expect(await card(ids.alarm!).locator('.value-line').textContent()).toBe('设备报警（代码 E21）');
    const laneCard = card(ids.lane!);
    expect(await laneCard.locator('.location').textContent()).toContain('北侧消防车道');
    expect(await laneCard.locator('.value-line').textContent()).toMatch(/^占用 1 分钟$/);
    // the fault lane: the silent tank says for how long, not "value 30 threshold 30"
    const tankAlert = await alertOf(tank.deviceId, 'device_offline');
    const off = card(tankAlert.id);
    expect(await off.locator('.value-line').textContent()).toMatch(/^已 (\d+ 秒|1 分钟) 无数据$/);
    expect(await off.locator('.location').textContent()).toContain('屋顶消防水箱');
    for (const c of await page.locator('article.alert').all()) expect(await c.textContent()).not.toMatch(/当前值|阈值 30\b/);

    // the API carries it too, for other clients: the pressure, where it fell from, the place and the phone
    const a = (await svc.api.get(`/api/v1/alerts/${ids.drop}`)).body;
    expect(a).toMatchObject({ value: 0.25, location: '62F 屋顶试验消火栓', contactName: '消防控制室', contactPhone: PHONE, measured: { value: 0.07, from: 0.32, unit: 'MPa' } });
    expect((await svc.api.get(`/api/v1/alerts/${ids.lane}`)).body.measured.since).toBe(new Date(clock.now() - 61_000).toISOString());
    await page.screenshot({ path: join(SHOTS, 'duty-cards.png'), fullPage: true });

    // English when switched, same facts
    await page.click('.lang-toggle');
    await page.waitForFunction(() => document.querySelector('nav a.nav-board')?.textContent === 'Alert board');
    expect(await card(ids.drop!).locator('.value-line').textContent()).toBe('Pressure 0.32 → 0.07 MPa (fell by 0.25 MPa, threshold 0.05 MPa)');
    expect(await page.locator('header.top .attention .att-pending').textContent()).toBe('Unacknowledged 2');
    expect(await page.title()).toBe('(2) unacknowledged · Firewatch');
    await page.click('.lang-toggle');
    await page.waitForFunction(() => document.querySelector('nav a.nav-board')?.textContent === '告警看板');
  });

  it('closing starts without an outcome, refuses to close without one, and offers note templates per outcome', async () => {
    const drop = card(ids.drop!);
    await drop.locator('.close-btn').click();
    const outcome = drop.locator('select.outcome');
    expect(await outcome.inputValue()).toBe('');
    expect(await outcome.locator('option').first().textContent()).toBe('请选择处置结果');
    expect(await drop.locator('.note-templates .tpl').count()).toBe(0);

    // a hurried close: a note but no outcome is refused in the page, nothing is recorded
    await drop.locator('input.note').fill('已处理');
    await drop.locator('.close-submit').click();
    expect(await drop.locator('.form-error').textContent()).toContain('请选择处置结果');
    expect((await svc.api.get(`/api/v1/alerts/${ids.drop}`)).body.status).toBe('acknowledged');
    // …and by the API (an outcome is required there too)
    expect((await svc.api.post(`/api/v1/alerts/${ids.drop}/close`, { note: '已处理' })).status).toBe(400);

    // the templates follow the outcome chosen
    await outcome.selectOption('real_fire');
    expect(await drop.locator('.note-templates .tpl').allTextContents()).toContain('已到场处置，火情已扑灭');
    await outcome.selectOption('false_alarm');
    const tpl = drop.locator('.note-templates .tpl', { hasText: '现场核查无异常，疑似传感器误报' });
    expect(await drop.locator('.note-templates .tpl').allTextContents()).not.toContain('已到场处置，火情已扑灭');
    await tpl.click();
    expect(await drop.locator('input.note').inputValue()).toBe('现场核查无异常，疑似传感器误报');
    await page.screenshot({ path: join(SHOTS, 'duty-close-form.png'), fullPage: true });
    await drop.locator('.close-submit').click();
    await drop.waitFor({ state: 'detached' });
    expect((await svc.api.get(`/api/v1/alerts/${ids.drop}`)).body).toMatchObject({
      status: 'closed', outcome: 'false_alarm', note: '现场核查无异常，疑似传感器误报', closedBy: DUTY.username,
    });
  });

  it('no page threw an uncaught error', () => {
    expect(pageErrors).toEqual([]);
  });
});
