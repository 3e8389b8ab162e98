/**
 * GB/T 26875.3 uplink client: Firewatch acts as a user information transmission device (UITD)
 * towards a monitoring centre over TCP (UPLINK_GB26875_ADDR), as an UplinkAdapter.
 *
 *   start ─► connect ─► serial := 0 ─► UITD status (type 21, "normal monitoring")
 *   every heartbeatMs: command 2 with empty app data (fact 8); the link down: connect again
 *   the link lost ─► reconnect with backoff (the centre may send at any time, so the link is kept up)
 *   each item ─► app data (gb26875-mapping.ts, status bits: gb26875-status-map.ts) ─► command 2 frame ─► wait for command 3 with the same serial
 *                 deny (6) or no answer within timeoutMs ─► resend, at most `retries` times (fact 4: 10 s, 3)
 *
 * The centre's commands, each answered at once with the frame's own serial number:
 *   control (1): clock sync (90) ─► confirm (3), the offset applied to every later time tag
 *                initialisation (89) ─► confirm
 *                duty check (91) ─► confirm, then `onDutyCheck` (the duty room answers it)
 *   request (4): UITD running status (81) ─► response (5) with type 21
 *                software version (85) / configuration (86) / system time (88) ─► types 25 / 26 / 28
 *                facility data (61–68) ─► types 1–8 from our devices' state (gb26875-facility-reads.ts)
 *   anything else, or app data that does not decode ─► deny (6)
 *
 * Outcome per exchange: confirmed → next; every attempt timed out → retryable failure (the link is
 * dropped and rebuilt on the next send); every attempt denied → the centre refuses the frame → the
 * item is dead-lettered. Time tags are UTC+8 (fact 15) through the codec.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { UplinkError, type StoredUplinkItem, type UplinkAdapter, type UplinkItem } from '../model.js';
import { AppDataType, decodeAppData, encodeAppData, type AppDataInput } from '../../protocols/gb26875/app-data.js';
import { FrameSplitter } from '../../protocols/gb26875/frame-splitter.js';
import { CST_OFFSET_MINUTES, Command, decodeFrame, encodeFrame, encodeReply, type Frame, type ProtocolVersion } from '../../protocols/gb26875/frame.js';
import { nominalDelay } from '../../shared/backoff.js';
import { encodeUitdOperation, encodeUitdStatus } from '../../protocols/gb26875/tables.js';
import type { StatusMap } from './gb26875-status-map.js';
import { appDataForItem } from './gb26875-mapping.js';
import { answerFacilityRead, type FacilityDevice } from './gb26875-facility-reads.js';

export interface Gb26875ClientOptions {
  host: string;
  port: number;
  /** our 48-bit address (UPLINK_GB26875_SOURCE_ADDR) */
  sourceAddress: number;
  /** the centre's address */
  destinationAddress: number;
  /** wait for confirm this long per attempt (fact 4: at most 10 s) */
  timeoutMs: number;
  /** resends after the first attempt (fact 4: 3) */
  retries?: number;
  heartbeatMs: number;
  clock: Clock;
  log: Logger;
  version?: ProtocolVersion;
  /** the platform's status-bit overrides (UPLINK_GB26875_STATUS_MAP); unset: the default table */
  statusMap?: StatusMap;
  /** the time zone of every time tag, minutes east of UTC (GB26875_TZ; default UTC+8, fact 15) */
  offsetMinutes?: number;
  /** what a read of the software version (type 85) answers (type 25) */
  softwareVersion?: { major: number; minor: number };
  /** what a read of the configuration (type 86) answers (type 26): a short text */
  configText?: string;
  /** the centre checks on duty (type 91): confirmed at once; the duty room is to answer it */
  onDutyCheck?: (check: { serial: number; at: number; raw: number }) => void;
  /** what the centre's reads of facility data (61–68) are answered from: our devices, their active alerts and last readings */
  facility?: () => Iterable<FacilityDevice>;
  /** reconnect backoff while the centre is unreachable (default 1 s, doubling to 60 s) */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

