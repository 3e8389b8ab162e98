/**
 * The fire-safety code through the wire: grey (never connected) → green → yellow (maintenance) →
 * red (fire evidence) and back; QR codes; the public page and JSON show nothing private; scope.
 * The decision table's other rows: safety-code-rules.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

let svc: TestService;
let anon: ApiClient;
beforeAll(async () => {
  svc = await startService();
  anon = new ApiClient(svc.fw.httpUrl, undefined);
});
afterAll(async () => {
  await svc?.stop();
});

const PRIVATE = { contactName: '周经理', contactPhone: '023-6388 7766', address: '邹容路99号' };

/** a low office building, which the district plan does not require to be monitored (coverage.ts) */
async function newBuilding(id: string, street = '解放碑', name = '安全码测试大厦') {
  const r = await svc.api.post('/api/v1/buildings', { id, name, street, type: 'public', heightM: 18, floors: 5, use: 'office', ...PRIVATE });
  expect(r.status).toBe(201);
}

const code = async (id: string) => {
  const r = await svc.api.get(`/api/v1/buildings/${id}/safety-code`);
  expect(r.status).toBe(200);
  return r.body;
};

describe('safety code', () => {
  it('grey (never connected) → green → yellow (maintenance) → red (hazard) → back, with reasons', async () => {
    await newBuilding('sc-one', '解放碑', '解放碑安全码测试楼');
    const ef = await provisionDevice(svc.api, { kind: 'electrical_fire', id: 'sc-one-ef', reportIntervalS: 3600 }, 'sc-one');
    // registered but never connected: no evidence, grey
    let c = await code('sc-one');
    expect(c).toMatchObject({ buildingId: 'sc-one', name: '解放碑安全码测试楼', street: '解放碑', status: 'grey', counts: { offline: 0 } });
    expect(c.reasons).toEqual([
      { code: 'not_connected', level: 'grey', zh: '尚未接入物联网监测设备，本码不反映消防设施状态', en: 'No monitoring device is connected: the code cannot show the state of the fire facilities' },
      { code: 'devices_pending', level: 'info', zh: '1 台监测设备已登记，尚未接入', en: '1 monitoring device is registered but not connected yet' },
    ]);
    expect(c.publicUrl).toBe(`${svc.fw.httpUrl}/s/${c.publicId}`);
    expect(c.publicId).toMatch(/^[A-Za-z0-9_-]{16}$/);

    const client = await connectDevice(svc.mqttUrl, ef);
    c = await waitFor(async () => {
      const x = await code('sc-one');
      return x.status === 'green' ? x : undefined;
    }, 'green once the device is online');
    expect(c.reasons).toEqual([{ code: 'all_normal', level: 'green', zh: '消防设施监测正常', en: 'All monitored fire facilities are normal' }]);
    expect(c.counts).toEqual({ hazards: 0, faults: 0, offline: 0, maintenance: 0 });

    // maintenance on the building: yellow until it ends
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await svc.api.request('PUT', '/api/v1/buildings/sc-one/maintenance', { until, reason: '年度检测' })).status).toBe(200);
    c = await code('sc-one');
    expect(c).toMatchObject({ status: 'yellow', counts: { maintenance: 1 } });
    expect(c.reasons).toEqual([{ code: 'maintenance', level: 'yellow', zh: '消防设施维护保养中', en: 'Fire facilities are under maintenance' }]);
    expect((await svc.api.delete('/api/v1/buildings/sc-one/maintenance')).status).toBe(204);
    expect((await code('sc-one')).status).toBe('green');

    // a hazard: red, with the reason in plain words
    await publish(client, `fire/v1/${ef.deviceId}/telemetry`, { residualCurrentMa: 650 });
    c = await waitFor(async () => {
      const x = await code('sc-one');
      return x.status === 'red' ? x : undefined;
    }, 'red on a hazard');
    expect(c.counts.hazards).toBe(1);
    expect(c.reasons).toEqual([
      { code: 'hazard.residual_current_high', level: 'red', zh: '电气线路剩余电流超限（电气火灾隐患），待处置', en: 'Residual current over the limit (electrical fire risk); being handled' },
    ]);
    const page = await fetch(c.publicUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-status="red"');

    // closing the hazard ends red
    const a = (await svc.api.get(`/api/v1/alerts?deviceId=${ef.deviceId}&status=active`)).body.items[0];
    expect((await svc.api.post(`/api/v1/alerts/${a.id}/close`, { outcome: 'false_alarm', note: '接线错误，已整改' })).status).toBe(200);
    expect((await code('sc-one')).status).toBe('green');

    // the device drops off: noted, and green until SAFETY_CODE_OFFLINE_H (safety-code-rules.test.ts)
    await endClient(client);
    c = await waitFor(async () => {
      const x = await code('sc-one');
      return x.counts.offline === 1 ? x : undefined;
    }, 'the device counted offline');
    expect(c.status).toBe('green');
    expect(c.reasons.map((r: any) => r.code)).toEqual(['all_normal', 'offline_recent']);
  });

  it('a hazard raised while a device is in maintenance makes yellow, not red', async () => {
    await newBuilding('sc-maint', '解放碑', '维护测试楼');
    const ef = await provisionDevice(svc.api, { kind: 'electrical_fire', id: 'sc-maint-ef', reportIntervalS: 3600 }, 'sc-maint');
    const client = await connectDevice(svc.mqttUrl, ef);
    await waitFor(async () => (await code('sc-maint')).status === 'green', 'green');
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await svc.api.request('PUT', `/api/v1/devices/${ef.deviceId}/maintenance`, { until, reason: '更换探测器' })).status).toBe(200);
    await publish(client, `fire/v1/${ef.deviceId}/telemetry`, { residualCurrentMa: 600 });
    const c = await waitFor(async () => {
      const x = await code('sc-maint');
      return x.reasons.some((r: any) => r.code === 'maintenance_alerts') ? x : undefined;
    }, 'the maintenance alert');
    expect(c.status).toBe('yellow');
    expect(c.counts).toMatchObject({ hazards: 0, maintenance: 1 });
    expect(c.reasons.map((r: any) => r.code)).toEqual(['maintenance_alerts', 'maintenance']);
    await endClient(client);
  });

  it('the public page and JSON carry nothing private', async () => {
    await newBuilding('sc-pub', '七星岗', '七星岗公开页测试楼');
    await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', id: 'sc-pub-secret-device' }, 'sc-pub');
    const c = await code('sc-pub');
    const json = await anon.get(`/api/public/safety-code/${c.publicId}`);
    expect(json.status).toBe(200);
    expect(json.headers.get('cache-control')).toBe('no-store');
    expect(json.body).toEqual({ name: '七星岗公开页测试楼', street: '七星岗', status: 'grey', reasons: expect.any(Array), counts: expect.any(Object), updatedAt: expect.any(String) });
    const res = await fetch(`${svc.fw.httpUrl}/s/${c.publicId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('七星岗公开页测试楼');
    expect(html).toContain('七星岗街道');
    expect(html.indexOf('灰码')).toBeLessThan(html.indexOf('Grey'));
    expect(html).toMatch(/更新时间：\d{4}-\d\d-\d\d \d\d:\d\d:\d\d（北京时间）/);
    for (const text of [JSON.stringify(json.body), html]) {
      for (const secret of [PRIVATE.contactName, PRIVATE.contactPhone, '6388', PRIVATE.address, 'sc-pub-secret-device', 'sc-pub', 'password']) {
        expect(text, secret).not.toContain(secret);
      }
    }
  });

  it('unknown public ids are 404; the public routes need no token, the others do', async () => {
    expect((await anon.get('/api/public/safety-code/AAAAAAAAAAAAAAAA')).status).toBe(404);
    const page = await fetch(`${svc.fw.httpUrl}/s/AAAAAAAAAAAAAAAA`);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('未找到');
    expect((await anon.get('/api/v1/buildings/sc-pub/safety-code')).status).toBe(401);
    expect((await anon.get('/api/v1/buildings/sc-pub/safety-code.svg')).status).toBe(401);
    expect((await svc.api.get('/api/v1/buildings/nope/safety-code')).status).toBe(404);
  });

  it('the public id is stable across restarts (the secret is kept)', async () => {
    await newBuilding('sc-stable', '解放碑', '重启测试楼');
    const before = (await code('sc-stable')).publicId;
    const dataDir = svc.dataDir;
    await svc.stop({ keepData: true });
    svc = await startService({}, dataDir);
    anon = new ApiClient(svc.fw.httpUrl, undefined);
    expect((await code('sc-stable')).publicId).toBe(before);
    // and resolvable without first asking for it (after a restart the cache is empty)
    expect((await anon.get(`/api/public/safety-code/${before}`)).body.name).toBe('重启测试楼');
  });

  it('QR codes as SVG and PNG', async () => {
    const headers = { authorization: `Bearer ${(svc.api as any).token}` };
    const svg = await fetch(`${svc.fw.httpUrl}/api/v1/buildings/sc-stable/safety-code.svg`, { headers });
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    const text = await svg.text();
    expect(text).toContain('<svg');
    expect(text.length).toBeGreaterThan(500);
    const png = await fetch(`${svc.fw.httpUrl}/api/v1/buildings/sc-stable/safety-code.png?size=256`, { headers });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.readUInt32BE(16)).toBe(256); // IHDR width
    expect(bytes.length).toBeGreaterThan(500);
  });

  it('PUBLIC_BASE_URL sets the link in the code', async () => {
    const other = await startService({ PUBLIC_BASE_URL: 'https://fw.example.cn/' });
    try {
      await other.api.post('/api/v1/buildings', { id: 'sc-base', name: '某楼', street: '大坪', type: 'public' });
      const c = (await other.api.get('/api/v1/buildings/sc-base/safety-code')).body;
      expect(c.publicUrl).toBe(`https://fw.example.cn/s/${c.publicId}`);
    } finally {
      await other.stop();
    }
  });

  it('respects scope: a duty officer of another street gets 404', async () => {
    expect((await svc.api.post('/api/v1/users', { username: 'dp.duty', displayName: '大坪值班', password: 'duty-password-2', role: 'duty', streets: ['大坪'] })).status).toBe(201);
    const login = await anon.post('/api/v1/auth/login', { username: 'dp.duty', password: 'duty-password-2' });
    const duty = new ApiClient(svc.fw.httpUrl, login.body.token);
    expect((await duty.get('/api/v1/buildings/sc-stable/safety-code')).status).toBe(404);
    await newBuilding('sc-dp', '大坪');
    expect((await duty.get('/api/v1/buildings/sc-dp/safety-code')).status).toBe(200);
  });
});
