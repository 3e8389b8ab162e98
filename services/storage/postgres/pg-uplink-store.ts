/**
 * UplinkStore over PostgreSQL, the twin of ../sqlite/sqlite-uplink-store.ts (tables:
 * schema-uplink.ts): the uplink outbox (one row per item, shared by all adapters), one cursor row
 * per adapter with its counters, and the dead-letter list. Both pass
 * tests/support/uplink-store-contract.ts. A change of several rows is one transaction, so a crash
 * leaves either the old or the new cursor, never a half-moved one.
 *
 * Idempotency is the database's (docs/adr/0008): an item whose id is already there is refused by
 * the unique key (`ON CONFLICT DO NOTHING`), also when two nodes enqueue it at once, and the
 * insert's RETURNING says whether it was new. Nothing is checked before the write.
 *
 * Order: a lane reads the items after its cursor by seq, and moves the cursor to the last it
 * handled, so an item must never become visible with a seq below one already read. SQLite has one
 * writer, so seqs commit in the order they are handed out. On PostgreSQL an identity column alone
 * does not give that: two enqueues in flight take 10 and 11, 11 commits first, a lane delivers it
 * and moves past 10, which then commits behind the cursor and is never sent. So every enqueue
 * takes the transaction-level advisory lock ENQUEUE_LOCK_KEY before its insert: enqueues (of every
 * node) run one at a time, each seq is handed out and committed before the next one is taken, and
 * a reader sees the items as a gap-free prefix of the commit order (gaps in the numbers, from
 * duplicates and rollbacks, are fine). Reads, deliveries and prune take no lock.
 */
import type { AdapterCounters, DeadLetter, StoredUplinkItem, UplinkItem, UplinkStore } from '../../uplink/model.js';
import type { PgDatabase } from './database.js';

/** A row as node-postgres gives it: json columns parsed, bigint as a string. */
interface ItemRow {
  seq: string;
  key: string;
  type: string;
  device_id: string | null;
  building_id: string | null;
  street: string | null;
  occurred_at: string;
  created_at: string;
  data: Record<string, unknown>;
}

interface LaneRow {
  adapter: string;
  cursor: string;
  retries: string;
  sent: string;
  dead_letters: string;
  last_error: string | null;
  last_success_at: string | null;
}

interface DeadLetterRow {
  id: string;
  adapter: string;
  reason: string;
  dead_at: string;
  item: UplinkItem;
}

/**
 * The key of the advisory lock every enqueue holds until it commits: the ASCII bytes of "fwuplink"
 * read as one bigint (0x667775706c696e6b), as database.ts's MIGRATION_LOCK_KEY is made. Nothing
 * else in Firewatch takes advisory locks with this key, and another application sharing the
 * database must not either.
 */
export const ENQUEUE_LOCK_KEY = 0x667775706c696e6bn;

const toItem = (r: ItemRow): StoredUplinkItem => ({
  seq: Number(r.seq),
  id: r.key,
  type: r.type as UplinkItem['type'],
  occurredAt: r.occurred_at,
  deviceId: r.device_id,
  buildingId: r.building_id,
  street: r.street,
  data: r.data,
  createdAt: Number(r.created_at),
});

const toCounters = (r: LaneRow): AdapterCounters => ({
  adapter: r.adapter,
  cursor: Number(r.cursor),
  retries: Number(r.retries),
  sent: Number(r.sent),
  deadLetters: Number(r.dead_letters),
  lastError: r.last_error,
  lastSuccessAt: r.last_success_at === null ? null : Number(r.last_success_at),
});

const ITEM_COLS = 'seq, key, type, device_id, building_id, street, occurred_at, created_at, data';
const LANE_COLS = 'adapter, cursor, retries, sent, dead_letters, last_error, last_success_at';
const FEED_SEQ = 'feed_seq';
/** the longest error or reason kept (as SQLite keeps it: JavaScript characters) */
const MAX_REASON = 500;

const INSERT_ITEM = `
  INSERT INTO uplink_items (key, type, device_id, building_id, street, occurred_at, created_at, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (key) DO NOTHING
  RETURNING seq`;
const SET_STATE = 'INSERT INTO uplink_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value';
const SELECT_LANE = `SELECT ${LANE_COLS} FROM uplink_lanes WHERE adapter = $1`;
/** a new adapter starts at the newest item: it does not replay what others already delivered */
const CREATE_LANE = `
  INSERT INTO uplink_lanes (adapter, cursor) SELECT $1, coalesce(max(seq), 0) FROM uplink_items
  ON CONFLICT (adapter) DO NOTHING`;
const AFTER_CURSOR = `SELECT ${ITEM_COLS} FROM uplink_items WHERE seq > $1 ORDER BY seq LIMIT $2`;
/** the dead letters in the order of the items (ids are handed out in that order) */
const INSERT_DEAD_LETTERS = `
  INSERT INTO uplink_dead_letters (adapter, item_seq, key, reason, dead_at, item)
  SELECT $1, d.item_seq, d.key, $5, $6, d.item
  FROM unnest($2::bigint[], $3::text[], $4::json[]) WITH ORDINALITY AS d (item_seq, key, item, n)
  ORDER BY d.n`;

export class PgUplinkStore implements UplinkStore {
  constructor(private readonly db: PgDatabase) {}