type Reply = 'confirm' | 'deny';

export class Gb26875UplinkClient implements UplinkAdapter {
  readonly name = 'gb26875';
  readonly maxBatch = 20;
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private serial = 0;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  /** one exchange at a time: the serial/confirm pairing stays simple and uploads stay in order */
  private chain: Promise<unknown> = Promise.resolve();
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private linkUp = false;
  /** the centre's clock minus ours (ms), from its last clock sync (type 90) */
  private clockOffsetMs = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private linkFailures = 0;
  private readonly offsetMinutes: number;

  constructor(private readonly opts: Gb26875ClientOptions) {
    this.offsetMinutes = opts.offsetMinutes ?? CST_OFFSET_MINUTES;
  }

  /** Open the link now and keep it up: the centre may send its commands at any time. */
  start(): void {
    this.heartbeat = setInterval(() => {
      if (this.closed) return;
      if (!this.socket) return this.keepLink();
      this.serialised(() => this.exchange(new Uint8Array(0))).catch(() => {
        /* a lost heartbeat drops the link; it is opened again (keepLink) */
      });
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
    this.keepLink();
  }

  /** Our time as the centre sees it: our clock and the offset of its last clock sync. */
  private now(): Date {
    return new Date(this.opts.clock.now() + this.clockOffsetMs);
  }

  /** Connect unless connected, connecting or waiting to retry; a failure retries with backoff. */
  private keepLink(): void {
    if (this.closed || this.socket || this.connecting || this.reconnectTimer) return;
    this.serialised(() => this.link()).then(
      () => {
        this.linkFailures = 0;
      },
      () => {
        this.linkFailures++;
        this.scheduleReconnect();
      },
    );
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = nominalDelay(this.linkFailures, { minMs: this.opts.reconnectMinMs ?? 1000, maxMs: this.opts.reconnectMaxMs ?? 60_000 });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.keepLink();
    }, delay);
    this.reconnectTimer.unref();
  }

  private version(): ProtocolVersion {
    return this.opts.version ?? { major: 1, user: 0 };
  }

