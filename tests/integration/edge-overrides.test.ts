/**
 * Issue #12 item 9 through the wire: an operator cannot silence their own building. Loosening a
 * rule in force, changing the fields that set a building's thresholds and maintenance beyond
 * MAINTENANCE_MAX_OPERATOR_H need a duty officer (of the building's street) or an admin, a reason,
 * and land in the audit history (GET /api/v1/audit) with who, role, when, before → after and why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { ApiClient, provisionDevice, startService, type Provisioned, type TestService } from '../support/service.js';

const H = 3_600_000;
let svc: TestService;
let clock: ManualClock;
let hydrant: Provisioned; // hydrant_top in a 250 m public complex: pressure_low 0.15 MPa
let detector: Provisioned; // electrical_fire in the same building: device_alarm
let operator: ApiClient;
let duty: ApiClient;
let otherDuty: ApiClient;

async function login(username: string, password: string): Promise<ApiClient> {
  const r = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username, password });
  expect(r.status).toBe(200);
  return new ApiClient(svc.fw.httpUrl, r.body.token);
}

const rulesOf = async (deviceId: string) => (await svc.api.get(`/api/v1/devices/${deviceId}/rules`)).body.rules;
const audit = async (query = '') => (await svc.api.get(`/api/v1/audit${query}`)).body.items as any[];
const chineseFirst = (detail: string) => expect(detail).toMatch(/^[\u4e00-\u9fff]/);

beforeAll(async () => {
  clock = new ManualClock(Date.parse('2026-12-01T02:00:00Z'));
  svc = await startService({ MAINTENANCE_MAX_OPERATOR_H: '72' }, undefined, { clock });
  hydrant = await provisionDevice(
    svc.api,
    { kind: 'water_pressure', point: 'hydrant_top' },
    { id: 'b-cts', name: '来福士广场', street: '朝天门', type: 'public', heightM: 250, floors: 60, category: 1, use: 'complex' },
  );
  detector = await provisionDevice(svc.api, { kind: 'electrical_fire' }, 'b-cts');
  const users = [
    { username: 'zhao.ops', displayName: '赵物业', password: 'operator-pass-1', role: 'operator', buildingIds: ['b-cts'] },
    { username: 'chen.duty', displayName: '陈值班', password: 'duty-password-1', role: 'duty', streets: ['朝天门'] },
    { username: 'qian.duty', displayName: '钱值班', password: 'duty-password-2', role: 'duty', streets: ['七星岗'] },
  ];
  for (const u of users) expect((await svc.api.post('/api/v1/users', u)).status).toBe(201);
  operator = await login('zhao.ops', 'operator-pass-1');
  duty = await login('chen.duty', 'duty-password-1');
  otherDuty = await login('qian.duty', 'duty-password-2');
});
afterAll(async () => {
  await svc?.stop();
});

describe('rule overrides: loosening needs duty or admin, tightening stays the operator\'s', () => {
  it('an operator may not disable device_alarm (403, Chinese first), even with a reason', async () => {
    const r = await operator.patch(`/api/v1/devices/${detector.deviceId}`, { rules: { device_alarm: { enabled: false } }, reason: '误报太多' });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('forbidden');
    chineseFirst(r.body.detail);
    expect(r.body.detail).toContain('device_alarm.enabled true → false');
    expect((await rulesOf(detector.deviceId)).device_alarm.enabled).toBe(true);
  });

  it('an operator may not lower pressure_low, or lengthen its delay', async () => {
    expect((await rulesOf(hydrant.deviceId)).pressure_low.threshold).toBe(0.15);
    const lower = await operator.patch(`/api/v1/devices/${hydrant.deviceId}`, { rules: { pressure_low: { threshold: 0.07 } } });
    expect(lower.status).toBe(403);
    expect(lower.body.detail).toContain('pressure_low.threshold 0.15 → 0.07');
    expect((await operator.patch(`/api/v1/devices/${hydrant.deviceId}`, { rules: { pressure_low: { forS: 600 } } })).status).toBe(403);
    expect((await rulesOf(hydrant.deviceId)).pressure_low).toMatchObject({ threshold: 0.15, forS: 60 });
  });

  it('an operator may tighten: a higher pressure_low, a shorter delay, a faster clear', async () => {
    const r = await operator.patch(`/api/v1/devices/${hydrant.deviceId}`, { rules: { pressure_low: { threshold: 0.2, forS: 30, clearS: 0 } } });
    expect(r.status).toBe(200);
    expect((await rulesOf(hydrant.deviceId)).pressure_low).toMatchObject({ threshold: 0.2, forS: 30, clearS: 0 });
    // undoing a tightening is a loosening of what is in force
    const reset = await operator.patch(`/api/v1/devices/${hydrant.deviceId}`, { rules: null });
    expect(reset.status).toBe(403);
    expect(reset.body.detail).toContain('pressure_low.threshold 0.2 → 0.15');
    // a change that loosens nothing is not audited
    expect(await audit(`?deviceId=${hydrant.deviceId}`)).toEqual([]);
  });

  it('a duty officer of the street disables device_alarm with a reason: 200 and an audit entry; without one: 400', async () => {
    const without = await duty.patch(`/api/v1/devices/${detector.deviceId}`, { rules: { device_alarm: { enabled: false } } });
    expect(without.status).toBe(400);
    expect(without.body.code).toBe('reason_required');
    chineseFirst(without.body.detail);
    expect((await duty.patch(`/api/v1/devices/${detector.deviceId}`, { rules: { device_alarm: { enabled: false } }, reason: '  ' })).status).toBe(400);
    expect((await rulesOf(detector.deviceId)).device_alarm.enabled).toBe(true);

    const ok = await duty.patch(`/api/v1/devices/${detector.deviceId}`, { rules: { device_alarm: { enabled: false } }, reason: '探测器报警触点损坏，厂家48小时内更换' });
    expect(ok.status).toBe(200);
    expect(ok.body).not.toHaveProperty('reason');
    expect((await rulesOf(detector.deviceId)).device_alarm.enabled).toBe(false);

    const [e, ...rest] = await audit(`?deviceId=${detector.deviceId}`);
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      action: 'device.rules_loosened',
      by: 'chen.duty',
      role: 'duty',
      buildingId: 'b-cts',
      deviceId: detector.deviceId,
      street: '朝天门',
      reason: '探测器报警触点损坏，厂家48小时内更换',
      before: { rules: null },
      after: { rules: { device_alarm: { enabled: false } } },
      changes: [{ what: 'device_alarm.enabled', before: true, after: false }],
    });
    expect(Date.parse(e.at)).toBe(clock.now());
  });

  it('a duty officer changes only alerting fields, and only in its streets', async () => {
    const r = await duty.patch(`/api/v1/devices/${detector.deviceId}`, { location: 'B1 配电房' });
    expect(r.status).toBe(403);
    expect((await otherDuty.patch(`/api/v1/devices/${detector.deviceId}`, { rules: { device_alarm: { enabled: true } } })).status).toBe(404);
  });

  it('an admin loosens with a reason too; the admin token is recorded as system:admin', async () => {
    expect((await svc.api.patch(`/api/v1/devices/${hydrant.deviceId}`, { rules: { pressure_low: { threshold: 0.1 } } })).status).toBe(400);
    const ok = await svc.api.patch(`/api/v1/devices/${hydrant.deviceId}`, { rules: { pressure_low: { threshold: 0.1 } }, reason: '设计复核：顶层消火栓静压 0.10 MPa' });
    expect(ok.status).toBe(200);
    const [e] = await audit(`?deviceId=${hydrant.deviceId}`);
    // the overrides are replaced as a whole: the operator's forS 30 goes back to 60, listed too
    expect(e).toMatchObject({ by: 'system:admin', role: 'admin', reason: '设计复核：顶层消火栓静压 0.10 MPa' });
    expect(e.changes).toEqual(
      expect.arrayContaining([
        { what: 'pressure_low.threshold', before: 0.2, after: 0.1 },
        { what: 'pressure_low.forS', before: 30, after: 60 },
      ]),
    );
  });
});

describe('building fields that set thresholds', () => {
  it('an operator may not reclassify its building (0.15 → 0.07 MPa), but may change its contacts and other fields', async () => {
    await svc.api.patch(`/api/v1/devices/${hydrant.deviceId}`, { rules: null, reason: '恢复默认' });
    expect((await rulesOf(hydrant.deviceId)).pressure_low.threshold).toBe(0.15);
    const r = await operator.patch('/api/v1/buildings/b-cts', { type: 'residential', heightM: 60, floors: 20 });
    expect(r.status).toBe(403);
    chineseFirst(r.body.detail);
    expect(r.body.detail).toContain('hydrant_top pressure_low.threshold 0.15 → 0.07');
    expect((await svc.api.get('/api/v1/buildings/b-cts')).body).toMatchObject({ type: 'public', heightM: 250 });
    expect((await rulesOf(hydrant.deviceId)).pressure_low.threshold).toBe(0.15);

    expect((await operator.patch('/api/v1/buildings/b-cts', { contactName: '赵经理', contactPhone: '023-6300 0000' })).status).toBe(200);
    // floors of a building whose height is recorded change no threshold
    expect((await operator.patch('/api/v1/buildings/b-cts', { floors: 61 })).status).toBe(200);
    expect(await audit('?buildingId=b-cts&action=building.thresholds_changed')).toEqual([]);
  });

  it('an admin reclassifies with a reason: 200, the new threshold in force, and an audit entry', async () => {
    const without = await svc.api.patch('/api/v1/buildings/b-cts', { type: 'residential', heightM: 60, floors: 20 });
    expect(without.status).toBe(400);
    expect(without.body.code).toBe('reason_required');
    const ok = await svc.api.patch('/api/v1/buildings/b-cts', { type: 'residential', heightM: 60, floors: 20, reason: '区消防救援支队复核：住宅，60 m' });
    expect(ok.status).toBe(200);
    expect(ok.body).not.toHaveProperty('reason');
    expect((await rulesOf(hydrant.deviceId)).pressure_low.threshold).toBe(0.07);

    const [e, ...rest] = await audit('?buildingId=b-cts&action=building.thresholds_changed');
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      by: 'system:admin',
      role: 'admin',
      buildingId: 'b-cts',
      deviceId: null,
      reason: '区消防救援支队复核：住宅，60 m',
      before: { type: 'public', heightM: 250, floors: 61, category: 1, use: 'complex' },
      after: { type: 'residential', heightM: 60, floors: 20, category: 1, use: 'complex' },
    });
    expect(e.changes).toEqual(
      expect.arrayContaining([
        { what: 'type', before: 'public', after: 'residential' },
        { what: 'heightM', before: 250, after: 60 },
        { what: 'hydrant_top pressure_low.threshold', before: 0.15, after: 0.07 },
      ]),
    );
  });

  it('a duty officer of the street may reclassify (with a reason), nothing else of the building', async () => {
    expect((await duty.patch('/api/v1/buildings/b-cts', { contactPhone: '110' })).status).toBe(403);
    expect((await duty.patch('/api/v1/buildings/b-cts', { type: 'public', heightM: 250 })).status).toBe(400);
    const ok = await duty.patch('/api/v1/buildings/b-cts', { type: 'public', heightM: 250, reason: '恢复原分类' });
    expect(ok.status).toBe(200);
    expect((await rulesOf(hydrant.deviceId)).pressure_low.threshold).toBe(0.15);
    expect((await audit('?buildingId=b-cts&action=building.thresholds_changed'))[0]).toMatchObject({ by: 'chen.duty', role: 'duty', reason: '恢复原分类' });
  });
});

describe('maintenance windows', () => {
  const until = (hours: number) => new Date(clock.now() + hours * H).toISOString();
  const put = (api: ApiClient, path: string, body: unknown) => api.request('PUT', path, body);

  it('an operator may set 24 h but not 100 h, and not until the year 9999 (403, Chinese first)', async () => {
    const long = await put(operator, '/api/v1/buildings/b-cts/maintenance', { until: until(100), reason: '改造施工' });
    expect(long.status).toBe(403);
    chineseFirst(long.body.detail);
    expect(long.body.detail).toContain('72');
    const forever = await put(operator, `/api/v1/devices/${hydrant.deviceId}/maintenance`, { until: '9999-12-31T00:00:00Z', reason: '长期维护' });
    expect(forever.status).toBe(403);
    expect((await svc.api.get(`/api/v1/devices/${hydrant.deviceId}/maintenance`)).body).toBeNull();
    expect((await svc.api.get('/api/v1/buildings/b-cts/maintenance')).body).toBeNull();

    const day = await put(operator, '/api/v1/buildings/b-cts/maintenance', { until: until(24), reason: '年度检测' });
    expect(day.status).toBe(200);
    expect(day.body).toMatchObject({ by: 'zhao.ops', reason: '年度检测' });
    // short windows are recorded too, so a chain of renewals is visible
    expect((await audit('?buildingId=b-cts&action=maintenance.set'))[0]).toMatchObject({ by: 'zhao.ops', role: 'operator', reason: '年度检测', after: { target: 'building', hours: 24 } });
    expect((await operator.delete('/api/v1/buildings/b-cts/maintenance')).status).toBe(204);
    expect((await audit('?buildingId=b-cts&action=maintenance.ended'))[0]).toMatchObject({ by: 'zhao.ops', before: { reason: '年度检测' } });
  });

  it('a duty officer of the street sets 100 h with a reason: 200 and an audit entry', async () => {
    const r = await put(duty, '/api/v1/buildings/b-cts/maintenance', { until: until(100), reason: '消防水泵房改造，经大队批准' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ by: 'chen.duty', reason: '消防水泵房改造，经大队批准' });
    const [e] = await audit('?buildingId=b-cts&action=maintenance.set');
    expect(e).toMatchObject({
      by: 'chen.duty',
      role: 'duty',
      buildingId: 'b-cts',
      deviceId: null,
      reason: '消防水泵房改造，经大队批准',
      before: null,
      after: { target: 'building', targetId: 'b-cts', until: until(100), hours: 100 },
      changes: [{ what: 'maintenance.until', before: null, after: until(100) }],
    });
    expect((await put(duty, '/api/v1/buildings/b-cts/maintenance', { until: until(100), reason: ' ' })).status).toBe(400);
    // another street's duty officer does not see the building
    expect((await put(otherDuty, '/api/v1/buildings/b-cts/maintenance', { until: until(1), reason: 'x' })).status).toBe(404);
    // the operator cannot stretch the approved window either
    expect((await put(operator, '/api/v1/buildings/b-cts/maintenance', { until: until(200), reason: '延期' })).status).toBe(403);
    expect((await svc.api.get('/api/v1/buildings/b-cts/maintenance')).body.until).toBe(until(100));
  });

  it('the bound counts from now: 72 h is allowed, 72.1 h is not', async () => {
    expect((await put(operator, `/api/v1/devices/${detector.deviceId}/maintenance`, { until: until(72), reason: '更换探测器' })).status).toBe(200);
    expect((await put(operator, `/api/v1/devices/${detector.deviceId}/maintenance`, { until: until(72.1), reason: '更换探测器' })).status).toBe(403);
  });
});

describe('other changes that are recorded', () => {
  it('a survey import that changes floors of a building without a height is recorded as the importer\'s', async () => {
    expect((await svc.api.post('/api/v1/buildings', { id: 'b-mkt', name: '朝天门批发市场', street: '朝天门', type: 'public', heightM: null, floors: 3, use: 'market' })).status).toBe(201);
    const header = '序号,商市场名称,地址,联系人,电话,面积,该市场所在建筑名称,该市场所在建筑的总层数,是否设置火灾自动报警系统,是否设置火灾自动喷水灭火系统,是否设置室内消火栓系统,是否设置防烟排烟系统,排查发现的消防安全隐患,所属街道,备注';
    const r = await svc.api.post('/api/v1/import/buildings', { csv: `${header}\n1,朝天门批发市场,朝天门,,,,朝天门批发市场,30,是,是,是,是,,朝天门街道,\n` });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ updated: 1, failed: [] });
    const [e] = await audit('?buildingId=b-mkt');
    expect(e).toMatchObject({ action: 'building.thresholds_changed', by: 'system:admin', role: 'admin', reason: '市场调查导入第 2 行 / survey import, row 2' });
    expect(e.changes).toEqual(expect.arrayContaining([{ what: 'floors', before: 3, after: 30 }]));
  });

  it('deleting a device is recorded, with ?reason=', async () => {
    const spare = await provisionDevice(svc.api, { kind: 'fire_lane' }, 'b-cts');
    expect((await operator.delete(`/api/v1/devices/${spare.deviceId}?reason=${encodeURIComponent('设备拆除')}`)).status).toBe(204);
    expect((await audit(`?deviceId=${spare.deviceId}`))[0]).toMatchObject({ action: 'device.deleted', by: 'zhao.ops', role: 'operator', reason: '设备拆除', before: { kind: 'fire_lane' }, after: null });
  });
});

describe('GET /api/v1/audit', () => {
  it('is for admin and duty; a duty officer sees its streets only; newest first with paging', async () => {
    expect((await operator.get('/api/v1/audit')).status).toBe(403);
    expect((await otherDuty.get('/api/v1/audit')).body.items).toEqual([]);
    const mine = (await duty.get('/api/v1/audit?buildingId=b-cts')).body.items;
    const all = await audit('?buildingId=b-cts&limit=1000');
    expect(mine).toEqual(all);
    expect(all.length).toBeGreaterThanOrEqual(8);
    expect(all.every((e, i) => i === 0 || e.id < all[i - 1].id)).toBe(true);
    const first = (await svc.api.get('/api/v1/audit?buildingId=b-cts&limit=3')).body;
    expect(first.items).toEqual(all.slice(0, 3));
    const second = (await svc.api.get(`/api/v1/audit?buildingId=b-cts&limit=3&cursor=${first.nextCursor}`)).body;
    expect(second.items).toEqual(all.slice(3, 6));
  });

  it('survives a restart', async () => {
    const before = await audit('?limit=1000');
    expect(before.length).toBeGreaterThan(0);
    await svc.fw.close();
    const again = await startService({}, svc.dataDir, { clock });
    try {
      expect((await again.api.get('/api/v1/audit?limit=1000')).body.items).toEqual(before);
    } finally {
      await again.stop();
      svc = undefined as unknown as TestService;
    }
  });
});
