/**
 * An alert's clocks (issue #15 item 4) through the wire: real MQTT devices (and a UITD over
 * GB/T 26875.3 TCP) publish to a real service with a temp DATA_DIR, the console's report is the real
 * POST /alerts/{id}/shown, the platform a real HTTP receiver (tests/support/uplink-receiver.ts).
 *   (a) the clocks fill in order, each once: device time, receipt, the log's commit, the raise, the
 *       first display (first report wins; duty/admin in scope only), the acknowledgement, the
 *       forwarding and the platform's 2xx; on the API, the live feed (alert.clocks) and /metrics;
 *   (b) a hazard nobody's console shows within ALERT_DISPLAY_TARGET_S raises one alarm_clock_late
 *       (a fault, the service's own), which names the latest late alert and counts them: no storm;
 *   (b2) a late span is reported once, also across a restart;
 *   (c) a confirmed fire alarm (a UITD's fire alarm) the platform does not take within
 *       ALERT_FORWARD_TARGET_S of its acknowledgement is late too; once forwarded it has its clocks;
 *   (d) the MQTT bridge confirms with its PUBACK; the GB/T 26875.3 client has no frame for an
 *       acknowledgement, so it forwards no confirmed alarm, and alone it is not held to the target.
 * (a) and (b) on both engines: SQLite, and PostgreSQL (a fresh database, tests/support/postgres.ts),
 * where the alert writes go through the mirror and the write scope.
 */
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOCKS, SPAN_NAMES } from '../../services/alerts/alarm-clocks.js';
import { Command, FrameSplitter, decodeFrame, encodeAppData, encodeComponentStatus, encodeFrame, type AppDataInput, type Frame } from '../../services/protocols/gb26875/index.js';
import { LiveClient } from '../support/live.js';
import { freshDatabase } from '../support/postgres.js';
import { ADMIN_TOKEN, ApiClient, connectDevice, metricValue, provisionDevice, publish, startService, tempDir, waitFor, type TestService } from '../support/service.js';
import { MonitoringCentreReceiver, MqttUplinkBroker, UplinkReceiver } from '../support/uplink-receiver.js';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

type Engine = 'sqlite' | 'postgres';

async function service(env: Record<string, string>, engine: Engine = 'sqlite'): Promise<TestService> {
  let pg: Record<string, string> = {};
  if (engine === 'postgres') {
    const db = await freshDatabase();
    cleanup.push(() => db.drop());
    pg = { DATABASE_URL: db.url };
  }
  const svc = await startService({ ALERT_ACK_S: '86400', ALERT_CLOSE_S: '86400', ...pg, ...env });
  cleanup.push(() => svc.stop());
  return svc;
}

async function building(svc: TestService, id: string, street = '解放碑'): Promise<void> {
  const b = await svc.api.post('/api/v1/buildings', { id, name: `大楼 ${id}`, street, address: '民权路', type: 'public', heightM: 60, floors: 15, category: 1, use: 'complex' });
  expect(b.status).toBe(201);
}

async function detector(svc: TestService, buildingId: string): Promise<{ deviceId: string; client: MqttClient }> {
  const p = await provisionDevice(svc.api, { kind: 'electrical_fire', reportIntervalS: 3600 }, buildingId);
  const client = await connectDevice(svc.mqttUrl, p);
  cleanup.push(() => new Promise<void>((resolve) => client.end(true, {}, () => resolve())));
  return { deviceId: p.deviceId, client };
}

/** A detector's latched alarm (device_alarm, a hazard) stamped by the device a moment ago. */
async function alarm(svc: TestService, d: { deviceId: string; client: MqttClient }, seq: number): Promise<any> {
  await publish(d.client, `fire/v1/${d.deviceId}/event`, { ts: Date.now() - 250, seq, alarm: true, code: 'over_temperature' });
  return waitFor(async () => (await svc.api.get(`/api/v1/alerts?deviceId=${d.deviceId}&rule=device_alarm`)).body.items[0], 'the device_alarm');
}

async function login(svc: TestService, username: string, role: string, scope: Record<string, unknown>): Promise<ApiClient> {
  expect((await svc.api.post('/api/v1/users', { username, password: 'clock-password-1', role, ...scope })).status).toBe(201);
  const r = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username, password: 'clock-password-1' });
  expect(r.status).toBe(200);
  return new ApiClient(svc.fw.httpUrl, r.body.token);
}

