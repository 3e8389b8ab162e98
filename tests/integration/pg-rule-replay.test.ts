/**
 * Rule replay (试算, issue #15 item 3) on PostgreSQL (DATABASE_URL): the readings come from the
 * `readings` table through the same ReadingStore the readings route reads, the actual alerts from
 * the PostgreSQL alert store. With the rules in force the replay answers what the node raised,
 * timers included; with a higher threshold it adds what the node did not raise; nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { connectDevice, endClient, provisionDevice, publish, startService, type Provisioned, type TestService } from '../support/service.js';

const MIN = 60_000;
// every minute, steps of at most 0.04 MPa: under 0.15 MPa at minutes 2–4, 0.17 MPa at 9–11
const PRESSURES = [0.2, 0.18, 0.14, 0.13, 0.14, 0.17, 0.2, 0.21, 0.18, 0.17, 0.17, 0.17, 0.2, 0.21];
let db: FreshDatabase;
let svc: TestService;
let clock: ManualClock;
let hydrant: Provisioned;
let lane: Provisioned;
let S: number;
let end: number;
const iso = (t: number) => new Date(t).toISOString();
const t = (i: number) => S + i * MIN;
const episode = (a: any) => [a.rule, a.deviceId, a.raisedAt, a.clearedAt, a.peak, a.count];

beforeAll(async () => {
  db = await freshDatabase();
  clock = new ManualClock(Date.parse('2026-12-01T02:00:00Z'));
  svc = await startService({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, undefined, { clock });
  hydrant = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 }, { id: 'b-pg', name: '来福士广场', street: '朝天门', type: 'public', heightM: 250, floors: 60, category: 1, use: 'complex' });
  lane = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 3600 }, 'b-pg');
  const h = await connectDevice(svc.mqttUrl, hydrant);
  const l = await connectDevice(svc.mqttUrl, lane);
  S = clock.now();
  for (let i = 0; i < PRESSURES.length; i++) {
    await publish(h, `fire/v1/${hydrant.deviceId}/telemetry`, { ts: clock.now(), pressureMpa: PRESSURES[i] });
    if (i === 1) await publish(l, `fire/v1/${lane.deviceId}/telemetry`, { ts: clock.now(), occupied: true });
    if (i === 8) await publish(l, `fire/v1/${lane.deviceId}/telemetry`, { ts: clock.now(), occupied: false });
    await svc.fw.processors.idle();
    clock.advance(MIN);
  }
  await svc.fw.processors.idle();
  end = clock.now();
  await endClient(h);
  await endClient(l);
});
afterAll(async () => {
  await svc?.stop();
  await db?.drop();
});

describe('rule replay on PostgreSQL', () => {
  it('with the rules in force: what the node raised; with 0.18 MPa: one more; nothing changed', async () => {
    const alerts = async () => (await svc.api.get('/api/v1/alerts?buildingId=b-pg')).body.items;
    const before = await alerts();
    expect(before.map((a: any) => [a.rule, a.openedAt]).sort()).toEqual([
      ['lane_blocked', iso(t(1) + 300_000)],
      ['pressure_low', iso(t(3))],
    ]);

    const r = await svc.api.post('/api/v1/rules/replay', { buildingId: 'b-pg', from: iso(S), to: iso(end) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ readings: PRESSURES.length + 2, complete: true });
    expect(r.body.wouldBe.map(episode)).toEqual(r.body.actual.map(episode));
    expect(r.body.wouldBe.map(episode)).toEqual([
      ['pressure_low', hydrant.deviceId, iso(t(3)), iso(t(5) + 30_000), 0.13, 3],
      ['lane_blocked', lane.deviceId, iso(t(1) + 300_000), iso(t(8) + 30_000), 1, 1],
    ]);

    const tried = await svc.api.post('/api/v1/rules/replay', { deviceId: hydrant.deviceId, from: iso(S), to: iso(end), rules: { pressure_low: { threshold: 0.18 } } });
    expect(tried.status).toBe(200);
    expect(tried.body.wouldBe.map((a: any) => a.raisedAt)).toEqual([iso(t(3)), iso(t(10))]);
    expect(tried.body.actual.map((a: any) => a.raisedAt)).toEqual([iso(t(3))]);
    expect(await alerts()).toEqual(before);
  });
});
