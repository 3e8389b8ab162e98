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
import { join } from 'node:path';
import type { Logger } from 'pino';
import { MqttBroker, type BrokerAddresses } from '../gateway/mqtt/broker.js';
import type { Gb26875Listener } from '../gateway/gb26875/listener.js';
import { UplinkService } from '../services/uplink/uplink-service.js';
import { SqliteUplinkStore } from '../services/storage/sqlite/sqlite-uplink-store.js';
import { AlertService, DeadlinePolicy } from '../services/alerts/alert-service.js';
import { EscalationScheduler } from '../services/alerts/escalation.js';
import { SafetyCodeService } from '../services/safety-code/safety-code-service.js';
import { BuildingImporter } from '../services/import/building-import.js';
import { LiveFeed } from '../services/live-feed/live-feed.js';
import { TestWindows } from '../services/devices/test-windows.js';
import { startCommissioningScan } from '../services/devices/commissioning-scan.js';
import { SqliteTestWindowStore } from '../services/storage/sqlite/sqlite-test-window-store.js';
import { RuleRunner } from '../services/processors/rule-runner.js';
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
import { SqliteCursorStore } from '../services/storage/sqlite/sqlite-cursor-store.js';
import { SqliteReadingLog } from '../services/storage/sqlite/sqlite-reading-log.js';
import { SqliteReadingStore } from '../services/storage/sqlite/sqlite-reading-store.js';
import { openDatabase, type Db } from '../services/storage/sqlite/database.js';
import { sqliteUnitOfWork } from '../services/storage/sqlite/sqlite-unit-of-work.js';
import { moveLegacyReadings, openReadingsDatabase, READINGS_FILE } from '../services/storage/sqlite/readings-database.js';
import { SqliteAlertStore } from '../services/storage/sqlite/sqlite-alert-store.js';
import { SqliteAuthStore } from '../services/storage/sqlite/sqlite-auth-store.js';
import { SqliteDeviceStatusStore } from '../services/storage/sqlite/sqlite-device-status-store.js';
import { SqliteEventLogStore, SqliteMaintenanceStore } from '../services/storage/sqlite/sqlite-feed-stores.js';
import { SqliteRuleStateStore } from '../services/storage/sqlite/sqlite-rule-state-store.js';
import { SqliteRegistryStore } from '../services/storage/sqlite/sqlite-registry-store.js';
import { SqliteSettingsStore } from '../services/storage/sqlite/sqlite-settings-store.js';
import { SqliteAuditStore } from '../services/storage/sqlite/sqlite-audit-store.js';
import { AuditLog } from '../services/audit/audit-log.js';
import { ChangeControl } from '../services/audit/change-control.js';
import { adminToken } from './admin-token.js';
import { startGb26875Gateway } from './gb26875.js';
import { Lifecycle } from './lifecycle.js';
import { readinessChecks } from './readiness.js';
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

