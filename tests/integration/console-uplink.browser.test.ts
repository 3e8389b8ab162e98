/** The console shows the platform uplink's backlog while the city platform is down (issue #6). */
import { type Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';
import { UplinkReceiver } from '../support/uplink-receiver.js';

let svc: TestService;
let platform: UplinkReceiver;
let browser: Browser;

beforeAll(async () => {
  platform = new UplinkReceiver();
  const url = await platform.start();
  platform.mode = 'fail';
  svc = await startService({ UPLINK_HTTP_URL: url });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await platform?.close();
});

it('the board says how much the city platform has not yet accepted', async () => {
  const p = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 });
  await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules: { residual_current_high: { forS: 0 } } });
  const c = await connectDevice(svc.mqttUrl, p);
  await publish(c, `fire/v1/${p.deviceId}/telemetry`, { residualCurrentMa: 800 });
  await endClient(c);
  await waitFor(async () => (await svc.api.get('/api/v1/uplink')).body.adapters[0].backlog > 0, 'uplink backlog');

  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${svc.fw.httpUrl}/`);
  await page.fill('.token-form input[name=token]', ADMIN_TOKEN);
  await page.click('.token-submit');
  const panel = page.locator('aside.uplink');
  await panel.waitFor({ state: 'visible', timeout: 15_000 });
  const text = await panel.innerText();
  expect(text).toMatch(/[1-9]\d* 条数据（告警、状态、读数）尚未被市级平台接收/);
  expect(text).toMatch(/http/);
  await context.close();
});
