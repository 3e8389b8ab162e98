/**
 * The accept path. One MQTT payload goes through these stages, in this order, before the broker
 * may acknowledge it; nothing else waits on the PUBACK:
 *
 *   device ──MQTT──► broker (authenticated client, topic ACL checked)
 *                      │  RawMessage { deviceId, channel, payload, receivedAt }
 *                      ▼
 *   ┌─────────┐  ┌────────┐  ┌──────────┐  ┌────────┐  ┌──────────────────────────┐
 *   │  limit  │─►│ decode │─►│ validate │─►│ enrich │─►│ append to the reading log │─► PUBACK
 *   └─────────┘  └────────┘  └──────────┘  └────────┘  └──────────────────────────┘
 *   too_large    bad_json    schema        building,   durable (group commit on the log's
 *   rate_limited             unknown_kind  street,     writer thread); a reading the log
 *   unknown_device           out_of_range  point       already holds is a duplicate, decided
 *                            future_ts                 by that same write
 *
 *   reading log ──► processors (services/processors/): rules → alerts → live feed, uplink items;
 *               └─► store forwarder: InfluxDB          each from its own saved position
 *
 * Bad input is a value: a stage moves rejected messages to `ctx.rejections` and the rest go on,
 * so one bad reading in a backlog array never drops the good readings beside it. Only the append
 * can fail the whole payload (storage failing), and then the broker does not acknowledge it.
 * Nothing is remembered before the append commits: counters and device status are updated after.
 */
import type { Logger } from 'pino';
import type { DeviceRegistry } from '../devices/registry.js';
import type { DeviceStatusTracker } from '../devices/device-status.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReadingLog } from '../log/reading-log.js';
import { measuringRange } from '../devices/measuring-range.js';
import { validateMessage, type RejectReason } from '../telemetry/telemetry.js';
import { Accumulator } from './accumulator.js';
import { TokenBuckets } from './token-buckets.js';
import type { IngestContext, IngestResult, RawMessage } from './types.js';

export interface Stage {
  readonly name: string;
  run(ctx: IngestContext): void | Promise<void>;
}

export interface PipelineDeps {
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
  log: ReadingLog;
  metrics: Metrics;
  logger: Logger;
  limits: {
    maxPayloadBytes: number;
    deviceRatePerS: number;
    deviceRateBurst: number;
    maxClockSkewS: number;
    rejectLogIntervalS: number;
  };
  now?: () => number;
}

const stop = (ctx: IngestContext, reason: RejectReason, detail: string) => {
  ctx.rejections.push({ reason, detail });
  ctx.messages = [];
  ctx.readings = [];
};

