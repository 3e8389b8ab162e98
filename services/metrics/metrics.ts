/**
 * Prometheus metrics (prom-client, one Registry per service instance so that several instances
 * in one test process do not share counters). Throughput goes here, not to the log.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RejectReason } from '../telemetry/telemetry.js';

export class Metrics {
  readonly registry = new Registry();

  readonly connections = new Gauge({ name: 'firewatch_mqtt_connections', help: 'MQTT clients connected now', registers: [this.registry] });
  readonly connectRefused = new Counter({
    name: 'firewatch_mqtt_connect_refused_total',
    help: 'CONNECTs refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly slowAuthChecks = new Counter({
    name: 'firewatch_mqtt_slow_auth_checks_total',
    help: 'CONNECTs checked against a legacy scrypt device hash (upgraded to the fast form on success), by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly packetsTooLarge = new Counter({
    name: 'firewatch_mqtt_packets_too_large_total',
    help: 'MQTT connections closed for a packet declared larger than its bound, by whether the CONNECT had been accepted',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly messagesReceived = new Counter({
    name: 'firewatch_messages_received_total',
    help: 'readings and events received (one MQTT payload may carry several)',
    registers: [this.registry],
  });
  readonly messagesAccepted = new Counter({
    name: 'firewatch_messages_accepted_total',
    help: 'readings and events durably accepted, by device kind and channel',
    labelNames: ['kind', 'channel'] as const,
    registers: [this.registry],
  });
  readonly messagesRejected = new Counter({
    name: 'firewatch_messages_rejected_total',
    help: 'messages rejected, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly fieldsRejected = new Counter({
    name: 'firewatch_fields_rejected_total',
    help: 'fields of accepted messages rejected on their own (one bad channel of an electrical-fire detector), by kind and field',
    labelNames: ['kind', 'field'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'firewatch_messages_duplicate_total',
    help: 'readings dropped as duplicates of an earlier seq',
    registers: [this.registry],
  });
  readonly stageSeconds = new Histogram({
    name: 'firewatch_stage_duration_seconds',
    help: 'time spent per pipeline stage per MQTT payload',
    labelNames: ['stage'] as const,
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly sinkBatches = new Counter({
    name: 'firewatch_sink_batches_total',
    help: 'batches written to a remote store, by sink and result',
    labelNames: ['sink', 'result'] as const,
    registers: [this.registry],
  });
  readonly sinkBatchSize = new Histogram({
    name: 'firewatch_sink_batch_size',
    help: 'readings per remote-store batch',
    labelNames: ['sink'] as const,
    buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000],
    registers: [this.registry],
  });
  readonly sinkDropped = new Counter({
    name: 'firewatch_sink_dropped_total',
    help: 'readings a remote store refused for good (non-retryable), by sink',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });
  readonly sinkBacklog = new Gauge({
    name: 'firewatch_sink_backlog',
    help: 'readings waiting on disk for a remote store',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });
  readonly sinkBacklogAge = new Gauge({
    name: 'firewatch_sink_backlog_age_seconds',
    help: 'age of the oldest reading waiting for a remote store',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  readonly retainStripped = new Counter({
    name: 'firewatch_mqtt_retain_stripped_total',
    help: 'device publishes with RETAIN set: the flag is stripped, the broker keeps no retained message',
    registers: [this.registry],
  });
  readonly storageErrors = new Counter({
    name: 'firewatch_storage_errors_total',
    help: 'storage operations that failed (the log append, processors, status and rule-state saves), by operation',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  readonly logAppendBatch = new Histogram({
    name: 'firewatch_log_append_batch_size',
    help: 'readings per log commit (group commit)',
    buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000],
    registers: [this.registry],
  });
  readonly processorLag = new Gauge({
    name: 'firewatch_processor_lag',
    help: 'readings in the log not yet processed, by consumer',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  /**
   * issue #15 item 4: an alert's clocks (services/alerts/alarm-clocks.ts), one series per span,
   * observed once per alert when the span's later clock is set; buckets around GB 50440's 3 s and 10 s
   */
  readonly alertSpanSeconds = new Histogram({
    name: 'firewatch_alert_span_seconds',
    help: 'time between two of an alert\'s clocks, by span (device_to_received … forwarded_to_confirmed, received_to_shown)',
    labelNames: ['span'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 180, 600],
    registers: [this.registry],
  });
  readonly alertClockLate = new Counter({
    name: 'firewatch_alert_clock_late_total',
    help: 'alert spans over their target (received_to_shown: ALERT_DISPLAY_TARGET_S, acknowledged_to_forwarded: ALERT_FORWARD_TARGET_S), each reported once per alert',
    labelNames: ['span'] as const,
    registers: [this.registry],
  });

  readonly liveClients = new Gauge({ name: 'firewatch_live_clients', help: 'live-feed WebSocket clients connected now', registers: [this.registry] });
  readonly liveClientsDropped = new Counter({
    name: 'firewatch_live_clients_dropped_total',
    help: 'live-feed clients disconnected for falling too far behind (they resume with since)',
    registers: [this.registry],
  });
  /** issue #12 items 10, 11: failed logins and bearer tokens, and attempts refused by the throttles */
  readonly authFailures = new Counter({
    name: 'firewatch_auth_failures_total',
    help: 'failed authentications (method login or bearer), by result: invalid (wrong credential) or throttled (429, not checked)',
    labelNames: ['method', 'result'] as const,
    registers: [this.registry],
  });

  /** platform uplink (issue #6): backlog read at scrape time from the uplink's status */
  uplinkStatus: (() => ReadonlyArray<{ name: string; backlog: number; oldestAgeS: number }>) | undefined;
  readonly uplinkBacklog: Gauge<'adapter'> = new Gauge({
    name: 'firewatch_uplink_backlog',
    help: 'items waiting in the uplink outbox, per adapter',
    labelNames: ['adapter'] as const,
    registers: [this.registry],
    collect: () => {
      for (const a of this.uplinkStatus?.() ?? []) this.uplinkBacklog.set({ adapter: a.name }, a.backlog);
    },
  });
  readonly uplinkBacklogAge: Gauge<'adapter'> = new Gauge({
    name: 'firewatch_uplink_backlog_age_seconds',
    help: 'age of the oldest item waiting for an uplink adapter',
    labelNames: ['adapter'] as const,
    registers: [this.registry],
    collect: () => {
      for (const a of this.uplinkStatus?.() ?? []) this.uplinkBacklogAge.set({ adapter: a.name }, a.oldestAgeS);
    },
  });
  readonly uplinkSent = new Counter({
    name: 'firewatch_uplink_sent_total',
    help: 'uplink items accepted by the platform, per adapter',
    labelNames: ['adapter'] as const,
    registers: [this.registry],
  });
  readonly uplinkRetries = new Counter({
    name: 'firewatch_uplink_retries_total',
    help: 'failed uplink deliveries that will be retried, per adapter',
    labelNames: ['adapter'] as const,
    registers: [this.registry],
  });
  readonly uplinkDeadLetters = new Counter({
    name: 'firewatch_uplink_dead_letters_total',
    help: 'uplink items moved to the dead-letter list (refused or too old), per adapter',
    labelNames: ['adapter'] as const,
    registers: [this.registry],
  });
  /** GB/T 26875.3 gateway frames by result (ok, heartbeat, denied_unknown_address, bad_checksum, …) */
  readonly gb26875Frames = new Counter({
    name: 'firewatch_gb26875_frames_total',
    help: 'GB/T 26875.3 frames received from UITDs, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly gb26875Connections = new Gauge({ name: 'firewatch_gb26875_connections', help: 'UITD TCP connections now', registers: [this.registry] });
  /** GB/T 26875.3 connections closed by the gateway's protection (issue #12): cap, peer_cap, idle, not_allowed */
  readonly gb26875Refused = new Counter({
    name: 'firewatch_gb26875_refused_total',
    help: 'GB/T 26875.3 connections refused or closed by the gateway, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /**
   * GB/T 26875.3 points (systems and components) whose last status has the disabled bit 屏蔽 (issue
   * #16 item 7), over all UITDs; per UITD and point: GET /api/v1/devices/{id}/gb26875. No device label:
   * one series per UITD would grow with the district.
   */
  readonly gb26875DisabledPoints = new Gauge({
    name: 'firewatch_gb26875_disabled_points',
    help: 'GB/T 26875.3 points currently reporting the disabled (屏蔽) bit, all UITDs',
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'firewatch_' });
  }

  rejected(reason: RejectReason, n = 1): void {
    this.messagesRejected.inc({ reason }, n);
  }

  /** Current value of a labelled counter (for the API and tests). */
  async counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
    const data = await counter.get();
    return data.values
      .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
