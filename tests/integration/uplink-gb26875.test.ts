/**
 * The GB/T 26875.3 uplink client against a real TCP peer acting as a monitoring centre (built on
 * the codec): the centre confirms, denies and drops frames, goes away and comes back, and the
 * service restarts mid-stream. Every alert state change arrives as a component status (type 2),
 * readings as analog values (type 3, pressure in kPa), after de-duplication each exactly once and
 * in order per component; a frame the centre always denies is dead-lettered.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodeAppData, isHeartbeat } from '../../services/protocols/gb26875/index.js';
import { appDataForItem, componentAddressFor } from '../../services/uplink/adapters/gb26875-mapping.js';
import { ManualClock } from '../../services/shared/clock.js';
import { itemFromFeedEvent } from '../../services/uplink/uplink-service.js';
import { MonitoringCentreReceiver } from '../support/uplink-receiver.js';
import { connectDevice, endClient, provisionDevice, publish, startService, tempDir, waitFor, type TestService } from '../support/service.js';

const keyOf = (o: any) => `${o.systemAddress}/${o.address.zone}-${o.address.position}:${o.status ?? o.value}:${o.time?.getTime()}`;

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('GB/T 26875.3 uplink client', () => {
  it('forwards alert state changes and readings through confirm, deny, drop, a centre outage and a restart', async () => {
    const centre = new MonitoringCentreReceiver();
    const port = await centre.start();
    cleanup.push(() => centre.close());
    let n = 0;
    // every data frame: first attempt denied (1 in 3) or dropped (1 in 3); a resend is confirmed
    centre.policy = (f, first) => {
      const a = decodeAppData(f.appData);
      if (a.ok && a.appData.type === 3 && (a.appData.objects as any[]).some((o) => o.value === 7770)) return 'deny'; // always
      if (!first) return 'confirm';
      n++;
      return n % 3 === 1 ? 'deny' : n % 3 === 2 ? 'drop' : 'confirm';
    };
    const dataDir = tempDir();
    const env = {
      UPLINK_GB26875_ADDR: `127.0.0.1:${port}`,
      UPLINK_GB26875_SOURCE_ADDR: '123456',
      UPLINK_GB26875_DEST_ADDR: '654321',
      UPLINK_GB26875_TIMEOUT_MS: '150',
      UPLINK_GB26875_HEARTBEAT_S: '1',
      UPLINK_READINGS: 'all',
      ALERT_ACK_S: '86400',
      ALERT_CLOSE_S: '86400',
    };
    let clock = new ManualClock();
    let svc: TestService = await startService(env, dataDir, { clock });
    cleanup.push(() => svc.stop());
    await svc.api.post('/api/v1/buildings', { id: 'gb-up', name: '洪崖洞', street: '解放碑', type: 'public', heightM: 60, category: 1, use: 'complex' });
    const dev = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 86_400 }, 'gb-up');
    await svc.api.patch(`/api/v1/devices/${dev.deviceId}`, { rules: { pressure_low: { forS: 0, clearS: 0 } } });
    let client = await connectDevice(svc.mqttUrl, dev);
    let seq = 0;
    const send = async (mpa: number) => {
      clock.advance(1_000); // distinct time tags (1 s resolution, fact 13)
      await publish(client, `fire/v1/${dev.deviceId}/telemetry`, { seq: ++seq, ts: clock.now(), pressureMpa: mpa });
    };
    const backlog = async () => (await svc.api.get('/api/v1/uplink')).body.adapters[0];

    await send(0.05); // raise: alarm
    await send(0.2); // clear
    await waitFor(async () => (await backlog()).backlog === 0, 'first exchanges', 15_000);
    expect(centre.denied.length).toBeGreaterThan(0);
    expect(centre.dropped.length).toBeGreaterThan(0);
    // resends carry the same serial; the first frame of the link is our UITD status (type 21)
    expect(decodeAppData(centre.frames[0]!.appData)).toMatchObject({ ok: true, appData: { type: 21 } });
    expect(centre.frames[0]!.source).toBe(123456);
    expect(centre.frames[0]!.destination).toBe(654321);
    await waitFor(() => centre.frames.some((f) => isHeartbeat(f)), 'a heartbeat', 5_000);

    // centre outage: items wait; the service restarts in the middle; the centre comes back
    await centre.close();
    await send(0.05);
    await waitFor(async () => (await backlog()).retries >= 1, 'a failed attempt');
    await endClient(client);
    await svc.stop({ keepData: true });
    clock = new ManualClock(clock.now() + 1_000);
    svc = await startService(env, dataDir, { clock });
    client = await connectDevice(svc.mqttUrl, dev);
    await send(0.2);
    await centre.start(port);
    clock.advance(10 * 60_000);
    await waitFor(async () => (await backlog()).backlog === 0, 'backlog after recovery', 20_000);

    // a frame the centre denies every time (3 resends, fact 4) is dead-lettered
    await send(0.777);
    await send(0.05);
    await waitFor(async () => (await backlog()).backlog === 0, 'poison handled', 15_000);
    expect((await backlog()).deadLetters).toBe(1);
    const dead = (await svc.api.get('/api/v1/uplink/dead-letters')).body.items;
    expect(dead[0].reason).toContain('denied');

    // expected: what the mapping makes of every feed event and reading, each once
    const expectedStatus = (await svc.fw.feed.since(0, 10_000))
      .map((e) => itemFromFeedEvent(e))
      .flatMap((i) => (i ? appDataForItem(i) : []))
      .flatMap((a) => a.objects as any[]);
    // pressure_low (system address 1): supervisory (bit0 + bit4, never bit1 fire), recovery (bit0 only), …
    const lowStatus = expectedStatus.filter((o) => o.systemAddress === 1).map((o) => o.status);
    expect(lowStatus.slice(0, 2)).toEqual([0x11, 1]);
    expect(lowStatus.filter((s) => s === 0x11).length).toBeGreaterThanOrEqual(3);
    expect(lowStatus.every((s) => s === 0x11 || s === 1)).toBe(true);
    expect(expectedStatus.some((o) => o.systemAddress === 3)).toBe(true); // pressure_drop is its own point
    const got = centre.objects(2).filter((o) => o.address.zone === componentAddressFor(dev.deviceId).zone);
    const unique = [...new Map(got.map((o) => [keyOf(o), o])).values()];
    expect(unique.map((o) => o.status)).toEqual(expectedStatus.map((o) => o.status));
    expect(unique.map(keyOf)).toEqual(expectedStatus.map(keyOf));
    expect(unique[0]).toMatchObject({ systemType: 11, componentType: 128 }); // hydrant system, user-defined pressure sensor

    // readings: pressure as kPa (analog type 5, 0.1 kPa steps): 0.05 MPa = 50 kPa = raw 500
    const analog = [...new Map(centre.objects(3).map((o) => [keyOf(o), o])).values()];
    expect(analog.map((o) => [o.analogType, o.value])).toEqual([
      [5, 500],
      [5, 2000],
      [5, 500],
      [5, 2000],
      [5, 500],
    ]);
    await endClient(client);
  });
});
