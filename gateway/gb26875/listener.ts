/**
 * GB/T 26875.3 gateway: a TCP listener for user information transmission devices (UITDs), on
 * GB26875_PORT. Each UITD is a registered device of kind `uitd` identified by its 48-bit source
 * address (frame bytes 13–18).
 *
 *   accept ─► over GB26875_MAX_CONNECTIONS (or per-peer cap) ─► closed at once, refused{cap|peer_cap}
 *      │ idle timer: no frame from an allowed, registered UITD for GB26875_IDLE_TIMEOUT_S ─► closed, refused{idle}
 *      ▼
 *   TCP bytes ─► FrameSplitter (fact 6: several frames per read, one frame across reads)
 *      │ invalid: bad checksum ─► deny (6), other garbage dropped and counted
 *      ▼
 *   decodeFrame (markers, length, checksum, command: fact 5) ─► unknown command ─► deny
 *      ▼
 *   source address ─► registry.deviceByAddress ─► unknown ─► deny, counted
 *      │ peer not on the UITD's allowedPeers (else GB26875_ALLOW) ─► not ingested, connection closed,
 *      ▼                                                          refused{not_allowed}, logged once per interval
 *   command 2, empty app data ─► heartbeat (fact 8): device seen ─► confirm (3)
 *   command 2 with app data ─► decodeAppData ─► bad ─► deny
 *      type 1/2 (system/component status) ─► status bits, kept per point, aggregated per UITD ─┐
 *      type 21 (UITD status)              ─► its own alarm/fault/power bits                  ─┴► event {alarm, fault, supervisory, code}
 *         test mode (bit0 = 0, uitd-state.ts) ─► a fire alarm / supervisory bit is a test: recorded (testAlarms), no alert
 *         disabled 屏蔽, started, feedback, delay, manual ─► kept per point, shown (GET /devices/{id}/gb26875), counted
 *      type 3 (analog values)             ─► readings {analogType, value, unit, …}   (analog table, vendor map ≥128)
 *         pressure from a component bound to a water_pressure device (gb26875Source) ─► that device's reading {pressureMpa}
 *      ▼
 *   Pipeline.ingest (validate → rules → sink: durable) ─► confirm (3)
 *
 * Status frames report state, not events (fact 24): a UITD with several components is in alarm
 * while any of them is, so the gateway keeps each component's last bits and sends the rules the
 * aggregate only when it changes. That keeps "device_alarm" and "sensor_fault" honest: they
 * recover when the last alarmed (faulty) component reports normal.
 *
 * Protection (issue #12 item 7). The protocol has no authentication: the source address is the only
 * identity a frame carries, so the TCP peer address is checked against the UITD's allow-list before
 * anything from the frame is believed. The check runs when the frame is cut from the stream, not
 * when its turn in the per-connection queue comes, so a refused frame never waits behind a slow
 * store and nothing after it on that connection is read. The idle timer restarts only on frames
 * from allowed, registered UITDs: garbage and denied frames do not keep a connection slot.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Gb26875Point, Gb26875TestAlarm, Gb26875TestStore, Gb26875View } from '../../services/devices/gb26875-points.js';
import type { Awaitable } from '../../services/shared/awaitable.js';
import type { Device } from '../../services/devices/model.js';
import type { Metrics } from '../../services/metrics/metrics.js';
import type { IngestResult, RawMessage } from '../../services/pipeline/types.js';
import { PeerAllowList } from '../../services/devices/peer-allow-list.js';
import type { Clock, TimerHandle } from '../../services/shared/clock.js';
import { decodeAppData, type AppData } from '../../services/protocols/gb26875/app-data.js';
import { FrameSplitter } from '../../services/protocols/gb26875/frame-splitter.js';
import { Command, OFFSET, decodeFrame, encodeFrame, encodeReply, isHeartbeat, readUint48LE, type Frame, type ProtocolVersion } from '../../services/protocols/gb26875/frame.js';
import { analogToEngineering } from '../../services/protocols/gb26875/tables.js';
import {
  isTestSignal,
  pointName,
  pointView,
  pressureMpa,
  provesTestBit,
  signature,
  stateOf,
  statusObservations,
  testView,
  type AnalogComponentRef,
  type ComponentState,
  type StatusObservation,
} from './uitd-state.js';
import { vendorAnalog, type VendorMapping } from './vendor-mapping.js';

export interface Gb26875ListenerDeps {
  host: string;
  port: number;
  deviceByAddress(address: number): Device | undefined;
  ingest(message: Omit<RawMessage, 'receivedAt'> & { receivedAt?: number }): Promise<IngestResult>;
  /** a UITD's first frame on a connection (true) and the connection's end (false) */
  onConnection(deviceId: string, connected: boolean): void;
  /** any valid frame, heartbeats included: the device is alive */
  onSeen(deviceId: string): void;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  vendorMapping?: VendorMapping;
  /**
   * Where each component's last bits survive a restart: without them, the first "normal" report
   * after a restart from one component would clear an alarm another component still holds.
   */
  componentState?: { load(): ComponentStates; save(states: GatewayState): void };
  /**
   * where test-mode alarms are recorded (uitd-state.ts); without it they are only shown in the
   * state. Every call is awaited (SQLite answers at once, PostgreSQL with a promise): a frame is
   * confirmed only once its records are stored.
   */
  testAlarms?: Gb26875TestStore;
  /**
   * The registered device an analog component of this UITD is bound to (a water_pressure device's
   * gb26875Source): its pressure values become that device's readings, so its rules apply.
   */
  boundDevice?(uitd: Device, ref: AnalogComponentRef): Device | undefined;
  /** time tags' zone, minutes east of UTC (GB26875_TZ; default UTC+8) */
  offsetMinutes?: number;
  /** a UITD's operation record says a person answered a duty check on it (查岗应答, bit5) */
  onDutyCheckAnswered?(deviceId: string, at: number): void;
  /** close a connection without a frame from an allowed, registered UITD for this long (default 180 s) */
  idleTimeoutMs?: number;
  /** connections beyond this are accepted and closed at once (default 1000) */
  maxConnections?: number;
  /** connections from one peer address beyond this are closed at once (default: no limit) */
  maxConnectionsPerPeer?: number;
  /** peers allowed for a UITD without its own allowedPeers; undefined = any peer */
  defaultAllowedPeers?: readonly string[];
  /** a refusal is logged at most once per interval per reason and device (default 60 s) */
  refusalLogIntervalMs?: number;
}

