/**
 * Real platforms for uplink tests, one per adapter, each started on an ephemeral port (or again on
 * the port it had, after stop()):
 *   - UplinkReceiver: an HTTP platform (node:http). It accepts, fails (503), hangs (timeout) or
 *     refuses (400) on demand, and records every item it accepted, duplicates included.
 *   - MqttUplinkBroker: an MQTT broker (aedes in-process) that PUBACKs, or withholds the PUBACK, on
 *     demand, and records every item published to it.
 *   - MonitoringCentreReceiver: a GB/T 26875.3 monitoring centre (TCP, built on the codec) that
 *     confirms, denies or ignores data frames on demand, and records the app data it confirmed; it
 *     also sends the UITD its own commands (clock sync, duty check, reads) and collects the answers.
 * Each counts the connections open to it, so a test can see an adapter let go of them.
 */
import { Aedes, type Client } from 'aedes';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { Command, FrameSplitter, decodeAppData, decodeFrame, encodeAppData, encodeFrame, encodeReply, isHeartbeat, type AppDataInput, type Frame } from '../../services/protocols/gb26875/index.js';

export type ReceiverMode = 'ok' | 'fail' | 'hang' | 'reject';

export interface ReceivedBatch {
  headers: IncomingMessage['headers'];
  raw: string;
  body: any;
}

/** A server's connections: those open now, and how many it ever accepted. */
class Connections {
  readonly open = new Set<Socket>();
  opened = 0;

  watch(server: Server | TcpServer): void {
    server.on('connection', (s: Socket) => {
      this.opened++;
      this.open.add(s);
      s.on('close', () => this.open.delete(s));
    });
  }

  destroyAll(): void {
    for (const s of this.open) s.destroy();
  }
}

export class UplinkReceiver {
  mode: ReceiverMode = 'ok';
  /** refuse (400) any batch containing an item for which this returns true */
  poison: (item: any) => boolean = () => false;
  readonly accepted: ReceivedBatch[] = [];
  requests = 0;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  private readonly conns = new Connections();
  url = '';
  port = 0;

