/**
 * Issue #17 item 5 in a real headless Chromium (playwright-core, the system's /usr/bin/chromium)
 * against the real service: everything a duty officer reads is Chinese — English when switched —
 * and in Asia/Shanghai time. No rule ids, outcome or history-action codes, no English sentences,
 * no UTC ISO timestamps and no "system" on the board, in a card's history, on the building page,
 * on the coverage page or in a device's rules table; people by their display names.
 *
 * The shift: a top hydrant's pressure falls (pressure_low, left open until it escalates, and
 * pressure_drop), a detector latches its own alarm with a vendor code (device_alarm,
 * temperature_alarm), a residual current is closed as a real fire with a note, a tank level sensor
 * goes silent and comes back (a fault closed by the system itself), a fire lane is blocked while
 * its operator has it in maintenance; the admin loosened a rule (the change audit) and the building
 * is a complex over 20,000 m² and a high-rise (coverage reasons).
 *
 * Each scan checks the visible text (innerText) of one view for (a) raw codes: every rule id of
 * services/rules/rule-types.ts RULE_IDS, outcome and history-action codes, coverage reasons,
 * "design choice", and any snake_case word; (b) English sentences: three or more English words in a
 * row; (c) ISO UTC timestamps (…T…Z); (d) the word "system". Allowed: standard codes such as
 * "GB 50974-2014", units (MPa, mA, °C), device ids and a vendor code when labelled (（代码 …）).
 * Modelled on console-duty.browser.test.ts: a ManualClock for the server, the browser in Berlin.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { launchChromium, openDutyPage, SHOTS } from '../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTCOMES } from '../../services/alerts/model.js';
import { COVERAGE_REASONS } from '../../services/coverage/coverage.js';
import { STREETS } from '../../services/devices/model.js';
import { RULE_IDS } from '../../services/rules/rule-types.js';
import { ManualClock } from '../../services/shared/clock.js';
import { DEVICE_KINDS, PRESSURE_POINTS } from '../../services/telemetry/telemetry.js';
import { ApiClient, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

// page.evaluate / waitForFunction callbacks run in the browser; this file compiles without the DOM lib
declare const document: any;
declare const localStorage: any;

const DUTY = { username: 'zhao.duty', password: 'duty-password-456', displayName: '赵值班' };
const OPERATOR = { username: 'qian.ops', password: 'operator-password-7', displayName: '钱运营' };
const BUILDING = { id: 'raffles', name: '来福士购物中心', address: '朝天门广场 1 号', contactName: '消防控制室', contactPhone: '023-6371 1119' };
const FIRE_NOTE = '已到场处置，火情已扑灭';
const MAINTENANCE_REASON = '更换车位检测器';
const AUDIT_REASON = '现场校核后放宽骤降幅度';
const LOCATIONS = { hydrant: '62F 屋顶试验消火栓', ef: 'B2 配电房 3# 柜', lane: '北侧消防车道', tank: '屋顶消防水箱' };
const DEVICE_IDS = ['rf-hydrant-top', 'rf-ef-b2', 'rf-lane-north', 'rf-tank-roof'];
/** what the officer reads as data, not as the console's words: names, places, notes (stripped before the English checks) */
const DATA = [BUILDING.name, BUILDING.address, BUILDING.contactName, FIRE_NOTE, MAINTENANCE_REASON, AUDIT_REASON, DUTY.displayName, OPERATOR.displayName, ...Object.values(LOCATIONS), ...STREETS];

/** the history actions the server stores (services/alerts/model.ts HistoryAction) */
const ACTIONS = ['raised', 'recurred', 'cleared', 'acknowledged', 'escalated', 'closed', 'maintenance', 'commissioning'];
/** raw codes that must never be shown in Chinese mode */
const CODES_ZH = [...RULE_IDS, 'service_outage', ...OUTCOMES, ...ACTIONS, ...COVERAGE_REASONS, ...DEVICE_KINDS, ...PRESSURE_POINTS, 'system_default', 'design choice', 'standby', 'flowing', 'source'];
/** in English the outcome and action words are English words; ids and codes are still not shown */
const CODES_EN = [...RULE_IDS, 'service_outage', 'real_fire', 'false_alarm', ...COVERAGE_REASONS, ...DEVICE_KINDS, ...PRESSURE_POINTS, 'system_default', 'design choice:'];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const codeRe = (code: string) => new RegExp(`(?<![A-Za-z0-9_])${escape(code)}(?![A-Za-z0-9_])`);
const SNAKE = /(?<![A-Za-z0-9_-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])/g;
/** three or more English words in a row (units and single words such as MPa pass) */
const ENGLISH = /[A-Za-z]{2,}(?:[ ,;:'’]+[A-Za-z]{2,}){2,}/g;
const ISO_UTC = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})/g;
const SYSTEM = /\bsystem\b/gi;
const CJK = /[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+/g;

/** what is allowed to look like a code: device ids, and a vendor code labelled as one */
function allowed(text: string): string {
  let out = text.replace(/（代码 [^）]+）|\(code [^)]+\)/g, '（代码）');
  for (const id of DEVICE_IDS) out = out.split(id).join('〔设备〕');
  return out;
}

