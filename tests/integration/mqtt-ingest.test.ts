/**
 * Through the wire: the real service on port 0, real MQTT clients (mqtt.js and mosquitto_pub),
 * a real SQLite file. Bad input is rejected and counted; the good messages beside it are stored
 * and the device stays connected.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDevice,
  endClient,
  metricValue,
  provisionDevice,
  publish,
  startService,
  waitFor,
  type TestService,
} from '../support/service.js';

const run = promisify(execFile);
let svc: TestService;

beforeAll(async () => {
  svc = await startService({ MAX_PAYLOAD_BYTES: '2048', DEVICE_RATE_PER_S: '1', DEVICE_RATE_BURST: '200' });
});
afterAll(async () => {
  await svc?.stop();
});

const telemetry = (id: string) => `fire/v1/${id}/telemetry`;
const readings = async (id: string, q = '') => (await svc.api.get(`/api/v1/devices/${id}/readings${q}`)).body.items as any[];
const metrics = async () => (await svc.api.get('/metrics')).body as string;

describe('good readings of every kind are stored and read back', () => {
  const cases: Array<[Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = [
    [{ kind: 'water_pressure', point: 'hydrant_top' }, { pressureMpa: 0.12 }, { pressureMpa: 0.12 }],
    [{ kind: 'water_level' }, { levelM: 3.45 }, { levelM: 3.45 }],
    [
      { kind: 'electrical_fire' },
      { residualCurrentMa: 150, temperaturesC: [35.5, 36, 41.2] },
      { residualCurrentMa: 150, temperaturesC: [35.5, 36, 41.2] },
    ],
    [{ kind: 'fire_lane' }, { occupied: true }, { occupied: true }],
  ];
  for (const [device, payload, expected] of cases) {
    it(`${device.kind}`, async () => {
      const p = await provisionDevice(svc.api, device);
      const client = await connectDevice(svc.mqttUrl, p);
      const ts = '2026-11-29T08:00:00+08:00';
      await publish(client, telemetry(p.deviceId), { ts, seq: 1, ...payload });
      await endClient(client);
      const items = await readings(p.deviceId);
      expect(items).toEqual([{ ts: '2026-11-29T00:00:00.000Z', seq: 1, ...expected }]);
      const dev = (await svc.api.get(`/api/v1/devices/${p.deviceId}`)).body;
      expect(dev.status.accepted).toBe(1);
      expect(dev.status.lastReading.fields).toEqual(expected);
    });
  }

  it('a backlog array is stored whole, newest first, with from/to/limit filters', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p);
    const base = Date.UTC(2026, 10, 28, 0, 0, 0);
    const backlog = Array.from({ length: 20 }, (_, i) => ({ ts: base + i * 60_000, seq: i, pressureMpa: 0.1 + i / 1000 }));
    await publish(client, telemetry(p.deviceId), backlog);
    await endClient(client);
    const all = await readings(p.deviceId, '?limit=100');
    expect(all).toHaveLength(20);
    expect(all[0].seq).toBe(19);
    expect(all[19].seq).toBe(0);
    const window = await readings(p.deviceId, `?from=${base + 5 * 60_000}&to=${new Date(base + 9 * 60_000).toISOString()}`);
    expect(window.map((r) => r.seq)).toEqual([9, 8, 7, 6, 5]);
    expect(await readings(p.deviceId, '?limit=3')).toHaveLength(3);
  });

  it('server time is used when ts is absent; epoch ms is accepted', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p);
    const before = Date.now();
    await publish(client, telemetry(p.deviceId), { pressureMpa: 0.2 });
    await publish(client, telemetry(p.deviceId), { ts: before - 3_600_000, pressureMpa: 0.3 });
    await endClient(client);
    const items = await readings(p.deviceId);
    expect(items).toHaveLength(2);
    expect(Date.parse(items[0].ts)).toBeGreaterThanOrEqual(before);
    expect(items[1]).toEqual({ ts: new Date(before - 3_600_000).toISOString(), pressureMpa: 0.3 });
  });

  it('mosquitto_pub, as in docs/mqtt-contract.md, stores a reading', async () => {
    const p = await provisionDevice(svc.api, { kind: 'water_level' });
    // the guide's tank-level example, run with this device, its password and this service's port
    const guide = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'mqtt-contract.md'), 'utf8');
    const example = guide.replace(/\\\n\s*/g, ' ').split('\n').find((l) => l.startsWith('mosquitto_pub') && l.includes('"levelM"'));
    expect(example, 'the water-level example of docs/mqtt-contract.md').toBeDefined();
    const words = [...example!.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!).slice(1);
    const at = (flag: string) => words[words.indexOf(flag) + 1];
    expect(at('-t'), 'the example publishes on its own device\'s telemetry topic').toBe(telemetry(at('-u')!));
    const own: Record<string, string> = { '-h': '127.0.0.1', '-p': String(svc.fw.mqttPorts.mqtt), '-u': p.deviceId, '-P': p.password, '-t': telemetry(p.deviceId) };
    const args = words.map((w, i) => (i > 0 && own[words[i - 1]!]) || w);
    expect(args).toEqual(expect.arrayContaining(['-V', 'mqttv311', '-q', '1', '-m']));
    await run('mosquitto_pub', args);
    const sent = JSON.parse(at('-m')!) as { levelM: number };
    expect((await readings(p.deviceId)).map((r) => r.levelM)).toEqual([sent.levelM]);
  });
});

