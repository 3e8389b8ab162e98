/** The HTTP API against a real service: registry CRUD, problem+json errors, auth, health, metrics, OpenAPI, secrets. */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/config/config.js';
import { startFirewatch } from '../../server/main.js';
import { createLogger } from '../../services/shared/logger.js';
import { LiveClient } from '../support/live.js';
import { ApiClient, connectDevice, endClient, provisionDevice, publish, startService, tempDir, type TestService } from '../support/service.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.stop();
});

const building = {
  name: '解放碑英利国际金融中心',
  street: '解放碑',
  address: '邹容路68号',
  type: 'public',
  heightM: 288,
  floors: 62,
  areaM2: 230000,
  category: 1,
  use: 'complex',
  contactName: '张工',
  contactPhone: '023-6300 0000',
};

describe('authentication', () => {
  it('refuses missing and wrong tokens with problem+json 401', async () => {
    const anon = new ApiClient(svc.fw.httpUrl, undefined);
    const r = await anon.get('/api/v1/buildings');
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.body).toMatchObject({ status: 401, code: 'unauthorized' });
    expect((await new ApiClient(svc.fw.httpUrl, 'nope').get('/api/v1/devices')).status).toBe(401);
  });
});

describe('buildings', () => {
  it('create, read, patch, list with filters, delete', async () => {
    const c = await svc.api.post('/api/v1/buildings', { ...building, id: 'ifc-jfb' });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ ...building, id: 'ifc-jfb' });
    expect((await svc.api.get('/api/v1/buildings/ifc-jfb')).body.name).toBe(building.name);
    const p = await svc.api.patch('/api/v1/buildings/ifc-jfb', { floors: 63, contactPhone: null });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ ...building, floors: 63, contactPhone: null });
    await svc.api.post('/api/v1/buildings', { ...building, id: 'market-18t', name: '十八梯综合大楼', street: '南纪门', use: 'market', areaM2: 1788, floors: 29, heightM: 95 });
    const byStreet = await svc.api.get(`/api/v1/buildings?street=${encodeURIComponent('南纪门')}`);
    expect(byStreet.body.items.map((b: any) => b.id)).toEqual(['market-18t']);
    const byUse = await svc.api.get('/api/v1/buildings?use=complex');
    expect(byUse.body.items.map((b: any) => b.id)).toContain('ifc-jfb');
    expect((await svc.api.delete('/api/v1/buildings/market-18t')).status).toBe(204);
    expect((await svc.api.get('/api/v1/buildings/market-18t')).status).toBe(404);
  });

  it('validation errors list every problem; unknown ids are 404; duplicates 409', async () => {
    const bad = await svc.api.post('/api/v1/buildings', { name: '', street: 'Broadway', type: 'castle' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.code).toBe('validation_failed');
    expect(bad.body.errors.length).toBeGreaterThanOrEqual(3);
    const missing = await svc.api.get('/api/v1/buildings/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    await svc.api.post('/api/v1/buildings', { ...building, id: 'dup-b' });
    const dup = await svc.api.post('/api/v1/buildings', { ...building, id: 'dup-b' });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('building_exists');
  });

  it('a building with devices cannot be deleted', async () => {
    const d = await provisionDevice(svc.api);
    const r = await svc.api.delete(`/api/v1/buildings/${d.buildingId}`);
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('building_has_devices');
  });

  it('pages with limit and nextCursor', async () => {
    for (let i = 0; i < 5; i++) await svc.api.post('/api/v1/buildings', { ...building, id: `page-${i}`, street: '石油路' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/v1/buildings?street=${encodeURIComponent('石油路')}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await svc.api.get(q);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((b: any) => b.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect((await svc.api.get('/api/v1/buildings?limit=1001')).status).toBe(400);
  });
});

describe('devices', () => {
  it('registration shows credentials once, with the MQTT topics; GET never shows the password', async () => {
    const b = await svc.api.post('/api/v1/buildings', { ...building, id: 'dev-host' });
    expect(b.status).toBe(201);
    const c = await svc.api.post('/api/v1/devices', { buildingId: 'dev-host', kind: 'water_pressure', point: 'hydrant_top', location: '62F 屋顶水箱间', reportIntervalS: 30, vendor: 'ACME', model: 'P-100' });
    expect(c.status).toBe(201);
    expect(c.body.credentials.username).toBe(c.body.id);
    expect(c.body.credentials.password.length).toBeGreaterThanOrEqual(24);
    expect(c.body.mqtt.telemetryTopic).toBe(`fire/v1/${c.body.id}/telemetry`);
    const g = await svc.api.get(`/api/v1/devices/${c.body.id}`);
    expect(JSON.stringify(g.body)).not.toContain(c.body.credentials.password);
    expect(g.body.status).toMatchObject({ online: false, accepted: 0, rejected: 0, lastReading: null, lastRejected: null });
  });

  it('a water_pressure device needs a point; point is refused for other kinds; unknown building is 404', async () => {
    expect((await svc.api.post('/api/v1/devices', { buildingId: 'dev-host', kind: 'water_pressure' })).status).toBe(400);
    expect((await svc.api.post('/api/v1/devices', { buildingId: 'dev-host', kind: 'fire_lane', point: 'hydrant_top' })).status).toBe(400);
    expect((await svc.api.post('/api/v1/devices', { buildingId: 'ghost', kind: 'fire_lane' })).status).toBe(404);
    expect((await svc.api.post('/api/v1/devices', { buildingId: 'dev-host', kind: 'fire_lane', id: 'bad/id' })).status).toBe(400);
  });

  it('patch, filter by building and kind, delete', async () => {
    await svc.api.post('/api/v1/buildings', { ...building, id: 'filter-b' });
    const a = await svc.api.post('/api/v1/devices', { buildingId: 'filter-b', kind: 'fire_lane', id: 'lane-1' });
    await svc.api.post('/api/v1/devices', { buildingId: 'filter-b', kind: 'electrical_fire', id: 'ef-1' });
    expect(a.status).toBe(201);
    const p = await svc.api.patch('/api/v1/devices/lane-1', { location: '北侧消防车道', reportIntervalS: 10 });
    expect(p.body).toMatchObject({ location: '北侧消防车道', reportIntervalS: 10, kind: 'fire_lane' });
    const lanes = await svc.api.get('/api/v1/devices?buildingId=filter-b&kind=fire_lane');
    expect(lanes.body.items.map((d: any) => d.id)).toEqual(['lane-1']);
    expect((await svc.api.delete('/api/v1/devices/lane-1')).status).toBe(204);
    expect((await svc.api.get('/api/v1/devices/lane-1')).status).toBe(404);
    expect((await svc.api.get('/api/v1/devices?buildingId=filter-b')).body.items.map((d: any) => d.id)).toEqual(['ef-1']);
  });

  it('readings API rejects a bad time with problem+json', async () => {
    const d = await provisionDevice(svc.api);
    const r = await svc.api.get(`/api/v1/devices/${d.deviceId}/readings?from=yesterday`);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('bad_time');
  });
});

describe('health, metrics, OpenAPI', () => {
  it('/healthz and /readyz', async () => {
    expect((await svc.api.get('/healthz')).body).toEqual({ status: 'ok' });
    const r = await svc.api.get('/readyz');
    expect(r.status).toBe(200);
    expect(r.body.ready).toBe(true);
    expect(r.body.checks.store).toMatchObject({ ready: true, store: 'sqlite' });
    expect(r.body.checks.broker.ready).toBe(true);
  });

  it('/metrics exposes connections, accepted/rejected, stage latencies', async () => {
    const d = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, d);
    await publish(client, `fire/v1/${d.deviceId}/telemetry`, { pressureMpa: 0.2 });
    await publish(client, `fire/v1/${d.deviceId}/telemetry`, 'nope');
    const text = (await svc.api.get('/metrics')).body as string;
    await endClient(client);
    expect(text).toMatch(/firewatch_mqtt_connections [1-9]/);
    expect(text).toMatch(/firewatch_messages_accepted_total\{kind="water_pressure",channel="telemetry"\} [1-9]/);
    expect(text).toMatch(/firewatch_messages_rejected_total\{reason="bad_json"\} [1-9]/);
    expect(text).toContain('firewatch_stage_duration_seconds_bucket{le="0.001",stage="validate"}');
    expect(text).toContain('firewatch_process_resident_memory_bytes');
  });

  it('OpenAPI is served at /docs', async () => {
    const html = await fetch(`${svc.fw.httpUrl}/docs`);
    expect(html.status).toBe(200);
    const spec = (await svc.api.get('/docs/json')).body;
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/devices', '/api/v1/devices/{id}/readings', '/api/v1/buildings/{id}']));
  });
});

describe('secrets', () => {
  it('device passwords are stored as SHA-256 digests (ADR 0007) and never logged', async () => {
    const dir = tempDir();
    let logText = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logText += chunk.toString();
        cb();
      },
    });
    const config = loadConfig({ MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', DATA_DIR: dir, ADMIN_TOKEN: 'a-very-secret-admin-token-0123456789', LOG_LEVEL: 'trace' });
    const fw = await startFirewatch(config, { logger: createLogger('trace', sink) });
    try {
      const api = new ApiClient(fw.httpUrl, 'a-very-secret-admin-token-0123456789');
      const d = await provisionDevice(api);
      const client = await connectDevice(`mqtt://127.0.0.1:${fw.mqttPorts.mqtt}`, d);
      await publish(client, `fire/v1/${d.deviceId}/telemetry`, { pressureMpa: 0.2 });
      await endClient(client);
      await connectDevice(`mqtt://127.0.0.1:${fw.mqttPorts.mqtt}`, { deviceId: d.deviceId, password: 'guess-123' }).catch(() => undefined);
      const feed = await LiveClient.connect(fw.httpUrl, 'a-very-secret-admin-token-0123456789'); // the token travels in ?token=
      await feed.close();
      await fw.close();
      expect(logText).toContain('token=[redacted]');
      expect(logText.length).toBeGreaterThan(0);
      expect(logText).not.toContain(d.password);
      expect(logText).not.toContain('a-very-secret-admin-token-0123456789');
      expect(logText).not.toContain('guess-123');
      const db = new Database(join(dir, 'firewatch.db'), { readonly: true });
      const row = db.prepare('SELECT hash FROM device_credentials WHERE device_id = ?').get(d.deviceId) as { hash: string };
      db.close();
      expect(row.hash).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
      expect(row.hash).not.toContain(d.password);
    } finally {
      await fw.close();
    }
  });

  it('without ADMIN_TOKEN, one is generated on first start, shown once, and only its hash is kept', async () => {
    const dir = tempDir();
    const env = { MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'silent' };
    const shown: string[] = [];
    const fw1 = await startFirewatch(loadConfig(env), { announceSecret: (t) => shown.push(t) });
    await fw1.close();
    expect(shown).toHaveLength(1);
    const token = /\n {4}(\S+)\n/.exec(shown[0]!)?.[1];
    expect(token).toBeDefined();
    const fw2 = await startFirewatch(loadConfig(env), { announceSecret: (t) => shown.push(t) });
    try {
      expect(shown).toHaveLength(1); // not shown again
      expect((await new ApiClient(fw2.httpUrl, token).get('/api/v1/buildings')).status).toBe(200);
      const db = new Database(join(dir, 'firewatch.db'), { readonly: true });
      const settings = JSON.stringify(db.prepare('SELECT * FROM settings').all());
      db.close();
      expect(settings).not.toContain(token!);
    } finally {
      await fw2.close();
    }
  });
});
