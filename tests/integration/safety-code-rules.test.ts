/**
 * The safety code's decision table through the wire (issue #16 item 8): real MQTT devices, the
 * real service, the staff API, the public JSON and the public page. Time moves only by the
 * injected ManualClock.
 *   - a required high-rise without sensors is grey, never green;
 *   - an imported building with an unrectified survey hazard is yellow, with the reason;
 *   - an overflow (level_high) is yellow, not red;
 *   - a major hazard is yellow until its deadline passes unanswered; fire evidence is red, acknowledged or not;
 *   - a maintenance window past its bound stops shielding its alerts;
 *   - a device offline for 25 h is yellow; a short outage is only a note.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { ApiClient, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type Provisioned, type TestService } from '../support/service.js';

const H = 3_600_000;
let svc: TestService;
let clock: ManualClock;
let anon: ApiClient;
const clients: MqttClient[] = [];

beforeAll(async () => {
  clock = new ManualClock();
  // The maintenance bound is the authorization's MAINTENANCE_MAX_OPERATOR_H (72 h by default): 6 h
  // here keeps the clock's run short. SQLITE_SYNCHRONOUS=normal: a day of 1 s ticks without an fsync each.
  svc = await startService({ MAINTENANCE_MAX_OPERATOR_H: '6', SQLITE_SYNCHRONOUS: 'normal' }, undefined, { clock });
  anon = new ApiClient(svc.fw.httpUrl, undefined);
});
afterAll(async () => {
  for (const c of clients) if (c.connected) await endClient(c);
  await svc?.stop();
});

const PRIVATE = { contactName: '周经理', contactPhone: '023-6388 7766', address: '邹容路99号' };
let named = 0;
/** a low office building: not one the plan requires to be monitored, unless told */
async function building(id: string, fields: Record<string, unknown> = {}) {
  const r = await svc.api.post('/api/v1/buildings', { id, name: `规则测试楼${++named}号`, street: '解放碑', type: 'public', heightM: 15, floors: 4, use: 'office', ...PRIVATE, ...fields });
  expect(r.status).toBe(201);
}

async function device(buildingId: string, spec: Record<string, unknown>, rules?: Record<string, unknown>): Promise<Provisioned & { client: MqttClient; send: (m: unknown) => Promise<void>; event: (m: unknown) => Promise<void> }> {
  const p = await provisionDevice(svc.api, { reportIntervalS: 3600, ...spec }, buildingId);
  if (rules) expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return {
    ...p,
    client,
    send: (m) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m),
    event: (m) => publish(client, `fire/v1/${p.deviceId}/event`, m),
  };
}

const code = async (id: string) => {
  const r = await svc.api.get(`/api/v1/buildings/${id}/safety-code`);
  expect(r.status).toBe(200);
  return r.body;
};
const until = async (id: string, what: string, ok: (c: any) => boolean) =>
  waitFor(async () => {
    const c = await code(id);
    return ok(c) ? c : undefined;
  }, what);
