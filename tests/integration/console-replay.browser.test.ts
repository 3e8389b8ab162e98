/**
 * 试算 (rule replay, issue #15 item 3) on the device page, in a real headless Chromium against the
 * real service: a hydrant publishes over MQTT — a dip under its 0.15 MPa threshold (raised live) and
 * a dip to 0.17 MPa (not raised) — and a duty officer of the street opens the device, tries 0.18 MPa
 * in the 试算 panel over the default range (the last 24 h) and sees the would-be alerts beside the
 * actual one: the first 相同 as raised, the second 新增. The rules in force replay as raised.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { launchChromium, loginOnConsole, openDutyPage, SHOTS } from '../support/browser.js';
import { connectDevice, endClient, provisionDevice, publish, startService, type Provisioned, type TestService } from '../support/service.js';

declare const document: any;

const DUTY = { username: 'zhou.duty', password: 'duty-password-456', displayName: '周值班' };
// every minute, steps of at most 0.04 MPa (no pressure_drop): under 0.15 at minutes 2–4, 0.17 at 9–11
const PRESSURES = [0.2, 0.18, 0.14, 0.13, 0.14, 0.17, 0.2, 0.21, 0.18, 0.17, 0.17, 0.17, 0.2, 0.21, 0.21];

let svc: TestService;
let clock: ManualClock;
let hydrant: Provisioned;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  clock = new ManualClock(); // 2026-11-29 00:00 UTC
  svc = await startService({}, undefined, { clock });
  hydrant = await provisionDevice(
    svc.api,
    { kind: 'water_pressure', point: 'hydrant_top', location: 'T2 58F 屋顶试验消火栓', reportIntervalS: 3600 },
    { id: 'b-replay', name: '来福士广场', street: '朝天门', type: 'public', heightM: 250, floors: 60, category: 1, use: 'complex' },
  );
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty', streets: ['朝天门'] })).status).toBe(201);
  const client = await connectDevice(svc.mqttUrl, hydrant);
  for (let i = 0; i < PRESSURES.length; i++) {
    await publish(client, `fire/v1/${hydrant.deviceId}/telemetry`, { ts: clock.now(), pressureMpa: PRESSURES[i] });
    await svc.fw.processors.idle();
    clock.advance(60_000);
  }
  await endClient(client);
  browser = await launchChromium();
  ({ context, page } = await openDutyPage(browser, pageErrors));
  await loginOnConsole(page, svc.fw.httpUrl, DUTY);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

describe('the device page\'s 试算 panel', () => {
  it('tries a higher threshold over the last 24 h and shows the would-be alerts beside the actual one', async () => {
    await page.goto(`${svc.fw.httpUrl}/#/device/${encodeURIComponent(hydrant.deviceId)}`);
    const panel = page.locator('.replay-panel');
    await panel.waitFor();
    expect(await panel.locator('h3').innerText()).toContain('试算');
    // the default range: the last 24 h, in Shanghai time
    expect(await panel.locator('input[name=to]').inputValue()).toBe('2026-11-29T08:15');
    expect(await panel.locator('input[name=from]').inputValue()).toBe('2026-11-28T08:15');
    const threshold = panel.locator('input[name="pressure_low.threshold"]');
    expect(await threshold.inputValue()).toBe('0.15');
    await threshold.fill('0.18');
    await panel.locator('.rp-run').click();
    const rows = panel.locator('.rp-results tbody tr');
    await rows.first().waitFor();
    expect(await panel.locator('.rp-summary').innerText()).toContain(`已回放 ${PRESSURES.length} 条读数`);
    expect(await rows.evaluateAll((els) => els.map((e: any) => [e.dataset.rule, e.dataset.kind]))).toEqual([
      ['pressure_low', 'both'],
      ['pressure_low', 'would'],
    ]);
    const added = rows.nth(1);
    expect(await added.innerText()).toMatch(/水压过低[\s\S]*2026-11-29 08:10:00[\s\S]*2026-11-29 08:12:30[\s\S]*峰值 0\.17 MPa · 3 次[\s\S]*新增/);
    expect(await rows.nth(0).locator('.rp-actual').innerText()).toContain('2026-11-29 08:03:00');
    expect(await rows.nth(0).innerText()).toContain('时间不同'); // clears later at 0.18 than it did at 0.15
    await page.screenshot({ path: join(SHOTS, 'console-replay.png'), fullPage: true });

    // nothing was changed: the device's alerts are as they were
    const alerts = (await svc.api.get(`/api/v1/alerts?deviceId=${hydrant.deviceId}`)).body.items;
    expect(alerts.map((a: any) => a.openedAt)).toEqual(['2026-11-29T00:03:00.000Z']);
  });

  it('with the rules in force it answers what was raised (相同); a bad value is refused in words', async () => {
    const panel = page.locator('.replay-panel');
    await panel.locator('input[name="pressure_low.threshold"]').fill('0.15');
    await panel.locator('.rp-run').click();
    await panel.locator('.rp-results tbody tr[data-kind=both] .rp-same').waitFor();
    expect(await panel.locator('.rp-results tbody tr').count()).toBe(1);

    await panel.locator('input[name="pressure_low.threshold"]').fill('5');
    await panel.locator('.rp-run').click();
    await page.waitForFunction(() => (document.querySelector('.replay-panel .form-error')?.textContent ?? '').includes('0.01–2.4 MPa'));
    expect(pageErrors).toEqual([]);
  });
});
