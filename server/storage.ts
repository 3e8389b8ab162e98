/**
 * Where the service's state lives (docs/adr/0008): the embedded default, two SQLite files in
 * DATA_DIR (firewatch.db for the state, readings.db for the reading log, readings-database.ts says
 * why two), or, with DATABASE_URL, one PostgreSQL database shared by every node (storage-postgres.ts).
 * The composition root (main.ts) builds the services on what this gives and never asks which
 * engine it is, except to report it (main.ts openStorage picks the engine).
 *
 * The one difference the services see: a *step* (the processors' batch, a person's acknowledgement)
 * is a synchronous function run as one transaction. On SQLite it is a better-sqlite3 transaction,
 * done when it returns; on PostgreSQL a write scope (services/shared/write-scope.ts) over mirrors
 * that answer from memory, done when its writes committed.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AlertReader, AlertWriter, MaintenanceStore, SyncMaintenanceStore } from '../services/alerts/model.js';
import type { AuditStore } from '../services/audit/model.js';
import type { AuthStore } from '../services/auth/model.js';
import type { Config } from '../services/config/config.js';
import type { DeviceStatusStore } from '../services/devices/device-status.js';
import type { RegistryStore } from '../services/devices/model.js';
import type { TestWindowBackend } from '../services/devices/test-windows.js';
import type { LiveFeed } from '../services/live-feed/live-feed.js';
import type { FeedLog } from '../services/live-feed/model.js';
import type { LogHealth, ReadingLog, SyncCursorStore } from '../services/log/reading-log.js';
import type { Metrics } from '../services/metrics/metrics.js';
import type { RuleStateStore } from '../services/rules/rule-state-store.js';
import type { OutageReporter } from '../services/shared/outage.js';
import type { SyncSettingsStore } from '../services/shared/settings.js';
import type { RunUnitOfWork } from '../services/shared/unit-of-work.js';
import type { WriteScope } from '../services/shared/write-scope.js';
import type { ReadingStore } from '../services/storage/reading-store.js';
import type { UplinkStore } from '../services/uplink/model.js';
import { openDatabase, type Db } from '../services/storage/sqlite/database.js';
import { moveLegacyReadings, openReadingsDatabase, READINGS_FILE } from '../services/storage/sqlite/readings-database.js';
import { SqliteAlertStore } from '../services/storage/sqlite/sqlite-alert-store.js';
import { SqliteAuditStore } from '../services/storage/sqlite/sqlite-audit-store.js';
import { SqliteAuthStore } from '../services/storage/sqlite/sqlite-auth-store.js';
import { SqliteCursorStore } from '../services/storage/sqlite/sqlite-cursor-store.js';
import { SqliteDeviceStatusStore } from '../services/storage/sqlite/sqlite-device-status-store.js';
import { SqliteEventLogStore, SqliteMaintenanceStore } from '../services/storage/sqlite/sqlite-feed-stores.js';
import { SqliteReadingLog } from '../services/storage/sqlite/sqlite-reading-log.js';
import { SqliteReadingStore } from '../services/storage/sqlite/sqlite-reading-store.js';
import { SqliteRegistryStore } from '../services/storage/sqlite/sqlite-registry-store.js';
import { SqliteRuleStateStore } from '../services/storage/sqlite/sqlite-rule-state-store.js';
import { SqliteSettingsStore } from '../services/storage/sqlite/sqlite-settings-store.js';
import { SqliteTestWindowStore } from '../services/storage/sqlite/sqlite-test-window-store.js';
import { sqliteUnitOfWork } from '../services/storage/sqlite/sqlite-unit-of-work.js';
import { SqliteUplinkStore } from '../services/storage/sqlite/sqlite-uplink-store.js';
import type { Gb26875TestStore } from '../services/devices/gb26875-points.js';
import { SqliteGb26875TestStore } from '../services/storage/sqlite/sqlite-gb26875-store.js';
import type { ReadinessCheck } from '../services/api/routes/health.js';
import type { Lifecycle } from './lifecycle.js';

/** The rule state as the processors use it: the rules' store, saved with each step. */
export interface StepRuleStates extends RuleStateStore {
  forgetDevice(deviceId: string): void;
  close(): void | Promise<void>;
}

/** The reading log as the service runs it: the log, and its health, drain and retention. */
export interface ServiceReadingLog extends ReadingLog {
  readonly name: string;
  health(): LogHealth;
  drain(): Promise<void>;
  prune(cutoff: number, maxId: number): Promise<number>;
  close(): Promise<void>;
}

