/**
 * Composition root: the only place that calls `new` on adapters and wires them together.
 *   config → SQLite → registry, status → reading log → processors, store forwarder → pipeline
 *   → broker → HTTP
 * Closing runs in reverse: stop intake first, commit what was accepted, process it, then stop.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { MqttBroker, type BrokerAddresses } from '../gateway/mqtt/broker.js';
import { Gb26875Listener, type ComponentStates } from '../gateway/gb26875/listener.js';
import { Gb26875UplinkClient } from '../services/uplink/adapters/gb26875-adapter.js';
import { loadStatusMap } from '../services/protocols/gb26875/status-map.js';
import { loadVendorMapping } from '../gateway/gb26875/vendor-mapping.js';
import { HttpUplinkAdapter } from '../services/uplink/adapters/http-adapter.js';
import { loadMapping } from '../services/uplink/mapping.js';
import type { UplinkAdapter } from '../services/uplink/model.js';
import { MqttUplinkAdapter } from '../services/uplink/adapters/mqtt-adapter.js';
import { UplinkService } from '../services/uplink/uplink-service.js';
import { SqliteUplinkStore } from '../services/storage/sqlite/sqlite-uplink-store.js';
import { AlertService, DeadlinePolicy } from '../services/alerts/alert-service.js';
import { EscalationScheduler } from '../services/alerts/escalation.js';
import { SafetyCodeService } from '../services/safety-code/safety-code-service.js';
import { BuildingImporter } from '../services/import/building-import.js';
import { LiveFeed } from '../services/live-feed/live-feed.js';
import { TestWindows } from '../services/devices/test-windows.js';
import { SqliteTestWindowStore } from '../services/storage/sqlite/sqlite-test-window-store.js';
import { SqliteGb26875TestStore } from '../services/storage/sqlite/sqlite-gb26875-store.js';
import { RuleRunner } from '../services/processors/rule-runner.js';
import { buildApi, type Api } from '../services/api/app.js';
import { AuthService } from '../services/auth/auth-service.js';
import type { ReadinessCheck } from '../services/api/routes/health.js';
import type { Config } from '../services/config/config.js';
import { generateSecret, sha256 } from '../services/devices/credentials.js';
import { DeviceStatusTracker } from '../services/devices/device-status.js';
import { DeviceRegistry } from '../services/devices/registry.js';
import { Metrics } from '../services/metrics/metrics.js';
import { Pipeline } from '../services/pipeline/pipeline.js';
import { RuleEngine } from '../services/rules/rule-engine.js';
import { SystemClock, type Clock, type TimerHandle } from '../services/shared/clock.js';
import { createLogger } from '../services/shared/logger.js';
import { InfluxV1Store } from '../services/storage/influx/influx-v1-store.js';
import { InfluxV2Store } from '../services/storage/influx/influx-v2-store.js';
import type { ReadingStore } from '../services/storage/reading-store.js';
import type { ReadingLog } from '../services/log/reading-log.js';
import { LogProcessors, type Processor } from '../services/processors/log-processors.js';
import { StoreForwarder } from '../services/processors/store-forwarder.js';
import { every } from '../services/shared/every.js';
import { OutageReporter } from '../services/shared/outage.js';
import { SqliteCursorStore } from '../services/storage/sqlite/sqlite-cursor-store.js';
import { SqliteReadingLog } from '../services/storage/sqlite/sqlite-reading-log.js';
import { SqliteReadingStore } from '../services/storage/sqlite/sqlite-reading-store.js';
import { openDatabase, type Db } from '../services/storage/sqlite/database.js';
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
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** time source for rules, deadlines and escalation (tests pass a ManualClock) */
  clock?: Clock;
  /** where a generated admin token is shown once (default: stderr, never the log) */
  announceSecret?: (text: string) => void;
}

const ADMIN_TOKEN_KEY = 'admin_token_sha256';
const LAST_ALIVE_KEY = 'last_alive_at';
const GB26875_COMPONENTS_KEY = 'gb26875_components';
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

/**
 * Every minute (and at start): devices whose COMMISSIONING_MAX_H passed are put in service for
 * good (persisted, so a larger bound configured later does not undo it), and their open
 * commissioning alerts become the duty room's (issue #17 item 6). The decision itself is exact at
 * any moment (DeviceRegistry.isCommissioning); this only writes it down.
 */
