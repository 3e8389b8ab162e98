/**
 * The one place where ingest outcomes are counted (Telegraf's Accumulator): metrics per kind and
 * reason, the device's live status, and a rejection log line at most once per device per interval
 * (a misconfigured sensor sending 10 bad messages a second must not flood the log).
 */
import type { Logger } from 'pino';
import type { DeviceStatusTracker } from '../devices/device-status.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RejectReason } from '../telemetry/telemetry.js';
import type { IngestContext } from './types.js';

export class Accumulator {
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly metrics: Metrics,
    private readonly status: DeviceStatusTracker,
    private readonly log: Logger,
    private readonly logIntervalMs: number,
    private readonly now: () => number,
  ) {}

  record(ctx: IngestContext): void {
    const { deviceId } = ctx.raw;
    const n = ctx.readings.length + ctx.rejections.length + ctx.duplicates;
    this.metrics.messagesReceived.inc(n === 0 ? 1 : n);
    if (ctx.duplicates > 0) this.metrics.duplicates.inc(ctx.duplicates);
    if (ctx.readings.length > 0) {
      let latest = ctx.readings[0]!;
      // one payload is one device on one channel: one labelled increment for all its readings
      this.acceptedCounter(latest.kind, latest.channel).inc(ctx.readings.length);
      for (const r of ctx.readings) {
        if (r.channel === 'telemetry' && (latest.channel !== 'telemetry' || r.ts >= latest.ts)) latest = r;
      }
      this.status.accepted(
        deviceId,
        latest.channel === 'telemetry' ? latest : undefined,
        ctx.readings.length,
      );
    } else if (ctx.duplicates > 0) {
      this.status.accepted(deviceId, undefined, 0);
    }
    for (const r of ctx.rejections) this.reject(deviceId, r.reason, r.detail);
    for (const f of ctx.fieldRejections) {
      this.metrics.fieldsRejected.inc({ kind: ctx.readings[0]?.kind ?? 'unknown', field: f.field });
      this.status.fieldRejected(deviceId, f.detail);
    }
  }

  /** labelled children resolved once per kind and channel: prom-client hashes labels on every labelled inc() */
  private readonly accepted = new Map<string, Map<string, { inc(n: number): void }>>();

  private acceptedCounter(kind: string, channel: string): { inc(n: number): void } {
    let byChannel = this.accepted.get(kind);
    if (!byChannel) this.accepted.set(kind, (byChannel = new Map()));
    let c = byChannel.get(channel);
    if (!c) byChannel.set(channel, (c = this.metrics.messagesAccepted.labels({ kind, channel })));
    return c;
  }

  reject(deviceId: string, reason: RejectReason, detail: string): void {
    this.metrics.rejected(reason);
    this.status.rejected(deviceId, reason, detail);
    const t = this.now();
    const last = this.lastLogged.get(deviceId);
    if (last !== undefined && t - last < this.logIntervalMs) {
      this.suppressed.set(deviceId, (this.suppressed.get(deviceId) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(deviceId) ?? 0;
    this.suppressed.delete(deviceId);
    this.lastLogged.set(deviceId, t);
    this.log.warn({ deviceId, reason, detail, suppressedSinceLast: suppressed }, 'message rejected');
  }
}