async function assemble(config: Config, opts: StartOptions, log: Logger, life: Lifecycle): Promise<Firewatch> {
  const clock = opts.clock ?? new SystemClock();
  const metrics = new Metrics();
  // storage failures are values: counted, logged once per interval, shown on /readyz
  const outages = new OutageReporter(log.child({ module: 'storage' }), (op) => metrics.storageErrors.inc({ op }), () => Date.now());

  // firewatch.db: registry, alerts, users, feed, outboxes, positions; readings.db: the reading log,
  // whose only writer is the log's worker thread (readings-database.ts says why two files)
  const dbOpts = { synchronous: config.sqlite.synchronous, busyTimeoutMs: config.sqlite.busyTimeoutMs } as const;
  const db: Db = await life.start('firewatch.db', () => openDatabase(join(config.dataDir, 'firewatch.db'), dbOpts), () => void db.close());
  const readingsFile = join(config.dataDir, READINGS_FILE);
  const readingsDb: Db = await life.start('readings.db', () => openReadingsDatabase(readingsFile, dbOpts), () => void readingsDb.close());
  const moved = moveLegacyReadings(db, readingsFile);
  if (moved.moved + moved.outbox > 0) log.info(moved, 'readings moved from firewatch.db into readings.db');
  const settings = new SqliteSettingsStore(db);
  const admin = adminToken(config.adminToken, settings);

  // writes that commit together (a change and its audit entry) go through the unit of work
  // (the live feed, made below, holds the pushes of what a unit's writes published until it commits)
  const held: { feed?: LiveFeed } = {};
  const runUnitOfWork = sqliteUnitOfWork(db, { around: (commit) => (held.feed ? held.feed.holding(commit) : commit()) });
  const registry = await DeviceRegistry.open({
    store: new SqliteRegistryStore(db),
    runUnitOfWork,
    now: () => new Date(clock.now()),
    commissioningMaxH: config.commissioningMaxH,
  });
  const status = await DeviceStatusTracker.open(new SqliteDeviceStatusStore(db), () => clock.now());
  await life.start(
    'device status',
    () => status.start(1000, (err) => outages.failed('device_status', err), () => outages.ok('device_status')),
    () => status.close(),
  );

  // the durable reading log: the broker acknowledges once a reading is committed here
  const cursors = new SqliteCursorStore(db);
  const readingLog = new SqliteReadingLog(readingsDb, {
    file: readingsFile,
    synchronous: config.sqlite.synchronous,
    busyTimeoutMs: config.sqlite.logBusyTimeoutMs,
    appendTimeoutMs: config.sqlite.appendTimeoutMs,
    log: log.child({ module: 'log' }),
    onBatch: (n) => metrics.logAppendBatch.observe(n),
    onFailure: (err) => outages.failed('log_append', err),
    onRecovered: () => outages.ok('log_append'),
  });
  await life.start('reading log', () => readingLog.start(), () => readingLog.close());

  const sqliteStore = new SqliteReadingStore(readingsDb);
  const remote = makeRemoteStore(config);
  const readingStore: ReadingStore = remote ?? sqliteStore;

  // alerts: rules → lifecycle → live feed, all on the injected clock
  const feed = new LiveFeed(new SqliteEventLogStore(db), clock);
  held.feed = feed;
  const deadlines = new DeadlinePolicy({ ackS: config.alerts.ackS, closeS: config.alerts.closeS }, config.alerts.byUse);
  const auth = await AuthService.open({
    store: new SqliteAuthStore(db),
    adminTokenSha256: admin.digest,
    now: () => clock.now(),
    sessionTtlMs: config.sessionTtlH * 3_600_000,
  });
  const alerts = new AlertService({
    store: new SqliteAlertStore(db),
    maintenance: new SqliteMaintenanceStore(db),
    feed,
    clock,
    deadlines,
    log: log.child({ module: 'alerts' }),
    isCommissioning: (device) => registry.isCommissioning(device),
    // who acknowledged or closed, as people read it (issue #17 item 5)
    nameOf: (by) => auth.displayNameOf(by),
  });
  // issue #12 item 9: who may weaken alerting, with a reason, in the audit history
  const changeControl = new ChangeControl({
    audit: new AuditLog(new SqliteAuditStore(db), clock, runUnitOfWork),
    clock,
    maintenanceMaxOperatorH: config.alerts.maintenanceMaxOperatorH,
    deadlinesFor: (use) => deadlines.for(use),
  });
  const escalation = new EscalationScheduler(alerts, clock);
  const ruleStates = new SqliteRuleStateStore(db);
  await life.start(
    'rule state',
    () => ruleStates.start(1000, (err) => outages.failed('rule_state', err), () => outages.ok('rule_state')),
    () => ruleStates.close(),
  );
  const lastAlive = settings.get(LAST_ALIVE_KEY);
  const tests = new TestWindows(new SqliteTestWindowStore(db), () => clock.now());
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

  // platform uplink (issue #6): alerts and presence from the feed, readings after the sink,
  // building changes from the registry; one durable lane per configured adapter
  const adapters = uplinkAdapters(config.uplink, clock, log);
  const uplink =
    adapters.length === 0
      ? undefined
      : new UplinkService({
          store: new SqliteUplinkStore(db),
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
          },
        });
  if (uplink) {
    metrics.uplinkStatus = () => uplink.status();
    registry.onBuildingChange((e) => uplink.onBuildingChange(e));
    await life.start('uplink', () => uplink.start(), () => uplink.close());
  }

  // after the commit: rules → alerts → feed and the uplink's reading items, one transaction per
  // batch with the processors' position, so a replay after a crash changes nothing
  const processors = new LogProcessors({
    log: readingLog,
    cursors,
    processors: [runner.processor(), ...(uplink ? [uplinkProcessor(uplink)] : [])],
    transaction: (fn) => {
      const out = feed.holding(() => db.transaction(fn)());
      uplink?.kick(); // its lanes read what the batch queued, once it is committed
      return out;
    },
    beforeCommit: () => ruleStates.flush(),
    onRollback: () => {
      ruleStates.reload();
      uplink?.resetSampling();
    },
    outages,
    minIntervalMs: config.processors.minIntervalMs,
    onLag: (n) => metrics.processorLag.set({ consumer: 'processors' }, n),
  });
  await life.start('processors', () => processors.start(), () => processors.close());
  const forwarder = remote
    ? new StoreForwarder(readingLog, cursors, remote, config.sink, log.child({ module: 'forwarder' }), {
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
  // On the way down, once intake and timers have stopped: commit every append the log accepted,
  // so the processors and the forwarder (stopped next) see it before they stop.
  life.add('reading log drain', () => readingLog.drain());

  // timers, all on the injected clock
  await life.start('escalation', () => escalation.start(), () => escalation.close());
  await life.start('rule timers', () => runner.start(), () => runner.close());
  // writes that are retried only when their event comes again (presence on the feed): while any
  // write to firewatch.db fails, a tiny write every second tells when it works again
  const EVENT_DRIVEN_OPS = ['feed', 'presence'];
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
  const publishPresence = (deviceId: string, connected: boolean) => {
    const c = registry.context(deviceId);
    try {
      feed.publish(connected ? 'device.online' : 'device.offline', { street: c?.building?.street ?? null, buildingId: c?.device.buildingId ?? null }, { deviceId });
      outages.ok('feed');
    } catch (err) {
      outages.failed('feed', err);
    }
  };
  const onPresence = (deviceId: string, online: boolean) => {
    try {
      runner.onStatus(deviceId, online);
    } catch (err) {
      outages.failed('presence', err);
    }
  };
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
  let gateway: Gb26875Listener | undefined;
  let gb26875Port: number | undefined;
  if (config.gb26875.port !== undefined) {
    const started = await startGb26875Gateway({
      config: { ...config.gb26875, port: config.gb26875.port, rejectLogIntervalS: config.ingest.rejectLogIntervalS },
      life,
      registry,
      status,
      pipeline,
      settings,
      db,
      metrics,
      clock,
      log: log.child({ module: 'gb26875' }),
      publishPresence,
      onPresence,
    });
    gateway = started.listener;
    gb26875Port = started.port;
  }

  // the HTTP API last: /readyz answers once everything it checks is up, and at shutdown the API
  // stops first, so nobody changes the registry while intake drains
  const api = await buildApi({
    tests,
    ...(gateway ? { gb26875: { gateway } } : {}),
    registry,
    status,
    readingStore,
    ...(forwarder ? { sinkStatus: () => forwarder.status() } : {}),
    metrics,
    auth,
    alerts,
    feed,
    liveMaxBufferBytes: config.liveMaxBufferBytes,
    ...(uplink ? { uplink } : {}),
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
    readiness: readinessChecks({ broker, mqttPorts, readingLog, outages, processors, readingStore, forwarder }),
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
    gb26875Port,
    logger: log,
    parts: () => life.names(),
    close: () => life.stop(),
  };
}

function safetyCodeSecret(settings: SqliteSettingsStore): string {
  const stored = settings.get(SAFETY_CODE_SECRET_KEY);
  if (stored) return stored;
  const secret = generateSecret(32);
  settings.set(SAFETY_CODE_SECRET_KEY, secret);
  return secret;
}
