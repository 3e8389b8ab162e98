/**
 * Runs the pure RuleEngine inside the service:
 *  - as a log processor (services/processors/log-processors.ts), once per durable reading, in log
 *    order, inside the batch's transaction (so a replay after a crash changes nothing);
 *  - on a clock tick, for what time alone decides: a condition held `forS` without a new
 *    message (a lane reported occupied once), a clear held `clearS`, lane re-alerts, and
 *    `device_offline` (no message for 3 × reportIntervalS);
 *  - on a device's last will (`fire/v1/{id}/status` with "offline").
 *
 * After a restart nobody is "offline" merely because the service was down: the silence is
 * measured from the later of the device's last message and the service start. If the service
 * itself was down longer than `outageAlertS`, one `service_outage` alert says so instead of a
 * storm of device alerts.
 */
import type { Logger } from 'pino';
import type { DeviceStatusTracker } from '../devices/device-status.js';
import type { Building, Device } from '../devices/model.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Processor } from './log-processors.js';
import type { Reading } from '../telemetry/telemetry.js';
import type { RuleEngine, RuleOutcome } from '../rules/rule-engine.js';
import type { RuleStateStore } from '../rules/rule-state-store.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { TestWindows } from '../devices/test-windows.js';

export interface RuleRunnerDeps {
  engine: RuleEngine;
  states: RuleStateStore;
  alerts: AlertService;
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
  clock: Clock;
  log: Logger;
  /** when the service last said it was alive (epoch ms), read at start; undefined on first start */
  lastAliveAt: number | undefined;
  /** persist "alive now" */
  markAlive: (t: number) => void;
  tickMs?: number;
  outageAlertS?: number;
  /** a tick that failed (storage failing: it is retried on the next tick) */
  onTickError?: (err: unknown) => void;
  onTickOk?: () => void;
  /** scheduled tests of fire-water points: flowing limits, no pressure_drop, readings recorded */
  tests?: Pick<TestWindows, 'activeFor' | 'observe'>;
  /**
   * Runs a tick as one step (server/storage.ts): on PostgreSQL a write scope, queued behind the
   * processors' batches, so a tick never decides on a batch's uncommitted state and what it changes
   * (alerts, rule state) commits together. Absent: the tick runs as it is (SQLite).
   */
  step?: (fn: () => void) => void | Promise<void>;
  /** after a device's readings were evaluated, in the batch (the building rules read its flow signal, issue #15 item 2) */
  afterReadings?: (device: Device, building: Building) => void;
}

export class RuleRunner {
  private readonly startedAt: number;
  /**
   * Devices whose open conditions were restored from before this start. Their timers (a lane
   * occupied since before the restart, a clear held) go on only while the device's last message is
   * younger than its report interval; older than that, the state is stale — what happened while the
   * service was down is unknown — and they wait for a reading received after the start.
   */
  private readonly awaitingReading = new Set<string>();
  private timer: TimerHandle | undefined;
  private ticks = 0;
  private closed = false;

  constructor(private readonly deps: RuleRunnerDeps) {
    this.startedAt = deps.clock.now();
  }

  /** The log processor: rules for each reading, a device counted offline brought back. */
  processor(): Processor {
    return { name: 'rules', process: (readings) => this.process(readings) };
  }

  process(readings: readonly Reading[]): void {
    for (let i = 0; i < readings.length; ) {
      // one device's run of readings at a time (a payload's backlog array arrives together)
      const deviceId = readings[i]!.deviceId;
      let j = i + 1;
      while (j < readings.length && readings[j]!.deviceId === deviceId) j++;
      this.processDevice(deviceId, readings, i, j);
      i = j;
    }
  }