export function buildStages(deps: PipelineDeps): Stage[] {
  const now = deps.now ?? Date.now;
  const buckets = new TokenBuckets(deps.limits.deviceRatePerS, deps.limits.deviceRateBurst, now);

  const limit: Stage = {
    name: 'limit',
    run(ctx) {
      const { raw } = ctx;
      if (!deps.registry.context(raw.deviceId)) return stop(ctx, 'unknown_device', `device ${raw.deviceId} is not registered`);
      if (raw.payload.length > deps.limits.maxPayloadBytes) {
        return stop(ctx, 'too_large', `payload of ${raw.payload.length} bytes exceeds ${deps.limits.maxPayloadBytes}`);
      }
      if (!buckets.take(raw.deviceId)) {
        return stop(ctx, 'rate_limited', `more than ${deps.limits.deviceRatePerS}/s (burst ${deps.limits.deviceRateBurst})`);
      }
    },
  };

  const decode: Stage = {
    name: 'decode',
    run(ctx) {
      if (ctx.rejections.length > 0) return;
      let value: unknown;
      try {
        value = JSON.parse(ctx.raw.payload.toString('utf8'));
      } catch (err) {
        return stop(ctx, 'bad_json', err instanceof Error ? err.message : 'not JSON');
      }
      if (Array.isArray(value)) {
        if (value.length === 0) return stop(ctx, 'schema', 'empty array');
        ctx.messages = value;
      } else if (typeof value === 'object' && value !== null) {
        ctx.messages = [value];
      } else {
        stop(ctx, 'schema', 'payload must be a JSON object or an array of objects');
      }
    },
  };

  const validate: Stage = {
    name: 'validate',
    run(ctx) {
      const device = deps.registry.context(ctx.raw.deviceId)?.device;
      if (!device) return;
      const kind = device.kind;
      const range = measuringRange(device);
      const opts = { now: ctx.raw.receivedAt, maxClockSkewMs: deps.limits.maxClockSkewS * 1000, ...(range ? { range } : {}) };
      for (const m of ctx.messages) {
        const r = validateMessage(kind, ctx.raw.channel, ctx.raw.deviceId, m, opts);
        if (r.ok) {
          r.reading.receivedAt = ctx.raw.receivedAt;
          ctx.readings.push(r.reading);
          if (r.rejectedFields) ctx.fieldRejections.push(...r.rejectedFields);
        } else ctx.rejections.push({ reason: r.reason, detail: r.detail });
      }
      ctx.messages = [];
    },
  };

  const enrich: Stage = {
    name: 'enrich',
    run(ctx) {
      const c = deps.registry.context(ctx.raw.deviceId);
      if (!c) return;
      for (const r of ctx.readings) {
        r.buildingId = c.device.buildingId;
        if (c.building) r.street = c.building.street;
        if (c.device.point) r.point = c.device.point;
      }
    },
  };

  const append: Stage = {
    name: 'append',
    async run(ctx) {
      if (ctx.readings.length === 0) return;
      const r = await deps.log.append(ctx.readings);
      ctx.readings = r.appended;
      ctx.duplicates += r.duplicates;
    },
  };

  return [limit, decode, validate, enrich, append];
}

export class Pipeline {
  readonly stages: readonly Stage[];
  private readonly stageTimers: ReadonlyArray<{ observe(seconds: number): void }>;
  private readonly acc: Accumulator;
  private sampled = 0;

  constructor(private readonly deps: PipelineDeps) {
    this.stages = buildStages(deps);
    // labelled children resolved once: prom-client hashes the labels on every labelled observe()
    this.stageTimers = this.stages.map((stage) => deps.metrics.stageSeconds.labels({ stage: stage.name }));
    this.acc = new Accumulator(deps.metrics, deps.status, deps.logger, deps.limits.rejectLogIntervalS * 1000, deps.now ?? Date.now);
  }

  /** Run one payload through every stage. Rejects only when the log could not make it durable. */
  async ingest(message: Omit<RawMessage, 'receivedAt'> & { receivedAt?: number }): Promise<IngestResult> {
    const raw: RawMessage = { ...message, receivedAt: message.receivedAt ?? (this.deps.now ?? Date.now)() };
    const ctx: IngestContext = { raw, messages: [], readings: [], rejections: [], fieldRejections: [], duplicates: 0 };
    // stage timings are a sample (1 payload in 16): the histogram is for where time goes, and
    // observing five histograms per message was a measurable share of the accept path
    const timed = (this.sampled++ & 15) === 0;
    for (let i = 0; i < this.stages.length; i++) {
      const t0 = timed ? performance.now() : 0;
      const p = this.stages[i]!.run(ctx);
      if (p) await p;
      if (timed) this.stageTimers[i]!.observe((performance.now() - t0) / 1000);
    }
    this.acc.record(ctx);
    return { accepted: ctx.readings, rejections: ctx.rejections, duplicates: ctx.duplicates };
  }

  /** Record a rejection decided outside the pipeline (topic ACL at the broker edge). */
  rejectOutside(deviceId: string, reason: RejectReason, detail: string): void {
    this.acc.reject(deviceId, reason, detail);
  }
}
