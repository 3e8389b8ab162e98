/**
 * GB/T 26875.3 gateway: a TCP listener for user information transmission devices (UITDs), on
 * GB26875_PORT. Each UITD is a registered device of kind `uitd` identified by its 48-bit source
 * address (frame bytes 13–18).
 *
 *   TCP bytes ─► FrameSplitter (fact 6: several frames per read, one frame across reads)
 *      │ invalid: bad checksum ─► deny (6), other garbage dropped and counted
 *      ▼
 *   decodeFrame (markers, length, checksum, command: fact 5) ─► unknown command ─► deny
 *      ▼
 *   source address ─► registry.deviceByAddress ─► unknown ─► deny, counted
 *      ▼
 *   command 2, empty app data ─► heartbeat (fact 8): device seen ─► confirm (3)
 *   command 2 with app data ─► decodeAppData ─► bad ─► deny
 *      type 1/2 (system/component status) ─► alarm/fault bits, aggregated per UITD ─┐
 *      type 21 (UITD status)              ─► its own alarm/fault/power bits       ─┴► event {alarm, fault, code}
 *      type 3 (analog values)             ─► readings {analogType, value, unit, …}   (analog table, vendor map ≥128)
 *      ▼
 *   Pipeline.ingest (validate → rules → sink: durable) ─► confirm (3)
 *
 * Status frames report state, not events (fact 24): a UITD with several components is in alarm
 * while any of them is, so the gateway keeps each component's last bits and sends the rules the
 * aggregate only when it changes. That keeps "device_alarm" and "sensor_fault" honest: they
 * recover when the last alarmed (faulty) component reports normal.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Device } from '../../services/devices/model.js';
import type { Metrics } from '../../services/metrics/metrics.js';
import type { IngestResult, RawMessage } from '../../services/pipeline/pipeline.js';
import type { Clock } from '../../services/shared/clock.js';
import { decodeAppData, type AppData } from './app-data.js';
import { FrameSplitter } from './frame-splitter.js';
import { Command, OFFSET, decodeFrame, encodeReply, isHeartbeat, readUint48LE, type Frame } from './frame.js';
import { analogToEngineering } from './tables.js';
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
  componentState?: { load(): ComponentStates; save(states: ComponentStates): void };
}

export type Flags = { alarm: boolean; fault: boolean };
/** device id → component key → its last alarm/fault bits (only components not normal) */
export type ComponentStates = Record<string, Record<string, Flags>>;

export class Gb26875Listener {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** per device: each component's (or the UITD's own) last alarm/fault bits */
  private readonly components = new Map<string, Map<string, Flags>>();
  private readonly lastSent = new Map<string, string>();
  private closing = false;

  constructor(private readonly deps: Gb26875ListenerDeps) {
    for (const [deviceId, comps] of Object.entries(deps.componentState?.load() ?? {})) {
      this.components.set(deviceId, new Map(Object.entries(comps)));
    }
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
    const port = (server.address() as AddressInfo).port;
    this.deps.log.info({ port }, 'GB/T 26875.3 gateway listening');
    return port;
  }

  private count(result: string): void {
    this.deps.metrics.gb26875Frames.inc({ result });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    this.deps.metrics.gb26875Connections.inc();
    const splitter = new FrameSplitter();
    const devices = new Set<string>();
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
        // in order per connection: a confirm goes out only once the frame's data is durable
        chain = chain.then(() => (this.closing ? undefined : this.handle(socket, out.frame, devices))).catch((err: unknown) => {
          this.deps.log.error({ err }, 'GB/T 26875.3 frame handling failed');
        });
      }
    });
    socket.on('error', () => {
      /* followed by 'close' */
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.deps.metrics.gb26875Connections.dec();
      void chain.then(() => {
        // at shutdown the stores close right after us: presence is not news then
        if (!this.closing) for (const id of devices) this.deps.onConnection(id, false);
      });
    });
  }

  private reply(socket: Socket, to: Pick<Frame, 'serial' | 'version' | 'source' | 'destination'>, command: typeof Command.confirm | typeof Command.deny): void {
    if (!socket.destroyed) socket.write(encodeReply(to, command, new Date(this.deps.clock.now())));
  }

  private async handle(socket: Socket, bytes: Buffer, devices: Set<string>): Promise<void> {
    const decoded = decodeFrame(bytes);
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
    if (frame.command === Command.confirm || frame.command === Command.deny || frame.command === Command.response) {
      this.count('reply'); // answers to the centre's commands; we send none yet
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
    const app = decodeAppData(frame.appData);
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
        for (const o of app.objects) {
          this.setFlags(device.id, `sys:${o.systemType}:${o.systemAddress}`, {
            alarm: o.flags.fireAlarm,
            fault: o.flags.fault || o.flags.mainPowerFault || o.flags.backupPowerFault || o.flags.busFault,
          });
        }
        return this.sendFlags(device.id, now, 'sys');
      case 2:
        for (const o of app.objects) {
          this.setFlags(device.id, `comp:${o.systemType}:${o.systemAddress}:${o.componentType}:${o.address.zone}-${o.address.position}`, {
            alarm: o.flags.fireAlarm,
            fault: o.flags.fault || o.flags.powerFault,
          });
        }
        return this.sendFlags(device.id, now, 'comp');
      case 21:
        for (const o of app.objects) {
          const f = o.flags;
          this.setFlags(device.id, 'uitd', {
            alarm: f.fireAlarm,
            fault: f.fault || f.mainPowerFault || f.backupPowerFault || f.centreLinkFault || f.monitoringLineFault,
          });
        }
        return this.sendFlags(device.id, now, 'uitd');
      case 3: {
        const readings: Record<string, unknown>[] = [];
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
          readings.push({
            // a device clock ahead of ours would be rejected as future_ts; fall back to receipt time
            ...(t !== undefined && t <= now ? { ts: t } : {}),
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
        return;
      }
      default:
        return; // operation records, versions, configuration: valid, not stored yet
    }
  }

  private setFlags(deviceId: string, key: string, flags: Flags): void {
    let m = this.components.get(deviceId);
    if (!m) this.components.set(deviceId, (m = new Map()));
    const before = m.get(key);
    if (!flags.alarm && !flags.fault) m.delete(key);
    else m.set(key, flags);
    const changed = (before?.alarm ?? false) !== flags.alarm || (before?.fault ?? false) !== flags.fault;
    if (changed && this.deps.componentState) {
      const all: ComponentStates = {};
      for (const [id, comps] of this.components) if (comps.size > 0) all[id] = Object.fromEntries(comps);
      this.deps.componentState.save(all);
    }
  }

  /** Send the aggregate to the rules when it changed (or on the first report since start). */
  private async sendFlags(deviceId: string, now: number, source: string): Promise<void> {
    const m = this.components.get(deviceId) ?? new Map<string, Flags>();
    let alarm = false;
    let fault = false;
    let code: string | undefined;
    for (const [key, f] of m) {
      if (f.alarm && !alarm) code = key;
      alarm ||= f.alarm;
      fault ||= f.fault;
    }
    const state = `${alarm}/${fault}`;
    if (this.lastSent.get(deviceId) === state) return;
    const event = { ts: now, alarm, fault, code: (code ?? (fault ? [...m.keys()][0] : undefined) ?? source).slice(0, 64) };
    await this.deps.ingest({ deviceId, channel: 'event', payload: Buffer.from(JSON.stringify(event)) });
    this.lastSent.set(deviceId, state);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
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
