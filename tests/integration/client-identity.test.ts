/**
 * Client identifiers (issue #12, items 1 and 2), through the wire: a device cannot take over another
 * device's session by using its client id, and an empty client id needs CleanSession 1
 * (MQTT 3.1.1 §3.1.3, MQTT-3.1.3-8). Refusals are CONNACK 2 "identifier rejected".
 */
import { connect } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient, provisionDevice, startService, type Provisioned, type TestService } from '../support/service.js';

let svc: TestService;
let a: Provisioned;
let b: Provisioned;

beforeAll(async () => {
  svc = await startService();
  a = await provisionDevice(svc.api);
  b = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top' }, a.buildingId);
});
afterAll(async () => {
  await svc.stop();
});

/** Connect and resolve with the CONNACK return code (0 = accepted). */
function connackCode(p: Provisioned, opts: IClientOptions): Promise<{ code: number; client: MqttClient }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(svc.mqttUrl, { username: p.deviceId, password: p.password, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    client.once('connect', () => resolve({ code: 0, client }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ code: Number((err as { code?: number }).code ?? -1), client });
    });
  });
}

describe('client identifiers', () => {
  it("a device using another device's client id is refused (CONNACK 2) and the other stays connected", async () => {
    const victim = await connectDevice(svc.mqttUrl, b, { clientId: b.deviceId, clean: false });
    let victimClosed = false;
    victim.on('close', () => (victimClosed = true));
    const attack = await connackCode(a, { clientId: b.deviceId, clean: false });
    expect(attack.code).toBe(2);
    // the id of a device that is not connected is refused too (its persistent session is its own)
    await endClient(victim);
    const offline = await connackCode(a, { clientId: b.deviceId, clean: true });
    expect(offline.code).toBe(2);
    expect(victimClosed).toBe(true); // closed by us above, not by the attacker
    const metrics = (await svc.api.get('/metrics')).body as string;
    expect(metrics).toMatch(/firewatch_mqtt_connect_refused_total\{reason="identifier_rejected"\} [2-9]/);
  });

  it('an id held by another device now is refused; a device may reconnect under its own id', async () => {
    const holder = await connectDevice(svc.mqttUrl, b, { clientId: 'shared-gateway-01' });
    let kicked = false;
    holder.on('close', () => (kicked = true));
    const attempt = await connackCode(a, { clientId: 'shared-gateway-01' });
    expect(attempt.code).toBe(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(kicked).toBe(false);
    expect(holder.connected).toBe(true);
    // the same device reconnecting with its id takes its own session over, as MQTT intends
    const again = await connackCode(b, { clientId: 'shared-gateway-01' });
    expect(again.code).toBe(0);
    await endClient(again.client);
    holder.end(true);
  });

  it('an empty client id needs CleanSession 1 (MQTT-3.1.3-8)', async () => {
    // mqtt.js will not send this CONNECT, so it goes as raw bytes (MQTT 3.1.1 §3.1)
    expect(await rawConnack(a, false)).toEqual({ returnCode: 2, closed: true });
    expect((await rawConnack(a, true)).returnCode).toBe(0);
  });
});

function rawConnack(p: Provisioned, clean: boolean): Promise<{ returnCode: number; closed: boolean }> {
  const str = (v: string) => {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc0 | (clean ? 0x02 : 0), 0, 30]), str(''), str(p.deviceId), str(p.password)]);
  const packet = Buffer.concat([Buffer.from([0x10, body.length]), body]);
  const port = Number(new URL(svc.mqttUrl).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(packet));
    let returnCode = -1;
    socket.on('data', (d) => {
      if (d[0] === 0x20) returnCode = d[3]!;
      if (returnCode === 0) {
        socket.end();
        resolve({ returnCode, closed: false });
      }
    });
    socket.on('close', () => resolve({ returnCode, closed: true }));
    socket.on('error', reject);
    setTimeout(() => reject(new Error('no CONNACK')), 5000).unref();
  });
}
