/**
 * The unit of work (services/shared/unit-of-work.ts, docs/adr/0008 "Open: writes that must commit
 * together across stores") on both engines, with real stores: SqliteRegistryStore and
 * SqliteAuditStore on a temp firewatch.db (openDatabase, every migration), and PgRegistryStore and
 * a small notes table of this file's on a fresh PostgreSQL database (there is no PostgreSQL audit
 * store yet). `unitOfWorkCases` runs the same cases once per engine: writes of two stores commit
 * together and in order; a failing write rolls back the others and its error reaches the caller
 * unchanged; reads see committed state only; afterCommit runs after the commit, in order, never
 * after a failure, and a throwing one does not stop the others; writes after the commit started
 * are refused.
 *
 * Then what only one engine can show. SQLite: the writes run in one synchronous transaction, a
 * write returning a promise is refused and nothing commits, and a write other code makes while
 * `work` awaits commits on its own and survives the unit's failure. PostgreSQL: every store call
 * in the writes runs on the transaction's client (AsyncLocalStorage, database.ts), a store's own
 * db.transaction joins the unit's as a savepoint, and two nodes inserting the same building: one
 * commits, the other gets ConflictError building_exists and commits nothing. Last, PgDatabase's
 * binding itself: who joins a transaction and who does not, and what nested transactions do.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Building, Device, RegistryStore, StoredCredential } from '../../services/devices/model.js';
import type { Awaitable } from '../../services/shared/awaitable.js';
import { ConflictError, type AppError } from '../../services/shared/errors.js';
import type { RunUnitOfWork } from '../../services/shared/unit-of-work.js';
import { openPostgres, type PgDatabase } from '../../services/storage/postgres/database.js';
import { PG_MIGRATIONS } from '../../services/storage/postgres/migrations.js';
import { PgRegistryStore } from '../../services/storage/postgres/pg-registry-store.js';
import { pgUnitOfWork } from '../../services/storage/postgres/pg-unit-of-work.js';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';
import { SqliteAuditStore } from '../../services/storage/sqlite/sqlite-audit-store.js';
import { SqliteRegistryStore } from '../../services/storage/sqlite/sqlite-registry-store.js';
import { sqliteUnitOfWork } from '../../services/storage/sqlite/sqlite-unit-of-work.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';

const AT = '2026-11-01T08:00:00.000Z';

const building = (id: string): Building => ({
  id,
  name: `大楼 ${id}`,
  street: '解放碑',
  address: '渝中区民族路 1 号',
  type: 'public',
  heightM: null,
  floors: null,
  areaM2: null,
  category: null,
  use: 'complex',
  contactName: null,
  contactPhone: null,
  createdAt: AT,
  updatedAt: AT,
});

const device = (id: string, buildingId: string): Device => ({
  id,
  buildingId,
  kind: 'water_pressure',
  point: null,
  location: null,
  reportIntervalS: 60,
  vendor: null,
  model: null,
  rules: null,
  inServiceAt: null,
  createdAt: AT,
  updatedAt: AT,
});

const cred = (deviceId: string): StoredCredential => ({ deviceId, username: deviceId, hash: `sha256$${deviceId}$x`, rotatedAt: AT });

/** A second store next to the registry: one text per row, read back in insertion order. */
interface Notes {
  insert(text: string): Awaitable<unknown>;
  texts(): Awaitable<string[]>;
}

interface Engine {
  run: RunUnitOfWork;
  registry: RegistryStore;
  notes: Notes;
  cleanup(): Promise<void>;
}

/** Ids of the buildings committed, in id order. */
const buildingIds = async (registry: RegistryStore) => (await registry.listBuildings({}, undefined, 100)).map((b) => b.id);

/** A write that records the error it fails with, thrown at once or as a rejection. */
function watched(fn: () => Awaitable<unknown>, seen: unknown[]): () => Awaitable<unknown> {
  return () => {
    try {
      const out = fn();
      if (!(out instanceof Promise)) return out;
      return out.catch((err: unknown) => {
        seen.push(err);
        throw err;
      });
    } catch (err) {
      seen.push(err);
      throw err;
    }
  };
}