/** Why the gateway closed a connection (label of firewatch_gb26875_refused_total). */
export type RefusalReason = 'cap' | 'peer_cap' | 'idle' | 'not_allowed';

/** Six heartbeats of 30 s (docs/standards.md fact 8: every 20–30 s, about 5 s when the link is abnormal). */
export const DEFAULT_IDLE_TIMEOUT_MS = 180_000;
export const DEFAULT_MAX_CONNECTIONS = 1000;

interface Connection {
  readonly socket: Socket;
  /** the TCP peer's address as the socket reports it (IPv4-mapped IPv6 on a dual-stack listener) */
  readonly peer: string;
  /** UITDs that have sent a frame on this connection */
  readonly devices: Set<string>;
  lastActivity: number;
  idleTimer?: TimerHandle;
}

export type Flags = { alarm: boolean; fault: boolean };
/**
 * What survives a restart (issue #16 item 7): per UITD, each point's last bits (only points with a
 * bit set) and the sources known to set the test bit (uitd-state.ts).
 */
export interface GatewayState {
  version: 2;
  devices: Record<string, { components: Record<string, ComponentState>; bit0?: string[] }>;
}
/** GatewayState, or the earlier form: device id → component key → its last alarm/fault bits */
export type ComponentStates = GatewayState | Record<string, Record<string, Flags>>;

interface UitdState {
  components: Map<string, ComponentState>;
  /** status sources seen with bit0 = 1: bit0 = 0 from them is test mode */
  bit0: Set<string>;
}