/** Each clock that is set is at or after the one before it (the device's own clock aside). */
function expectInOrder(clocks: Record<string, unknown>): void {
  let before: number | undefined;
  for (const name of CLOCKS) {
    const v = clocks[name];
    if (typeof v !== 'string') continue;
    const t = Date.parse(v);
    if (before !== undefined) expect(t, name).toBeGreaterThanOrEqual(before);
    before = t;
  }
}

const lateAlerts = async (svc: TestService) => (await svc.api.get('/api/v1/alerts?rule=alarm_clock_late')).body.items as any[];

for (const engine of ['sqlite', 'postgres'] as const) {
describe(`(a) the clocks of one alarm, from the sensor to the platform (${engine})`, () => {
  it('fill in order, each once; shown: first report wins, duty/admin in scope; forwarded and confirmed by a 2xx; on the feed and in /metrics', async () => {
    const platform = new UplinkReceiver();
    await platform.start();
    cleanup.push(() => platform.close());
    const svc = await service({ UPLINK_HTTP_URL: platform.url, UPLINK_HTTP_TIMEOUT_MS: '2000' }, engine);
    await building(svc, 'clk-a');
    const live = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
    cleanup.push(() => live.close());
    const d = await detector(svc, 'clk-a');
    const raised = await alarm(svc, d, 1);

    // on the API at once: the reading's clocks and the raise, in order, the rest not yet
    const c0 = raised.clocks;
    expect(c0).toMatchObject({ durableAtSource: 'commit', firstShownAt: null, acknowledgedAt: null, forwardedAt: null, platformConfirmedAt: null });
    for (const k of ['deviceTs', 'receivedAt', 'durableAt', 'raisedAt']) expect(c0[k], k).toEqual(expect.any(String));
    expect(Date.parse(c0.receivedAt) - Date.parse(c0.deviceTs)).toBeGreaterThanOrEqual(200); // the device stamped it 250 ms before sending
    expectInOrder(c0);
    // and on the live feed's alert.raised
    expect((await live.next('alert.raised', (e) => e.data.alert.id === raised.id)).data.alert.clocks).toMatchObject({ raisedAt: c0.raisedAt });

    // shown: a duty officer of another street, and an operator, may not report it; the street's may
    const elsewhere = await login(svc, 'clk.duty.far', 'duty', { streets: ['朝天门'] });
    const operator = await login(svc, 'clk.ops', 'operator', { buildingIds: ['clk-a'] });
    const duty = await login(svc, 'clk.duty', 'duty', { streets: ['解放碑'] });
    expect((await elsewhere.post(`/api/v1/alerts/${raised.id}/shown`, {})).status).toBe(404);
    expect((await operator.post(`/api/v1/alerts/${raised.id}/shown`, {})).status).toBe(403);
    const first = await duty.post(`/api/v1/alerts/${raised.id}/shown`, {});
    expect(first.status).toBe(200);
    expect(first.body.clocks).toMatchObject({ firstShownBy: 'clk.duty', firstShownAt: expect.any(String) });
    // a second console later changes nothing: the first report wins
    await new Promise((r) => setTimeout(r, 20));
    const second = await svc.api.post(`/api/v1/alerts/${raised.id}/shown`, {});
    expect(second.status).toBe(200);
    expect(second.body.clocks.firstShownAt).toBe(first.body.clocks.firstShownAt);
    expect(second.body.clocks.firstShownBy).toBe('clk.duty');
    const shownEvent = await live.next('alert.clocks', (e) => e.data.alert.id === raised.id);
    expect(shownEvent.data.alert.clocks.firstShownAt).toBe(first.body.clocks.firstShownAt);
    expect(live.of('alert.clocks').filter((e) => e.data.alert.id === raised.id)).toHaveLength(1);

    // acknowledged → the acknowledgement's item goes to the platform → forwarded and confirmed
    const acked = await duty.post(`/api/v1/alerts/${raised.id}/ack`, {});
    expect(acked.status).toBe(200);
    expect(acked.body.clocks.acknowledgedAt).toBe(acked.body.acknowledgedAt);
    const done = await waitFor(async () => {
      const a = (await svc.api.get(`/api/v1/alerts/${raised.id}`)).body;
      return a.clocks.platformConfirmedAt ? a : undefined;
    }, 'forwardedAt and platformConfirmedAt');
    const c = done.clocks;
    expect(c).toMatchObject({ forwardedVia: 'http', forwardedAt: expect.any(String), platformConfirmedAt: expect.any(String) });
    expect(Date.parse(c.forwardedAt)).toBeGreaterThanOrEqual(Date.parse(c.acknowledgedAt));
    expectInOrder(c);
    for (const k of CLOCKS) expect(c[k], k).toEqual(expect.any(String));
    // the earlier clocks did not move
    for (const k of ['deviceTs', 'receivedAt', 'durableAt', 'raisedAt'] as const) expect(c[k]).toBe(c0[k]);
    // the platform got the acknowledgement, and the clocks' own changes never became items
    const items = platform.items().filter((i) => i.data?.alert?.id === raised.id);
    expect(items.some((i) => i.type === 'alert.updated' && i.data.alert.acknowledgedAt)).toBe(true);
    expect(items.filter((i) => i.type === 'alert.clocks')).toEqual([]);
    // one feed event per clock change: shown, then forwarded and confirmed together
    await live.next('alert.clocks', (e) => e.data.alert.id === raised.id && e.data.alert.clocks.forwardedAt !== null);

    // every span observed once for this alert; the console displayed it within 10 s: nothing late
    const m = await (await fetch(`${svc.fw.httpUrl}/metrics`)).text();
    for (const span of SPAN_NAMES) expect(metricValue(m, 'firewatch_alert_span_seconds_count', { span }), span).toBe(1);
    expect(metricValue(m, 'firewatch_alert_span_seconds_sum', { span: 'device_to_received' })).toBeGreaterThanOrEqual(0.2);
    expect(metricValue(m, 'firewatch_alert_clock_late_total')).toBe(0);
    expect(await lateAlerts(svc)).toEqual([]);
  });
});

describe(`(b) an alarm no console shows in time (${engine})`, () => {
  it('raises one alarm_clock_late naming the latest late alert; a second late alert recurs it, a late report changes nothing more', async () => {
    const svc = await service({ ALERT_DISPLAY_TARGET_S: '0.3' }, engine);
    await building(svc, 'clk-b');
    const first = await alarm(svc, await detector(svc, 'clk-b'), 1);
    const late = await waitFor(async () => (await lateAlerts(svc))[0], 'the alarm_clock_late alert', 5000);
    expect(late).toMatchObject({ rule: 'alarm_clock_late', class: 'fault', severity: 'major', status: 'open', deviceId: null, count: 1 });
    expect(late.message.zh).toContain(first.id);
    expect(late.message.zh).toMatch(/^告警“探测器报警”.*0\.3 秒内未在任何值班控制台显示/);
    expect(late.message.en).toContain(`not shown on any duty console within 0.3 s`);
    expect((await svc.api.get(`/api/v1/alerts/${first.id}`)).body.clocks.late).toEqual(['received_to_shown']);

    // shown now, too late: the span is observed, the alert already counted once
    const shown = await svc.api.post(`/api/v1/alerts/${first.id}/shown`, {});
    expect(Date.parse(shown.body.clocks.firstShownAt) - Date.parse(shown.body.clocks.receivedAt)).toBeGreaterThan(300);

    // a second hazard, shown too late as well: the same operational alert, naming it, count 2
    const second = await alarm(svc, await detector(svc, 'clk-b'), 1);
    const again = await waitFor(async () => {
      const l = await lateAlerts(svc);
      return l.length === 1 && l[0].count === 2 ? l[0] : undefined;
    }, 'alarm_clock_late recurring', 5000);
    expect(again.id).toBe(late.id);
    expect(again.message.zh).toContain(second.id);
    expect(again.history.map((e: any) => e.action)).toEqual(['raised', 'recurred']);
    const m = await (await fetch(`${svc.fw.httpUrl}/metrics`)).text();
    expect(metricValue(m, 'firewatch_alert_clock_late_total', { span: 'received_to_shown' })).toBe(2);
    expect(metricValue(m, 'firewatch_alert_span_seconds_count', { span: 'received_to_shown' })).toBe(1);
    // the service's own alert is not held to the display target
    expect((await lateAlerts(svc))[0].clocks.late ?? []).toEqual([]);
  });
});
}