  private processDevice(deviceId: string, readings: readonly Reading[], from: number, to: number): void {
    if (this.awaitingReading.size > 0 && (readings[to - 1]!.receivedAt ?? this.startedAt) >= this.startedAt) this.awaitingReading.delete(deviceId);
    const c = this.deps.registry.context(deviceId);
    if (!c?.building) return;
    const outcomes: RuleOutcome[] = [];
    // the reading each outcome came from: a raised alert's first clocks (issue #15 item 4)
    const sources: Reading[] = [];
    const tests = this.deps.tests;
    for (let i = from; i < to; i++) {
      const r = readings[i]!;
      const testing = tests !== undefined && c.device.kind === 'water_pressure' && tests.activeFor(deviceId, r.ts) !== undefined;
      outcomes.push(...this.deps.engine.evaluate(r, c.device, c.building, c.device.rules, this.deps.states, testing ? { testing } : undefined));
      while (sources.length < outcomes.length) sources.push(r);
      if (testing && typeof r.fields.pressureMpa === 'number') tests.observe(deviceId, r.ts, r.fields.pressureMpa);
    }
    // a message from a device counted offline brings it back
    if (this.isOffline(deviceId)) {
      const at = readings[to - 1]!.receivedAt ?? this.deps.clock.now();
      outcomes.push(...this.deps.engine.offlineCheck({ device: c.device, building: c.building, overrides: c.device.rules, lastSeenAt: at, now: at }, this.deps.states));
    }
    if (outcomes.length > 0) this.deps.alerts.applyOutcomes(outcomes, { device: c.device, building: c.building, sources });
    this.deps.afterReadings?.(c.device, c.building);
  }

  private isOffline(deviceId: string): boolean {
    const s = this.deps.states.get(deviceId, 'device_offline');
    return s !== undefined && s.phase !== 'normal';
  }

  start(): void {
    const { clock, lastAliveAt } = this.deps;
    const outageS = this.deps.outageAlertS ?? 60;
    if (lastAliveAt !== undefined && this.startedAt - lastAliveAt > outageS * 1000) {
      const minutes = Math.round((this.startedAt - lastAliveAt) / 60_000);
      const from = new Date(lastAliveAt).toISOString();
      const to = new Date(this.startedAt).toISOString();
      this.deps.alerts.raiseSystem('service_outage', 'major', {
        zh: `消防物联网接入服务中断约 ${minutes} 分钟（${from} 至 ${to}），期间未接收设备数据；设备离线告警在恢复后重新计时。`,
        en: `Firewatch was down for about ${minutes} min (${from} to ${to}) and received no device data; offline detection restarted when it came back.`,
      });
    }
    this.deps.markAlive(this.startedAt);
    for (const { deviceId, ruleId } of this.deps.states.openConditions()) {
      if (ruleId !== 'device_offline') this.awaitingReading.add(deviceId);
    }
    const tickMs = this.deps.tickMs ?? 1000;
    const failed = (err: unknown) => {
      if (this.deps.onTickError) this.deps.onTickError(err);
      else this.deps.log.error({ err }, 'rule tick failed');
    };
    const loop = () => {
      if (this.closed) return;
      const next = () => {
        if (!this.closed) this.timer = clock.at(clock.now() + tickMs, loop);
      };
      try {
        const out = this.deps.step ? this.deps.step(() => this.tick()) : this.tick();
        if (out instanceof Promise) {
          // the next tick is armed once this one committed: ticks never queue up behind a slow database
          out.then(() => this.deps.onTickOk?.(), failed).finally(next);
          return;
        }
        this.deps.onTickOk?.();
      } catch (err) {
        failed(err);
      }
      next();
    };
    this.timer = clock.at(clock.now() + tickMs, loop);
  }

  /** Apply time-based transitions now (also used by tests through the clock). */
  tick(): void {
    const { engine, states, registry, alerts, clock } = this.deps;
    const now = clock.now();
    const tests = this.deps.tests;
    const lookup = (id: string) => {
      const c = registry.context(id);
      if (!c?.building) return undefined;
      if (this.awaitingReading.has(id) && this.stale(c.device, now)) return undefined; // no verdict on stale data
      const testing = tests !== undefined && c.device.kind === 'water_pressure' && tests.activeFor(id, now) !== undefined;
      return { device: c.device, building: c.building, overrides: c.device.rules, testing };
    };
    for (const o of engine.dueChecks(now, states, lookup)) {
      const c = lookup(o.deviceId);
      if (c) alerts.applyOutcomes([o], c);
    }
    this.ticks++;
    if (this.ticks % 5 === 0) this.deps.markAlive(now);
    this.offlineScan(now);
    this.rejectionScan(now);
  }

