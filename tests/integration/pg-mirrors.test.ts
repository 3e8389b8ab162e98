/**
 * The mirrors of small PostgreSQL stores (services/storage/postgres/pg-mirrors.ts) on a real
 * database (tests/support/pg-harness.ts): each one answers from memory after `open`, stores what
 * a scope commits, goes back to what is stored when a scope rolls back, and commits an implicit
 * write (one made outside `run`). Each Sync… contract suite runs against its mirror with every
 * write followed by `scope.settled()` (and a failed implicit write turned into a rejection), so
 * the mirror passes what the SQLite store passes. Below them, TestWindows over the mirror (its
 * running tests reload with it; a test started on one node is seen on the other with `watch`),
 * and the GB/T 26875.3 listener awaiting the PostgreSQL test store.
 */
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Gb26875Listener } from '../../gateway/gb26875/listener.js';
import type { Device } from '../../services/devices/model.js';
import { TestWindows, type TestWindow } from '../../services/devices/test-windows.js';
import type { CursorStore } from '../../services/log/reading-log.js';
import { Metrics } from '../../services/metrics/metrics.js';
import { Command, FrameSplitter, decodeFrame, encodeAppData, encodeComponentStatus, encodeFrame, type AppDataInput, type ComponentStatusFlags, type Frame } from '../../services/protocols/gb26875/index.js';
import { ManualClock } from '../../services/shared/clock.js';
import type { SettingsStore } from '../../services/shared/settings.js';
import { WriteScope } from '../../services/shared/write-scope.js';
import type { PgDatabase } from '../../services/storage/postgres/database.js';
import { PgGb26875TestStore } from '../../services/storage/postgres/pg-gb26875-store.js';
import { PgCursorMirror, PgSettingsMirror, PgTestWindowMirror } from '../../services/storage/postgres/pg-mirrors.js';
import { PgSettingsStore } from '../../services/storage/postgres/pg-settings-store.js';
import { PgCursorStore, PgTestWindowStore } from '../../services/storage/postgres/pg-state-stores.js';
import { pgUnitOfWork } from '../../services/storage/postgres/pg-unit-of-work.js';
import { cursorStoreContract } from '../support/cursor-store-contract.js';
import { onPostgres, twoNodes } from '../support/pg-harness.js';
import { settingsStoreContract } from '../support/settings-store-contract.js';
import { testWindowStoreContract } from '../support/test-window-store-contract.js';

/** A scope on `db` that keeps what its implicit scopes failed with. */
function scopeOn(db: PgDatabase): { scope: WriteScope; implicitErrors: unknown[] } {
  const implicitErrors: unknown[] = [];
  return { scope: new WriteScope(pgUnitOfWork(db), { onImplicitError: (err) => implicitErrors.push(err) }), implicitErrors };
}

/** Waits for the scope's queue; an implicit scope that failed since is a rejection (the contract's write failed). */
async function committed(s: { scope: WriteScope; implicitErrors: unknown[] }): Promise<void> {
  await s.scope.settled();
  if (s.implicitErrors.length > 0) throw s.implicitErrors.shift();
}

async function until<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const boom = () => {
  throw new Error('a later write of the scope fails');
};

// ---------------------------------------------------------------------------------------------
// contracts: each mirror as the Sync… store its service takes, every write awaited until committed

/** A mirror opened on a database the harness made, with its scope, as a contract handle. */
async function contractHandle<M, S>(openMirror: (db: PgDatabase, s: ReturnType<typeof scopeOn>) => Promise<M>, wrap: (m: M, s: ReturnType<typeof scopeOn>) => S) {
  const open = async (db: PgDatabase) => {
    const s = scopeOn(db);
    return wrap(await openMirror(db, s), s);
  };
  const h = await onPostgres((db) => open(db));
  return {
    store: await h.store,
    reopen: async () => {
      await h.reopen(); // a restart: the database closed and opened again
      return open(h.db());
    },
    cleanup: h.cleanup,
  };
}

cursorStoreContract('postgres mirror', () =>
  contractHandle(
    (db, s) => PgCursorMirror.open({ db, store: new PgCursorStore(db), scope: s.scope }),
    (m, s): CursorStore => ({
      get: (name) => m.get(name),
      set: async (name, position) => {
        m.set(name, position);
        await committed(s);
      },
    }),
  ),
);