  async enqueue(item: UplinkItem, createdAt: number, feedSeq?: number): Promise<boolean> {
    return this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ENQUEUE_LOCK_KEY.toString()]);
      const r = await client.query(INSERT_ITEM, [
        item.id,
        item.type,
        item.deviceId,
        item.buildingId,
        item.street,
        item.occurredAt,
        createdAt,
        JSON.stringify(item.data),
      ]);
      if (feedSeq !== undefined) await client.query(SET_STATE, [FEED_SEQ, String(feedSeq)]);
      return r.rows.length > 0;
    });
  }

  async feedSeq(): Promise<number | undefined> {
    const rows = await this.db.query<{ value: string }>('SELECT value FROM uplink_state WHERE key = $1', [FEED_SEQ]);
    return rows[0] === undefined ? undefined : Number(rows[0].value);
  }

  async setFeedSeq(seq: number): Promise<void> {
    await this.db.query(SET_STATE, [FEED_SEQ, String(seq)]);
  }

  async lane(adapter: string): Promise<AdapterCounters> {
    let row = (await this.db.query<LaneRow>(SELECT_LANE, [adapter]))[0];
    if (!row) {
      // another node creating it at once: its row stands, and ours is not inserted
      await this.db.query(CREATE_LANE, [adapter]);
      row = (await this.db.query<LaneRow>(SELECT_LANE, [adapter]))[0]!;
    }
    return toCounters(row);
  }

  private async cursor(adapter: string): Promise<number> {
    return (await this.lane(adapter)).cursor;
  }

  async next(adapter: string, limit: number): Promise<StoredUplinkItem[]> {
    const rows = await this.db.query<ItemRow>(AFTER_CURSOR, [await this.cursor(adapter), limit]);
    return rows.map(toItem);
  }

  async backlog(adapter: string): Promise<{ count: number; oldestCreatedAt: number | null }> {
    const rows = await this.db.query<{ n: string; oldest: string | null }>(
      'SELECT count(*) AS n, min(created_at) AS oldest FROM uplink_items WHERE seq > $1',
      [await this.cursor(adapter)],
    );
    const r = rows[0]!;
    return { count: Number(r.n), oldestCreatedAt: r.oldest === null ? null : Number(r.oldest) };
  }

  async delivered(adapter: string, lastSeq: number, count: number, at: number): Promise<void> {
    await this.db.query(
      `UPDATE uplink_lanes SET cursor = greatest(cursor, $1), sent = sent + $2, last_success_at = $3, last_error = NULL
       WHERE adapter = $4`,
      [lastSeq, count, at, adapter],
    );
  }

  async failed(adapter: string, error: string): Promise<void> {
    await this.db.query('UPDATE uplink_lanes SET retries = retries + 1, last_error = $1 WHERE adapter = $2', [error.slice(0, MAX_REASON), adapter]);
  }

  async deadLetter(adapter: string, items: readonly StoredUplinkItem[], reason: string, at: number): Promise<void> {
    if (items.length === 0) return;
    const kept = reason.slice(0, MAX_REASON);
    const docs = items.map(({ seq: _seq, createdAt: _c, ...item }) => JSON.stringify(item));
    const last = items[items.length - 1]!.seq;
    await this.db.transaction(async (client) => {
      await client.query(INSERT_DEAD_LETTERS, [adapter, items.map((i) => i.seq), items.map((i) => i.id), docs, kept, at]);
      await client.query(
        'UPDATE uplink_lanes SET cursor = greatest(cursor, $1), dead_letters = dead_letters + $2, last_error = $3 WHERE adapter = $4',
        [last, items.length, kept, adapter],
      );
    });
  }

  async expired(adapter: string, cutoff: number, limit: number): Promise<StoredUplinkItem[]> {
    // the prefix only: stop at the first item young enough, so order is kept even if clocks jumped
    const rows = await this.db.query<ItemRow>(AFTER_CURSOR, [await this.cursor(adapter), limit]);
    const out: StoredUplinkItem[] = [];
    for (const r of rows) {
      if (Number(r.created_at) >= cutoff) break;
      out.push(toItem(r));
    }
    return out;
  }

  async deadLetters(adapter: string | undefined, afterId: number, limit: number): Promise<DeadLetter[]> {
    const rows = await this.db.query<DeadLetterRow>(
      `SELECT id, adapter, reason, dead_at, item FROM uplink_dead_letters
       WHERE id > $1 AND ($2::text IS NULL OR adapter = $2) ORDER BY id LIMIT $3`,
      [afterId, adapter ?? null, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      adapter: r.adapter,
      reason: r.reason,
      deadAt: new Date(Number(r.dead_at)).toISOString(),
      item: r.item,
    }));
  }

  /** One statement: the lowest cursor of the listed lanes that exist, and the items at or below it. */
  async prune(adapters: readonly string[]): Promise<number> {
    if (adapters.length === 0) return 0;
    const rows = await this.db.query<{ n: number }>(
      `WITH pruned AS (
         DELETE FROM uplink_items
         WHERE seq <= (SELECT min(cursor) FROM uplink_lanes WHERE adapter = ANY($1::text[]))
         RETURNING 1
       )
       SELECT count(*)::integer AS n FROM pruned`,
      [[...adapters]],
    );
    return rows[0]?.n ?? 0;
  }
}
