/**
 * AuthStore over PostgreSQL: users (scrypt hashes), sessions and API tokens (SHA-256 digests), the
 * twin of ../sqlite/sqlite-auth-store.ts (tables: schema-auth.ts). Both pass
 * tests/support/auth-store-contract.ts. No secret is ever written here in the clear; scopes are
 * JSON arrays, read whole with their row.
 *
 * Uniqueness is the database's (docs/adr/0008): a username taken in any case is refused by the
 * unique index users_username, also when two nodes create or rename users at once, and the
 * violation becomes the ConflictError AuthService raises for the same case (`username_taken`);
 * nothing is checked before a write. A session for a user that does not exist (any more) is
 * refused by the foreign key and becomes a NotFoundError. A second user, session or token with a
 * taken id or digest (random UUIDs and 256-bit digests: nothing the service makes twice) keeps
 * node-postgres' DatabaseError, as SQLite's store keeps its SqliteError: a storage failure, not a
 * client's conflict.
 *
 * Case: usernames are compared as SQLite's NOCASE compares them, A–Z folded to a–z and every other
 * byte as it is. lower() folds that way under the "C" collation only, so the argument of a lookup
 * is given that collation too (the database's own locale would also fold É to é).
 */
import type { ApiToken, AuthStore, Role, StoredApiToken, StoredSession, StoredUser } from '../../auth/model.js';
import { ConflictError, NotFoundError } from '../../shared/errors.js';
import { foreignKeyViolation, uniqueViolation, type PgDatabase } from './database.js';

/** A row as node-postgres gives it: json columns parsed, bigint as a string. */
interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: string;
  streets: string[] | null;
  building_ids: string[];
  disabled: boolean;
  password_hash: string;
  created_at: string;
}

interface SessionRow {
  token_digest: string;
  user_id: string;
  created_at: string;
  expires_at_ms: string;
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  streets: string[] | null;
  building_ids: string[];
  token_digest: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

const USER_COLS = ['id', 'username', 'display_name', 'role', 'streets', 'building_ids', 'disabled', 'password_hash', 'created_at'] as const;
const SESSION_COLS = ['token_digest', 'user_id', 'created_at', 'expires_at_ms'] as const;
const TOKEN_COLS = ['id', 'name', 'role', 'streets', 'building_ids', 'token_digest', 'created_at', 'last_used_at', 'expires_at'] as const;

/** The constraints (schema-auth.ts) whose violations become domain errors. */
const USERS_USERNAME = 'users_username';
const SESSIONS_USER_FKEY = 'sessions_user_fkey';

const toUser = (r: UserRow): StoredUser => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  role: r.role as Role,
  streets: r.streets,
  buildingIds: r.building_ids,
  disabled: r.disabled,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
});

const userParams = (u: StoredUser): Record<(typeof USER_COLS)[number], unknown> => ({
  id: u.id,
  username: u.username,
  display_name: u.displayName,
  role: u.role,
  streets: u.streets === null ? null : JSON.stringify(u.streets),
  building_ids: JSON.stringify(u.buildingIds),
  disabled: u.disabled,
  password_hash: u.passwordHash,
  created_at: u.createdAt,
});

const toSession = (r: SessionRow): StoredSession => ({
  tokenDigest: r.token_digest,
  userId: r.user_id,
  createdAt: r.created_at,
  expiresAtMs: Number(r.expires_at_ms),
});

const toToken = (r: TokenRow): StoredApiToken => ({
  id: r.id,
  name: r.name,
  role: r.role as Role,
  streets: r.streets,
  buildingIds: r.building_ids,
  tokenDigest: r.token_digest,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
});

const tokenValues = (t: StoredApiToken) => [
  t.id,
  t.name,
  t.role,
  t.streets === null ? null : JSON.stringify(t.streets),
  JSON.stringify(t.buildingIds),
  t.tokenDigest,
  t.createdAt,
  t.lastUsedAt,
  t.expiresAt,
];

/** `INSERT INTO table (cols) VALUES ($1, …)`. */
function insertSql(table: string, cols: readonly string[]): string {
  return `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`;
}

/** Every user column but id and created_at: what an update replaces. */
const UPDATED_USER_COLS = USER_COLS.filter((c) => c !== 'id' && c !== 'created_at');

const SELECT_USER = `SELECT ${USER_COLS.join(', ')} FROM users`;
const SELECT_SESSION = `SELECT ${SESSION_COLS.join(', ')} FROM sessions`;
const SELECT_TOKEN = `SELECT ${TOKEN_COLS.join(', ')} FROM api_tokens`;
const INSERT_USER = insertSql('users', USER_COLS);
const INSERT_SESSION = insertSql('sessions', SESSION_COLS);
const INSERT_TOKEN = insertSql('api_tokens', TOKEN_COLS);
const UPDATE_USER = `UPDATE users SET ${UPDATED_USER_COLS.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`;

