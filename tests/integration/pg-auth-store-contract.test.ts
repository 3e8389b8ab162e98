/**
 * PgAuthStore against the AuthStore contract (tests/support/auth-store-contract.ts), the suite
 * store-contracts.test.ts runs on SQLite. Each case gets a fresh database on the local server
 * opened as the service opens it (every migration); `reopen` closes it and opens the same database again, as after a restart.
 * Below the contract, what only PostgreSQL can show: the domain errors its constraints become,
 * also between two nodes, and the order and case folding of SQLite, side by side with it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredApiToken, StoredSession, StoredUser } from '../../services/auth/model.js';
import { AppError, ConflictError, NotFoundError } from '../../services/shared/errors.js';
import { openPostgres, uniqueViolation, type PgDatabase } from '../../services/storage/postgres/database.js';
import { PgAuthStore } from '../../services/storage/postgres/pg-auth-store.js';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';
import { SqliteAuthStore } from '../../services/storage/sqlite/sqlite-auth-store.js';
import { authStoreContract } from '../support/auth-store-contract.js';
import { onPostgres, twoNodes } from '../support/pg-harness.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';


authStoreContract('postgres', () => onPostgres((db) => new PgAuthStore(db)));

const T0 = Date.UTC(2026, 10, 29, 8);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const digest = (n: number) => n.toString(16).padStart(64, '0');

const user = (id: string, username: string): StoredUser => ({
  id,
  username,
  displayName: username,
  role: 'duty',
  streets: null,
  buildingIds: [],
  disabled: false,
  createdAt: iso(0),
  passwordHash: `scrypt$${id}`,
});
const session = (n: number, userId: string): StoredSession => ({ tokenDigest: digest(n), userId, createdAt: iso(0), expiresAtMs: T0 + 3_600_000 });
const token = (id: string, n: number, createdAt = iso(0)): StoredApiToken => ({
  id,
  name: `token ${id}`,
  role: 'platform',
  streets: null,
  buildingIds: [],
  tokenDigest: digest(n),
  createdAt,
  lastUsedAt: null,
  expiresAt: null,
});

/** The error a write failed with; fails the case if it did not. */
async function failure(write: Promise<unknown>): Promise<unknown> {
  return write.then(
    () => expect.unreachable('the write was not refused'),
    (e: unknown) => e,
  );
}

/** The write must fail with this AppError class and code. */
async function refused(write: Promise<unknown>, type: typeof ConflictError | typeof NotFoundError, code: string): Promise<void> {
  const err = await failure(write);
  expect(err).toBeInstanceOf(type);
  expect((err as AppError).code).toBe(code);
}

/**
 * PostgreSQL only: what the contract leaves open (it asks only that a write is refused). A taken
 * username becomes the error AuthService raises for it, also when two nodes race past the
 * service's check; collisions of random ids and digests stay storage failures, as on SQLite.
 */
describe('PgAuthStore: constraint violations', () => {
  let nodes: PgDatabase[] = [];
  let closeNodes: () => Promise<void>;
  let a: PgAuthStore;
  let b: PgAuthStore;

  beforeEach(async () => {
    ({ nodes, close: closeNodes } = await twoNodes());
    a = new PgAuthStore(nodes[0]!);
    b = new PgAuthStore(nodes[1]!);
  });

  afterEach(async () => {
    await closeNodes();
  });

  it('a username taken in any case, on insert and on rename: username_taken, and nothing changes', async () => {
    await a.insertUser(user('u-1', 'Li.Duty'));
    await a.insertUser(user('u-2', 'wang.duty'));
    await refused(a.insertUser(user('u-3', 'LI.DUTY')), ConflictError, 'username_taken');
    await refused(b.updateUser({ ...user('u-2', 'li.duty'), displayName: '王' }), ConflictError, 'username_taken');
    expect(await a.getUser('u-3')).toBeUndefined();
    expect(await b.getUser('u-2')).toEqual(user('u-2', 'wang.duty'));
    // a rename that only changes the case of one's own name is no conflict
    await b.updateUser(user('u-1', 'LI.duty'));
    expect((await a.findUserByUsername('li.duty'))?.username).toBe('LI.duty');
  });

  it('two nodes creating one username at once, in different cases: exactly one succeeds, the other gets username_taken', async () => {
    for (let round = 0; round < 20; round++) {
      const name = `duty.${round}`;
      const outcomes = await Promise.allSettled([a.insertUser(user(`u-a${round}`, name)), b.insertUser(user(`u-b${round}`, name.toUpperCase()))]);
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(lost, name).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(ConflictError);
      expect((lost[0]!.reason as ConflictError).code).toBe('username_taken');
    }
    const users = await b.listUsers();
    expect(users).toHaveLength(20);
    expect(new Set(users.map((u) => u.username.toLowerCase())).size).toBe(20);
  });

  it('two nodes renaming two users to one name at once: one gets it, the other keeps its name', async () => {
    await a.insertUser(user('u-1', 'li.duty'));
    await a.insertUser(user('u-2', 'wang.duty'));
    const outcomes = await Promise.allSettled([a.updateUser(user('u-1', 'Zhang.Duty')), b.updateUser(user('u-2', 'zhang.duty'))]);
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(lost).toHaveLength(1);
    expect((lost[0]!.reason as ConflictError).code).toBe('username_taken');
    const names = (await a.listUsers()).map((u) => u.username);
    expect(names.filter((n) => n.toLowerCase() === 'zhang.duty')).toHaveLength(1);
    expect(names).toHaveLength(2);
  });

  it('a session for a user that does not exist, or was deleted on another node: not_found', async () => {
    await refused(a.insertSession(session(1, 'u-none')), NotFoundError, 'not_found');
    await a.insertUser(user('u-1', 'li.duty'));
    await a.insertSession(session(2, 'u-1'));
    expect(await b.deleteUser('u-1')).toBe(true);
    await refused(a.insertSession(session(3, 'u-1')), NotFoundError, 'not_found');
    expect(await a.getSession(digest(2))).toBeUndefined();
    expect(await a.getSession(digest(3))).toBeUndefined();
  });

  it('a taken id or digest (nothing the service makes twice) stays a storage failure naming its constraint', async () => {
    await a.insertUser(user('u-1', 'li.duty'));
    await a.insertSession(session(1, 'u-1'));
    await a.insertApiToken(token('t-1', 11));
    const errors = [
      await failure(b.insertUser(user('u-1', 'someone.else'))),
      await failure(b.insertSession(session(1, 'u-1'))),
      await failure(b.insertApiToken(token('t-1', 12))),
      await failure(b.insertApiToken(token('t-2', 11))),
    ];
    for (const err of errors) expect(err).not.toBeInstanceOf(AppError);
    expect(errors.map(uniqueViolation)).toEqual(['users_pkey', 'sessions_pkey', 'api_tokens_pkey', 'api_tokens_token_digest']);
  });
});