describe('bad input is rejected and counted; the good messages beside it are kept', () => {
  it('malformed, oversized, out-of-range, unknown-kind and future messages between good ones', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p);
    const before = await metrics();
    let closed = false;
    client.on('close', () => (closed = true));
    const t = telemetry(p.deviceId);
    await publish(client, t, { seq: 1, pressureMpa: 0.11 });
    await publish(client, t, '{"pressureMpa": 0.1'); // bad_json
    await publish(client, t, { pressureMpa: 'high' }); // schema
    await publish(client, t, { pressureMpa: 55 }); // out_of_range (55 MPa)
    await publish(client, t, { kind: 'smoke', pressureMpa: 0.1 }); // unknown_kind
    await publish(client, t, { ts: Date.now() + 3_600_000, pressureMpa: 0.1 }); // future_ts
    await publish(client, t, JSON.stringify({ pressureMpa: 0.1, pad: 'x'.repeat(3000) })); // too_large
    await publish(client, t, [{ seq: 2, pressureMpa: 0.12 }, { seq: 3, pressureMpa: -5 }, { seq: 4, pressureMpa: 0.13 }]);
    await publish(client, t, { seq: 5, pressureMpa: 0.14 });
    expect(client.connected).toBe(true);
    expect(closed).toBe(false);
    await endClient(client);

    expect((await readings(p.deviceId)).map((r) => r.seq)).toEqual([5, 4, 2, 1]);
    const after = await metrics();
    for (const reason of ['bad_json', 'schema', 'unknown_kind', 'future_ts', 'too_large']) {
      expect(metricValue(after, 'firewatch_messages_rejected_total', { reason }) - metricValue(before, 'firewatch_messages_rejected_total', { reason }), reason).toBe(1);
    }
    expect(
      metricValue(after, 'firewatch_messages_rejected_total', { reason: 'out_of_range' }) -
        metricValue(before, 'firewatch_messages_rejected_total', { reason: 'out_of_range' }),
    ).toBe(2);
    const dev = (await svc.api.get(`/api/v1/devices/${p.deviceId}`)).body;
    expect(dev.status.accepted).toBe(4);
    expect(dev.status.rejected).toBe(7);
    expect(dev.status.lastRejected.reason).toBe('out_of_range');
    expect(dev.status.lastRejected.detail).toContain('pressureMpa=-5');
    expect(dev.status.rejectedByReason).toMatchObject({ bad_json: 1, schema: 1, too_large: 1, out_of_range: 2 });
  });

  it('a duplicate seq is stored once', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p);
    const msg = { ts: '2026-11-28T01:00:00Z', seq: 42, pressureMpa: 0.15 };
    await publish(client, telemetry(p.deviceId), msg);
    await publish(client, telemetry(p.deviceId), msg);
    await publish(client, telemetry(p.deviceId), [msg, { ...msg, seq: 43 }]);
    await endClient(client);
    expect((await readings(p.deviceId)).map((r) => r.seq)).toEqual([43, 42]);
  });

  it('a device over its rate is rate_limited, stays connected, and recovers', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p);
    const t = telemetry(p.deviceId);
    // burst 200, 1/s sustained: 210 quick publishes exceed the burst
    await Promise.all(Array.from({ length: 210 }, (_, i) => publish(client, t, { seq: i, pressureMpa: 0.1 })));
    expect(client.connected).toBe(true);
    await endClient(client);
    const dev = (await svc.api.get(`/api/v1/devices/${p.deviceId}`)).body;
    expect(dev.status.rejectedByReason.rate_limited).toBeGreaterThanOrEqual(9);
    expect(dev.status.accepted + dev.status.rejectedByReason.rate_limited).toBe(210);
  });

  it('events carry the device\'s own flags on the event topic', async () => {
    const p = await provisionDevice(svc.api, { kind: 'electrical_fire' });
    const client = await connectDevice(svc.mqttUrl, p);
    await publish(client, `fire/v1/${p.deviceId}/event`, { alarm: true, code: 'residual_current' });
    await publish(client, `fire/v1/${p.deviceId}/event`, { hello: 1 }); // schema: needs alarm or fault
    await endClient(client);
    const events = await readings(p.deviceId, '?channel=event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ alarm: true, code: 'residual_current' });
    expect(await readings(p.deviceId)).toEqual([]);
  });
});

