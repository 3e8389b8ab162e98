/**
 * The state on PostgreSQL (DATABASE_URL; docs/adr/0008, README "Running on PostgreSQL"). Every
 * store is the PostgreSQL twin of the SQLite one and passes the same contract suite. Where a
 * service calls its store synchronously (the rules and the alert service inside the processors'
 * batch, a person's acknowledgement), it gets a mirror (pg-alert-mirror.ts, pg-mirrors.ts,
 * pg-feed-log.ts): answers from memory, writes queued in the write scope, committed together as
 * one transaction per step, checked by the database (one unclosed alert per device and rule, alert
 * versions, the processors' cursor compare-and-set) and reloaded when a step rolls back.
 *
 * Several nodes may share the database. Each keeps its own DATA_DIR for nothing but its node id;
 * everything else is here. The reading log is shared: every node appends to it and acknowledges
 * after its commit; one node at a time — the holder of the processors' lease (pg-lease.ts) —
 * consumes it (rules → alerts → feed → uplink), reading it in id order, so each device's readings
 * are judged in order by one node. When that node dies, another takes the lease over within
 * about a second and goes on from the stored cursor.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SyncCursorStore } from '../services/log/reading-log.js';
import { openPostgres, uniqueViolation, type PgDatabase } from '../services/storage/postgres/database.js';
import { PgAlertMirror, PgMaintenanceMirror } from '../services/storage/postgres/pg-alert-mirror.js';
import { PgAlertStore, PgMaintenanceStore, StaleAlertError } from '../services/storage/postgres/pg-alert-store.js';
import { PgAuditStore } from '../services/storage/postgres/pg-audit-store.js';
import { PgAuthStore } from '../services/storage/postgres/pg-auth-store.js';
import { PgFeedLog } from '../services/storage/postgres/pg-feed-log.js';
import { PgGb26875TestStore } from '../services/storage/postgres/pg-gb26875-store.js';
import { PgCursorMirror, PgSettingsMirror, PgTestWindowMirror } from '../services/storage/postgres/pg-mirrors.js';
import { PgReadingLog, PgReadingStore } from '../services/storage/postgres/pg-readings.js';
import { PgRegistryStore } from '../services/storage/postgres/pg-registry-store.js';
import { PgRuleStateStore } from '../services/storage/postgres/pg-rule-state-store.js';
import { PgSettingsStore } from '../services/storage/postgres/pg-settings-store.js';
import { PgCursorStore, PgDeviceStatusStore, PgEventLogStore, PgTestWindowStore } from '../services/storage/postgres/pg-state-stores.js';
import { PgUplinkStore } from '../services/storage/postgres/pg-uplink-store.js';
import { pgUnitOfWork } from '../services/storage/postgres/pg-unit-of-work.js';
import { PgLease } from '../services/storage/postgres/pg-lease.js';
import { WriteScope } from '../services/shared/write-scope.js';
import type { Storage, StorageDeps } from './storage.js';

/**
 * The processors' lease (pg-lease.ts): the ASCII bytes of "fwprocsr" read as one bigint, as
 * database.ts's MIGRATION_LOCK_KEY is made; no other Firewatch lock uses it.
 */
export const PROCESSORS_LEASE_KEY = 0x667770726f637372n;

/** The node's id, kept in DATA_DIR so a restarted node is the same node (its notifications, its log lines). */
function nodeIdIn(dataDir: string): string {
  const file = join(dataDir, 'node-id');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (id) return id;
  }
  mkdirSync(dataDir, { recursive: true });
  const id = randomUUID();
  writeFileSync(file, `${id}\n`, { mode: 0o644 });
  return id;
}