/**
 * The contract sorts what it lists before comparing; AuthService and the console show the lists in
 * the store's order. The same rows on SQLite and on PostgreSQL: the same order, and the same
 * usernames found (SQLite's NOCASE folds A–Z only; PostgreSQL's own locale would fold more).
 */
describe('PgAuthStore: the order and case folding of SqliteAuthStore', () => {
  let fresh: FreshDatabase;
  let pgDb: PgDatabase;
  let dir: string;
  let sqliteDb: Db;
  let pgStore: PgAuthStore;
  let sqliteStore: SqliteAuthStore;

  beforeEach(async () => {
    fresh = await freshDatabase();
    pgDb = await openPostgres(fresh.url, { max: 2 });
    dir = await mkdtemp(join(tmpdir(), 'firewatch-pg-auth-'));
    sqliteDb = openDatabase(join(dir, 'firewatch.db'));
    pgStore = new PgAuthStore(pgDb);
    sqliteStore = new SqliteAuthStore(sqliteDb);
  });

  afterEach(async () => {
    sqliteDb.close();
    await rm(dir, { recursive: true, force: true });
    await pgDb.close();
    await fresh.drop();
  });

  it('lists users in the same order and finds the same usernames', async () => {
    // letters of both cases, digits and _ . - (which sort between upper and lower case in bytes),
    // and non-ASCII names that differ only in the case of their É (two users to NOCASE)
    const names = ['zhang_op', 'Zhang.Duty', 'li-duty', 'LI_ADMIN', 'li.duty', 'a_b', 'A-B', 'AB', '_first', '9lives', 'Émile', 'émile', 'b.Étienne'];
    for (const [i, name] of names.entries()) {
      sqliteStore.insertUser(user(`u-${i}`, name));
      await pgStore.insertUser(user(`u-${i}`, name));
    }
    const sqliteOrder = sqliteStore.listUsers().map((u) => u.username);
    expect((await pgStore.listUsers()).map((u) => u.username)).toEqual(sqliteOrder);
    const probes = [...names, 'ZHANG_OP', 'zhang.duty', 'LI-DUTY', 'ab', 'a-b', '_FIRST', 'ÉMILE', 'éMILE', 'B.étienne', 'B.ÉTIENNE', 'nobody'];
    for (const probe of probes) {
      expect((await pgStore.findUserByUsername(probe))?.id, probe).toBe(sqliteStore.findUserByUsername(probe)?.id);
    }
  });

  it('lists API tokens in the same order: by creation time, then by id in byte order', async () => {
    const tokens = [
      token('t-b', 1, iso(1)),
      token('T-a', 2, iso(1)),
      token('t-a', 3, iso(1)),
      token('_x', 4, iso(1)),
      token('t-c', 5, iso(0)),
      token('a', 6, iso(2)),
      token('B', 7, iso(2)),
      token('b', 8, iso(2)),
      // a different ISO form of a time sorts as its text does, on both
      token('z', 9, '2026-11-29T08:00:30Z'),
    ];
    for (const t of tokens) {
      sqliteStore.insertApiToken(t);
      await pgStore.insertApiToken(t);
    }
    const sqliteOrder = sqliteStore.listApiTokens().map((t) => t.id);
    expect((await pgStore.listApiTokens()).map((t) => t.id)).toEqual(sqliteOrder);
  });
});