export class Gb26875Listener implements Gb26875View {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly perPeer = new Map<string, number>();
  /** allow-lists built once per device record (a PATCH replaces the record) */
  private readonly allowLists = new WeakMap<Device, PeerAllowList>();
  private readonly defaultAllowList: PeerAllowList | undefined;
  private readonly lastRefusalLog = new Map<string, { at: number; suppressed: number }>();
  /** per device: each point's (or the UITD's own) last bits, and its test-bit sources */
  private readonly uitds = new Map<string, UitdState>();
  private readonly lastSent = new Map<string, string>();
  /**
   * per UITD, the end of the status frame being applied: a UITD's frames apply one at a time, also
   * across its connections (one reconnected while the old one drains), because applyStatus awaits
   * the test records between reading the points' state and changing it
   */
  private readonly applying = new Map<string, Promise<void>>();
  private closing = false;
  /**
   * per UITD, the connection it was last heard on and the addresses it used: the centre's commands
   * (centre-commands.ts) go there, from the address the UITD sends to
   */
  private readonly links = new Map<string, { socket: Socket; centre: number; uitd: number; version: ProtocolVersion }>();
  /** the centre's commands waiting for their answer, by `${deviceId}/${serial}` */
  private readonly waiting = new Map<string, (f: Frame) => void>();
  private commandSerial = 0;

  constructor(private readonly deps: Gb26875ListenerDeps) {
    this.defaultAllowList = deps.defaultAllowedPeers ? new PeerAllowList(deps.defaultAllowedPeers) : undefined;
    const loaded = deps.componentState?.load();
    if (isGatewayState(loaded)) {
      for (const [deviceId, d] of Object.entries(loaded.devices)) {
        this.uitds.set(deviceId, { components: new Map(Object.entries(d.components ?? {})), bit0: new Set(d.bit0 ?? []) });
      }
    } else {
      for (const [deviceId, comps] of Object.entries(loaded ?? {})) this.uitds.set(deviceId, { components: new Map(Object.entries(comps)), bit0: new Set() });
    }
    this.updateDisabledGauge();
  }

  async start(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.deps.port, this.deps.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { address, port } = server.address() as AddressInfo;
    this.deps.log.info({ host: address, port }, 'GB/T 26875.3 gateway listening');
    return port;
  }

  private count(result: string): void {
    this.deps.metrics.gb26875Frames.inc({ result });
  }

  private refuse(reason: RefusalReason, detail: Record<string, unknown>, key: string = reason): void {
    this.deps.metrics.gb26875Refused.inc({ reason });
    // a scanner or a misconfigured UITD must not flood the log: once per interval per key
    const now = this.deps.clock.now();
    const interval = this.deps.refusalLogIntervalMs ?? 60_000;
    const last = this.lastRefusalLog.get(key);
    if (last && now - last.at < interval) {
      last.suppressed++;
      return;
    }
    this.lastRefusalLog.set(key, { at: now, suppressed: 0 });
    const fields = { reason, ...detail, suppressedSinceLast: last?.suppressed ?? 0 };
    if (reason === 'idle') this.deps.log.info(fields, 'GB/T 26875.3 connection closed: idle');
    else this.deps.log.warn(fields, 'GB/T 26875.3 connection refused');
  }

