/**
 * Rule replay (试算, issue #15 item 3) through the wire: real MQTT devices publish, the real service
 * stores the readings and raises what its rules raise (time moving only by the ManualClock, so the
 * rule timers tick as they do live); then POST /api/v1/rules/replay runs the rules over the stored
 * readings — in force, and with a lower threshold — and answers the would-be alerts beside the
 * actual ones. Nothing changes: the alerts, the live feed, the rule state (its rows, and a pending
 * condition that goes on to raise live as if no replay had run).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayLimits } from '../../services/api/routes/rules-replay.js';
import { ManualClock } from '../../services/shared/clock.js';
import { LiveClient } from '../support/live.js';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, provisionDevice, publish, startService, waitFor, type Provisioned, type TestService } from '../support/service.js';

const MIN = 60_000;
let svc: TestService;
let clock: ManualClock;
let hydrant: Provisioned; // hydrant_top of a 250 m public complex: pressure_low 0.15 MPa, forS 60 s, clearS 30 s
let lane: Provisioned; // fire_lane: lane_blocked after 300 s occupied, clearS 30 s
let S: number; // the first reading
let end: number; // the last reading
let duty: ApiClient;
let otherDuty: ApiClient;
let operator: ApiClient;
let otherOperator: ApiClient;

const iso = (t: number) => new Date(t).toISOString();
const t = (i: number) => S + i * MIN;
const replay = (body: Record<string, unknown>, as: ApiClient = svc.api) => as.post('/api/v1/rules/replay', body);
const alertsOf = async (q: string) => (await svc.api.get(`/api/v1/alerts?${q}&commissioning=include`)).body.items as any[];
const episode = (a: { rule: string; deviceId: string; raisedAt: string; clearedAt: string | null; peak: number | null; count: number }) =>
  ({ rule: a.rule, deviceId: a.deviceId, raisedAt: a.raisedAt, clearedAt: a.clearedAt, peak: a.peak, count: a.count });
const ruleRows = () => {
  const db = new Database(join(svc.dataDir, 'firewatch.db'), { readonly: true, fileMustExist: true });
  try {
    return { states: db.prepare('SELECT * FROM rule_state ORDER BY device_id, rule_id').all(), memory: db.prepare('SELECT * FROM rule_memory ORDER BY device_id').all() };
  } finally {
    db.close();
  }
};

async function login(username: string, password: string): Promise<ApiClient> {
  const r = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username, password });
  expect(r.status).toBe(200);
  return new ApiClient(svc.fw.httpUrl, r.body.token);
}

// hydrant pressure every minute (steps of at most 0.04 MPa: no pressure_drop, no flowing state):
// a dip under 0.15 (raised live), a dip to 0.17 (not raised live, raised at 0.18), and at the end a
// reading under 0.15 that is pending when the replays run
const PRESSURES = [0.2, 0.18, 0.14, 0.13, 0.14, 0.17, 0.2, 0.21, 0.18, 0.17, 0.17, 0.17, 0.2, 0.21, 0.21, 0.17, 0.14];

beforeAll(async () => {
  clock = new ManualClock(Date.parse('2026-12-01T02:00:00Z'));
  svc = await startService({}, undefined, { clock });
  const building = { id: 'b-rp', name: '来福士广场', street: '朝天门', type: 'public', heightM: 250, floors: 60, category: 1, use: 'complex' };
  // long report intervals: device_offline stays out of the picture
  hydrant = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 }, building);
  lane = await provisionDevice(svc.api, { kind: 'fire_lane', reportIntervalS: 3600 }, 'b-rp');
  expect((await svc.api.post('/api/v1/buildings', { id: 'b-far', name: '七星岗大厦', street: '七星岗', address: '中山一路', type: 'public', heightM: 80, floors: 20, category: 1, use: 'office' })).status).toBe(201);
  const users = [
    { username: 'chen.duty', displayName: '陈值班', password: 'duty-password-1', role: 'duty', streets: ['朝天门'] },
    { username: 'qian.duty', displayName: '钱值班', password: 'duty-password-2', role: 'duty', streets: ['七星岗'] },
    { username: 'zhao.ops', displayName: '赵物业', password: 'operator-pass-1', role: 'operator', buildingIds: ['b-rp'] },
    { username: 'sun.ops', displayName: '孙物业', password: 'operator-pass-2', role: 'operator', buildingIds: ['b-far'] },
  ];
  for (const u of users) expect((await svc.api.post('/api/v1/users', u)).status).toBe(201);
  duty = await login('chen.duty', 'duty-password-1');
  otherDuty = await login('qian.duty', 'duty-password-2');
  operator = await login('zhao.ops', 'operator-pass-1');
  otherOperator = await login('sun.ops', 'operator-pass-2');

  const h = await connectDevice(svc.mqttUrl, hydrant);
  const l = await connectDevice(svc.mqttUrl, lane);
  S = clock.now();
  for (let i = 0; i < PRESSURES.length; i++) {
    await publish(h, `fire/v1/${hydrant.deviceId}/telemetry`, { ts: clock.now(), pressureMpa: PRESSURES[i] });
    // the lane is reported occupied once (raised after 300 s by the rule timers alone), free at minute 8
    if (i === 1) await publish(l, `fire/v1/${lane.deviceId}/telemetry`, { ts: clock.now(), occupied: true });
    if (i === 8) await publish(l, `fire/v1/${lane.deviceId}/telemetry`, { ts: clock.now(), occupied: false });
    await svc.fw.processors.idle();
    // a minute passes: the runner ticks every second on the ManualClock
    if (i < PRESSURES.length - 1) clock.advance(MIN);
  }
  end = clock.now();
  await endClient(h);
  await endClient(l);
});
afterAll(async () => {
  await svc?.stop();
});

describe('POST /api/v1/rules/replay', () => {
  it('live raised what its rules raise (the scene the replays look at)', async () => {
    const actual = await alertsOf(`buildingId=b-rp`);
    expect(actual.map((a) => [a.rule, a.openedAt, a.clearedAt]).sort()).toEqual([
      ['lane_blocked', iso(t(1) + 300_000), iso(t(8) + 30_000)],
      ['pressure_low', iso(t(3)), iso(t(5) + 30_000)],
    ]);
  });

  it('with the rules in force it answers what was actually raised, timers included (forS of a lane reported once, clearS between readings)', async () => {
    const r = await replay({ buildingId: 'b-rp', from: iso(S - MIN), to: iso(end) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ from: iso(S - MIN), to: iso(end), readings: PRESSURES.length + 2, complete: true, incomplete: [], actualTruncated: false });
    expect(r.body.devices.map((d: any) => [d.deviceId, d.readings])).toEqual([[hydrant.deviceId, PRESSURES.length], [lane.deviceId, 2]].sort());
    expect(r.body.wouldBe.map(episode)).toEqual(r.body.actual.map(episode));
    expect(r.body.wouldBe.map(episode)).toEqual([
      { rule: 'pressure_low', deviceId: hydrant.deviceId, raisedAt: iso(t(3)), clearedAt: iso(t(5) + 30_000), peak: 0.13, count: 3 },
      { rule: 'lane_blocked', deviceId: lane.deviceId, raisedAt: iso(t(1) + 300_000), clearedAt: iso(t(8) + 30_000), peak: 1, count: 1 },
    ]);
    expect(r.body.wouldBe[0]).toMatchObject({ class: 'hazard', severity: 'major', threshold: 0.15, realerts: 0 });
    expect(r.body.actual[0]).toMatchObject({ status: 'open', closedAt: null, commissioning: false });
  });

  it('with a lower threshold it answers the would-be alerts live did not raise, beside the actual ones', async () => {
    // `to` beyond now: replayed up to now
    const r = await replay({ deviceId: hydrant.deviceId, from: iso(S - MIN), to: iso(end + 3_600_000), rules: { pressure_low: { threshold: 0.18 } } });
    expect(r.status).toBe(200);
    expect(r.body.to).toBe(iso(end));
    expect(r.body.readings).toBe(PRESSURES.length);
    expect(r.body.devices[0].rules.pressure_low).toMatchObject({ threshold: 0.18, forS: 60, clearS: 30 });
    expect(r.body.wouldBe.map((a: any) => [a.rule, a.raisedAt, a.clearedAt])).toEqual([
      ['pressure_low', iso(t(3)), iso(t(6) + 30_000)],
      ['pressure_low', iso(t(10)), iso(t(12) + 30_000)],
      // raised by the last reading, still active at `to`
      ['pressure_low', iso(t(16)), null],
    ]);
    expect(r.body.wouldBe[1]).toMatchObject({ threshold: 0.18, peak: 0.17, count: 3 });
    expect(r.body.wouldBe[1].message.zh).toContain('0.18 MPa');
    // the actual alerts of the device in the range, from the alert record
    expect(r.body.actual.map((a: any) => [a.rule, a.raisedAt])).toEqual([['pressure_low', iso(t(3))]]);
    const live = new Set(r.body.actual.map((a: any) => a.raisedAt));
    expect(r.body.wouldBe.filter((a: any) => !live.has(a.raisedAt))).toHaveLength(2);
  });

  it('changes nothing: alerts, the live feed, the rule state — a pending condition goes on to raise live as if no replay had run', async () => {
    const feed = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
    const seqBefore = feed.hello!.lastSeq;
    const alertsBefore = await alertsOf('buildingId=b-rp');
    const rowsBefore = ruleRows();
    // the last reading (0.14) left pressure_low pending since t(16)
    expect(rowsBefore.states).toContainEqual(expect.objectContaining({ device_id: hydrant.deviceId, rule_id: 'pressure_low' }));

    for (const body of [
      { buildingId: 'b-rp', from: iso(S - MIN), to: iso(end) },
      { deviceId: hydrant.deviceId, from: iso(S), to: iso(end), rules: { pressure_low: { threshold: 0.2, forS: 0, clearS: 0 } } },
      { deviceId: lane.deviceId, from: iso(S), to: iso(end), rules: { lane_blocked: { forS: 60, realertS: 60 } } },
    ]) expect((await replay(body)).status).toBe(200);

    expect(await alertsOf('buildingId=b-rp')).toEqual(alertsBefore);
    expect(ruleRows()).toEqual(rowsBefore);
    const after = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
    expect(after.hello!.lastSeq).toBe(seqBefore);
    expect(feed.events).toEqual([]);
    await after.close();

    // live goes on from its own state: forS after t(16) the pending condition is raised again on the
    // (cleared, not yet closed) pressure_low alert, dated at its due time
    clock.advance(61_000);
    await svc.fw.processors.idle();
    const [a] = await alertsOf(`deviceId=${hydrant.deviceId}`);
    expect(a).toMatchObject({ rule: 'pressure_low', cleared: false, clearedAt: null, lastAt: iso(t(16) + MIN) });
    await feed.next('alert.updated', (e) => e.data.alert.id === a.id);
    await feed.close();
  });

  it('whoever may read the device or building replays it; outside the scope it does not exist (404), without a token 401', async () => {
    const body = { deviceId: hydrant.deviceId, from: iso(S), to: iso(end) };
    expect((await replay(body, duty)).status).toBe(200);
    expect((await replay({ buildingId: 'b-rp', from: iso(S), to: iso(end) }, operator)).status).toBe(200);
    for (const outsider of [otherDuty, otherOperator]) {
      const r = await replay(body, outsider);
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('not_found');
      expect((await replay({ buildingId: 'b-rp', from: iso(S), to: iso(end) }, outsider)).status).toBe(404);
      // the same answer as the readings and alerts routes give them
      expect((await outsider.get(`/api/v1/devices/${hydrant.deviceId}/readings`)).status).toBe(404);
    }
    expect((await replay(body, new ApiClient(svc.fw.httpUrl, undefined))).status).toBe(401);
    expect((await replay({ ...body, deviceId: 'no-such-device' })).status).toBe(404);
  });

  it('is in the OpenAPI reference, body and answer', async () => {
    const spec = (await svc.api.get('/docs/json')).body;
    const op = spec.paths['/api/v1/rules/replay'].post;
    expect(op.description).toContain('31 days');
    expect(Object.keys(op.requestBody.content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['deviceId', 'buildingId', 'from', 'to', 'rules']));
    expect(Object.keys(op.responses['200'].content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['wouldBe', 'actual', 'readings', 'complete']));
  });

  it('bounds: at most 31 days, at most maxReadings readings, a range that ends after it starts, one target, valid overrides → 400 naming the limit', async () => {
    const long = await replay({ deviceId: hydrant.deviceId, from: iso(end - 32 * 86_400_000), to: iso(end) });
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({ code: 'replay_range_too_long', details: { maxRangeDays: 31 } });
    expect(long.body.detail).toContain('31');
    expect((await replay({ deviceId: hydrant.deviceId, from: iso(end - 31 * 86_400_000), to: iso(end) })).status).toBe(200);

    const backwards = await replay({ deviceId: hydrant.deviceId, from: iso(end), to: iso(S) });
    expect(backwards.status).toBe(400);
    expect(backwards.body.code).toBe('bad_range');
    expect((await replay({ deviceId: hydrant.deviceId, from: 'yesterday', to: iso(end) })).body.code).toBe('bad_time');
    expect((await replay({ deviceId: hydrant.deviceId, buildingId: 'b-rp', from: iso(S), to: iso(end) })).body.code).toBe('validation_failed');
    expect((await replay({ from: iso(S), to: iso(end) })).body.code).toBe('validation_failed');

    const bad = await replay({ deviceId: hydrant.deviceId, from: iso(S), to: iso(end), rules: { pressure_low: { threshold: 5 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_rule_override');
    expect(bad.body.detail).toContain('0.01–2.4 MPa');
    expect((await replay({ deviceId: lane.deviceId, from: iso(S), to: iso(end), rules: { pressure_low: { threshold: 0.2 } } })).body.code).toBe('invalid_rule_override');
    expect((await replay({ buildingId: 'b-rp', from: iso(S), to: iso(end), rules: { level_low: { threshold: 1 } } })).body.code).toBe('invalid_rule_override');

    // replays at once: with none allowed, the next is told to come back
    replayLimits.maxRunning = 0;
    try {
      const busy = await replay({ deviceId: hydrant.deviceId, from: iso(S), to: iso(end) });
      expect(busy.status).toBe(429);
      expect(busy.body.code).toBe('replay_busy');
    } finally {
      replayLimits.maxRunning = 2;
    }

    // the readings limit, lowered for the test (200,000 in service): one reading more is refused
    const saved = replayLimits.maxReadings;
    replayLimits.maxReadings = PRESSURES.length - 1;
    try {
      const many = await replay({ deviceId: hydrant.deviceId, from: iso(S), to: iso(end) });
      expect(many.status).toBe(400);
      expect(many.body).toMatchObject({ code: 'replay_too_many_readings', details: { maxReadings: PRESSURES.length - 1 } });
      expect(many.body.detail).toContain(String(PRESSURES.length - 1));
      replayLimits.maxReadings = PRESSURES.length;
      expect((await replay({ deviceId: hydrant.deviceId, from: iso(S), to: iso(end) })).status).toBe(200);
    } finally {
      replayLimits.maxReadings = saved;
    }
  });
});

describe('a range whose start the store no longer holds', () => {
  it('says so: complete false, readings_pruned for the device, in Chinese and English', async () => {
    const clock2 = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
    const svc2 = await startService({ READINGS_RETENTION_DAYS: '1' }, undefined, { clock: clock2 });
    try {
      const p = await provisionDevice(svc2.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 86_400 });
      const c = await connectDevice(svc2.mqttUrl, p);
      const first = clock2.now();
      await publish(c, `fire/v1/${p.deviceId}/telemetry`, { ts: first, pressureMpa: 0.3 });
      await svc2.fw.processors.idle();
      const body = { deviceId: p.deviceId, from: iso(first + 3_600_000), to: iso(first + 26 * 3_600_000) };
      // a day and two hours later the hourly retention has pruned the first reading (kept 1 day after arrival)
      clock2.advance(26 * 3_600_000);
      await publish(c, `fire/v1/${p.deviceId}/telemetry`, { ts: clock2.now(), pressureMpa: 0.3 });
      await svc2.fw.processors.idle();
      clock2.advance(3_600_000);
      await waitFor(async () => (await svc2.api.get(`/api/v1/devices/${p.deviceId}/readings?to=${first}`)).body.items.length === 0, 'the first reading pruned');
      const r = await svc2.api.post('/api/v1/rules/replay', body);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ readings: 1, complete: false });
      expect(r.body.incomplete).toEqual([{ code: 'readings_pruned', deviceId: p.deviceId, message: { zh: expect.stringMatching(/^设备 .*保留期/), en: expect.stringContaining('retention') } }]);
      // from before the first reading: nothing before it was ever sent, the range is whole
      expect((await svc2.api.post('/api/v1/rules/replay', { ...body, from: iso(first - 60_000) })).body.complete).toBe(true);
      await endClient(c);
    } finally {
      await svc2.stop();
    }
  });
});
