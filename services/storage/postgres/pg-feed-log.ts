/**
 * The live feed's log on PostgreSQL (../../live-feed/live-feed.ts FeedLog): `append` answers at
 * once, because the alert service publishes from inside its synchronous step, and queues the
 * insert in the write scope (../../shared/write-scope.ts). The event it returns has seq 0 until
 * the scope's transaction inserts it (PgEventLogStore.append, under the feed's append lock, so
 * seqs commit in order across nodes); the insert then sets the event's seq. Reads go to the
 * database.
 *
 * Following (`follow`): every node's consoles see every node's events. Each append NOTIFYs
 * `firewatch_feed` in its transaction (delivered when it commits); a node that hears it, or that
 * committed a step that published, reads the events after the last one it pushed, in seq order,
 * and hands them to the feed's subscribers. So the pushes of one node are in seq order and without
 * gaps, whichever node wrote an event, and an event is pushed once it is committed, never before.
 * A broken listening connection is re-opened and followed by a read (nothing is skipped: the read
 * starts after the last seq pushed).
 */
import type { WriteScope } from '../../shared/write-scope.js';
import type { FeedEvent, FeedLog } from '../../live-feed/model.js';
import type { PgDatabase } from './database.js';
import { listen, notify, type Listening } from './pg-notify.js';
import type { PgEventLogStore } from './pg-state-stores.js';

export const FEED_CHANNEL = 'firewatch_feed';
const PAGE = 1000;

export class PgFeedLog implements FeedLog {
  private last = 0;
  private onEvents: ((events: readonly FeedEvent[]) => void) | undefined;
  private reading = false;
  private again = false;
  private listening: Listening | undefined;

  constructor(
    private readonly db: PgDatabase,
    private readonly store: PgEventLogStore,
    private readonly scope: WriteScope,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  append(e: Omit<FeedEvent, 'seq'>): FeedEvent {
    const event: FeedEvent = { seq: 0, ...e };
    this.scope.write(async () => {
      event.seq = (await this.store.append(e)).seq;
      await notify(this.db, FEED_CHANNEL, String(event.seq));
    });
    return event;
  }

  /** Hands every event committed from now on, by any node, to `onEvents`, in seq order. */
  async follow(onEvents: (events: readonly FeedEvent[]) => void): Promise<void> {
    this.listening = await listen(this.db, FEED_CHANNEL, { onMessage: () => this.poke(), onResync: () => this.poke(), onError: this.onError });
    this.last = await this.store.lastSeq();
    this.onEvents = onEvents;
  }

  /** Read what was committed after the last event pushed (a step of this node committed, or a notice came). */
  poke(): void {
    if (!this.onEvents) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    this.again = false;
    void this.readNew()
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.reading = false;
        if (this.again) this.poke();
      });
  }

  private async readNew(): Promise<void> {
    for (;;) {
      const batch = await this.store.since(this.last, PAGE);
      if (batch.length === 0) return;
      this.last = batch[batch.length - 1]!.seq;
      this.onEvents?.(batch);
      if (batch.length < PAGE) return;
    }
  }

  async close(): Promise<void> {
    this.onEvents = undefined;
    await this.listening?.close();
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
