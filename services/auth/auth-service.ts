/**
 * Users, sessions and API tokens (issue #3). Controller → service → store: routes validate the
 * shape of a request, this service owns the rules (scope per role, hashing, throttling, expiry),
 * and an `AuthStore` keeps digests and hashes only.
 *
 * Secrets: passwords are scrypt hashes (slow, memory-hard); session and API tokens are 256 random
 * bits stored as SHA-256 digests, which is enough for values nobody can guess (credentials.ts).
 */
import { randomUUID } from 'node:crypto';
import { constantTimeEqualHex, generateSecret, hashSecret, sha256, verifySecret } from '../devices/credentials.js';
import { AppError, BadRequestError, ConflictError, NotFoundError } from '../shared/errors.js';
import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  USERNAME_PATTERN,
  type ApiToken,
  type AuthStore,
  type CreatedApiToken,
  type LoginResult,
  type NewApiToken,
  type NewUser,
  type Principal,
  type Role,
  type Scope,
  type StoredApiToken,
  type StoredUser,
  type ScopeInput,
  type TokenAuthenticator,
  type User,
  type UserPatch,
} from './model.js';

/** A duty shift: a session outlives one shift change, not two. */
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** OWASP ASVS 2.2.1-style lockout: 5 failures per 15 minutes, per username and per address. */
export const DEFAULT_THROTTLE = { maxFailures: 5, windowMs: 15 * 60 * 1000 };
/** A token used many times a second writes `lastUsedAt` at most this often. */
const TOUCH_INTERVAL_MS = 60 * 1000;

export const ADMIN_TOKEN_PRINCIPAL: Readonly<Principal> = Object.freeze({
  id: 'admin',
  kind: 'admin_token',
  username: 'system:admin',
  displayName: 'Administrator (admin token)',
  role: 'admin',
  streets: null,
  buildingIds: null,
});

export class TooManyAttemptsError extends AppError {
  constructor(readonly retryAfterS: number) {
    super('too_many_attempts', 429, `too many failed logins; try again in ${retryAfterS} s`, { retryAfterS });
  }
}

/** One answer for unknown user, wrong password and disabled account, so none can be told apart. */
export class InvalidCredentialsError extends AppError {
  constructor() {
    super('invalid_credentials', 401, 'wrong username or password');
  }
}

export interface AuthServiceOptions {
  store: AuthStore;
  /** SHA-256 hex of ADMIN_TOKEN, as main.ts keeps it in settings. */
  adminTokenSha256: string;
  /** epoch ms; tests inject a fake clock. */
  now?: () => number;
  sessionTtlMs?: number;
  throttle?: { maxFailures: number; windowMs: number };
}

export class AuthService implements TokenAuthenticator {
  private readonly store: AuthStore;
  private readonly adminTokenSha256: string;
  private readonly now: () => number;
  private readonly sessionTtlMs: number;
  private readonly failures: FailureThrottle;
  private dummyHash?: Promise<string>;

  constructor(opts: AuthServiceOptions) {
    this.store = opts.store;
    this.adminTokenSha256 = opts.adminTokenSha256;
    this.now = opts.now ?? Date.now;
    this.sessionTtlMs = opts.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
    const t = opts.throttle ?? DEFAULT_THROTTLE;
    this.failures = new FailureThrottle(t.maxFailures, t.windowMs);
  }

  // ── users ───────────────────────────────────────────────────────────────────
  async createUser(input: NewUser): Promise<User> {
    if (!USERNAME_PATTERN.test(input.username)) {
      throw new BadRequestError('invalid_username', 'a username is 3–64 letters, digits, _ . or -');
    }
    checkPassword(input.password);
    const passwordHash = await hashSecret(input.password);
    // synchronous from here: nothing can take the username between the check and the insert
    if (this.store.findUserByUsername(input.username)) {
      throw new ConflictError('username_taken', `the username ${input.username} is taken`);
    }
    const user: StoredUser = {
      id: randomUUID(),
      username: input.username,
      displayName: input.displayName?.trim() || input.username,
      role: input.role,
      ...scopeFor(input.role, input, undefined),
      disabled: input.disabled ?? false,
      createdAt: this.iso(),
      passwordHash,
    };
    this.store.insertUser(user);
    return publicUser(user);
  }

  listUsers(): User[] {
    return this.store.listUsers().map(publicUser);
  }

