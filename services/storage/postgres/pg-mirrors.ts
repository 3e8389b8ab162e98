/**
 * Mirrors of small PostgreSQL stores (docs/adr/0008, ../../shared/write-scope.ts): synchronous
 * façades for the services that still call their store synchronously — the processors' cursor,
 * the settings, the running tests of fire-water points. Each one
 *   - loads what it serves into memory in `open` (one query; the tables are small), and answers
 *     its synchronous reads from there;
 *   - applies a write to that copy at once and queues the store's write (`scope.write(() =>
 *     store.set(…))`) in the open write scope, or in this turn's implicit one, so it commits with
 *     the other writes of the same synchronous step, in the order they were made;
 *   - reloads from the database when a scope rolls back (`scope.onRollback` → `reload()`), so the
 *     next step decides on what is stored, not on what the failed step wrote;
 *   - reads again what another node may have changed on `refresh()`: the composition root calls
 *     it where it knows the database moved under the node (the processors' lease taken over from
 *     another node). Unlike `reload()`, which is for a rollback (nothing applied and uncommitted
 *     then), `refresh` is safe at any time: it reads in a scope of its own, so every step queued
 *     before it has committed and none after it has started, installs what it read right after
 *     that scope commits, and keeps the value this node wrote to a key (a cursor's name, a
 *     setting's key, a test's id) while it was reading, since that write commits after the read.
 * Writes go through the PostgreSQL stores (pg-state-stores.ts, pg-settings-store.ts), so they pass
 * the same contracts; only the loads are read here (one SELECT of the whole table each), because the
 * stores read one key at a time.
 *
 * Staleness across nodes (what another node writes is seen here when):
 *   - PgCursorMirror: every cursor of log_cursors, read at open, again after a scope of this node
 *     rolled back and on `refresh()`. A position another node sets is not seen before then. That
 *     is enough for a consumer only one node runs at a time (the processors under their lease:
 *     refresh when the lease is taken), and wrong for one two nodes run at once.
 *   - PgSettingsMirror: every setting, read at open and again after a rolled-back scope (or on
 *     `refresh()`, which nothing calls today). A setting
 *     another node writes — the admin token's digest (server/admin-token.ts), the safety-code
 *     secret, the "last alive" mark, the GB/T 26875.3 gateway's component states — is read only at
 *     start: a node keeps the value it started with (or set itself) until it restarts. Two nodes
 *     setting one key leave the value of the last commit in the database, and each its own in
 *     memory.
 *   - PgTestWindowMirror: the running tests (not ended early, ending after the open's `now`), read
 *     at open and after a rolled-back scope. Without `watch`, a test another node started or
 *     ended is seen only then, on `refresh()` or at restart: this node's pressure rules judge that
 *     device without the flowing limits, or still with them. With `watch: true`, every commit of a
 *     test write (start, end, the pressures observed) NOTIFYs firewatch_device_tests and every
 *     other watching node refreshes, milliseconds after the commit, and again after its listening
 *     connection came back. Still open between nodes: two nodes may each start a test for one
 *     device at once (no constraint refuses the second), and an end on one node racing an
 *     observe on the other is decided by whichever commits last (PgTestWindowStore.update writes
 *     every field).
 *     `list` (the API's history) is always read from the database: committed state.
 */
import { randomUUID } from 'node:crypto';
import type { TestWindow, TestWindowBackend } from '../../devices/test-windows.js';
import type { SyncCursorStore } from '../../log/reading-log.js';
import type { SyncSettingsStore } from '../../shared/settings.js';
import type { WriteScope } from '../../shared/write-scope.js';
import type { PgDatabase } from './database.js';
import { listen, notify, type Listening } from './pg-notify.js';
import type { PgSettingsStore } from './pg-settings-store.js';
import type { PgCursorStore, PgTestWindowStore } from './pg-state-stores.js';

/** What every mirror is opened with: the database (for its load), the store it writes through, the scope its writes queue in. */
export interface MirrorDeps<S> {
  db: PgDatabase;
  store: S;
  scope: WriteScope;
}

/**
 * Loads that may overlap (a rollback's reload while the lease's one runs): a load installs what it
 * read only if no load started after it has installed already, so an older read never replaces a
 * newer one.
 */
class Loads<K> {
  private started = 0;
  private installed = 0;
  /** per refresh in flight, the keys written here since it was asked for */
  private readonly written = new Set<Set<K>>();

  constructor(private readonly scope: WriteScope) {}

  /** A write of `key` here: a refresh in flight keeps its local value. */
  wrote(key: K): void {
    for (const w of this.written) w.add(key);
  }

  /** A rollback's reload: read and install. */
  async reload<T>(read: () => Promise<T>, install: (v: T, keepLocal: ReadonlySet<K>) => void): Promise<void> {
    const n = ++this.started;
    const v = await read();
    if (n < this.installed) return;
    this.installed = n;
    install(v, new Set());
  }

