/**
 * The ingest pipeline. One MQTT payload goes through these stages, in this order:
 *
 *   device ──MQTT──► broker (authenticated client, topic ACL checked)
 *                      │  RawMessage { deviceId, channel, payload, receivedAt }
 *                      ▼
 *   ┌─────────┐  ┌────────┐  ┌──────────┐  ┌────────┐  ┌────────┐  ┌─────────┐  ┌────────┐
 *   │  limit  │─►│ decode │─►│ validate │─►│ dedupe │─►│ enrich │─►│ rules…  │─►│  sink  │
 *   └─────────┘  └────────┘  └──────────┘  └────────┘  └────────┘  └─────────┘  └────────┘
 *   too_large    bad_json    schema         duplicate   building,   raise /      durable on
 *   rate_limited             unknown_kind   seq →       street,     update /     disk (and its
 *   unknown_device           out_of_range   counted     point       clear        commit hooks:
 *                            future_ts                              alerts       uplink), PUBACK
 *
 * The rules stage is injected (services/alerts/rule-runner.ts) so the pipeline knows nothing of alerts.
 *
 * Bad input is a value: a stage moves rejected messages to `ctx.rejections` and the rest go on,
 * so one bad reading in a backlog array never drops the good readings beside it. Only the sink
 * can fail the whole payload (storage down), in which case the broker does not acknowledge it.
 */
import type { Logger } from 'pino';
import type { DeviceRegistry } from '../devices/registry.js';
import type { DeviceStatusTracker } from '../devices/device-status.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReadingSink } from '../sinks/sink.js';
import { validateMessage, type Channel, type Reading, type RejectReason } from '../telemetry/telemetry.js';
import { Accumulator } from './accumulator.js';
import { SeqDeduper } from './seq-deduper.js';
import { TokenBuckets } from './token-buckets.js';

export interface RawMessage {
  deviceId: string;
  channel: Channel;
  payload: Buffer;
  receivedAt: number;
}

export interface Rejection {
  reason: RejectReason;
  detail: string;
}

export interface IngestContext {
  raw: RawMessage;
  /** decoded message objects, before validation */
  messages: unknown[];
  readings: Reading[];
  rejections: Rejection[];
  duplicates: number;
}

export interface IngestResult {
  accepted: Reading[];
  rejections: Rejection[];
  duplicates: number;
}

export interface Stage {
  readonly name: string;
  run(ctx: IngestContext): void | Promise<void>;
}

export interface PipelineDeps {
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
  sink: ReadingSink;
  metrics: Metrics;
  log: Logger;
  limits: {
    maxPayloadBytes: number;
    deviceRatePerS: number;
    deviceRateBurst: number;
    maxClockSkewS: number;
    rejectLogIntervalS: number;
  };
  /** stages inserted between enrich and sink (the rules stage of issue #3) */
  ruleStages?: Stage[];
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
  const deduper = new SeqDeduper(now);

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
      const kind = deps.registry.context(ctx.raw.deviceId)?.device.kind;
      if (!kind) return;
      const opts = { now: ctx.raw.receivedAt, maxClockSkewMs: deps.limits.maxClockSkewS * 1000 };
      for (const m of ctx.messages) {
        const r = validateMessage(kind, ctx.raw.channel, ctx.raw.deviceId, m, opts);
        if (r.ok) {
          r.reading.receivedAt = ctx.raw.receivedAt;
          ctx.readings.push(r.reading);
        } else ctx.rejections.push({ reason: r.reason, detail: r.detail });
      }
      ctx.messages = [];
    },
  };

  const dedupe: Stage = {
    name: 'dedupe',
    run(ctx) {
      const before = ctx.readings.length;
      ctx.readings = ctx.readings.filter((r) => !deduper.isDuplicate(r));
      ctx.duplicates += before - ctx.readings.length;
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

  const sink: Stage = {
    name: 'sink',
    async run(ctx) {
      if (ctx.readings.length > 0) await deps.sink.accept(ctx.readings);
    },
  };

  return [limit, decode, validate, dedupe, enrich, ...(deps.ruleStages ?? []), sink];
}

export class Pipeline {
  readonly stages: readonly Stage[];
  private readonly stageTimers: ReadonlyArray<{ observe(seconds: number): void }>;
  private readonly acc: Accumulator;

  constructor(private readonly deps: PipelineDeps) {
    this.stages = buildStages(deps);
    // labelled children resolved once: prom-client hashes the labels on every labelled observe()
    this.stageTimers = this.stages.map((stage) => deps.metrics.stageSeconds.labels({ stage: stage.name }));
    this.acc = new Accumulator(deps.metrics, deps.status, deps.log, deps.limits.rejectLogIntervalS * 1000, deps.now ?? Date.now);
  }

  /** Run one payload through every stage. Rejects only when the sink could not make it durable. */
  async ingest(message: Omit<RawMessage, 'receivedAt'> & { receivedAt?: number }): Promise<IngestResult> {
    const raw: RawMessage = { ...message, receivedAt: message.receivedAt ?? (this.deps.now ?? Date.now)() };
    const ctx: IngestContext = { raw, messages: [], readings: [], rejections: [], duplicates: 0 };
    for (let i = 0; i < this.stages.length; i++) {
      const t0 = performance.now();
      const p = this.stages[i]!.run(ctx);
      if (p) await p;
      this.stageTimers[i]!.observe((performance.now() - t0) / 1000);
    }
    this.acc.record(ctx);
    return { accepted: ctx.readings, rejections: ctx.rejections, duplicates: ctx.duplicates };
  }

  /** Record a rejection decided outside the pipeline (topic ACL at the broker edge). */
  rejectOutside(deviceId: string, reason: RejectReason, detail: string): void {
    this.acc.reject(deviceId, reason, detail);
  }
}
