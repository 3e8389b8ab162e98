/**
 * Log consumers' positions (the processors, each store forwarder) in `log_cursors`. A processor
 * saves its position inside the transaction that applies its batch, so position and effects
 * commit together.
 */
import type { CursorStore } from '../../log/reading-log.js';
import type { Db } from './database.js';

export class SqliteCursorStore implements CursorStore {
  private readonly getStmt;
  private readonly setStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare('SELECT position FROM log_cursors WHERE name = ?').pluck();
    this.setStmt = db.prepare('INSERT INTO log_cursors (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position');
  }

  get(name: string): number | undefined {
    return (this.getStmt.get(name) as number | undefined) ?? undefined;
  }

  set(name: string, position: number): void {
    this.setStmt.run(name, position);
  }

}
