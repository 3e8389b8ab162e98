/**
 * Who may use the API (issue #3, "Users and roles"): people log in and get an expiring session,
 * integrations use API tokens, and the boot-time admin token (issue #2) stays as the break-glass
 * principal. Every request resolves to one `Principal`; scope rules live in `scope.ts`.
 *
 * Roles:
 * - admin    — everything, including users and tokens.
 * - duty     — sees and handles alerts; `streets` limits that to some streets (null = all).
 * - operator — manages devices and maintenance of its own `buildingIds` only.
 * - platform — read-only integration (the city platform), not limited by scope.
 */
import type { Awaitable } from '../shared/awaitable.js';
export const ROLES = ['admin', 'duty', 'operator', 'platform'] as const;
export type Role = (typeof ROLES)[number];

/** Letters, digits, `_ . -`: no `:`, which marks non-user principals ("token:…", "system:admin"). */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,64}$/;
export const PASSWORD_MIN_LENGTH = 10;
/** scrypt pre-hashes its input, but there is no reason to accept megabytes of "password". */
export const PASSWORD_MAX_LENGTH = 1024;

/** The scope a user or token carries; which fields apply depends on the role (see `scopeProblem`). */
export interface Scope {
  /** duty only: the streets it covers; null = all streets. */
  streets: string[] | null;
  /** operator only: the buildings it manages. Empty for every other role. */
  buildingIds: string[];
}

export interface User extends Scope {
  id: string;
  /** Unique regardless of case ("Zhang" and "zhang" are the same person). */
  username: string;
  displayName: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
}

/** Metadata of an API token; the secret is shown once at creation and never stored. */
export interface ApiToken extends Scope {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export type PrincipalKind = 'admin_token' | 'user' | 'api_token';

/** The caller of one request, as routes and the live feed see it. */
export interface Principal {
  id: string;
  kind: PrincipalKind;
  /** What the audit trail records as "who" (a user's username, a token's name). */
  username: string;
  displayName: string;
  role: Role;
  /** null = all streets. */
  streets: string[] | null;
  /** null = not limited to buildings (every role but operator). */
  buildingIds: string[] | null;
}

/** Turns a bearer token into a principal; the HTTP onRequest hook and the live feed call it. */
export interface TokenAuthenticator {
  resolve(token: string): Promise<Principal | undefined>;
}

/** A resolved token as a long-lived connection (the live feed) needs it: who, which credential, until when. */
export interface ResolvedCredential {
  principal: Principal;
  /** SHA-256 hex of the token: what a session-ending event names. */
  tokenDigest: string;
  /** epoch ms (the service's clock) at which the credential stops working; null = no expiry. */
  expiresAtMs: number | null;
}

/**
 * Why a credential stopped working, or stopped meaning what it meant (issue #12 item 5). The auth
 * service emits one of these after each change is stored, so a connection authenticated earlier
 * (a live-feed WebSocket) can end or re-check at once instead of outliving it.
 */
export type PrincipalChange =
  | { kind: 'session'; tokenDigest: string; reason: 'logout' | 'session_expired' }
  | { kind: 'user'; userId: string; reason: 'user_disabled' | 'user_deleted' | 'password_changed' | 'role_changed' | 'scope_changed' }
  | { kind: 'api_token'; tokenId: string; reason: 'token_revoked' };

export type PrincipalChangeReason = PrincipalChange['reason'];

/** What the live feed needs from the auth service: resolve with expiry, and hear of changes. */
export interface LiveAuthenticator extends TokenAuthenticator {
  /** `admin: false`: do not accept the admin token (tokens this service issued only). */
  resolveCredential(token: string, opts?: { admin?: boolean }): Promise<ResolvedCredential | undefined>;
  /** Returns the unsubscribe function. Listeners run synchronously, after the change is stored. */
  onPrincipalChange(listener: (change: PrincipalChange) => void): () => void;
}

// ── service inputs and results ──────────────────────────────────────────────────
export interface ScopeInput {
  streets?: string[] | null;
  buildingIds?: string[];
}

export interface NewUser extends ScopeInput {
  username: string;
  password: string;
  role: Role;
  displayName?: string;
  disabled?: boolean;
}

export interface UserPatch extends ScopeInput {
  displayName?: string;
  password?: string;
  role?: Role;
  disabled?: boolean;
}

export interface NewApiToken extends ScopeInput {
  name: string;
  role: Exclude<Role, 'admin'>;
  /** ISO 8601; null or absent = does not expire. */
  expiresAt?: string | null;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  user: User;
}

export type CreatedApiToken = ApiToken & { token: string };

// ── storage shapes ──────────────────────────────────────────────────────────────
export interface StoredUser extends User {
  /** scrypt hash (devices/credentials.ts), never the password. */
  passwordHash: string;
}

export interface StoredSession {
  /** SHA-256 hex of the session token; the token itself is only ever in the client's hands. */
  tokenDigest: string;
  userId: string;
  createdAt: string;
  /** epoch ms, compared against the service's clock. */
  expiresAtMs: number;
}

export interface StoredApiToken extends ApiToken {
  /** SHA-256 hex of the token (256 random bits: a fast digest is enough, nothing to brute-force). */
  tokenDigest: string;
}

/**
 * Storage for users, sessions and API tokens. Awaitable (ADR 0008): SQLite answers at once,
 * PostgreSQL with a promise, and AuthService awaits every call. A taken username is refused by the store's unique
 * index on either engine, so the window between "username free?" and "insert" decides nothing.
 * The contract suite that every implementation passes, fakes included, is tests/support/auth-store-contract.ts.
 */
export interface AuthStore {
  insertUser(user: StoredUser): Awaitable<void>;
  getUser(id: string): Awaitable<StoredUser | undefined>;
  /** Case-insensitive. */
  findUserByUsername(username: string): Awaitable<StoredUser | undefined>;
  listUsers(): Awaitable<StoredUser[]>;
  updateUser(user: StoredUser): Awaitable<void>;
  /** Also removes the user's sessions. false when there was no such user. */
  deleteUser(id: string): Awaitable<boolean>;

  insertSession(session: StoredSession): Awaitable<void>;
  getSession(tokenDigest: string): Awaitable<StoredSession | undefined>;
  deleteSession(tokenDigest: string): Awaitable<void>;
  deleteSessionsOfUser(userId: string): Awaitable<void>;
  deleteExpiredSessions(nowMs: number): Awaitable<void>;

  insertApiToken(token: StoredApiToken): Awaitable<void>;
  getApiTokenByDigest(tokenDigest: string): Awaitable<StoredApiToken | undefined>;
  listApiTokens(): Awaitable<ApiToken[]>;
  deleteApiToken(id: string): Awaitable<boolean>;
  touchApiToken(id: string, lastUsedAt: string): Awaitable<void>;
}

