/**
 * Users, sessions and API tokens (issue #3). Controller → service → store: routes validate the
 * shape of a request, this service owns the rules (scope per role, hashing, throttling, expiry),
 * and an `AuthStore` (awaited: SQLite or PostgreSQL) keeps digests and hashes only. Who a username
 * names (its display name, for the console) is kept in memory, loaded at open and kept current by
 * this service's own changes.
 *
 * Secrets: passwords are scrypt hashes (slow, memory-hard); session and API tokens are 256 random
 * bits stored as SHA-256 digests, which is enough for values nobody can guess (credentials.ts).
 *
 * Login throttling slows guessing per account-and-address, per address and per account without
 * ever locking the real user out (issue #12 item 10; the policy is in throttle.ts).
 *
 * Changes that end or alter what a credential means — logout, session expiry, a revoked API token,
 * a user disabled, deleted, given a new password, role or scope — are emitted to
 * `onPrincipalChange` listeners after they are stored (issue #12 item 5), so the live feed closes
 * a WebSocket authenticated with that credential at once rather than streaming on.
 */
import { randomUUID } from 'node:crypto';
import { constantTimeEqualHex, generateSecret, hashSecret, sha256, verifySecret } from '../devices/credentials.js';
import { AppError, BadRequestError, ConflictError, NotFoundError } from '../shared/errors.js';
import { LoginThrottle, type LoginThrottlePolicy } from './throttle.js';
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
  type LiveAuthenticator,
  type Principal,
  type PrincipalChange,
  type ResolvedCredential,
  type Role,
  type Scope,
  type StoredApiToken,
  type StoredUser,
  type ScopeInput,
  type User,
  type UserPatch,
} from './model.js';

/** A duty shift: a session outlives one shift change, not two. */
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export { DEFAULT_LOGIN_THROTTLE } from './throttle.js';
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
  constructor(
    readonly retryAfterS: number,
    what = 'failed logins',
  ) {
    super('too_many_attempts', 429, `too many ${what}; try again in ${retryAfterS} s`, { retryAfterS });
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
  /** login throttling; defaults in throttle.ts (DEFAULT_LOGIN_THROTTLE) */
  throttle?: Partial<LoginThrottlePolicy>;
}

export class AuthService implements LiveAuthenticator {
  private readonly store: AuthStore;
  /** lower-cased username → display name, for displayNameOf (the console names who did what) */
  private readonly names = new Map<string, string>();
  private readonly adminTokenSha256: string;
  private readonly now: () => number;
  private readonly sessionTtlMs: number;
  private readonly throttle: LoginThrottle;
  private readonly listeners = new Set<(change: PrincipalChange) => void>();
  private dummyHash?: Promise<string>;

  /** Opens the service on its store: the users' display names are loaded. */
  static async open(opts: AuthServiceOptions): Promise<AuthService> {
    const auth = new AuthService(opts);
    for (const u of await auth.store.listUsers()) auth.names.set(u.username.toLowerCase(), u.displayName);
    return auth;
  }

  private constructor(opts: AuthServiceOptions) {
    this.store = opts.store;
    this.adminTokenSha256 = opts.adminTokenSha256;
    this.now = opts.now ?? Date.now;
    this.sessionTtlMs = opts.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
    this.throttle = new LoginThrottle(opts.throttle);
  }

