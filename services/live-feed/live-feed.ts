/**
 * The live feed: every event is first appended to a durable log with a monotonically increasing
 * sequence number, then handed to in-process subscribers (the WebSocket route). A client that
 * reconnects with its last sequence number is replayed everything after it from the log, so a
 * network blip loses nothing.
 *
 * Appending is synchronous (the alert service publishes from inside its synchronous step); reading
 * back (`since`, `lastSeq`, `prune`) may wait. On SQLite the append is a row inserted at once, and
 * `holding` keeps the pushes of a transaction's events until it returned. On PostgreSQL
 * (`scope` given) the append is queued in the write scope (services/shared/write-scope.ts): the
 * event gets its seq when the scope's transaction inserts it, and is pushed to subscribers only
 * once that transaction committed, so no console sees an event that was rolled back, nor one
 * without its seq; and since several nodes write the log, the feed follows it (FeedLog.follow):
 * it pushes every node's events, read back in seq order, after each commit and each notice.
 */
import type { Awaitable } from '../shared/awaitable.js';
import type { Clock } from '../shared/clock.js';
import type { WriteScope } from '../shared/write-scope.js';
import type { FeedLog, FeedEvent, FeedEventType } from './model.js';

export type FeedListener = (e: FeedEvent) => void;

export class LiveFeed {
  private readonly listeners = new Set<FeedListener>();
  private held: FeedEvent[] | undefined;

  constructor(
    private readonly log: FeedLog,
    private readonly clock: Clock,
    private readonly scope?: WriteScope,
  ) {}

  publish(type: FeedEventType, where: { street: string | null; buildingId: string | null }, data: Record<string, unknown>): FeedEvent {
    const e = this.log.append({ type, at: new Date(this.clock.now()).toISOString(), street: where.street, buildingId: where.buildingId, data });
    if (this.log.poke) {
      const poke = this.log.poke.bind(this.log);
      this.scope?.afterCommit(poke);
    } else if (this.scope) this.scope.afterCommit(() => this.notify(e));
    else if (this.held) this.held.push(e);
    else this.notify(e);
    return e;
  }

  /**
   * Run `fn` (a transaction that publishes events) and push its events to subscribers only once it
   * returned: an event whose transaction rolls back was never there, so no console may see it.
   */
  holding<T>(fn: () => T): T {
    if (this.held || this.scope) return fn();
    const held: FeedEvent[] = (this.held = []);
    let result: T;
    try {
      result = fn();
    } finally {
      this.held = undefined;
    }
    for (const e of held) this.notify(e);
    return result;
  }

  /** Starts following a log several nodes write (PostgreSQL: every node's events, in seq order); nothing to do otherwise. */
  async start(): Promise<void> {
    await this.log.follow?.((events) => {
      for (const e of events) this.notify(e);
    });
  }

  async close(): Promise<void> {
    await this.log.close?.();
  }

  private notify(e: FeedEvent): void {
    for (const l of this.listeners) l(e);
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  since(afterSeq: number, limit = 10_000): Awaitable<FeedEvent[]> {
    return this.log.since(afterSeq, limit);
  }

  lastSeq(): Awaitable<number> {
    return this.log.lastSeq();
  }

  /** the feed's clock (the console computes countdowns from it, not from the browser's clock) */
  now(): number {
    return this.clock.now();
  }

  /** keep `days` of events for replay (a console offline longer than that reloads the board) */
  prune(days = 7): Awaitable<number> {
    return this.log.prune(this.clock.now() - days * 86_400_000);
  }
}