const insertUserValues = (u: StoredUser) => {
  const params = userParams(u);
  return USER_COLS.map((c) => params[c]);
};
/** $1 the id, then UPDATED_USER_COLS. */
const updateUserValues = (u: StoredUser) => {
  const params = userParams(u);
  return [u.id, ...UPDATED_USER_COLS.map((c) => params[c])];
};

/** AuthService's error for a violated constraint of users; any other error as it is. */
function userError(err: unknown, u: StoredUser): unknown {
  if (uniqueViolation(err) === USERS_USERNAME) return new ConflictError('username_taken', `the username ${u.username} is taken`);
  return err;
}

function sessionError(err: unknown, s: StoredSession): unknown {
  if (foreignKeyViolation(err) === SESSIONS_USER_FKEY) return new NotFoundError('user', s.userId);
  return err;
}

export class PgAuthStore implements AuthStore {
  constructor(private readonly db: PgDatabase) {}

  // ── users ───────────────────────────────────────────────────────────────────
  async insertUser(user: StoredUser): Promise<void> {
    try {
      await this.db.query(INSERT_USER, insertUserValues(user));
    } catch (err) {
      throw userError(err, user);
    }
  }

  async getUser(id: string): Promise<StoredUser | undefined> {
    const rows = await this.db.query<UserRow>(`${SELECT_USER} WHERE id = $1`, [id]);
    return rows[0] && toUser(rows[0]);
  }

  /** By the key of users_username, which this lookup uses. */
  async findUserByUsername(username: string): Promise<StoredUser | undefined> {
    const rows = await this.db.query<UserRow>(`${SELECT_USER} WHERE lower(username) = lower($1::text COLLATE "C")`, [username]);
    return rows[0] && toUser(rows[0]);
  }

  /** In username order regardless of case, as SQLite's NOCASE orders them (folded to lower case, then byte order). */
  async listUsers(): Promise<StoredUser[]> {
    const rows = await this.db.query<UserRow>(`${SELECT_USER} ORDER BY lower(username)`);
    return rows.map(toUser);
  }

  async updateUser(user: StoredUser): Promise<void> {
    try {
      await this.db.query(UPDATE_USER, updateUserValues(user));
    } catch (err) {
      throw userError(err, user);
    }
  }

  /** The user and, by the cascade, its sessions: one statement, so no session of it is left behind. */
  async deleteUser(id: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM users WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  // ── sessions ────────────────────────────────────────────────────────────────
  async insertSession(s: StoredSession): Promise<void> {
    try {
      await this.db.query(INSERT_SESSION, [s.tokenDigest, s.userId, s.createdAt, s.expiresAtMs]);
    } catch (err) {
      throw sessionError(err, s);
    }
  }

  async getSession(tokenDigest: string): Promise<StoredSession | undefined> {
    const rows = await this.db.query<SessionRow>(`${SELECT_SESSION} WHERE token_digest = $1`, [tokenDigest]);
    return rows[0] && toSession(rows[0]);
  }

  async deleteSession(tokenDigest: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE token_digest = $1', [tokenDigest]);
  }

  async deleteSessionsOfUser(userId: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  }

  /** expires_at_ms <= now; a fractional now (a test clock) compares as SQLite compares it, the column being whole milliseconds. */
  async deleteExpiredSessions(nowMs: number): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE expires_at_ms <= $1', [Math.floor(nowMs)]);
  }

  // ── API tokens ──────────────────────────────────────────────────────────────
  async insertApiToken(t: StoredApiToken): Promise<void> {
    await this.db.query(INSERT_TOKEN, tokenValues(t));
  }

  async getApiTokenByDigest(tokenDigest: string): Promise<StoredApiToken | undefined> {
    const rows = await this.db.query<TokenRow>(`${SELECT_TOKEN} WHERE token_digest = $1`, [tokenDigest]);
    return rows[0] && toToken(rows[0]);
  }

  /** Metadata only, never the digest; in created_at order, then id (both byte order, as SQLite). */
  async listApiTokens(): Promise<ApiToken[]> {
    const rows = await this.db.query<TokenRow>(`${SELECT_TOKEN} ORDER BY created_at, id`);
    return rows.map((r) => {
      const { tokenDigest: _digest, ...meta } = toToken(r);
      return meta;
    });
  }

  async deleteApiToken(id: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM api_tokens WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  async touchApiToken(id: string, lastUsedAt: string): Promise<void> {
    await this.db.query('UPDATE api_tokens SET last_used_at = $1 WHERE id = $2', [lastUsedAt, id]);
  }
}