  private accept(socket: Socket): void {
    const peer = socket.remoteAddress ?? '';
    if (this.closing) {
      socket.destroy();
      return;
    }
    // accept-and-close beyond the caps: the kernel has already completed the handshake
    const max = this.deps.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.sockets.size >= max) {
      this.refuse('cap', { peer, maxConnections: max });
      socket.destroy();
      return;
    }
    const perPeerMax = this.deps.maxConnectionsPerPeer;
    if (perPeerMax !== undefined && (this.perPeer.get(peer) ?? 0) >= perPeerMax) {
      this.refuse('peer_cap', { peer, maxConnectionsPerPeer: perPeerMax });
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.perPeer.set(peer, (this.perPeer.get(peer) ?? 0) + 1);
    this.deps.metrics.gb26875Connections.inc();
    const conn: Connection = { socket, peer, devices: new Set(), lastActivity: this.deps.clock.now() };
    this.armIdle(conn);
    const splitter = new FrameSplitter();
    let chain: Promise<void> = Promise.resolve();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const out of splitter.push(chunk)) {
        if (out.kind === 'invalid') {
          this.count(out.reason);
          // a frame whose boundary is trusted but whose sum is wrong can be denied by serial (fact 3)
          if (out.reason === 'bad_checksum' && out.bytes) this.reply(socket, headerOf(out.bytes), Command.deny);
          continue;
        }
        if (!this.admit(conn, out.frame)) {
          // nothing after a refused frame is read: the connection ends here
          socket.destroy();
          return;
        }
        // in order per connection: a confirm goes out only once the frame's data is durable
        chain = chain.then(() => (this.closing ? undefined : this.handle(socket, out.frame, conn.devices))).catch((err: unknown) => {
          this.deps.log.error({ err }, 'GB/T 26875.3 frame handling failed');
        });
      }
    });
    socket.on('error', () => {
      /* followed by 'close' */
    });
    socket.on('close', () => {
      conn.idleTimer?.cancel();
      this.sockets.delete(socket);
      for (const [id, link] of this.links) if (link.socket === socket) this.links.delete(id);
      const n = (this.perPeer.get(peer) ?? 1) - 1;
      if (n > 0) this.perPeer.set(peer, n);
      else this.perPeer.delete(peer);
      this.deps.metrics.gb26875Connections.dec();
      void chain.then(() => {
        // at shutdown the stores close right after us: presence is not news then
        if (!this.closing) for (const id of conn.devices) this.deps.onConnection(id, false);
      });
    });
  }

  /**
   * Whether a frame cut from the stream may go on to be handled. A frame naming a registered UITD
   * from a peer not on its allow-list is refused (false); one naming no UITD goes on to be denied
   * by handle() but, unlike a UITD's frame, does not restart the idle timer.
   */
  private admit(conn: Connection, frame: Buffer): boolean {
    const address = readUint48LE(frame, OFFSET.source);
    const device = this.deps.deviceByAddress(address);
    if (!device || device.kind !== 'uitd') return true;
    const list = this.allowListFor(device);
    if (list && !list.allows(conn.peer)) {
      this.count('not_allowed');
      this.refuse('not_allowed', { deviceId: device.id, address, peer: conn.peer }, `not_allowed:${device.id}`);
      return false;
    }
    conn.lastActivity = this.deps.clock.now();
    return true;
  }

  private allowListFor(device: Device): PeerAllowList | undefined {
    if (!device.allowedPeers || device.allowedPeers.length === 0) return this.defaultAllowList;
    let list = this.allowLists.get(device);
    if (!list) this.allowLists.set(device, (list = new PeerAllowList(device.allowedPeers)));
    return list;
  }

  /** Close the connection once it has been idle for idleTimeoutMs; re-arms itself while there is traffic. */
  private armIdle(conn: Connection): void {
    const ms = this.deps.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    conn.idleTimer = this.deps.clock.at(conn.lastActivity + ms, () => {
      if (conn.socket.destroyed) return;
      if (this.deps.clock.now() - conn.lastActivity < ms) return this.armIdle(conn);
      this.refuse('idle', { peer: conn.peer, idleS: ms / 1000, deviceIds: [...conn.devices] });
      conn.socket.destroy();
    });
  }

  private reply(socket: Socket, to: Pick<Frame, 'serial' | 'version' | 'source' | 'destination'>, command: typeof Command.confirm | typeof Command.deny): void {
    if (!socket.destroyed) socket.write(encodeReply(to, command, new Date(this.deps.clock.now()), this.deps.offsetMinutes));
  }

  private async handle(socket: Socket, bytes: Buffer, devices: Set<string>): Promise<void> {
    const decoded = decodeFrame(bytes, this.deps.offsetMinutes === undefined ? {} : { offsetMinutes: this.deps.offsetMinutes });
    if (!decoded.ok) {
      this.count(decoded.reason);
      this.reply(socket, headerOf(bytes), Command.deny);
      return;
    }
    const frame = decoded.frame;
    const device = this.deps.deviceByAddress(frame.source);
    if (!device || device.kind !== 'uitd') {
      this.count('unknown_address');
      this.deps.log.debug({ address: frame.source }, 'GB/T 26875.3 frame from an unregistered address; denied');
      this.reply(socket, frame, Command.deny);
      return;
    }
    if (!devices.has(device.id)) {
      devices.add(device.id);
      this.deps.onConnection(device.id, true);
    }
    this.deps.onSeen(device.id);
    this.links.set(device.id, { socket, centre: frame.destination, uitd: frame.source, version: frame.version });
    if (frame.command === Command.confirm || frame.command === Command.deny || frame.command === Command.response) {
      this.count('reply'); // an answer to one of the centre's commands (sendCommand)
      this.waiting.get(`${device.id}/${frame.serial}`)?.(frame);
      return;
    }
    if (isHeartbeat(frame)) {
      this.count('heartbeat');
      this.reply(socket, frame, Command.confirm);
      return;
    }
    if (frame.command !== Command.send_data) {
      this.count('ok'); // control commands and requests from a UITD: valid, nothing to store
      this.reply(socket, frame, Command.confirm);
      return;
    }
    const app = decodeAppData(frame.appData, this.deps.offsetMinutes);
    if (!app.ok) {
      this.count(`app_${app.reason}`);
      this.reply(socket, frame, Command.deny);
      return;
    }
    try {
      await this.ingest(device, app.appData);
    } catch (err) {
      // storage down: no confirm, so the UITD resends (fact 3)
      this.count('store_failed');
      this.deps.log.warn({ err, deviceId: device.id }, 'GB/T 26875.3 data not stored; denied so the UITD resends');
      this.reply(socket, frame, Command.deny);
      return;
    }
    this.count('ok');
    this.reply(socket, frame, Command.confirm);
  }

  private async ingest(device: Device, app: AppData): Promise<void> {
    const now = this.deps.clock.now();
    switch (app.type) {
      case 1:
      case 2:
      case 21:
        await this.applyStatus(device.id, statusObservations(app), now);
        return this.sendFlags(device.id, now, app.type === 1 ? 'sys' : app.type === 2 ? 'comp' : 'uitd');
      case 3: {
        const readings: Record<string, unknown>[] = [];
        /** pressure values of components bound to other devices, per bound device */
        const bound = new Map<string, Record<string, unknown>[]>();
        for (const o of app.objects) {
          const eng = analogToEngineering(o.analogType, o.value);
          let quantity: string;
          let unit: string;
          let value: number;
          if (eng.ok) {
            if (!eng.inRange) {
              this.count('analog_out_of_range');
              continue;
            }
            ({ quantity, unit, value } = eng);
          } else {
            const v = eng.reason === 'user_defined_type' && this.deps.vendorMapping ? vendorAnalog(this.deps.vendorMapping, device.vendor, o.analogType) : undefined;
            if (!v) {
              this.count(`analog_${eng.reason}`);
              continue;
            }
            value = o.value / v.divisor;
            if ((v.min !== undefined && value < v.min) || (v.max !== undefined && value > v.max)) {
              this.count('analog_out_of_range');
              continue;
            }
            ({ quantity, unit } = v);
          }
          const t = o.time?.getTime();
          // a device clock ahead of ours would be rejected as future_ts; fall back to receipt time
          const ts = t !== undefined && t <= now ? { ts: t } : {};
          if (quantity === 'pressure') {
            const target = this.deps.boundDevice?.(device, { systemType: o.systemType, systemAddress: o.systemAddress, componentType: o.componentType, componentAddress: o.address.raw });
            const mpa = target?.kind === 'water_pressure' ? pressureMpa(value, unit) : undefined;
            if (target && mpa !== undefined) {
              let list = bound.get(target.id);
              if (!list) bound.set(target.id, (list = []));
              list.push({ ...ts, pressureMpa: mpa });
              continue;
            }
            if (target) this.count('analog_bound_unit_unknown'); // kept as the UITD's reading
          }
          readings.push({
            ...ts,
            analogType: o.analogType,
            quantity,
            value,
            unit,
            systemType: o.systemType,
            systemAddress: o.systemAddress,
            componentType: o.componentType,
            componentAddress: o.address.raw,
          });
        }
        if (readings.length > 0) await this.deps.ingest({ deviceId: device.id, channel: 'telemetry', payload: Buffer.from(JSON.stringify(readings)) });
        // the bound device's readings go through its own validation and rules, as if it had published them
        for (const [deviceId, list] of bound) await this.deps.ingest({ deviceId, channel: 'telemetry', payload: Buffer.from(JSON.stringify(list)) });
        return;
      }
      case 24:
        // the UITD's operation records: a person answering a duty check on it (查岗应答) closes the check
        for (const o of app.objects) if (o.flags.dutyCheckAnswered) this.deps.onDutyCheckAnswered?.(device.id, now);
        return;
      default:
        return; // versions, configuration: valid, not stored yet
    }
  }

  private stateFor(deviceId: string): UitdState {
    let st = this.uitds.get(deviceId);
    if (!st) this.uitds.set(deviceId, (st = { components: new Map(), bit0: new Set() }));
    return st;
  }

  /**
   * Apply one unit's status objects to the UITD's points. Test records are written first and the
   * state is rolled back if it cannot be saved, so a UITD that resends after a deny finds the same
   * transitions (and beginning a record that is already open only adds bits to it).
   */
  private applyStatus(deviceId: string, observations: StatusObservation[], now: number): Promise<void> {
    const previousFrame = this.applying.get(deviceId) ?? Promise.resolve();
    const run = previousFrame.then(() => this.applyStatusNow(deviceId, observations, now));
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    this.applying.set(deviceId, done);
    void done.then(() => {
      if (this.applying.get(deviceId) === done) this.applying.delete(deviceId);
    });
    return run;
  }

  private async applyStatusNow(deviceId: string, observations: StatusObservation[], now: number): Promise<void> {
    const st = this.stateFor(deviceId);
    const bit0 = new Set(st.bit0);
    for (const o of observations) if (provesTestBit(o)) bit0.add(o.source);
    const next = new Map<string, ComponentState | undefined>();
    for (const o of observations) {
      const before = next.has(o.key) ? next.get(o.key) : st.components.get(o.key);
      const s = stateOf(o, bit0.has(o.source), now, before);
      next.set(o.key, s && before && signature(s) === signature(before) ? before : s);
    }
    const changes = [...next].filter(([key, s]) => s !== st.components.get(key));
    if (changes.length === 0 && bit0.size === st.bit0.size) return;
    const tests = this.deps.testAlarms;
    if (tests) {
      for (const [key, s] of changes) {
        const before = st.components.get(key);
        if (isTestSignal(s)) await tests.begin({ deviceId, point: key, name: pointName(key, s!.description), description: s!.description ?? null, fireAlarm: s!.testAlarm === true, supervisory: s!.testSupervisory === true, at: now });
        else if (isTestSignal(before)) await tests.end(deviceId, key, now);
      }
    }
    const previous = { bit0: st.bit0, components: new Map(changes.map(([key]) => [key, st.components.get(key)])) };
    const put = (key: string, s: ComponentState | undefined) => (s ? st.components.set(key, s) : st.components.delete(key));
    for (const [key, s] of changes) put(key, s);
    st.bit0 = bit0;
    try {
      this.persist();
    } catch (err) {
      for (const [key, s] of previous.components) put(key, s);
      st.bit0 = previous.bit0;
      throw err;
    }
    this.updateDisabledGauge();
  }

  private persist(): void {
    if (!this.deps.componentState) return;
    const all: GatewayState = { version: 2, devices: {} };
    for (const [id, st] of this.uitds) {
      if (st.components.size === 0 && st.bit0.size === 0) continue;
      all.devices[id] = { components: Object.fromEntries(st.components), ...(st.bit0.size > 0 ? { bit0: [...st.bit0].sort() } : {}) };
    }
    this.deps.componentState.save(all);
  }

  private updateDisabledGauge(): void {
    let n = 0;
    for (const st of this.uitds.values()) for (const s of st.components.values()) if (s.disabled) n++;
    this.deps.metrics.gb26875DisabledPoints.set(n);
  }

  /** Send the aggregate to the rules when it changed (or on the first report since start). */
  private async sendFlags(deviceId: string, now: number, source: string): Promise<void> {
    const m = this.uitds.get(deviceId)?.components ?? new Map<string, ComponentState>();
    let alarmKey: string | undefined;
    let faultKey: string | undefined;
    let supervisoryKey: string | undefined;
    for (const [key, f] of m) {
      if (f.alarm) alarmKey ??= key;
      if (f.fault) faultKey ??= key;
      if (f.supervisory) supervisoryKey ??= key;
    }
    const alarm = alarmKey !== undefined;
    const fault = faultKey !== undefined;
    const supervisory = supervisoryKey !== undefined;
    const state = `${alarm}/${fault}/${supervisory}`;
    if (this.lastSent.get(deviceId) === state) return;
    const event = {
      ts: now,
      alarm,
      fault,
      supervisory,
      code: (alarmKey ?? faultKey ?? supervisoryKey ?? source).slice(0, 64),
      // the supervisory alert names its point: 信号阀 2区15号（3F 喷淋）
      ...(supervisoryKey !== undefined ? { supervisoryCode: pointName(supervisoryKey, m.get(supervisoryKey)?.description) } : {}),
    };
    await this.deps.ingest({ deviceId, channel: 'event', payload: Buffer.from(JSON.stringify(event)) });
    this.lastSent.set(deviceId, state);
  }

  /** A UITD's points with a status bit set (for the API). */
  points(deviceId: string): Gb26875Point[] {
    return [...(this.uitds.get(deviceId)?.components ?? [])].map(([key, s]) => pointView(key, s));
  }

  /** The status sources known to set the test bit. */
  testBitSources(deviceId: string): string[] {
    return [...(this.uitds.get(deviceId)?.bit0 ?? [])].sort();
  }

  /** The UITD's test-mode alarms, newest first: at once from a store that answers at once (SQLite), else a promise. */
  tests(deviceId: string, limit: number): Awaitable<Gb26875TestAlarm[]> {
    const records = this.deps.testAlarms?.list(deviceId, limit) ?? [];
    return records instanceof Promise ? records.then((r) => r.map(testView)) : records.map(testView);
  }

  /** The device is gone: its points no longer count. */
  forget(deviceId: string): void {
    if (!this.uitds.delete(deviceId)) return;
    this.lastSent.delete(deviceId);
    this.persist();
    this.updateDisabledGauge();
  }

  /**
   * Send a UITD one of the centre's commands (control 1 or request 4) on the connection it was last
   * heard on, and wait for its answer (confirm, deny or response with the same serial): up to
   * `tries` attempts of `timeoutMs` each, the same serial every time (fact 4: 10 s, 3 tries).
   */
  async sendCommand(
    deviceId: string,
    command: typeof Command.control | typeof Command.request,
    appData: Uint8Array,
    o: { timeoutMs: number; tries: number },
  ): Promise<{ outcome: 'answered' | 'timeout' | 'not_connected'; attempts: number; serial: number | null; reply?: Frame }> {
    const link = this.links.get(deviceId);
    if (!link || link.socket.destroyed || this.closing) return { outcome: 'not_connected', attempts: 0, serial: null };
    this.commandSerial = (this.commandSerial + 1) & 0xffff;
    const serial = this.commandSerial;
    const key = `${deviceId}/${serial}`;
    for (let attempt = 1; attempt <= o.tries; attempt++) {
      if (link.socket.destroyed) return { outcome: 'not_connected', attempts: attempt - 1, serial };
      const reply = await new Promise<Frame | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(key);
          resolve(undefined);
        }, o.timeoutMs);
        this.waiting.set(key, (f) => {
          clearTimeout(timer);
          this.waiting.delete(key);
          resolve(f);
        });
        link.socket.write(
          encodeFrame({ serial, version: link.version, time: new Date(this.deps.clock.now()), source: link.centre, destination: link.uitd, command, appData }, this.deps.offsetMinutes),
        );
      });
      if (reply) return { outcome: 'answered', attempts: attempt, serial, reply };
    }
    return { outcome: 'timeout', attempts: o.tries, serial };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function isGatewayState(s: ComponentStates | undefined): s is GatewayState {
  return s !== undefined && (s as { version?: unknown }).version === 2 && typeof (s as { devices?: unknown }).devices === 'object';
}

/** Serial, version and addresses of a frame that failed a check, so it can still be denied. */
function headerOf(bytes: Uint8Array): Pick<Frame, 'serial' | 'version' | 'source' | 'destination'> {
  return {
    serial: (bytes[OFFSET.serial] ?? 0) | ((bytes[OFFSET.serial + 1] ?? 0) << 8),
    version: { major: bytes[OFFSET.versionMajor] ?? 1, user: bytes[OFFSET.versionUser] ?? 0 },
    source: bytes.length >= OFFSET.source + 6 ? readUint48LE(bytes, OFFSET.source) : 0,
    destination: bytes.length >= OFFSET.destination + 6 ? readUint48LE(bytes, OFFSET.destination) : 0,
  };
}