function startCommissioningScan(clock: Clock, log: Logger, registry: DeviceRegistry, outages: OutageReporter): TimerHandle {
  const MINUTE = 60_000;
  let timer: TimerHandle | undefined;
  let cancelled = false;
  const run = () => {
    try {
      for (const device of registry.settleCommissioning()) {
        log.info({ deviceId: device.id, inServiceAt: device.inServiceAt }, 'device in service: its commissioning bound passed');
      }
      outages.ok('commissioning');
    } catch (err) {
      // a failed write is retried next minute; counted and on /readyz like every storage failure
      outages.failed('commissioning', err);
    }
    if (!cancelled) timer = clock.at(clock.now() + MINUTE, run);
  };
  run();
  return {
    cancel: () => {
      cancelled = true;
      timer?.cancel();
    },
  };
}

/**
 * Hourly (and at start): the live feed keeps 7 days for replay, and the embedded store keeps
 * readings for READINGS_RETENTION_DAYS (a district at 1 reading/min per sensor writes millions a day).
 */
function startHousekeeping(
  clock: Clock,
  log: Logger,
  config: Config,
  feed: LiveFeed,
  store: SqliteReadingLog,
  consumed: () => number,
): TimerHandle {
  const HOUR = 3_600_000;
  let timer: TimerHandle | undefined;
  let cancelled = false;
  const run = () => {
    try {
      feed.prune();
    } catch (err) {
      log.error({ err }, 'live feed pruning failed');
    }
    // with SQLite as the store the log's rows are the readings (kept READINGS_RETENTION_DAYS);
    // with InfluxDB they are only the log, kept an hour after every consumer has passed them
    const keepMs = config.influx ? HOUR : config.readingsRetentionDays * 24 * HOUR;
    if (config.influx || config.readingsRetentionDays > 0) {
      store.prune(clock.now() - keepMs, consumed()).then(
        (n) => {
          if (n > 0) log.info({ deleted: n, retentionDays: config.readingsRetentionDays }, 'readings past retention deleted');
        },
        (err: unknown) => log.error({ err }, 'readings retention failed'),
      );
    }
    if (!cancelled) timer = clock.at(clock.now() + HOUR, run);
  };
  run();
  return {
    cancel: () => {
      cancelled = true;
      timer?.cancel();
    },
  };
}

/** The platform uplink's reading items, queued inside the processors' transaction. */
function uplinkProcessor(uplink: UplinkService): Processor {
  return { name: 'uplink', process: (readings) => void uplink.queueReadings(readings) };
}

