/** The live feed's durable event log and the maintenance windows, over SQLite. */
import type { MaintenanceStore, MaintenanceWindow } from '../../alerts/model.js';
import type { EventLogStore, FeedEvent } from '../../live-feed/model.js';
import type { Db } from './database.js';

export class SqliteEventLogStore implements EventLogStore {
  private readonly insertStmt;
  private readonly sinceStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO feed_events (type, at, street, building_id, data) VALUES (?, ?, ?, ?, ?)');
    this.sinceStmt = db.prepare('SELECT seq, type, at, street, building_id, data FROM feed_events WHERE seq > ? ORDER BY seq LIMIT ?');
  }

  append(e: Omit<FeedEvent, 'seq'>): FeedEvent {
    const seq = Number(this.insertStmt.run(e.type, e.at, e.street, e.buildingId, JSON.stringify(e.data)).lastInsertRowid);
    return { seq, ...e };
  }

  since(afterSeq: number, limit: number): FeedEvent[] {
    return (this.sinceStmt.all(afterSeq, limit) as Array<{ seq: number; type: FeedEvent['type']; at: string; street: string | null; building_id: string | null; data: string }>).map(
      (r) => ({ seq: r.seq, type: r.type, at: r.at, street: r.street, buildingId: r.building_id, data: JSON.parse(r.data) as Record<string, unknown> }),
    );
  }

  lastSeq(): number {
    // AUTOINCREMENT keeps sqlite_sequence even after pruning, so numbers never go back
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'feed_events'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  prune(before: number): number {
    return this.db.prepare('DELETE FROM feed_events WHERE at < ?').run(new Date(before).toISOString()).changes;
  }
}

export class SqliteMaintenanceStore implements MaintenanceStore {
  constructor(private readonly db: Db) {}

  set(w: MaintenanceWindow): void {
    this.db
      .prepare(
        `INSERT INTO maintenance (target, target_id, until, reason, by, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(target, target_id) DO UPDATE SET until = excluded.until, reason = excluded.reason, by = excluded.by, created_at = excluded.created_at`,
      )
      .run(w.target, w.targetId, w.until, w.reason, w.by, w.createdAt);
  }

  remove(target: 'device' | 'building', targetId: string): boolean {
    return this.db.prepare('DELETE FROM maintenance WHERE target = ? AND target_id = ?').run(target, targetId).changes > 0;
  }

  get(target: 'device' | 'building', targetId: string): MaintenanceWindow | undefined {
    const r = this.db
      .prepare('SELECT target, target_id, until, reason, by, created_at FROM maintenance WHERE target = ? AND target_id = ?')
      .get(target, targetId) as { target: 'device' | 'building'; target_id: string; until: string; reason: string; by: string; created_at: string } | undefined;
    return r && { target: r.target, targetId: r.target_id, until: r.until, reason: r.reason, by: r.by, createdAt: r.created_at };
  }
}