  /** A refresh: the read in a scope of its own, installed once that committed, before the next step. */
  async refresh<T>(read: () => Promise<T>, install: (v: T, keepLocal: ReadonlySet<K>) => void): Promise<void> {
    const written = new Set<K>();
    this.written.add(written);
    let n = 0;
    let v: T | undefined;
    try {
      await this.scope.run(() => {
        this.scope.write(async () => {
          n = ++this.started;
          v = await read();
        });
        this.scope.afterCommit(() => {
          if (n < this.installed) return;
          this.installed = n;
          install(v as T, written);
        });
      });
    } finally {
      this.written.delete(written);
    }
  }
}

/** `fresh` with the entries of `local` named in `keep` (present or absent there) instead of its own. */
function merged<K, V>(fresh: Map<K, V>, local: Map<K, V>, keep: ReadonlySet<K>): Map<K, V> {
  for (const k of keep) {
    const v = local.get(k);
    if (v === undefined) fresh.delete(k);
    else fresh.set(k, v);
  }
  return fresh;
}

/**
 * A key → value table held whole in memory, written through the scope: the shape of the cursor
 * and settings mirrors below (each gives its table's read).
 */
class KeyValueMirror<V> {
  private values = new Map<string, V>();
  private readonly loads: Loads<string>;

  protected constructor(
    private readonly scope: WriteScope,
    private readonly write: (key: string, value: V) => Promise<unknown>,
    private readonly read: () => Promise<Map<string, V>>,
  ) {
    this.loads = new Loads(scope);
  }

  protected async init(): Promise<void> {
    await this.reload();
    this.scope.onRollback(() => this.reload());
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  set(key: string, value: V): void {
    this.values.set(key, value);
    this.loads.wrote(key);
    this.scope.write(() => this.write(key, value));
  }

  /** Every row again from the database (committed state): after a rollback, or at open. */
  reload(): Promise<void> {
    return this.loads.reload(this.read, (fresh) => (this.values = fresh));
  }

  /** Every row again, safe while steps are queued (see the header); rejects if the read failed. */
  refresh(): Promise<void> {
    return this.loads.refresh(this.read, (fresh, keep) => (this.values = merged(fresh, this.values, keep)));
  }
}

/** The reading log's consumers' positions (SyncCursorStore, ../../log/reading-log.ts) over PgCursorStore. */
export class PgCursorMirror extends KeyValueMirror<number> implements SyncCursorStore {
  static async open(deps: MirrorDeps<PgCursorStore>): Promise<PgCursorMirror> {
    const m = new PgCursorMirror(
      deps.scope,
      (name, position) => deps.store.set(name, position),
      async () => {
        const rows = await deps.db.query<{ name: string; position: string }>('SELECT name, position FROM log_cursors');
        return new Map(rows.map((r) => [r.name, Number(r.position)]));
      },
    );
    await m.init();
    return m;
  }
}

/** The service's key/value settings (SyncSettingsStore, ../../shared/settings.ts) over PgSettingsStore. */
export class PgSettingsMirror extends KeyValueMirror<string> implements SyncSettingsStore {
  static async open(deps: MirrorDeps<PgSettingsStore>): Promise<PgSettingsMirror> {
    const m = new PgSettingsMirror(
      deps.scope,
      (key, value) => deps.store.set(key, value),
      async () => {
        const rows = await deps.db.query<{ key: string; value: string }>('SELECT key, value FROM settings');
        return new Map(rows.map((r) => [r.key, r.value]));
      },
    );
    await m.init();
    return m;
  }
}

/** The channel a watching PgTestWindowMirror NOTIFYs and LISTENs on; the payload is the writing node's id. */
export const TEST_WINDOWS_CHANNEL = 'firewatch_device_tests';

export interface TestWindowMirrorDeps extends MirrorDeps<PgTestWindowStore> {
  /** the clock the running tests are loaded at (TestWindows' own; default Date.now) */
  now?: () => number;
  /** NOTIFY other nodes of each committed test write and reload on theirs (default false) */
  watch?: boolean;
  /** this node, to skip its own notifications (default: a random id) */
  nodeId?: string;
  /** the listening connection broke (it reconnects by itself) or a reload on notice failed */
  onWatchError?: (err: unknown) => void;
}

/**
 * The scheduled tests of fire-water points as TestWindows (../../devices/test-windows.ts) needs
 * them on PostgreSQL: the running tests in memory for the hot path (`active`, `update` from
 * observe, inside the processors' step), and the API's writes awaited until they committed.
 *   - `update` applies to the copy and queues PgTestWindowStore.update in the open scope;
 *   - `step(fn)` is `scope.run(fn)`: TestWindows ends a test inside one, so the end is decided and
 *     applied between the steps before and after it, and the API's promise says whether it
 *     committed (if not, the scope's rollback reloaded the copy, and TestWindows with it);
 *   - `insert` (start) runs in a scope of its own, because the id is the database's: it resolves
 *     with the stored test once committed, and the copy holds it — and the listeners have run —
 *     from the commit on, before the next step. Refused while a scope is open (inside a step): it
 *     would wait for the step it is part of;
 *   - `list` reads the store (committed state);
 *   - `onReload` listeners (TestWindows) run each time the running set changed under them: the
 *     copy read again (a rollback, `reload`, another node's notice) or a test inserted.
 * Every test handed out is a copy: TestWindows changes its own objects in place.
 */
export class PgTestWindowMirror implements TestWindowBackend {
  /** running tests by id */
  private rows = new Map<number, TestWindow>();
  private readonly loads: Loads<number>;
  private readonly listeners: Array<() => void> = [];
  private readonly now: () => number;
  private readonly nodeId: string;
  private listening: Listening | undefined;