describe('(b2) across a restart', () => {
  it('a late span reported before the restart is not reported again; one that fell due while the service was down is reported at start', async () => {
    const dataDir = tempDir();
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const env = { ALERT_DISPLAY_TARGET_S: '1.5', ALERT_ACK_S: '86400', ALERT_CLOSE_S: '86400' };
    let svc = await startService(env, dataDir);
    await building(svc, 'clk-r');
    const d = await detector(svc, 'clk-r');
    const first = await alarm(svc, d, 1);
    await waitFor(async () => (await lateAlerts(svc))[0]?.count === 1, 'the first late report', 5000);
    // a second hazard, raised just before the service stops: its target passes while it is down
    const other = await detector(svc, 'clk-r');
    const second = await alarm(svc, other, 1);
    expect((await lateAlerts(svc))[0].count).toBe(1);
    await svc.stop({ keepData: true });
    await new Promise((r) => setTimeout(r, 1600));
    svc = await startService(env, dataDir);
    cleanup.push(() => svc.stop());
    const late = await waitFor(async () => {
      const l = (await lateAlerts(svc))[0];
      return l?.count === 2 ? l : undefined;
    }, 'the second late report after the restart', 5000);
    expect(late.message.zh).toContain(second.id);
    expect(late.message.zh).toContain('接收后 1.5 秒内未在任何值班控制台显示');
    await new Promise((r) => setTimeout(r, 600));
    // the first one was not reported again: still two
    expect((await lateAlerts(svc))[0].count).toBe(2);
    expect((await svc.api.get(`/api/v1/alerts/${first.id}`)).body.clocks.late).toEqual(['received_to_shown']);
  });
});

