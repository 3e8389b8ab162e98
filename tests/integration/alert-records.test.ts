/**
 * The incident record (警情记录, issue #17 item 4) through HTTP: real MQTT devices raise alerts,
 * duty officers close them with outcomes, and GET /api/v1/alerts/records[.csv] finds them by date
 * (days in Asia/Shanghai), street, building, rule, outcome, person, status and building name,
 * hazards apart from faults, newest first with a cursor, within the principal's scope.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { parseCsv } from '../../services/shared/csv.js';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type Provisioned, type TestService } from '../support/service.js';

let svc: TestService;
let clock: ManualClock;
const clients: MqttClient[] = [];
const users: Record<string, ApiClient> = {};
const tokens: Record<string, string> = {};
// the alerts, in the order they were raised: A1 A2 B1 on 2026-11-29 (Shanghai), A3 on 2026-11-30
const ids: Record<'A1' | 'A2' | 'B1' | 'A3' | 'F1', string> = { A1: '', A2: '', B1: '', A3: '', F1: '' };

const HYPERLINK = '=HYPERLINK("http://evil.example","点我")';
const PLUS_NOTE = '+86 已出动微型消防站';

async function login(username: string, password: string): Promise<ApiClient> {
  const r = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username, password });
  expect(r.status).toBe(200);
  tokens[username] = r.body.token;
  return new ApiClient(svc.fw.httpUrl, r.body.token);
}

async function device(spec: Record<string, unknown>, buildingId: string, rules?: Record<string, unknown>): Promise<Provisioned & { send: (m: unknown) => Promise<void> }> {
  const p = await provisionDevice(svc.api, { reportIntervalS: 3600, ...spec }, buildingId);
  if (rules) expect((await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules, reason: 'records test setup' })).status).toBe(200);
  const client = await connectDevice(svc.mqttUrl, p);
  clients.push(client);
  return { ...p, send: (m) => publish(client, `fire/v1/${p.deviceId}/telemetry`, m) };
}

async function raised(deviceId: string, rule: string): Promise<string> {
  const a = await waitFor(async () => ((await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}&rule=${rule}&status=active`)).body.items as any[])[0], `${rule} on ${deviceId}`);
  return a.id as string;
}

/** the ids of one records page, or of every page when `all` */
async function recordIds(query = '', as: ApiClient = svc.api): Promise<string[]> {
  const r = await as.get(`/api/v1/alerts/records${query ? `?${query}` : ''}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body.items as any[]).map((a) => a.id);
}

const csvOf = async (query: string, token = ADMIN_TOKEN) => {
  const res = await fetch(`${svc.fw.httpUrl}/api/v1/alerts/records.csv${query ? `?${query}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { res, bytes, rows: parseCsv(new TextDecoder('utf-8').decode(bytes)).records.map((r) => r.fields) };
};

const q = (o: Record<string, string>) => new URLSearchParams(o).toString();

beforeAll(async () => {
  clock = new ManualClock(); // 2026-11-29 00:00 UTC = 08:00 in Shanghai
  svc = await startService({ SESSION_TTL_H: '48' }, undefined, { clock });
  const building = async (b: Record<string, unknown>) =>
    expect((await svc.api.post('/api/v1/buildings', { address: '某路 1 号', type: 'public', heightM: 60, floors: 15, category: 1, use: 'complex', ...b })).status).toBe(201);
  await building({ id: 'tower-a', name: '重庆时代广场', street: '解放碑' });
  await building({ id: 'b-qxg', name: '七星岗某住宅', street: '七星岗', type: 'residential', use: 'residence' });
  const user = async (username: string, role: string, scope: Record<string, unknown>) => {
    expect((await svc.api.post('/api/v1/users', { username, displayName: username, password: `${username}-password`, role, ...scope })).status).toBe(201);
    users[username] = await login(username, `${username}-password`);
  };
  await user('li.duty', 'duty', { streets: ['解放碑'], displayName: '李值班' });
  await user('chen.duty', 'duty', { streets: ['解放碑'] });
  await user('zhang.duty', 'duty', { streets: ['七星岗'] });
  await user('zhao.duty', 'duty', { streets: ['朝天门'] });
  await user('wang.ops', 'operator', { buildingIds: ['tower-a'] });

  const hydrant = await device({ kind: 'water_pressure', point: 'hydrant_top', location: 'T1 15F 屋顶消火栓' }, 'tower-a', { pressure_low: { forS: 0, clearS: 0 }, pressure_drop: { enabled: false } });
  const ef = await device({ kind: 'electrical_fire', location: 'B1 配电室' }, 'tower-a', { residual_current_high: { forS: 0 } });
  const qef = await device({ kind: 'electrical_fire', location: '1 单元配电箱' }, 'b-qxg', { residual_current_high: { forS: 0 } });
  await hydrant.send({ pressureMpa: 0.05 });
  ids.A1 = await raised(hydrant.deviceId, 'pressure_low'); // 08:00:00
  clock.advance(60_000);
  await ef.send({ residualCurrentMa: 650 });
  ids.A2 = await raised(ef.deviceId, 'residual_current_high'); // 08:01:00
  clock.advance(60_000);
  await qef.send({ residualCurrentMa: 650 });
  ids.B1 = await raised(qef.deviceId, 'residual_current_high'); // 08:02:00

  // closed in another order than raised: A2, then B1, then A1
  clock.advance(30_000);
  expect((await users['chen.duty']!.post(`/api/v1/alerts/${ids.A2}/ack`, { note: '已通知微型消防站' })).status).toBe(200);
  clock.advance(30_000);
  expect((await users['chen.duty']!.post(`/api/v1/alerts/${ids.A2}/close`, { outcome: 'real_fire', note: PLUS_NOTE })).status).toBe(200);
  clock.advance(60_000);
  expect((await users['zhang.duty']!.post(`/api/v1/alerts/${ids.B1}/close`, { outcome: 'test', note: '联动测试' })).status).toBe(200);
  clock.advance(60_000);
  expect((await users['li.duty']!.post(`/api/v1/alerts/${ids.A1}/close`, { outcome: 'false_alarm', note: HYPERLINK })).status).toBe(200);

  // a fault that closes itself: a 10 s sensor goes silent, then reports again
  const flaky = await device({ kind: 'water_pressure', point: 'network', reportIntervalS: 10 }, 'tower-a');
  await flaky.send({ pressureMpa: 0.3 });
  clock.advance(31_000);
  ids.F1 = await raised(flaky.deviceId, 'device_offline');
  await flaky.send({ pressureMpa: 0.3 });
  await waitFor(async () => (await svc.api.get(`/api/v1/alerts/${ids.F1}`)).body.status === 'closed', 'the fault closed itself');

  // the next day in Shanghai (2026-11-30 01:00 +08:00), still 2026-11-29 in UTC
  clock.advance(17 * 3_600_000);
  const level = await device({ kind: 'water_level', location: '屋顶水箱' }, 'tower-a', { level_low: { threshold: 2, forS: 0 } });
  await level.send({ levelM: 1.5 });
  ids.A3 = await raised(level.deviceId, 'level_low');
});

afterAll(async () => {
  for (const c of clients) await endClient(c).catch(() => undefined);
  await svc?.stop();
});

describe('GET /api/v1/alerts/records', () => {
  it('lists hazards only by default, newest first, without history and with where the device is; faults are apart', async () => {
    const r = await svc.api.get('/api/v1/alerts/records');
    expect(r.status).toBe(200);
    expect(r.body.items.map((a: any) => a.id)).toEqual([ids.A3, ids.B1, ids.A2, ids.A1]);
    expect(r.body.nextCursor).toBeNull();
    const a1 = r.body.items.find((a: any) => a.id === ids.A1);
    expect(a1).toMatchObject({ class: 'hazard', rule: 'pressure_low', street: '解放碑', buildingName: '重庆时代广场', location: 'T1 15F 屋顶消火栓', closedBy: 'li.duty', outcome: 'false_alarm' });
    expect(a1.history).toBeUndefined();
    // faults: the self-closed one is there, closed by the system; no hazard among them
    const faults = (await svc.api.get('/api/v1/alerts/records?class=fault')).body.items as any[];
    expect(faults.map((a) => a.id)).toContain(ids.F1);
    expect(faults.every((a) => a.class === 'fault')).toBe(true);
    expect(faults.find((a) => a.id === ids.F1)).toMatchObject({ rule: 'device_offline', status: 'closed', closedBy: 'system', outcome: 'fault' });
    // GET /alerts keeps its behaviour: both classes, no cursor
    const plain = (await svc.api.get('/api/v1/alerts?limit=1000')).body;
    expect(plain.items.map((a: any) => a.id)).toEqual(expect.arrayContaining([ids.A1, ids.F1]));
    expect(plain.items[0].history.length).toBeGreaterThan(0);
  });

  it('each filter narrows the list: dates (days in Asia/Shanghai), opened or closed, street, building, rule, outcome, person, status, building name', async () => {
    // dates are Shanghai days: A3 was raised at 2026-11-30 01:00 +08:00 (2026-11-29 17:00 UTC)
    expect(await recordIds('from=2026-11-30')).toEqual([ids.A3]);
    expect(await recordIds('to=2026-11-29')).toEqual([ids.B1, ids.A2, ids.A1]);
    expect(await recordIds('from=2026-11-29&to=2026-11-29')).toEqual([ids.B1, ids.A2, ids.A1]);
    expect(await recordIds(q({ from: '2026-11-29T08:01:00+08:00', to: '2026-11-29T08:02:00+08:00' }))).toEqual([ids.B1, ids.A2]);
    expect(await recordIds(`from=${Date.UTC(2026, 10, 29, 0, 1)}&to=${Date.UTC(2026, 10, 29, 0, 1)}`)).toEqual([ids.A2]);
    // by the closing time: closed ones only, in the order they were closed (newest first)
    expect(await recordIds('dateField=closed')).toEqual([ids.A1, ids.B1, ids.A2]);
    expect(await recordIds('dateField=closed&from=2026-11-29&to=2026-11-29')).toEqual([ids.A1, ids.B1, ids.A2]);
    expect(await recordIds('dateField=closed&from=2026-11-30')).toEqual([]);
    expect(await recordIds(q({ street: '七星岗' }))).toEqual([ids.B1]);
    expect(await recordIds(q({ street: '解放碑街道' }))).toEqual([ids.A3, ids.A2, ids.A1]);
    expect(await recordIds('buildingId=b-qxg')).toEqual([ids.B1]);
    expect(await recordIds('rule=residual_current_high')).toEqual([ids.B1, ids.A2]);
    expect(await recordIds('outcome=false_alarm')).toEqual([ids.A1]);
    expect(await recordIds('outcome=real_fire')).toEqual([ids.A2]);
    expect(await recordIds('person=chen.duty')).toEqual([ids.A2]); // acknowledged and closed
    expect(await recordIds('person=li.duty')).toEqual([ids.A1]); // closed straight away
    expect(await recordIds('person=zhang.duty')).toEqual([ids.B1]);
    expect(await recordIds('person=nobody')).toEqual([]);
    expect(await recordIds('status=active')).toEqual([ids.A3]);
    expect(await recordIds('status=closed')).toEqual([ids.B1, ids.A2, ids.A1]);
    expect(await recordIds(q({ q: '时代' }))).toEqual([ids.A3, ids.A2, ids.A1]);
    expect(await recordIds(q({ q: '住宅' }))).toEqual([ids.B1]);
    expect(await recordIds(q({ q: '%' }))).toEqual([]); // LIKE wildcards are text
    expect(await recordIds(q({ street: '解放碑', outcome: 'false_alarm', person: 'li.duty', from: '2026-11-29', rule: 'pressure_low', status: 'closed' }))).toEqual([ids.A1]);
    expect(await recordIds('class=fault&rule=device_offline&person=system&status=closed')).toContain(ids.F1);
    // bad input is refused with the reason
    expect((await svc.api.get('/api/v1/alerts/records?from=yesterday')).body.code).toBe('bad_time');
    expect((await svc.api.get(`/api/v1/alerts/records?${q({ street: '火星' })}`)).body.code).toBe('street_unknown');
    expect((await svc.api.get('/api/v1/alerts/records?outcome=burnt')).status).toBe(400);
    expect((await svc.api.get('/api/v1/alerts/records?class=all')).status).toBe(400);
  });

  it('pages with a cursor, newest first, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { body: { items: any[]; nextCursor: string | null } } = await svc.api.get(`/api/v1/alerts/records?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      seen.push(...r.body.items.map((a) => a.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([ids.A3, ids.B1, ids.A2, ids.A1]);
    expect(pages).toBe(4);
    // by the closing time: the cursor follows that order
    const p1 = (await svc.api.get('/api/v1/alerts/records?dateField=closed&limit=2')).body;
    expect(p1.items.map((a: any) => a.id)).toEqual([ids.A1, ids.B1]);
    const p2 = (await svc.api.get(`/api/v1/alerts/records?dateField=closed&limit=2&cursor=${encodeURIComponent(p1.nextCursor)}`)).body;
    expect(p2).toMatchObject({ nextCursor: null });
    expect(p2.items.map((a: any) => a.id)).toEqual([ids.A2]);
    expect((await svc.api.get('/api/v1/alerts/records?cursor=not-a-cursor')).body.code).toBe('bad_cursor');
  });

  it('is scoped to the principal: a duty officer sees its streets, an operator its buildings, another street nothing', async () => {
    const li = users['li.duty']!;
    expect(await recordIds('', li)).toEqual([ids.A3, ids.A2, ids.A1]);
    expect(await recordIds(q({ street: '七星岗' }), li)).toEqual([]);
    expect(await recordIds('buildingId=b-qxg', li)).toEqual([]);
    expect(await recordIds('person=zhang.duty', li)).toEqual([]);
    expect(await recordIds('', users['zhang.duty'])).toEqual([ids.B1]);
    // a duty officer of 朝天门, where nothing happened: nothing, hazards or faults, JSON or CSV
    const zhao = users['zhao.duty']!;
    expect(await recordIds('', zhao)).toEqual([]);
    expect(await recordIds('class=fault', zhao)).toEqual([]);
    expect(await recordIds(q({ street: '解放碑' }), zhao)).toEqual([]);
    expect((await csvOf('', tokens['zhao.duty'])).rows).toHaveLength(1); // the header only
    const ops = users['wang.ops']!;
    expect(await recordIds('', ops)).toEqual([ids.A3, ids.A2, ids.A1]);
    expect(await recordIds('buildingId=b-qxg', ops)).toEqual([]);
    const opsFaults = (await ops.get('/api/v1/alerts/records?class=fault&limit=1000')).body.items as any[];
    expect(opsFaults.length).toBeGreaterThan(0);
    expect(opsFaults.every((a) => a.buildingId === 'tower-a')).toBe(true);
    expect((await new ApiClient(svc.fw.httpUrl, undefined).get('/api/v1/alerts/records')).status).toBe(401);
  });
});

describe('GET /api/v1/alerts/records.csv', () => {
  it('exports the same filter for Excel: UTF-8 BOM, Chinese headers first, Asia/Shanghai times, formula cells neutralised', async () => {
    const { res, bytes, rows } = await csvOf('outcome=false_alarm');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent('警情记录.csv')}`);
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...data] = rows;
    expect(header!.slice(0, 12).map((h) => h.split(' ')[0])).toEqual(['开始时间', '街道', '楼宇', '位置', '规则', '级别', '确认时间', '确认人', '处置时间', '处置人', '处置结果', '处置说明']);
    expect(data).toHaveLength(1);
    const row = Object.fromEntries(header!.map((h, i) => [h.split(' ')[0], data[0]![i]]));
    expect(row).toMatchObject({
      开始时间: '2026-11-29 08:00:00',
      街道: '解放碑',
      楼宇: '重庆时代广场',
      位置: 'T1 15F 屋顶消火栓',
      规则: '水压过低(pressure_low)',
      确认人: '李值班 (li.duty)',
      处置时间: '2026-11-29 08:05:00',
      处置人: '李值班 (li.duty)',
      处置结果: '误报(false_alarm)',
      处置说明: `'${HYPERLINK}`,
      告警编号: ids.A1,
    });

    // no filter: every hazard in the list's order; the '+' note neutralised too, faults not there
    const all = await csvOf('');
    expect(all.rows.slice(1).map((r) => r.at(-1))).toEqual([ids.A3, ids.B1, ids.A2, ids.A1]);
    const a2 = all.rows.find((r) => r.at(-1) === ids.A2)!;
    expect(a2).toContain(`'${PLUS_NOTE}`);
    expect(a2).toContain('2026-11-29 08:02:30'); // acknowledged
    expect(a2).toContain('真实火情(real_fire)');
    expect((await csvOf('class=fault')).rows.slice(1).map((r) => r.at(-1))).toContain(ids.F1);
    // the duty officer's export is its streets' only
    expect((await csvOf('', tokens['li.duty'])).rows.slice(1).map((r) => r.at(-1))).toEqual([ids.A3, ids.A2, ids.A1]);
  });
});
