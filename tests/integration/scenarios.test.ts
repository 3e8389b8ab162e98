/**
 * Golden scenarios (tests/scenarios/<name>/): devices, input readings and the alerts expected at
 * the end, run through the whole service with real MQTT clients and a manual clock.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { connectDevice, endClient, publish, startService } from '../support/service.js';

const ROOT = join(import.meta.dirname, '..', 'scenarios');
const readJsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, any>);

interface Expected {
  device: string;
  rule: string;
  class: string;
  status: string;
  cleared: boolean;
  openedAtS?: number;
}

describe('golden scenarios', () => {
  for (const name of readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
    it(name, async () => {
      const dir = join(ROOT, name);
      const spec = JSON.parse(readFileSync(join(dir, 'devices.json'), 'utf8')) as { buildings: any[]; devices: any[]; endS: number };
      const input = readJsonl(join(dir, 'input.jsonl'));
      const expected = readJsonl(join(dir, 'expected-alerts.jsonl')) as Expected[];
      const clock = new ManualClock();
      const start = clock.now();
      const svc = await startService({}, undefined, { clock });
      const clients = new Map<string, MqttClient>();
      try {
        for (const b of spec.buildings) expect((await svc.api.post('/api/v1/buildings', b)).status).toBe(201);
        const secrets = new Map<string, string>();
        for (const d of spec.devices) {
          const r = await svc.api.post('/api/v1/devices', { inService: true, ...d });
          expect(r.status, JSON.stringify(r.body)).toBe(201);
          secrets.set(d.id, r.body.credentials.password);
        }
        for (const line of input) {
          clock.set(start + line.atS * 1000);
          if (line.disconnect) {
            const c = clients.get(line.device);
            clients.delete(line.device);
            if (c) await endClient(c);
            continue;
          }
          let c = clients.get(line.device);
          if (!c) {
            c = await connectDevice(svc.mqttUrl, { deviceId: line.device, password: secrets.get(line.device)! });
            clients.set(line.device, c);
          }
          await publish(c, `fire/v1/${line.device}/${line.channel}`, line.payload);
        }
        clock.advance(spec.endS * 1000);
        const alerts = (await svc.api.get('/api/v1/alerts?limit=1000')).body.items as any[];
        const actual = alerts
          .map((a) => ({
            device: a.deviceId,
            rule: a.rule,
            class: a.class,
            status: a.status,
            cleared: a.cleared,
            openedAtS: (Date.parse(a.openedAt) - start) / 1000,
          }))
          .sort((x, y) => `${x.device}${x.rule}`.localeCompare(`${y.device}${y.rule}`));
        const want = expected.sort((x, y) => `${x.device}${x.rule}`.localeCompare(`${y.device}${y.rule}`));
        if (process.env.SCENARIO_DEBUG) console.log(name, JSON.stringify(actual));
        expect(actual.map(({ openedAtS: _o, ...rest }) => rest)).toEqual(want.map(({ openedAtS: _o, ...rest }) => rest));
        want.forEach((w, i) => {
          if (w.openedAtS !== undefined) expect(actual[i]!.openedAtS, `${w.device} ${w.rule} openedAtS`).toBe(w.openedAtS);
        });
      } finally {
        for (const c of clients.values()) await endClient(c);
        await svc.stop();
      }
    });
  }
});
