/**
 * Composition root: the only place that calls `new` on adapters and wires them together. It holds
 * no logic of its own; every part owns its start and stop, and one Lifecycle (lifecycle.ts) runs
 * them: started in this order, stopped in reverse, from the same list after a failed start as at
 * shutdown.
 *
 *   databases → device status → reading log → rule state → uplink → processors → InfluxDB forwarder
 *   → drain point → timers (escalation, rules, probe, retention, commissioning) → MQTT → GB/T → HTTP
 *
 * So shutdown stops the API and intake first (HTTP, GB/T, MQTT), then the timers, commits what the
 * log accepted (the drain point), processes it, and closes storage last.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { MqttBroker, type BrokerAddresses } from '../gateway/mqtt/broker.js';
import { UplinkService } from '../services/uplink/uplink-service.js';
import { DutyChecks } from '../services/uplink/duty-checks.js';
import { Gb26875UplinkClient } from '../services/uplink/adapters/gb26875-adapter.js';
import { AlertService, DeadlinePolicy } from '../services/alerts/alert-service.js';
import type { Alert } from '../services/alerts/model.js';
import { EscalationScheduler } from '../services/alerts/escalation.js';
import { spansEndingAt } from '../services/alerts/alarm-clocks.js';
import { ClockWatch } from '../services/alerts/clock-watch.js';
import { alertCategory } from '../services/uplink/alert-category.js';
import type { UplinkItem } from '../services/uplink/model.js';
import { SafetyCodeService } from '../services/safety-code/safety-code-service.js';
import { BuildingImporter } from '../services/import/building-import.js';
import { LiveFeed } from '../services/live-feed/live-feed.js';
import { TestWindows } from '../services/devices/test-windows.js';
import { startCommissioningScan } from '../services/devices/commissioning-scan.js';
import { RuleRunner } from '../services/processors/rule-runner.js';
import { IncidentService } from '../services/alerts/incidents.js';
import { BuildingRuleRunner } from '../services/alerts/building-rule-runner.js';
import { buildApi, type Api } from '../services/api/app.js';
import { AuthService } from '../services/auth/auth-service.js';
import type { Config } from '../services/config/config.js';
import { generateSecret } from '../services/devices/credentials.js';
import { DeviceStatusTracker } from '../services/devices/device-status.js';
import { DeviceRegistry } from '../services/devices/registry.js';
import { Metrics } from '../services/metrics/metrics.js';
import { Pipeline } from '../services/pipeline/pipeline.js';
import { RuleEngine } from '../services/rules/rule-engine.js';
import { SystemClock, type Clock } from '../services/shared/clock.js';
import { createLogger } from '../services/shared/logger.js';
import { InfluxV1Store } from '../services/storage/influx/influx-v1-store.js';
import { InfluxV2Store } from '../services/storage/influx/influx-v2-store.js';
import type { ReadingStore } from '../services/storage/reading-store.js';
import { startRetention } from '../services/storage/retention.js';
import type { ReadingLog } from '../services/log/reading-log.js';
import { LogProcessors, type Processor } from '../services/processors/log-processors.js';
import { StoreForwarder } from '../services/processors/store-forwarder.js';
import { every } from '../services/shared/every.js';
import { OutageReporter } from '../services/shared/outage.js';
import { AuditLog } from '../services/audit/audit-log.js';
import { ChangeControl } from '../services/audit/change-control.js';
import { adminToken } from './admin-token.js';
import { startGb26875Gateway } from './gb26875.js';
import { Lifecycle } from './lifecycle.js';
import { readinessChecks } from './readiness.js';
import { openSqliteStorage, type Lease, type Storage, type StorageDeps } from './storage.js';
import type { SyncSettingsStore } from '../services/shared/settings.js';
import { isThenable } from '../services/shared/unit-of-work.js';
import { uplinkAdapters } from './uplink.js';

export interface Firewatch {
  readonly httpUrl: string;
  readonly mqttPorts: BrokerAddresses;
  readonly api: Api;
  readonly registry: DeviceRegistry;
  readonly metrics: Metrics;
  /** the durable reading log the broker appends to before it acknowledges */
  readonly log: ReadingLog;
  /** rules → alerts → feed and uplink items, consuming the log */
  readonly processors: LogProcessors;
  /** the InfluxDB forwarder, when INFLUX_URL is set */
  readonly forwarder: StoreForwarder | undefined;
  readonly alerts: AlertService;
  readonly feed: LiveFeed;
  readonly runner: RuleRunner;
  /** the platform uplink, when an adapter is configured (issue #6) */
  readonly uplink: UplinkService | undefined;
  /** the GB/T 26875.3 gateway's TCP port, when GB26875_PORT is set */
  readonly gb26875Port: number | undefined;
  readonly logger: Logger;
  /** the running parts, in start order (they stop in reverse) */
  readonly parts: () => string[];
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** time source for rules, deadlines and escalation (tests pass a ManualClock) */
  clock?: Clock;
  /** where a generated admin token is shown once (default: stderr, never the log) */
  announceSecret?: (text: string) => void;
}