interface Findings {
  codes: string[];
  english: string[];
  iso: string[];
  system: string[];
}

function scan(text: string, lang: 'zh' | 'en'): Findings {
  const t = allowed(text);
  const codes = (lang === 'zh' ? CODES_ZH : CODES_EN).filter((c) => codeRe(c).test(t));
  codes.push(...(t.match(SNAKE) ?? []));
  return {
    codes: [...new Set(codes)],
    english: lang === 'zh' ? (t.match(ENGLISH) ?? []) : [],
    iso: t.match(ISO_UTC) ?? [],
    // in English the system is "System"; the lower-case word is the raw actor
    system: t.match(lang === 'zh' ? SYSTEM : /\bsystem\b/g) ?? [],
  };
}

/** each check apart (soft), so a failure names all of what is wrong in the view */
function expectClean(view: string, text: string, lang: 'zh' | 'en') {
  // DEBUG_SCAN=1 prints what each scan read
  if (process.env.DEBUG_SCAN) console.log(`==== ${view} (${lang})\n${text}`);
  expect(text.length, `${view}: has text`).toBeGreaterThan(20);
  const f = scan(text, lang);
  expect.soft(f.codes, `${view} (${lang}): raw codes`).toEqual([]);
  expect.soft(f.english, `${view} (${lang}): English sentences`).toEqual([]);
  expect.soft(f.iso, `${view} (${lang}): ISO UTC timestamps`).toEqual([]);
  expect.soft(f.system, `${view} (${lang}): the word "system"`).toEqual([]);
}

/** in English mode nothing Chinese is left once the data (names, places, notes) is taken out */
function expectEnglish(view: string, text: string) {
  let rest = text;
  for (const d of [...DATA].sort((a, b) => b.length - a.length)) rest = rest.split(d).join(' ');
  expect.soft(rest.match(CJK) ?? [], `${view} (en): Chinese words that are not data`).toEqual([]);
  expectClean(view, text, 'en');
}

let svc: TestService;
let clock: ManualClock;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;
let duty: ApiClient;
let operator: ApiClient;
const clients: MqttClient[] = [];
const pageErrors: string[] = [];
const ids: Record<string, string> = {};

interface Dev {
  deviceId: string;
  send(m: unknown): Promise<void>;
  event(m: unknown): Promise<void>;
}

async function device(id: string, spec: Record<string, unknown>, rules?: Record<string, unknown>): Promise<Dev> {
  const p = await provisionDevice(svc.api, { id, reportIntervalS: 3600, ...spec }, BUILDING.id);
  if (rules) expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules, reason: AUDIT_REASON })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return {
    deviceId: p.deviceId,
    send: (m) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m),
    event: (m) => publish(client, `fire/v1/${p.deviceId}/event`, m),
  };
}