  getUser(id: string): User {
    return publicUser(this.storedUser(id));
  }

  /** A new password or `disabled: true` ends the user's sessions; a role change applies at once. */
  async updateUser(id: string, patch: UserPatch): Promise<User> {
    this.storedUser(id);
    if (patch.password !== undefined) checkPassword(patch.password);
    const passwordHash = patch.password !== undefined ? await hashSecret(patch.password) : undefined;
    const current = this.storedUser(id); // again: it may have changed while hashing
    const role = patch.role ?? current.role;
    const next: StoredUser = {
      ...current,
      displayName: patch.displayName?.trim() || current.displayName,
      role,
      ...scopeFor(role, patch, current),
      disabled: patch.disabled ?? current.disabled,
      passwordHash: passwordHash ?? current.passwordHash,
    };
    this.store.updateUser(next);
    if (passwordHash !== undefined || (next.disabled && !current.disabled)) this.store.deleteSessionsOfUser(id);
    return publicUser(next);
  }

  deleteUser(id: string): void {
    if (!this.store.deleteUser(id)) throw new NotFoundError('user', id);
  }

  // ── sessions ────────────────────────────────────────────────────────────────
  async login(username: string, password: string, remoteAddr: string): Promise<LoginResult> {
    const keys = [`user:${username.toLowerCase()}`, `addr:${remoteAddr}`];
    const started = this.now();
    const waitMs = Math.max(...keys.map((k) => this.failures.retryAfterMs(k, started)));
    if (waitMs > 0) throw new TooManyAttemptsError(Math.ceil(waitMs / 1000));
    // Count the attempt as a failure before the slow check, so a burst of parallel guesses cannot
    // all pass the gate above while the first ones are still hashing; success takes it back.
    for (const k of keys) this.failures.fail(k, started);

    const found = this.store.findUserByUsername(username);
    // Unknown users cost a full scrypt too, so response time does not reveal which names exist.
    const ok = await verifySecret(password, found?.passwordHash ?? (await this.dummy()));
    const user = found && this.store.getUser(found.id); // re-read: disabled while we were hashing?
    if (!ok || !user || user.disabled) throw new InvalidCredentialsError();

    this.failures.clear(keys[0]!);
    this.failures.forgive(keys[1]!, started);
    const now = this.now();
    this.store.deleteExpiredSessions(now);
    const token = generateSecret(32);
    const expiresAtMs = now + this.sessionTtlMs;
    this.store.insertSession({ tokenDigest: sha256(token), userId: user.id, createdAt: this.iso(now), expiresAtMs });
    return { token, expiresAt: new Date(expiresAtMs).toISOString(), user: publicUser(user) };
  }

  logout(token: string): void {
    this.store.deleteSession(sha256(token));
  }

  // ── API tokens ──────────────────────────────────────────────────────────────
  /**
   * The secret is in the result and nowhere else. No admin API tokens: ADMIN_TOKEN already is the
   * one admin credential for automation, and a second, long-lived one would outlive its rotation.
   */
  createApiToken(input: NewApiToken): CreatedApiToken {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100) throw new BadRequestError('invalid_name', 'a token name is 1–100 characters');
    if ((input.role as Role) === 'admin') throw new BadRequestError('role_not_allowed', 'API tokens cannot have the admin role');
    let expiresAt: string | null = null;
    if (input.expiresAt != null) {
      const ms = Date.parse(input.expiresAt);
      if (Number.isNaN(ms) || ms <= this.now()) throw new BadRequestError('invalid_expiry', 'expiresAt must be a future time');
      expiresAt = new Date(ms).toISOString();
    }
    const token = generateSecret(32);
    const stored: StoredApiToken = {
      id: randomUUID(),
      name,
      role: input.role,
      ...scopeFor(input.role, input, undefined),
      createdAt: this.iso(),
      lastUsedAt: null,
      expiresAt,
      tokenDigest: sha256(token),
    };
    this.store.insertApiToken(stored);
    const { tokenDigest: _digest, ...meta } = stored;
    return { ...meta, token };
  }

  listApiTokens(): ApiToken[] {
    return this.store.listApiTokens();
  }

  revokeApiToken(id: string): void {
    if (!this.store.deleteApiToken(id)) throw new NotFoundError('API token', id);
  }

  // ── every request ───────────────────────────────────────────────────────────
  resolve(token: string): Principal | undefined {
    const digest = sha256(token);
    if (constantTimeEqualHex(digest, this.adminTokenSha256)) return { ...ADMIN_TOKEN_PRINCIPAL };
    const now = this.now();

    const session = this.store.getSession(digest);
    if (session) {
      if (session.expiresAtMs <= now) {
        this.store.deleteSession(digest);
        return undefined;
      }
      const user = this.store.getUser(session.userId);
      if (!user || user.disabled) return undefined;
      return { id: user.id, kind: 'user', username: user.username, displayName: user.displayName, ...principalScope(user.role, user) };
    }

    const t = this.store.getApiTokenByDigest(digest);
    if (!t || (t.expiresAt !== null && Date.parse(t.expiresAt) <= now)) return undefined;
    if (t.lastUsedAt === null || now - Date.parse(t.lastUsedAt) >= TOUCH_INTERVAL_MS) this.store.touchApiToken(t.id, this.iso(now));
    return { id: t.id, kind: 'api_token', username: `token:${t.name}`, displayName: t.name, ...principalScope(t.role, t) };
  }

  // ── helpers ─────────────────────────────────────────────────────────────────
  private storedUser(id: string): StoredUser {
    const user = this.store.getUser(id);
    if (!user) throw new NotFoundError('user', id);
    return user;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashSecret(generateSecret());
    return this.dummyHash;
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }
}