export interface Storage {
  /** 'sqlite' (DATA_DIR) or 'postgres' (DATABASE_URL), for the log line and /readyz */
  readonly engine: 'sqlite' | 'postgres';
  readonly settings: SyncSettingsStore;
  /** writes of several stores that commit together (a change and its audit entry) */
  readonly runUnitOfWork: RunUnitOfWork;
  readonly registry: RegistryStore;
  readonly deviceStatus: DeviceStatusStore;
  readonly cursors: SyncCursorStore;
  /** the durable reading log the broker acknowledges after */
  readonly readingLog: ServiceReadingLog;
  /** readings for the API when InfluxDB is not configured */
  readonly readings: ReadingStore;
  readonly feedLog: FeedLog;
  /** PostgreSQL: the write scope the feed defers its pushes to */
  readonly scope: WriteScope | undefined;
  readonly auth: AuthStore;
  readonly alerts: AlertWriter;
  readonly alertReader: AlertReader;
  readonly holdAlert: ((id: string) => Promise<unknown>) | undefined;
  readonly maintenance: SyncMaintenanceStore;
  /** PostgreSQL: where a change-controlled window is written inside its audit entry's unit of work */
  readonly maintenanceInUnit: { store: MaintenanceStore; committed: () => void } | undefined;
  readonly audit: AuditStore;
  readonly ruleStates: StepRuleStates;
  readonly testWindows: TestWindowBackend;
  readonly uplink: UplinkStore;
  readonly gb26875Tests: Gb26875TestStore;
  /** the feed, once made: a step holds its pushes until it committed */
  useFeed(feed: LiveFeed): void;
  /**
   * A synchronous step as one transaction (PostgreSQL: with the rule state it changed). SQLite
   * returns its result; PostgreSQL resolves once the step's writes committed.
   */
  step<T>(fn: () => T): T | Promise<T>;
  /**
   * Save the rule state changes that no step saved (SQLite: a timer, for what ticks and last wills
   * change between batches; PostgreSQL: nothing, every step saves what it changed).
   */
  startRuleStateSaving(): void;
  /** the processors' batch failed: bring the state it changed in memory back to what is stored */
  afterRollback(): void | Promise<void>;
  /** saved with each processors' batch, inside its transaction */
  beforeCommit(): void;
  /** what /readyz checks of the database itself (none for SQLite: its failures are the ops') */
  readonly readiness: ReadinessCheck[];
  /**
   * PostgreSQL: the reading log is shared by every node on the database; the processors read it
   * (polling every `pollMs` for the other nodes' appends) while this node holds their lease.
   * Undefined on SQLite: one node, its own log.
   */
  readonly sharedLog: SharedLog | undefined;
}

export interface Lease {
  readonly held: boolean;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface SharedLog {
  readonly pollMs: number;
  lease(o: { onAcquired: () => Promise<void>; onLost: (err: Error) => void }): Lease;
}

export interface StorageDeps {
  config: Config;
  life: Lifecycle;
  log: Logger;
  outages: OutageReporter;
  metrics: Metrics;
}

export async function openSqliteStorage({ config, life, log, outages, metrics }: StorageDeps): Promise<Storage> {
  const dbOpts = { synchronous: config.sqlite.synchronous, busyTimeoutMs: config.sqlite.busyTimeoutMs } as const;
  const db: Db = await life.start('firewatch.db', () => openDatabase(join(config.dataDir, 'firewatch.db'), dbOpts), () => void db.close());
  const readingsFile = join(config.dataDir, READINGS_FILE);
  const readingsDb: Db = await life.start('readings.db', () => openReadingsDatabase(readingsFile, dbOpts), () => void readingsDb.close());
  const moved = moveLegacyReadings(db, readingsFile);
  if (moved.moved + moved.outbox > 0) log.info(moved, 'readings moved from firewatch.db into readings.db');

  // writes that commit together go through the unit of work; the live feed (made later) holds the
  // pushes of what a unit's writes published until it commits
  let feed: LiveFeed | undefined;
  const runUnitOfWork = sqliteUnitOfWork(db, { around: (commit) => (feed ? feed.holding(commit) : commit()) });
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
  const alerts = new SqliteAlertStore(db);
  const ruleStates = new SqliteRuleStateStore(db);
  const testWindows = new SqliteTestWindowStore(db);
  return {
    engine: 'sqlite',
    settings: new SqliteSettingsStore(db),
    runUnitOfWork,
    registry: new SqliteRegistryStore(db),
    deviceStatus: new SqliteDeviceStatusStore(db),
    cursors: new SqliteCursorStore(db),
    readingLog,
    readings: new SqliteReadingStore(readingsDb),
    feedLog: new SqliteEventLogStore(db),
    scope: undefined,
    auth: new SqliteAuthStore(db),
    alerts,
    alertReader: alerts,
    holdAlert: undefined,
    maintenance: new SqliteMaintenanceStore(db),
    maintenanceInUnit: undefined,
    audit: new SqliteAuditStore(db),
    ruleStates,
    testWindows,
    uplink: new SqliteUplinkStore(db),
    gb26875Tests: new SqliteGb26875TestStore(db),
    useFeed(f) {
      feed = f;
    },
    step: (fn) => (feed ? feed.holding(() => db.transaction(fn)()) : db.transaction(fn)()),
    startRuleStateSaving: () => ruleStates.start(1000, (err) => outages.failed('rule_state', err), () => outages.ok('rule_state')),
    afterRollback: () => ruleStates.reload(),
    beforeCommit: () => ruleStates.flush(),
    readiness: [],
    sharedLog: undefined,
  };
}
