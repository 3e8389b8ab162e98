/**
 * AuthStore over SQLite: users (scrypt hashes), sessions and API tokens (SHA-256 digests).
 * No secret is ever written here in the clear. Scopes are JSON arrays in TEXT columns: they are
 * read whole with their row and never queried by element.
 */
import type { ApiToken, AuthStore, Role, StoredApiToken, StoredSession, StoredUser } from '../../auth/model.js';
import type { Db } from './database.js';

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: string;
  streets: string | null;
  building_ids: string;
  disabled: number;
  password_hash: string;
  created_at: string;
}

interface SessionRow {
  token_digest: string;
  user_id: string;
  created_at: string;
  expires_at_ms: number;
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  streets: string | null;
  building_ids: string;
  token_digest: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

const toUser = (r: UserRow): StoredUser => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  role: r.role as Role,
  streets: r.streets === null ? null : (JSON.parse(r.streets) as string[]),
  buildingIds: JSON.parse(r.building_ids) as string[],
  disabled: r.disabled !== 0,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
});

const userParams = (u: StoredUser) => ({
  id: u.id,
  username: u.username,
  display_name: u.displayName,
  role: u.role,
  streets: u.streets === null ? null : JSON.stringify(u.streets),
  building_ids: JSON.stringify(u.buildingIds),
  disabled: u.disabled ? 1 : 0,
  password_hash: u.passwordHash,
  created_at: u.createdAt,
});

const toToken = (r: TokenRow): StoredApiToken => ({
  id: r.id,
  name: r.name,
  role: r.role as Role,
  streets: r.streets === null ? null : (JSON.parse(r.streets) as string[]),
  buildingIds: JSON.parse(r.building_ids) as string[],
  tokenDigest: r.token_digest,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
});

export class SqliteAuthStore implements AuthStore {
  constructor(private readonly db: Db) {}

  // ── users ───────────────────────────────────────────────────────────────────
  insertUser(user: StoredUser): void {
    this.db
      .prepare(
        `INSERT INTO users (id, username, display_name, role, streets, building_ids, disabled, password_hash, created_at)
         VALUES (@id, @username, @display_name, @role, @streets, @building_ids, @disabled, @password_hash, @created_at)`,
      )
      .run(userParams(user));
  }

  getUser(id: string): StoredUser | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  findUserByUsername(username: string): StoredUser | undefined {
    // the column's NOCASE collation makes this comparison case-insensitive
    const row = this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    return row && toUser(row);
  }

  listUsers(): StoredUser[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY username').all() as UserRow[]).map(toUser);
  }

  updateUser(user: StoredUser): void {
    this.db
      .prepare(
        `UPDATE users SET username = @username, display_name = @display_name, role = @role, streets = @streets,
           building_ids = @building_ids, disabled = @disabled, password_hash = @password_hash
         WHERE id = @id`,
      )
      .run(userParams(user));
  }

  deleteUser(id: string): boolean {
    return this.db.transaction(() => {
      // explicit, not only ON DELETE CASCADE: a connection opened without foreign_keys=ON would skip it
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
      return this.db.prepare('DELETE FROM users WHERE id = ?').run(id).changes > 0;
    })();
  }

  // ── sessions ────────────────────────────────────────────────────────────────
  insertSession(s: StoredSession): void {
    this.db
      .prepare('INSERT INTO sessions (token_digest, user_id, created_at, expires_at_ms) VALUES (?, ?, ?, ?)')
      .run(s.tokenDigest, s.userId, s.createdAt, s.expiresAtMs);
  }

  getSession(tokenDigest: string): StoredSession | undefined {
    const r = this.db.prepare('SELECT * FROM sessions WHERE token_digest = ?').get(tokenDigest) as SessionRow | undefined;
    return r && { tokenDigest: r.token_digest, userId: r.user_id, createdAt: r.created_at, expiresAtMs: r.expires_at_ms };
  }

  deleteSession(tokenDigest: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_digest = ?').run(tokenDigest);
  }

  deleteSessionsOfUser(userId: string): void {
    this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId);
  }

  deleteExpiredSessions(nowMs: number): void {
    this.db.prepare('DELETE FROM sessions WHERE expires_at_ms <= ?').run(nowMs);
  }

  // ── API tokens ──────────────────────────────────────────────────────────────
  insertApiToken(t: StoredApiToken): void {
    this.db
      .prepare(
        `INSERT INTO api_tokens (id, name, role, streets, building_ids, token_digest, created_at, last_used_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.id,
        t.name,
        t.role,
        t.streets === null ? null : JSON.stringify(t.streets),
        JSON.stringify(t.buildingIds),
        t.tokenDigest,
        t.createdAt,
        t.lastUsedAt,
        t.expiresAt,
      );
  }

  getApiTokenByDigest(tokenDigest: string): StoredApiToken | undefined {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE token_digest = ?').get(tokenDigest) as TokenRow | undefined;
    return row && toToken(row);
  }

  listApiTokens(): ApiToken[] {
    return (this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id').all() as TokenRow[]).map((r) => {
      const { tokenDigest: _digest, ...meta } = toToken(r);
      return meta;
    });
  }

  deleteApiToken(id: string): boolean {
    return this.db.prepare('DELETE FROM api_tokens WHERE id = ?').run(id).changes > 0;
  }

  touchApiToken(id: string, lastUsedAt: string): void {
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(lastUsedAt, id);
  }
}