  /** Listen on `port` (default: an ephemeral one; after stop(), the same one again). */
  async start(port = this.port): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        this.requests++;
        if (this.mode === 'hang') {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        if (this.mode === 'fail') return void res.writeHead(503).end('maintenance');
        let body: any;
        try {
          body = JSON.parse(raw);
        } catch {
          return void res.writeHead(400).end('not json');
        }
        const items: any[] = body.items ?? body.records ?? [];
        if (this.mode === 'reject' || items.some((i) => this.poison(i))) return void res.writeHead(400).end('bad item');
        this.accepted.push({ headers: req.headers, raw, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    this.conns.watch(this.server);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/ingest`;
    return this.url;
  }

  /** every accepted item, in arrival order, duplicates included */
  items(): any[] {
    return this.accepted.flatMap((b) => b.body.items ?? b.body.records ?? []);
  }

  /** first arrival of each id, in arrival order */
  unique(): any[] {
    const seen = new Set<string>();
    return this.items().filter((i) => (seen.has(i.id) ? false : (seen.add(i.id), true)));
  }

  /** connections open to it now */
  connections(): number {
    return this.conns.open.size;
  }

  /** connections it ever accepted */
  opened(): number {
    return this.conns.opened;
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/** A remote MQTT broker (aedes, in-process) for the MQTT bridge. */
export class MqttUplinkBroker {
  private answer: 'ok' | 'silent' = 'ok';
  /** PUBACKs withheld while silent (aedes reads nothing more from that client until they are given) */
  private held: Array<() => void> = [];
  /** every message PUBACKed, in arrival order, duplicates included */
  readonly published: Array<{ topic: string; body: any }> = [];
  /** publishes received, answered or not */
  publishes = 0;
  private aedes: Aedes | undefined;
  private server: TcpServer | undefined;
  private readonly conns = new Connections();
  port = 0;
  url = '';

  async start(port = this.port): Promise<string> {
    const aedes = await Aedes.createBroker({
      authorizePublish: (_client: Client | null, packet, callback) => {
        this.publishes++;
        const accept = () => {
          this.published.push({ topic: packet.topic, body: JSON.parse(packet.payload.toString()) });
          callback(null);
        };
        // withheld: aedes sends no PUBACK until the callback
        if (this.answer === 'silent') this.held.push(accept);
        else accept();
      },
    });
    this.aedes = aedes;
    this.server = createTcpServer((s) => aedes.handle(s));
    this.conns.watch(this.server);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `mqtt://127.0.0.1:${this.port}`;
    return this.url;
  }

  /**
   * 'ok': PUBACK every publish; 'silent': withhold the PUBACKs (a broker that stopped answering).
   * Back to 'ok', the withheld ones are given late (a slow broker, not a lost message).
   */
  get mode(): 'ok' | 'silent' {
    return this.answer;
  }

  set mode(m: 'ok' | 'silent') {
    this.answer = m;
    if (m === 'ok') for (const accept of this.held.splice(0)) accept();
  }

  /** connections open to it now */
  connections(): number {
    return this.conns.open.size;
  }

  /** connections it ever accepted */
  opened(): number {
    return this.conns.opened;
  }

  async close(): Promise<void> {
    this.held = [];
    this.conns.destroyAll();
    const aedes = this.aedes;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.aedes = undefined;
    this.server = undefined;
  }
}

/** A GB/T 26875.3 monitoring centre for the uplink client. Heartbeats are always confirmed. */
export class MonitoringCentreReceiver {
  /**
   * 'confirm' every frame; 'deny' every data frame (the UITD status, type 21, is still confirmed:
   * the centre refuses the item, not the link); 'silent': answer no frame but heartbeats
   */
  mode: 'confirm' | 'deny' | 'silent' = 'confirm';
  /**
   * Per frame instead of `mode` (heartbeats are still confirmed): `firstAttempt` is false for a
   * resend of a serial number this connection has seen; 'drop' answers nothing.
   */
  policy: ((f: Frame, firstAttempt: boolean) => 'confirm' | 'deny' | 'drop') | undefined;
  /** every frame received, heartbeats included */
  readonly frames: Frame[] = [];
  /** data frames confirmed, in arrival order, duplicates (resends) included */
  readonly confirmed: Frame[] = [];
  /** data frames denied, and left unanswered, by `policy` */
  readonly denied: Frame[] = [];
  readonly dropped: Frame[] = [];
  /** what the UITD answered to the centre's own commands (confirm, response, deny), by serial */
  readonly answers: Frame[] = [];
  /** the centre's address, and where its commands go: the UITD's (from its last frame) */
  centreAddress = 654321;
  private lastSocket: Socket | undefined;
  private uitdAddress = 0;
  private server: TcpServer | undefined;
  private readonly conns = new Connections();
  port = 0;

  async start(port = this.port): Promise<number> {
    this.server = createTcpServer((s) => {
      s.on('error', () => undefined);
      const splitter = new FrameSplitter();
      const seen = new Set<number>();
      s.on('data', (c: Buffer) => {
        for (const o of splitter.push(c)) {
          if (o.kind !== 'frame') continue;
          const d = decodeFrame(o.frame);
          if (!d.ok) continue;
          const f = d.frame;
          this.lastSocket = s;
          this.uitdAddress = f.source;
          if (f.command === Command.confirm || f.command === Command.deny || f.command === Command.response) {
            this.answers.push(f); // the UITD answering one of our commands: never answered back
            continue;
          }
          this.frames.push(f);
          const first = !seen.has(f.serial);
          seen.add(f.serial);
          const status = MonitoringCentreReceiver.appDataType(f) === 21;
          const answer = isHeartbeat(f)
            ? 'confirm'
            : this.policy
              ? this.policy(f, first)
              : this.mode === 'deny' && status
                ? 'confirm'
                : this.mode;
          if (answer === 'silent') continue;
          if (answer === 'drop') {
            this.dropped.push(f);
            continue;
          }
          if (answer === 'deny') this.denied.push(f);
          if (answer === 'confirm' && !isHeartbeat(f) && !status) this.confirmed.push(f);
          s.write(encodeReply(f, answer === 'confirm' ? Command.confirm : Command.deny, new Date()));
        }
      });
    });
    this.conns.watch(this.server);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /**
   * Send the UITD on the latest connection a command (control 1 or request 4) with this app data
   * and serial; resolves with its answer (confirm, response or deny) of the same serial.
   */
  async command(command: typeof Command.control | typeof Command.request, data: AppDataInput, serial: number, timeoutMs = 3000): Promise<Frame> {
    const s = this.lastSocket;
    if (!s || s.destroyed) throw new Error('no UITD connected');
    const before = this.answers.length;
    s.write(
      encodeFrame({ serial, version: { major: 1, user: 0 }, time: new Date(), source: this.centreAddress, destination: this.uitdAddress, command, appData: encodeAppData(data) }),
    );
    const until = Date.now() + timeoutMs;
    for (;;) {
      const a = this.answers.slice(before).find((f) => f.serial === serial);
      if (a) return a;
      if (Date.now() > until) throw new Error(`no answer to serial ${serial} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Send raw bytes on the latest connection (an undecodable command). */
  write(bytes: Uint8Array): void {
    this.lastSocket?.write(bytes);
  }

  static appDataType(f: Frame): number | undefined {
    if (f.appData.length === 0) return undefined;
    const a = decodeAppData(f.appData);
    return a.ok ? a.appData.type : undefined;
  }

  /** the app-data objects of a type in the confirmed data frames, in arrival order */
  objects(type: number): any[] {
    return this.confirmed.flatMap((f) => {
      const a = decodeAppData(f.appData);
      return a.ok && a.appData.type === type ? (a.appData.objects as any[]) : [];
    });
  }

  /** component status objects (type 2) of every frame received, answered or not, in arrival order */
  components(): any[] {
    return this.frames.flatMap((f) => {
      const a = decodeAppData(f.appData);
      return a.ok && a.appData.type === 2 ? (a.appData.objects as any[]) : [];
    });
  }

  /** data frames received (not heartbeats, not our UITD status), answered or not */
  dataFrames(): Frame[] {
    return this.frames.filter((f) => !isHeartbeat(f) && MonitoringCentreReceiver.appDataType(f) !== 21);
  }

  /** connections open to it now */
  connections(): number {
    return this.conns.open.size;
  }

  /** connections it ever accepted */
  opened(): number {
    return this.conns.opened;
  }

  async close(): Promise<void> {
    this.conns.destroyAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}
