/**
 * Commissioning in the console (issue #17 item 6), in a real headless Chromium against the real
 * service: an operator registers a pressure sensor and tries it — 3.2, then 0.32 — while a duty
 * officer watches the board in another browser context. The board stays empty; the device page
 * shows the 水压骤降 commissioning alert. A second sensor, tried with one-shot `mosquitto_pub`
 * publishes (connect, publish, disconnect), gets a fully green check: 已上线 with its last
 * contact, the FIRST message's time, an earlier rejection greyed as history with its detail in
 * Chinese. 投入使用 puts it in service, and from then on its alerts are on the duty board.
 * Time moves only by the injected ManualClock.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, SHOTS } from '../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, publish, startService, waitFor, type TestService } from '../support/service.js';

// page.evaluate / waitForFunction callbacks run in the browser; this file compiles without the DOM lib
declare const window: any;

const run = promisify(execFile);
const DUTY = { username: 'sun.duty', password: 'duty-password-456', displayName: '孙值班', role: 'duty', streets: ['解放碑'] };
const OPERATOR = { username: 'zhou.ops', password: 'operator-password-456', displayName: '周运营', role: 'operator', buildingIds: ['tower-c'] };

let svc: TestService;
let clock: ManualClock;
let browser: Browser;
let base: string;
const clients: MqttClient[] = [];
const pageErrors: string[] = [];
const contexts: BrowserContext[] = [];

/** '2026-11-29 08:01:02' in Asia/Shanghai, as the console writes times */
function shanghai(ms: number): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  clock = new ManualClock();
  svc = await startService({}, undefined, { clock });
  base = svc.fw.httpUrl;
  expect(
    (
      await svc.api.post('/api/v1/buildings', {
        id: 'tower-c', name: '解放碑时代大厦', street: '解放碑', address: '邹容路 100 号', type: 'public', heightM: 90, floors: 25, category: 1, use: 'office', contactName: '刘经理', contactPhone: '023-6300 0000',
      })
    ).status,
  ).toBe(201);
  expect((await svc.api.post('/api/v1/users', DUTY)).status).toBe(201);
  expect((await svc.api.post('/api/v1/users', OPERATOR)).status).toBe(201);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await svc?.stop();
  expect(pageErrors).toEqual([]);
});

async function newPage(): Promise<Page> {
  // not Shanghai on purpose: the console writes Asia/Shanghai times anyway
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 }, locale: 'zh-CN', timezoneId: 'Europe/Berlin' });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  return page;
}

async function login(page: Page, user: { username: string; password: string }) {
  await page.goto(`${base}/`);
  await page.fill('.login-form input[name=username]', user.username);
  await page.fill('.login-form input[name=password]', user.password);
  await page.click('.login-submit');
  await page.locator('header.top .user').waitFor();
}

/** The operator registers a pressure sensor in the console; returns its password (shown once). */
async function registerInConsole(page: Page, id: string, interval = '60'): Promise<string> {
  await page.goto(`${base}/#/register`);
  await page.locator('.register-form select[name=buildingId] option[value="tower-c"]').waitFor({ state: 'attached' });
  await page.selectOption('.register-form select[name=buildingId]', 'tower-c');
  await page.selectOption('.register-form select[name=kind]', 'water_pressure');
  await page.selectOption('.register-form select[name=point]', 'hydrant_top');
  await page.fill('.register-form input[name=id]', id);
  await page.fill('.register-form input[name=location]', '25F 屋顶消火栓');
  await page.fill('.register-form input[name=reportIntervalS]', interval);
  await page.click('.register-form button[type=submit]');
  const secret = page.locator('.credentials-once .secret-value');
  await secret.nth(1).waitFor();
  return (await secret.nth(1).textContent())!;
}

