/**
 * RuleStateStore over SQLite. The rules read and write in memory on every reading (the shared
 * cache, ../rule-state-cache.ts); what changed is saved by `flush()`, which the processors call
 * inside each batch's transaction (so the saved state always matches the saved log position), and
 * a timer calls for time-driven changes (ticks, last wills). `reload()` drops unsaved changes after
 * a rolled-back batch.
 *
 * The cache keeps a copy of each state and the memory as it is given (rule-state-store.ts says who
 * may change what), and gives both back as they are; a value set again unchanged (the very object
 * it gave back) is not saved again. Its twin on PostgreSQL is ../postgres/pg-rule-state-store.ts.
 */
import type { ConditionState } from '../../rules/condition.js';
import type { RuleMemory } from '../../rules/rule-families/rule-family.js';
import type { RuleId } from '../../rules/rule-types.js';
import type { Db } from './database.js';
import { every } from '../../shared/every.js';
import { CachedRuleStateStore, type RuleStateOp } from '../rule-state-cache.js';

export class SqliteRuleStateStore extends CachedRuleStateStore {
  private timer: NodeJS.Timeout | undefined;
  /** writes the operations in one transaction (a savepoint inside an open one); prepared on the first flush */
  private save: ((ops: readonly RuleStateOp[]) => void) | undefined;

  constructor(private readonly db: Db) {
    super();
    this.load();
  }

  /** (Re)load from disk, dropping unsaved changes: after a rolled-back processors batch. */
  reload(): void {
    this.load();
  }

  private load(): void {
    const states = this.db.prepare('SELECT device_id, rule_id, state FROM rule_state').all() as Array<{ device_id: string; rule_id: RuleId; state: string }>;
    const memory = this.db.prepare('SELECT device_id, memory FROM rule_memory').all() as Array<{ device_id: string; memory: string }>;
    this.cache.load({
      states: states.map((r) => ({ deviceId: r.device_id, ruleId: r.rule_id, state: JSON.parse(r.state) as ConditionState })),
      memory: memory.map((r) => ({ deviceId: r.device_id, memory: JSON.parse(r.memory) as RuleMemory })),
    });
  }

  /** Save changes every `flushMs` (time-driven changes: ticks, last wills); a failed save is retried. */
  start(flushMs = 1000, onError: (err: unknown) => void = () => undefined, onOk: () => void = () => undefined): void {
    this.timer = every(flushMs, () => this.flush(), onError, onOk);
  }

  /**
   * Save what changed; inside an open transaction (the processors' batch) it becomes part of it.
   * What it saved is no longer dirty once its statements succeeded; if the enclosing transaction
   * then rolls back, `reload()` brings the cache back to what is stored (the processors do).
   */
  flush(): void {
    if (!this.cache.dirty) return;
    this.save ??= this.prepare();
    const changes = this.cache.changes();
    this.save(changes.ops); // throws on failure: nothing is marked saved
    this.cache.saved(changes);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    try {
      this.flush();
    } catch {
      /* storage failing at shutdown: the processors replay from their saved position */
    }
  }

  private prepare(): (ops: readonly RuleStateOp[]) => void {
    const upsertState = this.db.prepare(
      'INSERT INTO rule_state (device_id, rule_id, state) VALUES (?, ?, ?) ON CONFLICT(device_id, rule_id) DO UPDATE SET state = excluded.state',
    );
    const deleteState = this.db.prepare('DELETE FROM rule_state WHERE device_id = ? AND rule_id = ?');
    const upsertMemory = this.db.prepare('INSERT INTO rule_memory (device_id, memory) VALUES (?, ?) ON CONFLICT(device_id) DO UPDATE SET memory = excluded.memory');
    const deleteMemory = this.db.prepare('DELETE FROM rule_memory WHERE device_id = ?');
    return this.db.transaction((ops: readonly RuleStateOp[]) => {
      for (const op of ops) {
        switch (op.kind) {
          case 'upsertState':
            upsertState.run(op.deviceId, op.ruleId, op.state);
            break;
          case 'deleteState':
            deleteState.run(op.deviceId, op.ruleId);
            break;
          case 'upsertMemory':
            upsertMemory.run(op.deviceId, op.memory);
            break;
          case 'deleteMemory':
            deleteMemory.run(op.deviceId);
            break;
        }
      }
    });
  }
}
