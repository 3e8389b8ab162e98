/**
 * The live feed's log on PostgreSQL (../../live-feed/live-feed.ts FeedLog): `append` answers at
 * once, because the alert service publishes from inside its synchronous step, and queues the
 * insert in the write scope (../../shared/write-scope.ts). The event it returns has seq 0 until
 * the scope's transaction inserts it (PgEventLogStore.append, under the feed's append lock, so
 * seqs commit in order across nodes); the insert then sets the event's seq, before the feed pushes
 * it to subscribers (LiveFeed pushes only after the commit). Reads go to the database.
 */
import type { WriteScope } from '../../shared/write-scope.js';
import type { FeedEvent, FeedLog } from '../../live-feed/model.js';
import type { PgEventLogStore } from './pg-state-stores.js';

export class PgFeedLog implements FeedLog {
  constructor(
    private readonly store: PgEventLogStore,
    private readonly scope: WriteScope,
  ) {}

  append(e: Omit<FeedEvent, 'seq'>): FeedEvent {
    const event: FeedEvent = { seq: 0, ...e };
    this.scope.write(async () => {
      event.seq = (await this.store.append(e)).seq;
    });
    return event;
  }

  since(afterSeq: number, limit: number): Promise<FeedEvent[]> {
    return this.store.since(afterSeq, limit);
  }

  lastSeq(): Promise<number> {
    return this.store.lastSeq();
  }

  prune(before: number): Promise<number> {
    return this.store.prune(before);
  }
}