/** A UITD (用户信息传输装置) on TCP, as tests/integration/gb26875-bits.test.ts has it: frames built with the codec. */
class Uitd {
  readonly replies: Frame[] = [];
  private readonly splitter = new FrameSplitter();
  private serial = 0;
  private constructor(
    readonly socket: Socket,
    readonly address: number,
  ) {
    socket.on('data', (c: Buffer) => {
      for (const o of this.splitter.push(c)) {
        if (o.kind !== 'frame') continue;
        const d = decodeFrame(o.frame);
        if (d.ok) this.replies.push(d.frame);
      }
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, address: number): Promise<Uitd> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new Uitd(s, address)));
      s.once('error', reject);
    });
  }

  async send(appData: AppDataInput): Promise<Frame> {
    const serial = this.serial++;
    this.socket.write(
      encodeFrame({ serial, version: { major: 1, user: 1 }, time: new Date(), source: this.address, destination: 0x15b38, command: Command.send_data, appData: encodeAppData(appData) }),
    );
    return waitFor(() => this.replies.find((r) => r.serial === serial), `reply to serial ${serial}`);
  }
}

describe('(c) a confirmed fire alarm the platform does not take in time', () => {
  it('is late by ALERT_FORWARD_TARGET_S after its acknowledgement; once the platform takes it, forwardedAt and platformConfirmedAt follow', async () => {
    const platform = new UplinkReceiver();
    await platform.start();
    cleanup.push(() => platform.close());
    platform.mode = 'fail'; // 503: the items wait in the outbox
    const svc = await service({ GB26875_PORT: '0', UPLINK_HTTP_URL: platform.url, UPLINK_HTTP_TIMEOUT_MS: '1000', ALERT_FORWARD_TARGET_S: '0.3' });
    await building(svc, 'clk-c');
    expect((await svc.api.post('/api/v1/devices', { id: 'clk-uitd', buildingId: 'clk-c', kind: 'uitd', address: 0x3b1, reportIntervalS: 30, inService: true })).status).toBe(201);
    const u = await Uitd.open(svc.fw.gb26875Port!, 0x3b1);
    cleanup.push(async () => void u.socket.destroy());
    const fire: AppDataInput = {
      type: 2,
      objects: [{ systemType: 1, systemAddress: 1, componentType: 40, address: { zone: 2, position: 5 }, status: encodeComponentStatus({ normal: true, fireAlarm: true }), description: '2F', time: new Date() }],
    };
    expect((await u.send(fire)).command).toBe(Command.confirm);
    const raised = await waitFor(async () => (await svc.api.get('/api/v1/alerts?deviceId=clk-uitd&rule=device_alarm')).body.items[0], 'the UITD fire alarm');
    expect(raised).toMatchObject({ kind: 'uitd', class: 'hazard' });
    expect(raised.clocks).toMatchObject({ receivedAt: expect.any(String), durableAt: expect.any(String), durableAtSource: 'commit', raisedAt: expect.any(String) });
    expectInOrder(raised.clocks);

    await svc.api.post(`/api/v1/alerts/${raised.id}/shown`, {});
    const acked = (await svc.api.post(`/api/v1/alerts/${raised.id}/ack`, {})).body;
    const late = await waitFor(async () => (await lateAlerts(svc))[0], 'alarm_clock_late for the forwarding', 5000);
    expect(late.message.zh).toMatch(/^已确认的火警“探测器报警”.*确认后 0\.3 秒内未转发至市级平台/);
    expect(late.message.zh).toContain(raised.id);
    expect(late.message.en).toContain('was not forwarded to the platform within 0.3 s');
    expect((await svc.api.get(`/api/v1/alerts/${raised.id}`)).body.clocks).toMatchObject({ forwardedAt: null, late: ['acknowledged_to_forwarded'] });

    // the platform is back: the confirmed alarm goes out and gets its clocks; late stays noted, once
    platform.mode = 'ok';
    const done = await waitFor(async () => {
      const a = (await svc.api.get(`/api/v1/alerts/${raised.id}`)).body;
      return a.clocks.platformConfirmedAt ? a : undefined;
    }, 'forwarded after the outage', 15_000);
    expect(Date.parse(done.clocks.forwardedAt)).toBeGreaterThanOrEqual(Date.parse(acked.acknowledgedAt));
    expectInOrder(done.clocks);
    expect(done.clocks.late).toEqual(['acknowledged_to_forwarded']);
    expect((await lateAlerts(svc))[0].count).toBe(1);
  });
});

