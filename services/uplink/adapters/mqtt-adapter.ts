/**
 * MQTT bridge: each item is published with QoS 1 to a remote broker (UPLINK_MQTT_URL) on a topic
 * from the template UPLINK_MQTT_TOPIC, e.g. `yuzhong/fire/{type}/{buildingId}`. A batch counts as
 * delivered when the broker sent PUBACK for every message. While the broker is unreachable the
 * batch fails (retryable) instead of piling up in mqtt.js's memory: the outbox on disk is the queue.
 *
 * Placeholders: {type} {deviceId} {buildingId} {street} {id}; a missing value becomes `_`, and
 * MQTT wildcards or separators inside a value are replaced, so a value never adds a topic level.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { canonicalItem } from '../mapping.js';
import { UPLINK_FORMAT, UplinkError, type StoredUplinkItem, type UplinkAdapter, type UplinkItem } from '../model.js';

export interface MqttAdapterOptions {
  url: string;
  topic: string;
  /** waiting for one PUBACK longer than this fails the batch (retryable) */
  timeoutMs: number;
  log: Logger;
  clientOptions?: IClientOptions;
}

const PLACEHOLDER = /\{(type|deviceId|buildingId|street|id)\}/g;

export function renderTopic(template: string, item: UplinkItem): string {
  return template.replace(PLACEHOLDER, (_m, key: 'type' | 'deviceId' | 'buildingId' | 'street' | 'id') => {
    const v = item[key];
    if (v === null || v === '') return '_';
    return v.replace(/[/+#]/g, '_').split(String.fromCharCode(0)).join('_');
  });
}

export class MqttUplinkAdapter implements UplinkAdapter {
  readonly name = 'mqtt';
  readonly maxBatch = 50;
  private client: MqttClient | undefined;
  private wasConnected = false;
  private closed = false;
  /** publishes waiting for their PUBACK: close() ends them (the uplink's shutdown waits for the send) */
  private readonly waiting = new Set<(err?: UplinkError) => void>();

  constructor(private readonly opts: MqttAdapterOptions) {}

  start(): void {
    this.client = mqtt.connect(this.opts.url, {
      clientId: `firewatch-uplink-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      // the outbox is the queue: never buffer in memory while offline
      queueQoSZero: false,
      ...this.opts.clientOptions,
    });
    this.client.on('connect', () => {
      this.wasConnected = true;
      this.opts.log.info({ url: this.opts.url }, 'uplink MQTT broker connected');
    });
    this.client.on('offline', () => {
      if (this.wasConnected) this.opts.log.warn({ url: this.opts.url }, 'uplink MQTT broker unreachable; items wait in the outbox');
      this.wasConnected = false;
    });
    this.client.on('error', () => {
      /* reported through 'offline' and failed sends; mqtt.js reconnects by itself */
    });
  }

  async send(items: readonly StoredUplinkItem[]): Promise<void> {
    const client = this.client;
    if (this.closed) throw new UplinkError('the MQTT uplink is closed', true);
    if (!client?.connected) throw new UplinkError(`MQTT broker ${this.opts.url} not connected`, true);
    // in order: one PUBACK before the next publish keeps the remote order per device
    for (const item of items) {
      const body = JSON.stringify({ version: UPLINK_FORMAT, ...canonicalItem(item) });
      await new Promise<void>((resolve, reject) => {
        const done = (err?: UplinkError) => {
          clearTimeout(timer);
          this.waiting.delete(done);
          if (err) reject(err);
          else resolve();
        };
        const timer = setTimeout(() => done(new UplinkError(`no PUBACK within ${this.opts.timeoutMs} ms`, true)), this.opts.timeoutMs);
        this.waiting.add(done);
        client.publish(renderTopic(this.opts.topic, item), body, { qos: 1 }, (err) => done(err ? new UplinkError(`publish failed: ${err.message}`, true, { cause: err }) : undefined));
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const done of [...this.waiting]) done(new UplinkError('the MQTT uplink closed while waiting for a PUBACK', true));
    const c = this.client;
    if (!c) return;
    await new Promise<void>((resolve) => c.end(true, {}, () => resolve()));
  }
}