/** `mosquitto_pub` as an installer runs it: connect, publish one message (QoS 1), disconnect. */
async function oneShot(id: string, password: string, payload: unknown) {
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(svc.fw.mqttPorts.mqtt), '-V', 'mqttv311', '-q', '1', '-u', id, '-P', password, '-t', `fire/v1/${id}/telemetry`, '-m', JSON.stringify(payload)]);
}

describe('an installer tries a new sensor while the duty room watches', () => {
  let operator: Page;
  let duty: Page;

  beforeAll(async () => {
    duty = await newPage();
    await login(duty, DUTY);
    await duty.goto(`${base}/#/board`);
    await duty.locator('.lane-hazards').waitFor();
    await duty.waitForFunction(() => window.__firewatch?.feed?.synced === true);
    operator = await newPage();
    await login(operator, OPERATOR);
  });

  it('3.2 then 0.32: nothing on the duty board, the commissioning alert on the device page, the code not red', async () => {
    const password = await registerInConsole(operator, 'tc-top-1', '3600');
    // a new sensor is being commissioned, and the check says so, with the button to end it
    await operator.locator('.commissioning .commission-state[data-state="commissioning"]').waitFor();
    await operator.locator('.commissioning .put-in-service').waitFor();
    // a 0–4 MPa transmitter: the span is widened by an admin (a wider span loosens sensor_fault), so 3.2 is a reading
    expect((await svc.api.patch('/api/v1/devices/tc-top-1', { rules: { sensor_fault: { spanMax: 4 } }, reason: '0–4 MPa 变送器' })).status).toBe(200);
    const client = await connectDevice(svc.mqttUrl, { deviceId: 'tc-top-1', password });
    clients.push(client);
    await publish(client, 'fire/v1/tc-top-1/telemetry', { pressureMpa: 3.2 });
    await publish(client, 'fire/v1/tc-top-1/telemetry', { pressureMpa: 0.32 });
    const alert = await waitFor(async () => (await svc.api.get('/api/v1/alerts?deviceId=tc-top-1&commissioning=include')).body.items[0], 'the commissioning alert');
    expect(alert).toMatchObject({ rule: 'pressure_drop', commissioning: true });

    // the device page shows it, marked 调试
    await operator.goto(`${base}/#/device/tc-top-1`);
    const row = operator.locator(`table.alert-history tr.cm-alert[data-alert-id="${alert.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('水压骤降');
    expect(await row.locator('.badge.cm-badge').textContent()).toBe('调试');
    await operator.locator('.device-page h2 .badge.cm-badge').waitFor();
    await operator.locator('.commissioning-alerts-note').waitFor();

    // the duty board: something both are sent after the alert (the sensor's disconnect) has arrived, the alert has not
    await endClient(client);
    await waitFor(async () => (await duty.evaluate(() => window.__firewatch.store.online.get('tc-top-1'))) === false, 'the disconnect on the duty console');
    expect(await duty.locator('article.alert').count()).toBe(0);
    expect(await duty.locator('.lane-hazards .empty').count()).toBe(1);
    expect(await duty.evaluate(() => window.__firewatch.store.list().filter((a: any) => a.deviceId === 'tc-top-1').length)).toBe(0);
    // not even after a reload of the board (GET /alerts?status=active)
    await duty.reload();
    await duty.locator('.lane-hazards').waitFor();
    await duty.waitForFunction(() => window.__firewatch?.feed?.synced === true);
    expect(await duty.locator('article.alert').count()).toBe(0);
    await duty.screenshot({ path: join(SHOTS, 'commissioning-duty-board.png'), fullPage: true });

    // the building's code: not red, the device noted as being commissioned
    await duty.goto(`${base}/#/building/tower-c`);
    const code = duty.locator('.safety-code .code');
    await code.waitFor();
    expect(await code.getAttribute('data-status')).not.toBe('red');
    await duty.locator('.safety-code li[data-code="devices_commissioning"]').waitFor();
    await operator.screenshot({ path: join(SHOTS, 'commissioning-device-page.png'), fullPage: true });
  });

  it('one-shot publishes: the check goes fully green (已上线, the first message\'s time, an old rejection greyed in Chinese); 投入使用 works', async () => {
    const password = await registerInConsole(operator, 'tc-top-2');
    const check = operator.locator('section.commissioning');
    await check.locator('.first-message.waiting').waitFor();
    await check.locator('.online-state[data-state="waiting"]').waitFor();

    // the first try sends the value as a string: rejected, red, and said in Chinese
    await oneShot('tc-top-2', password, { pressureMpa: '0.32' });
    const rejected = check.locator('li.bad .rejected-reason[data-reason="schema"]');
    await rejected.waitFor();
    expect(await rejected.textContent()).toContain('格式错误');
    expect(await check.locator('li.bad .detail-zh').textContent()).toBe('字段 pressureMpa 应为数值，收到的是字符串');
    expect(await check.textContent()).not.toContain('Invalid input');

    // then right: two good readings a minute apart, each a one-shot publish
    clock.advance(60_000);
    const firstAt = clock.now();
    await oneShot('tc-top-2', password, { pressureMpa: 0.32 });
    clock.advance(60_000);
    await oneShot('tc-top-2', password, { pressureMpa: 0.33 });
    await waitFor(async () => (await svc.api.get('/api/v1/devices/tc-top-2')).body.status.accepted === 2, 'both readings');

    await check.locator('.online-state[data-state="recent"]').waitFor();
    await check.locator('li.history .rejected-reason[data-reason="schema"]').waitFor();
    await check.locator('.plausible').waitFor();
    // fully green: nothing red, nothing waiting
    await waitFor(async () => (await check.locator('ul.checks li.bad, ul.checks li.pending').count()) === 0, 'a fully green check', 15_000, 200);
    expect(await check.locator('ul.checks li.ok').count()).toBeGreaterThanOrEqual(3);
    expect(await check.locator('.first-message').textContent()).toBe(`已收到第一条消息（${shanghai(firstAt)}）`);
    expect(await check.locator('.online-state').textContent()).toBe(`已上线（最近一次 ${shanghai(firstAt + 60_000)}）`);
    expect(await check.locator('li.history .detail').textContent()).toBe('字段 pressureMpa 应为数值，收到的是字符串');
    await operator.screenshot({ path: join(SHOTS, 'commissioning-check-green.png'), fullPage: true });

    // 投入使用: the device is in service (audited), and its next breach is on the duty board
    await check.locator('.put-in-service').click();
    await check.locator('.commission-state[data-state="in_service"]').waitFor();
    expect(await check.locator('.put-in-service').count()).toBe(0);
    const d = (await svc.api.get('/api/v1/devices/tc-top-2')).body;
    expect(d).toMatchObject({ inService: true, inServiceAt: new Date(clock.now()).toISOString() });
    expect((await svc.api.get('/api/v1/audit?deviceId=tc-top-2')).body.items).toContainEqual(expect.objectContaining({ action: 'device.in_service', by: 'zhou.ops' }));

    await duty.goto(`${base}/#/board`);
    await duty.locator('.lane-hazards').waitFor();
    await oneShot('tc-top-2', password, { pressureMpa: 0.9 });
    await oneShot('tc-top-2', password, { pressureMpa: 0.32 });
    const real = await waitFor(async () => (await svc.api.get('/api/v1/alerts?deviceId=tc-top-2&status=active')).body.items[0], 'the normal alert');
    expect(real).toMatchObject({ rule: 'pressure_drop', commissioning: false });
    await duty.locator(`.lane-hazards article.alert[data-alert-id="${real.id}"][data-rule="pressure_drop"]`).waitFor();
    // the first sensor (still commissioning) is not on the board
    expect(await duty.locator('article.alert').count()).toBe(1);
    await duty.screenshot({ path: join(SHOTS, 'commissioning-in-service-board.png'), fullPage: true });
  });
});
