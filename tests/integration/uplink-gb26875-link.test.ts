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
import { MonitoringCentreReceiver } from '../support/uplink-receiver.js';
import { startService, waitFor, type TestService } from '../support/service.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setUp(env: Record<string, string> = {}): Promise<{ centre: MonitoringCentreReceiver; svc: TestService }> {
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
  });
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
    const started = Date.now();
    const { centre } = await setUp();
    await waitFor(() => centre.connections() === 1 || undefined, 'the link opened', 2000);
    expect(Date.now() - started).toBeLessThan(5000);
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

  it('denies what it does not serve, with the serial: a read it does not answer, a read sent as a control, app data that does not decode', async () => {
    const { centre } = await setUp();
    await waitFor(() => centre.frames.length >= 1 || undefined, 'linked');
    expect(await centre.command(Command.request, { type: 84, objects: [{ count: 5, startTime: null }] }, 21)).toMatchObject({ command: Command.deny, serial: 21 });
    expect(await centre.command(Command.control, { type: 81, objects: [{ reserved: 0 }] }, 22)).toMatchObject({ command: Command.deny, serial: 22 });
    // a read of the building's facilities (type 61), which this codec does not decode yet
    centre.write(encodeFrame({ serial: 23, version: { major: 1, user: 0 }, time: new Date(), source: centre.centreAddress, destination: 123456, command: Command.request, appData: Uint8Array.from([61, 1, 1, 0]) }));
    const denied = await waitFor(() => centre.answers.find((f) => f.serial === 23), 'an answer to serial 23');
    expect(denied.command).toBe(Command.deny);
    // the link is still up and in use
    const n = centre.frames.length;
    await waitFor(() => centre.frames.slice(n).find(isHeartbeat), 'a heartbeat after the denials', 3000);
  });

  it('GB26875_TZ sets the zone of the time tags: +00:00 stamps UTC where the default stamps UTC+8', async () => {
    const { centre } = await setUp({ GB26875_TZ: '+00:00' });
    const first = await waitFor(() => centre.frames[0], 'a first frame');
    // the fake centre reads tags as UTC+8 (the default): a UTC tag reads 8 hours early
    expect(Math.abs(first.time!.getTime() - (Date.now() - 8 * 3600_000))).toBeLessThan(5000);
  });
});