export async function startFirewatch(config: Config, opts: StartOptions = {}): Promise<Firewatch> {
  const log = opts.logger ?? createLogger(config.logLevel);
  // firewatch.db: registry, alerts, users, feed, outboxes, positions; readings.db: the reading log,
  // whose only writer is the log's worker thread (readings-database.ts says why two files)
  const dbOpts = { synchronous: config.sqlite.synchronous, busyTimeoutMs: config.sqlite.busyTimeoutMs } as const;
  const db = openDatabase(join(config.dataDir, 'firewatch.db'), dbOpts);
  const readingsFile = join(config.dataDir, READINGS_FILE);
  let readingsDb: Db;
  try {
    readingsDb = openReadingsDatabase(readingsFile, dbOpts);
    const moved = moveLegacyReadings(db, readingsFile);
    if (moved.moved + moved.outbox > 0) log.info(moved, 'readings moved from firewatch.db into readings.db');
  } catch (err) {
    db.close();
    throw err;
  }
  const settings = new SqliteSettingsStore(db);

  // A generated admin token is stored and shown only once the service is up, so a start that
  // fails (a port in use) does not burn the one chance to see it.
  let adminDigest: string;
  let generatedToken: string | undefined;
  if (config.adminToken) {
    adminDigest = sha256(config.adminToken);
  } else {
    const stored = settings.get(ADMIN_TOKEN_KEY);
    if (stored) adminDigest = stored;
    else {
      generatedToken = generateSecret(32);
      adminDigest = sha256(generatedToken);
    }
  }
  const cleanups: Array<() => Promise<void> | void> = [
    () => {
      db.close();
      readingsDb.close();
    },
  ];
  try {
    return await assemble();
  } catch (err) {
    for (const c of cleanups.reverse()) await c();
    throw err;
  }

  function safetyCodeSecret(): string {
    const stored = settings.get(SAFETY_CODE_SECRET_KEY);
    if (stored) return stored;
    const secret = generateSecret(32);
    settings.set(SAFETY_CODE_SECRET_KEY, secret);
    return secret;
  }

  async function assemble(): Promise<Firewatch> {
    const clock = opts.clock ?? new SystemClock();
    const metrics = new Metrics();
    // storage failures are values: counted, logged once per interval, shown on /readyz
    const outages = new OutageReporter(log.child({ module: 'storage' }), (op) => metrics.storageErrors.inc({ op }), () => Date.now());
    const registry = new DeviceRegistry(new SqliteRegistryStore(db), () => new Date(clock.now()), { commissioningMaxH: config.commissioningMaxH });
    const status = new DeviceStatusTracker(new SqliteDeviceStatusStore(db), () => clock.now());
    status.start(1000, (err) => outages.failed('device_status', err), () => outages.ok('device_status'));
    cleanups.push(() => status.close());

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
    await readingLog.start();
    cleanups.push(() => readingLog.close());

    const sqliteStore = new SqliteReadingStore(readingsDb);
    const remote = makeRemoteStore(config);
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
    const readingStore: ReadingStore = remote ?? sqliteStore;

    // alerts: rules → lifecycle → live feed, all on the injected clock
    const feed = new LiveFeed(new SqliteEventLogStore(db), clock);
    const deadlines = new DeadlinePolicy({ ackS: config.alerts.ackS, closeS: config.alerts.closeS }, config.alerts.byUse);
    const auth = new AuthService({
      store: new SqliteAuthStore(db),
      adminTokenSha256: adminDigest,
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
      audit: new AuditLog(new SqliteAuditStore(db), clock),
      clock,
      maintenanceMaxOperatorH: config.alerts.maintenanceMaxOperatorH,
      deadlinesFor: (use) => deadlines.for(use),
    });
    const escalation = new EscalationScheduler(alerts, clock);
    const ruleStates = new SqliteRuleStateStore(db);
    ruleStates.start(1000, (err) => outages.failed('rule_state', err), () => outages.ok('rule_state'));
    cleanups.push(() => ruleStates.close());
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
      if (e.type === 'device_removed') ruleStates.forgetDevice(e.deviceId);
    });
    // in service after commissioning (issue #17 item 6): the installer's alerts are filed as tests
    // and the rules start afresh, so the next reading decides what the duty room sees
    registry.onInService((device, by) => {
      alerts.endCommissioning(device, by);
      ruleStates.forgetDevice(device.id);
    });

    // platform uplink (issue #6): alerts and presence from the feed, readings after the sink,
    // building changes from the registry; one durable lane per configured adapter
    const uplinkAdapters: UplinkAdapter[] = [];
    if (config.uplink.http) {
      const h = config.uplink.http;
      uplinkAdapters.push(
        new HttpUplinkAdapter({
          url: h.url,
          timeoutMs: h.timeoutMs,
          clock,
          ...(h.token !== undefined ? { token: h.token } : {}),
          ...(h.hmacSecret !== undefined ? { hmacSecret: h.hmacSecret } : {}),
          ...(h.mappingFile !== undefined ? { mapping: loadMapping(h.mappingFile) } : {}),
        }),
      );
    }
    if (config.uplink.mqtt) {
      uplinkAdapters.push(new MqttUplinkAdapter({ ...config.uplink.mqtt, timeoutMs: 10_000, log: log.child({ module: 'uplink-mqtt' }) }));
    }
    if (config.uplink.gb26875) {
      const { statusMap, ...g } = config.uplink.gb26875;
      uplinkAdapters.push(
        new Gb26875UplinkClient({
          ...g,
          heartbeatMs: g.heartbeatS * 1000,
          clock,
          log: log.child({ module: 'uplink-gb26875' }),
          ...(statusMap !== undefined ? { statusMap: loadStatusMap(statusMap) } : {}),
        }),
      );
    }
    const uplink =
      uplinkAdapters.length === 0
        ? undefined
        : new UplinkService({
            store: new SqliteUplinkStore(db),
            adapters: uplinkAdapters,
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
      cleanups.push(() => uplink.close());
      await uplink.start();
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
      onLag: (n) => metrics.processorLag.set({ consumer: 'processors' }, n),
    });
    await processors.start();
    cleanups.push(() => processors.close());
    if (forwarder) {
      await forwarder.start();
      cleanups.push(() => forwarder.close());
    }

    const pipeline = new Pipeline({
      registry,
      status,
      log: readingLog,
      metrics,
      logger: log.child({ module: 'pipeline' }),
      limits: config.ingest,
      now: () => clock.now(),
    });
    // presence on the live feed; a failing feed write must not reach the broker
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
    cleanups.push(() => broker.close());
    const mqttPorts = await broker.start();
    registry.onChange((e) => broker.disconnectDevice(e.deviceId));

    // GB/T 26875.3 gateway for UITDs (issue #6): decoded frames enter the same pipeline
    let gb26875: Gb26875Listener | undefined;
    let gb26875Port: number | undefined;
    const gb26875Tests = new SqliteGb26875TestStore(db);
    if (config.gb26875.port !== undefined) {
      gb26875 = new Gb26875Listener({
        host: config.gb26875.host,
        port: config.gb26875.port,
        deviceByAddress: (address) => registry.deviceByAddress(address),
        ingest: (m) => pipeline.ingest(m),
        onConnection: (deviceId, connected) => {
          if (connected) status.connected(deviceId);
          else status.disconnected(deviceId);
          publishPresence(deviceId, connected);
        },
        onSeen: (deviceId) => {
          status.accepted(deviceId, undefined, 0);
          onPresence(deviceId, true);
        },
        metrics,
        log: log.child({ module: 'gb26875' }),
        clock,
        componentState: {
          load: () => JSON.parse(settings.get(GB26875_COMPONENTS_KEY) ?? '{}') as ComponentStates,
          save: (states) => settings.set(GB26875_COMPONENTS_KEY, JSON.stringify(states)),
        },
        // issue #16 item 7: test-mode alarms recorded as tests; analog pressure bound to water_pressure devices
        testAlarms: gb26875Tests,
        boundDevice: (uitd, ref) => registry.deviceByGb26875Source(uitd.id, ref),
        ...(config.gb26875.vendorMappingFile !== undefined ? { vendorMapping: loadVendorMapping(config.gb26875.vendorMappingFile) } : {}),
        // protection (issue #12 item 7): caps, idle timeout, peer allow-lists
        idleTimeoutMs: config.gb26875.idleTimeoutS * 1000,
        maxConnections: config.gb26875.maxConnections,
        ...(config.gb26875.maxConnectionsPerPeer !== undefined ? { maxConnectionsPerPeer: config.gb26875.maxConnectionsPerPeer } : {}),
        ...(config.gb26875.allow !== undefined ? { defaultAllowedPeers: config.gb26875.allow } : {}),
        refusalLogIntervalMs: config.ingest.rejectLogIntervalS * 1000,
      });
      const listener = gb26875;
      cleanups.push(() => listener.close());
      registry.onChange((e) => {
        if (e.type === 'device_removed') listener.forget(e.deviceId);
      });
      gb26875Port = await gb26875.start();
      if (config.gb26875.allow === undefined) {
        const open = [...registry.devices()].filter((d) => d.kind === 'uitd' && !d.allowedPeers?.length).map((d) => d.id);
        if (open.length > 0) {
          log.warn(
            { module: 'gb26875', devices: open.slice(0, 20), count: open.length },
            'UITDs without allowedPeers accept frames from any peer (GB/T 26875.3 has no authentication): set allowedPeers or GB26875_ALLOW',
          );
        }
      }
    }
    escalation.start();
    runner.start();
    // writes that are retried only when their event comes again (presence on the feed): while any
    // write to firewatch.db fails, a tiny write every second tells when it works again
    const EVENT_DRIVEN_OPS = ['feed', 'presence'];
    const probeTimer = every(
      1000,
      () => {
        if (!EVENT_DRIVEN_OPS.some((op) => outages.isFailing(op))) return;
        settings.set('storage_probe_at', String(Date.now()));
        for (const op of EVENT_DRIVEN_OPS) outages.ok(op);
      },
      () => undefined, // still failing: the ops stay failing
      () => undefined,
    );
    cleanups.push(() => clearInterval(probeTimer));
    const housekeeping = startHousekeeping(clock, log, config, feed, readingLog, () =>
      Math.min(processors.position(), forwarder?.position() ?? Number.MAX_SAFE_INTEGER),
    );
    const commissioningScan = startCommissioningScan(clock, log.child({ module: 'devices' }), registry, outages);
    cleanups.push(() => {
      commissioningScan.cancel();
      housekeeping.cancel();
      runner.close();
      escalation.close();
    });

    const readiness: ReadinessCheck[] = [
      { name: 'broker', check: async () => ({ ready: true, detail: { connections: broker.connectedCount(), ports: mqttPorts } }) },
      {
        name: 'log',
        check: async () => {
          const h = readingLog.health();
          return {
            ready: h.ok,
            detail: {
              log: readingLog.name,
              ...(h.reason !== undefined ? { reason: h.reason } : {}),
              ...(h.failingSince !== undefined ? { failingSince: new Date(h.failingSince).toISOString() } : {}),
            },
          };
        },
      },
      {
        name: 'storage',
        check: async () => {
          const s = outages.status();
          return { ready: s.ok, detail: s.ok ? {} : { failing: s.failing } };
        },
      },
      {
        name: 'processors',
        check: async () => ({ ready: !outages.isFailing('processors'), detail: { position: processors.position(), lag: processors.lag() } }),
      },
      {
        name: 'store',
        check: async () => {
          await readingStore.ping();
          return { ready: true, detail: { store: readingStore.name } };
        },
      },
      ...(forwarder
        ? [
            {
              name: 'sink',
              check: async () => {
                const s = forwarder.status();
                return {
                  ready: s.ready,
                  detail: { sink: s.name, backlog: s.backlog, backlogAgeS: s.backlogAgeS, ...(s.lastError ? { lastError: s.lastError } : {}) },
                };
              },
            },
          ]
        : []),
    ];

    const gateway = gb26875;
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
        secret: safetyCodeSecret(),
        bounds: { offlineH: config.safetyCodeOfflineH, maintenanceH: config.alerts.maintenanceMaxOperatorH },
      }),
      importer: new BuildingImporter(registry, changeControl),
      publicBaseUrl: config.publicBaseUrl,
      readiness,
      clock,
      changeControl,
      log,
      version: packageVersion(),
    });
    cleanups.push(() => api.close());
    await api.listen({ port: config.http.port, host: config.http.host });
    const addr = api.server.address();
    const httpPort = typeof addr === 'object' && addr ? addr.port : config.http.port;
    const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
    const httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
    if (generatedToken) {
      settings.set(ADMIN_TOKEN_KEY, adminDigest);
      (opts.announceSecret ?? ((t) => process.stderr.write(t)))(
        `\n  管理员令牌 / Admin API token (shown once, only its hash is stored):\n\n    ${generatedToken}\n\n` +
          `  Use it as "Authorization: Bearer <token>". Set ADMIN_TOKEN to choose your own.\n\n`,
      );
    }
    log.info({ httpUrl, mqtt: mqttPorts, store: readingStore.name }, 'Firewatch ready');

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        // stop intake first, then timers; commit what was accepted, process it, then stop
        await broker.close();
        await gb26875?.close();
        await api.close();
        housekeeping.cancel();
        commissioningScan.cancel();
        clearInterval(probeTimer);
        runner.close();
        escalation.close();
        await readingLog.close();
        await processors.close();
        await forwarder?.close();
        await uplink?.close();
        ruleStates.close();
        status.close();
        db.close();
        readingsDb.close();
      })());

    return { httpUrl, mqttPorts, api, registry, metrics, log: readingLog, processors, forwarder, alerts, feed, runner, uplink, gb26875Port, logger: log, close };
  }
}