/**
 * Failed logins per key in a sliding window, in memory: a restart forgets them, which costs an
 * attacker a restart per 5 guesses. Bounded, so a stream of made-up usernames cannot fill memory
 * (the per-address key still holds such a stream back).
 */
class FailureThrottle {
  private readonly byKey = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** 0 when an attempt may proceed, else how long until the oldest counted failure ages out. */
  retryAfterMs(key: string, now: number): number {
    const recent = (this.byKey.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length === 0) this.byKey.delete(key);
    else this.byKey.set(key, recent);
    if (recent.length < this.maxFailures) return 0;
    return recent[recent.length - this.maxFailures]! + this.windowMs - now;
  }

  fail(key: string, now: number): void {
    const list = this.byKey.get(key) ?? [];
    list.push(now);
    this.byKey.delete(key); // re-insert: Map order doubles as least-recently-failed first
    this.byKey.set(key, list);
    if (this.byKey.size > this.maxKeys) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** Takes back one failure recorded at `at` (an attempt that turned out to succeed). */
  forgive(key: string, at: number): void {
    const list = this.byKey.get(key);
    const i = list?.lastIndexOf(at) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  clear(key: string): void {
    this.byKey.delete(key);
  }
}

function checkPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new BadRequestError('weak_password', `a password is ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters`);
  }
}

function publicUser(u: StoredUser): User {
  const { passwordHash: _hash, ...user } = u;
  return user;
}

/**
 * The scope a role carries: duty has `streets`, operator has `buildingIds`, the others neither.
 * Naming a field the role does not use is a 400 (probably a mistake); a field inherited from the
 * old role on a role change is reset instead, so `{ role: 'operator', buildingIds }` just works.
 */
function scopeFor(role: Role, input: ScopeInput, current: Scope | undefined): Scope {
  const streets = input.streets !== undefined ? input.streets : role === 'duty' ? (current?.streets ?? null) : null;
  const buildingIds = input.buildingIds ?? (role === 'operator' ? (current?.buildingIds ?? []) : []);
  if (role !== 'duty' && input.streets != null) {
    throw new BadRequestError('scope_not_applicable', `streets apply to the duty role, not ${role}`);
  }
  if (role !== 'operator' && input.buildingIds !== undefined && input.buildingIds.length > 0) {
    throw new BadRequestError('scope_not_applicable', `buildingIds apply to the operator role, not ${role}`);
  }
  if (streets !== null && streets.length === 0) {
    throw new BadRequestError('invalid_scope', 'streets is null (all streets) or a non-empty list');
  }
  return { streets: streets && [...new Set(streets)], buildingIds: [...new Set(buildingIds)] };
}

function principalScope(role: Role, s: Scope): Pick<Principal, 'role' | 'streets' | 'buildingIds'> {
  return {
    role,
    streets: role === 'duty' ? s.streets : null,
    buildingIds: role === 'operator' ? s.buildingIds : null,
  };
}