const alertOf = async (deviceId: string, rule: string, ok: (a: any) => boolean = () => true) =>
  waitFor(async () => ((await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}&rule=${rule}`)).body.items as any[]).find(ok), `${rule} on ${deviceId}`);

const card = (id: string): Locator => page.locator(`article.alert[data-alert-id="${id}"]`);

async function signIn(client: ApiClient, user: { username: string; password: string }): Promise<ApiClient> {
  const r = await client.post('/api/v1/auth/login', { username: user.username, password: user.password });
  expect(r.status).toBe(200);
  return new ApiClient(base, r.body.token);
}

/**
 * The visible text of a page, every part of it: sections behind tabs are opened one by one and
 * "show more" lists expanded, so nothing escapes the scan because it was folded away.
 */
async function visibleText(root: string): Promise<string> {
  const parts: string[] = [];
  const expand = async () => {
    for (let i = 0; i < 10; i++) {
      const more = page.locator(`${root} button:visible`, { hasText: /^\s*(显示更多|Show more)/ });
      if ((await more.count()) === 0) break;
      await more.first().click();
    }
  };
  await expand();
  parts.push(await page.locator(root).innerText());
  const tabs = page.locator(`${root} [role="tab"]`);
  for (let i = 0; i < (await tabs.count()); i++) {
    await tabs.nth(i).click();
    await page.waitForTimeout(200); // a panel may draw when it is first shown (the charts)
    await expand();
    parts.push(await page.locator(root).innerText());
  }
  return parts.join('\n');
}

/** the building page, with its devices' charts, the alert history and the change audit loaded */
async function openBuilding(): Promise<string> {
  await page.goto(`${base}/#/building/${BUILDING.id}`);
  // parts of the page may be behind tabs: loaded is enough here, visibleText() opens each
  await page.locator('.device-card[data-device-id="rf-hydrant-top"]').first().waitFor({ state: 'attached' });
  await page.waitForFunction(() => !document.querySelector('.building-page .chart-box .loading'));
  await page.locator('.safety-code .code').waitFor({ state: 'attached' });
  await page.locator('table.alert-history tr, .audit-panel tr').first().waitFor({ state: 'attached' });
  await page.locator('.audit-panel tr[data-action="maintenance.set"]').waitFor({ state: 'attached' });
  return visibleText('main.view');
}

async function openCoverage(): Promise<string> {
  await page.goto(`${base}/#/coverage`);
  await page.locator(`table.coverage tr[data-building-id="${BUILDING.id}"]`).waitFor();
  return visibleText('main.view');
}

/** the device page's rules table and its way back to the building */
async function openDeviceRules(): Promise<string> {
  await page.goto(`${base}/#/device/rf-hydrant-top`);
  await page.locator('table.rules tbody tr').first().waitFor();
  const back = await page.locator(`.device-page a[href="#/building/${BUILDING.id}"]`).first().innerText();
  return `${back}\n${await page.locator('table.rules').innerText()}`;
}

async function openBoard(): Promise<string> {
  await page.goto(`${base}/#/board`);
  await card(ids.low!).locator('.badge.escalation').waitFor();
  await card(ids.lane!).waitFor();
  await page.locator(`.lane-closed li[data-alert-id="${ids.fire}"]`).waitFor();
  return page.locator('main.view').innerText();
}

async function openRecords(): Promise<string> {
  await page.goto(`${base}/#/records/${ids.fire}`);
  await page.locator('table.record-history tr[data-action="closed"]').waitFor();
  const record = await page.locator('main.view').innerText();
  await page.goto(`${base}/#/records?class=fault`);
  await page.locator(`table.records tr[data-alert-id="${ids.offline}"]`).waitFor();
  return `${record}\n${await page.locator('main.view').innerText()}`;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  clock = new ManualClock(); // 2026-11-29 00:00 UTC = 08:00 in Shanghai
  svc = await startService({}, undefined, { clock });
  base = svc.fw.httpUrl;
  const b = await svc.api.post('/api/v1/buildings', {
    ...BUILDING, street: '朝天门', type: 'public', heightM: 250, floors: 60, category: 1, use: 'complex', areaM2: 300_000,
    // the devices' own alerts and their words; the building rules have their own tests (building-rules.test.ts)
    buildingRules: { probable_fire: { enabled: false }, lane_blocked_in_fire: { enabled: false } },
  });
  expect(b.status).toBe(201);
  expect((await svc.api.post('/api/v1/users', { ...DUTY, role: 'duty', streets: ['朝天门'] })).status).toBe(201);
  expect((await svc.api.post('/api/v1/users', { ...OPERATOR, role: 'operator', buildingIds: [BUILDING.id] })).status).toBe(201);
  const anonymous = new ApiClient(base, undefined);
  duty = await signIn(anonymous, DUTY);
  operator = await signIn(anonymous, OPERATOR);
  browser = await launchChromium();
  ({ context, page } = await openDutyPage(browser, pageErrors));
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

describe('a shift in Chinese: no codes, no English, local time, people by name', () => {
  beforeAll(async () => {
    // the admin loosens the drop rule with a reason (the change audit); pressure_low at once
    const hydrant = await device('rf-hydrant-top', { kind: 'water_pressure', point: 'hydrant_top', location: LOCATIONS.hydrant }, { pressure_low: { forS: 0, clearS: 0 }, pressure_drop: { dropMpa: 0.06 } });
    const ef = await device('rf-ef-b2', { kind: 'electrical_fire', location: LOCATIONS.ef });
    const lane = await device('rf-lane-north', { kind: 'fire_lane', location: LOCATIONS.lane }, { lane_blocked: { forS: 60 } });
    // reports every 10 s: offline after 30 s of silence
    const tank = await device('rf-tank-roof', { kind: 'water_level', location: LOCATIONS.tank, reportIntervalS: 10 });

    // the operator puts the lane sensor in maintenance for two hours (until 10:00 in Shanghai)
    const until = new Date(clock.now() + 2 * 3600_000).toISOString();
    expect((await operator.request('PUT', '/api/v1/devices/rf-lane-north/maintenance', { until, reason: MAINTENANCE_REASON })).status).toBe(200);

    const now = clock.now();
    await hydrant.send([{ ts: now - 5000, seq: 1, pressureMpa: 0.32 }, { ts: now, seq: 2, pressureMpa: 0.07 }]);
    await ef.send({ seq: 1, residualCurrentMa: 420 });
    await ef.event({ alarm: true, code: 'temperature_alarm' });
    await lane.send({ occupied: true });
    await tank.send({ levelM: 3.2 });
    ids.low = (await alertOf(hydrant.deviceId, 'pressure_low')).id;
    ids.drop = (await alertOf(hydrant.deviceId, 'pressure_drop')).id;
    ids.fire = (await alertOf(ef.deviceId, 'residual_current_high')).id;
    ids.alarm = (await alertOf(ef.deviceId, 'device_alarm')).id;

    // the duty officer acknowledges the drop, and closes the residual current as a real fire
    expect((await duty.post(`/api/v1/alerts/${ids.drop}/ack`, {})).status).toBe(200);
    expect((await duty.post(`/api/v1/alerts/${ids.fire}/ack`, {})).status).toBe(200);
    expect((await duty.post(`/api/v1/alerts/${ids.fire}/close`, { outcome: 'real_fire', note: FIRE_NOTE })).status).toBe(200);

    // the tank goes silent and comes back: a fault the system closes itself
    clock.advance(31_000);
    ids.offline = (await alertOf(tank.deviceId, 'device_offline')).id;
    await tank.send({ levelM: 3.2 });
    await alertOf(tank.deviceId, 'device_offline', (a) => a.status === 'closed');

    // the officer's console
    await page.goto(`${base}/`);
    await page.fill('.login-form input[name=username]', DUTY.username);
    await page.fill('.login-form input[name=password]', DUTY.password);
    await page.click('.login-submit');
    await card(ids.alarm!).waitFor();
    // acknowledged in the console; then the open pressure_low misses its 60 s deadline (escalated
    // over the live feed) and the lane's 60 s dwell raises an alert in maintenance
    await card(ids.alarm!).locator('.ack-btn').click();
    await card(ids.alarm!).locator('.badge.st-acknowledged').waitFor();
    clock.advance(30_000);
    ids.lane = (await alertOf(lane.deviceId, 'lane_blocked')).id;
    await card(ids.low!).locator('.badge.escalation').waitFor();
  });

  it('the API carries what the console words: history entries as data, display names, sources in words, the building name', async () => {
    const fire = (await duty.get(`/api/v1/alerts/${ids.fire}`)).body;
    expect(fire).toMatchObject({ closedBy: DUTY.username, closedByName: DUTY.displayName, acknowledgedByName: DUTY.displayName, noteText: null });
    expect(fire.history.at(-1)).toMatchObject({ action: 'closed', by: DUTY.username, byName: DUTY.displayName, info: { code: 'closed', outcome: 'real_fire', note: FIRE_NOTE } });
    expect(fire.history[0]).toMatchObject({ action: 'raised', by: 'system', byName: null, info: { code: 'message', message: fire.message } });
    const fault = (await duty.get(`/api/v1/alerts/${ids.offline}`)).body;
    expect(fault).toMatchObject({ closedBy: 'system', closedByName: null, noteText: { zh: '条件已恢复，自动关闭', en: 'condition cleared; closed automatically' } });
    expect(fault.history.at(-1)).toMatchObject({ action: 'closed', by: 'system', info: { code: 'auto_closed', outcome: 'fault', why: 'fault_cleared' } });
    const low = (await duty.get(`/api/v1/alerts/${ids.low}`)).body;
    expect(low.history.at(-1)).toMatchObject({ action: 'escalated', info: { code: 'escalated', level: 1, deadline: 'ack', due: low.ackDeadline } });
    const lane = (await duty.get(`/api/v1/alerts/${ids.lane}`)).body;
    expect(lane.history.find((e: any) => e.action === 'maintenance')).toMatchObject({
      by: OPERATOR.username, byName: OPERATOR.displayName, detail: `维护中，不通知（至 2026-11-29 10:00）：${MAINTENANCE_REASON}`,
      info: { code: 'maintenance', until: '2026-11-29T02:00:00.000Z', reason: MAINTENANCE_REASON },
    });
    // the same names in the record, the maintenance window and the audit
    const record = (await duty.get('/api/v1/alerts/records?status=closed')).body.items.find((a: any) => a.id === ids.fire);
    expect(record).toMatchObject({ closedByName: DUTY.displayName });
    expect((await duty.get('/api/v1/devices/rf-lane-north/maintenance')).body).toMatchObject({ by: OPERATOR.username, byName: OPERATOR.displayName });
    const audit = (await duty.get(`/api/v1/audit?buildingId=${BUILDING.id}`)).body.items as any[];
    expect(audit.find((e) => e.action === 'maintenance.set')).toMatchObject({ by: OPERATOR.username, byName: OPERATOR.displayName });
    expect(audit.find((e) => e.action === 'device.rules_loosened')).toMatchObject({ by: 'system:admin', byName: null });
    // the rules: each source in words beside the source itself; the device: its building's name
    const rules = (await duty.get('/api/v1/devices/rf-hydrant-top/rules')).body.rules;
    expect(rules.pressure_low.limits[0]).toMatchObject({ state: 'standby', value: 0.15, sourceText: { zh: 'GB 50974-2014 5.2.2（最不利点静水压）' } });
    expect(rules.device_offline.sourceText).toEqual({ zh: '设计取值（无标准值）：连续 3 次未上报', en: 'design choice (no standard value): 3 missed reports' });
    expect((await duty.get('/api/v1/devices/rf-hydrant-top')).body.buildingName).toBe(BUILDING.name);
  });

  it('the board: the card says 响应 like the escalation, the vendor code is labelled, who by name', async () => {
    const text = await openBoard();
    expectClean('board', text, 'zh');
    // one word for the deadline: 响应 on the card and in the escalation, never 应答
    expect(await card(ids.low!).locator('.cd-ack').textContent()).toMatch(/^响应逾期/);
    expect(text).not.toContain('应答');
    // the device's own alarm: worded, its code labelled
    const alarm = card(ids.alarm!);
    expect(await alarm.locator('.message').textContent()).toBe('设备自身报警：线缆温度报警（代码 temperature_alarm）');
    expect(await alarm.locator('.value-line').textContent()).toBe('设备报警：线缆温度报警（代码 temperature_alarm）');
    expect(await alarm.locator('.who').textContent()).toContain(`${DUTY.displayName} 于 08:00:31 确认`);
    // 最近处置: the real fire, by name, with its note
    const closed = page.locator(`.lane-closed li[data-alert-id="${ids.fire}"]`);
    expect(await closed.innerText()).toMatch(new RegExp(`剩余电流超限.*${BUILDING.name}.*真实火情.*${DUTY.displayName} 于 08:00:00 关闭`, 's'));
    expect(await closed.innerText()).toContain(FIRE_NOTE);
    await page.screenshot({ path: join(SHOTS, 'language-board-zh.png'), fullPage: true });
  });

  it("a card's history: 系统 and people by name, the escalation in words, the maintenance window in Shanghai time", async () => {
    const low = await card(ids.low!).locator('ol.history').innerText();
    expectClean('pressure_low history', low, 'zh');
    expect(low).toMatch(/08:01:00 升级 · 系统 · 超过响应时限（08:01:00）未确认接警/);
    expect(low).toMatch(/08:00:00 发生 · 系统 · 顶层消火栓静压 0\.07 MPa 低于 0\.15 MPa（GB 50974-2014 5\.2\.2）/);
    const lane = await card(ids.lane!).locator('ol.history').innerText();
    expectClean('lane_blocked history (maintenance)', lane, 'zh');
    expect(lane).toContain(`维护 · ${OPERATOR.displayName} · 维护中，不通知（至 2026-11-29 10:00:00）：${MAINTENANCE_REASON}`);
    const alarm = await card(ids.alarm!).locator('ol.history').innerText();
    expectClean('device_alarm history', alarm, 'zh');
    expect(alarm).toContain(`确认 · ${DUTY.displayName}`);
  });

  it('the building page: the alert history (a real fire, a fault closed by the system), the change audit, readings in words', async () => {
    const text = await openBuilding();
    expectClean('building page', text, 'zh');
    const fire = page.locator(`table.alert-history tr[data-alert-id="${ids.fire}"]`);
    expect(await fire.textContent()).toContain('真实火情');
    expect(await fire.locator('ol.history').textContent()).toContain(`关闭 · ${DUTY.displayName} · 真实火情：${FIRE_NOTE}`);
    const fault = page.locator(`table.alert-history tr[data-alert-id="${ids.offline}"]`);
    expect(await fault.textContent()).toContain('系统 于 2026-11-29 08:00:31 关闭');
    expect(await fault.textContent()).toContain('条件已恢复，自动关闭');
    expect(await fault.locator('ol.history').textContent()).toContain('关闭 · 系统 · 条件已恢复，自动关闭');
    // the change audit: what changed in words, who by name, times in Shanghai
    const loosened = page.locator('.audit-panel tr[data-action="device.rules_loosened"]');
    expect(await loosened.textContent()).toContain('水压骤降 · 骤降幅度（MPa）：0.05 → 0.06');
    expect(await loosened.textContent()).toContain('管理员令牌');
    const maint = page.locator('.audit-panel tr[data-action="maintenance.set"]');
    expect(await maint.textContent()).toContain(OPERATOR.displayName);
    expect(await maint.textContent()).toContain('维护至：无 → 2026-11-29 10:00:00');
    expect(await page.locator('.device-card[data-device-id="rf-tank-roof"]').textContent()).toContain('水位 3.2 m');
    await page.screenshot({ path: join(SHOTS, 'language-building-zh.png'), fullPage: true });
  });

  it('the coverage page: the summary as a table and a sentence, the reasons as phrases', async () => {
    const text = await openCoverage();
    expectClean('coverage', text, 'zh');
    expect(text).not.toMatch(/[{}"]/); // no JSON
    const row = page.locator(`table.coverage tr[data-building-id="${BUILDING.id}"]`);
    expect(await row.locator('td.reasons').textContent()).toBe('建筑面积超过 2 万平方米的商业综合体、高层建筑');
    expect(await page.locator('.coverage-summary .summary-line').textContent()).toMatch(/^应纳管楼宇 1 栋：设备全部在线 \d 栋，部分在线 \d 栋，均未在线 \d 栋$/);
    const street = page.locator('.coverage-summary tr[data-street="朝天门"]');
    expect(await street.locator('td.n-buildings').textContent()).toBe('1');
    await page.screenshot({ path: join(SHOTS, 'language-coverage-zh.png'), fullPage: true });
  });

  it("a device's rules: Chinese headers, 静水压（平时）/ 动水压（用水时）, sources as clauses or 设计取值; the way back names the building", async () => {
    const text = await openDeviceRules();
    expectClean('device rules', text, 'zh');
    expect(text).toContain(`← 返回楼宇：${BUILDING.name}`);
    expect(await page.locator('table.rules thead').innerText()).toMatch(/规则\s+阈值\s+持续 \/ 恢复\s+启用\s+来源/);
    const low = await page.locator('table.rules tr[data-rule="pressure_low"]').innerText();
    expect(low).toContain('静水压（平时）：0.15 MPa');
    expect(low).toContain('动水压（用水时）：0.35 MPa');
    expect(low).toContain('GB 50974-2014 5.2.2（最不利点静水压）');
    // overridden on this device: a device setting, not a standard's value
    expect(await page.locator('table.rules tr[data-rule="pressure_drop"]').innerText()).toContain('设备设定值');
    expect(await page.locator('table.rules tr[data-rule="device_offline"]').innerText()).toContain('设计取值（无标准值）');
    await page.screenshot({ path: join(SHOTS, 'language-device-rules-zh.png'), fullPage: true });
  });

  it('history entries stored before they carried `info` are worded too (an upgraded installation)', async () => {
    const legacy = [
      { at: '2026-11-29T00:00:31.000Z', action: 'closed', by: 'system', detail: 'fault cleared' },
      { at: '2026-11-29T00:00:00.000Z', action: 'closed', by: 'zhao.duty', detail: `real_fire: ${FIRE_NOTE}` },
      { at: '2026-11-29T00:01:00.000Z', action: 'escalated', by: 'system', detail: '超过1分钟未响应 / not acknowledged by the response deadline' },
      { at: '2026-11-29T00:01:00.000Z', action: 'maintenance', by: 'qian.ops', detail: `维护中，不通知 / in maintenance until 2026-11-29T02:00:00.000Z: ${MAINTENANCE_REASON}` },
      { at: '2026-11-29T00:10:00.000Z', action: 'recurred', by: 'system', detail: '仍未恢复 / still active: 消防车道仍被占用（已 10 分钟）' },
    ];
    // the console's own module in the page (a string: vitest would rewrite a dynamic import in a function)
    const words: string[] = await page.evaluate(`import('/console/js/board.js').then((board) => ${JSON.stringify(legacy)}.map((e) => board.historyText(e)))`);
    expect(words).toEqual([
      '条件已恢复，自动关闭',
      `真实火情：${FIRE_NOTE}`,
      '超过1分钟未响应',
      `维护中，不通知（至 2026-11-29 10:00:00）：${MAINTENANCE_REASON}`,
      '仍未恢复：消防车道仍被占用（已 10 分钟）',
    ]);
    expectClean('older history entries', words.join('\n'), 'zh');
  });

  it('the record of the real fire and the fault records: the whole history in words, 系统 for the system', async () => {
    const text = await openRecords();
    expectClean('records', text, 'zh');
    expect(await page.locator(`table.records tr[data-alert-id="${ids.offline}"] td.closed`).textContent()).toContain('系统');
  });
});

describe('the same views in English when switched', () => {
  beforeAll(async () => {
    await page.evaluate(() => localStorage.setItem('fw.lang', 'en'));
    await page.reload();
    await page.waitForFunction(() => document.querySelector('nav a.nav-board')?.textContent === 'Alert board');
  });

  it('the board and the card histories', async () => {
    const text = await openBoard();
    expectEnglish('board', text);
    expect(await card(ids.alarm!).locator('.message').textContent()).toBe('Device reports an alarm: cable temperature alarm (code temperature_alarm)');
    const low = await card(ids.low!).locator('ol.history').innerText();
    expect(low).toContain('escalated · System · Not acknowledged by the response deadline (08:01:00)');
    const lane = await card(ids.lane!).locator('ol.history').innerText();
    expect(lane).toContain(`maintenance · ${OPERATOR.displayName} · In maintenance, nobody is paged (until 2026-11-29 10:00:00): ${MAINTENANCE_REASON}`);
    expect(await page.locator(`.lane-closed li[data-alert-id="${ids.fire}"]`).innerText()).toContain('Real fire');
    await page.screenshot({ path: join(SHOTS, 'language-board-en.png'), fullPage: true });
  });

  it('the building page', async () => {
    const text = await openBuilding();
    expectEnglish('building page', text);
    const fault = page.locator(`table.alert-history tr[data-alert-id="${ids.offline}"]`);
    expect(await fault.textContent()).toContain('Closed by System at 2026-11-29 08:00:31');
    expect(await fault.textContent()).toContain('Condition cleared; closed automatically');
  });

  it('the coverage page', async () => {
    const text = await openCoverage();
    expectEnglish('coverage', text);
    expect(await page.locator(`table.coverage tr[data-building-id="${BUILDING.id}"] td.reasons`).textContent()).toBe('Commercial complex over 20,000 m², High-rise building');
  });

  it("a device's rules", async () => {
    const text = await openDeviceRules();
    expectEnglish('device rules', text);
    expect(text).toContain(`← Back to the building: ${BUILDING.name}`);
    const low = await page.locator('table.rules tr[data-rule="pressure_low"]').innerText();
    expect(low).toContain('Static (standby): 0.15 MPa');
    expect(low).toContain('Dynamic (flowing): 0.35 MPa');
    expect(await page.locator('table.rules tr[data-rule="device_offline"]').innerText()).toContain('design choice (no standard value)');
  });

  it('the records', async () => {
    expectEnglish('records', await openRecords());
  });

  it('no page threw an uncaught error', async () => {
    await page.evaluate(() => localStorage.setItem('fw.lang', 'zh'));
    expect(pageErrors).toEqual([]);
  });
});
