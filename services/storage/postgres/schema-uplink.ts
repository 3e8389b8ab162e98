/**
 * The platform uplink's outbox on PostgreSQL (docs/adr/0002, docs/adr/0008): the tables of SQLite
 * migration 5 (../sqlite/migrations.ts, UPLINK_SCHEMA_SQL; no later migration alters them), with
 * the same columns and meaning, kept by pg-uplink-store.ts. To be appended to PG_MIGRATIONS
 * (migrations.ts); until then a database gets it by listing it after them.
 *   - uplink_items: one row per item, shared by every adapter. `seq` orders the lane and is
 *     handed out by the database (an identity column: increasing, never reused, pruned or not);
 *     `key` is the item's id, its idempotency key (unique: a second enqueue of it does nothing)
 *   - uplink_lanes: one row per adapter, its cursor (the seq of the last item it delivered or
 *     dead-lettered) and its counters
 *   - uplink_dead_letters: what an adapter gave up on, with the reason; `item` is the item as
 *     enqueued, without seq and createdAt
 *   - uplink_state: small values by key; `feed_seq` is the last live-feed sequence number turned
 *     into items (text, as SQLite keeps it)
 *   - times are epoch milliseconds (bigint; node-postgres reads them as strings, the store turns
 *     them into numbers), except occurred_at, the domain's ISO 8601 string kept as written
 */
export const PG_UPLINK_SQL = `
  CREATE TABLE uplink_items (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    key text COLLATE "C" NOT NULL,
    type text NOT NULL,
    device_id text COLLATE "C",
    building_id text COLLATE "C",
    street text,
    occurred_at text NOT NULL,
    created_at bigint NOT NULL,
    data json NOT NULL,
    CONSTRAINT uplink_items_pkey PRIMARY KEY (seq),
    CONSTRAINT uplink_items_key UNIQUE (key)
  );

  CREATE TABLE uplink_lanes (
    adapter text COLLATE "C" NOT NULL,
    cursor bigint NOT NULL,
    retries bigint NOT NULL DEFAULT 0,
    sent bigint NOT NULL DEFAULT 0,
    dead_letters bigint NOT NULL DEFAULT 0,
    last_error text,
    last_success_at bigint,
    CONSTRAINT uplink_lanes_pkey PRIMARY KEY (adapter)
  );

  CREATE TABLE uplink_dead_letters (
    id bigint GENERATED ALWAYS AS IDENTITY,
    adapter text COLLATE "C" NOT NULL,
    item_seq bigint NOT NULL,
    key text COLLATE "C" NOT NULL,
    reason text NOT NULL,
    dead_at bigint NOT NULL,
    item json NOT NULL,
    CONSTRAINT uplink_dead_letters_pkey PRIMARY KEY (id)
  );
  CREATE INDEX uplink_dead_letters_adapter ON uplink_dead_letters (adapter, id);

  CREATE TABLE uplink_state (
    key text COLLATE "C" NOT NULL,
    value text NOT NULL,
    CONSTRAINT uplink_state_pkey PRIMARY KEY (key)
  );
`;
