/**
 * The GB/T 26875.3 status bits the gateway honours (issue #16 item 7), through the wire: a real
 * service with the gateway on an ephemeral port, simulated UITDs as real TCP clients sending frames
 * built with the codec.
 *   (a) test mode: bit0 = 0 with the fire alarm bit, from a system that has set bit0 beside another
 *       bit, is a test: no device_alarm, a record at GET /devices/{id}/gb26875/tests; a UITD that sets
 *       bit0 only when all is normal (the standard's own worked example, fact 25) still raises its alarms;
 *   (b) the supervisory bit 监管 raises device_supervisory (a hazard, not a fire) naming the point;
 *   (c) disabled 屏蔽 points are counted and listed per UITD and building, and in a gauge; started,
 *       feedback and manual bits are shown; all of it survives a restart;
 *   (d) an analog pressure from a component bound to a water_pressure device (gb26875Source) is that
 *       device's reading and raises pressure_low; bindings are checked at registration and PATCH.
 */
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gb26875Listener, type GatewayState } from '../../gateway/gb26875/listener.js';
import type { Gb26875TestRecord, SyncGb26875TestStore } from '../../services/devices/gb26875-points.js';
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
  encodeSystemStatus,
  type AppDataInput,
  type ComponentStatusFlags,
  type Frame,
} from '../../services/protocols/gb26875/index.js';
import { ApiClient, metricValue, startService, waitFor, type TestService } from '../support/service.js';

