/**
 * Incidents on the duty board (issue #15 item 1) in a real headless Chromium: an overheating
 * detector raises temperature_high and device_alarm in one building, and a pressure drop follows;
 * the board shows one incident card for the building with its evidence in the order raised and
 * its most severe level; 确认警情 acknowledges all of its alerts, 处置警情 closes them all with one
 * outcome and note; a hazard in another building is not in it.
 */
import type { MqttClient } from 'mqtt';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { launchChromium, loginOnConsole, openDutyPage } from '../support/browser.js';
import { connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

declare const document: any;

const DUTY = { username: 'qian.duty', password: 'duty-password-789', displayName: '钱值班' };

let svc: TestService;
const clock = new ManualClock();
let browser: Browser;
let context: BrowserContext;
let page: Page;
const clients: MqttClient[] = [];
const pageErrors: string[] = [];

async function device(id: string, buildingId: string, spec: Record<string, unknown>, rules: Record<string, unknown>) {
  const p = await provisionDevice(svc.api, { id, reportIntervalS: 3600, ...spec }, buildingId);
  expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules, reason: 'incident console test' })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return { deviceId: p.deviceId, send: (m: unknown) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m), event: (m: unknown) => publish(client, `fire/v1/${p.deviceId}/event`, m) };
}

const alertsOf = async (deviceId: string) => (await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}`)).body.items as any[];

beforeAll(async () => {
  svc = await startService({}, undefined, { clock });
  for (const [id, name] of [['jfb-times', '重庆时代广场'], ['jfb-hotel', '解放碑酒店']] as const) {
    const r = await svc.api.post('/api/v1/buildings', { id, name, street: '解放碑', address: '民权路', type: 'public', heightM: 80, floors: 20, category: 1, use: 'complex', contactName: '消防控制室', contactPhone: '023-6300 1119' });
    expect(r.status).toBe(201);
  }
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty', streets: ['解放碑'] })).status).toBe(201);
  browser = await launchChromium();
  ({ context, page } = await openDutyPage(browser, pageErrors));
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

describe('the board shows a building\'s hazards as one incident', () => {
  let ids: string[] = [];
  let incidentId = '';

  it('one incident card with the building, its evidence in the order raised and the most severe level', async () => {
    await loginOnConsole(page, svc.fw.httpUrl, DUTY);
    const detector = await device('times-ef-3f', 'jfb-times', { kind: 'electrical_fire', location: '3F 配电间' }, { temperature_high: { forS: 0, clearS: 0 } });
    const hydrant = await device('times-hydrant-20f', 'jfb-times', { kind: 'water_pressure', point: 'hydrant_top', location: '20F 试验消火栓' }, { pressure_low: { forS: 0, clearS: 0 } });
    const other = await device('hotel-ef-1f', 'jfb-hotel', { kind: 'electrical_fire' }, { temperature_high: { forS: 0, clearS: 0 } });
    await detector.send({ temperaturesC: [96, 40] });
    await waitFor(async () => (await alertsOf(detector.deviceId)).length === 1, 'temperature_high');
    clock.advance(20_000); // the evidence comes over a minute
    await detector.event({ alarm: true, code: 'E21' });
    await waitFor(async () => (await alertsOf(detector.deviceId)).length === 2, 'device_alarm');
    clock.advance(30_000);
    await hydrant.send({ pressureMpa: 0.05 });
    await waitFor(async () => (await alertsOf(hydrant.deviceId)).length === 1, 'pressure_low');
    await other.send({ temperaturesC: [90] });
    await waitFor(async () => (await alertsOf(other.deviceId)).length === 1, 'the hotel alert');

    const all = [...(await alertsOf(detector.deviceId)), ...(await alertsOf(hydrant.deviceId))].sort((a, b) => (a.openedAt < b.openedAt ? -1 : 1));
    ids = all.map((a) => a.id);
    incidentId = all[0].incidentId;
    expect(new Set(all.map((a) => a.incidentId)).size).toBe(1);

    const incident = page.locator(`article.incident[data-incident-id="${incidentId}"]`);
    await incident.locator('.evidence li').nth(2).waitFor();
    expect(await incident.locator(':scope > header h3').textContent()).toBe('重庆时代广场');
    expect(await incident.locator(':scope > header .incident-badge').textContent()).toBe('警情');
    expect(await incident.locator('.incident-summary').textContent()).toContain('3 条');
    // the evidence, in the order raised: the detector's two, then the hydrant
    expect(await incident.locator('.evidence li').evaluateAll((els) => els.map((e: any) => e.dataset.alertId))).toEqual(ids);
    // rules in words, not their ids
    const rules = await incident.locator('.evidence li .rule').allTextContents();
    expect(rules).toHaveLength(3);
    for (const [i, text] of rules.entries()) expect(text).not.toBe(all[i].rule);
    expect(await incident.locator('.evidence li').nth(2).textContent()).toContain('20F 试验消火栓');
    const rank: Record<string, number> = { critical: 0, major: 1, minor: 2, warning: 3 };
    const worst = all.map((a) => a.severity).sort((a, b) => rank[a]! - rank[b]!)[0];
    expect(await incident.locator(`:scope > header .badge.sev-${worst}`).count()).toBe(1);
    // its alerts are inside it; the other building's alert is a card of its own, outside
    for (const id of ids) expect(await incident.locator(`article.alert[data-alert-id="${id}"]`).count()).toBe(1);
    const hotel = (await alertsOf(other.deviceId))[0];
    expect(await incident.locator(`article.alert[data-alert-id="${hotel.id}"]`).count()).toBe(0);
    expect(await page.locator(`.lane-hazards article.alert[data-alert-id="${hotel.id}"]`).count()).toBe(1);
    expect(await page.locator('.lane-hazards article.incident').count()).toBe(1);
  });

  it('确认警情 acknowledges all of its alerts at once', async () => {
    const incident = page.locator(`article.incident[data-incident-id="${incidentId}"]`);
    await incident.locator('.incident-ack-btn').click();
    await incident.locator(':scope > header .badge.st-acknowledged').waitFor();
    for (const id of ids) {
      const a = (await svc.api.get(`/api/v1/alerts/${id}`)).body;
      expect(a).toMatchObject({ status: 'acknowledged', acknowledgedBy: DUTY.username });
      expect(a.history.filter((e: any) => e.action === 'acknowledged')).toHaveLength(1);
    }
    await page.waitForFunction(() => document.querySelector('.attention .att-pending')?.textContent === '待确认 1'); // the hotel's alert is still open
    expect(await incident.locator('.incident-ack-btn').count()).toBe(0);
  });

  it('处置警情 closes them all with one outcome and note; the card leaves the board', async () => {
    const incident = page.locator(`article.incident[data-incident-id="${incidentId}"]`);
    await incident.locator('.incident-close-btn').click();
    const form = incident.locator(':scope > .actions .close-form');
    await form.locator('select.outcome').selectOption('false_alarm');
    await form.locator('input.note').fill('现场核查：配电柜风扇故障，消火栓阀门检修');
    await form.locator('.close-submit').click();
    await incident.waitFor({ state: 'detached' });
    for (const id of ids) expect((await svc.api.get(`/api/v1/alerts/${id}`)).body).toMatchObject({ status: 'closed', outcome: 'false_alarm', closedBy: DUTY.username });
    expect((await svc.api.get(`/api/v1/incidents/${incidentId}`)).body.status).toBe('closed');
    expect(pageErrors).toEqual([]);
  });
});
