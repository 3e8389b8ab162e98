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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
    let handle: ContractAuthStore | undefined;
    const store = (): AuthStore => {
      if (!handle) throw new Error(`${name}: make() did not finish; see the beforeEach error`);
      return handle.store;
    };

    beforeEach(async () => {
      handle = await make();
    });

    afterEach(async () => {
      await handle?.cleanup();
      handle = undefined;
    });

    it('knows no one to begin with', () => {
      const s = store();
      expect(s.getUser('u-1')).toBeUndefined();
      expect(s.findUserByUsername('admin')).toBeUndefined();
      expect(s.listUsers()).toEqual([]);
      expect(s.getSession(digest(1))).toBeUndefined();
      expect(s.getApiTokenByDigest(digest(1))).toBeUndefined();
      expect(s.listApiTokens()).toEqual([]);
      expect(s.deleteUser('u-1')).toBe(false);
      expect(s.deleteApiToken('t-1')).toBe(false);
    });

    describe('users', () => {
      const duty = user('u-duty', 'Li.Duty');
      const operator = user('u-op', 'zhang_op', { role: 'operator', streets: null, buildingIds: ['b-1', 'b-2'], displayName: '张工' });
      const admin = user('u-admin', 'admin-1', { role: 'admin', streets: null, disabled: true });
      const noStreets = user('u-none', 'duty.none', { streets: [] });

      it('gives a user back as stored, by id and by username', () => {
        for (const u of [duty, operator, admin, noStreets]) store().insertUser(u);
        for (const u of [duty, operator, admin, noStreets]) {
          expect(store().getUser(u.id)).toEqual(u);
          expect(store().findUserByUsername(u.username)).toEqual(u);
        }
        expect(byId(store().listUsers())).toEqual(byId([duty, operator, admin, noStreets]));
        expect(store().getUser('u-other')).toBeUndefined();
      });

      it('finds a username in any case, and gives it back as stored', () => {
        store().insertUser(duty);
        expect(store().findUserByUsername('li.duty')).toEqual(duty);
        expect(store().findUserByUsername('LI.DUTY')).toEqual(duty);
        expect(store().findUserByUsername('lI.dUTY')?.username).toBe('Li.Duty');
        expect(store().findUserByUsername('li.dut')).toBeUndefined();
        expect(store().findUserByUsername('li.duty2')).toBeUndefined();
      });

      it('refuses a second user with a username taken in any case, or with a taken id', () => {
        store().insertUser(duty);
        expect(() => store().insertUser(user('u-2', 'li.duty'))).toThrow();
        expect(() => store().insertUser(user('u-3', 'LI.DUTY'))).toThrow();
        expect(() => store().insertUser(user('u-duty', 'someone.else'))).toThrow();
        expect(store().getUser('u-2')).toBeUndefined();
        expect(store().getUser('u-3')).toBeUndefined();
        expect(store().findUserByUsername('someone.else')).toBeUndefined();
        expect(store().listUsers()).toEqual([duty]);
      });

      it('update replaces the user; a rename to a name taken in another case is refused', () => {
        store().insertUser(duty);
        store().insertUser(operator);
        const next: StoredUser = { ...duty, username: 'li.renamed', displayName: '李新', role: 'operator', streets: null, buildingIds: ['b-9'], disabled: true, passwordHash: 'scrypt$new' };
        store().updateUser(next);
        expect(store().getUser('u-duty')).toEqual(next);
        expect(store().findUserByUsername('LI.RENAMED')).toEqual(next);
        expect(store().findUserByUsername('li.duty')).toBeUndefined();
        expect(store().getUser('u-op')).toEqual(operator);
        expect(() => store().updateUser({ ...next, username: 'ZHANG_OP' })).toThrow();
        expect(store().getUser('u-duty')).toEqual(next);
        // the old name is free again
        store().insertUser(user('u-new', 'li.duty'));
        expect(store().findUserByUsername('Li.Duty')?.id).toBe('u-new');
      });

      it("delete says whether there was one, and ends that user's sessions only", () => {
        store().insertUser(duty);
        store().insertUser(operator);
        store().insertSession(session(digest(1), 'u-duty', T0 + HOUR));
        store().insertSession(session(digest(2), 'u-duty', T0 + 2 * HOUR));
        store().insertSession(session(digest(3), 'u-op', T0 + HOUR));
        expect(store().deleteUser('u-duty')).toBe(true);
        expect(store().deleteUser('u-duty')).toBe(false);
        expect(store().getUser('u-duty')).toBeUndefined();
        expect(store().findUserByUsername('li.duty')).toBeUndefined();
        expect(store().getSession(digest(1))).toBeUndefined();
        expect(store().getSession(digest(2))).toBeUndefined();
        expect(store().getSession(digest(3))).toEqual(session(digest(3), 'u-op', T0 + HOUR));
        expect(store().listUsers()).toEqual([operator]);
        // the username may be taken again
        store().insertUser(user('u-again', 'LI.DUTY'));
        expect(store().findUserByUsername('li.duty')?.id).toBe('u-again');
      });
    });

    describe('sessions', () => {
      beforeEach(() => {
        store().insertUser(user('u-1', 'li.duty'));
        store().insertUser(user('u-2', 'wang.duty'));
      });

      it('finds a session by its token digest, as stored', () => {
        store().insertSession(session(digest(1), 'u-1', T0 + 8 * HOUR));
        store().insertSession(session(digest(2), 'u-2', T0 + HOUR));
        expect(store().getSession(digest(1))).toEqual(session(digest(1), 'u-1', T0 + 8 * HOUR));
        expect(store().getSession(digest(2))).toEqual(session(digest(2), 'u-2', T0 + HOUR));
        expect(store().getSession(digest(3))).toBeUndefined();
      });

      it('deletes one session (logout), and every session of a user (password changed, disabled)', () => {
        for (const [n, u] of [[1, 'u-1'], [2, 'u-1'], [3, 'u-2'], [4, 'u-1']] as const) store().insertSession(session(digest(n), u, T0 + HOUR));
        store().deleteSession(digest(1));
        store().deleteSession(digest(99)); // none: nothing happens
        expect(store().getSession(digest(1))).toBeUndefined();
        expect(store().getSession(digest(2))).toBeDefined();
        store().deleteSessionsOfUser('u-1');
        expect(store().getSession(digest(2))).toBeUndefined();
        expect(store().getSession(digest(4))).toBeUndefined();
        expect(store().getSession(digest(3))).toEqual(session(digest(3), 'u-2', T0 + HOUR));
        // the user stays
        expect(store().getUser('u-1')?.username).toBe('li.duty');
      });

      it('deletes the sessions expired at `now` (expiresAtMs <= now) and keeps the rest', () => {
        const now = T0 + 10 * HOUR;
        store().insertSession(session(digest(1), 'u-1', now - HOUR));
        store().insertSession(session(digest(2), 'u-1', now));
        store().insertSession(session(digest(3), 'u-2', now + 1));
        store().insertSession(session(digest(4), 'u-2', now + 8 * HOUR));
        store().deleteExpiredSessions(now);
        expect(store().getSession(digest(1))).toBeUndefined();
        expect(store().getSession(digest(2))).toBeUndefined();
        expect(store().getSession(digest(3))).toEqual(session(digest(3), 'u-2', now + 1));
        expect(store().getSession(digest(4))).toEqual(session(digest(4), 'u-2', now + 8 * HOUR));
        store().deleteExpiredSessions(now + 1);
        expect(store().getSession(digest(3))).toBeUndefined();
        expect(store().getSession(digest(4))).toBeDefined();
      });
    });

    describe('API tokens', () => {
      const platform = token('t-1', digest(11), { name: 'city platform 市平台' });
      const scoped = token('t-2', digest(12), { role: 'duty', streets: ['七星岗'], createdAt: iso(1), expiresAt: iso(60 * 24 * 30) });
      const operatorToken = token('t-3', digest(13), { role: 'operator', buildingIds: ['b-1'], createdAt: iso(2), lastUsedAt: iso(3) });

      it('finds a token by its digest, with it; lists metadata only, never the digest', () => {
        for (const t of [platform, scoped, operatorToken]) store().insertApiToken(t);
        expect(store().getApiTokenByDigest(digest(11))).toEqual(platform);
        expect(store().getApiTokenByDigest(digest(12))).toEqual(scoped);
        expect(store().getApiTokenByDigest(digest(13))).toEqual(operatorToken);
        expect(store().getApiTokenByDigest(digest(14))).toBeUndefined();
        const listed = store().listApiTokens();
        expect(byId(listed)).toEqual([platform, scoped, operatorToken].map(meta));
        for (const t of listed) expect(t).not.toHaveProperty('tokenDigest');
      });

      it('refuses a second token with a digest, or with an id', () => {
        store().insertApiToken(platform);
        expect(() => store().insertApiToken(token('t-9', digest(11), { name: 'impostor' }))).toThrow();
        expect(() => store().insertApiToken(token('t-1', digest(19)))).toThrow();
        expect(store().getApiTokenByDigest(digest(11))).toEqual(platform);
        expect(store().getApiTokenByDigest(digest(19))).toBeUndefined();
        expect(store().listApiTokens()).toEqual([meta(platform)]);
      });

      it('touch sets lastUsedAt of that token only', () => {
        store().insertApiToken(platform);
        store().insertApiToken(scoped);
        store().touchApiToken('t-1', iso(30));
        expect(store().getApiTokenByDigest(digest(11))).toEqual({ ...platform, lastUsedAt: iso(30) });
        expect(store().getApiTokenByDigest(digest(12))).toEqual(scoped);
        store().touchApiToken('t-1', iso(45));
        expect(byId(store().listApiTokens())).toEqual([meta({ ...platform, lastUsedAt: iso(45) }), meta(scoped)]);
      });

      it('delete (revoke) says whether there was one; the digest no longer finds it', () => {
        store().insertApiToken(platform);
        store().insertApiToken(scoped);
        expect(store().deleteApiToken('t-1')).toBe(true);
        expect(store().deleteApiToken('t-1')).toBe(false);
        expect(store().getApiTokenByDigest(digest(11))).toBeUndefined();
        expect(store().listApiTokens()).toEqual([meta(scoped)]);
      });
    });

    it('when durable, gives back after a reopen what it held', async (ctx) => {
      if (!handle?.reopen) return ctx.skip();
      const u = user('u-1', 'Li.Duty', { streets: null, role: 'admin' });
      store().insertUser(u);
      store().insertSession(session(digest(1), 'u-1', T0 + HOUR));
      store().insertSession(session(digest(2), 'u-1', T0 + 2 * HOUR));
      store().deleteSession(digest(2));
      const t = token('t-1', digest(11), { streets: ['解放碑'], role: 'duty' });
      store().insertApiToken(t);
      store().touchApiToken('t-1', iso(9));
      const again = await handle.reopen();
      expect(again.getUser('u-1')).toEqual(u);
      expect(again.findUserByUsername('li.duty')).toEqual(u);
      expect(again.getSession(digest(1))).toEqual(session(digest(1), 'u-1', T0 + HOUR));
      expect(again.getSession(digest(2))).toBeUndefined();
      expect(again.getApiTokenByDigest(digest(11))).toEqual({ ...t, lastUsedAt: iso(9) });
      expect(() => again.insertUser(user('u-2', 'LI.DUTY'))).toThrow();
    });
  });
}