  private constructor(private readonly deps: TestWindowMirrorDeps) {
    this.now = deps.now ?? Date.now;
    this.nodeId = deps.nodeId ?? randomUUID();
    this.loads = new Loads(deps.scope);
  }

  static async open(deps: TestWindowMirrorDeps): Promise<PgTestWindowMirror> {
    const m = new PgTestWindowMirror(deps);
    await m.reload();
    deps.scope.onRollback(() => m.reload());
    if (deps.watch) {
      m.listening = await listen(deps.db, TEST_WINDOWS_CHANNEL, {
        onMessage: (from) => {
          if (from !== m.nodeId) m.refreshOnNotice();
        },
        onResync: () => m.refreshOnNotice(),
        onError: (err) => deps.onWatchError?.(err),
      });
    }
    return m;
  }

  active(at: number): TestWindow[] {
    return [...this.rows.values()].filter((t) => t.endedAt === null && t.endsAt > at).sort((a, b) => a.id - b.id).map((t) => ({ ...t }));
  }

  update(t: TestWindow): void {
    const row = { ...t };
    this.hold(row);
    this.loads.wrote(row.id);
    this.deps.scope.write(() => this.deps.store.update(row));
    this.queueNotify();
  }

  step<T>(fn: () => T): Promise<T> {
    return this.deps.scope.run(fn);
  }

  async insert(t: Omit<TestWindow, 'id'>): Promise<TestWindow> {
    if (this.deps.scope.inScope) throw new Error('PgTestWindowMirror.insert waits for its own commit: call it outside a step');
    const fields = { ...t };
    let stored: TestWindow | undefined;
    await this.deps.scope.run(() => {
      this.deps.scope.write(async () => {
        stored = await this.deps.store.insert(fields);
      });
      this.queueNotify();
      this.deps.scope.afterCommit(() => {
        this.hold({ ...stored! });
        this.loads.wrote(stored!.id);
        this.changed();
      });
    });
    return { ...stored! };
  }

  list(deviceId: string, limit: number): Promise<TestWindow[]> {
    return this.deps.store.list(deviceId, limit);
  }

  onReload(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The running tests again from the database (committed state), then the listeners: after a rollback, or at open. */
  reload(): Promise<void> {
    return this.loads.reload(
      () => this.deps.store.active(this.now()),
      (rows) => this.install(new Map(rows.map((r) => [r.id, r]))),
    );
  }

  /**
   * The running tests again, safe while steps are queued (see the header), then the listeners;
   * rejects if the read failed. What a watching mirror does on another node's notice.
   */
  refresh(): Promise<void> {
    return this.loads.refresh(
      () => this.deps.store.active(this.now()),
      (rows, keep) => this.install(merged(new Map(rows.map((r) => [r.id, r])), this.rows, keep)),
    );
  }

  /** Stops listening (watch). */
  async close(): Promise<void> {
    const l = this.listening;
    this.listening = undefined;
    await l?.close();
  }

  private refreshOnNotice(): void {
    this.refresh().catch((err: unknown) => this.deps.onWatchError?.(err));
  }

  private install(rows: Map<number, TestWindow>): void {
    this.rows = new Map([...rows].map(([id, r]) => [id, { ...r }]));
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** keeps a running test, forgets one that ended early */
  private hold(t: TestWindow): void {
    if (t.endedAt === null) this.rows.set(t.id, t);
    else this.rows.delete(t.id);
  }

  /**
   * One NOTIFY per write, in the write's transaction (sent on commit, never for a rollback);
   * PostgreSQL delivers those of one transaction with one payload once.
   */
  private queueNotify(): void {
    if (!this.deps.watch) return;
    this.deps.scope.write(() => notify(this.deps.db, TEST_WINDOWS_CHANNEL, this.nodeId));
  }
}
