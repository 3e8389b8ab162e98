/**
 * Users, sessions and API tokens against a real SQLite temp file, with a fake clock (the only fake);
 * then the auth routes on a small Fastify app through HTTP (app.inject), behind the API's real
 * authenticated tier (services/api/authenticated.ts: bearer token, then the route's config.roles).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authenticated } from '../../services/api/authenticated.js';
import { authRoutes, loginRoutes } from '../../services/api/routes/auth.js';
import { AuthService, DEFAULT_SESSION_TTL_MS, TooManyAttemptsError } from '../../services/auth/auth-service.js';
import { BearerGuard } from '../../services/auth/bearer-guard.js';
import { sha256 } from '../../services/devices/credentials.js';
import { AppError } from '../../services/shared/errors.js';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';
import { SqliteAuthStore } from '../../services/storage/sqlite/sqlite-auth-store.js';
import { AUTH_SCHEMA_SQL } from '../../services/storage/sqlite/migrations.js';

const ADMIN = 'auth-test-admin-token-0123456789';
const PASSWORD = 'correct horse battery';
const MINUTE = 60_000;

let dir: string;
let file: string;
let db: Db;
let t: number;
let auth: AuthService;

function freshService(): Promise<AuthService> {
  return AuthService.open({ store: new SqliteAuthStore(db), adminTokenSha256: sha256(ADMIN), now: () => t });
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'resolved';
  } catch (err) {
    return err instanceof AppError ? `${err.status} ${err.code}` : String(err);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'firewatch-auth-'));
  file = join(dir, 'firewatch.db');
  db = openDatabase(file);
  // once AUTH_SCHEMA_SQL is part of MIGRATIONS, openDatabase has already created the tables
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").get()) db.exec(AUTH_SCHEMA_SQL);
});
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  db.exec('DELETE FROM sessions; DELETE FROM api_tokens; DELETE FROM users;');
  t = Date.parse('2025-03-01T08:00:00Z');
  auth = await freshService(); // a fresh throttle per test
});

describe('users', () => {
  it('creates users of each role with the scope that role carries', async () => {
    const admin = await auth.createUser({ username: 'li.admin', password: PASSWORD, role: 'admin' });
    const duty = await auth.createUser({ username: 'wang.duty', password: PASSWORD, role: 'duty', streets: ['解放碑'], displayName: '王值班' });
    const op = await auth.createUser({ username: 'zhao-op', password: PASSWORD, role: 'operator', buildingIds: ['b1', 'b1', 'b2'] });
    const platform = await auth.createUser({ username: 'city_platform', password: PASSWORD, role: 'platform' });
    expect(admin).toMatchObject({ role: 'admin', streets: null, buildingIds: [], disabled: false, displayName: 'li.admin' });
    expect(duty).toMatchObject({ role: 'duty', streets: ['解放碑'], displayName: '王值班' });
    expect(op).toMatchObject({ role: 'operator', buildingIds: ['b1', 'b2'] });
    expect(platform.role).toBe('platform');
    expect((await auth.listUsers()).map((u) => u.username)).toEqual(['city_platform', 'li.admin', 'wang.duty', 'zhao-op']);
    expect((await auth.listUsers())[0]).not.toHaveProperty('passwordHash');
  });

  it('refuses duplicate usernames (regardless of case), bad usernames, weak passwords and misplaced scope', async () => {
    await auth.createUser({ username: 'zhang', password: PASSWORD, role: 'duty' });
    expect(await rejection(auth.createUser({ username: 'ZHANG', password: PASSWORD, role: 'duty' }))).toBe('409 username_taken');
    expect(await rejection(auth.createUser({ username: 'a:b', password: PASSWORD, role: 'duty' }))).toBe('400 invalid_username');
    expect(await rejection(auth.createUser({ username: 'short.pw', password: 'too-short', role: 'duty' }))).toBe('400 weak_password');
    expect(await rejection(auth.createUser({ username: 'op1', password: PASSWORD, role: 'operator', streets: ['大坪'] }))).toBe('400 scope_not_applicable');
    expect(await rejection(auth.createUser({ username: 'duty2', password: PASSWORD, role: 'duty', streets: [] }))).toBe('400 invalid_scope');
  });

  it('applies a role change at once and resets scope the new role does not use', async () => {
    const u = await auth.createUser({ username: 'chen', password: PASSWORD, role: 'duty', streets: ['大坪'] });
    const { token } = await auth.login('chen', PASSWORD, '10.0.0.1');
    expect((await auth.resolve(token))).toMatchObject({ role: 'duty', streets: ['大坪'], buildingIds: null });
    const changed = await auth.updateUser(u.id, { role: 'operator', buildingIds: ['b9'] });
    expect(changed).toMatchObject({ role: 'operator', streets: null, buildingIds: ['b9'] });
    expect((await auth.resolve(token))).toMatchObject({ kind: 'user', role: 'operator', streets: null, buildingIds: ['b9'] });
    expect(await rejection(auth.updateUser('nope', { disabled: true }))).toBe('404 not_found');
  });

  it('deleting a user ends its sessions', async () => {
    const u = await auth.createUser({ username: 'gone', password: PASSWORD, role: 'duty' });
    const { token } = await auth.login('gone', PASSWORD, '10.0.0.1');
    await auth.deleteUser(u.id);
    expect((await auth.resolve(token))).toBeUndefined();
    expect(await rejection(auth.deleteUser(u.id))).toBe('404 not_found');
  });
});

describe('login and sessions', () => {
  it('logs in with the right password, case-insensitively by username, and resolves the session', async () => {
    await auth.createUser({ username: 'Wang', password: PASSWORD, role: 'duty', streets: ['解放碑', '朝天门'], displayName: '王' });
    const r = await auth.login('wang', PASSWORD, '10.0.0.1');
    expect(r.token.length).toBeGreaterThanOrEqual(43);
    expect(r.expiresAt).toBe(new Date(t + 12 * 60 * MINUTE).toISOString());
    expect(r.user).toMatchObject({ username: 'Wang', role: 'duty' });
    expect((await auth.resolve(r.token))).toEqual({
      id: r.user.id,
      kind: 'user',
      username: 'Wang',
      displayName: '王',
      role: 'duty',
      streets: ['解放碑', '朝天门'],
      buildingIds: null,
    });
  });

  it('answers a wrong password and an unknown user alike', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    expect(await rejection(auth.login('wang', 'wrong password!', '10.0.0.1'))).toBe('401 invalid_credentials');
    expect(await rejection(auth.login('nobody', PASSWORD, '10.0.0.1'))).toBe('401 invalid_credentials');
    expect((await auth.resolve('not-a-token'))).toBeUndefined();
  });

  it('slows one address guessing one account with a growing delay (1 s, 2 s, 4 s … at most 60 s), never a 15-minute lockout', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    for (let i = 0; i < 5; i++) expect(await rejection(auth.login('wang', `wrong ${i} password`, '10.0.1.1'))).toBe('401 invalid_credentials');
    // the right password from the guessing address waits too, but seconds, not the old 900
    const refused = await auth.login('WANG', PASSWORD, '10.0.1.1').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TooManyAttemptsError);
    expect((refused as TooManyAttemptsError).retryAfterS).toBe(1);
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await auth.login('wang', `still wrong ${i}`, '10.0.1.1').catch((err: unknown) => err);
      expect(r).toBeInstanceOf(TooManyAttemptsError);
      waits.push((r as TooManyAttemptsError).retryAfterS);
      t += (r as TooManyAttemptsError).retryAfterS * 1000;
      expect(await rejection(auth.login('wang', `still wrong ${i}`, '10.0.1.1'))).toBe('401 invalid_credentials');
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
    // meanwhile the real user, from an address that has not been failing, logs in at once
    expect((await auth.login('wang', PASSWORD, '10.0.2.1')).user.username).toBe('wang');
    // and from the guessing address after at most a minute
    const last = await auth.login('wang', PASSWORD, '10.0.1.1').catch((err: unknown) => err);
    expect((last as TooManyAttemptsError).retryAfterS).toBeLessThanOrEqual(60);
    t += (last as TooManyAttemptsError).retryAfterS * 1000;
    expect((await auth.login('wang', PASSWORD, '10.0.1.1')).user.username).toBe('wang');
    // a success clears that address's count for the account
    expect(await rejection(auth.login('wang', 'one more typo', '10.0.1.1'))).toBe('401 invalid_credentials');
  });

  it('slows an address guessing across usernames after 20 failures; other addresses are not affected', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    for (let i = 0; i < 20; i++) expect(await rejection(auth.login(`guess${i}`, PASSWORD, '203.0.113.9'))).toBe('401 invalid_credentials');
    expect(await rejection(auth.login('guess-new', PASSWORD, '203.0.113.9'))).toBe('429 too_many_attempts');
    expect(await rejection(auth.login('wang', PASSWORD, '203.0.113.9'))).toBe('429 too_many_attempts');
    expect((await auth.login('wang', PASSWORD, '10.0.0.2')).user.username).toBe('wang');
    t += 1000;
    expect((await auth.login('wang', PASSWORD, '203.0.113.9')).user.username).toBe('wang');
  });

  it('an account guessed from many addresses is not locked: a clean address logs in, failing ones get one free try', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    for (let i = 0; i < 25; i++) expect(await rejection(auth.login('wang', `botnet guess ${i}`, `198.51.100.${i}`))).toBe('401 invalid_credentials');
    // under attack: an address that already failed for the account waits before its next try
    expect(await rejection(auth.login('wang', 'botnet guess again', '198.51.100.3'))).toBe('429 too_many_attempts');
    expect((await auth.login('wang', PASSWORD, '10.0.0.7')).user.username).toBe('wang');
  });

  it('counts parallel guesses before the slow check, so a burst cannot slip past the limit', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => rejection(auth.login('wang', `guess number ${i}`, '10.9.0.1'))));
    expect(results.filter((r) => r === '401 invalid_credentials')).toHaveLength(5);
    expect(results.filter((r) => r === '429 too_many_attempts')).toHaveLength(7);
  });

  it('expires a session after its TTL (12 h by default)', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    const { token } = await auth.login('wang', PASSWORD, '10.0.0.1');
    t += DEFAULT_SESSION_TTL_MS - 1;
    expect((await auth.resolve(token))?.username).toBe('wang');
    t += 1;
    expect((await auth.resolve(token))).toBeUndefined();
    expect(db.prepare('SELECT COUNT(*) FROM sessions').pluck().get()).toBe(0);
  });

  it('takes a configurable TTL', async () => {
    const short = await AuthService.open({ store: new SqliteAuthStore(db), adminTokenSha256: sha256(ADMIN), now: () => t, sessionTtlMs: 5 * MINUTE });
    await short.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    const { token, expiresAt } = await short.login('wang', PASSWORD, '10.0.0.1');
    expect(expiresAt).toBe(new Date(t + 5 * MINUTE).toISOString());
    t += 5 * MINUTE;
    expect((await short.resolve(token))).toBeUndefined();
  });

  it('ends a session on logout, and every session on a new password or when disabled', async () => {
    const u = await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    const a = await auth.login('wang', PASSWORD, '10.0.0.1');
    const b = await auth.login('wang', PASSWORD, '10.0.0.1');
    await auth.logout(a.token);
    expect((await auth.resolve(a.token))).toBeUndefined();
    expect((await auth.resolve(b.token))?.id).toBe(u.id);

    await auth.updateUser(u.id, { password: 'a brand new password' });
    expect((await auth.resolve(b.token))).toBeUndefined();
    expect(await rejection(auth.login('wang', PASSWORD, '10.0.0.1'))).toBe('401 invalid_credentials');
    const c = await auth.login('wang', 'a brand new password', '10.0.0.1');

    await auth.updateUser(u.id, { disabled: true });
    expect((await auth.resolve(c.token))).toBeUndefined();
  });

  it('refuses disabled users with the same answer as a wrong password', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty', disabled: true });
    expect(await rejection(auth.login('wang', PASSWORD, '10.0.0.1'))).toBe('401 invalid_credentials');
  });
});

describe('API tokens and the admin token', () => {
  it('creates a token whose secret is shown once, resolves it with its scope, and revokes it', async () => {
    const created = (await auth.createApiToken({ name: 'city platform', role: 'platform' }));
    expect(created.token.length).toBeGreaterThanOrEqual(43);
    expect((await auth.listApiTokens())).toEqual([{ id: created.id, name: 'city platform', role: 'platform', streets: null, buildingIds: [], createdAt: created.createdAt, lastUsedAt: null, expiresAt: null }]);
    expect((await auth.resolve(created.token))).toEqual({ id: created.id, kind: 'api_token', username: 'token:city platform', displayName: 'city platform', role: 'platform', streets: null, buildingIds: null });

    const duty = (await auth.createApiToken({ name: 'jfb wall screen', role: 'duty', streets: ['解放碑'] }));
    expect((await auth.resolve(duty.token))).toMatchObject({ role: 'duty', streets: ['解放碑'] });

    await auth.revokeApiToken(created.id);
    expect((await auth.resolve(created.token))).toBeUndefined();
    await expect(auth.revokeApiToken(created.id)).rejects.toThrow(/does not exist/);
  });

  it('refuses admin tokens and past expiry; honours expiry; writes lastUsedAt at most once a minute', async () => {
    await expect(auth.createApiToken({ name: 'x', role: 'admin' as 'platform' })).rejects.toThrow(/admin/);
    await expect(auth.createApiToken({ name: 'x', role: 'platform', expiresAt: new Date(t).toISOString() })).rejects.toThrow(/future/);
    const tok = (await auth.createApiToken({ name: 'short', role: 'platform', expiresAt: new Date(t + 10 * MINUTE).toISOString() }));
    const lastUsed = async () => (await auth.listApiTokens())[0]?.lastUsedAt;
    await auth.resolve(tok.token);
    expect(await lastUsed()).toBe(new Date(t).toISOString());
    t += 30_000;
    await auth.resolve(tok.token);
    expect(await lastUsed()).toBe(new Date(t - 30_000).toISOString());
    t += 30_000;
    await auth.resolve(tok.token);
    expect(await lastUsed()).toBe(new Date(t).toISOString());
    t += 9 * MINUTE;
    expect((await auth.resolve(tok.token))).toBeUndefined();
  });

  it('resolves the admin token as the admin', async () => {
    expect((await auth.resolve(ADMIN))).toEqual({ id: 'admin', kind: 'admin_token', username: 'system:admin', displayName: 'Administrator (admin token)', role: 'admin', streets: null, buildingIds: null });
    expect((await auth.resolve(ADMIN + 'x'))).toBeUndefined();
  });
});

describe('storage', () => {
  it('keeps only hashes and digests: no password or token in the database files', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    const { token: session } = await auth.login('wang', PASSWORD, '10.0.0.1');
    const { token: apiToken } = (await auth.createApiToken({ name: 'platform', role: 'platform' }));
    expect(db.prepare('SELECT password_hash FROM users').pluck().get()).toMatch(/^scrypt\$/);
    expect(db.prepare('SELECT token_digest FROM sessions').pluck().get()).toBe(sha256(session));

    const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    expect(bytes.includes(Buffer.from('wang'))).toBe(true); // the check can see data at all
    for (const secret of [PASSWORD, session, apiToken]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
  });
});

describe('routes', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    const a = Fastify().withTypeProvider<ZodTypeProvider>();
    a.setValidatorCompiler(validatorCompiler);
    a.setSerializerCompiler(serializerCompiler);
    a.setErrorHandler((err: unknown, _req, reply) => {
      if (err instanceof AppError) return reply.code(err.status).send({ code: err.code });
      const e = err as { statusCode?: number };
      return reply.code(e.statusCode ?? 500).send({ code: 'error' });
    });
    await a.register(loginRoutes, { prefix: '/api/v1', auth });
    // as services/api/app.ts mounts them: the real authenticated tier first, then the route plugin
    await a.register(
      async (api) => {
        await api.register(authenticated, { auth, guard: new BearerGuard({ now: () => t }) });
        await api.register(authRoutes, { auth });
      },
      { prefix: '/api/v1' },
    );
    app = a;
  });
  afterEach(async () => app?.close());

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token?: string, payload?: object) =>
    app.inject({ method, url: `/api/v1${url}`, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload ? { payload } : {}) });

  it('logs in without a bearer token, then /auth/me is the user; logout ends it', async () => {
    expect((await call('POST', '/users', ADMIN, { username: 'wang', password: PASSWORD, role: 'duty', streets: ['大坪'] })).statusCode).toBe(201);
    expect((await call('GET', '/auth/me')).statusCode).toBe(401);
    const login = await call('POST', '/auth/login', undefined, { username: 'wang', password: PASSWORD });
    expect(login.statusCode).toBe(200);
    const { token, user } = login.json();
    expect(user).toMatchObject({ username: 'wang', role: 'duty' });
    expect(user).not.toHaveProperty('passwordHash');
    const me = await call('GET', '/auth/me', token);
    expect(me.json()).toMatchObject({ kind: 'user', username: 'wang', role: 'duty', streets: ['大坪'], buildingIds: null });
    expect((await call('POST', '/auth/logout', token)).statusCode).toBe(204);
    expect((await call('GET', '/auth/me', token)).statusCode).toBe(401);
  });

  it('gives a duty user 403 on admin routes, before looking at the body', async () => {
    await auth.createUser({ username: 'wang', password: PASSWORD, role: 'duty' });
    const { token } = await auth.login('wang', PASSWORD, '10.0.0.1');
    for (const body of [{ username: 'li', password: PASSWORD, role: 'admin' }, {}]) {
      const r = await call('POST', '/users', token, body);
      expect([r.statusCode, r.json().code]).toEqual([403, 'forbidden']);
    }
    expect((await call('GET', '/tokens', token)).statusCode).toBe(403);
  });

  it('lets the admin manage tokens; the secret is returned once and never listed', async () => {
    const created = await call('POST', '/tokens', ADMIN, { name: 'city', role: 'platform' });
    expect(created.statusCode).toBe(201);
    const { token, id } = created.json();
    expect((await call('GET', '/auth/me', token)).json()).toMatchObject({ kind: 'api_token', role: 'platform' });
    const list = (await call('GET', '/tokens', ADMIN)).json();
    expect(list.items).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(token);
    expect((await call('POST', '/tokens', ADMIN, { name: 'root', role: 'admin' })).statusCode).toBe(400);
    expect((await call('DELETE', `/tokens/${id}`, ADMIN)).statusCode).toBe(204);
    expect((await call('GET', '/auth/me', token)).statusCode).toBe(401);
  });

  it('answers a throttled login with 429 and Retry-After', async () => {
    for (let i = 0; i < 5; i++) await call('POST', '/auth/login', undefined, { username: 'ghost', password: 'not the password' });
    const r = await call('POST', '/auth/login', undefined, { username: 'ghost', password: 'not the password' });
    expect([r.statusCode, r.json().code]).toEqual([429, 'too_many_attempts']);
    expect(r.headers['retry-after']).toBe('1');
  });
});
