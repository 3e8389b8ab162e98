/**
 * A UITD's page on the duty console (issue #14), in a real headless Chromium: the duty room sends
 * a fake UITD the centre's commands with one click each and sees each answer — the running status
 * in words, the software version — and a timeout after 3 tries when the UITD stays silent.
 */
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, decodeAppData, encodeUitdStatus } from '../../services/protocols/gb26875/index.js';
import { launchChromium, loginOnConsole, openDutyPage } from '../support/browser.js';
import { FakeUitd, UITD } from '../support/fake-uitd.js';
import { startService, type TestService } from '../support/service.js';

const DUTY = { username: 'zheng.duty', password: 'duty-password-321', displayName: '郑值班' };

let svc: TestService;
let uitd: FakeUitd;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  svc = await startService({ GB26875_PORT: '0', GB26875_COMMAND_TIMEOUT_MS: '200' });
  await svc.api.post('/api/v1/buildings', { id: 'uc-b', name: '解放碑时代广场', street: '解放碑', type: 'public', heightM: 150, use: 'complex' });
  expect((await svc.api.post('/api/v1/devices', { id: 'uc-uitd', buildingId: 'uc-b', kind: 'uitd', address: UITD, reportIntervalS: 30, inService: true, location: '消防控制室' })).status).toBe(201);
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty', streets: ['解放碑'] })).status).toBe(201);
  uitd = await FakeUitd.open(svc.fw.gb26875Port!);
  await uitd.heartbeat();
  uitd.answer = (f) => {
    const a = decodeAppData(f.appData);
    const type = a.ok ? a.appData.type : 0;
    if (type === 81) return { command: Command.response, data: { type: 21, objects: [{ status: encodeUitdStatus({ normal: true, backupPowerFault: true }), time: new Date() }] } };
    if (type === 85) return { command: Command.response, data: { type: 25, objects: [{ major: 3, minor: 2 }] } };
    if (type === 63) {
      const comp = { systemType: 11, systemAddress: 1, componentType: 128, address: { zone: 3, position: 7 } };
      return { command: Command.response, data: { type: 3, objects: [{ ...comp, analogType: 5, value: 312, time: new Date() }] } };
    }
    return { command: Command.confirm };
  };
  browser = await launchChromium();
  ({ context, page } = await openDutyPage(browser, pageErrors));
  await loginOnConsole(page, svc.fw.httpUrl, DUTY);
});

afterAll(async () => {
  uitd?.close();
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

describe("a UITD's page: the centre's commands", () => {
  it('reads the running status and the software version with one click each; the answers are shown in words', async () => {
    await page.goto(`${svc.fw.httpUrl}/#/device/uc-uitd`);
    const panel = page.locator('section.uitd-commands');
    await panel.waitFor();
    expect(await panel.locator('.uc-history').innerText()).toContain('尚未发送指令');
    await panel.locator('button.uc-send[data-command=read_status]').click();
    const row = panel.locator('tr[data-command=read_status][data-outcome=answered]');
    await row.waitFor();
    expect(await row.locator('.uc-answer').innerText()).toBe('正常监视、备电故障');
    await panel.locator('button.uc-send[data-command=read_version]').click();
    await panel.locator('tr[data-command=read_version][data-outcome=answered]').waitFor();
    expect(await panel.locator('tr[data-command=read_version] .uc-answer').innerText()).toBe('3.2');
    expect(await panel.locator('tr[data-command=read_version] td').last().innerText()).toBe(DUTY.username);
    // a component's analog values: the component named in the form
    const form = panel.locator('form.uc-analog');
    await form.locator('input[name=systemType]').fill('11');
    await form.locator('input[name=systemAddress]').fill('1');
    await form.locator('input[name=zone]').fill('3');
    await form.locator('input[name=position]').fill('7');
    await form.locator('button').click();
    await panel.locator('tr[data-command=read_analog][data-outcome=answered]').waitFor();
    expect(await panel.locator('tr[data-command=read_analog] .uc-answer').innerText()).toBe('类型 5：312');
  });

  it('a silent UITD: the clock sync is sent 3 times and shown as timed out', async () => {
    uitd.answer = () => 'silent';
    const n = uitd.commands.length;
    const panel = page.locator('section.uitd-commands');
    await panel.locator('button.uc-send[data-command=clock_sync]').click();
    const row = panel.locator('tr[data-command=clock_sync][data-outcome=timeout]');
    await row.waitFor();
    expect(await row.locator('.uc-outcome').innerText()).toBe('超时（3 次无应答）');
    expect(uitd.commands.slice(n)).toHaveLength(3);
    expect(pageErrors).toEqual([]);
  });
});
