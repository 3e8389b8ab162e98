/**
 * "A replay after kill -9 mid-processing raises each expected alert once." The service runs as a
 * separate process (as in durability.test.ts). Four pressure sensors stream normal QoS 1 readings;
 * during that stream thirty electrical-fire detectors each send one reading over the
 * residual-current setpoint (residual_current_high, forS 0: raised by the reading itself), fifteen
 * a quarter into the stream and fifteen in its middle. As soon as the last fifteen PUBACKs are in,
 * the service is killed with SIGKILL.
 *
 * Before the restart, firewatch.db and readings.db are opened read-only to prove the kill landed mid-processing:
 * the processors' cursor (log_cursors 'processors') is below MAX(readings.id), with at least one
 * of the alert readings after it, so the restart must replay it. The alerts already in the
 * database at that moment are exactly those of the alert readings at or before the cursor (a
 * batch's effects commit with its cursor, nothing of a later batch). If the kill came too late
 * the cycle is repeated on a fresh DATA_DIR with a bigger stream (bounded).
 *
 * After the restart on the same DATA_DIR and the processors caught up: each detector has exactly
 * one residual_current_high alert (API) that counted one breaching reading, feed_events holds
 * exactly one alert.raised per alert, and every acknowledged reading is stored.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  ApiClient,
  connectDevice,
  provisionDevice,
  startChildService,
  tempDir,
  waitFor,
  type ChildService,
  type Provisioned,
} from '../support/service.js';

const ALERT_DEVICES = 30;
const BACKGROUND_DEVICES = 4;
const RULE = 'residual_current_high';
const MAX_TRIES = 5;
const FIRST_BURST = 20_000;

const building = { name: '解放碑时代广场', street: '解放碑', type: 'public', heightM: 180, floors: 45, category: 1, use: 'complex' };
const env = (dataDir: string) => ({ DATA_DIR: dataDir, DEVICE_RATE_BURST: '1000000', DEVICE_RATE_PER_S: '1000000' });

interface KillState {
  cursor: number;
  maxId: number;
  /** log ids of the alert readings, by device */
  alertReadingIds: Map<string, number>;
  /** residual_current_high alerts committed before the kill, by device */
  alertsBefore: Map<string, number>;
  raisedBefore: number;
}

/** Read firewatch.db (with readings.db attached) of a killed service, read-only (no migration, no write). */
function openBoth(dataDir: string): InstanceType<typeof Database> {
  const db = new Database(join(dataDir, 'firewatch.db'), { readonly: true, fileMustExist: true });
  db.prepare('ATTACH DATABASE ? AS r').run(join(dataDir, 'readings.db'));
  return db;
}

function inspect(dataDir: string, alertDevices: readonly string[]): KillState {
  const db = openBoth(dataDir);
  try {
    const cursor = db.prepare("SELECT position FROM log_cursors WHERE name = 'processors'").pluck().get() as number;
    const maxId = db.prepare('SELECT IFNULL(MAX(id), 0) FROM r.readings').pluck().get() as number;
    const alertReadingIds = new Map<string, number>();
    const byDevice = db.prepare('SELECT id FROM r.readings WHERE device_id = ?').pluck();
    for (const d of alertDevices) {
      const ids = byDevice.all(d) as number[];
      expect(ids, `the acknowledged alert reading of ${d} is in the log`).toHaveLength(1);
      alertReadingIds.set(d, ids[0]!);
    }
    const alertsBefore = new Map<string, number>();
    for (const r of db.prepare('SELECT device_id AS d, COUNT(*) AS n FROM alerts WHERE rule = ? GROUP BY device_id').all(RULE) as Array<{ d: string; n: number }>) {
      alertsBefore.set(r.d, r.n);
    }
    const raisedBefore = db.prepare("SELECT COUNT(*) FROM feed_events WHERE type = 'alert.raised'").pluck().get() as number;
    return { cursor, maxId, alertReadingIds, alertsBefore, raisedBefore };
  } finally {
    db.close();
  }
}

/** Publish `n` normal readings at QoS 1 without waiting; `onAck(seq)` for each PUBACK. */
function stream(client: MqttClient, deviceId: string, n: number, onAck: (seq: number) => void): void {
  const topic = `fire/v1/${deviceId}/telemetry`;
  const base = Date.now() - 120_000;
  for (let seq = 0; seq < n; seq++) {
    // 0.30–0.319 MPa: above the 0.15 top minimum, below 1.0, never a 0.05 drop
    const payload = JSON.stringify({ seq, ts: base + seq, pressureMpa: 0.3 + (seq % 20) / 1000 });
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (!err) onAck(seq);
    });
  }
}