/** What `promise` rejects with; a fulfilment fails the test. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

function unitOfWorkCases(name: string, make: () => Promise<Engine>): void {
  describe(`unit of work: ${name}`, () => {
    let e: Engine;
    beforeEach(async () => {
      e = await make();
    });
    afterEach(async () => {
      await e.cleanup();
    });

    it("commits the writes of two stores together, in the order queued, and returns work's result", async () => {
      const result = await e.run(async (uow) => {
        uow.write(() => e.registry.insertBuilding(building('b-1')));
        // needs b-1 first: the order is kept
        uow.write(() => e.registry.insertDevice(device('d-1', 'b-1'), cred('d-1')));
        uow.write(() => e.notes.insert('b-1 added'));
        uow.write(() => e.notes.insert('d-1 added'));
        return 'done';
      });
      expect(result).toBe('done');
      expect(await buildingIds(e.registry)).toEqual(['b-1']);
      expect((await e.registry.getDevice('d-1'))?.buildingId).toBe('b-1');
      expect(await e.registry.getCredential('d-1')).toEqual(cred('d-1'));
      expect(await e.notes.texts()).toEqual(['b-1 added', 'd-1 added']);
    });

    it('a failing later write rolls back the earlier ones, and its error reaches the caller unchanged', async () => {
      await e.registry.insertBuilding(building('b-taken'));
      const seen: unknown[] = [];
      let after = 0;
      const err = await rejection(
        e.run(async (uow) => {
          uow.write(() => e.notes.insert('first'));
          uow.write(() => e.registry.insertBuilding(building('b-new')));
          uow.write(watched(() => e.registry.insertBuilding(building('b-taken')), seen));
          uow.write(() => e.notes.insert('never reached'));
          uow.afterCommit(() => after++);
        }),
      );
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as AppError).code).toBe('building_exists');
      expect(seen).toHaveLength(1);
      expect(err).toBe(seen[0]);
      expect(await buildingIds(e.registry)).toEqual(['b-taken']);
      expect(await e.notes.texts()).toEqual([]);
      expect(after).toBe(0);
    });

    it('reads inside work see committed state only, not the writes it queued', async () => {
      await e.registry.insertBuilding(building('b-old'));
      const seenInside = await e.run(async (uow) => {
        uow.write(() => e.registry.insertBuilding(building('b-queued')));
        uow.write(() => e.notes.insert('queued'));
        return { buildings: await buildingIds(e.registry), notes: await e.notes.texts(), queued: await e.registry.getBuilding('b-queued') };
      });
      expect(seenInside).toEqual({ buildings: ['b-old'], notes: [], queued: undefined });
      expect(await buildingIds(e.registry)).toEqual(['b-old', 'b-queued']);
    });

    it('afterCommit callbacks run after the commit, in order; one registered by a write runs too', async () => {
      const events: string[] = [];
      const readsAfter: Array<Awaitable<Building | undefined>> = [];
      await e.run(async (uow) => {
        uow.afterCommit(() => {
          events.push('after 1');
          readsAfter.push(e.registry.getBuilding('b-1'));
        });
        uow.write(() => {
          events.push('write 1');
          return e.registry.insertBuilding(building('b-1'));
        });
        uow.write(() => {
          events.push('write 2');
          uow.afterCommit(() => events.push('after from write 2'));
          return e.notes.insert('n');
        });
        uow.afterCommit(() => events.push('after 2'));
        events.push('work returns');
      });
      expect(events).toEqual(['work returns', 'write 1', 'write 2', 'after 1', 'after 2', 'after from write 2']);
      expect((await readsAfter[0])?.id).toBe('b-1');
    });

    it('work that throws: nothing is written, no afterCommit runs, its error reaches the caller', async () => {
      const boom = new Error('decided not to');
      let writes = 0;
      let after = 0;
      const err = await rejection(
        e.run(async (uow) => {
          uow.write(() => {
            writes++;
            return e.registry.insertBuilding(building('b-1'));
          });
          uow.afterCommit(() => after++);
          await e.registry.getBuilding('b-1');
          throw boom;
        }),
      );
      expect(err).toBe(boom);
      expect({ writes, after }).toEqual({ writes: 0, after: 0 });
      expect(await buildingIds(e.registry)).toEqual([]);
    });

    it('a throwing afterCommit: the others still run, the writes stay committed, the first error is thrown', async () => {
      const first = new Error('cache update failed');
      const second = new Error('feed push failed');
      const ran: string[] = [];
      const err = await rejection(
        e.run(async (uow) => {
          uow.write(() => e.registry.insertBuilding(building('b-1')));
          uow.afterCommit(() => {
            ran.push('1');
            throw first;
          });
          uow.afterCommit(() => {
            ran.push('2');
            throw second;
          });
          uow.afterCommit(() => ran.push('3'));
        }),
      );
      expect(err).toBe(first);
      expect(ran).toEqual(['1', '2', '3']);
      expect(await buildingIds(e.registry)).toEqual(['b-1']);
    });

    it('an afterCommit returning a promise is an error; the rest still run', async () => {
      const ran: string[] = [];
      const err = await rejection(
        e.run(async (uow) => {
          uow.write(() => e.registry.insertBuilding(building('b-1')));
          uow.afterCommit(async () => {
            ran.push('async');
          });
          uow.afterCommit(() => ran.push('sync'));
        }),
      );
      expect((err as Error).message).toMatch(/afterCommit callback 1 returned a promise/);
      expect(ran).toEqual(['async', 'sync']);
      expect(await buildingIds(e.registry)).toEqual(['b-1']);
    });

    it('a write queued once the commit started is refused: from a write it fails the unit, from afterCommit or later it throws', async () => {
      // from a write: the unit fails and rolls back
      const fromWrite = await rejection(
        e.run(async (uow) => {
          uow.write(() => e.registry.insertBuilding(building('b-1')));
          uow.write(() => uow.write(() => e.notes.insert('late')));
        }),
      );
      expect((fromWrite as Error).message).toMatch(/write\(\) called after its commit started/);
      expect(await buildingIds(e.registry)).toEqual([]);

      // from afterCommit: the writes are committed, the late one is not, and the caller hears of it
      let kept: UnitOfWorkLike | undefined;
      const fromAfter = await rejection(
        e.run(async (uow) => {
          kept = uow;
          uow.write(() => e.registry.insertBuilding(building('b-2')));
          uow.afterCommit(() => uow.write(() => e.notes.insert('late')));
        }),
      );
      expect((fromAfter as Error).message).toMatch(/write\(\) called while its afterCommit callbacks run/);
      expect(await buildingIds(e.registry)).toEqual(['b-2']);
      expect(await e.notes.texts()).toEqual([]);

      // after the unit finished
      expect(() => kept!.write(() => undefined)).toThrow(/write\(\) called after it finished/);
      expect(() => kept!.afterCommit(() => undefined)).toThrow(/afterCommit\(\) called after it finished/);
    });

    it('a unit that queued no write returns its result and runs its afterCommit callbacks', async () => {
      let after = 0;
      expect(
        await e.run(async (uow) => {
          uow.afterCommit(() => after++);
          return 42;
        }),
      ).toBe(42);
      expect(after).toBe(1);
    });
  });
}

type UnitOfWorkLike = Parameters<Parameters<RunUnitOfWork>[0]>[0];

// ── SQLite ──────────────────────────────────────────────────────────────────

interface SqliteEngine extends Engine {
  db: Db;
  /** the registry as SQLite's: it answers at once */
  registry: SqliteRegistryStore;
  notes: { insert(text: string): unknown; texts(): string[] };
}

