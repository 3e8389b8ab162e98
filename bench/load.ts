/**
 * Load generators.
 *  - FloodLoad: N mqtt.js clients publishing a ~150-byte JSON reading as fast as the broker takes
 *    it, with a window of unacknowledged publishes per client (QoS 1: PUBACKs; QoS 0: writes).
 *  - PacedLoad: N mqtt.js clients at a fixed total rate (QoS 1), the background for latency.
 *  - RawFleet: many light connections (hand-built MQTT 3.1.1 packets on plain sockets, no
 *    mqtt.js objects: 20,000 of those would cost the generator more memory and CPU than the
 *    service), each publishing every `everyS` seconds; source addresses spread over 127.0.0.x
 *    (localAddress) so ephemeral ports cannot run out.
 */
import { connect as netConnect, type Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';

export interface Creds {
  username: string;
  password: string;
}

/**
 * ~150 bytes, like a real reading; seq makes each one new for the service's dedupe. `ts` must
 * differ per device too: InfluxDB keeps one point per series and millisecond (see tsFor).
 */
export function reading(seq: number, ts = Date.now()): string {
  return `{"ts":${ts},"seq":${seq},"kind":"water_pressure","pressureMpa":0.31${seq % 10},"note":"bench load reading from a simulated hydrant top sensor"}`;
}

/** A per-device clock that never repeats a millisecond (fast publishers run slightly ahead). */
export class DeviceClocks {
  private last: number[] = [];
  tsFor(i: number): number {
    const t = Math.max(Date.now(), (this.last[i] ?? 0) + 1);
    this.last[i] = t;
    return t;
  }
}

export function connectClient(url: string, c: Creds | undefined, clientId: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId,
      ...(c ? { username: c.username, password: c.password } : {}),
      protocolVersion: 4,
      reconnectPeriod: 0,
      keepalive: 120,
      connectTimeout: 30_000,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

export async function connectMany(url: string, creds: (Creds | undefined)[], prefix: string): Promise<MqttClient[]> {
  const out: MqttClient[] = [];
  for (let i = 0; i < creds.length; i += 50) {
    out.push(...(await Promise.all(creds.slice(i, i + 50).map((c, j) => connectClient(url, c, `${prefix}-${i + j}`)))));
  }
  return out;
}

export function endAll(clients: MqttClient[]): Promise<void> {
  return Promise.all(clients.map((c) => new Promise<void>((r) => c.end(true, {}, () => r())))).then(() => undefined);
}

/**
 * QoS 0 has no acknowledgement, so a broker that falls behind queues what it has read in memory
 * (aedes keeps reading the socket while authorizePublish is pending). With `handled` given, the
 * generator keeps at most `maxAhead` messages beyond what the target reports handled (polled every
 * 100 ms), so a slower target is measured at its own pace instead of growing a queue that would
 * spill into the next phase.
 */
export class FloodLoad {
  acked = 0;
  errors = 0;
  private running = false;
  private seq = Date.now() * 10;
  private paused: (() => void)[] = [];
  private ahead = 0;
  private poll: NodeJS.Timeout | undefined;
  private readonly clocks = new DeviceClocks();

  constructor(
    private readonly clients: MqttClient[],
    private readonly topics: string[],
    private readonly qos: 0 | 1,
    private readonly window = 16,
    private readonly handled?: () => Promise<number>,
    private readonly maxAhead = 20_000,
  ) {}

  start(): void {
    this.running = true;
    if (this.qos === 0 && this.handled) {
      const handled = this.handled;
      let base: number | undefined;
      const tick = async () => {
        const h = await handled().catch(() => undefined);
        if (h !== undefined) {
          base ??= h - this.acked;
          this.ahead = this.acked - (h - base);
          if (this.ahead < this.maxAhead) for (const resume of this.paused.splice(0)) resume();
        }
        if (this.running) this.poll = setTimeout(() => void tick(), 100);
      };
      void tick();
    }
    this.clients.forEach((c, i) => {
      for (let w = 0; w < this.window; w++) this.next(c, i);
    });
  }

  private next(c: MqttClient, i: number): void {
    if (!this.running) return;
    if (this.qos === 0 && this.handled && this.ahead >= this.maxAhead) {
      this.paused.push(() => this.next(c, i));
      return;
    }
    c.publish(this.topics[i]!, reading(this.seq++, this.clocks.tsFor(i)), { qos: this.qos }, (err) => {
      if (err) this.errors++;
      else this.acked++;
      if (this.qos === 0) {
        this.ahead++;
        setImmediate(() => this.next(c, i));
      } else this.next(c, i);
    });
  }

  /** stop publishing and wait for the outstanding acknowledgements */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.poll);
    this.paused = [];
    await new Promise((r) => setTimeout(r, 500));
  }
}