const publicJson = async (publicId: string) => (await anon.get(`/api/public/safety-code/${publicId}`)).body;
const publicPage = async (publicId: string) => {
  const res = await fetch(`${svc.fw.httpUrl}/s/${publicId}`);
  expect(res.status).toBe(200);
  return res.text();
};
const activeAlert = async (deviceId: string, rule: string) =>
  waitFor(async () => ((await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}&status=active`)).body.items as any[]).find((a) => a.rule === rule), `${rule} on ${deviceId}`);
const reasonCodes = (c: any) => c.reasons.map((r: any) => r.code);

describe('safety code rules through the wire', () => {
  it('a required high-rise with no sensor is grey on the API, the public JSON and the public page, never green', async () => {
    await building('scr-tall', { heightM: 120, floors: 30 });
    const c = await code('scr-tall');
    expect(c.status).toBe('grey');
    expect(c.reasons).toEqual([
      { code: 'required_not_connected', level: 'grey', zh: '按区消防物联网建设要求（高层建筑）应接入监测，尚未接入', en: 'The district plan requires monitoring (high-rise); not connected yet' },
    ]);
    expect(await publicJson(c.publicId)).toMatchObject({ status: 'grey', reasons: c.reasons });
    const html = await publicPage(c.publicId);
    expect(html).toContain('data-status="grey"');
    expect(html).toContain('<h1>灰码：未接入监测</h1>');
    expect(html).toContain('按区消防物联网建设要求（高层建筑）应接入监测，尚未接入');
    expect(html).not.toContain('<h1>绿码');
    // the rules are on the page, Chinese first
    expect(html).toContain('安全码规则');
    expect(html.indexOf('安全码规则')).toBeLessThan(html.indexOf('What the colours mean'));
    for (const secret of [PRIVATE.contactName, PRIVATE.contactPhone, PRIVATE.address, 'scr-tall']) expect(html, secret).not.toContain(secret);

    // a sensor registered but never connected: still grey, and noted
    await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', id: 'scr-tall-p' }, 'scr-tall');
    expect(await code('scr-tall')).toMatchObject({ status: 'grey', reasons: [{ code: 'required_not_connected' }, { code: 'devices_pending', level: 'info' }] });

    // not required and without sensors: grey too, in its own words
    await building('scr-low');
    expect(await code('scr-low')).toMatchObject({ status: 'grey', reasons: [{ code: 'not_connected', zh: '尚未接入物联网监测设备，本码不反映消防设施状态' }] });
  });

  it('an imported building with an unrectified survey hazard is yellow with the reason; 已整改 lifts it', async () => {
    const header =
      '序号,商市场名称,地址,联系人,电话,面积,该市场所在建筑名称,该市场所在建筑的总层数,是否设置火灾自动报警系统,是否设置火灾自动喷水灭火系统,是否设置室内消火栓系统,是否设置防烟排烟系统,排查发现的消防安全隐患,所属街道,备注';
    const rows = [
      '1,十八梯综合市场,十八梯步行街1号,陈经理,023-6380 0001,"1,788",十八梯综合大楼,29,是,是,是,是,"疏散通道堆放杂物，部分应急照明损坏",南纪门街道,已责令限期整改',
      '2,大坪小商场,大坪正街2号,刘女士,138 0000 0002,900,大坪小楼,3,是,是,是,是,无,大坪,',
    ];
    const first = await svc.api.request('POST', '/api/v1/import/buildings', { csv: [header, ...rows].join('\n') });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: 2, failed: [] });
    const [market, small] = first.body.imported.map((i: any) => i.buildingId);

    // 29 floors: a high-rise the plan requires, no sensor, and a hazard with no rectification recorded
    let c = await code(market);
    expect(c.status).toBe('yellow');
    expect(c.reasons).toEqual([
      { code: 'survey_hazard', level: 'yellow', zh: '区消防安全排查发现隐患，尚无整改完成记录', en: 'The district fire-safety survey found hazards; no rectification is recorded' },
      { code: 'required_not_connected', level: 'grey', zh: '按区消防物联网建设要求（高层建筑）应接入监测，尚未接入', en: 'The district plan requires monitoring (high-rise); not connected yet' },
    ]);
    const html = await publicPage(c.publicId);
    expect(html).toContain('data-status="yellow"');
    expect(html).toContain('区消防安全排查发现隐患，尚无整改完成记录');
    // the survey's free text, the contact and the phone stay private
    for (const secret of ['疏散通道堆放杂物', '陈经理', '023-6380 0001', '十八梯步行街1号']) expect(html, secret).not.toContain(secret);
    // "无" is no hazard: a small market not required, without sensors, is grey
    expect(await code(small)).toMatchObject({ status: 'grey', reasons: [{ code: 'not_connected' }] });

    // the follow-up: 整改情况 未整改 → still yellow, "尚未整改"; 已整改 → the hazard no longer counts
    const again = (state: string) => svc.api.request('POST', '/api/v1/import/buildings', { csv: `${header},整改情况\n${rows[0]},${state}\n` });
    expect((await again('未整改')).body).toMatchObject({ updated: 1, failed: [] });
    c = await code(market);
    expect(c).toMatchObject({ status: 'yellow', reasons: [{ code: 'survey_hazard', zh: '区消防安全排查发现隐患，尚未整改' }, { code: 'required_not_connected' }] });
    expect((await svc.api.get(`/api/v1/buildings/${market}`)).body.survey).toMatchObject({ hazards: '疏散通道堆放杂物，部分应急照明损坏', rectification: 'pending' });
    expect((await again('已整改')).body).toMatchObject({ updated: 1, failed: [] });
    c = await code(market);
    expect(c.status).toBe('grey');
    expect(reasonCodes(c)).toEqual(['required_not_connected', 'survey_rectified']);
    // a value that is neither fails the row, saying what is allowed
    const bad = (await again('不清楚')).body;
    expect(bad.failed).toEqual([{ row: 2, name: '十八梯综合市场', errors: [expect.objectContaining({ field: '整改情况', code: 'rectification_invalid' })] }]);
  });

  it('an overflow (level_high) makes it yellow, not red, even unanswered past the deadline', async () => {
    await building('scr-tank');
    const tank = await device('scr-tank', { kind: 'water_level' }, { level_high: { enabled: true, threshold: 4.5, forS: 0, clearS: 0 } });
    await tank.send({ levelM: 3.2 });
    await until('scr-tank', 'green once the sensor reports', (c) => c.status === 'green');
    await tank.send({ levelM: 5.1 });
    await activeAlert(tank.deviceId, 'level_high');
    let c = await code('scr-tank');
    expect(c.status).toBe('yellow');
    expect(c.counts.hazards).toBe(1);
    expect(c.reasons).toEqual([{ code: 'hazard.level_high', level: 'yellow', zh: '消防水池/水箱水位偏高，待处置', en: 'Fire-water tank level is too high; being handled' }]);
    clock.advance(61_000); // past ALERT_ACK_S with nobody answering: a warning stays yellow
    c = await code('scr-tank');
    expect(c.status).toBe('yellow');
    expect((await publicJson(c.publicId)).status).toBe('yellow');
    expect(await publicPage(c.publicId)).toContain('data-status="yellow"');
  });

  it('a major hazard is yellow until unanswered past its deadline; fire evidence is red, acknowledged or not', async () => {
    await building('scr-fire');
    const hydrant = await device('scr-fire', { kind: 'water_pressure', point: 'hydrant_top' }, { pressure_low: { forS: 0, clearS: 0 } });
    const ef = await device('scr-fire', { kind: 'electrical_fire' });
    await hydrant.send({ pressureMpa: 0.09 });
    await ef.send({ residualCurrentMa: 50 });
    await until('scr-fire', 'green', (c) => c.status === 'green');

    // fire-water pressure low (major): yellow while the duty room still has time to respond
    await hydrant.send({ pressureMpa: 0.06 }); // below 0.07 MPa, too small a fall for pressure_drop
    const low = await activeAlert(hydrant.deviceId, 'pressure_low');
    let c = await code('scr-fire');
    expect(c).toMatchObject({ status: 'yellow', reasons: [{ code: 'hazard.pressure_low', level: 'yellow', zh: '消防水压偏低，待处置' }] });
    clock.advance(61_000); // nobody acknowledged within ALERT_ACK_S: red
    c = await code('scr-fire');
    expect(c).toMatchObject({ status: 'red', reasons: [{ code: 'hazard.pressure_low', level: 'red', zh: '消防水压偏低，超时未响应' }] });
    expect((await svc.api.post(`/api/v1/alerts/${low.id}/ack`, { note: '已通知物业检查消防泵' })).status).toBe(200);
    c = await code('scr-fire');
    expect(c).toMatchObject({ status: 'yellow', reasons: [{ code: 'hazard.pressure_low', level: 'yellow', zh: '消防水压偏低，处置中' }] });

    // the electrical-fire detector's own alarm: fire evidence, red at once and after acknowledgement
    await ef.event({ alarm: true, code: 'residual_current' });
    const alarm = await activeAlert(ef.deviceId, 'device_alarm');
    c = await code('scr-fire');
    expect(c.status).toBe('red');
    expect(c.reasons.map((r: any) => [r.code, r.level])).toEqual([
      ['hazard.device_alarm', 'red'],
      ['hazard.pressure_low', 'yellow'],
    ]);
    expect((await svc.api.post(`/api/v1/alerts/${alarm.id}/ack`, {})).status).toBe(200);
    c = await code('scr-fire');
    expect(c).toMatchObject({ status: 'red', reasons: [{ code: 'hazard.device_alarm', level: 'red', zh: '监测设备报警，处置中' }, { code: 'hazard.pressure_low' }] });
    expect((await publicJson(c.publicId)).status).toBe('red');
    expect(await publicPage(c.publicId)).toContain('data-status="red"');
  });

  it('a maintenance window past MAINTENANCE_MAX_OPERATOR_H no longer shields its alerts', async () => {
    await building('scr-maint');
    const ef = await device('scr-maint', { kind: 'electrical_fire' });
    await ef.send({ residualCurrentMa: 40 });
    await until('scr-maint', 'green', (c) => c.status === 'green');
    const untilIso = new Date(clock.now() + 10 * 24 * H).toISOString();
    expect((await svc.api.request('PUT', `/api/v1/devices/${ef.deviceId}/maintenance`, { until: untilIso, reason: '更换配电柜，分期施工' })).status).toBe(200);
    await ef.send({ residualCurrentMa: 600 });
    await activeAlert(ef.deviceId, 'residual_current_high');
    let c = await code('scr-maint');
    expect(c).toMatchObject({ status: 'yellow', counts: { hazards: 0, maintenance: 1 } });
    expect(reasonCodes(c)).toEqual(['maintenance_alerts', 'maintenance']);

    clock.advance(7 * H);
    await ef.send({ residualCurrentMa: 600 }); // still reporting (so not offline)
    c = await until('scr-maint', 'red once the window is past its bound', (x) => x.status === 'red');
    expect(c.counts.hazards).toBe(1);
    expect(c.reasons.map((r: any) => [r.code, r.level])).toEqual([
      ['hazard.residual_current_high', 'red'],
      ['maintenance_overdue', 'yellow'],
    ]);
    expect(c.reasons[1].zh).toBe('1 台监测设备维护已超过 6 小时');
    expect(await publicPage(c.publicId)).toContain('超过 6 小时另行提示');
  });

  it('a device offline for 25 h makes it yellow; a short outage is only a note', async () => {
    await building('scr-off');
    const ef = await device('scr-off', { kind: 'electrical_fire' });
    await ef.send({ residualCurrentMa: 30 });
    await until('scr-off', 'green', (c) => c.status === 'green');

    await endClient(ef.client);
    let c = await until('scr-off', 'the outage noted', (x) => reasonCodes(x).includes('offline_recent'));
    expect(c.status).toBe('green');
    expect(c.reasons).toEqual([
      { code: 'all_normal', level: 'green', zh: '消防设施监测正常', en: 'All monitored fire facilities are normal' },
      { code: 'offline_recent', level: 'info', zh: '1 台监测设备暂时离线（不足 24 小时）', en: '1 monitoring device is briefly offline (less than 24 h)' },
    ]);
    expect(c.counts.offline).toBe(1);
    expect(await publicPage(c.publicId)).toContain('<li data-code="offline_recent" data-level="info" class="note">');

    clock.advance(23 * H);
    expect((await code('scr-off')).status).toBe('green');
    clock.advance(2 * H); // 25 h
    c = await code('scr-off');
    expect(c.status).toBe('yellow');
    // the device_offline fault (raised after 3 × reportIntervalS) is the same fact, not counted twice
    expect(c.reasons).toEqual([{ code: 'offline', level: 'yellow', zh: '1 台监测设备离线超过 24 小时', en: '1 monitoring device has been offline for more than 24 h' }]);
    expect(await publicPage(c.publicId)).toContain('data-status="yellow"');
  });
});