const CENTRE = 0x15b38;

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
    socket.on('error', () => {
      /* followed by close */
    });
  }

  static open(port: number, address: number): Promise<Uitd> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new Uitd(s, address)));
      s.once('error', reject);
    });
  }

  /** send and wait for the reply with the same serial */
  async send(appData: AppDataInput): Promise<Frame> {
    const serial = this.serial++;
    this.socket.write(
      encodeFrame({ serial, version: { major: 1, user: 1 }, time: new Date(), source: this.address, destination: CENTRE, command: Command.send_data, appData: encodeAppData(appData) }),
    );
    return waitFor(() => this.replies.find((r) => r.serial === serial), `reply to serial ${serial}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

interface Point {
  systemType?: number;
  systemAddress?: number;
  componentType?: number;
  zone: number;
  position: number;
  description?: string;
  flags: Partial<ComponentStatusFlags>;
}
const components = (...points: Point[]): AppDataInput => ({
  type: 2,
  objects: points.map((p) => ({
    systemType: p.systemType ?? 1,
    systemAddress: p.systemAddress ?? 1,
    componentType: p.componentType ?? 40,
    address: { zone: p.zone, position: p.position },
    status: encodeComponentStatus(p.flags),
    description: p.description ?? '',
    time: new Date(),
  })),
});
const analog = (zone: number, position: number, analogType: number, value: number): AppDataInput => ({
  type: 3,
  objects: [{ systemType: 11, systemAddress: 1, componentType: 128, address: { zone, position }, analogType, value, time: new Date(Date.now() - 1000) }],
});

let svc: TestService;
let port: number;
const alertsOf = async (deviceId: string, rule?: string) => (await svc.api.get(`/api/v1/alerts?deviceId=${deviceId}${rule ? `&rule=${rule}` : ''}`)).body.items as any[];
const confirmed = async (u: Uitd, data: AppDataInput) => expect((await u.send(data)).command).toBe(Command.confirm);

beforeAll(async () => {
  svc = await startService({ GB26875_PORT: '0' });
  port = svc.fw.gb26875Port!;
  const b = await svc.api.post('/api/v1/buildings', { id: 'bits-mall', name: '大融城', street: '解放碑', type: 'public', heightM: 90, category: 1, use: 'market' });
  expect(b.status).toBe(201);
});
afterAll(async () => {
  await svc?.stop();
});

async function registerUitd(id: string, address: number): Promise<void> {
  const r = await svc.api.post('/api/v1/devices', { id, buildingId: 'bits-mall', kind: 'uitd', address, reportIntervalS: 30, inService: true });
  expect(r.status).toBe(201);
}

describe('test mode (bit0 = 0)', () => {
  it('a test-mode fire alarm is recorded as a test, not raised; the point leaving test mode closes the record', async () => {
    await registerUitd('uitd-test', 0x101);
    const u = await Uitd.open(port, 0x101);
    // the controller of system 1/1 sets bit0 (normal operation) on a report that is not all-normal,
    // a disabled detector: it uses bit0 as the operating mode, so its bit0 = 0 means test mode
    await confirmed(u, components({ zone: 3, position: 1, flags: { normal: true, disabled: true } }));
    // the detector 3/7 is tested (smoke from a test can): bit0 = 0 with bit1 火警
    await confirmed(u, components({ zone: 3, position: 7, description: '3F 走廊', flags: { fireAlarm: true } }));

    const tests = (await svc.api.get('/api/v1/devices/uitd-test/gb26875/tests')).body.items;
    expect(tests).toEqual([
      expect.objectContaining({
        point: 'comp:1:1:40:3-7',
        level: 'component',
        name: '感烟火灾探测器 3区7号（3F 走廊）',
        systemType: 1,
        componentType: 40,
        componentTypeName: '感烟火灾探测器',
        zone: 3,
        position: 7,
        fireAlarm: true,
        supervisory: false,
        running: true,
        endedAt: null,
      }),
    ]);
    const state = (await svc.api.get('/api/v1/devices/uitd-test/gb26875')).body;
    expect(state).toMatchObject({ alarm: false, testModeCount: 1, testBitSources: ['sys:1:1'] });
    expect(state.points.find((p: any) => p.point === 'comp:1:1:40:3-7')).toMatchObject({ bits: { fireAlarm: false, test: true, testAlarm: true } });

    // a real alarm after it is raised, and reaches the board only after the test frame: so the test raised nothing
    await confirmed(u, components({ zone: 3, position: 9, flags: { normal: true, fireAlarm: true } }));
    const alarms = await waitFor(async () => {
      const a = await alertsOf('uitd-test', 'device_alarm');
      return a.length > 0 ? a : undefined;
    }, 'the real alarm');
    expect(alarms).toHaveLength(1);
    expect(alarms[0].message.zh).toContain('comp:1:1:40:3-9');

    // the tested detector back to normal: the record ends
    await confirmed(u, components({ zone: 3, position: 7, flags: { normal: true } }));
    const ended = (await svc.api.get('/api/v1/devices/uitd-test/gb26875/tests')).body.items[0];
    expect(ended).toMatchObject({ running: false, endedAt: expect.any(String) });
    expect((await svc.api.get('/api/v1/devices/uitd-test/gb26875')).body.testModeCount).toBe(0);
    u.close();
  });

  it('a UITD that sets bit0 only when all is normal (0x0001) and sends a fire alarm as 0x0002, the worked example of fact 25, still raises it', async () => {
    await registerUitd('uitd-g2', 0x379);
    const u = await Uitd.open(port, 0x379);
    await confirmed(u, { type: 2, objects: [{ systemType: 1, systemAddress: 1, componentType: 40, address: { zone: 10, position: 1 }, status: 0x0001, description: '', time: new Date() }] });
    await confirmed(u, { type: 2, objects: [{ systemType: 1, systemAddress: 1, componentType: 40, address: { zone: 10, position: 2 }, status: 0x0002, description: '', time: new Date() }] });
    await waitFor(async () => (await alertsOf('uitd-g2', 'device_alarm')).length === 1, 'device_alarm from a bit0 = 0 alarm');
    expect((await svc.api.get('/api/v1/devices/uitd-g2/gb26875/tests')).body.items).toEqual([]);
    expect((await svc.api.get('/api/v1/devices/uitd-g2/gb26875')).body).toMatchObject({ alarm: true, testBitSources: [] });
    u.close();
  });
});

describe('supervisory (bit4 监管)', () => {
  it('raises device_supervisory, a hazard that is not a fire, naming the point; recovers when the bit clears; in test mode it is a test', async () => {
    await registerUitd('uitd-sup', 0x102);
    expect(Object.keys((await svc.api.get('/api/v1/devices/uitd-sup/rules')).body.rules)).toContain('device_supervisory');
    const u = await Uitd.open(port, 0x102);
    const valve = { systemType: 12, systemAddress: 1, componentType: 97, zone: 2, position: 15, description: '3F 喷淋信号阀' };
    await confirmed(u, components({ ...valve, flags: { normal: true, supervisory: true } }));
    const [alert] = await waitFor(async () => {
      const a = await alertsOf('uitd-sup', 'device_supervisory');
      return a.length > 0 ? a : undefined;
    }, 'device_supervisory');
    expect(alert).toMatchObject({ rule: 'device_supervisory', class: 'hazard', severity: 'major', status: 'open', cleared: false, kind: 'uitd' });
    expect(alert.message.zh).toBe('监管报警：信号阀 2区15号（3F 喷淋信号阀）（设施异常，非火警）');
    expect(await alertsOf('uitd-sup', 'device_alarm')).toEqual([]);

    await confirmed(u, components({ ...valve, flags: { normal: true } }));
    await waitFor(async () => (await svc.api.get(`/api/v1/alerts/${alert.id}`)).body.cleared === true, 'supervisory cleared');

    // the same valve tested: bit0 = 0 with bit4 → recorded, nothing raised
    await confirmed(u, components({ ...valve, flags: { supervisory: true } }));
    const tests = (await svc.api.get('/api/v1/devices/uitd-sup/gb26875/tests')).body.items;
    expect(tests).toEqual([expect.objectContaining({ point: 'comp:12:1:97:2-15', supervisory: true, fireAlarm: false, running: true })]);
    // a later real fault proves the test frame was processed before it
    await confirmed(u, components({ zone: 8, position: 8, flags: { normal: true, fault: true } }));
    await waitFor(async () => (await alertsOf('uitd-sup', 'sensor_fault')).length === 1, 'sensor_fault');
    expect(await alertsOf('uitd-sup', 'device_supervisory')).toHaveLength(1);
    u.close();
  });
});

describe('disabled (屏蔽) points', () => {
  it('are counted and listed per UITD and building, in a gauge; started, feedback and manual are shown; no alert; kept across a restart', async () => {
    const first = await startService({ GB26875_PORT: '0' });
    const dataDir = first.dataDir;
    try {
      expect((await first.api.post('/api/v1/buildings', { id: 'bits-tower', name: '环球金融中心', street: '解放碑', type: 'public', heightM: 339, use: 'office' })).status).toBe(201);
      expect((await first.api.post('/api/v1/devices', { id: 'uitd-dis', buildingId: 'bits-tower', kind: 'uitd', address: 0x103, reportIntervalS: 30, inService: true })).status).toBe(201);
      const u = await Uitd.open(first.fw.gb26875Port!, 0x103);
      await confirmed(
        u,
        components(
          { zone: 5, position: 1, description: '5F 机房', flags: { normal: true, disabled: true } },
          { zone: 5, position: 2, flags: { normal: true, disabled: true } },
          { zone: 6, position: 4, componentType: 42, flags: { normal: true, disabled: true } },
          { systemType: 18, componentType: 111, zone: 1, position: 1, flags: { normal: true, started: true, feedback: true } },
        ),
      );
      await confirmed(u, { type: 1, objects: [{ systemType: 1, systemAddress: 1, status: encodeSystemStatus({ normal: true, manual: true }), time: new Date() }] });

      const state = (await first.api.get('/api/v1/devices/uitd-dis/gb26875')).body;
      expect(state.disabledCount).toBe(3);
      expect(state.disabledPoints.map((p: any) => [p.zone, p.position, p.componentType, p.name])).toEqual([
        [5, 1, 40, '感烟火灾探测器 5区1号（5F 机房）'],
        [5, 2, 40, '火灾报警系统1号 感烟火灾探测器 5区2号'],
        [6, 4, 42, '火灾报警系统1号 点型光电感烟火灾探测器 6区4号'],
      ]);
      expect(state.disabledPoints[0]).toMatchObject({ level: 'component', systemType: 1, systemAddress: 1, componentAddress: 5 + 1 * 65536, bits: { disabled: true } });
      const fan = state.points.find((p: any) => p.componentType === 111);
      expect(fan).toMatchObject({ componentTypeName: '防烟排烟风机', bits: { started: true, feedback: true, disabled: false, fireAlarm: false } });
      const system = state.points.find((p: any) => p.level === 'system');
      expect(system).toMatchObject({ point: 'sys:1:1', systemTypeName: '火灾报警系统', bits: { manual: true } });
      expect((await first.api.get('/api/v1/buildings/bits-tower/gb26875')).body).toEqual({
        buildingId: 'bits-tower',
        disabledCount: 3,
        uitds: [{ deviceId: 'uitd-dis', disabledCount: 3, testModeCount: 0, alarm: false, fault: false, supervisory: false }],
      });
      expect(metricValue((await first.api.get('/metrics')).body, 'firewatch_gb26875_disabled_points')).toBe(3);

      // one detector enabled again
      await confirmed(u, components({ zone: 5, position: 2, flags: { normal: true } }));
      expect((await first.api.get('/api/v1/devices/uitd-dis/gb26875')).body.disabledCount).toBe(2);
      expect(metricValue((await first.api.get('/metrics')).body, 'firewatch_gb26875_disabled_points')).toBe(2);
      // nothing here is an alert
      expect((await first.api.get('/api/v1/alerts?deviceId=uitd-dis')).body.items).toEqual([]);
      // a device of another kind has no gateway state
      expect((await first.api.get('/api/v1/devices/nope/gb26875')).status).toBe(404);
      u.close();
    } finally {
      await first.stop({ keepData: true });
    }

    const second = await startService({ GB26875_PORT: '0' }, dataDir);
    try {
      const state = (await second.api.get('/api/v1/devices/uitd-dis/gb26875')).body;
      // sys:1:1 proved its bit0 habit (disabled points with bit0 set); the fan's system did not
      expect(state).toMatchObject({ disabledCount: 2, testBitSources: ['sys:1:1'] });
      expect(metricValue((await second.api.get('/metrics')).body, 'firewatch_gb26875_disabled_points')).toBe(2);
      // the UITD removed: its points no longer count
      expect((await second.api.delete('/api/v1/devices/uitd-dis')).status).toBe(204);
      expect(metricValue((await second.api.get('/metrics')).body, 'firewatch_gb26875_disabled_points')).toBe(0);
    } finally {
      await second.stop();
    }
  });
});

describe('analog values bound to a water_pressure device (gb26875Source)', () => {
  const source = { uitdId: 'uitd-ana', systemType: 11, systemAddress: 1, componentType: 128, componentAddress: 1 + 2 * 65536 };

  it('bindings are checked: a registered uitd, one device per component, water_pressure only', async () => {
    await registerUitd('uitd-ana', 0x104);
    const base = { buildingId: 'bits-mall', kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 60 };
    const noUitd = await svc.api.post('/api/v1/devices', { ...base, id: 'wp-x', gb26875Source: { ...source, uitdId: 'nope' } });
    expect([noUitd.status, noUitd.body.code]).toEqual([400, 'gb26875_source_not_uitd']);
    expect((await svc.api.post('/api/v1/devices', { ...base, id: 'wp-plain' })).status).toBe(201);
    const notUitd = await svc.api.post('/api/v1/devices', { ...base, id: 'wp-y', gb26875Source: { ...source, uitdId: 'wp-plain' } });
    expect([notUitd.status, notUitd.body.code]).toEqual([400, 'gb26875_source_not_uitd']);
    const lane = await svc.api.post('/api/v1/devices', { id: 'lane-z', buildingId: 'bits-mall', kind: 'fire_lane', gb26875Source: source });
    expect(lane.status).toBe(400);

    const ok = await svc.api.post('/api/v1/devices', { ...base, id: 'wp-top', gb26875Source: source, inService: true });
    expect(ok.status).toBe(201);
    expect(ok.body.gb26875Source).toEqual(source);
    // the same component (a binding without the optional fields overlaps it) is taken
    const dup = await svc.api.post('/api/v1/devices', { ...base, id: 'wp-dup', gb26875Source: { uitdId: 'uitd-ana', componentAddress: source.componentAddress } });
    expect([dup.status, dup.body.code]).toEqual([409, 'gb26875_source_bound']);
    const patched = await svc.api.patch('/api/v1/devices/wp-plain', { gb26875Source: source });
    expect([patched.status, patched.body.code]).toEqual([409, 'gb26875_source_bound']);
    // another component of the same UITD is free; null removes a binding
    const other = await svc.api.patch('/api/v1/devices/wp-plain', { gb26875Source: { ...source, componentAddress: 9 } });
    expect(other.status).toBe(200);
    expect(other.body.gb26875Source).toMatchObject({ componentAddress: 9 });
    const removed = await svc.api.patch('/api/v1/devices/wp-plain', { gb26875Source: null });
    expect(removed.status).toBe(200);
    expect(removed.body.gb26875Source ?? null).toBeNull();
    expect((await svc.api.get('/api/v1/devices/wp-top')).body.gb26875Source).toEqual(source);

    // a building's operator cannot bind (and so take the readings of) another building's UITD
    expect((await svc.api.post('/api/v1/buildings', { id: 'bits-other', name: '某写字楼', street: '七星岗', type: 'public', heightM: 30, use: 'office' })).status).toBe(201);
    expect((await svc.api.post('/api/v1/users', { username: 'bits.ops', displayName: '王物业', password: 'operator-pass-1', role: 'operator', buildingIds: ['bits-other'] })).status).toBe(201);
    const login = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username: 'bits.ops', password: 'operator-pass-1' });
    const operator = new ApiClient(svc.fw.httpUrl, login.body.token);
    const foreign = await operator.post('/api/v1/devices', { ...base, buildingId: 'bits-other', id: 'wp-foreign', gb26875Source: { ...source, componentAddress: 77 } });
    expect([foreign.status, foreign.body.code]).toEqual([400, 'gb26875_source_not_uitd']);
  });

  it('a low pressure from the bound component raises pressure_low on the bound device; other analog values stay the UITD\'s readings', async () => {
    // forS 0 / clearS 0: no waiting on the 60 s default
    expect((await svc.api.patch('/api/v1/devices/wp-top', { rules: { pressure_low: { forS: 0, clearS: 0 } } })).status).toBe(200);
    const u = await Uitd.open(port, 0x104);
    // 50.0 kPa (type 5, 0.1 kPa) = 0.05 MPa, below the 0.10 MPa top-point minimum of a category-1 high-rise
    await confirmed(u, analog(1, 2, 5, 500));
    const [low] = await waitFor(async () => {
      const a = await alertsOf('wp-top', 'pressure_low');
      return a.length > 0 ? a : undefined;
    }, 'pressure_low');
    expect(low).toMatchObject({ rule: 'pressure_low', class: 'hazard', kind: 'water_pressure', value: 0.05, threshold: 0.1 });
    expect((await svc.api.get('/api/v1/devices/wp-top/readings')).body.items).toEqual([expect.objectContaining({ pressureMpa: 0.05 })]);
    // seen through its UITD: it has no connection of its own, its readings keep it from device_offline
    expect((await svc.api.get('/api/v1/devices/wp-top')).body.status).toMatchObject({ lastSeenAt: expect.any(String), lastReading: { fields: { pressureMpa: 0.05 } } });

    // an unbound component's pressure, and another quantity, stay the UITD's readings
    await confirmed(u, analog(7, 7, 5, 1200));
    await confirmed(u, analog(1, 2, 3, 215)); // 21.5 °C from the bound component: not a pressure
    const uitdReadings = (await svc.api.get('/api/v1/devices/uitd-ana/readings')).body.items;
    expect(uitdReadings.map((r: any) => [r.componentAddress, r.quantity, r.value]).sort()).toEqual([
      [1 + 2 * 65536, 'temperature', 21.5],
      [7 + 7 * 65536, 'pressure', 120],
    ]);

    // MPa (type 4, 0.1 MPa): 0.3 MPa, back above the minimum → cleared
    await confirmed(u, analog(1, 2, 4, 3));
    await waitFor(async () => (await svc.api.get(`/api/v1/alerts/${low.id}`)).body.cleared === true, 'pressure_low cleared');
    expect((await svc.api.get('/api/v1/devices/wp-top/readings')).body.items.map((r: any) => r.pressureMpa)).toEqual([0.3, 0.05]);
    u.close();
  });
});

describe('the listener alone: a state that cannot be saved', () => {
  it('is denied and rolled back, so the resent frame opens the test record once and is saved', async () => {
    const uitd: Device = { id: 'u-1', buildingId: 'b', kind: 'uitd', point: null, location: null, reportIntervalS: 30, vendor: null, model: null, rules: null, address: 0x201, createdAt: '', updatedAt: '' };
    const records: Gb26875TestRecord[] = [];
    const store: SyncGb26875TestStore = {
      begin: (r) => {
        const open = records.find((x) => x.point === r.point && x.endedAt === null);
        if (open) open.fireAlarm ||= r.fireAlarm;
        else records.push({ id: records.length + 1, deviceId: r.deviceId, point: r.point, name: r.name, description: r.description, fireAlarm: r.fireAlarm, supervisory: r.supervisory, startedAt: r.at, endedAt: null });
      },
      end: (_d, point, at) => {
        for (const x of records) if (x.point === point && x.endedAt === null) x.endedAt = at;
      },
      list: () => [...records].reverse(),
    };
    const saved: GatewayState[] = [];
    let failSaves = 0;
    const events: unknown[] = [];
    const listener = new Gb26875Listener({
      host: '127.0.0.1',
      port: 0,
      deviceByAddress: (a) => (a === uitd.address ? uitd : undefined),
      ingest: async (m) => {
        if (m.channel === 'event') events.push(JSON.parse(m.payload.toString()));
        return { accepted: [], rejections: [], duplicates: 0 };
      },
      onConnection: () => undefined,
      onSeen: () => undefined,
      metrics: new Metrics({ defaultMetrics: false }),
      log: pino({ level: 'silent' }),
      clock: new ManualClock(),
      componentState: {
        load: () => ({}),
        save: (st) => {
          if (failSaves-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
          saved.push(structuredClone(st));
        },
      },
      testAlarms: store,
    });
    const u = await Uitd.open(await listener.start(), 0x201);
    try {
      await confirmed(u, components({ zone: 1, position: 1, flags: { normal: true, fault: true } }));
      failSaves = 1;
      const test = components({ zone: 1, position: 2, flags: { fireAlarm: true } });
      expect((await u.send(test)).command).toBe(Command.deny);
      expect(listener.points('u-1').map((p) => p.point)).toEqual(['comp:1:1:40:1-1']); // rolled back
      await confirmed(u, test);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ point: 'comp:1:1:40:1-2', fireAlarm: true, endedAt: null });
      expect(Object.keys(saved.at(-1)!.devices['u-1']!.components).sort()).toEqual(['comp:1:1:40:1-1', 'comp:1:1:40:1-2']);
      // no event ever said alarm
      expect(events.every((e) => (e as { alarm: boolean }).alarm === false)).toBe(true);
    } finally {
      u.close();
      await listener.close();
    }
  });
});