export class PacedLoad {
  sent = 0;
  acked = 0;
  private timer: NodeJS.Timeout | undefined;
  private seq = Date.now() * 10 + 5_000_000;
  private readonly clocks = new DeviceClocks();

  constructor(
    private readonly clients: MqttClient[],
    private readonly topics: string[],
    private readonly totalPerS: number,
  ) {}

  start(): void {
    const t0 = Date.now();
    let due = 0;
    let k = 0;
    this.timer = setInterval(() => {
      const target = Math.floor(((Date.now() - t0) / 1000) * this.totalPerS);
      for (; due < target; due++) {
        const i = k++ % this.clients.length;
        this.sent++;
        this.clients[i]!.publish(this.topics[i]!, reading(this.seq++, this.clocks.tsFor(i)), { qos: 1 }, (err) => {
          if (!err) this.acked++;
        });
      }
    }, 5);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// ---- raw MQTT 3.1.1 packets (MQTT 3.1.1 §3.1 CONNECT, §3.3 PUBLISH) ------------------------

function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

const str = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

export function connectPacket(clientId: string, username: string, password: string, keepaliveS: number): Buffer {
  const vh = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, keepaliveS >> 8, keepaliveS & 0xff])]); // clean, user, password
  const body = Buffer.concat([vh, str(clientId), str(username), str(password)]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

export function publishPacket(topic: string, payload: string, packetId: number): Buffer {
  const id = Buffer.from([packetId >> 8, packetId & 0xff]);
  const body = Buffer.concat([str(topic), id, Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x32]), remainingLength(body.length), body]); // QoS 1
}

export interface RawFleetStats {
  connected: number;
  refused: number;
  errors: number;
  published: number;
  acked: number;
}

/** Many light MQTT connections, each publishing every `everyS` seconds (QoS 1). */
export class RawFleet {
  readonly stats: RawFleetStats = { connected: 0, refused: 0, errors: 0, published: 0, acked: 0 };
  private sockets: Socket[] = [];
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly port: number,
    private readonly sourceAddresses: string[],
  ) {}

  /** connect `devices` (username = id, shared password), `parallel` handshakes at a time */
  async connect(devices: string[], password: string, everyS: number, parallel = 200): Promise<void> {
    let next = 0;
    const one = (id: string, n: number) =>
      new Promise<void>((resolve) => {
        const sock = netConnect({ host: '127.0.0.1', port: this.port, localAddress: this.sourceAddresses[n % this.sourceAddresses.length] });
        let pid = 1;
        let seq = Date.now() * 10;
        let done = false;
        const finish = () => {
          if (!done) {
            done = true;
            resolve();
          }
        };
        sock.setNoDelay(true);
        sock.on('error', () => {
          this.stats.errors++;
          finish();
        });
        sock.on('close', () => {
          if (done && this.stats.connected > 0 && (sock as Socket & { fwUp?: boolean }).fwUp) this.stats.connected--;
          finish();
        });
        sock.on('data', (buf: Buffer) => {
          // CONNACK (0x20) and PUBACKs (0x40); packets are small and usually whole
          for (let i = 0; i + 1 < buf.length; ) {
            const type = buf[i]! >> 4;
            const len = buf[i + 1]!;
            if (type === 2) {
              if (buf[i + 3] === 0) {
                (sock as Socket & { fwUp?: boolean }).fwUp = true;
                this.stats.connected++;
                const topic = `fire/v1/${id}/telemetry`;
                const send = () => {
                  this.stats.published++;
                  seq++;
                  sock.write(publishPacket(topic, reading(seq), pid));
                  pid = pid === 65535 ? 1 : pid + 1;
                };
                const phase = setTimeout(() => {
                  send();
                  this.timers.push(setInterval(send, everyS * 1000));
                }, Math.random() * everyS * 1000);
                this.timers.push(phase);
              } else this.stats.refused++;
              finish();
            } else if (type === 4) this.stats.acked++;
            i += 2 + len;
          }
        });
        sock.write(connectPacket(id, id, password, Math.max(everyS * 3, 60)));
        this.sockets.push(sock);
      });
    const worker = async () => {
      while (next < devices.length) {
        const n = next++;
        await one(devices[n]!, n);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    this.sockets = [];
  }
}
