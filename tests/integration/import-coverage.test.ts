/**
 * The district survey import (HTTP and the `firewatch import buildings` CLI as a child process)
 * and the coverage report with its CSV export, against a real service and SQLite.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, provisionDevice, startService, tempDir, waitFor, type TestService } from '../support/service.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'tests', 'fixtures', 'market-survey.csv');

let svc: TestService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.stop();
});

async function postCsv(body: string | Buffer, token = ADMIN_TOKEN, contentType = 'text/csv') {
  const res = await fetch(`${svc.fw.httpUrl}/api/v1/import/buildings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function buildingsNamed(name: string) {
  const all = (await svc.api.get('/api/v1/buildings?limit=1000')).body.items as any[];
  return all.filter((b) => b.name === name);
}

describe('POST /api/v1/import/buildings', () => {
  it('stores the good rows, reports the bad ones by line, and a re-import updates instead of duplicating', async () => {
    const first = await postCsv(readFileSync(FIXTURE));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: 3, updated: 0, headerRow: 1, ignoredColumns: [] });
    expect(first.body.failed.map((f: any) => [f.row, f.errors.map((e: any) => e.code)])).toEqual([
      [6, ['street_unknown']],
      [7, ['name_missing', 'area_invalid']],
      [8, ['floors_invalid', 'yes_no_invalid']],
    ]);
    const street = first.body.failed[0].errors[0];
    expect(street).toMatchObject({ field: '所属街道', zh: expect.stringContaining('观音桥'), en: expect.stringContaining('not one of') });

    const [b] = await buildingsNamed('十八梯综合大楼');
    expect(b).toMatchObject({
      street: '南纪门',
      address: '十八梯步行街1号',
      contactName: '陈经理',
      contactPhone: '023-6380 0001',
      areaM2: 1788,
      floors: 29,
      use: 'market',
      type: 'public',
      survey: { no: '1', fireAlarm: true, sprinklers: true, hydrants: true, smokeControl: true, hazards: '疏散通道堆放杂物，部分应急照明损坏', remarks: '已责令限期整改' },
    });
    expect((await buildingsNamed('解放西路121号住宅楼'))[0].survey.remarks).toBe('底层商铺\n与住宅共用楼梯');

    // idempotent: same file again → updated, no duplicates; a changed cell is written
    const changed = readFileSync(FIXTURE, 'utf8').replace('023-6380 0003', '023-6380 9999');
    const second = await postCsv(changed);
    expect(second.body).toMatchObject({ created: 0, updated: 3 });
    expect(second.body.failed).toHaveLength(3);
    expect(await buildingsNamed('十八梯综合大楼')).toHaveLength(1);
    expect((await buildingsNamed('解放碑地下人防工程'))[0].contactPhone).toBe('023-6380 9999');
    expect(second.body.imported.map((i: any) => i.buildingId)).toEqual(first.body.imported.map((i: any) => i.buildingId));
  });

  it('accepts JSON { csv } and GB18030 bytes', async () => {
    const json = await svc.api.post('/api/v1/import/buildings', { csv: '商市场名称,所属街道,面积\r\n大坪测试市场,大坪街道,12000\r\n' });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ created: 1, failed: [] });
    // "商市场名称,所属街道\n大坪GBK市场,大坪\n" encoded in GB18030, as Excel/WPS save CSV in China
    const gb = Buffer.from('c9cccad0b3a1c3fbb3c62ccbf9caf4bdd6b5c00ab4f3c6ba47424bcad0b3a12cb4f3c6ba0a', 'hex');
    const r = await postCsv(gb);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.imported.map((i: any) => i.name)).toEqual(['大坪GBK市场']);
  });

  it('refuses a file without the survey header (400), and non-admins (403)', async () => {
    const bad = await postCsv('name,street\nx,y\n');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('csv_header_invalid');
    expect(bad.body.details.errors[0]).toMatchObject({ code: 'header_missing' });
    expect((await postCsv('')).status).toBe(400);
    const tok = await svc.api.post('/api/v1/tokens', { name: 'platform-import', role: 'platform' });
    expect((await postCsv(readFileSync(FIXTURE), tok.body.token)).status).toBe(403);
    expect((await postCsv(readFileSync(FIXTURE), 'nope')).status).toBe(401);
  });
});

describe('firewatch import buildings (CLI, child process)', () => {
  const runCli = (args: string[], env: Record<string, string> = {}) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/firewatch.ts', 'import', 'buildings', ...args], {
      cwd: ROOT,
      env: { ...process.env, FIREWATCH_API: '', FIREWATCH_TOKEN: '', ...env },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('imports in chunks, reports bad rows by file line, exits 1 when a row failed', async () => {
    const other = await startService();
    try {
      const r = await runCli([FIXTURE, '--api', other.fw.httpUrl, '--token', ADMIN_TOKEN, '--chunk', '2']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toContain('新建 created 3, 更新 updated 0, 失败 failed 3');
      // line numbers are the file's, even though rows went in chunks of 2
      expect(r.stdout).toContain('第 6 行 / row 6（观音桥批发市场）');
      expect(r.stdout).toContain('第 7 行 / row 7');
      expect(r.stdout).toContain('第 8 行 / row 8（朝天门服装市场）');
      expect(r.stdout).toMatch(/不是 1–200 的整数 \/ floors "二十"/);
      const names = (await other.api.get('/api/v1/buildings')).body.items.map((b: any) => b.name).sort();
      expect(names).toEqual(['十八梯综合大楼', '解放碑地下人防工程', '解放西路121号住宅楼'].sort());

      // env fallbacks; a clean file exits 0 and re-import updates
      const dir = tempDir();
      const good = join(dir, 'good.csv');
      writeFileSync(good, readFileSync(FIXTURE, 'utf8').split(/\r\n(?=[4-6],)/)[0] + '\r\n');
      const again = await runCli([good], { FIREWATCH_API: other.fw.httpUrl, FIREWATCH_TOKEN: ADMIN_TOKEN });
      expect(again.code, again.stderr + again.stdout).toBe(0);
      expect(again.stdout).toContain('新建 created 0, 更新 updated 3, 失败 failed 0');
    } finally {
      await other.stop();
    }
  });

  it('exit 2 without a token or when the API is unreachable', async () => {
    expect((await runCli([FIXTURE])).code).toBe(2);
    const r = await runCli([FIXTURE, '--api', 'http://127.0.0.1:1', '--token', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot reach');
  });
});

describe('coverage', () => {
  it('lists a complex missing kinds, with per-street counts, within scope; CSV with BOM', async () => {
    await svc.api.post('/api/v1/buildings', { id: 'cov-cx', name: '覆盖测试综合体', street: '化龙桥', type: 'public', heightM: 80, floors: 20, areaM2: 120000, use: 'complex' });
    await svc.api.post('/api/v1/buildings', { id: 'cov-low', name: '低层小楼', street: '化龙桥', type: 'public', heightM: 12, floors: 3, areaM2: 800, use: 'office' });
    const wp = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', id: 'cov-cx-wp' }, 'cov-cx');
    await provisionDevice(svc.api, { kind: 'electrical_fire', id: 'cov-cx-ef' }, 'cov-cx');
    const client = await connectDevice(svc.mqttUrl, wp);

    const r = await waitFor(async () => {
      const x = await svc.api.get(`/api/v1/coverage?street=${encodeURIComponent('化龙桥街道')}`);
      return x.body.items?.[0]?.online?.length === 1 ? x : undefined;
    }, 'the pressure sensor online');
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([
      {
        street: '化龙桥',
        buildingId: 'cov-cx',
        name: '覆盖测试综合体',
        use: 'complex',
        reasons: ['complex>20000m2', 'high_rise'],
        required: ['water_pressure', 'water_level', 'electrical_fire', 'fire_lane'],
        registered: ['water_pressure', 'electrical_fire'],
        online: ['water_pressure'],
        missing: ['water_level', 'electrical_fire', 'fire_lane'],
      },
    ]);
    expect(r.body.summary).toEqual([
      { street: '化龙桥', buildings: 1, covered: 0, partial: 1, uncovered: 0, missingByKind: expect.objectContaining({ water_pressure: 0, water_level: 1, electrical_fire: 1, fire_lane: 1 }) },
    ]);

    const all = await svc.api.get('/api/v1/coverage');
    expect(all.body.summary).toHaveLength(11);
    expect((await svc.api.get('/api/v1/coverage?street=观音桥')).status).toBe(400);

    const csv = await fetch(`${svc.fw.httpUrl}/api/v1/coverage.csv?street=${encodeURIComponent('化龙桥')}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toContain('attachment');
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('街道 street,建筑编号 building id,名称 name,用途 use,纳入原因 reasons,应装 required,在线 online,缺少 missing');
    expect(lines[1]).toContain('化龙桥,cov-cx,覆盖测试综合体,complex');
    expect(lines[1]).toContain('消防水位(water_level); 电气火灾(electrical_fire); 消防车道(fire_lane)');
    expect(lines).toHaveLength(2);

    // a duty officer of another street sees none of it
    expect((await svc.api.post('/api/v1/users', { username: 'cov.duty', displayName: '值班', password: 'duty-password-9', role: 'duty', streets: ['大坪'] })).status).toBe(201);
    const login = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username: 'cov.duty', password: 'duty-password-9' });
    const duty = new ApiClient(svc.fw.httpUrl, login.body.token);
    const scoped = await duty.get('/api/v1/coverage');
    expect(scoped.body.items.map((i: any) => i.buildingId)).not.toContain('cov-cx');
    expect(scoped.body.summary.map((s: any) => s.street)).toEqual(['大坪']);
    await endClient(client);
  });
});