describe('authentication and topic ACL', () => {
  it('a wrong password is refused with CONNACK 4 (bad user name or password)', async () => {
    const p = await provisionDevice(svc.api);
    const err = await connectDevice(svc.mqttUrl, { deviceId: p.deviceId, password: 'wrong' }).then(
      () => undefined,
      (e: Error & { code?: number }) => e,
    );
    expect(err?.code).toBe(4);
    const unknown = await connectDevice(svc.mqttUrl, { deviceId: 'no-such-device', password: 'x' }).then(
      () => undefined,
      (e: Error & { code?: number }) => e,
    );
    expect(unknown?.code).toBe(4);
    expect(metricValue(await metrics(), 'firewatch_mqtt_connect_refused_total', { reason: 'bad_credentials' })).toBeGreaterThanOrEqual(2);
  });

  it('MQTT 5 is refused clearly with "unacceptable protocol version"', async () => {
    const p = await provisionDevice(svc.api);
    const err = await connectDevice(svc.mqttUrl, p, { protocolVersion: 5 }).then(
      () => undefined,
      (e: Error & { code?: number }) => e,
    );
    expect(err).toBeDefined();
    expect(String(err?.message)).toMatch(/protocol/i);
  });

  it('MQTT 3.1 clients are accepted', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p, { protocolVersion: 3, protocolId: 'MQIsdp' });
    await publish(client, telemetry(p.deviceId), { pressureMpa: 0.2 });
    await endClient(client);
    expect(await readings(p.deviceId)).toHaveLength(1);
  });

  it("publishing to another device's topic is refused, counted, and nothing is stored there", async () => {
    const a = await provisionDevice(svc.api);
    const b = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top' }, a.buildingId);
    const client = await connectDevice(svc.mqttUrl, a);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(telemetry(b.deviceId), JSON.stringify({ pressureMpa: 0.01 }), { qos: 1 });
    await closed; // aedes closes a client that breaks the ACL (MQTT 3.1.1 has no PUBACK error code)
    client.end(true);
    expect(await readings(b.deviceId)).toEqual([]);
    const dev = (await svc.api.get(`/api/v1/devices/${a.deviceId}`)).body;
    expect(dev.status.rejectedByReason.topic_acl).toBe(1);
  });

  it('subscribing outside its config topic gets SUBACK 0x80 and the device stays connected', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p);
    // mqtt.js turns a 0x80 return code into an error that carries the SUBACK packet
    const err = await client.subscribeAsync(['fire/v1/+/telemetry', `fire/v1/${p.deviceId}/config/#`], { qos: 1 }).then(
      () => undefined,
      (e: Error & { packet?: { granted: number[] } }) => e,
    );
    expect(err?.packet?.granted).toEqual([128, 1]);
    expect(client.connected).toBe(true);
    await endClient(client);
  });

  it('rotating credentials disconnects the old session and refuses the old password', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const rot = await svc.api.post(`/api/v1/devices/${p.deviceId}/credentials`);
    expect(rot.status).toBe(201);
    expect(rot.body.password).not.toBe(p.password);
    await closed;
    client.end(true);
    const old = await connectDevice(svc.mqttUrl, p).then(() => undefined, (e: Error & { code?: number }) => e);
    expect(old?.code).toBe(4);
    const fresh = await connectDevice(svc.mqttUrl, { deviceId: p.deviceId, password: rot.body.password });
    await endClient(fresh);
  });

  it('online state follows the connection', async () => {
    const p = await provisionDevice(svc.api);
    const client = await connectDevice(svc.mqttUrl, p);
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${p.deviceId}`)).body.status.online === true, 'online');
    const online = (await svc.api.get(`/api/v1/devices?online=true&buildingId=${p.buildingId}`)).body.items;
    expect(online.map((d: any) => d.id)).toEqual([p.deviceId]);
    await endClient(client);
    await waitFor(async () => (await svc.api.get(`/api/v1/devices/${p.deviceId}`)).body.status.online === false, 'offline');
  });
});

it('MQTT over WebSocket carries the same contract', async () => {
  const ws = await startService({ MQTT_WS_PORT: '0' });
  try {
    const p = await provisionDevice(ws.api);
    const client = await new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`ws://127.0.0.1:${ws.fw.mqttPorts.ws}`, { username: p.deviceId, password: p.password, reconnectPeriod: 0 });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
    await publish(client, telemetry(p.deviceId), { pressureMpa: 0.33 });
    await endClient(client);
    const items = (await ws.api.get(`/api/v1/devices/${p.deviceId}/readings`)).body.items;
    expect(items.map((r: any) => r.pressureMpa)).toEqual([0.33]);
  } finally {
    await ws.stop();
  }
});
