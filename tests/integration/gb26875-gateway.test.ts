/**
 * The GB/T 26875.3 gateway through the wire: a simulated UITD (a real TCP client using the codec)
 * registers as a device of kind uitd, sends heartbeats, a fire alarm component status, analog
 * values and a recovery. The fire alarm becomes a device_alarm alert visible through the API and
 * on the live feed; frames from unknown addresses and with bad checksums are denied and counted.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Command,
  FrameSplitter,
  decodeFrame,
  encodeAppData,
  encodeComponentStatus,
  encodeFrame,
  encodeUitdStatus,
  type AppDataInput,
  type Frame,
} from '../../services/protocols/gb26875/index.js';
import { ADMIN_TOKEN, metricValue, startService, waitFor, type TestService } from '../support/service.js';
import { LiveClient } from '../support/live.js';

const UITD_ADDRESS = 0x0000_0000_0379; // 889, the source of G2's worked example (fact 25)
const CENTRE = 0x15b38;

class SimulatedUitd {
  readonly replies: Frame[] = [];
  private readonly splitter = new FrameSplitter();
  private serial = 0;
  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      for (const o of this.splitter.push(c)) if (o.kind === 'frame') {
        const d = decodeFrame(o.frame);
        if (d.ok) this.replies.push(d.frame);
      }
    });
  }

  static open(port: number): Promise<SimulatedUitd> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new SimulatedUitd(s)));
      s.once('error', reject);
    });
  }

  frame(appData: Uint8Array, source = UITD_ADDRESS): { serial: number; bytes: Buffer } {
    const serial = this.serial++;
    return { serial, bytes: encodeFrame({ serial, version: { major: 1, user: 1 }, time: new Date(), source, destination: CENTRE, command: Command.send_data, appData }) };
  }

  /** send and wait for the reply with the same serial */
  async send(appData: AppDataInput | null, opts: { source?: number; split?: boolean } = {}): Promise<Frame> {
    const f = this.frame(appData ? encodeAppData(appData) : new Uint8Array(0), opts.source);
    if (opts.split) {
      // one frame across three reads (fact 6)
      this.socket.write(f.bytes.subarray(0, 5));
      await new Promise((r) => setTimeout(r, 20));
      this.socket.write(f.bytes.subarray(5, 40));
      await new Promise((r) => setTimeout(r, 20));
      this.socket.write(f.bytes.subarray(40));
    } else this.socket.write(f.bytes);
    return this.reply(f.serial);
  }

  reply(serial: number): Promise<Frame> {
    return waitFor(() => this.replies.find((r) => r.serial === serial), `reply to serial ${serial}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

const componentStatus = (status: number, position = 2): AppDataInput => ({
  type: 2,
  objects: [{ systemType: 1, systemAddress: 1, componentType: 40, address: { zone: 10, position }, status, description: 'smoke 3F', time: new Date() }],
});

let svc: TestService;
let live: LiveClient;
let port: number;

beforeAll(async () => {
  svc = await startService({ GB26875_PORT: '0' });
  port = svc.fw.gb26875Port!;
  expect(port).toBeGreaterThan(0);
  await svc.api.post('/api/v1/buildings', { id: 'gb-mall', name: '大融城', street: '解放碑', type: 'public', heightM: 90, use: 'market' });
  live = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
});
afterAll(async () => {
  await live?.close();
  await svc?.stop();
});

describe('UITD registration', () => {
  it('a uitd needs its address, addresses are unique, other kinds take none', async () => {
    const missing = await svc.api.post('/api/v1/devices', { id: 'uitd-x', buildingId: 'gb-mall', kind: 'uitd' });
    expect(missing.status).toBe(400);
    const wrong = await svc.api.post('/api/v1/devices', { id: 'lane-x', buildingId: 'gb-mall', kind: 'fire_lane', address: 5 });
    expect(wrong.status).toBe(400);
    const ok = await svc.api.post('/api/v1/devices', { id: 'uitd-mall', buildingId: 'gb-mall', kind: 'uitd', address: UITD_ADDRESS, vendor: 'ACME', reportIntervalS: 30, inService: true });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ kind: 'uitd', address: UITD_ADDRESS });
    const dup = await svc.api.post('/api/v1/devices', { id: 'uitd-dup', buildingId: 'gb-mall', kind: 'uitd', address: UITD_ADDRESS });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('device_address_exists');
    const rules = (await svc.api.get('/api/v1/devices/uitd-mall/rules')).body.rules;
    expect(Object.keys(rules).sort()).toEqual(['device_alarm', 'device_offline', 'device_supervisory', 'sensor_fault']);
  });
});

describe('a simulated UITD over TCP', () => {
  it('heartbeat, fire alarm, analog values, recovery: alerts end to end; unknown address and bad checksum denied', async () => {
    const uitd = await SimulatedUitd.open(port);
    // heartbeat (fact 8) across several reads → confirm, device online
    const hb = await uitd.send(null, { split: true });
    expect(hb.command).toBe(Command.confirm);
    expect(hb.source).toBe(CENTRE); // source and destination swapped (fact 26)
    expect(hb.destination).toBe(UITD_ADDRESS);
    await live.next('device.online', (e) => e.data.deviceId === 'uitd-mall');
    expect((await svc.api.get('/api/v1/devices/uitd-mall')).body.status.online).toBe(true);

    // fire alarm on a smoke detector (bit1) → device_alarm alert on the board and the feed
    const fire = await uitd.send(componentStatus(encodeComponentStatus({ normal: true, fireAlarm: true })));
    expect(fire.command).toBe(Command.confirm);
    const alerts = (await svc.api.get('/api/v1/alerts?deviceId=uitd-mall')).body.items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'device_alarm', class: 'hazard', status: 'open', cleared: false, street: '解放碑', kind: 'uitd' });
    await live.next('alert.raised', (e) => e.data.alert.id === alerts[0].id);

    // a second component reporting normal does not clear the alarm of the first (fact 24)
    await uitd.send(componentStatus(encodeComponentStatus({ normal: true }), 7));
    expect((await svc.api.get(`/api/v1/alerts/${alerts[0].id}`)).body.cleared).toBe(false);

    // analog values (type 3): pressure as kPa (type 5), a level (type 2), several frames in one write
    const analog = (analogType: number, value: number): AppDataInput => ({
      type: 3,
      objects: [{ systemType: 11, systemAddress: 1, componentType: 128, address: { zone: 1, position: 1 }, analogType, value, time: new Date(Date.now() - 1000) }],
    });
    const a1 = uitd.frame(encodeAppData(analog(5, 1200)));
    const a2 = uitd.frame(encodeAppData(analog(2, 350)));
    uitd.socket.write(Buffer.concat([a1.bytes, a2.bytes]));
    expect((await uitd.reply(a1.serial)).command).toBe(Command.confirm);
    expect((await uitd.reply(a2.serial)).command).toBe(Command.confirm);
    const readings = (await svc.api.get('/api/v1/devices/uitd-mall/readings')).body.items;
    expect([...readings].sort((x: any, y: any) => x.analogType - y.analogType)).toEqual([
      expect.objectContaining({ analogType: 2, quantity: 'level', value: 3.5, unit: 'm', systemType: 11, componentType: 128 }),
      expect.objectContaining({ analogType: 5, quantity: 'pressure', value: 120, unit: 'kPa' }),
    ]);

    // UITD main-power fault (type 21, bit3, fact 27) → sensor_fault; recovery closes it
    await uitd.send({ type: 21, objects: [{ status: encodeUitdStatus({ normal: true, mainPowerFault: true }), time: new Date() }] });
    await waitFor(async () => (await svc.api.get('/api/v1/alerts?deviceId=uitd-mall&rule=sensor_fault')).body.items.length === 1, 'sensor_fault');
    await uitd.send({ type: 21, objects: [{ status: encodeUitdStatus({ normal: true }), time: new Date() }] });
    const fault = (await svc.api.get('/api/v1/alerts?deviceId=uitd-mall&rule=sensor_fault')).body.items[0];
    expect(fault).toMatchObject({ cleared: true, status: 'closed' });

    // the smoke detector recovers (bits clear) → the alarm clears, and stays on the board until closed
    await uitd.send(componentStatus(encodeComponentStatus({ normal: true })));
    const cleared = (await svc.api.get(`/api/v1/alerts/${alerts[0].id}`)).body;
    expect(cleared).toMatchObject({ cleared: true, status: 'open' });
    await live.next('alert.cleared', (e) => e.data.alert.id === alerts[0].id);

    // unknown address → deny, counted
    const unknown = await uitd.send(componentStatus(encodeComponentStatus({ normal: true, fireAlarm: true })), { source: 424242 });
    expect(unknown.command).toBe(Command.deny);
    // bad checksum → deny with the frame's serial (fact 3, fact 5)
    const bad = uitd.frame(encodeAppData(componentStatus(1)));
    bad.bytes[bad.bytes.length - 3] = (bad.bytes[bad.bytes.length - 3]! + 1) & 0xff;
    uitd.socket.write(bad.bytes);
    expect((await uitd.reply(bad.serial)).command).toBe(Command.deny);
    const m = (await svc.api.get('/metrics')).body as string;
    expect(metricValue(m, 'firewatch_gb26875_frames_total', { result: 'unknown_address' })).toBe(1);
    expect(metricValue(m, 'firewatch_gb26875_frames_total', { result: 'bad_checksum' })).toBe(1);
    expect(metricValue(m, 'firewatch_gb26875_frames_total', { result: 'heartbeat' })).toBe(1);
    expect((await svc.api.get('/api/v1/alerts?deviceId=uitd-mall&rule=device_alarm')).body.items).toHaveLength(1);

    // closing the connection: device.offline
    uitd.close();
    await live.next('device.offline', (e) => e.data.deviceId === 'uitd-mall');
  });
});

describe('component state across a restart', () => {
  it('after a restart, another component reporting normal does not clear an alarm the first one still holds', async () => {
    const first = await startService({ GB26875_PORT: '0' });
    const dataDir = first.dataDir;
    await first.api.post('/api/v1/buildings', { id: 'gb-tower', name: '环球金融中心', street: '解放碑', type: 'public', heightM: 339, use: 'office' });
    expect((await first.api.post('/api/v1/devices', { id: 'uitd-tower', buildingId: 'gb-tower', kind: 'uitd', address: 0x0a0b0c, reportIntervalS: 3600, inService: true })).status).toBe(201);
    const source = 0x0a0b0c;
    let uitd = await SimulatedUitd.open(first.fw.gb26875Port!);
    expect((await uitd.send(componentStatus(encodeComponentStatus({ normal: true, fireAlarm: true }), 2), { source })).command).toBe(Command.confirm);
    const [alert] = (await first.api.get('/api/v1/alerts?deviceId=uitd-tower')).body.items;
    expect(alert.rule).toBe('device_alarm');
    uitd.close();
    await first.stop({ keepData: true });

    const second = await startService({ GB26875_PORT: '0' }, dataDir);
    try {
      uitd = await SimulatedUitd.open(second.fw.gb26875Port!);
      expect((await uitd.send(componentStatus(encodeComponentStatus({ normal: true }), 9), { source })).command).toBe(Command.confirm);
      expect((await second.api.get(`/api/v1/alerts/${alert.id}`)).body.cleared).toBe(false);
      // the detector that was in alarm recovers: now it clears
      expect((await uitd.send(componentStatus(encodeComponentStatus({ normal: true }), 2), { source })).command).toBe(Command.confirm);
      await waitFor(async () => (await second.api.get(`/api/v1/alerts/${alert.id}`)).body.cleared === true, 'cleared');
      uitd.close();
    } finally {
      await second.stop();
    }
  });
});