settingsStoreContract('postgres mirror', () =>
  contractHandle(
    (db, s) => PgSettingsMirror.open({ db, store: new PgSettingsStore(db), scope: s.scope }),
    (m, s): SettingsStore => ({
      get: (key) => m.get(key),
      set: async (key, value) => {
        m.set(key, value);
        await committed(s);
      },
    }),
  ),
);

/** the contract's own T0: a reopened mirror loads the tests running then */
const CONTRACT_T0 = Date.UTC(2026, 10, 29, 8);
testWindowStoreContract('postgres mirror', () =>
  contractHandle(
    (db, s) => PgTestWindowMirror.open({ db, store: new PgTestWindowStore(db), scope: s.scope, now: () => CONTRACT_T0 }),
    (m, s) => ({
      insert: (t: Omit<TestWindow, 'id'>) => m.insert(t),
      update: async (t: TestWindow) => {
        m.update(t);
        await committed(s);
      },
      active: (at: number) => m.active(at),
      list: (deviceId: string, limit: number) => m.list(deviceId, limit),
    }),
  ),
);

// ---------------------------------------------------------------------------------------------

describe('the mirrors on one database', () => {
  let h: Awaited<ReturnType<typeof onPostgres<PgDatabase>>>;
  let db: PgDatabase;
  let s: ReturnType<typeof scopeOn>;

  beforeEach(async () => {
    h = await onPostgres((d) => d);
    db = h.store;
    s = scopeOn(db);
  });
  afterEach(async () => {
    await s.scope.settled();
    await h.cleanup();
  });

  describe('PgCursorMirror', () => {
    const open = () => PgCursorMirror.open({ db, store: new PgCursorStore(db), scope: s.scope });

    it('answers from memory what was stored when it opened', async () => {
      const store = new PgCursorStore(db);
      await store.set('processors', 2 ** 40 + 7);
      await store.set('forwarder:influxdb-v1', 0);
      const m = await open();
      expect(m.get('processors')).toBe(2 ** 40 + 7);
      expect(m.get('forwarder:influxdb-v1')).toBe(0);
      expect(m.get('forwarder:influxdb-v2')).toBeUndefined();
      // memory, not the database: a row changed behind it is not seen until a reload
      await db.query("UPDATE log_cursors SET position = 1 WHERE name = 'processors'");
      expect(m.get('processors')).toBe(2 ** 40 + 7);
      await m.reload();
      expect(m.get('processors')).toBe(1);
    });

    it('a write inside run is seen at once and stored when run resolves', async () => {
      const m = await open();
      let inside: number | undefined;
      await s.scope.run(() => {
        m.set('processors', 42);
        inside = m.get('processors');
      });
      expect(inside).toBe(42);
      expect(await new PgCursorStore(db).get('processors')).toBe(42);
      expect((await open()).get('processors')).toBe(42);
    });

    it('a scope that rolls back (a later write throws) leaves it as stored', async () => {
      const m = await open();
      await s.scope.run(() => m.set('processors', 42));
      let inside: number | undefined;
      await expect(
        s.scope.run(() => {
          m.set('processors', 50);
          m.set('forwarder:influxdb-v1', 9);
          inside = m.get('processors');
          s.scope.write(boom);
        }),
      ).rejects.toThrow('a later write of the scope fails');
      expect(inside).toBe(50);
      expect(m.get('processors')).toBe(42);
      expect(m.get('forwarder:influxdb-v1')).toBeUndefined();
      const store = new PgCursorStore(db);
      expect(await store.get('processors')).toBe(42);
      expect(await store.get('forwarder:influxdb-v1')).toBeUndefined();
    });

    it('an implicit write (outside run) commits; one whose scope fails goes to onImplicitError and is undone', async () => {
      const m = await open();
      m.set('processors', 7);
      expect(m.get('processors')).toBe(7);
      await s.scope.settled();
      expect(s.implicitErrors).toEqual([]);
      expect(await new PgCursorStore(db).get('processors')).toBe(7);

      m.set('processors', 8);
      s.scope.write(boom);
      await s.scope.settled();
      expect(s.implicitErrors).toHaveLength(1);
      expect(m.get('processors')).toBe(7);
      expect(await new PgCursorStore(db).get('processors')).toBe(7);
    });

    it('refresh reads what another node wrote, and keeps what this node wrote while it read', async () => {
      const m = await open();
      await s.scope.run(() => m.set('processors', 1));
      // another node, behind its back
      await db.query("UPDATE log_cursors SET position = 2 WHERE name = 'processors'");
      await db.query("INSERT INTO log_cursors (name, position) VALUES ('forwarder:influxdb-v1', 3)");
      const refreshed = m.refresh();
      m.set('processors', 9); // an implicit write of this node, queued behind the refresh's read
      await refreshed;
      expect(m.get('processors')).toBe(9);
      expect(m.get('forwarder:influxdb-v1')).toBe(3);
      await s.scope.settled();
      expect(await new PgCursorStore(db).get('processors')).toBe(9);
      expect(s.implicitErrors).toEqual([]);
    });
  });

  describe('PgSettingsMirror', () => {
    const open = () => PgSettingsMirror.open({ db, store: new PgSettingsStore(db), scope: s.scope });

    it('answers from memory every setting stored when it opened', async () => {
      const store = new PgSettingsStore(db);
      await store.set('admin_token_sha256', 'ab'.repeat(32));
      await store.set('empty', '');
      await store.set('设置', '值 🔥');
      const m = await open();
      expect(m.get('admin_token_sha256')).toBe('ab'.repeat(32));
      expect(m.get('empty')).toBe('');
      expect(m.get('设置')).toBe('值 🔥');
      expect(m.get('safety_code_secret')).toBeUndefined();
      await store.set('admin_token_sha256', 'cd'.repeat(32)); // behind its back (another node)
      expect(m.get('admin_token_sha256')).toBe('ab'.repeat(32));
    });

    it('a write inside run is stored; a reopened mirror has it', async () => {
      const m = await open();
      await s.scope.run(() => {
        m.set('last_alive_at', '1796025600000');
        m.set('gb26875_components', '{"version":2,"devices":{}}');
      });
      const store = new PgSettingsStore(db);
      expect(await store.get('last_alive_at')).toBe('1796025600000');
      expect(await store.get('gb26875_components')).toBe('{"version":2,"devices":{}}');
      expect((await open()).get('last_alive_at')).toBe('1796025600000');
    });

    it('a scope that rolls back leaves it as stored', async () => {
      const m = await open();
      await s.scope.run(() => m.set('last_alive_at', '1'));
      await expect(
        s.scope.run(() => {
          m.set('last_alive_at', '2');
          m.set('new_key', 'x');
          s.scope.write(boom);
        }),
      ).rejects.toThrow();
      expect(m.get('last_alive_at')).toBe('1');
      expect(m.get('new_key')).toBeUndefined();
      expect(await new PgSettingsStore(db).get('last_alive_at')).toBe('1');
      expect(await new PgSettingsStore(db).get('new_key')).toBeUndefined();
    });

    it('refresh reads what another node wrote, and keeps what this node wrote while it read', async () => {
      const m = await open();
      await s.scope.run(() => m.set('gb26875_components', 'mine'));
      const other = new PgSettingsStore(db);
      await other.set('admin_token_sha256', 'ef'.repeat(32));
      await other.set('gb26875_components', 'theirs');
      expect(m.get('admin_token_sha256')).toBeUndefined();
      const refreshed = m.refresh();
      m.set('gb26875_components', 'mine again');
      await refreshed;
      expect(m.get('admin_token_sha256')).toBe('ef'.repeat(32));
      expect(m.get('gb26875_components')).toBe('mine again');
      await s.scope.settled();
      expect(await other.get('gb26875_components')).toBe('mine again');
    });

    it('an implicit write commits', async () => {
      const m = await open();
      m.set('last_alive_at', '99');
      expect(m.get('last_alive_at')).toBe('99');
      await s.scope.settled();
      expect(s.implicitErrors).toEqual([]);
      expect(await new PgSettingsStore(db).get('last_alive_at')).toBe('99');
    });
  });

  describe('PgTestWindowMirror and TestWindows over it', () => {
    const T0 = Date.UTC(2026, 10, 29, 8);
    const MIN = 60_000;
    const newTest = (deviceId: string, startMin: number, over: Partial<TestWindow> = {}): Omit<TestWindow, 'id'> => ({
      deviceId,
      buildingId: 'b-1',
      kind: 'end_of_line',
      note: null,
      startedBy: 'zhang.op',
      startedAt: T0 + startMin * MIN,
      endsAt: T0 + (startMin + 30) * MIN,
      endedAt: null,
      endedBy: null,
      minMpa: null,
      maxMpa: null,
      readings: 0,
      ...over,
    });
    let now: number;
    const open = () => PgTestWindowMirror.open({ db, store: new PgTestWindowStore(db), scope: s.scope, now: () => now });
    beforeEach(() => {
      now = T0 + 10 * MIN;
    });

    it('loads the running tests (not ended early, not over) and answers from memory', async () => {
      const store = new PgTestWindowStore(db);
      const running = await store.insert(newTest('d-1', 0));
      await store.insert(newTest('d-2', 0, { endedAt: T0 + 5 * MIN, endedBy: 'li.duty' }));
      await store.insert(newTest('d-3', -60)); // over by itself at -30
      const m = await open();
      expect(m.active(now)).toEqual([running]);
      expect(m.active(T0 + 30 * MIN)).toEqual([]);
      await db.query('UPDATE device_tests SET readings = 5 WHERE id = $1', [running.id]);
      expect(m.active(now)[0]!.readings).toBe(0); // memory
      // every test handed out is a copy
      m.active(now)[0]!.readings = 99;
      expect(m.active(now)[0]!.readings).toBe(0);
    });

    it('update inside run is stored; a scope that rolls back leaves it as stored', async () => {
      const store = new PgTestWindowStore(db);
      const t = await store.insert(newTest('d-1', 0));
      const m = await open();
      await s.scope.run(() => m.update({ ...t, minMpa: 0.18, maxMpa: 0.31, readings: 2 }));
      const stored = { ...t, minMpa: 0.18, maxMpa: 0.31, readings: 2 };
      expect(await store.active(now)).toEqual([stored]);
      expect((await open()).active(now)).toEqual([stored]);

      await expect(
        s.scope.run(() => {
          m.update({ ...stored, endedAt: now, endedBy: 'li.duty' });
          expect(m.active(now)).toEqual([]); // at once
          s.scope.write(boom);
        }),
      ).rejects.toThrow();
      expect(m.active(now)).toEqual([stored]);
      expect(await store.list('d-1', 10)).toEqual([stored]);
    });

    it('an implicit update commits', async () => {
      const store = new PgTestWindowStore(db);
      const t = await store.insert(newTest('d-1', 0));
      const m = await open();
      m.update({ ...t, readings: 1, minMpa: 0.2, maxMpa: 0.2 });
      await s.scope.settled();
      expect(s.implicitErrors).toEqual([]);
      expect(await store.list('d-1', 10)).toEqual([{ ...t, readings: 1, minMpa: 0.2, maxMpa: 0.2 }]);
    });

    it('insert resolves with the stored test once committed, and is refused inside a step', async () => {
      const m = await open();
      const t = await m.insert(newTest('d-1', 5));
      expect(t.id).toBeGreaterThan(0);
      expect(m.active(now)).toEqual([t]);
      expect(await new PgTestWindowStore(db).list('d-1', 10)).toEqual([t]);
      let refused: unknown;
      await s.scope.run(() => {
        m.insert(newTest('d-2', 5)).catch((err: unknown) => (refused = err));
      });
      await until(() => refused, 'the refusal');
      expect(String(refused)).toContain('outside a step');
      expect(await new PgTestWindowStore(db).list('d-2', 10)).toEqual([]);
    });

    it('TestWindows: start, observe in a step, end, list — all stored', async () => {
      const m = await open();
      const tests = new TestWindows(m, () => now, m);
      const started = await tests.start({ deviceId: 'd-1', buildingId: 'b-1', kind: 'end_of_line', by: 'zhang.op' });
      await expect(tests.start({ deviceId: 'd-1', buildingId: 'b-1', kind: 'pump', by: 'zhang.op' })).rejects.toMatchObject({ code: 'test_running' });
      now += MIN;
      await s.scope.run(() => {
        tests.observe('d-1', now, 0.21);
        tests.observe('d-1', now, 0.14);
      });
      expect(await new PgTestWindowStore(db).active(now)).toEqual([{ ...started, minMpa: 0.14, maxMpa: 0.21, readings: 2 }]);
      now += MIN;
      const ended = await tests.end('d-1', 'li.duty');
      expect(ended).toEqual({ ...started, minMpa: 0.14, maxMpa: 0.21, readings: 2, endedAt: now, endedBy: 'li.duty' });
      expect(tests.activeFor('d-1', now)).toBeUndefined();
      expect(m.active(now)).toEqual([]);
      expect(await tests.list('d-1')).toEqual([ended]);
      await expect(tests.end('d-1', 'li.duty')).rejects.toMatchObject({ code: 'test_not_running' });
    });

    it('TestWindows: a rolled-back step forgets what it observed (the mirror reloads, and TestWindows with it)', async () => {
      const m = await open();
      const tests = new TestWindows(m, () => now);
      await tests.start({ deviceId: 'd-1', buildingId: 'b-1', kind: 'end_of_line', by: 'zhang.op' });
      now += MIN;
      await s.scope.run(() => tests.observe('d-1', now, 0.3));
      await expect(
        s.scope.run(() => {
          tests.observe('d-1', now, 0.05);
          s.scope.write(boom);
        }),
      ).rejects.toThrow();
      expect(tests.activeFor('d-1', now)).toMatchObject({ minMpa: 0.3, maxMpa: 0.3, readings: 1 });
      // the retried step counts the reading once
      await s.scope.run(() => tests.observe('d-1', now, 0.05));
      expect(await new PgTestWindowStore(db).active(now)).toEqual([expect.objectContaining({ minMpa: 0.05, maxMpa: 0.3, readings: 2 })]);
    });

    it('TestWindows: an end that does not commit leaves the test running', async () => {
      const m = await open();
      const tests = new TestWindows(m, () => now);
      const t = await tests.start({ deviceId: 'd-1', buildingId: 'b-1', kind: 'end_of_line', by: 'zhang.op' });
      // the table refuses the end's write (as a failing database would)
      await db.query('ALTER TABLE device_tests ADD CONSTRAINT no_end CHECK (ended_at IS NULL)');
      await expect(tests.end('d-1', 'li.duty')).rejects.toThrow(/no_end/);
      expect(tests.activeFor('d-1', now)).toMatchObject({ id: t.id, endedAt: null });
      expect(m.active(now)).toEqual([t]);
      await db.query('ALTER TABLE device_tests DROP CONSTRAINT no_end');
      expect((await tests.end('d-1', 'li.duty')).endedBy).toBe('li.duty');
      expect(await new PgTestWindowStore(db).active(now)).toEqual([]);
    });
  });
});