const LAST_ALIVE_KEY = 'last_alive_at';
/** HMAC key of the safety codes' public ids: generated once, kept so printed QR codes stay valid */
const SAFETY_CODE_SECRET_KEY = 'safety_code_secret';

/** The engine the configuration asks for: PostgreSQL with DATABASE_URL (loaded only then), otherwise SQLite in DATA_DIR. */
async function openStorage(deps: StorageDeps): Promise<Storage> {
  if (deps.config.databaseUrl) {
    const { openPostgresStorage } = await import('./storage-postgres.js');
    return openPostgresStorage(deps);
  }
  return openSqliteStorage(deps);
}

export function packageVersion(): string {
  // server/main.ts runs from source (tests) or from dist/server/main.js (npm start)
  const rel = import.meta.url.includes('/dist/') ? '../../package.json' : '../package.json';
  return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
}

function makeRemoteStore(config: Config): ReadingStore | undefined {
  const influx = config.influx;
  if (!influx) return undefined;
  if (influx.api === 'v1') {
    return new InfluxV1Store({
      url: influx.url,
      db: influx.db,
      ...(influx.username !== undefined ? { username: influx.username } : {}),
      ...(influx.password !== undefined ? { password: influx.password } : {}),
    });
  }
  return new InfluxV2Store({ url: influx.url, token: influx.token, org: influx.org, bucket: influx.bucket });
}

/** The platform uplink's reading items, queued inside the processors' transaction. */
function uplinkProcessor(uplink: UplinkService): Processor {
  return { name: 'uplink', process: (readings) => void uplink.queueReadings(readings) };
}

export async function startFirewatch(config: Config, opts: StartOptions = {}): Promise<Firewatch> {
  const log = opts.logger ?? createLogger(config.logLevel);
  const life = new Lifecycle(log.child({ module: 'lifecycle' }));
  try {
    return await assemble(config, opts, log, life);
  } catch (err) {
    await life.stop();
    throw err;
  }
}

/** An acknowledged fire alarm's item as the uplink makes it, to ask the adapters whether they would send one (issue #15 item 4). */
const ACKNOWLEDGED_ALARM: UplinkItem = {
  id: 'alert.updated:probe:0',
  type: 'alert.updated',
  occurredAt: new Date(0).toISOString(),
  deviceId: 'probe',
  buildingId: 'probe',
  street: null,
  data: { alert: { id: 'probe', rule: 'device_alarm', class: 'hazard', kind: 'uitd', deviceId: 'probe', status: 'acknowledged', cleared: false }, change: { action: 'acknowledged' } },
};

