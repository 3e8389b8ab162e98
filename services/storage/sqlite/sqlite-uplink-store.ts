/**
 * UplinkStore over SQLite: the uplink outbox (one row per item, shared by all adapters), one
 * cursor row per adapter with its counters, and the dead-letter list. Each method is one
 * transaction, so a crash leaves either the old or the new cursor, never a half-moved one.
 */
import type { AdapterCounters, DeadLetter, StoredUplinkItem, UplinkItem, UplinkStore } from '../../uplink/model.js';
import type { Db } from './database.js';

interface ItemRow {
  seq: number;
  key: string;
  type: string;
  device_id: string | null;
  building_id: string | null;
  street: string | null;
  occurred_at: string;
  created_at: number;
  data: string;
}

interface LaneRow {
  adapter: string;
  cursor: number;
  retries: number;
  sent: number;
  dead_letters: number;
  last_error: string | null;
  last_success_at: number | null;
}

const toItem = (r: ItemRow): StoredUplinkItem => ({
  seq: r.seq,
  id: r.key,
  type: r.type as UplinkItem['type'],
  occurredAt: r.occurred_at,
  deviceId: r.device_id,
  buildingId: r.building_id,
  street: r.street,
  data: JSON.parse(r.data) as Record<string, unknown>,
  createdAt: r.created_at,
});

const ITEM_COLS = 'seq, key, type, device_id, building_id, street, occurred_at, created_at, data';
const FEED_SEQ = 'feed_seq';

export class SqliteUplinkStore implements UplinkStore {
  private readonly insertItem;
  private readonly setState;

  constructor(private readonly db: Db) {
    this.insertItem = db.prepare(
      `INSERT OR IGNORE INTO uplink_items (key, type, device_id, building_id, street, occurred_at, created_at, data)
       VALUES (@key, @type, @device_id, @building_id, @street, @occurred_at, @created_at, @data)`,
    );
    this.setState = db.prepare('INSERT INTO uplink_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  }

  enqueue(item: UplinkItem, createdAt: number, feedSeq?: number): boolean {
    return this.db.transaction(() => {
      const r = this.insertItem.run({
        key: item.id,
        type: item.type,
        device_id: item.deviceId,
        building_id: item.buildingId,
        street: item.street,
        occurred_at: item.occurredAt,
        created_at: createdAt,
        data: JSON.stringify(item.data),
      });
      if (feedSeq !== undefined) this.setState.run(FEED_SEQ, String(feedSeq));
      return r.changes > 0;
    })();
  }

  feedSeq(): number | undefined {
    const v = this.db.prepare('SELECT value FROM uplink_state WHERE key = ?').pluck().get(FEED_SEQ) as string | undefined;
    return v === undefined ? undefined : Number(v);
  }

  setFeedSeq(seq: number): void {
    this.setState.run(FEED_SEQ, String(seq));
  }

  lane(adapter: string): AdapterCounters {
    let row = this.db.prepare('SELECT * FROM uplink_lanes WHERE adapter = ?').get(adapter) as LaneRow | undefined;
    if (!row) {
      // a new adapter starts at the newest item: it does not replay what others already delivered
      const max = (this.db.prepare('SELECT MAX(seq) FROM uplink_items').pluck().get() as number | null) ?? 0;
      this.db.prepare('INSERT OR IGNORE INTO uplink_lanes (adapter, cursor) VALUES (?, ?)').run(adapter, max);
      row = this.db.prepare('SELECT * FROM uplink_lanes WHERE adapter = ?').get(adapter) as LaneRow;
    }
    return {
      adapter: row.adapter,
      cursor: row.cursor,
      retries: row.retries,
      sent: row.sent,
      deadLetters: row.dead_letters,
      lastError: row.last_error,
      lastSuccessAt: row.last_success_at,
    };
  }

  private cursor(adapter: string): number {
    return this.lane(adapter).cursor;
  }

  next(adapter: string, limit: number): StoredUplinkItem[] {
    const rows = this.db
      .prepare(`SELECT ${ITEM_COLS} FROM uplink_items WHERE seq > ? ORDER BY seq LIMIT ?`)
      .all(this.cursor(adapter), limit) as ItemRow[];
    return rows.map(toItem);
  }

  backlog(adapter: string): { count: number; oldestCreatedAt: number | null } {
    const r = this.db
      .prepare('SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM uplink_items WHERE seq > ?')
      .get(this.cursor(adapter)) as { n: number; oldest: number | null };
    return { count: r.n, oldestCreatedAt: r.oldest };
  }

  delivered(adapter: string, lastSeq: number, count: number, at: number): void {
    this.db
      .prepare('UPDATE uplink_lanes SET cursor = MAX(cursor, ?), sent = sent + ?, last_success_at = ?, last_error = NULL WHERE adapter = ?')
      .run(lastSeq, count, at, adapter);
  }

  failed(adapter: string, error: string): void {
    this.db.prepare('UPDATE uplink_lanes SET retries = retries + 1, last_error = ? WHERE adapter = ?').run(error.slice(0, 500), adapter);
  }

  deadLetter(adapter: string, items: readonly StoredUplinkItem[], reason: string, at: number): void {
    if (items.length === 0) return;
    const insert = this.db.prepare(
      'INSERT INTO uplink_dead_letters (adapter, item_seq, key, reason, dead_at, item) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const i of items) {
        const { seq: _seq, createdAt: _c, ...item } = i;
        insert.run(adapter, i.seq, i.id, reason.slice(0, 500), at, JSON.stringify(item));
      }
      const last = items[items.length - 1]!.seq;
      this.db
        .prepare('UPDATE uplink_lanes SET cursor = MAX(cursor, ?), dead_letters = dead_letters + ?, last_error = ? WHERE adapter = ?')
        .run(last, items.length, reason.slice(0, 500), adapter);
    })();
  }

  expired(adapter: string, cutoff: number, limit: number): StoredUplinkItem[] {
    // the prefix only: stop at the first item young enough, so order is kept even if clocks jumped
    const rows = this.db
      .prepare(`SELECT ${ITEM_COLS} FROM uplink_items WHERE seq > ? ORDER BY seq LIMIT ?`)
      .all(this.cursor(adapter), limit) as ItemRow[];
    const out: StoredUplinkItem[] = [];
    for (const r of rows) {
      if (r.created_at >= cutoff) break;
      out.push(toItem(r));
    }
    return out;
  }

  deadLetters(adapter: string | undefined, afterId: number, limit: number): DeadLetter[] {
    const rows = this.db
      .prepare(
        `SELECT id, adapter, reason, dead_at, item FROM uplink_dead_letters
         WHERE id > @after AND (@adapter IS NULL OR adapter = @adapter) ORDER BY id LIMIT @limit`,
      )
      .all({ after: afterId, adapter: adapter ?? null, limit }) as Array<{ id: number; adapter: string; reason: string; dead_at: number; item: string }>;
    return rows.map((r) => ({
      id: r.id,
      adapter: r.adapter,
      reason: r.reason,
      deadAt: new Date(r.dead_at).toISOString(),
      item: JSON.parse(r.item) as UplinkItem,
    }));
  }

  prune(adapters: readonly string[]): number {
    if (adapters.length === 0) return 0;
    const min = this.db
      .prepare(`SELECT MIN(cursor) FROM uplink_lanes WHERE adapter IN (SELECT value FROM json_each(?))`)
      .pluck()
      .get(JSON.stringify(adapters)) as number | null;
    if (min === null) return 0;
    return this.db.prepare('DELETE FROM uplink_items WHERE seq <= ?').run(min).changes;
  }
}
