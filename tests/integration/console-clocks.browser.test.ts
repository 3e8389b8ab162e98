/**
 * Issue #15 item 4 in a real headless Chromium: the duty console shows an alert's clocks (设备时间,
 * 接收, 落盘, 告警生成, 首次显示, 确认, 转发, 平台确认) on its card and on its record page, and reports
 * that it displayed the alert (POST /alerts/{id}/shown) once; an alarm nobody's console showed
 * within ALERT_DISPLAY_TARGET_S is marked 超时 and raises the operational alert 告警时钟超时 on the
 * board. The real service (real clock), real MQTT devices, playwright-core driving /usr/bin/chromium.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loginOnConsole, openDutyPage, SHOTS } from '../support/browser.js';
import { connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

// page.evaluate / waitForFunction callbacks run in the browser; this file compiles without the DOM lib
declare const document: any;

const DUTY = { username: 'sun.duty', password: 'duty-password-789', displayName: '孙值班' };
const LABELS = ['设备时间', '接收', '落盘', '告警生成', '首次显示', '确认', '转发', '平台确认'];

let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let client: MqttClient;
let deviceId: string;
const pageErrors: string[] = [];
const shownPosts: string[] = [];

const card = (id: string): Locator => page.locator(`article.alert[data-alert-id="${id}"]`);
const alertById = async (id: string) => (await svc.api.get(`/api/v1/alerts/${id}`)).body;

/** a detector's latched alarm (device_alarm), stamped by the device half a second before it is sent */
async function raise(seq: number): Promise<any> {
  await publish(client, `fire/v1/${deviceId}/event`, { ts: Date.now() - 500, seq, alarm: seq % 2 === 1, code: 'over_temperature' });
  return waitFor(async () => ((await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}&rule=device_alarm&status=active`)).body.items as any[])[0], 'the device_alarm');
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  svc = await startService({ ALERT_DISPLAY_TARGET_S: '1', ALERT_ACK_S: '86400', ALERT_CLOSE_S: '86400' });
  const b = await svc.api.post('/api/v1/buildings', { id: 'clk-mall', name: '解放碑商场', street: '解放碑', address: '民族路 2 号', type: 'public', heightM: 40, category: 1, use: 'market' });
  expect(b.status).toBe(201);
  // the district's duty room (every street): the service's own alerts (alarm_clock_late, service_outage) are its
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty' })).status).toBe(201);
  const p = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600, location: 'B1 配电房' }, 'clk-mall');
  deviceId = p.deviceId;
  client = await connectDevice(svc.mqttUrl, p);
  browser = await launchChromium();
  ({ context, page } = await openDutyPage(browser, pageErrors));
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/shown')) shownPosts.push(r.url());
  });
});

afterAll(async () => {
  await endClient(client).catch(() => undefined);
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

describe('the clocks on the console', () => {
  let lateId: string;

  it('an alarm raised while no console was open is late: 告警时钟超时 on the board, 首次显示 marked 超时 once a console shows it', async () => {
    lateId = (await raise(1)).id;
    const late = await waitFor(async () => ((await svc.api.get('/api/v1/alerts?rule=alarm_clock_late')).body.items as any[])[0], 'alarm_clock_late', 5000);
    expect(late.message.zh).toContain(lateId);

    await loginOnConsole(page, svc.fw.httpUrl, DUTY);
    await card(lateId).waitFor();
    // the console reported it: the server has its first display, by this duty officer
    const shown = await waitFor(async () => ((await alertById(lateId)).clocks.firstShownAt ? alertById(lateId) : undefined), 'firstShownAt');
    expect(shown.clocks.firstShownBy).toBe(DUTY.username);
    expect(shown.clocks.late).toEqual(['received_to_shown']);

    // the operational alert is a fault card with its Chinese name and the sentence naming the late alert
    const op = page.locator(`.lane-faults article.alert[data-alert-id="${late.id}"]`);
    await op.waitFor();
    expect(await op.locator('h3').textContent()).toBe('告警时钟超时');
    expect(await op.locator('.message').textContent()).toContain(lateId);

    // the late alert's clocks: marked 超时, the first display in the fault colour
    const clocks = card(lateId).locator('details.clocks');
    await clocks.locator('summary .clock-late').waitFor();
    expect(await clocks.locator('summary').textContent()).toMatch(/^告警时钟 · 接收→显示 \+\d+\.\d{3} s超时$/);
    await clocks.locator('summary').click();
    expect(await clocks.locator('li.clock.late').getAttribute('data-clock')).toBe('firstShownAt');
  });

  it('a new alarm on the open board: shown at once, reported once; the clocks in order with Chinese labels, 确认 filled by the acknowledgement', async () => {
    // the late one is closed so that this device raises a new alert
    expect((await svc.api.post(`/api/v1/alerts/${lateId}/close`, { outcome: 'test', note: '测试' })).status).toBe(200);
    await publish(client, `fire/v1/${deviceId}/event`, { seq: 2, alarm: false });
    const before = shownPosts.length;
    const a = await raise(3);
    await card(a.id).waitFor();
    const shown = await waitFor(async () => ((await alertById(a.id)).clocks.firstShownAt ? alertById(a.id) : undefined), 'firstShownAt of the new alarm');
    expect(shown.clocks.firstShownBy).toBe(DUTY.username);

    const clocks = card(a.id).locator('details.clocks');
    // the feed's alert.clocks brings the first display to the card
    await page.waitForFunction((id: string) => /接收→显示/.test(document.querySelector(`article.alert[data-alert-id="${id}"] details.clocks summary`)?.textContent ?? ''), a.id);
    await clocks.locator('summary').click();
    expect(await clocks.locator('.clock-label').allTextContents()).toEqual(LABELS);
    const at = async (clock: string) => (await clocks.locator(`li.clock[data-clock="${clock}"] .clock-at`).textContent())!;
    for (const k of ['deviceTs', 'receivedAt', 'durableAt', 'raisedAt', 'firstShownAt']) expect(await at(k), k).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}/);
    for (const k of ['acknowledgedAt', 'forwardedAt', 'platformConfirmedAt']) expect(await at(k), k).toBe('—');
    // the device stamped it half a second before: 接收 is about +0.5 s after 设备时间
    const step = await clocks.locator('li.clock[data-clock="durableAt"] .clock-step').textContent();
    expect(step).toMatch(/^\+\d+\.\d{3} s$/);

    await card(a.id).locator('.ack-btn').click();
    await card(a.id).locator('.badge.st-acknowledged').waitFor();
    // unfolded before: still unfolded after the re-render, now with 确认
    await page.waitForFunction(
      (id: string) => /^\d{2}:/.test(document.querySelector(`article.alert[data-alert-id="${id}"] details.clocks[open] li[data-clock="acknowledgedAt"] .clock-at`)?.textContent ?? ''),
      a.id,
    );
    await page.screenshot({ path: join(SHOTS, 'console-clocks.png'), fullPage: true });
    // re-rendered many times (feed events, the ticker): one report of this alert
    expect(shownPosts.slice(before).filter((u) => u.includes(encodeURIComponent(a.id)))).toHaveLength(1);
    expect((await alertById(a.id)).clocks.firstShownAt).toBe(shown.clocks.firstShownAt);
  });

  it('the record page shows the clocks unfolded', async () => {
    const a = (await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}&rule=device_alarm&status=active`)).body.items[0];
    await page.goto(`${svc.fw.httpUrl}/#/records/${encodeURIComponent(a.id)}`);
    const clocks = page.locator(`article.record details.clocks[open]`);
    await clocks.waitFor();
    expect(await clocks.locator('.clock-label').allTextContents()).toEqual(LABELS);
    expect(pageErrors).toEqual([]);
  });
});