describe('PgTestWindowMirror across two nodes', () => {
  let close: () => Promise<void>;
  let nodes: PgDatabase[];
  const mirrors: PgTestWindowMirror[] = [];
  const now = Date.UTC(2026, 10, 29, 8);

  beforeEach(async () => {
    ({ nodes, close } = await twoNodes());
  });
  afterEach(async () => {
    for (const m of mirrors.splice(0)) await m.close();
    await close();
  });

  const openOn = async (db: PgDatabase, watch: boolean) => {
    const s = scopeOn(db);
    const m = await PgTestWindowMirror.open({ db, store: new PgTestWindowStore(db), scope: s.scope, now: () => now, watch });
    mirrors.push(m);
    return { m, s, tests: new TestWindows(m, () => now) };
  };

  it('with watch, a test started and ended on one node is running, then not, on the other, TestWindows included', async () => {
    const a = await openOn(nodes[0]!, true);
    const b = await openOn(nodes[1]!, true);
    const t = await a.tests.start({ deviceId: 'd-1', buildingId: 'b-1', kind: 'hydrant', by: 'zhang.op' });
    await until(() => b.tests.activeFor('d-1', now + 1), 'node B to see the test');
    expect(b.m.active(now + 1)).toEqual([t]);
    // B observes (it holds the processors' lease); A sees the pressures too
    await b.s.scope.run(() => b.tests.observe('d-1', now + 1, 0.25));
    await until(() => a.tests.activeFor('d-1', now + 1)?.readings === 1, 'node A to see the observed pressure');
    const ended = await a.tests.end('d-1', 'li.duty');
    expect(ended).toMatchObject({ readings: 1, minMpa: 0.25, endedBy: 'li.duty' });
    await until(() => b.tests.activeFor('d-1', now + 2) === undefined, 'node B to see the end');
    expect(b.m.active(now + 2)).toEqual([]);
  });

  it('without watch, another node’s test is seen only after a reload (what the header says)', async () => {
    const a = await openOn(nodes[0]!, false);
    const b = await openOn(nodes[1]!, false);
    await a.tests.start({ deviceId: 'd-1', buildingId: 'b-1', kind: 'hydrant', by: 'zhang.op' });
    await new Promise((r) => setTimeout(r, 200));
    expect(b.tests.activeFor('d-1', now + 1)).toBeUndefined();
    await b.m.reload();
    expect(b.tests.activeFor('d-1', now + 1)).toMatchObject({ deviceId: 'd-1', kind: 'hydrant' });
  });
});

