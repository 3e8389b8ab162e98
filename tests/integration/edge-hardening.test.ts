/** MQTT over TLS, throttled credential guessing, and rejection logging that cannot flood the log. */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/config/config.js';
import { startFirewatch } from '../../server/main.js';
import { createLogger } from '../../services/shared/logger.js';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, provisionDevice, publish, startService, tempDir } from '../support/service.js';

describe('MQTT over TLS', () => {
  it('a device on a public network connects over TLS and its readings are stored', async () => {
    const dir = tempDir('firewatch-tls-');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    const svc = await startService({ MQTTS_PORT: '0', TLS_CERT: join(dir, 'cert.pem'), TLS_KEY: join(dir, 'key.pem') });
    try {
      const p = await provisionDevice(svc.api);
      const client = await new Promise<mqtt.MqttClient>((resolve, reject) => {
        const c = mqtt.connect(`mqtts://127.0.0.1:${svc.fw.mqttPorts.mqtts}`, {
          username: p.deviceId,
          password: p.password,
          ca: readFileSync(join(dir, 'cert.pem')),
          reconnectPeriod: 0,
        });
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      });
      await publish(client, `fire/v1/${p.deviceId}/telemetry`, { pressureMpa: 0.44 });
      await endClient(client);
      const items = (await svc.api.get(`/api/v1/devices/${p.deviceId}/readings`)).body.items;
      expect(items.map((r: any) => r.pressureMpa)).toEqual([0.44]);
      // a client that does not trust the certificate is refused by TLS itself
      const untrusted = await new Promise<Error>((resolve) => {
        const c = mqtt.connect(`mqtts://127.0.0.1:${svc.fw.mqttPorts.mqtts}`, { username: p.deviceId, password: p.password, reconnectPeriod: 0 });
        c.once('error', (e) => {
          c.end(true);
          resolve(e);
        });
      });
      expect(String(untrusted.message)).toMatch(/certificate/i);
    } finally {
      await svc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('credential guessing is slowed per address', () => {
  it('from the 3rd failure on, answers to that address are delayed', async () => {
    const svc = await startService();
    try {
      const p = await provisionDevice(svc.api);
      const attempt = async (password: string) => {
        const t0 = performance.now();
        const err = await connectDevice(svc.mqttUrl, { deviceId: p.deviceId, password }).then(
          (c) => (c.end(true), undefined),
          (e: Error & { code?: number }) => e,
        );
        return { ms: performance.now() - t0, code: err?.code };
      };
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await attempt(`guess-${i}`));
      expect(results.every((r) => r.code === 4)).toBe(true);
      // lower bounds only: a slow machine can make these longer, never shorter
      expect(results[3]!.ms).toBeGreaterThanOrEqual(240);
      expect(results[4]!.ms).toBeGreaterThanOrEqual(490);
      // the right password still gets in (after the same delay), and resets the count
      const ok = await connectDevice(svc.mqttUrl, p);
      await endClient(ok);
    } finally {
      await svc.stop();
    }
  });
});

describe('rejections are logged at most once per device per interval', () => {
  it('ten bad messages make one log line, all ten are counted', async () => {
    const dir = tempDir();
    const lines: any[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const config = loadConfig({ MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', DATA_DIR: dir, ADMIN_TOKEN, LOG_LEVEL: 'info' });
    const fw = await startFirewatch(config, { logger: createLogger('info', sink) });
    try {
      const api = new ApiClient(fw.httpUrl, ADMIN_TOKEN);
      const p = await provisionDevice(api);
      const client = await connectDevice(`mqtt://127.0.0.1:${fw.mqttPorts.mqtt}`, p);
      for (let i = 0; i < 10; i++) await publish(client, `fire/v1/${p.deviceId}/telemetry`, '{broken');
      await endClient(client);
      const rejectedLines = lines.filter((l) => l.msg === 'message rejected' && l.deviceId === p.deviceId);
      expect(rejectedLines).toHaveLength(1);
      expect(rejectedLines[0]).toMatchObject({ reason: 'bad_json', level: 40 });
      const dev = (await api.get(`/api/v1/devices/${p.deviceId}`)).body;
      expect(dev.status.rejectedByReason.bad_json).toBe(10);
    } finally {
      await fw.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
