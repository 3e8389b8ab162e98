/**
 * The GB/T 26875.3 uplink link both ways (issue #14, the UITD role): against a fake monitoring
 * centre on a loopback port, Firewatch opens the link at start with nothing to send and keeps it
 * up (heartbeats, reconnects), and answers the centre's commands with the centre's serial numbers:
 * clock sync and initialisation confirmed (the sync's offset shifts our time tags), a duty check
 * confirmed at once, reads of the UITD's status, software version, configuration and time answered
 * with types 21, 25, 26 and 28, anything else denied. GB26875_TZ sets the time tags' zone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AppDataType, Command, decodeAppData, encodeFrame, isHeartbeat, type Frame } from '../../services/protocols/gb26875/index.js';
import { decodeUitdOperation } from '../../services/protocols/gb26875/index.js';
import { ManualClock } from '../../services/shared/clock.js';
import { LiveClient } from '../support/live.js';
import { MonitoringCentreReceiver } from '../support/uplink-receiver.js';
import { componentAddressFor } from '../../services/uplink/adapters/gb26875-mapping.js';
import { ADMIN_TOKEN, ApiClient, connectDevice, endClient, provisionDevice, publish, startService, tempDir, waitFor, type TestService } from '../support/service.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setUp(env: Record<string, string> = {}, clock?: ManualClock): Promise<{ centre: MonitoringCentreReceiver; svc: TestService }> {
  const centre = new MonitoringCentreReceiver();
  const port = await centre.start();
  cleanup.push(() => centre.close());
  const svc = await startService({
    UPLINK_GB26875_ADDR: `127.0.0.1:${port}`,
    UPLINK_GB26875_SOURCE_ADDR: '123456',
    UPLINK_GB26875_DEST_ADDR: String(centre.centreAddress),
    UPLINK_GB26875_HEARTBEAT_S: '1',
    UPLINK_GB26875_TIMEOUT_MS: '500',
    ...env,
  }, tempDir(), clock ? { clock } : {});
  cleanup.push(() => svc.stop());
  return { centre, svc };
}

const appOf = (f: Frame) => {
  const a = decodeAppData(f.appData);
  if (!a.ok) throw new Error(`answer's app data does not decode: ${a.detail}`);
  return a.appData;
};

describe('the GB/T 26875.3 uplink link (Firewatch as a UITD towards the centre)', () => {
  it('opens at start with nothing to send, announces its status, keeps the link with heartbeats, and comes back after the centre restarts', async () => {
    const { centre } = await setUp();
    // opened at start, nothing to send: within the heartbeat interval (1 s) of the service being up
    await waitFor(() => centre.connections() === 1 || undefined, 'the link opened', 1000);
    await waitFor(() => centre.frames.length >= 1 || undefined, 'a first frame');
    expect(MonitoringCentreReceiver.appDataType(centre.frames[0]!)).toBe(21); // its running status first
    expect(centre.frames[0]!.serial).toBe(0);
    await waitFor(() => centre.frames.some(isHeartbeat) || undefined, 'a heartbeat', 3000);
    // the centre goes away and comes back on the same port: Firewatch connects again by itself
    await centre.close();
    await waitFor(() => centre.connections() === 0 || undefined, 'the link closed');
    const opened = centre.opened();
    await centre.start();
    await waitFor(() => (centre.opened() > opened && centre.connections() === 1) || undefined, 'the link opened again', 8000);
  });

  it("answers clock sync, initialisation and duty check with confirm and the centre's serial; the sync's offset moves our time tags", async () => {
    const { centre } = await setUp();
    await waitFor(() => centre.frames.length >= 1 || undefined, 'linked');
    const ahead = 3600_000; // the centre's clock is an hour ahead of ours
    const sync = await centre.command(Command.control, { type: 90, objects: [{ time: new Date(Date.now() + ahead) }] }, 4001);
    expect(sync).toMatchObject({ command: Command.confirm, serial: 4001, source: 123456, destination: centre.centreAddress });
    // the next frame from Firewatch (a heartbeat) carries the centre's time
    const n = centre.frames.length;
    const next = await waitFor(() => centre.frames.slice(n).find(isHeartbeat), 'a heartbeat after the sync', 3000);
    expect(Math.abs(next.time!.getTime() - (Date.now() + ahead))).toBeLessThan(3000);
    expect(await centre.command(Command.control, { type: 89, objects: [{ reserved: 0 }] }, 4002)).toMatchObject({ command: Command.confirm, serial: 4002 });
    expect(await centre.command(Command.control, { type: 91, objects: [{ reserved: 10 }] }, 4003)).toMatchObject({ command: Command.confirm, serial: 4003 });
    // the serials of our own frames go on from our numbering, not the centre's
    const later = await waitFor(() => centre.frames.slice(n + 1).find(isHeartbeat), 'another heartbeat', 3000);
    expect(later.serial).toBeLessThan(100);
  });

  it('answers reads of its running status (81 → 21), software version (85 → 25), configuration (86 → 26) and time (88 → 28) with command 5', async () => {
    const { centre } = await setUp();
    await waitFor(() => centre.frames.length >= 1 || undefined, 'linked');
    const status = await centre.command(Command.request, { type: 81, objects: [{ reserved: 0 }] }, 7);
    expect(status).toMatchObject({ command: Command.response, serial: 7, source: 123456, destination: centre.centreAddress });
    const s = appOf(status);
    expect(s.type).toBe(AppDataType.uitdStatus);
    expect(s.objects).toEqual([expect.objectContaining({ flags: expect.objectContaining({ normal: true }) })]);
    const version = appOf(await centre.command(Command.request, { type: 85, objects: [{ reserved: 0 }] }, 8));
    expect(version).toEqual({ type: 25, objects: [{ major: 0, minor: 1 }] }); // package.json 0.1.0
    const config = appOf(await centre.command(Command.request, { type: 86, objects: [{ reserved: 0 }] }, 9));
    expect(config).toEqual({ type: 26, objects: [{ text: 'Firewatch 0.1.0 UITD 123456' }] });
    const time = appOf(await centre.command(Command.request, { type: 88, objects: [{ reserved: 0 }] }, 10));
    expect(time.type).toBe(28);
    expect(Math.abs((time.objects[0] as { time: Date }).time.getTime() - Date.now())).toBeLessThan(3000);
  });

  it('denies what it does not serve, with the serial: reads it does not answer (84; 61 of a system it does not have), a read sent as a control', async () => {
    const { centre } = await setUp();
    await waitFor(() => centre.frames.length >= 1 || undefined, 'linked');
    expect(await centre.command(Command.request, { type: 84, objects: [{ count: 5, startTime: null }] }, 21)).toMatchObject({ command: Command.deny, serial: 21 });
    expect(await centre.command(Command.control, { type: 81, objects: [{ reserved: 0 }] }, 22)).toMatchObject({ command: Command.deny, serial: 22 });
    // a read of a facility system Firewatch does not have (type 61, system 1/0: no fire alarm system here)
    centre.write(encodeFrame({ serial: 23, version: { major: 1, user: 0 }, time: new Date(), source: centre.centreAddress, destination: 123456, command: Command.request, appData: Uint8Array.from([61, 1, 1, 0]) }));
    const denied = await waitFor(() => centre.answers.find((f) => f.serial === 23), 'an answer to serial 23');
    expect(denied.command).toBe(Command.deny);
    // the link is still up and in use
    const n = centre.frames.length;
    await waitFor(() => centre.frames.slice(n).find(isHeartbeat), 'a heartbeat after the denials', 3000);
  });

  it("answers the centre's reads of facility data (61–68) from Firewatch's state: a hydrant gauge in alarm, its last reading, its system", async () => {
    const { centre, svc } = await setUp();
    await waitFor(() => centre.frames.length >= 1 || undefined, 'linked');
    const p = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 });
    await svc.api.patch(`/api/v1/devices/${p.deviceId}`, { rules: { pressure_low: { forS: 0, clearS: 0 } } });
    const c = await connectDevice(svc.mqttUrl, p);
    await publish(c, `fire/v1/${p.deviceId}/telemetry`, { pressureMpa: 0.05 }); // below 0.10 MPa: pressure_low
    await svc.fw.processors.idle();
    await endClient(c);
    const address = componentAddressFor(p.deviceId);
    const read = async (type: 61 | 62 | 63 | 64 | 65 | 66 | 67 | 68, body: Record<string, unknown>, serial: number) =>
      centre.command(Command.request, { type, objects: [body] } as never, serial);
    // 63: the gauge's analog value, pressure in 0.1 kPa (0.05 MPa = 500)
    const analog = await read(63, { systemType: 11, systemAddress: 0, address }, 31);
    expect(analog).toMatchObject({ command: Command.response, serial: 31 });
    expect(appOf(analog)).toMatchObject({ type: 3, objects: [{ systemType: 11, componentType: 0x80, analogType: 5, value: 500, address: { zone: address.zone, position: address.position } }] });
    // 62: the component at pressure_low's system address (1): supervisory (bit4) + bit0
    expect(appOf(await read(62, { systemType: 11, systemAddress: 1, address }, 32))).toMatchObject({ type: 2, objects: [{ status: 0x0011, description: p.deviceId }] });
    // 61: the hydrant system: the same bits
    expect(appOf(await read(61, { systemType: 11, systemAddress: 0 }, 33))).toMatchObject({ type: 1, objects: [{ systemType: 11, status: 0x0011 }] });
    expect(appOf(await read(67, { systemType: 11, systemAddress: 0, address }, 34))).toMatchObject({ type: 7, objects: [{ description: p.deviceId }] });
    expect(appOf(await read(65, { systemType: 11, systemAddress: 0 }, 35))).toEqual({ type: 5, objects: [{ systemType: 11, systemAddress: 0, major: 0, minor: 1 }] });
    expect(appOf(await read(66, { systemType: 11, systemAddress: 0 }, 36))).toEqual({ type: 6, objects: [{ systemType: 11, systemAddress: 0, text: 'Firewatch 1 个设备' }] });
    expect(appOf(await read(68, { systemType: 11, systemAddress: 0 }, 37)).type).toBe(8);
    // operation records: none kept, so none given (a type 4 unit of 0 objects)
    expect(appOf(await read(64, { systemType: 11, systemAddress: 0, count: 5, startTime: null }, 40))).toEqual({ type: 4, objects: [] });
    // nothing of ours there: denied
    expect(await read(63, { systemType: 11, systemAddress: 0, address: { zone: (address.zone + 1) & 0xffff, position: address.position } }, 38)).toMatchObject({ command: Command.deny, serial: 38 });
    expect(await read(61, { systemType: 13, systemAddress: 0 }, 39)).toMatchObject({ command: Command.deny });
  });

  it('GB26875_TZ sets the zone of the time tags: +00:00 stamps UTC where the default stamps UTC+8', async () => {
    const { centre } = await setUp({ GB26875_TZ: '+00:00' });
    const first = await waitFor(() => centre.frames[0], 'a first frame');
    // the fake centre reads tags as UTC+8 (the default): a UTC tag reads 8 hours early
    expect(Math.abs(first.time!.getTime() - (Date.now() - 8 * 3600_000))).toBeLessThan(5000);
  });
});

describe("the centre's duty check (查岗) reaches the duty room, which answers it", () => {
  /** the operation records (type 24) the centre received, as flags */
  const operations = (centre: MonitoringCentreReceiver) =>
    centre.frames.flatMap((f) => {
      const a = decodeAppData(f.appData);
      return a.ok && a.appData.type === 24 ? a.appData.objects.map((o) => decodeUitdOperation((o as { operation: number }).operation)) : [];
    });

  it('with a duty officer logged in: confirmed at once, shown on the live feed with its deadline, answered by the officer → the operation record with the 查岗应答 bit', async () => {
    const { centre, svc } = await setUp();
    await waitFor(() => centre.frames.length >= 1 || undefined, 'linked');
    expect((await svc.api.post('/api/v1/users', { username: 'li.duty', password: 'duty-password-1', role: 'duty', streets: ['解放碑'], displayName: '李值班' })).status).toBe(201);
    const login = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username: 'li.duty', password: 'duty-password-1' });
    const duty = new ApiClient(svc.fw.httpUrl, login.body.token as string);
    const live = await LiveClient.connect(svc.fw.httpUrl, login.body.token as string);
    try {
      const at = Date.now();
      expect(await centre.command(Command.control, { type: 91, objects: [{ reserved: 10 }] }, 501)).toMatchObject({ command: Command.confirm, serial: 501 });
      const shown = await live.next('duty_check.requested');
      const check = shown.data.check as { id: string; serial: number; deadline: string; status: string };
      expect(check).toMatchObject({ serial: 501, status: 'pending' });
      expect(Math.abs(Date.parse(check.deadline) - (at + 300_000))).toBeLessThan(3000); // GB26875_DUTY_CHECK_S
      expect((await duty.get('/api/v1/uplink/duty-checks?status=pending')).body.items.map((c: { id: string }) => c.id)).toEqual([check.id]);
      expect(operations(centre)).toEqual([]); // nothing is answered before a person answers
      const answered = await duty.post(`/api/v1/uplink/duty-checks/${check.id}/answer`, {});
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ id: check.id, status: 'answered', answeredBy: 'li.duty' });
      expect(operations(centre)).toEqual([expect.objectContaining({ dutyCheckAnswered: true, reset: false, selfTest: false })]);
      expect((await live.next('duty_check.answered')).data.check).toMatchObject({ id: check.id, answeredBy: 'li.duty' });
      // once is enough: a second answer is refused, and the centre gets no second record
      const again = await duty.post(`/api/v1/uplink/duty-checks/${check.id}/answer`, {});
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('duty_check_answered');
      expect(operations(centre)).toHaveLength(1);
      // an operator may not answer for the duty room
      expect((await svc.api.post('/api/v1/users', { username: 'qian.ops', password: 'operator-pass-1', role: 'operator', buildingIds: [] })).status).toBe(201);
      const op = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username: 'qian.ops', password: 'operator-pass-1' });
      expect((await new ApiClient(svc.fw.httpUrl, op.body.token as string).get('/api/v1/uplink/duty-checks')).status).toBe(403);
    } finally {
      await live.close();
    }
  });

  it('with nobody answering: confirmed at once all the same, then recorded as missed at the deadline, and a late answer is refused', async () => {
    const clock = new ManualClock(Date.now());
    const { centre, svc } = await setUp({ GB26875_DUTY_CHECK_S: '120' }, clock);
    await waitFor(() => centre.frames.length >= 1 || undefined, 'linked');
    const live = await LiveClient.connect(svc.fw.httpUrl, ADMIN_TOKEN);
    try {
      expect(await centre.command(Command.control, { type: 91, objects: [{ reserved: 10 }] }, 502)).toMatchObject({ command: Command.confirm, serial: 502 });
      const { id } = (await live.next('duty_check.requested')).data.check as { id: string };
      clock.advance(119_000);
      expect((await svc.api.get('/api/v1/uplink/duty-checks')).body.items[0]).toMatchObject({ id, status: 'pending' });
      clock.advance(2_000);
      expect((await live.next('duty_check.missed')).data.check).toMatchObject({ id, status: 'missed', answeredBy: null });
      expect((await svc.api.get('/api/v1/uplink/duty-checks?status=missed')).body.items.map((c: { id: string }) => c.id)).toEqual([id]);
      const late = await svc.api.post(`/api/v1/uplink/duty-checks/${id}/answer`, {});
      expect(late.status).toBe(409);
      expect(late.body.code).toBe('duty_check_missed');
      expect(operations(centre)).toEqual([]);
    } finally {
      await live.close();
    }
  });

  it('a missed check stays missed across a restart, and one whose deadline passed while the service was down is missed at start', async () => {
    const clock = new ManualClock(Date.now());
    const dataDir = tempDir();
    const centre = new MonitoringCentreReceiver();
    const port = await centre.start();
    cleanup.push(() => centre.close());
    const env = { UPLINK_GB26875_ADDR: `127.0.0.1:${port}`, UPLINK_GB26875_HEARTBEAT_S: '1', UPLINK_GB26875_DEST_ADDR: String(centre.centreAddress) };
    let svc = await startService(env, dataDir, { clock });
    await waitFor(() => centre.frames.length >= 1 || undefined, 'linked');
    await centre.command(Command.control, { type: 91, objects: [{ reserved: 10 }] }, 503);
    const pending = await waitFor(async () => ((await svc.api.get('/api/v1/uplink/duty-checks')).body.items as Array<{ id: string }>)[0], 'the check recorded');
    await svc.stop({ keepData: true });
    clock.advance(301_000); // the deadline passes while the service is down
    svc = await startService(env, dataDir, { clock });
    cleanup.push(() => svc.stop());
    expect((await svc.api.get('/api/v1/uplink/duty-checks')).body.items).toEqual([expect.objectContaining({ id: pending.id, status: 'missed' })]);
  });
});
