/**
 * Protection of the GB/T 26875.3 gateway through the wire (issue #12 item 7): real services with
 * the gateway on an ephemeral port, real TCP clients using the codec.
 *   (a) per-UITD peer allow-lists (and GB26875_ALLOW for UITDs without one): a fire alarm from a
 *       peer not on the list raises nothing, is counted and closes the connection;
 *   (b) a connection without frames from an allowed UITD is closed after GB26875_IDLE_TIMEOUT_S;
 *   (c) connections beyond GB26875_MAX_CONNECTIONS (and per peer) are closed at once and counted,
 *       the ones already open keep working;
 *   (d) the listener binds GB26875_HOST, not MQTT_HOST.
 * Then the listener alone on a manual clock: refusals logged once per interval, without frame
 * content; the idle timer restarting on each frame from an allowed UITD.
 */
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gb26875Listener } from '../../gateway/gb26875/listener.js';
import type { Device } from '../../services/devices/model.js';
import { Metrics } from '../../services/metrics/metrics.js';
import { ManualClock } from '../../services/shared/clock.js';
import {
  Command,
  FrameSplitter,
  decodeFrame,
  encodeAppData,
  encodeComponentStatus,
  encodeFrame,
  type AppDataInput,
  type Frame,
} from '../../services/protocols/gb26875/index.js';
import { metricValue, startService, waitFor, type TestService } from '../support/service.js';

const CENTRE = 0x15b38;
const GATEWAY_HOST = '127.0.0.1';
/** the MQTT broker listens elsewhere, so a gateway still bound to MQTT_HOST is not reachable on GATEWAY_HOST */
const MQTT_HOST = '127.0.0.2';

class Uitd {
  readonly replies: Frame[] = [];
  readonly received: Buffer[] = [];
  readonly closed: Promise<number>;
  isClosed = false;
  private readonly splitter = new FrameSplitter();
  private serial = 0;

  private constructor(
    readonly socket: Socket,
    readonly address: number,
  ) {
    socket.on('data', (c: Buffer) => {
      this.received.push(c);
      for (const o of this.splitter.push(c)) {
        if (o.kind !== 'frame') continue;
        const d = decodeFrame(o.frame);
        if (d.ok) this.replies.push(d.frame);
      }
    });
    socket.on('error', () => {
      /* followed by close */
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        resolve(Date.now());
      }),
    );
  }

  static open(port: number, address: number, opts: { host?: string; localAddress?: string } = {}): Promise<Uitd> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: opts.host ?? GATEWAY_HOST, port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, () => resolve(new Uitd(s, address)));
      s.once('error', reject);
    });
  }

  write(appData: AppDataInput | null, source = this.address): number {
    const serial = this.serial++;
    const bytes = encodeFrame({
      serial,
      version: { major: 1, user: 1 },
      time: new Date(),
      source,
      destination: CENTRE,
      command: Command.send_data,
      appData: appData ? encodeAppData(appData) : new Uint8Array(0),
    });
    this.socket.write(bytes);
    return serial;
  }

  /** send and wait for the reply with the same serial */
  async send(appData: AppDataInput | null, source = this.address): Promise<Frame> {
    const serial = this.write(appData, source);
    return waitFor(() => this.replies.find((r) => r.serial === serial), `reply to serial ${serial}`);
  }

  /** resolves when the gateway closes the connection; rejects after `ms` */
  closedWithin(ms: number): Promise<number> {
    return Promise.race([this.closed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms))]);
  }

  close(): void {
    this.socket.destroy();
  }
}

const fireAlarm: AppDataInput = {
  type: 2,
  objects: [{ systemType: 1, systemAddress: 1, componentType: 40, address: { zone: 3, position: 12 }, status: encodeComponentStatus({ normal: true, fireAlarm: true }), description: 'smoke 5F', time: new Date() }],
};

