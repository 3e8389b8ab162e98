/**
 * One simulated device on the wire: an MQTT 3.1.1 connection (username = device id, password from
 * provisioning), readings on fire/v1/{id}/telemetry at QoS 1, the device's own flags on
 * fire/v1/{id}/event, an optional last will on fire/v1/{id}/status, and the faults a fleet shows
 * (DeviceControl). Readings are sampled at exact simulated times so they depend only on the seed.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { eventTopicFor, statusTopicFor, telemetryTopicFor } from '../services/telemetry/topics.js';
import type { EventFields, TelemetryFields } from './models/model.js';
import { Prng } from './prng.js';
import type { DeviceControl, DeviceSpec } from './scenario.js';

export interface SimStats {
  devices: number;
  connected: number;
  connectFailures: number;
  messagesSent: number;
  messagesAcked: number;
  publishErrors: number;
  readings: number;
  events: number;
  backlogFlushed: number;
  /** reconnects after the service closed the connection (a restart) */
  reconnects: number;
  faultsInjected: Record<string, number>;
}

export function newStats(devices: number): SimStats {
  return { devices, connected: 0, connectFailures: 0, messagesSent: 0, messagesAcked: 0, publishErrors: 0, readings: 0, events: 0, backlogFlushed: 0, reconnects: 0, faultsInjected: {} };
}

export interface RunnerEnv {
  mqttUrl: string;
  seed: number;
  stats: SimStats;
  /** epoch ms stamped on a reading sampled at simulated time t */
  tsFor(t: number): number;
  password(deviceId: string): string;
  /** the stored password was refused: get a new one (rotation) */
  renewPassword(deviceId: string): Promise<string>;
  log(line: string): void;
}

type Payload = Record<string, unknown>;
const MAX_BACKLOG = 1000;

/** Values no sensor of the kind can report (rejected as out_of_range, or schema for a lane). */
const OUT_OF_RANGE: Partial<Record<DeviceSpec['kind'], TelemetryFields>> = {
  water_pressure: { pressureMpa: 12.5 },
  water_level: { levelM: 999 },
  electrical_fire: { residualCurrentMa: 65_000 },
  fire_lane: { occupied: 2 as unknown as boolean },
};

export class DeviceRunner implements DeviceControl {
  private client: MqttClient | undefined;
  private link: 'down' | 'up' | 'lost' = 'down';
  private seq: number;
  private nextAt: number;
  private backlog: Payload[] = [];
  private stuck: TelemetryFields | undefined;
  private stuckWanted = false;
  private nextOutOfRange = false;
  private nextSkewS = 0;
  private nextDuplicate = false;
  private lastOccupied: boolean | undefined;

  constructor(
    readonly spec: DeviceSpec,
    private readonly env: RunnerEnv,
  ) {
    const rng = Prng.for(env.seed, `${spec.id}:phase`);
    // spread the fleet over the first interval, as devices powered up at different times are
    this.nextAt = Math.floor(rng.uniform(0, spec.reportIntervalS));
    // seq must not repeat across runs against the same service (a repeated seq is dropped)
    this.seq = Date.now() * 10;
  }

  get online(): boolean {
    return this.link === 'up';
  }

  async connect(): Promise<void> {
    try {
      this.client = await this.open(this.env.password(this.spec.id));
    } catch (err) {
      if ((err as { code?: number }).code !== 4) throw err;
      // bad user name or password: the state file is stale for this service; rotate once
      this.client = await this.open(await this.env.renewPassword(this.spec.id));
    }
    this.link = 'up';
    this.env.stats.connected++;
    this.client.on('close', () => {
      if (this.link === 'up') {
        // the service closed the connection (it restarted, or the network dropped): a real
        // device reconnects by itself, with a growing, jittered delay, and flushes its backlog
        this.link = 'lost';
        this.env.stats.connected--;
        this.autoReconnect(0);
      }
    });
  }

  private closing = false;
  private retry: NodeJS.Timeout | undefined;