describe('(d) the MQTT bridge and the GB/T 26875.3 client', () => {
  it("the bridge's PUBACK confirms the forwarded acknowledgement; the GB/T client sent the raise but has no frame for it, and alone is not held to the target", async () => {
    const broker = new MqttUplinkBroker();
    await broker.start();
    cleanup.push(() => broker.close());
    const centre = new MonitoringCentreReceiver();
    const port = await centre.start();
    cleanup.push(() => centre.close());
    const gb = { UPLINK_GB26875_ADDR: `127.0.0.1:${port}`, UPLINK_GB26875_SOURCE_ADDR: '123456', UPLINK_GB26875_DEST_ADDR: '654321', UPLINK_GB26875_HEARTBEAT_S: '1' };
    const both = await service({ ...gb, UPLINK_MQTT_URL: broker.url, UPLINK_MQTT_TOPIC: 'fw/{type}/{id}', ALERT_FORWARD_TARGET_S: '0.3' });
    await building(both, 'clk-d');
    const a = await alarm(both, await detector(both, 'clk-d'), 1);
    await both.api.post(`/api/v1/alerts/${a.id}/shown`, {});
    await both.api.post(`/api/v1/alerts/${a.id}/ack`, {});
    const done = await waitFor(async () => {
      const x = (await both.api.get(`/api/v1/alerts/${a.id}`)).body;
      return x.clocks.platformConfirmedAt ? x : undefined;
    }, 'forwarded over MQTT');
    expect(done.clocks.forwardedVia).toBe('mqtt');
    expectInOrder(done.clocks);
    expect(broker.published.some((m) => m.body.type === 'alert.updated' && m.body.data.alert.id === a.id)).toBe(true);
    // the GB/T client beside it is up, its frames confirmed by the centre (its status, the raise)
    await waitFor(() => centre.confirmed.length > 0, 'frames confirmed at the centre');

    // the GB/T client alone: a confirmed fire alarm is not forwarded as such, and nothing is late for it
    const alone = await service({ ...gb, GB26875_PORT: '0', ALERT_FORWARD_TARGET_S: '0.3' });
    await building(alone, 'clk-d2');
    expect((await alone.api.post('/api/v1/devices', { id: 'clk-uitd-2', buildingId: 'clk-d2', kind: 'uitd', address: 0x3b2, reportIntervalS: 30, inService: true })).status).toBe(201);
    const u = await Uitd.open(alone.fw.gb26875Port!, 0x3b2);
    cleanup.push(async () => void u.socket.destroy());
    const status = encodeComponentStatus({ normal: true, fireAlarm: true });
    expect((await u.send({ type: 2, objects: [{ systemType: 1, systemAddress: 1, componentType: 40, address: { zone: 1, position: 1 }, status, description: '', time: new Date() }] })).command).toBe(Command.confirm);
    const fire = await waitFor(async () => (await alone.api.get('/api/v1/alerts?deviceId=clk-uitd-2&rule=device_alarm')).body.items[0], 'the fire alarm');
    await alone.api.post(`/api/v1/alerts/${fire.id}/shown`, {});
    await alone.api.post(`/api/v1/alerts/${fire.id}/ack`, {});
    await new Promise((r) => setTimeout(r, 800));
    expect((await alone.api.get(`/api/v1/alerts/${fire.id}`)).body.clocks).toMatchObject({ acknowledgedAt: expect.any(String), forwardedAt: null, platformConfirmedAt: null });
    expect(await lateAlerts(alone)).toEqual([]);
  });
});