async function metrics(svc: TestService): Promise<string> {
  return (await svc.api.get('/metrics')).body as string;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function registerUitd(svc: TestService, id: string, address: number, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await svc.api.post('/api/v1/devices', { id, buildingId: 'hb-tower', kind: 'uitd', address, reportIntervalS: 30, inService: true, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

async function building(svc: TestService): Promise<void> {
  expect((await svc.api.post('/api/v1/buildings', { id: 'hb-tower', name: '英利国际', street: '两路口', type: 'public', heightM: 180, use: 'office' })).status).toBe(201);
}

describe('(a, d) peer allow-lists, on GB26875_HOST', () => {
  let svc: TestService;
  let port: number;
  beforeAll(async () => {
    svc = await startService({ GB26875_PORT: '0', GB26875_HOST: GATEWAY_HOST, MQTT_HOST, GB26875_ALLOW: '10.0.0.0/8, fd00::/8' });
    port = svc.fw.gb26875Port!;
    await building(svc);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('(d) the gateway listens on GB26875_HOST and not on MQTT_HOST', async () => {
    const u = await Uitd.open(port, 1, { host: GATEWAY_HOST });
    u.close();
    await expect(Uitd.open(port, 1, { host: MQTT_HOST })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('allowedPeers is validated at registration and on PATCH, and shown on the device', async () => {
    const bad = await svc.api.post('/api/v1/devices', { id: 'uitd-bad', buildingId: 'hb-tower', kind: 'uitd', address: 7001, allowedPeers: ['10.9.9.0/33'] });
    expect(bad.status).toBe(400);
    expect((await svc.api.post('/api/v1/devices', { id: 'uitd-bad', buildingId: 'hb-tower', kind: 'uitd', address: 7001, allowedPeers: ['not-an-ip'] })).status).toBe(400);
    expect((await svc.api.post('/api/v1/devices', { id: 'uitd-bad', buildingId: 'hb-tower', kind: 'uitd', address: 7001, allowedPeers: [] })).status).toBe(400);
    const lane = await svc.api.post('/api/v1/devices', { id: 'lane-hb', buildingId: 'hb-tower', kind: 'fire_lane', allowedPeers: ['10.9.9.0/24'] });
    expect(lane.status).toBe(400);
    expect((await svc.api.post('/api/v1/devices', { id: 'lane-hb', buildingId: 'hb-tower', kind: 'fire_lane' })).status).toBe(201);
    const lanePatch = await svc.api.patch('/api/v1/devices/lane-hb', { allowedPeers: ['10.9.9.0/24'] });
    expect(lanePatch.status).toBe(400);
    expect(lanePatch.body.code).toBe('allowed_peers_uitd_only');

    await registerUitd(svc, 'uitd-fenced', 7002, { allowedPeers: ['10.9.9.0/24', 'fd00:9::/32'] });
    const got = (await svc.api.get('/api/v1/devices/uitd-fenced')).body;
    expect(got.allowedPeers).toEqual(['10.9.9.0/24', 'fd00:9::/32']);
    expect((await svc.api.patch('/api/v1/devices/uitd-fenced', { allowedPeers: ['10.9.9.0/24', '  10.9.8.7 '] })).body.allowedPeers).toEqual(['10.9.9.0/24', '10.9.8.7']);
    expect((await svc.api.patch('/api/v1/devices/uitd-fenced', { allowedPeers: ['10.9.9.0/24'] })).status).toBe(200);
  });

  it('(a) a fire alarm from a peer not on the list raises nothing, is counted and closes the connection; on the list it raises the alarm', async () => {
    const u = await Uitd.open(port, 7002);
    u.write(fireAlarm);
    await u.closedWithin(5000);
    expect(u.received).toEqual([]); // not even a deny
    let m = await metrics(svc);
    expect(metricValue(m, 'firewatch_gb26875_refused_total', { reason: 'not_allowed' })).toBe(1);
    expect(metricValue(m, 'firewatch_gb26875_frames_total', { result: 'not_allowed' })).toBe(1);
    expect(metricValue(m, 'firewatch_gb26875_frames_total', { result: 'ok' })).toBe(0);
    expect((await svc.api.get('/api/v1/alerts?deviceId=uitd-fenced')).body.items).toEqual([]);
    const device = (await svc.api.get('/api/v1/devices/uitd-fenced')).body;
    expect(device.status.online).toBe(false);
    expect(device.status.lastSeenAt).toBeNull();

    // 127.0.0.1 added, written as IPv4-mapped IPv6: it matches the IPv4 peer
    expect((await svc.api.patch('/api/v1/devices/uitd-fenced', { allowedPeers: ['10.9.9.0/24', '::ffff:127.0.0.0/104'] })).status).toBe(200);
    const ok = await Uitd.open(port, 7002);
    expect((await ok.send(fireAlarm)).command).toBe(Command.confirm);
    const alerts = (await svc.api.get('/api/v1/alerts?deviceId=uitd-fenced')).body.items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'device_alarm', status: 'open' });
    expect(ok.isClosed).toBe(false);
    ok.close();
    m = await metrics(svc);
    expect(metricValue(m, 'firewatch_gb26875_refused_total', { reason: 'not_allowed' })).toBe(1);
  });

  it('(a) a UITD without its own list gets GB26875_ALLOW; its own list replaces it; null removes it again', async () => {
    await registerUitd(svc, 'uitd-open', 7003);
    expect((await svc.api.get('/api/v1/devices/uitd-open')).body.allowedPeers).toBeUndefined();
    const before = metricValue(await metrics(svc), 'firewatch_gb26875_refused_total', { reason: 'not_allowed' });
    const u = await Uitd.open(port, 7003);
    u.write(null); // a heartbeat: refused just the same, the device does not come online
    await u.closedWithin(5000);
    expect(metricValue(await metrics(svc), 'firewatch_gb26875_refused_total', { reason: 'not_allowed' })).toBe(before + 1);
    expect((await svc.api.get('/api/v1/devices/uitd-open')).body.status.online).toBe(false);

    await svc.api.patch('/api/v1/devices/uitd-open', { allowedPeers: ['127.0.0.1'] });
    const ok = await Uitd.open(port, 7003);
    expect((await ok.send(null)).command).toBe(Command.confirm);
    ok.close();

    const reset = await svc.api.patch('/api/v1/devices/uitd-open', { allowedPeers: null });
    expect(reset.status).toBe(200);
    expect(reset.body.allowedPeers).toBeUndefined();
    const again = await Uitd.open(port, 7003);
    again.write(fireAlarm);
    await again.closedWithin(5000);
    expect((await svc.api.get('/api/v1/alerts?deviceId=uitd-open')).body.items).toEqual([]);
  });

  it('unknown addresses are still denied, not refused; the lists survive a restart', async () => {
    const u = await Uitd.open(port, 424242);
    expect((await u.send(fireAlarm)).command).toBe(Command.deny);
    expect(u.isClosed).toBe(false);
    u.close();

    const dataDir = svc.dataDir;
    await svc.stop({ keepData: true });
    svc = await startService({ GB26875_PORT: '0', GB26875_HOST: GATEWAY_HOST, MQTT_HOST, GB26875_ALLOW: '10.0.0.0/8' }, dataDir);
    port = svc.fw.gb26875Port!;
    expect((await svc.api.get('/api/v1/devices/uitd-fenced')).body.allowedPeers).toEqual(['10.9.9.0/24', '::ffff:127.0.0.0/104']);
    const ok = await Uitd.open(port, 7002);
    expect((await ok.send(null)).command).toBe(Command.confirm);
    ok.close();
  });
});

describe('(b) idle timeout', () => {
  let svc: TestService;
  let port: number;
  beforeAll(async () => {
    svc = await startService({ GB26875_PORT: '0', GB26875_HOST: GATEWAY_HOST, GB26875_IDLE_TIMEOUT_S: '1' });
    port = svc.fw.gb26875Port!;
    await building(svc);
    await registerUitd(svc, 'uitd-idle', 8001);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('a connection that sends nothing is closed after the idle timeout, and counted', async () => {
    const u = await Uitd.open(port, 8001);
    const opened = Date.now();
    const closedAt = await u.closedWithin(6000);
    expect(closedAt - opened).toBeGreaterThanOrEqual(900);
    expect(metricValue(await metrics(svc), 'firewatch_gb26875_refused_total', { reason: 'idle' })).toBe(1);
  });

  it('heartbeats keep a connection open; when they stop, it is closed', async () => {
    const u = await Uitd.open(port, 8001);
    for (let i = 0; i < 8; i++) {
      expect((await u.send(null)).command).toBe(Command.confirm);
      await sleep(300);
    }
    expect(u.isClosed).toBe(false); // 2.4 s > the 1 s timeout
    const last = Date.now();
    const closedAt = await u.closedWithin(6000);
    expect(closedAt - last).toBeGreaterThanOrEqual(600);
  });

  it('garbage and frames from unknown addresses do not keep a connection open', async () => {
    const u = await Uitd.open(port, 8001);
    const timer = setInterval(() => {
      if (u.isClosed) return;
      u.socket.write(Buffer.from('GET / HTTP/1.1\r\n'));
      u.write(null, 999_999); // denied: no such UITD
    }, 200);
    try {
      await u.closedWithin(6000);
    } finally {
      clearInterval(timer);
    }
    expect(u.replies.some((r) => r.command === Command.deny)).toBe(true);
    expect(metricValue(await metrics(svc), 'firewatch_gb26875_refused_total', { reason: 'idle' })).toBeGreaterThanOrEqual(3);
  });
});

describe('(c) connection caps', () => {
  let svc: TestService;
  let port: number;
  beforeAll(async () => {
    svc = await startService({ GB26875_PORT: '0', GB26875_HOST: GATEWAY_HOST, GB26875_MAX_CONNECTIONS: '3', GB26875_MAX_CONNECTIONS_PER_PEER: '2' });
    port = svc.fw.gb26875Port!;
    await building(svc);
    for (let i = 1; i <= 4; i++) await registerUitd(svc, `uitd-cap-${i}`, 9000 + i);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const connections = async () => metricValue(await metrics(svc), 'firewatch_gb26875_connections');

  it('beyond the per-peer cap and the total cap a connection is closed at once and counted; the open ones keep working', async () => {
    const a = await Uitd.open(port, 9001);
    const b = await Uitd.open(port, 9002);
    expect((await a.send(null)).command).toBe(Command.confirm);
    expect((await b.send(null)).command).toBe(Command.confirm);

    // a third connection from 127.0.0.1: over the per-peer cap of 2
    const c = await Uitd.open(port, 9003);
    c.write(fireAlarm);
    await c.closedWithin(2000);
    expect(c.replies).toEqual([]);
    // from another address it is accepted: 3 connections in all
    const d = await Uitd.open(port, 9003, { localAddress: '127.0.0.3' });
    expect((await d.send(null)).command).toBe(Command.confirm);
    // a fourth connection: over the total cap of 3
    const e = await Uitd.open(port, 9004, { localAddress: '127.0.0.4' });
    e.write(fireAlarm);
    await e.closedWithin(2000);
    expect(e.replies).toEqual([]);

    let m = await metrics(svc);
    expect(metricValue(m, 'firewatch_gb26875_refused_total', { reason: 'peer_cap' })).toBe(1);
    expect(metricValue(m, 'firewatch_gb26875_refused_total', { reason: 'cap' })).toBe(1);
    expect(metricValue(m, 'firewatch_gb26875_connections')).toBe(3);
    expect((await svc.api.get('/api/v1/alerts?deviceId=uitd-cap-4')).body.items).toEqual([]);

    // the connections already open still work
    expect((await a.send(fireAlarm)).command).toBe(Command.confirm);
    expect((await b.send(null)).command).toBe(Command.confirm);
    expect((await d.send(null)).command).toBe(Command.confirm);
    expect((await svc.api.get('/api/v1/alerts?deviceId=uitd-cap-1')).body.items).toHaveLength(1);

    // a closed connection frees its slot
    a.close();
    await waitFor(async () => (await connections()) === 2, 'a slot to free up');
    const f = await Uitd.open(port, 9004, { localAddress: '127.0.0.4' });
    expect((await f.send(null)).command).toBe(Command.confirm);
    m = await metrics(svc);
    expect(metricValue(m, 'firewatch_gb26875_refused_total', { reason: 'cap' })).toBe(1);
    for (const u of [b, d, f]) u.close();
  });
});

describe('the listener alone, on a manual clock: refusal logs and the idle timer', () => {
  const lines: Array<Record<string, unknown>> = [];
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 2, 0, 0));
  const metricsReg = new Metrics({ defaultMetrics: false });
  const ingested: unknown[] = [];
  const uitd = (id: string, address: number, allowedPeers?: string[]): Device => ({
    id,
    buildingId: 'b',
    kind: 'uitd',
    point: null,
    location: null,
    reportIntervalS: 30,
    vendor: null,
    model: null,
    rules: null,
    address,
    ...(allowedPeers ? { allowedPeers } : {}),
    createdAt: '',
    updatedAt: '',
  });
  const devices = [uitd('u-fenced', 5, ['10.9.9.0/24']), uitd('u-open', 6)];
  let listener: Gb26875Listener;
  let port: number;
  beforeAll(async () => {
    listener = new Gb26875Listener({
      host: GATEWAY_HOST,
      port: 0,
      deviceByAddress: (a) => devices.find((d) => d.address === a),
      ingest: async (m) => {
        ingested.push(m);
        return { accepted: [], rejections: [], duplicates: 0 };
      },
      onConnection: () => undefined,
      onSeen: () => undefined,
      metrics: metricsReg,
      log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
      clock,
      idleTimeoutMs: 180_000,
      refusalLogIntervalMs: 60_000,
    });
    port = await listener.start();
  });
  afterAll(async () => {
    await listener?.close();
  });
  const refused = (reason: string) => metricsReg.counterValue(metricsReg.gb26875Refused, { reason });

  it('refusals are counted every time and logged once per interval per UITD, with who and from where but no frame content', async () => {
    for (let i = 0; i < 3; i++) {
      const u = await Uitd.open(port, 5);
      u.write(fireAlarm);
      await u.closedWithin(5000);
    }
    expect(await refused('not_allowed')).toBe(3);
    let logged = lines.filter((l) => l.reason === 'not_allowed');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ deviceId: 'u-fenced', address: 5, peer: '127.0.0.1', suppressedSinceLast: 0 });
    expect(Object.keys(logged[0]!).sort()).toEqual(['address', 'deviceId', 'level', 'msg', 'peer', 'pid', 'hostname', 'reason', 'suppressedSinceLast', 'time'].sort());
    clock.advance(61_000);
    const u = await Uitd.open(port, 5);
    u.write(null);
    await u.closedWithin(5000);
    logged = lines.filter((l) => l.reason === 'not_allowed');
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatchObject({ suppressedSinceLast: 2 });
    expect(ingested).toEqual([]);
  });

  it('the idle timer restarts on each frame from an allowed UITD and closes the connection after 180 s without one', async () => {
    const before = await refused('idle');
    const u = await Uitd.open(port, 6);
    await waitFor(async () => metricValue(await metricsReg.registry.metrics(), 'firewatch_gb26875_connections') === 1, 'accepted');
    clock.advance(179_000);
    expect((await u.send(null)).command).toBe(Command.confirm); // a heartbeat at 179 s
    clock.advance(179_000);
    await sleep(50);
    expect(u.isClosed).toBe(false); // 179 s after the heartbeat
    u.write(null, 424242); // a frame from no UITD does not count
    await waitFor(() => u.replies.some((r) => r.command === Command.deny), 'deny');
    clock.advance(2_000);
    await u.closedWithin(5000);
    expect(await refused('idle')).toBe(before + 1);
  });
});