async function sqliteEngine(): Promise<SqliteEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'firewatch-unit-of-work-'));
  const db = openDatabase(join(dir, 'firewatch.db'));
  const audit = new SqliteAuditStore(db);
  return {
    db,
    run: sqliteUnitOfWork(db),
    registry: new SqliteRegistryStore(db),
    notes: {
      insert: (text) =>
        audit.insert({ at: AT, by: 'test', role: 'admin', action: 'device.deleted', buildingId: null, deviceId: null, street: null, reason: text, before: null, after: null, changes: [] }),
      texts: () => audit.list({ limit: 100 }).map((entry) => entry.reason ?? '').reverse(),
    },
    cleanup: async () => {
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

unitOfWorkCases('sqlite', sqliteEngine);

describe('unit of work: sqlite only', () => {
  let e: SqliteEngine;
  beforeEach(async () => {
    e = await sqliteEngine();
  });
  afterEach(async () => {
    await e.cleanup();
  });

  it('runs the writes in one synchronous transaction: nothing else runs until it committed', async () => {
    const inTransaction: boolean[] = [];
    let fromImmediate: { inTransaction: boolean; committed: string[] } | undefined;
    await e.run(async (uow) => {
      uow.write(() => {
        inTransaction.push(e.db.inTransaction);
        // would run inside the transaction if the commit awaited anything
        setImmediate(() => {
          fromImmediate = { inTransaction: e.db.inTransaction, committed: e.registry.listBuildings({}, undefined, 10).map((b) => b.id) };
        });
        return e.registry.insertBuilding(building('b-1'));
      });
      uow.write(() => {
        inTransaction.push(e.db.inTransaction);
        return e.registry.insertBuilding(building('b-2'));
      });
    });
    expect(inTransaction).toEqual([true, true]);
    expect(e.db.inTransaction).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fromImmediate?.inTransaction).toBe(false);
    expect(fromImmediate?.committed).toEqual(['b-1', 'b-2']);
  });

  it('a write that returns a promise is refused, and nothing of the unit commits', async () => {
    let after = 0;
    const err = await rejection(
      e.run(async (uow) => {
        uow.write(() => e.registry.insertBuilding(building('b-1')));
        uow.write(() => e.notes.insert('before'));
        // an async write: its insert runs before its first await, and is rolled back with the rest
        uow.write(async () => {
          e.registry.insertBuilding(building('b-async'));
        });
        uow.afterCommit(() => after++);
      }),
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/write 3 of 3 returned a promise; a write must finish synchronously/);
    expect(await buildingIds(e.registry)).toEqual([]);
    expect(e.notes.texts()).toEqual([]);
    expect(after).toBe(0);
    expect(e.db.inTransaction).toBe(false);
  });

  it('a write other code makes while work awaits commits on its own and survives the unit failing', async () => {
    e.registry.insertBuilding(building('b-taken'));
    const err = await rejection(
      e.run(async (uow) => {
        uow.write(() => e.registry.insertBuilding(building('b-mine')));
        // another request, between two awaits of this one
        await new Promise<void>((resolve) =>
          setImmediate(() => {
            e.registry.insertBuilding(building('b-other'));
            resolve();
          }),
        );
        expect(e.registry.getBuilding('b-other')?.id).toBe('b-other');
        uow.write(() => e.registry.insertBuilding(building('b-taken')));
      }),
    );
    expect((err as AppError).code).toBe('building_exists');
    expect(await buildingIds(e.registry)).toEqual(['b-other', 'b-taken']);
  });
});

// ── PostgreSQL ──────────────────────────────────────────────────────────────

const NOTES_TABLE = 'CREATE TABLE uow_notes (id bigserial PRIMARY KEY, text text NOT NULL UNIQUE)';
const MIGRATIONS = [...PG_MIGRATIONS, NOTES_TABLE];

class PgNotes implements Notes {
  constructor(private readonly db: PgDatabase) {}
  async insert(text: string): Promise<void> {
    await this.db.query('INSERT INTO uow_notes (text) VALUES ($1)', [text]);
  }
  async texts(): Promise<string[]> {
    return (await this.db.query<{ text: string }>('SELECT text FROM uow_notes ORDER BY id')).map((r) => r.text);
  }
}

interface PgEngine extends Engine {
  db: PgDatabase;
  fresh: FreshDatabase;
  /** Another node on the same database (its own pool), closed by cleanup. */
  node(): Promise<PgDatabase>;
}

async function pgEngine(): Promise<PgEngine> {
  const fresh = await freshDatabase();
  const opened: PgDatabase[] = [];
  const open = async () => {
    const db = await openPostgres(fresh.url, { max: 4, migrations: MIGRATIONS });
    opened.push(db);
    return db;
  };
  let db: PgDatabase;
  try {
    db = await open();
  } catch (err) {
    await fresh.drop();
    throw err;
  }
  return {
    db,
    fresh,
    node: open,
    run: pgUnitOfWork(db),
    registry: new PgRegistryStore(db),
    notes: new PgNotes(db),
    cleanup: async () => {
      await Promise.all(opened.map((d) => d.close()));
      await fresh.drop();
    },
  };
}

unitOfWorkCases('postgres', pgEngine);

/** The current transaction's id as this connection sees it (the outermost one's, inside a savepoint). */
const TXID = 'SELECT txid_current()::text AS txid';

describe('unit of work: postgres only', () => {
  let e: PgEngine;
  beforeEach(async () => {
    e = await pgEngine();
  });
  afterEach(async () => {
    await e.cleanup();
  });

  /** One statement on a connection of its own, outside the code under test. */
  async function inspect<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: e.fresh.url });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  it("a store call inside a write runs on the transaction's client: a failing second write rolls it back", async () => {
    const txids: string[] = [];
    await e.run(async (uow) => {
      uow.write(() => e.registry.insertBuilding(building('b-1')));
      uow.write(async () => txids.push((await e.db.query<{ txid: string }>(TXID))[0]!.txid));
      uow.write(async () => txids.push((await e.db.query<{ txid: string }>(TXID))[0]!.txid));
    });
    expect(new Set(txids).size).toBe(1);

    await e.notes.insert('taken');
    const err = await rejection(
      e.run(async (uow) => {
        uow.write(() => e.registry.insertBuilding(building('b-2')));
        uow.write(() => e.registry.insertDevice(device('d-2', 'b-2'), cred('d-2')));
        uow.write(() => e.notes.insert('taken'));
      }),
    );
    expect(err).toMatchObject({ code: '23505', constraint: 'uow_notes_text_key' });
    expect(await buildingIds(e.registry)).toEqual(['b-1']);
    expect(await e.registry.getDevice('d-2')).toBeUndefined();
    expect((await inspect<{ n: number }>('SELECT count(*)::integer AS n FROM buildings'))[0]!.n).toBe(1);
  });

  it("a store's own db.transaction inside a write joins the unit's: same transaction, rolled back with it", async () => {
    const txids: string[] = [];
    const pids: number[] = [];
    const err = await rejection(
      e.run(async (uow) => {
        uow.write(async () => {
          txids.push((await e.db.query<{ txid: string }>(TXID))[0]!.txid);
          pids.push((await e.db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid);
        });
        uow.write(() => e.registry.insertBuilding(building('b-1')));
        // insertDevice writes the device and its credential in a db.transaction of its own
        uow.write(() => e.registry.insertDevice(device('d-1', 'b-1'), cred('d-1')));
        uow.write(() =>
          e.db.transaction(async (client) => {
            txids.push((await client.query<{ txid: string }>(TXID)).rows[0]!.txid);
            pids.push((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
          }),
        );
        uow.write(() => e.registry.insertBuilding(building('b-1')));
      }),
    );
    expect((err as AppError).code).toBe('building_exists');
    expect(new Set(txids).size).toBe(1);
    expect(new Set(pids).size).toBe(1);
    expect(await e.registry.getBuilding('b-1')).toBeUndefined();
    expect(await e.registry.getDevice('d-1')).toBeUndefined();
    expect(await e.registry.getCredential('d-1')).toBeUndefined();
  });

  it('two nodes insert the same building, the first holding its insert open: the second waits, gets building_exists and commits nothing', async () => {
    const b = await e.node();
    const onB = { run: pgUnitOfWork(b), registry: new PgRegistryStore(b), notes: new PgNotes(b) };
    let bStarted!: Promise<unknown>;
    let bWaited = false;
    await e.run(async (uow) => {
      uow.write(() => e.notes.insert('node a'));
      uow.write(() => e.registry.insertBuilding(building('b-same')));
      uow.write(async () => {
        // node B starts now, while A holds its uncommitted row
        bStarted = onB.run(async (uowB) => {
          uowB.write(() => onB.notes.insert('node b'));
          uowB.write(() => onB.registry.insertBuilding(building('b-same')));
          uowB.afterCommit(() => {
            throw new Error('node b must not commit');
          });
        }).then(
          () => 'committed',
          (err: unknown) => err,
        );
        let bSettled = false;
        void bStarted.then(() => (bSettled = true));
        // …and A commits only once B waits for A's row lock (or B ended without waiting: the test fails below)
        while (!bSettled) {
          const waiting = await inspect<{ n: number }>(
            "SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            [e.fresh.name],
          );
          if (waiting[0]!.n > 0) {
            bWaited = true;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
    });
    const outcome = await bStarted;
    expect(bWaited).toBe(true);
    expect(outcome).toBeInstanceOf(ConflictError);
    expect((outcome as AppError).code).toBe('building_exists');
    expect(await e.notes.texts()).toEqual(['node a']);
    expect(await buildingIds(onB.registry)).toEqual(['b-same']);
  });

  it('two nodes insert the same building at once: exactly one unit commits, the other commits nothing', async () => {
    const nodes = [e.db, await e.node()];
    const outcomes = await Promise.all(
      nodes.map((db, i) =>
        pgUnitOfWork(db)(async (uow) => {
          const notes = new PgNotes(db);
          const registry = new PgRegistryStore(db);
          uow.write(() => notes.insert(`node ${i}`));
          uow.write(() => registry.insertBuilding(building('b-same')));
          uow.write(() => notes.insert(`node ${i} again`));
          return i;
        }).then(
          (winner) => ({ winner }),
          (err: unknown) => ({ err }),
        ),
      ),
    );
    const winners = outcomes.filter((o) => 'winner' in o);
    const losers = outcomes.filter((o) => 'err' in o) as Array<{ err: unknown }>;
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]!.err).toBeInstanceOf(ConflictError);
    expect((losers[0]!.err as AppError).code).toBe('building_exists');
    const w = (winners[0] as { winner: number }).winner;
    expect(await e.notes.texts()).toEqual([`node ${w}`, `node ${w} again`]);
    expect(await buildingIds(e.registry)).toEqual(['b-same']);
  });
});

// ── PgDatabase: the transaction's client, bound with AsyncLocalStorage ─────

describe('PgDatabase: transactions bind their client', () => {
  let fresh: FreshDatabase;
  const opened: PgDatabase[] = [];
  let db: PgDatabase;

  const open = async () => {
    const d = await openPostgres(fresh.url, { max: 4, migrations: ['CREATE TABLE t (n integer PRIMARY KEY)'] });
    opened.push(d);
    return d;
  };
  const rows = async (on: PgDatabase = db) => (await on.query<{ n: number }>('SELECT n FROM t ORDER BY n')).map((r) => r.n);

  beforeEach(async () => {
    fresh = await freshDatabase();
    db = await open();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
    await fresh.drop();
  });

  it("every db.query inside the transaction's fn, however deep, runs on its client and rolls back with it", async () => {
    const insert = (n: number) => db.query('INSERT INTO t VALUES ($1)', [n]);
    const deep = async (n: number) => {
      await new Promise((resolve) => setImmediate(resolve));
      await insert(n);
    };
    const boom = new Error('boom');
    const err = await rejection(
      db.transaction(async () => {
        await insert(1);
        await Promise.all([deep(2), deep(3)]);
        expect(await rows()).toEqual([1, 2, 3]);
        throw boom;
      }),
    );
    expect(err).toBe(boom);
    expect(await rows()).toEqual([]);
    expect(db.pool.idleCount).toBe(db.pool.totalCount);
  });

  it('code outside the transaction, and another PgDatabase, do not join it', async () => {
    const other = await open();
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    // started outside the transaction: stays outside, even when it runs while the transaction is open
    const outside = (async () => {
      await gate;
      return rows();
    })();
    await db.transaction(async () => {
      await db.query('INSERT INTO t VALUES (1)');
      openGate();
      expect(await outside).toEqual([]);
      expect(await rows(other)).toEqual([]);
      expect(await rows()).toEqual([1]);
    });
    expect(await rows(other)).toEqual([1]);
  });

  it('a nested transaction is a savepoint: its failure undoes only its part, and the outer may go on and commit', async () => {
    const boom = new Error('nested failed');
    await db.transaction(async () => {
      await db.query('INSERT INTO t VALUES (1)');
      const err = await rejection(
        db.transaction(async (client) => {
          await client.query('INSERT INTO t VALUES (2)');
          await db.query('INSERT INTO t VALUES (3)');
          throw boom;
        }),
      );
      expect(err).toBe(boom);
      // a failed statement inside the nested one leaves the outer usable too
      await expect(db.transaction((client) => client.query('INSERT INTO t VALUES (1)'))).rejects.toThrow(/duplicate key/);
      await db.transaction(async () => {
        await db.query('INSERT INTO t VALUES (4)');
      });
      expect(await rows()).toEqual([1, 4]);
    });
    expect(await rows()).toEqual([1, 4]);
  });

  it('an error thrown by a nested transaction and not caught rolls back the outer one', async () => {
    const boom = new Error('nested failed');
    const err = await rejection(
      db.transaction(async () => {
        await db.query('INSERT INTO t VALUES (1)');
        await db.transaction(async () => {
          await db.query('INSERT INTO t VALUES (2)');
          throw boom;
        });
      }),
    );
    expect(err).toBe(boom);
    expect(await rows()).toEqual([]);
  });

  it('nested transactions started at once run one after the other, and all commit with the outer one', async () => {
    const order: string[] = [];
    const nested = (n: number) =>
      db.transaction(async () => {
        order.push(`start ${n}`);
        await db.query('INSERT INTO t VALUES ($1)', [n]);
        await new Promise((resolve) => setImmediate(resolve));
        await db.query('INSERT INTO t VALUES ($1)', [n + 10]);
        order.push(`end ${n}`);
        // one level deeper, queued on this one's own queue (waiting on the outer's would never end)
        await db.transaction(async () => {
          await db.query('INSERT INTO t VALUES ($1)', [n + 20]);
        });
      });
    await db.transaction(async () => {
      await Promise.all([nested(1), nested(2), nested(3)]);
    });
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(await rows()).toEqual([1, 2, 3, 11, 12, 13, 21, 22, 23]);
  });

  it('work a transaction started that runs after it ended no longer joins it', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let leaked!: Promise<number[]>;
    await db.transaction(async () => {
      await db.query('INSERT INTO t VALUES (1)');
      leaked = (async () => {
        await gate;
        return rows();
      })();
    });
    // the pool hands the same connection to the next transaction; the leaked read must not run in it
    await db.transaction(async () => {
      await db.query('INSERT INTO t VALUES (2)');
      openGate();
      expect(await leaked).toEqual([1]);
    });
    expect(await rows()).toEqual([1, 2]);
  });

  it('a COMMIT that PostgreSQL answers with ROLLBACK (a failed statement was caught) is an error', async () => {
    const err = await rejection(
      db.transaction(async () => {
        await db.query('INSERT INTO t VALUES (1)');
        await db.query('INSERT INTO t VALUES (1)').catch(() => undefined);
      }),
    );
    expect((err as Error).message).toMatch(/rolled the transaction back instead of committing it/);
    expect(await rows()).toEqual([]);
    expect(db.pool.idleCount).toBe(db.pool.totalCount);
  });
});
