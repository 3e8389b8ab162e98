/**
 * GB/T 26875.3 uplink client: Firewatch acts as a user information transmission device (UITD)
 * towards a monitoring centre over TCP (UPLINK_GB26875_ADDR), as an UplinkAdapter.
 *
 *   connect ─► serial := 0 ─► UITD status (type 21, "normal monitoring")
 *   every heartbeatMs: command 2 with empty app data (fact 8)
 *   each item ─► app data (gb26875-mapping.ts, status bits: gb26875-status-map.ts) ─► command 2 frame ─► wait for command 3 with the same serial
 *                 deny (6) or no answer within timeoutMs ─► resend, at most `retries` times (fact 4: 10 s, 3)
 *
 * Outcome per exchange: confirmed → next; every attempt timed out → retryable failure (the link is
 * dropped and rebuilt on the next send); every attempt denied → the centre refuses the frame → the
 * item is dead-lettered. Time tags are UTC+8 (fact 15) through the codec.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { UplinkError, type StoredUplinkItem, type UplinkAdapter } from '../model.js';
import { encodeAppData, type AppDataInput } from '../../protocols/gb26875/app-data.js';
import { FrameSplitter } from '../../protocols/gb26875/frame-splitter.js';
import { Command, decodeFrame, encodeFrame, type ProtocolVersion } from '../../protocols/gb26875/frame.js';
import { encodeUitdStatus } from '../../protocols/gb26875/tables.js';
import type { StatusMap } from './gb26875-status-map.js';
import { appDataForItem } from './gb26875-mapping.js';

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

  constructor(private readonly opts: Gb26875ClientOptions) {}

  start(): void {
    this.heartbeat = setInterval(() => {
      if (!this.socket || this.closed) return;
      this.serialised(() => this.exchange(new Uint8Array(0))).catch(() => {
        /* a lost heartbeat drops the link; the next send reconnects */
      });
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
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
          }
          // control commands and queries from the centre (time sync, duty check) are not served yet
        }
      });
      s.on('close', () => {
        if (this.socket === s) this.socket = undefined;
        if (this.linkUp && !this.closed) this.opts.log.warn('GB/T 26875.3 monitoring centre disconnected; items wait in the outbox');
        this.linkUp = false;
      });
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting.then(async (s) => {
      // announce our own state first on every new link (type 21, bit0 "normal monitoring")
      if (this.serial === 0) {
        const status = encodeAppData({ type: 21, objects: [{ status: encodeUitdStatus({ normal: true }), time: new Date(this.opts.clock.now()) }] });
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
      const frame = encodeFrame({
        serial,
        version: this.version(),
        time: new Date(this.opts.clock.now()),
        source: this.opts.sourceAddress,
        destination: this.opts.destinationAddress,
        command: Command.send_data,
        appData,
      });
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
      const bytes = encodeAppData(unit);
      await this.serialised(() => this.exchange(bytes));
    }
  }

  close(): void {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.socket?.destroy();
    this.socket = undefined;
  }
}