/** The URL without its password, for log lines and /readyz. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable)';
  }
}

export async function openPostgresStorage({ config, life, log, outages, metrics }: StorageDeps): Promise<Storage> {
  const url = config.databaseUrl!;
  const node = nodeIdIn(config.dataDir);
  const db: PgDatabase = await life.start('PostgreSQL', () => openPostgres(url, { applicationName: `firewatch ${node.slice(0, 8)}` }), () => db.close());
  log.info({ database: redactedUrl(url), node }, 'state in PostgreSQL');
  const runUnitOfWork = pgUnitOfWork(db);
  // a write made outside a step (a deadline, a presence change) that lost to another node's (the
  // same alert raised there first, a changed version) is a conflict the mirror has already reloaded
  // from, not an outage
  const scope = new WriteScope(runUnitOfWork, {
    onImplicitError: (err) => {
      if (err instanceof StaleAlertError || uniqueViolation(err) !== undefined) log.info({ err: String(err) }, 'a write lost to another node; the mirror was read again');
      else outages.failed('pg_write', err);
    },
    onCommitted: () => outages.ok('pg_write'),
  });
  // a broken notification channel reconnects by itself and reads everything again: worth a line
  // in the log, not a storage outage (what it notifies is the database's anyway)
  const watchBroken = (err: unknown) => log.warn({ err }, 'PostgreSQL notification channel broken; reconnecting and reloading');

  const settings = await PgSettingsMirror.open({ db, store: new PgSettingsStore(db), scope });
  const cursorStore = new PgCursorStore(db);
  const cursorMirror = await PgCursorMirror.open({ db, store: cursorStore, scope });
  // the processors' position moves by compare-and-set: a node that lost the lease cannot move it
  const cursors: SyncCursorStore = {
    get: (name) => cursorMirror.get(name),
    set: (name, position) => {
      // queued before the mirror's own upsert (of the same value): it fails the step if another node moved the cursor
      const from = cursorMirror.get(name) ?? 0;
      scope.write(() => cursorStore.advance(name, from, position));
      cursorMirror.set(name, position);
    },
  };
  const alertStore = new PgAlertStore(db);
  const alerts = await PgAlertMirror.open({ db, store: alertStore, scope, nodeId: node, onWatchError: watchBroken });
  life.add('alert mirror', () => alerts.close());
  const maintenanceStore = new PgMaintenanceStore(db);
  const maintenance = await PgMaintenanceMirror.open({ db, store: maintenanceStore, scope, nodeId: node });
  life.add('maintenance mirror', () => maintenance.close());
  const ruleStates = await PgRuleStateStore.open(db);
  scope.onRollback(() => ruleStates.reload());
  const testWindowStore = new PgTestWindowStore(db);
  const testWindows = await PgTestWindowMirror.open({ db, store: testWindowStore, scope, watch: true, nodeId: node, onWatchError: watchBroken });
  life.add('test window mirror', () => testWindows.close());
  const readingLog = new PgReadingLog(db, {
    appendTimeoutMs: config.sqlite.appendTimeoutMs,
    log: log.child({ module: 'log' }),
    onBatch: (n) => metrics.logAppendBatch.observe(n),
    onFailure: (err) => outages.failed('log_append', err),
    onRecovered: () => outages.ok('log_append'),
  });

  return {
    engine: 'postgres',
    settings,
    runUnitOfWork,
    registry: new PgRegistryStore(db, { node }),
    deviceStatus: new PgDeviceStatusStore(db),
    cursors,
    readingLog,
    readings: new PgReadingStore(db),
    feedLog: new PgFeedLog(db, new PgEventLogStore(db), scope, watchBroken),
    scope,
    auth: new PgAuthStore(db),
    alerts,
    alertReader: alertStore,
    holdAlert: (id) => alerts.hold(id),
    maintenance,
    maintenanceInUnit: { store: maintenanceStore, committed: () => void maintenance.reload().catch(watchBroken) },
    audit: new PgAuditStore(db),
    ruleStates,
    testWindows,
    uplink: new PgUplinkStore(db),
    gb26875Tests: new PgGb26875TestStore(db),
    useFeed: () => undefined,
    // every step saves the rule state it changed, last, in its own transaction
    step: (fn) =>
      scope.run(() => {
        const out = fn();
        scope.write(() => ruleStates.flush());
        return out;
      }),
    afterRollback: () => undefined, // the scope's rollback hooks reloaded the mirrors and the rule state
    beforeCommit: () => undefined,
    startRuleStateSaving: () => undefined,
    readiness: [
      {
        name: 'database',
        check: async () => {
          try {
            await db.query('SELECT 1');
            return { ready: true, detail: { engine: 'postgres', database: redactedUrl(url), node } };
          } catch (err) {
            return { ready: false, detail: { engine: 'postgres', database: redactedUrl(url), node, reason: err instanceof Error ? err.message : String(err) } };
          }
        },
      },
    ],
    sharedLog: {
      pollMs: 100,
      lease: (o) =>
        new PgLease(db, PROCESSORS_LEASE_KEY, {
          onAcquired: async () => {
            // another node processed until now: its position, rule state and alerts are the truth
            await Promise.all([cursorMirror.refresh(), ruleStates.reload(), alerts.reload(), testWindows.refresh()]);
            log.info({ node }, 'this node processes the reading log now (processors lease taken)');
            await o.onAcquired();
          },
          onLost: (err) => {
            log.warn({ err, node }, 'processors lease lost: another node takes over');
            o.onLost(err);
          },
          onError: (err) => outages.failed('processors_lease', err),
          onOk: () => outages.ok('processors_lease'),
        }),
    },
  };
}
