/**
 * Users, sessions and API tokens on PostgreSQL (docs/adr/0008-shared-state-on-postgresql.md): the
 * tables of SQLite migration 3 (../sqlite/migrations.ts, AUTH_SCHEMA_SQL; no later migration alters
 * them), with the same columns and meaning, kept by pg-auth-store.ts. To be appended to
 * PG_MIGRATIONS (migrations.ts); until then a database gets it by listing it after them.
 *   - users: one row per person; `password_hash` is the scrypt hash, never the password. The
 *     username is kept as written and unique regardless of case: SQLite's `COLLATE NOCASE UNIQUE`
 *     is the unique index users_username on lower(username), and the column's "C" collation makes
 *     lower() fold A–Z only, as NOCASE does (under a database locale such as C.UTF-8 it would also
 *     fold É to é, which SQLite does not). Ordered by that same key (listUsers)
 *   - streets: the duty scope, a JSON array or NULL (all streets); building_ids: the operator's
 *     buildings, a JSON array (empty for every other role); both are read whole with their row
 *   - sessions: one row per login, keyed by the SHA-256 hex of its token; a user's sessions go with
 *     it (ON DELETE CASCADE). expires_at_ms is epoch milliseconds (bigint; node-postgres reads it
 *     as a string, the store turns it into a number)
 *   - api_tokens: keyed by id, and found by the SHA-256 hex of the token (unique); listed in
 *     created_at order (ISO 8601 text, "C" collation: byte order, as SQLite compares it), then id
 *   - times the domain keeps as ISO 8601 strings stay text, read and written as they are
 */
export const PG_AUTH_SQL = `
  CREATE TABLE users (
    id text COLLATE "C" NOT NULL,
    username text COLLATE "C" NOT NULL,
    display_name text NOT NULL,
    role text NOT NULL,
    streets json,
    building_ids json NOT NULL DEFAULT '[]',
    disabled boolean NOT NULL DEFAULT false,
    password_hash text NOT NULL,
    created_at text NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_role_check CHECK (role IN ('admin', 'duty', 'operator', 'platform'))
  );
  CREATE UNIQUE INDEX users_username ON users (lower(username));

  CREATE TABLE sessions (
    token_digest text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    created_at text NOT NULL,
    expires_at_ms bigint NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (token_digest),
    CONSTRAINT sessions_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
  );
  CREATE INDEX sessions_user ON sessions (user_id);
  CREATE INDEX sessions_expiry ON sessions (expires_at_ms);

  CREATE TABLE api_tokens (
    id text COLLATE "C" NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    streets json,
    building_ids json NOT NULL DEFAULT '[]',
    token_digest text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    last_used_at text,
    expires_at text,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_token_digest UNIQUE (token_digest),
    CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'duty', 'operator', 'platform'))
  );
`;