  // ── changes ─────────────────────────────────────────────────────────────────
  onPrincipalChange(listener: (change: PrincipalChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: PrincipalChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        // the change is stored; one listener's failure must not turn the request into a 500
      }
    }
  }

  // ── users ───────────────────────────────────────────────────────────────────
  async createUser(input: NewUser): Promise<User> {
    if (!USERNAME_PATTERN.test(input.username)) {
      throw new BadRequestError('invalid_username', 'a username is 3–64 letters, digits, _ . or -');
    }
    checkPassword(input.password);
    const passwordHash = await hashSecret(input.password);
    // the clear error for the common case; a username taken between this check and the insert
    // (another request, another node) is refused by the store's unique index with the same error
    if (await this.store.findUserByUsername(input.username)) {
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
    await this.store.insertUser(user);
    this.names.set(user.username.toLowerCase(), user.displayName);
    return publicUser(user);
  }

  async listUsers(): Promise<User[]> {
    return (await this.store.listUsers()).map(publicUser);
  }

  /**
   * The display name of the person a username names, as the console shows who acknowledged, closed
   * or changed something (issue #17 item 5): the name only, nothing else of the user. Null for
   * `system`, tokens (`token:…`, `system:admin`) and usernames no user has (any more).
   */
  displayNameOf(username: string): string | null {
    if (username.includes(':') || username === 'system') return null;
    return this.names.get(username.toLowerCase()) ?? null;
  }

  async getUser(id: string): Promise<User> {
    return publicUser(await this.storedUser(id));
  }

  /**
   * A new password or `disabled: true` ends the user's sessions; a role or scope change applies at
   * once, and connections authenticated as the user hear of each (the live feed closes them).
   */
  async updateUser(id: string, patch: UserPatch): Promise<User> {
    await this.storedUser(id);
    if (patch.password !== undefined) checkPassword(patch.password);
    const passwordHash = patch.password !== undefined ? await hashSecret(patch.password) : undefined;
    const current = await this.storedUser(id); // again: it may have changed while hashing
    const role = patch.role ?? current.role;
    const next: StoredUser = {
      ...current,
      displayName: patch.displayName?.trim() || current.displayName,
      role,
      ...scopeFor(role, patch, current),
      disabled: patch.disabled ?? current.disabled,
      passwordHash: passwordHash ?? current.passwordHash,
    };
    await this.store.updateUser(next);
    this.names.set(next.username.toLowerCase(), next.displayName);
    const disabled = next.disabled && !current.disabled;
    if (passwordHash !== undefined || disabled) await this.store.deleteSessionsOfUser(id);
    const reason = disabled
      ? 'user_disabled'
      : passwordHash !== undefined
        ? 'password_changed'
        : next.role !== current.role
          ? 'role_changed'
          : !sameScope(principalScope(next.role, next), principalScope(current.role, current))
            ? 'scope_changed'
            : undefined;
    if (reason) this.emit({ kind: 'user', userId: id, reason });
    return publicUser(next);
  }

  async deleteUser(id: string): Promise<void> {
    const user = await this.store.getUser(id);
    if (!(await this.store.deleteUser(id))) throw new NotFoundError('user', id);
    if (user) this.names.delete(user.username.toLowerCase());
    this.emit({ kind: 'user', userId: id, reason: 'user_deleted' });
  }

  // ── sessions ────────────────────────────────────────────────────────────────
  /** Throttled per account and address (throttle.ts): a 429 says how long to wait, never 15 minutes. */
  async login(username: string, password: string, remoteAddr: string): Promise<LoginResult> {
    const started = this.now();
    const waitMs = this.throttle.waitMs(username, remoteAddr, started);
    if (waitMs > 0) throw new TooManyAttemptsError(Math.max(1, Math.ceil(waitMs / 1000)));
    // Count the attempt as a failure before the slow check, so a burst of parallel guesses cannot
    // all pass the gate above while the first ones are still hashing; success takes it back.
    this.throttle.begin(username, remoteAddr, started);

    const found = await this.store.findUserByUsername(username);
    // Unknown users cost a full scrypt too, so response time does not reveal which names exist.
    const ok = await verifySecret(password, found?.passwordHash ?? (await this.dummy()));
    const user = found && (await this.store.getUser(found.id)); // re-read: disabled while we were hashing?
    if (!ok || !user || user.disabled) throw new InvalidCredentialsError();

    this.throttle.succeeded(username, remoteAddr, started);
    const now = this.now();
    await this.store.deleteExpiredSessions(now);
    const token = generateSecret(32);
    const expiresAtMs = now + this.sessionTtlMs;
    await this.store.insertSession({ tokenDigest: sha256(token), userId: user.id, createdAt: this.iso(now), expiresAtMs });
    return { token, expiresAt: new Date(expiresAtMs).toISOString(), user: publicUser(user) };
  }

  async logout(token: string): Promise<void> {
    const tokenDigest = sha256(token);
    await this.store.deleteSession(tokenDigest);
    this.emit({ kind: 'session', tokenDigest, reason: 'logout' });
  }

  // ── API tokens ──────────────────────────────────────────────────────────────
  /**
   * The secret is in the result and nowhere else. No admin API tokens: ADMIN_TOKEN already is the
   * one admin credential for automation, and a second, long-lived one would outlive its rotation.
   */
  async createApiToken(input: NewApiToken): Promise<CreatedApiToken> {
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
    await this.store.insertApiToken(stored);
    const { tokenDigest: _digest, ...meta } = stored;
    return { ...meta, token };
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return this.store.listApiTokens();
  }

  async revokeApiToken(id: string): Promise<void> {
    if (!(await this.store.deleteApiToken(id))) throw new NotFoundError('API token', id);
    this.emit({ kind: 'api_token', tokenId: id, reason: 'token_revoked' });
  }

  // ── every request ───────────────────────────────────────────────────────────
  async resolve(token: string): Promise<Principal | undefined> {
    return (await this.resolveCredential(token))?.principal;
  }

  /**
   * `resolve` with what a long-lived connection needs: the token's digest and when it expires.
   * `admin: false` leaves the admin token out (BearerGuard: a throttled address may still use the
   * unguessable tokens this service issued, but not test guesses of the operator-chosen one).
   */
  async resolveCredential(token: string, opts: { admin?: boolean } = {}): Promise<ResolvedCredential | undefined> {
    const tokenDigest = sha256(token);
    if (opts.admin !== false && constantTimeEqualHex(tokenDigest, this.adminTokenSha256)) {
      return { principal: { ...ADMIN_TOKEN_PRINCIPAL }, tokenDigest, expiresAtMs: null };
    }
    const now = this.now();

    const session = await this.store.getSession(tokenDigest);
    if (session) {
      if (session.expiresAtMs <= now) {
        await this.store.deleteSession(tokenDigest);
        this.emit({ kind: 'session', tokenDigest, reason: 'session_expired' });
        return undefined;
      }
      const user = await this.store.getUser(session.userId);
      if (!user || user.disabled) return undefined;
      const principal: Principal = { id: user.id, kind: 'user', username: user.username, displayName: user.displayName, ...principalScope(user.role, user) };
      return { principal, tokenDigest, expiresAtMs: session.expiresAtMs };
    }

    const t = await this.store.getApiTokenByDigest(tokenDigest);
    const expiresAtMs = t?.expiresAt != null ? Date.parse(t.expiresAt) : null;
    if (!t || (expiresAtMs !== null && expiresAtMs <= now)) return undefined;
    if (t.lastUsedAt === null || now - Date.parse(t.lastUsedAt) >= TOUCH_INTERVAL_MS) await this.store.touchApiToken(t.id, this.iso(now));
    const principal: Principal = { id: t.id, kind: 'api_token', username: `token:${t.name}`, displayName: t.name, ...principalScope(t.role, t) };
    return { principal, tokenDigest, expiresAtMs };
  }

  // ── helpers ─────────────────────────────────────────────────────────────────
  private async storedUser(id: string): Promise<StoredUser> {
    const user = await this.store.getUser(id);
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

function sameScope(a: Pick<Principal, 'streets' | 'buildingIds'>, b: Pick<Principal, 'streets' | 'buildingIds'>): boolean {
  const same = (x: string[] | null, y: string[] | null) => (x === null || y === null ? x === y : x.length === y.length && x.every((v) => y.includes(v)));
  return same(a.streets, b.streets) && same(a.buildingIds, b.buildingIds);
}

function principalScope(role: Role, s: Scope): Pick<Principal, 'role' | 'streets' | 'buildingIds'> {
  return {
    role,
    streets: role === 'duty' ? s.streets : null,
    buildingIds: role === 'operator' ? s.buildingIds : null,
  };
}