// ---------------------------------------------------------------------------------------------
// GB/T 26875.3: the listener awaits the test store, so it runs on PostgreSQL's as on SQLite's

const CENTRE = 0x15b38;

class Uitd {
  readonly replies: Frame[] = [];
  private readonly splitter = new FrameSplitter();
  private serial = 0;
  private constructor(
    readonly socket: Socket,
    readonly address: number,
  ) {
    socket.on('data', (c: Buffer) => {
      for (const o of this.splitter.push(c)) {
        if (o.kind !== 'frame') continue;
        const d = decodeFrame(o.frame);
        if (d.ok) this.replies.push(d.frame);
      }
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, address: number): Promise<Uitd> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new Uitd(s, address)));
      s.once('error', reject);
    });
  }

  async send(appData: AppDataInput): Promise<number> {
    const serial = this.serial++;
    this.socket.write(encodeFrame({ serial, version: { major: 1, user: 1 }, time: new Date(), source: this.address, destination: CENTRE, command: Command.send_data, appData: encodeAppData(appData) }));
    return (await until(() => this.replies.find((r) => r.serial === serial), `reply to serial ${serial}`)).command;
  }
}

const component = (zone: number, position: number, flags: Partial<ComponentStatusFlags>): AppDataInput => ({
  type: 2,
  objects: [{ systemType: 1, systemAddress: 1, componentType: 40, address: { zone, position }, status: encodeComponentStatus(flags), description: '', time: new Date() }],
});