function publishAcked(client: MqttClient, topic: string, payload: unknown): Promise<void> {
  return new Promise((resolve, reject) => client.publish(topic, JSON.stringify(payload), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

describe('replay after kill -9 mid-processing', () => {
  const dirs: string[] = [];
  const children: ChildService[] = [];
  const clients: MqttClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    for (const s of children.splice(0)) await s.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function start(dataDir: string): Promise<{ svc: ChildService; api: ApiClient }> {
    const svc = await startChildService(env(dataDir));
    children.push(svc);
    return { svc, api: new ApiClient(svc.httpUrl, ADMIN_TOKEN) };
  }

  async function kill(svc: ChildService): Promise<void> {
    await svc.kill('SIGKILL');
    children.splice(children.indexOf(svc), 1);
  }

  /** One cycle: provision, stream, raise in the middle, kill right after the alert PUBACKs. */
  async function cycle(burst: number) {
    const dataDir = tempDir('firewatch-replay-');
    dirs.push(dataDir);
    const { svc, api } = await start(dataDir);
    const first = await provisionDevice(api, { kind: 'electrical_fire', reportIntervalS: 3600 }, building);
    const detectors: Provisioned[] = [first];
    for (let i = 1; i < ALERT_DEVICES; i++) detectors.push(await provisionDevice(api, { kind: 'electrical_fire', reportIntervalS: 3600 }, first.buildingId));
    const sensors: Provisioned[] = [];
    for (let i = 0; i < BACKGROUND_DEVICES; i++) {
      sensors.push(await provisionDevice(api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 }, first.buildingId));
    }
    const detectorClients = await Promise.all(detectors.map((d) => connectDevice(`mqtt://127.0.0.1:${svc.mqttPort}`, d)));
    const sensorClients = await Promise.all(sensors.map((s) => connectDevice(`mqtt://127.0.0.1:${svc.mqttPort}`, s)));
    for (const c of [...detectorClients, ...sensorClients]) {
      c.on('error', () => {});
      clients.push(c);
    }

    const perSensor = Math.ceil(burst / BACKGROUND_DEVICES);
    const acked = sensors.map(() => new Set<number>());
    const ackCount = () => acked.reduce((n, s) => n + s.size, 0);
    sensors.forEach((s, i) => stream(sensorClients[i]!, s.deviceId, perSensor, (seq) => acked[i]!.add(seq)));
    const total = perSensor * BACKGROUND_DEVICES;
    // the alert readings, one each over the 300 mA setpoint: half a quarter into the stream (these
    // are usually processed before the kill), half in its middle, right before the kill
    const raise = (from: number, to: number) =>
      Promise.all(
        detectors.slice(from, to).map((d, i) => publishAcked(detectorClients[from + i]!, `fire/v1/${d.deviceId}/telemetry`, { seq: 1, residualCurrentMa: 800 })),
      );
    await waitFor(() => ackCount() >= total / 4, 'a quarter of the background stream acknowledged', 60_000, 1);
    await raise(0, ALERT_DEVICES / 2);
    await waitFor(() => ackCount() >= total / 2, 'half of the background stream acknowledged', 60_000, 1);
    await raise(ALERT_DEVICES / 2, ALERT_DEVICES);
    await kill(svc);
    const ackedAtKill = acked.map((s) => new Set(s));
    for (const c of clients.splice(0)) c.end(true);
    const sent = total + ALERT_DEVICES;
    const state = inspect(
      dataDir,
      detectors.map((d) => d.deviceId),
    );
    return { dataDir, detectors, sensors, ackedAtKill, sent, state };
  }

  it(
    'each expected alert is raised exactly once, with the kill mid-processing; nothing acknowledged is lost',
    async () => {
      let run: Awaited<ReturnType<typeof cycle>> | undefined;
      let burst = FIRST_BURST;
      const attempts: string[] = [];
      for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
        const r = await cycle(burst);
        const replayed = [...r.state.alertReadingIds.values()].filter((id) => id > r.state.cursor).length;
        attempts.push(
          `try ${attempt}: burst ${burst}, cursor ${r.state.cursor} / max id ${r.state.maxId}, alert readings to replay ${replayed}/${ALERT_DEVICES}, alerts before the kill ${r.state.raisedBefore}`,
        );
        if (r.state.cursor < r.state.maxId && replayed > 0) {
          run = r;
          break;
        }
        rmSync(r.dataDir, { recursive: true, force: true });
        burst = Math.round(burst * 1.5);
      }
      console.info(`replay-after-kill: ${attempts.join('; ')}`);
      if (!run) throw new Error(`the kill never landed mid-processing in ${MAX_TRIES} tries:\n  ${attempts.join('\n  ')}`);
      const { dataDir, detectors, sensors, ackedAtKill, sent, state } = run;

      // What committed before the kill is exactly what the batches up to the cursor did.
      for (const d of detectors) {
        const processed = state.alertReadingIds.get(d.deviceId)! <= state.cursor;
        expect(state.alertsBefore.get(d.deviceId) ?? 0, `${d.deviceId}: alerts committed before the kill`).toBe(processed ? 1 : 0);
      }
      expect(state.raisedBefore).toBe([...state.alertsBefore.values()].reduce((a, b) => a + b, 0));

      // Restart on the same DATA_DIR; wait until the processors have replayed everything.
      const { svc, api } = await start(dataDir);
      await waitFor(
        async () => {
          const r = await api.get('/readyz');
          return r.body?.checks?.processors?.lag === 0 && r.body.checks.processors.position === state.maxId;
        },
        'the processors to catch up after the restart',
        60_000,
        50,
      );
      const after = openBoth(dataDir);
      try {
        const cursor = after.prepare("SELECT position FROM log_cursors WHERE name = 'processors'").pluck().get() as number;
        const maxId = after.prepare('SELECT MAX(id) FROM r.readings').pluck().get() as number;
        expect(maxId).toBe(state.maxId); // no new readings: the clients are gone
        expect(cursor).toBe(maxId);

        // exactly one alert per detector, which counted exactly one breaching reading
        const items = (await api.get(`/api/v1/alerts?rule=${RULE}&limit=1000`)).body.items as Array<{ id: string; deviceId: string; count: number; value: number }>;
        const perDevice = new Map<string, number>();
        for (const a of items) perDevice.set(a.deviceId, (perDevice.get(a.deviceId) ?? 0) + 1);
        expect(items).toHaveLength(ALERT_DEVICES);
        for (const d of detectors) expect(perDevice.get(d.deviceId), d.deviceId).toBe(1);
        for (const a of items) expect(a).toMatchObject({ count: 1, value: 800 });
        // no other alert of any kind for the sensors streaming normal readings
        for (const s of sensors) expect((await api.get(`/api/v1/alerts?deviceId=${s.deviceId}`)).body.items).toEqual([]);

        // one alert.raised per alert in the event log, and none for anything else
        const raised = (after.prepare("SELECT data FROM feed_events WHERE type = 'alert.raised'").pluck().all() as string[]).map(
          (d) => (JSON.parse(d) as { alert: { id: string; rule: string } }).alert,
        );
        const raisedIds = raised.filter((a) => a.rule === RULE).map((a) => a.id);
        expect(raisedIds.sort()).toEqual(items.map((a) => a.id).sort());
        expect(new Set(raisedIds).size).toBe(raisedIds.length);

        // every acknowledged reading is stored, and nothing beyond what was sent
        const seqsOf = after.prepare('SELECT seq FROM r.readings WHERE device_id = ?').pluck();
        let acked = ALERT_DEVICES;
        for (const [i, s] of sensors.entries()) {
          const stored = new Set(seqsOf.all(s.deviceId) as number[]);
          const lost = [...ackedAtKill[i]!].filter((seq) => !stored.has(seq));
          expect(lost, `${s.deviceId}: acknowledged readings missing`).toEqual([]);
          acked += ackedAtKill[i]!.size;
        }
        const rows = after.prepare('SELECT COUNT(*) FROM r.readings').pluck().get() as number;
        expect(rows).toBeGreaterThanOrEqual(acked);
        expect(rows).toBeLessThanOrEqual(sent);
        console.info(`replay-after-kill: ${acked} acknowledged, ${rows} stored of ${sent} sent; ${state.maxId - state.cursor} readings replayed`);
      } finally {
        after.close();
      }
      await svc.kill('SIGTERM');
      children.splice(children.indexOf(svc), 1);
    },
    600_000,
  );
});