  private link(): Promise<Socket> {
    if (this.closed) return Promise.reject(new UplinkError('the GB/T 26875.3 uplink is closed', true));
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.opts.host, port: this.opts.port });
      const splitter = new FrameSplitter();
      s.setNoDelay(true);
      const fail = (err: Error) => {
        s.destroy();
        reject(new UplinkError(`monitoring centre ${this.opts.host}:${this.opts.port} unreachable: ${err.message}`, true, { cause: err }));
      };
      s.once('error', fail);
      s.setTimeout(this.opts.timeoutMs, () => fail(new Error('connect timeout')));
      s.once('connect', () => {
        s.setTimeout(0);
        s.off('error', fail);
        if (this.closed) return fail(new Error('the uplink closed while connecting')); // no link left behind
        s.on('error', () => {
          /* followed by 'close' */
        });
        this.socket = s;
        this.serial = 0; // fact §1.2: numbering starts at 0 when the connection is set up
        if (!this.linkUp) this.opts.log.info({ centre: `${this.opts.host}:${this.opts.port}` }, 'GB/T 26875.3 monitoring centre connected');
        this.linkUp = true;
        resolve(s);
      });
      s.on('data', (chunk: Buffer) => {
        for (const out of splitter.push(chunk)) {
          if (out.kind !== 'frame') continue;
          const d = decodeFrame(out.frame);
          if (!d.ok) continue;
          const f = d.frame;
          if (f.command === Command.confirm || f.command === Command.deny) {
            const w = this.waiting.get(f.serial);
            if (w) {
              this.waiting.delete(f.serial);
              w(f.command === Command.confirm ? 'confirm' : 'deny');
            }
          } else if (f.command === Command.control || f.command === Command.request) this.serve(f, s);
        }
      });
      s.on('close', () => {
        const wasUp = this.socket === s;
        if (wasUp) this.socket = undefined;
        if (this.linkUp && !this.closed) this.opts.log.warn('GB/T 26875.3 monitoring centre disconnected; items wait in the outbox');
        this.linkUp = false;
        if (wasUp && !this.closed) {
          this.linkFailures = 1;
          this.scheduleReconnect(); // keep the link: the centre may send at any time
        }
      });
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting.then(async (s) => {
      // announce our own state first on every new link (type 21, bit0 "normal monitoring")
      if (this.serial === 0) {
        const status = encodeAppData({ type: 21, objects: [{ status: encodeUitdStatus({ normal: true }), time: this.now() }] }, this.offsetMinutes);
        await this.exchange(status, s).catch((err: unknown) => {
          s.destroy();
          // whatever the centre thinks of our status frame, it says nothing about the item being sent
          throw new UplinkError(`UITD status not confirmed: ${err instanceof Error ? err.message : String(err)}`, true, { cause: err });
        });
      }
      return s;
    });
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** One send/confirm exchange with resends (fact 3, fact 4). */
  private async exchange(appData: Uint8Array, socket?: Socket): Promise<void> {
    const s = socket ?? (await this.link());
    const serial = this.serial;
    this.serial = (this.serial + 1) & 0xffff;
    const attempts = 1 + (this.opts.retries ?? 3);
    let denied = 0;
    for (let i = 0; i < attempts; i++) {
      if (this.closed) throw new UplinkError('closing', true);
      if (s.destroyed) throw new UplinkError('connection to the monitoring centre lost', true);
      const frame = encodeFrame(
        {
          serial,
          version: this.version(),
          time: this.now(),
          source: this.opts.sourceAddress,
          destination: this.opts.destinationAddress,
          command: Command.send_data,
          appData,
        },
        this.offsetMinutes,
      );
      const reply = await new Promise<Reply | 'timeout' | 'closed'>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(serial);
          resolve('timeout');
        }, this.opts.timeoutMs);
        const onClose = () => {
          clearTimeout(timer);
          this.waiting.delete(serial);
          resolve('closed');
        };
        s.once('close', onClose);
        this.waiting.set(serial, (r) => {
          clearTimeout(timer);
          s.off('close', onClose);
          resolve(r);
        });
        s.write(frame);
      });
      if (reply === 'confirm') return;
      if (reply === 'closed') throw new UplinkError('connection to the monitoring centre lost', true);
      if (reply === 'deny') denied++;
    }
    if (denied === attempts) throw new UplinkError(`monitoring centre denied the frame ${attempts} times`, false);
    s.destroy(); // no answer: rebuild the link on the next attempt
    throw new UplinkError(`no confirm from the monitoring centre after ${attempts} attempts`, true);
  }

  async send(items: readonly StoredUplinkItem[]): Promise<void> {
    const units: AppDataInput[] = items.flatMap((i) => appDataForItem(i, this.opts.statusMap));
    for (const unit of units) {
      const bytes = encodeAppData(unit, this.offsetMinutes);
      await this.serialised(() => this.exchange(bytes));
    }
  }

  /** An item with a frame: an acknowledgement, for one, has none (the centre hears of the alarm, not of our confirmation). */
  sends(item: UplinkItem): boolean {
    return appDataForItem(item, this.opts.statusMap).length > 0;
  }

  /**
   * A person answered the centre's duty check (duty-checks.ts): the UITD operation record (type 24)
   * with the duty-check-answered bit (查岗应答), as a UITD sends when its answer button is pressed.
   * Resolves once the centre confirmed it; rejects (UplinkError) otherwise.
   */
  answerDutyCheck(): Promise<void> {
    const record = encodeAppData(
      { type: 24, objects: [{ operation: encodeUitdOperation({ dutyCheckAnswered: true }), operator: 0, time: this.now() }] },
      this.offsetMinutes,
    );
    return this.serialised(() => this.exchange(record));
  }

  /**
   * A command from the centre (control or request), answered at once with its serial number.
   * The replies are written as they are: they pair with the centre's serial, not with ours.
   */
  private serve(f: Frame, s: Socket): void {
    const reply = (command: typeof Command.confirm | typeof Command.deny) => s.write(encodeReply(f, command, this.now(), this.offsetMinutes));
    const respond = (data: AppDataInput) =>
      s.write(
        encodeFrame(
          { serial: f.serial, version: this.version(), time: this.now(), source: f.destination, destination: f.source, command: Command.response, appData: encodeAppData(data, this.offsetMinutes) },
          this.offsetMinutes,
        ),
      );
    const decoded = f.appData.length > 0 ? decodeAppData(f.appData, this.offsetMinutes) : undefined;
    if (!decoded?.ok) {
      this.opts.log.warn({ serial: f.serial, command: f.command, reason: decoded?.reason ?? 'empty' }, 'GB/T 26875.3 command from the centre not understood: denied');
      return void reply(Command.deny);
    }
    const app = decoded.appData;
    if (f.command === Command.control) {
      switch (app.type) {
        case AppDataType.syncUitdClock: {
          const t = app.objects[0]?.time;
          if (!t) return void reply(Command.deny);
          this.clockOffsetMs = t.getTime() - this.opts.clock.now();
          reply(Command.confirm);
          this.opts.log.info({ offsetMs: this.clockOffsetMs }, 'GB/T 26875.3 clock sync from the centre applied to our time tags');
          return;
        }
        case AppDataType.initUitd:
          // nothing of ours to reset: the outbox is Firewatch's, not a device's memory
          reply(Command.confirm);
          this.opts.log.info('GB/T 26875.3 initialisation from the centre confirmed');
          return;
        case AppDataType.dutyCheck:
          reply(Command.confirm); // at once; the duty room answers the check itself
          this.opts.log.info({ serial: f.serial }, 'GB/T 26875.3 duty check (查岗) from the centre');
          this.opts.onDutyCheck?.({ serial: f.serial, at: this.opts.clock.now(), raw: app.objects[0]?.reserved ?? 0 });
          return;
      }
    } else {
      switch (app.type) {
        case AppDataType.readUitdStatus:
          return void respond({ type: 21, objects: [{ status: encodeUitdStatus({ normal: true }), time: this.now() }] });
        case AppDataType.readUitdSoftwareVersion:
          return void respond({ type: 25, objects: [this.opts.softwareVersion ?? { major: 1, minor: 0 }] });
        case AppDataType.readUitdConfig:
          return void respond({ type: 26, objects: [{ text: this.opts.configText ?? 'Firewatch' }] });
        case AppDataType.readUitdTime:
          return void respond({ type: 28, objects: [{ time: this.now() }] });
        case AppDataType.readSystemStatus:
        case AppDataType.readComponentStatus:
        case AppDataType.readAnalogValues:
        case AppDataType.readFacilityOperations:
        case AppDataType.readFacilitySoftwareVersion:
        case AppDataType.readFacilitySystemConfig:
        case AppDataType.readFacilityComponentConfig:
        case AppDataType.readFacilitySystemTime: {
          const devices = this.opts.facility;
          const answer =
            devices &&
            answerFacilityRead(app.type, app.objects[0]!, {
              devices,
              now: this.now(),
              version: this.opts.softwareVersion ?? { major: 1, minor: 0 },
              ...(this.opts.statusMap ? { statusMap: this.opts.statusMap } : {}),
            });
          if (answer) return void respond(answer);
          break; // nothing of ours there (or operation records, which we do not keep): deny
        }
      }
    }
    this.opts.log.warn({ serial: f.serial, command: f.command, type: app.type }, 'GB/T 26875.3 command from the centre not supported: denied');
    reply(Command.deny);
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.socket?.destroy();
    this.socket = undefined;
  }
}