  /** 1 s, 2 s, 4 s … up to 30 s, ±25 % so a fleet does not come back in lockstep. */
  private autoReconnect(attempt: number): void {
    if (this.closing || this.retry) return;
    const base = Math.min(30_000, 1000 * 2 ** attempt);
    const delay = base * (0.75 + Math.random() * 0.5);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.closing || this.link !== 'lost') return;
      this.reconnect();
      void this.pending?.then(() => {
        if (this.link === 'lost') this.autoReconnect(attempt + 1);
        else this.env.stats.reconnects++;
      });
    }, delay);
    this.retry.unref();
  }

  private open(password: string): Promise<MqttClient> {
    const { spec } = this;
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(this.env.mqttUrl, {
        clientId: spec.id,
        username: spec.id,
        password,
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
        ...(spec.will ? { will: { topic: statusTopicFor(spec.id), payload: Buffer.from('offline'), qos: 1 as const, retain: false } } : {}),
      });
      client.once('connect', () => {
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        resolve(client);
      });
      client.once('error', (err) => {
        this.env.stats.connectFailures++;
        client.end(true);
        reject(err);
      });
    });
  }

  /** Send whatever is due by simulated time t. */
  tick(t: number): void {
    const model = this.spec.model;
    if (model.peek) {
      // report on change (a lane turning occupied or free), besides the periodic report
      const occupied = model.peek(t).occupied as boolean;
      if (this.lastOccupied !== undefined && occupied !== this.lastOccupied) this.report(t, { occupied });
    }
    for (let n = 0; this.nextAt <= t && n < 100; n++) {
      const at = this.nextAt;
      this.nextAt += this.spec.reportIntervalS;
      this.report(at, this.sampleAt(at));
    }
    if (model.takeEvents) for (const e of model.takeEvents(t)) this.sendEvent(t, e);
  }

  private sampleAt(t: number): TelemetryFields {
    const fields = this.spec.model.sample(t);
    if (this.stuckWanted) return (this.stuck ??= fields);
    this.stuck = undefined;
    return fields;
  }

  private report(t: number, fields: TelemetryFields): void {
    if (typeof fields.occupied === 'boolean') this.lastOccupied = fields.occupied;
    let ts = this.env.tsFor(t);
    if (this.nextSkewS) {
      ts = Date.now() + this.nextSkewS * 1000;
      this.nextSkewS = 0;
    }
    const payload: Payload = { ts, seq: this.seq++, ...(this.nextOutOfRange ? (OUT_OF_RANGE[this.spec.kind] ?? fields) : fields) };
    this.nextOutOfRange = false;
    this.env.stats.readings++;
    if (this.link !== 'up') {
      if (this.link === 'lost') {
        this.backlog.push(payload);
        if (this.backlog.length > MAX_BACKLOG) this.backlog.shift();
      }
      return;
    }
    const body = JSON.stringify(payload);
    this.publish(telemetryTopicFor(this.spec.id), body);
    if (this.nextDuplicate) {
      this.nextDuplicate = false;
      this.publish(telemetryTopicFor(this.spec.id), body); // same seq: stored once
    }
  }

  private sendEvent(t: number, e: EventFields): void {
    this.env.stats.events++;
    if (this.link !== 'up') return;
    this.publish(eventTopicFor(this.spec.id), JSON.stringify({ ts: this.env.tsFor(t), seq: this.seq++, ...e }));
  }

  private publish(topic: string, body: string): void {
    const client = this.client;
    if (!client) return;
    this.env.stats.messagesSent++;
    client.publish(topic, body, { qos: 1 }, (err) => {
      if (err) this.env.stats.publishErrors++;
      else this.env.stats.messagesAcked++;
    });
  }

  private fault(name: string): void {
    this.env.stats.faultsInjected[name] = (this.env.stats.faultsInjected[name] ?? 0) + 1;
  }

  goOffline(): void {
    if (this.link !== 'up' || !this.client) return;
    this.fault('offline');
    this.link = 'lost';
    this.env.stats.connected--;
    const c = this.client;
    this.client = undefined;
    // a cut link, not a DISCONNECT: the broker sees the socket drop (and sends the will, if any)
    (c as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    c.end(true);
  }

  /** a reconnect in progress (the run waits for it before its summary) */
  pending: Promise<void> | undefined;

  reconnect(): void {
    if (this.link !== 'lost') return;
    this.link = 'down';
    this.pending = this.connect().then(
      () => {
        if (this.backlog.length === 0) return;
        const batch = this.backlog;
        this.backlog = [];
        this.env.stats.backlogFlushed += batch.length;
        this.publish(telemetryTopicFor(this.spec.id), JSON.stringify(batch));
      },
      (err: unknown) => {
        this.link = 'lost';
        this.env.log(`${this.spec.id}: reconnect failed: ${String(err)}`);
      },
    );
  }

  setStuck(stuck: boolean): void {
    if (stuck) this.fault('stuck');
    this.stuckWanted = stuck;
  }

  sendOutOfRange(): void {
    this.fault('out_of_range');
    this.nextOutOfRange = true;
  }

  sendMalformed(): void {
    if (this.link !== 'up') return;
    this.fault('malformed_json');
    this.publish(telemetryTopicFor(this.spec.id), `{"seq":${this.seq++},"value":`);
  }

  sendSkewed(skewS: number): void {
    this.fault('clock_skew');
    this.nextSkewS = skewS;
  }

  duplicateNext(): void {
    this.fault('duplicate');
    this.nextDuplicate = true;
  }

  tryWrongCredentials(): void {
    this.fault('wrong_credentials');
    const c = mqtt.connect(this.env.mqttUrl, {
      clientId: `${this.spec.id}-badpw`,
      username: this.spec.id,
      password: 'not-the-password',
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    c.on('error', () => c.end(true));
    c.on('connect', () => c.end(true)); // never expected
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    const c = this.client;
    this.client = undefined;
    if (this.link === 'up') this.env.stats.connected--;
    this.link = 'down';
    if (c) await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
  }
}
