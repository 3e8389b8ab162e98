/**
 * The monitoring centre's duty check (查岗, issue #14) on the duty console, in a real headless
 * Chromium: a fake GB/T 26875.3 centre checks on duty; every page shows a banner with the time
 * left and an 应答 button; the duty officer answers and the centre receives the operation record
 * with the duty-check-answered bit; a check nobody answers is shown as missed.
 */
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, decodeAppData, decodeUitdOperation } from '../../services/protocols/gb26875/index.js';
import { launchChromium, loginOnConsole, openDutyPage } from '../support/browser.js';
import { startService, waitFor, type TestService } from '../support/service.js';
import { MonitoringCentreReceiver } from '../support/uplink-receiver.js';

declare const document: any;

const DUTY = { username: 'sun.duty', password: 'duty-password-789', displayName: '孙值班' };

let centre: MonitoringCentreReceiver;
let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const answeredRecords = () =>
  centre.frames.flatMap((f) => {
    const a = decodeAppData(f.appData);
    return a.ok && a.appData.type === 24 ? a.appData.objects.filter((o) => decodeUitdOperation((o as { operation: number }).operation).dutyCheckAnswered) : [];
  });

beforeAll(async () => {
  centre = new MonitoringCentreReceiver();
  const port = await centre.start();
  svc = await startService({
    UPLINK_GB26875_ADDR: `127.0.0.1:${port}`,
    UPLINK_GB26875_SOURCE_ADDR: '123456',
    UPLINK_GB26875_DEST_ADDR: String(centre.centreAddress),
    UPLINK_GB26875_HEARTBEAT_S: '1',
    GB26875_DUTY_CHECK_S: '4',
  });
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty', streets: ['解放碑'] })).status).toBe(201);
  await waitFor(() => centre.frames.length >= 1 || undefined, 'the link to the centre');
  browser = await launchChromium();
  ({ context, page } = await openDutyPage(browser, pageErrors));
  await loginOnConsole(page, svc.fw.httpUrl, DUTY);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
  await centre?.close();
});

describe('the duty check banner', () => {
  it('shows nothing while the centre has not checked', async () => {
    expect(await page.locator('.duty-check').isHidden()).toBe(true);
  });

  it('a check appears on the board with the time left and 应答; answering sends the centre the 查岗应答 record', async () => {
    await centre.command(Command.control, { type: 91, objects: [{ reserved: 10 }] }, 801);
    const banner = page.locator('.duty-check[data-state=pending]');
    await banner.waitFor();
    expect(await banner.locator('.dc-text').innerText()).toContain('监控中心查岗');
    expect(await banner.locator('.dc-left').innerText()).toMatch(/^剩余 0:0[1-4]$/);
    // on another page too
    await page.click('nav a.nav-records');
    await page.locator('.duty-check[data-state=pending]').waitFor();
    expect(answeredRecords()).toEqual([]);
    await page.click('.duty-check .dc-answer');
    await page.locator('.duty-check[data-state=answered]').waitFor();
    expect(await page.locator('.duty-check .dc-text').innerText()).toContain('查岗已应答：sun.duty');
    expect(answeredRecords()).toHaveLength(1);
    const [check] = (await svc.api.get('/api/v1/uplink/duty-checks')).body.items;
    expect(check).toMatchObject({ serial: 801, status: 'answered', answeredBy: DUTY.username });
  });

  it('a check nobody answers is shown as missed at its deadline, and nothing is sent for it', async () => {
    const before = answeredRecords().length;
    await centre.command(Command.control, { type: 91, objects: [{ reserved: 10 }] }, 802);
    await page.locator('.duty-check[data-state=pending]').waitFor();
    await page.locator('.duty-check[data-state=missed]').waitFor({ timeout: 10_000 });
    expect(await page.locator('.duty-check .dc-text').innerText()).toContain('已记录为漏岗');
    expect(answeredRecords()).toHaveLength(before);
    const items = (await svc.api.get('/api/v1/uplink/duty-checks')).body.items;
    expect(items[0]).toMatchObject({ serial: 802, status: 'missed' });
    expect(await page.evaluate(() => document.title)).toContain('Firewatch');
    expect(pageErrors).toEqual([]);
  });
});