  /** Devices sending only rejected messages: a run long enough is a sensor_fault (issue #16 item 4). */
  private rejectionScan(now: number): void {
    const { engine, states, registry, alerts, status } = this.deps;
    for (const id of status.rejectingDevices()) {
      const s = status.get(id);
      const c = registry.context(id);
      if (!c?.building || !s.rejectedRun || !s.lastRejected) continue;
      const since = Math.max(s.rejectedSince ? Date.parse(s.rejectedSince) : now, this.startedAt);
      const outcomes = engine.rejectionCheck(c.device, c.building, c.device.rules, { count: s.rejectedRun, since, reason: s.lastRejected.reason }, now, states);
      if (outcomes.length > 0) alerts.applyOutcomes(outcomes, { device: c.device, building: c.building });
    }
  }

  /**
   * The start of a device's silence: its last message or connection, but never before the service
   * started (its own downtime is one service_outage alert) nor before the device was registered (a
   * sensor being installed is not offline yet; it is after 3 × its report interval without a word).
   */
  private lastSeen(device: Device): number {
    return Math.max(this.heardFrom(device.id), this.startedAt, Date.parse(device.createdAt) || 0);
  }

  /** Restored state of a device not heard from within its report interval is stale. */
  private stale(device: Device, now: number): boolean {
    const seen = this.deps.status.get(device.id).lastSeenAt;
    return seen === null || now - Date.parse(seen) > device.reportIntervalS * 1000;
  }

  /** The device's own last sign of life: a message or a connection (0 if none is known). */
  private heardFrom(deviceId: string): number {
    const s = this.deps.status.get(deviceId);
    return Math.max(s.lastSeenAt ? Date.parse(s.lastSeenAt) : 0, s.connectedAt ? Date.parse(s.connectedAt) : 0);
  }

  private offlineScan(now: number): void {
    const { engine, states, registry, alerts } = this.deps;
    for (const device of registry.devices()) {
      const c = registry.context(device.id);
      if (!c?.building) continue;
      const offlineSince = this.offlineSince(device.id);
      let outcomes;
      if (offlineSince !== undefined) {
        // Offline (its silence, or its last will) until the device itself is heard from again: a
        // will is not undone by the silence being short, nor a silence by the service restarting.
        const heard = this.heardFrom(device.id);
        if (heard <= offlineSince) continue;
        outcomes = engine.offlineCheck({ device, building: c.building, overrides: device.rules, lastSeenAt: heard, now }, states);
      } else {
        const last = this.lastSeen(device);
        const due = engine.offlineDue(device, c.building, device.rules, last);
        if (due === undefined || (due > now && !this.isOffline(device.id))) continue;
        outcomes = engine.offlineCheck({ device, building: c.building, overrides: device.rules, lastSeenAt: last, now }, states);
      }
      if (outcomes.length > 0) alerts.applyOutcomes(outcomes, { device, building: c.building });
    }
  }

  /** When the device's device_offline alert was raised (epoch ms), or undefined if none is. */
  private offlineSince(deviceId: string): number | undefined {
    const s = this.deps.states.get(deviceId, 'device_offline');
    return s === undefined || s.phase === 'normal' || s.phase === 'pending' ? undefined : (s.activeSince ?? undefined);
  }

  /** `fire/v1/{id}/status`: the device's last will ("offline"), or its own online notice. */
  onStatus(deviceId: string, online: boolean): void {
    const c = this.deps.registry.context(deviceId);
    if (!c?.building) return;
    const now = this.deps.clock.now();
    const outcomes = online
      ? this.isOffline(deviceId)
        ? this.deps.engine.offlineCheck({ device: c.device, building: c.building, overrides: c.device.rules, lastSeenAt: now, now }, this.deps.states)
        : []
      : this.deps.engine.lastWill(c.device, c.building, c.device.rules, now, this.deps.states);
    if (outcomes.length > 0) this.deps.alerts.applyOutcomes(outcomes, { device: c.device, building: c.building });
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    try {
      this.deps.markAlive(this.deps.clock.now());
    } catch {
      /* storage failing at shutdown: the next start sees a longer outage than there was */
    }
  }
}