describe('Gb26875Listener over PgGb26875TestStore', () => {
  let h: Awaited<ReturnType<typeof onPostgres<PgGb26875TestStore>>>;
  beforeEach(async () => {
    h = await onPostgres((db) => new PgGb26875TestStore(db));
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('records a test-mode alarm before confirming the frame, closes it when the point leaves test mode, and lists it awaited', async () => {
    const uitd: Device = { id: 'u-1', buildingId: 'b', kind: 'uitd', point: null, location: null, reportIntervalS: 30, vendor: null, model: null, rules: null, address: 0x201, createdAt: '', updatedAt: '' };
    const clock = new ManualClock();
    const listener = new Gb26875Listener({
      host: '127.0.0.1',
      port: 0,
      deviceByAddress: (a) => (a === uitd.address ? uitd : undefined),
      ingest: async () => ({ accepted: [], rejections: [], duplicates: 0 }),
      onConnection: () => undefined,
      onSeen: () => undefined,
      metrics: new Metrics({ defaultMetrics: false }),
      log: pino({ level: 'silent' }),
      clock,
      testAlarms: h.store,
    });
    const u = await Uitd.open(await listener.start(), 0x201);
    try {
      expect(await u.send(component(1, 1, { normal: true, fault: true }))).toBe(Command.confirm); // bit0 proven for sys 1/1
      expect(await u.send(component(1, 2, { fireAlarm: true }))).toBe(Command.confirm); // bit0 = 0: a test
      // confirmed means stored: the record is in the database at once
      const open = await h.store.list('u-1', 10);
      expect(open).toEqual([expect.objectContaining({ point: 'comp:1:1:40:1-2', fireAlarm: true, endedAt: null, startedAt: clock.now() })]);
      const listed = listener.tests('u-1', 10);
      expect(listed).toBeInstanceOf(Promise);
      expect(await listed).toEqual([expect.objectContaining({ id: open[0]!.id, fireAlarm: true, endedAt: null })]);

      clock.advance(5_000);
      expect(await u.send(component(1, 2, { normal: true }))).toBe(Command.confirm);
      expect(await h.store.list('u-1', 10)).toEqual([expect.objectContaining({ id: open[0]!.id, endedAt: clock.now() })]);
    } finally {
      u.socket.destroy();
      await listener.close();
    }
  });
});
