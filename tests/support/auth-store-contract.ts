/**
 * The one contract every AuthStore passes (services/auth/model.ts): users, sessions and API tokens
 * as AuthService keeps them. SQLite (firewatch.db's users, sessions, api_tokens) today; written
 * against the interface only, for a PostgreSQL store later. Each case gets a fresh, empty store.
 *
 * What it pins down (what AuthService's login, resolve, user and token management rely on):
 *   - a user comes back as stored (role, scope: streets null or a list, building ids, disabled,
 *     the password hash), by id and by username
 *   - usernames are unique regardless of case: found in any case, given back as stored; a second
 *     user (or a rename) to a name taken in another case is refused and changes nothing
 *   - update replaces the user; delete says whether there was one and ends its sessions only
 *   - sessions: found by token digest, as stored; delete one, all of a user's, or every expired one
 *     (expiresAtMs <= now: the instant resolve treats as expired), nothing else
 *   - API tokens: found by digest with it; listed as metadata only, never with the digest; a
 *     second token with a digest is refused; touch sets lastUsedAt; delete says whether there was one
 *   - a durable store gives back after a reopen what it held
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { attempt, contractHarness } from './contract-harness.js';
import type { ApiToken, AuthStore, StoredApiToken, StoredSession, StoredUser } from '../../services/auth/model.js';

export interface ContractAuthStore {
  store: AuthStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<AuthStore> | AuthStore;
  cleanup: () => Promise<void> | void;
}

const T0 = Date.UTC(2026, 10, 29, 8);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const HOUR = 3_600_000;

function user(id: string, username: string, over: Partial<StoredUser> = {}): StoredUser {
  return {
    id,
    username,
    displayName: `${username} 值班员`,
    role: 'duty',
    streets: ['解放碑', '朝天门'],
    buildingIds: [],
    disabled: false,
    createdAt: iso(0),
    passwordHash: `scrypt$N=16384$${id}$hash`,
    ...over,
  };
}

const session = (tokenDigest: string, userId: string, expiresAtMs: number): StoredSession => ({ tokenDigest, userId, createdAt: iso(0), expiresAtMs });

function token(id: string, tokenDigest: string, over: Partial<StoredApiToken> = {}): StoredApiToken {
  return { id, name: `token ${id}`, role: 'platform', streets: null, buildingIds: [], tokenDigest, createdAt: iso(0), lastUsedAt: null, expiresAt: null, ...over };
}

const digest = (n: number) => n.toString(16).padStart(64, '0');
const meta = ({ tokenDigest: _d, ...rest }: StoredApiToken): ApiToken => rest;
const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export function authStoreContract(name: string, make: () => Promise<ContractAuthStore> | ContractAuthStore): void {
  describe(`AuthStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<AuthStore, ContractAuthStore>(name, make);

    it('knows no one to begin with', async () => {
      const s = store();
      expect(await s.getUser('u-1')).toBeUndefined();
      expect(await s.findUserByUsername('admin')).toBeUndefined();
      expect(await s.listUsers()).toEqual([]);
      expect(await s.getSession(digest(1))).toBeUndefined();
      expect(await s.getApiTokenByDigest(digest(1))).toBeUndefined();
      expect(await s.listApiTokens()).toEqual([]);
      expect(await s.deleteUser('u-1')).toBe(false);
      expect(await s.deleteApiToken('t-1')).toBe(false);
    });

    describe('users', () => {
      const duty = user('u-duty', 'Li.Duty');
      const operator = user('u-op', 'zhang_op', { role: 'operator', streets: null, buildingIds: ['b-1', 'b-2'], displayName: '张工' });
      const admin = user('u-admin', 'admin-1', { role: 'admin', streets: null, disabled: true });
      const noStreets = user('u-none', 'duty.none', { streets: [] });

      it('gives a user back as stored, by id and by username', async () => {
        for (const u of [duty, operator, admin, noStreets]) (await store().insertUser(u));
        for (const u of [duty, operator, admin, noStreets]) {
          expect(await store().getUser(u.id)).toEqual(u);
          expect(await store().findUserByUsername(u.username)).toEqual(u);
        }
        expect(byId(await store().listUsers())).toEqual(byId([duty, operator, admin, noStreets]));
        expect(await store().getUser('u-other')).toBeUndefined();
      });

      it('finds a username in any case, and gives it back as stored', async () => {
        await store().insertUser(duty);
        expect(await store().findUserByUsername('li.duty')).toEqual(duty);
        expect(await store().findUserByUsername('LI.DUTY')).toEqual(duty);
        expect((await store().findUserByUsername('lI.dUTY'))?.username).toBe('Li.Duty');
        expect(await store().findUserByUsername('li.dut')).toBeUndefined();
        expect(await store().findUserByUsername('li.duty2')).toBeUndefined();
      });

      it('refuses a second user with a username taken in any case, or with a taken id', async () => {
        await store().insertUser(duty);
        await expect(attempt(() => store().insertUser(user('u-2', 'li.duty')))).rejects.toThrow();
        await expect(attempt(() => store().insertUser(user('u-3', 'LI.DUTY')))).rejects.toThrow();
        await expect(attempt(() => store().insertUser(user('u-duty', 'someone.else')))).rejects.toThrow();
        expect(await store().getUser('u-2')).toBeUndefined();
        expect(await store().getUser('u-3')).toBeUndefined();
        expect(await store().findUserByUsername('someone.else')).toBeUndefined();
        expect(await store().listUsers()).toEqual([duty]);
      });

      it('update replaces the user; a rename to a name taken in another case is refused', async () => {
        await store().insertUser(duty);
        await store().insertUser(operator);
        const next: StoredUser = { ...duty, username: 'li.renamed', displayName: '李新', role: 'operator', streets: null, buildingIds: ['b-9'], disabled: true, passwordHash: 'scrypt$new' };
        await store().updateUser(next);
        expect(await store().getUser('u-duty')).toEqual(next);
        expect(await store().findUserByUsername('LI.RENAMED')).toEqual(next);
        expect(await store().findUserByUsername('li.duty')).toBeUndefined();
        expect(await store().getUser('u-op')).toEqual(operator);
        await expect(attempt(() => store().updateUser({ ...next, username: 'ZHANG_OP' }))).rejects.toThrow();
        expect(await store().getUser('u-duty')).toEqual(next);
        // the old name is free again
        await store().insertUser(user('u-new', 'li.duty'));
        expect((await store().findUserByUsername('Li.Duty'))?.id).toBe('u-new');
      });

      it("delete says whether there was one, and ends that user's sessions only", async () => {
        await store().insertUser(duty);
        await store().insertUser(operator);
        await store().insertSession(session(digest(1), 'u-duty', T0 + HOUR));
        await store().insertSession(session(digest(2), 'u-duty', T0 + 2 * HOUR));
        await store().insertSession(session(digest(3), 'u-op', T0 + HOUR));
        expect(await store().deleteUser('u-duty')).toBe(true);
        expect(await store().deleteUser('u-duty')).toBe(false);
        expect(await store().getUser('u-duty')).toBeUndefined();
        expect(await store().findUserByUsername('li.duty')).toBeUndefined();
        expect(await store().getSession(digest(1))).toBeUndefined();
        expect(await store().getSession(digest(2))).toBeUndefined();
        expect(await store().getSession(digest(3))).toEqual(session(digest(3), 'u-op', T0 + HOUR));
        expect(await store().listUsers()).toEqual([operator]);
        // the username may be taken again
        await store().insertUser(user('u-again', 'LI.DUTY'));
        expect((await store().findUserByUsername('li.duty'))?.id).toBe('u-again');
      });
    });

    describe('sessions', () => {
      beforeEach(async () => {
        await store().insertUser(user('u-1', 'li.duty'));
        await store().insertUser(user('u-2', 'wang.duty'));
      });

      it('finds a session by its token digest, as stored', async () => {
        await store().insertSession(session(digest(1), 'u-1', T0 + 8 * HOUR));
        await store().insertSession(session(digest(2), 'u-2', T0 + HOUR));
        expect(await store().getSession(digest(1))).toEqual(session(digest(1), 'u-1', T0 + 8 * HOUR));
        expect(await store().getSession(digest(2))).toEqual(session(digest(2), 'u-2', T0 + HOUR));
        expect(await store().getSession(digest(3))).toBeUndefined();
      });

      it('deletes one session (logout), and every session of a user (password changed, disabled)', async () => {
        for (const [n, u] of [[1, 'u-1'], [2, 'u-1'], [3, 'u-2'], [4, 'u-1']] as const) (await store().insertSession(session(digest(n), u, T0 + HOUR)));
        await store().deleteSession(digest(1));
        (await store().deleteSession(digest(99))); // none: nothing happens
        expect(await store().getSession(digest(1))).toBeUndefined();
        expect(await store().getSession(digest(2))).toBeDefined();
        await store().deleteSessionsOfUser('u-1');
        expect(await store().getSession(digest(2))).toBeUndefined();
        expect(await store().getSession(digest(4))).toBeUndefined();
        expect(await store().getSession(digest(3))).toEqual(session(digest(3), 'u-2', T0 + HOUR));
        // the user stays
        expect((await store().getUser('u-1'))?.username).toBe('li.duty');
      });

      it('deletes the sessions expired at `now` (expiresAtMs <= now) and keeps the rest', async () => {
        const now = T0 + 10 * HOUR;
        await store().insertSession(session(digest(1), 'u-1', now - HOUR));
        await store().insertSession(session(digest(2), 'u-1', now));
        await store().insertSession(session(digest(3), 'u-2', now + 1));
        await store().insertSession(session(digest(4), 'u-2', now + 8 * HOUR));
        await store().deleteExpiredSessions(now);
        expect(await store().getSession(digest(1))).toBeUndefined();
        expect(await store().getSession(digest(2))).toBeUndefined();
        expect(await store().getSession(digest(3))).toEqual(session(digest(3), 'u-2', now + 1));
        expect(await store().getSession(digest(4))).toEqual(session(digest(4), 'u-2', now + 8 * HOUR));
        await store().deleteExpiredSessions(now + 1);
        expect(await store().getSession(digest(3))).toBeUndefined();
        expect(await store().getSession(digest(4))).toBeDefined();
      });
    });

    describe('API tokens', () => {
      const platform = token('t-1', digest(11), { name: 'city platform 市平台' });
      const scoped = token('t-2', digest(12), { role: 'duty', streets: ['七星岗'], createdAt: iso(1), expiresAt: iso(60 * 24 * 30) });
      const operatorToken = token('t-3', digest(13), { role: 'operator', buildingIds: ['b-1'], createdAt: iso(2), lastUsedAt: iso(3) });

      it('finds a token by its digest, with it; lists metadata only, never the digest', async () => {
        for (const t of [platform, scoped, operatorToken]) (await store().insertApiToken(t));
        expect(await store().getApiTokenByDigest(digest(11))).toEqual(platform);
        expect(await store().getApiTokenByDigest(digest(12))).toEqual(scoped);
        expect(await store().getApiTokenByDigest(digest(13))).toEqual(operatorToken);
        expect(await store().getApiTokenByDigest(digest(14))).toBeUndefined();
        const listed = (await store().listApiTokens());
        expect(byId(listed)).toEqual([platform, scoped, operatorToken].map(meta));
        for (const t of listed) expect(t).not.toHaveProperty('tokenDigest');
      });

      it('refuses a second token with a digest, or with an id', async () => {
        await store().insertApiToken(platform);
        await expect(attempt(() => store().insertApiToken(token('t-9', digest(11), { name: 'impostor' })))).rejects.toThrow();
        await expect(attempt(() => store().insertApiToken(token('t-1', digest(19))))).rejects.toThrow();
        expect(await store().getApiTokenByDigest(digest(11))).toEqual(platform);
        expect(await store().getApiTokenByDigest(digest(19))).toBeUndefined();
        expect(await store().listApiTokens()).toEqual([meta(platform)]);
      });

      it('touch sets lastUsedAt of that token only', async () => {
        await store().insertApiToken(platform);
        await store().insertApiToken(scoped);
        await store().touchApiToken('t-1', iso(30));
        expect(await store().getApiTokenByDigest(digest(11))).toEqual({ ...platform, lastUsedAt: iso(30) });
        expect(await store().getApiTokenByDigest(digest(12))).toEqual(scoped);
        await store().touchApiToken('t-1', iso(45));
        expect(byId(await store().listApiTokens())).toEqual([meta({ ...platform, lastUsedAt: iso(45) }), meta(scoped)]);
      });

      it('delete (revoke) says whether there was one; the digest no longer finds it', async () => {
        await store().insertApiToken(platform);
        await store().insertApiToken(scoped);
        expect(await store().deleteApiToken('t-1')).toBe(true);
        expect(await store().deleteApiToken('t-1')).toBe(false);
        expect(await store().getApiTokenByDigest(digest(11))).toBeUndefined();
        expect(await store().listApiTokens()).toEqual([meta(scoped)]);
      });
    });

    it('when durable, gives back after a reopen what it held', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      const u = user('u-1', 'Li.Duty', { streets: null, role: 'admin' });
      await store().insertUser(u);
      await store().insertSession(session(digest(1), 'u-1', T0 + HOUR));
      await store().insertSession(session(digest(2), 'u-1', T0 + 2 * HOUR));
      await store().deleteSession(digest(2));
      const t = token('t-1', digest(11), { streets: ['解放碑'], role: 'duty' });
      await store().insertApiToken(t);
      await store().touchApiToken('t-1', iso(9));
      const again = await handle().reopen!();
      expect(await again.getUser('u-1')).toEqual(u);
      expect(await again.findUserByUsername('li.duty')).toEqual(u);
      expect(await again.getSession(digest(1))).toEqual(session(digest(1), 'u-1', T0 + HOUR));
      expect(await again.getSession(digest(2))).toBeUndefined();
      expect(await again.getApiTokenByDigest(digest(11))).toEqual({ ...t, lastUsedAt: iso(9) });
      await expect(attempt(() => again.insertUser(user('u-2', 'LI.DUTY')))).rejects.toThrow();
    });
  });
}