async function assemble(config: Config, opts: StartOptions, log: Logger, life: Lifecycle): Promise<Firewatch> {
  const clock = opts.clock ?? new SystemClock();
  const metrics = new Metrics();
  // storage failures are values: counted, logged once per interval, shown on /readyz
  const outages = new OutageReporter(log.child({ module: 'storage' }), (op) => metrics.storageErrors.inc({ op }), () => Date.now());

  // the state: SQLite files in DATA_DIR, or PostgreSQL with DATABASE_URL (storage.ts)
  const storage = await openStorage({ config, life, log, outages, metrics });
  const settings = storage.settings;
  const admin = adminToken(config.adminToken, settings);
  const runUnitOfWork = storage.runUnitOfWork;
  const registry = await DeviceRegistry.open({
    store: storage.registry,
    runUnitOfWork,
    now: () => new Date(clock.now()),
    commissioningMaxH: config.commissioningMaxH,
  });
  const status = await DeviceStatusTracker.open(storage.deviceStatus, () => clock.now());
  await life.start(
    'device status',
    () => status.start(1000, (err) => outages.failed('device_status', err), () => outages.ok('device_status')),
    () => status.close(),
  );

  // the durable reading log: the broker acknowledges once a reading is committed here
  const cursors = storage.cursors;
  const readingLog = storage.readingLog;
  await life.start('reading log', () => readingLog.start(), () => readingLog.close());

  const remote = makeRemoteStore(config);
  const readingStore: ReadingStore = remote ?? storage.readings;

  // alerts: rules → lifecycle → live feed, all on the injected clock
  const feed = new LiveFeed(storage.feedLog, clock, storage.scope);
  storage.useFeed(feed);
  await life.start('live feed', () => feed.start(), () => feed.close());
  const deadlines = new DeadlinePolicy({ ackS: config.alerts.ackS, closeS: config.alerts.closeS }, config.alerts.byUse);
  const auth = await AuthService.open({
    store: storage.auth,
    adminTokenSha256: admin.digest,
    now: () => clock.now(),
    sessionTtlMs: config.sessionTtlH * 3_600_000,
  });
  const alerts = new AlertService({
    store: storage.alerts,
    reader: storage.alertReader,
    step: async (fn) => storage.step(fn),
    ...(storage.holdAlert ? { hold: storage.holdAlert } : {}),
    maintenance: storage.maintenance,
    ...(storage.maintenanceInUnit ? { maintenanceInUnit: storage.maintenanceInUnit } : {}),
    feed,
    clock,
    deadlines,
    log: log.child({ module: 'alerts' }),
    isCommissioning: (device) => registry.isCommissioning(device),
    // who acknowledged or closed, as people read it (issue #17 item 5)
    nameOf: (by) => auth.displayNameOf(by),
    // issue #15 item 4: each span an alert's new clock ends, to /metrics
    onClock: (a, clock) => {
      if (a.clocks) for (const s of spansEndingAt(a.clocks, clock)) metrics.alertSpanSeconds.observe({ span: s.span }, s.seconds);
    },
    incidentWindowS: config.alerts.incidentWindowS,
  });
  // issue #15 item 1: a building's hazards as one incident (警情) on the board and the feed
  const incidents = new IncidentService({ alerts, feed, clock, windowS: config.alerts.incidentWindowS });
  await life.start('incidents', () => incidents.start(), () => undefined);
  // issue #12 item 9: who may weaken alerting, with a reason, in the audit history
  const changeControl = new ChangeControl({
    audit: new AuditLog(storage.audit, clock, runUnitOfWork),
    clock,
    maintenanceMaxOperatorH: config.alerts.maintenanceMaxOperatorH,
    deadlinesFor: (use) => deadlines.for(use),
  });
  const escalation = new EscalationScheduler(alerts, clock);
  const ruleStates = storage.ruleStates;
  // issue #15 item 2: rules across a building's sensors (probable_fire, …), judged as its alerts and flow signals change
  const buildingRules = new BuildingRuleRunner({ alerts, registry, states: ruleStates });
  await life.start('rule state', () => storage.startRuleStateSaving(), async () => void (await ruleStates.close()));
  buildingRules.start();
  const lastAlive = settings.get(LAST_ALIVE_KEY);
  const tests = new TestWindows(storage.testWindows, () => clock.now());
  const runner = new RuleRunner({
    tests,
    engine: new RuleEngine(),
    states: ruleStates,
    alerts,
    registry,
    status,
    clock,
    log: log.child({ module: 'rules' }),
    lastAliveAt: lastAlive === undefined ? undefined : Number(lastAlive),
    markAlive: (t) => settings.set(LAST_ALIVE_KEY, String(t)),
    outageAlertS: config.alerts.outageAlertS,
    onTickError: (err) => outages.failed('rule_tick', err),
    onTickOk: () => outages.ok('rule_tick'),
    ...(storage.engine === 'postgres' ? { step: async (fn: () => void) => void (await storage.step(fn)) } : {}),
    afterReadings: (device, building) => buildingRules.afterReadings(device, building),
  });
  registry.onChange((e) => {
    if (e.type === 'device.removed') ruleStates.forgetDevice(e.deviceId);
  });
  // in service after commissioning (issue #17 item 6): the installer's alerts are filed as tests
  // and the rules start afresh, so the next reading decides what the duty room sees
  registry.onInService((device, by) => {
    alerts.endCommissioning(device, by);
    ruleStates.forgetDevice(device.id);
  });

  // PostgreSQL: whether this node holds the processors' lease (storage.ts SharedLog, made below):
  // one node at a time consumes the shared log, forwards it and drains the shared outbox
  // the lease is made below, once the processors exist; through a holder, so that `processing` may be
  // asked before that (the uplink's start kicks its lanes): not held yet
  const leaseHolder: { lease?: Lease | undefined } = {};
  const processing = () => leaseHolder.lease?.held === true;

  // platform uplink (issue #6): alerts and presence from the feed, readings after the sink,
  // building changes from the registry; one durable lane per configured adapter
  // the GB/T 26875.3 centre's duty checks (issue #14): confirmed by the adapter, answered on the console
  let dutyChecks: DutyChecks | undefined;
  const adapters = uplinkAdapters(config.uplink, clock, log, packageVersion(), {
    onDutyCheck: (c) => dutyChecks?.received(c),
    // the centre's reads of facility data (61–68): our devices, their active alerts, their last readings
    facility: () => {
      const active = new Map<string, Alert[]>();
      for (const a of alerts.unclosed()) {
        if (a.cleared || !a.deviceId) continue;
        const list = active.get(a.deviceId);
        if (list) list.push(a);
        else active.set(a.deviceId, [a]);
      }
      return [...registry.devices()].map((d) => ({ id: d.id, kind: d.kind, point: d.point, active: active.get(d.id) ?? [], lastReading: status.get(d.id).lastReading }));
    },
  });
  const centreLink = adapters.find((a): a is Gb26875UplinkClient => a instanceof Gb26875UplinkClient);
  if (centreLink && config.uplink.gb26875) {
    const checks = new DutyChecks({
      settings,
      clock,
      windowS: config.uplink.gb26875.dutyCheckS,
      sendAnswer: () => centreLink.answerDutyCheck(),
      // for every duty console (no building: every scope sees it), in a step of its own
      publish: (type, check) => {
        try {
          const out = storage.step(() => void feed.publish(type, { street: null, buildingId: null }, { check }));
          if (isThenable(out)) out.then(undefined, (err: unknown) => outages.failed('feed', err));
        } catch (err) {
          outages.failed('feed', err);
        }
      },
      outages,
      log: log.child({ module: 'duty-checks' }),
    });
    await life.start('duty checks', () => checks.start(), () => checks.close());
    dutyChecks = checks;
  }
  const uplink =
    adapters.length === 0
      ? undefined
      : new UplinkService({
          store: storage.uplink,
          // PostgreSQL: the processors' reading items are queued in the batch's write scope
          ...(storage.scope ? { stage: (w: () => unknown) => storage.scope!.write(w) } : {}),
          // PostgreSQL: one node at a time drains the shared outbox (the processors' lease)
          ...(storage.sharedLog ? { active: processing } : {}),
          adapters,
          feed,
          clock,
          log: log.child({ module: 'uplink' }),
          readings: config.uplink.readings,
          deadLetterAfterS: config.uplink.deadLetterAfterS,
          events: {
            onSent: (adapter, n) => metrics.uplinkSent.inc({ adapter }, n),
            onRetry: (adapter) => metrics.uplinkRetries.inc({ adapter }),
            onDeadLetter: (adapter, n) => metrics.uplinkDeadLetters.inc({ adapter }, n),
            // issue #15 item 4: an acknowledged alert's item accepted by the platform is its forwardedAt and platformConfirmedAt
            onDelivered: (adapter, items, sentAt, confirmedAt) => {
              const sender = adapters.find((a) => a.name === adapter);
              for (const item of items) {
                const a = item.type.startsWith('alert.') ? (item.data.alert as { id?: string; acknowledgedAt?: string | null } | undefined) : undefined;
                // an item the adapter had nothing to send for (a GB/T 26875.3 acknowledgement) was not forwarded
                if (a?.id && a.acknowledgedAt && (sender?.sends?.(item) ?? true)) void alerts.forwarded(a.id, adapter, sentAt, confirmedAt);
              }
            },
          },
        });
  if (uplink) {
    metrics.uplinkStatus = () => uplink.status();
    registry.onBuildingChange((e) => uplink.onBuildingChange(e));
    await life.start('uplink', () => uplink.start(), () => uplink.close());
  }

  // after the commit: rules → alerts → feed and the uplink's reading items, one transaction per
  // batch with the processors' position, so a replay after a crash changes nothing
  const processors: LogProcessors = new LogProcessors({
    log: readingLog,
    cursors,
    processors: [runner.processor(), ...(uplink ? [uplinkProcessor(uplink)] : [])],
    transaction: (fn) => {
      const out = storage.step(fn);
      // its lanes read what the batch queued, once it is committed
      if (!isThenable(out)) uplink?.kick();
      else void out.then(() => uplink?.kick(), () => undefined);
      return out;
    },
    beforeCommit: () => storage.beforeCommit(),
    onRollback: async () => {
      uplink?.resetSampling();
      await storage.afterRollback();
    },
    outages,
    minIntervalMs: config.processors.minIntervalMs,
    onLag: (n) => metrics.processorLag.set({ consumer: 'processors' }, n),
    // PostgreSQL: one node at a time consumes the shared log (storage.ts SharedLog)
    ...(storage.sharedLog ? { shared: { pollMs: storage.sharedLog.pollMs }, active: processing } : {}),
  });
  const lease: Lease | undefined = storage.sharedLog?.lease({
    onAcquired: async () => {
      await processors.resume();
      forwarder?.resume();
      uplink?.kick();
    },
    onLost: () => undefined,
  });
  leaseHolder.lease = lease;
  await life.start('processors', () => processors.start(), () => processors.close());
  const forwarder = remote
    ? new StoreForwarder(readingLog, cursors, remote, { ...config.sink, ...(lease ? { active: processing } : {}) }, log.child({ module: 'forwarder' }), {
        onBatch: (name, size, ok) => {
          metrics.sinkBatches.inc({ sink: name, result: ok ? 'ok' : 'error' });
          if (ok) metrics.sinkBatchSize.observe({ sink: name }, size);
        },
        onDropped: (name, n) => metrics.sinkDropped.inc({ sink: name }, n),
        onPositionError: (err) => outages.failed('forwarder_position', err),
        onPositionSaved: () => outages.ok('forwarder_position'),
      })
    : undefined;
  if (forwarder) await life.start('InfluxDB forwarder', () => forwarder.start(), () => forwarder.close());
  // PostgreSQL: the processors and the forwarder start standing by; the lease lets one node at a time run them
  if (lease) await life.start('processors lease', () => lease.start(), () => lease.close());
  // On the way down, once intake and timers have stopped: commit every append the log accepted,
  // so the processors and the forwarder (stopped next) see it before they stop.
  life.add('reading log drain', () => readingLog.drain());

  // timers, all on the injected clock
  await life.start('escalation', () => escalation.start(), () => escalation.close());
  // issue #15 item 4: GB 50440's display and forwarding targets; a span over one is an alarm_clock_late alert
  const clockWatch = new ClockWatch({
    alerts,
    clock,
    targets: { displayS: config.alerts.displayTargetS, forwardS: config.alerts.forwardTargetS },
    fireAlarm: (a) => alertCategory(a) === 'fire',
    // whether any adapter sends a confirmed alarm at all: the GB/T 26875.3 client alone has no frame for one
    forwarding: uplink !== undefined && adapters.some((a) => a.sends?.(ACKNOWLEDGED_ALARM) ?? true),
    ...(lease ? { active: processing } : {}),
    onLate: (span) => metrics.alertClockLate.inc({ span }),
    log: log.child({ module: 'clocks' }),
  });
  await life.start('alarm clocks', () => clockWatch.start(), () => clockWatch.close());
  await life.start('rule timers', () => runner.start(), () => runner.close());
  // writes that are retried only when their event comes again (presence on the feed; the duty checks and rounds, saved whole at their next change): while any
  // write to firewatch.db fails, a tiny write every second tells when it works again
  const EVENT_DRIVEN_OPS = ['feed', 'presence', 'duty_checks', 'duty_rounds'];
  const probe = every(
    1000,
    () => {
      if (!EVENT_DRIVEN_OPS.some((op) => outages.isFailing(op))) return;
      settings.set('storage_probe_at', String(Date.now()));
      for (const op of EVENT_DRIVEN_OPS) outages.ok(op);
    },
    () => undefined, // still failing: the ops stay failing
    () => undefined,
  );
  life.add('storage probe', () => clearInterval(probe));
  let forwarderPosition = () => Number.MAX_SAFE_INTEGER;
  if (forwarder) forwarderPosition = () => forwarder.position();
  const retention = startRetention({
    clock,
    log,
    feed,
    readings: readingLog,
    consumed: () => Math.min(processors.position(), forwarderPosition()),
    forwarded: forwarder !== undefined,
    readingsRetentionDays: config.readingsRetentionDays,
  });
  life.add('retention', () => retention.cancel());
  const commissioning = startCommissioningScan(clock, log.child({ module: 'devices' }), registry, outages);
  life.add('commissioning scan', () => commissioning.cancel());

  const pipeline = new Pipeline({
    registry,
    status,
    log: readingLog,
    metrics,
    logger: log.child({ module: 'pipeline' }),
    limits: config.ingest,
    now: () => clock.now(),
  });
  // presence on the live feed (MQTT and GB/T alike); a failing feed write must not reach the broker
  // (each one step: on PostgreSQL it commits, or fails, after the broker's callback returned)
  const inStep = (op: string, fn: () => void) => {
    try {
      const out = storage.step(fn);
      if (isThenable(out)) out.then(() => outages.ok(op), (err: unknown) => outages.failed(op, err));
      else outages.ok(op);
    } catch (err) {
      outages.failed(op, err);
    }
  };
  const publishPresence = (deviceId: string, connected: boolean) => {
    const c = registry.context(deviceId);
    inStep('feed', () => {
      feed.publish(connected ? 'device.online' : 'device.offline', { street: c?.building?.street ?? null, buildingId: c?.device.buildingId ?? null }, { deviceId });
    });
  };
  const onPresence = (deviceId: string, online: boolean) => inStep('presence', () => runner.onStatus(deviceId, online));
  const broker = new MqttBroker({
    config: config.mqtt,
    registry,
    status,
    pipeline,
    metrics,
    log: log.child({ module: 'mqtt' }),
    onConnection: publishPresence,
    onPresence,
  });

  // intake: MQTT, then the GB/T 26875.3 gateway for UITDs (decoded frames enter the same pipeline)
  const mqttPorts = await life.start('MQTT broker', () => broker.start(), () => broker.close());
  registry.onChange((e) => broker.disconnectDevice(e.deviceId));
  const gb26875 =
    config.gb26875.port === undefined
      ? undefined
      : await startGb26875Gateway({
          config: { ...config.gb26875, port: config.gb26875.port, rejectLogIntervalS: config.ingest.rejectLogIntervalS },
          life,
          registry,
          status,
          pipeline,
          settings,
          testAlarms: storage.gb26875Tests,
          metrics,
          outages,
          clock,
          log: log.child({ module: 'gb26875' }),
          publishPresence,
          onPresence,
        });

  // the HTTP API last: /readyz answers once everything it checks is up, and at shutdown the API
  // stops first, so nobody changes the registry while intake drains
  const api = await buildApi({
    tests,
    ...(gb26875 ? { gb26875: { gateway: gb26875.listener, commands: gb26875.commands, rounds: gb26875.rounds } } : {}),
    registry,
    status,
    readingStore,
    ...(forwarder ? { sinkStatus: () => forwarder.status() } : {}),
    metrics,
    auth,
    alerts,
    incidents,
    feed,
    liveMaxBufferBytes: config.liveMaxBufferBytes,
    ...(uplink ? { uplink } : {}),
    ...(dutyChecks ? { dutyChecks } : {}),
    safetyCodes: new SafetyCodeService({
      registry,
      status,
      alerts,
      clock,
      secret: safetyCodeSecret(settings),
      bounds: { offlineH: config.safetyCodeOfflineH, maintenanceH: config.alerts.maintenanceMaxOperatorH },
    }),
    importer: new BuildingImporter(registry, changeControl),
    publicBaseUrl: config.publicBaseUrl,
    readiness: [
      ...readinessChecks({ broker, mqttPorts, readingLog, outages, processors, readingStore, forwarder }),
      ...storage.readiness,
      // PostgreSQL: whether this node consumes the shared log now (one node does) or stands by
      ...(lease ? [{ name: 'processors_lease', check: async () => ({ ready: true, detail: { held: lease.held } }) }] : []),
    ],
    clock,
    changeControl,
    log,
    version: packageVersion(),
  });
  // closed on the way down even when listen fails (the instance holds its plugins' resources)
  life.add('HTTP API', () => api.close());
  await api.listen({ port: config.http.port, host: config.http.host });
  const addr = api.server.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : config.http.port;
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  const httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;

  admin.announce(opts.announceSecret ?? ((t) => process.stderr.write(t)));
  log.info({ httpUrl, mqtt: mqttPorts, store: readingStore.name }, 'Firewatch ready');
  return {
    httpUrl,
    mqttPorts,
    api,
    registry,
    metrics,
    log: readingLog,
    processors,
    forwarder,
    alerts,
    feed,
    runner,
    uplink,
    gb26875Port: gb26875?.port,
    logger: log,
    parts: () => life.names(),
    close: () => life.stop(),
  };
}

function safetyCodeSecret(settings: SyncSettingsStore): string {
  const stored = settings.get(SAFETY_CODE_SECRET_KEY);
  if (stored) return stored;
  const secret = generateSecret(32);
  settings.set(SAFETY_CODE_SECRET_KEY, secret);
  return secret;
}
