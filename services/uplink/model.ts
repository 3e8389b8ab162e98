/**
 * The platform uplink's vocabulary: what is forwarded (items), who forwards it (adapters), where
 * it waits (the outbox store). Format "firewatch.uplink/v1" is documented in docs/uplink-format.md.
 *
 *   LiveFeed alert.* / device.* ─┐
 *   sink commit hook (readings)   ├─► UplinkService.enqueue ─► outbox (store) ──► one lane per adapter
 *   registry building changes ───┘                                               (cursor, backoff,
 *                                                                                 dead letters)
 */

import { FEED_EVENT_TYPES } from '../live-feed/model.js';
import type { Awaitable } from '../shared/awaitable.js';

export const UPLINK_FORMAT = 'firewatch.uplink/v1';

/** every live-feed event, plus what the uplink adds: readings and building registry changes */
export const UPLINK_ITEM_TYPES = [
  ...FEED_EVENT_TYPES,
  'reading',
  'building.created',
  'building.updated',
  'building.deleted',
] as const;
export type UplinkItemType = (typeof UPLINK_ITEM_TYPES)[number];

/** One forwarded fact. `id` is the idempotency key: the platform drops a second item with the same id. */
export interface UplinkItem {
  id: string;
  type: UplinkItemType;
  /** ISO 8601: when it happened (the feed event's time, the reading's ts, the registry change) */
  occurredAt: string;
  deviceId: string | null;
  buildingId: string | null;
  street: string | null;
  data: Record<string, unknown>;
}

/** An item as kept in the outbox: `seq` orders it (per device and overall), `createdAt` ages it. */
export interface StoredUplinkItem extends UplinkItem {
  seq: number;
  /** epoch ms when it entered the outbox */
  createdAt: number;
}

/**
 * A delivery failure. `retryable` failures (platform down, 429, 5xx, timeout, no confirm) keep the
 * batch and back off; the others (4xx except 429, a deny after every retry of a frame) are
 * dead-lettered with `message` as the reason.
 */
export class UplinkError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UplinkError';
  }
}

/** A platform adapter: HTTP, MQTT bridge, GB/T 26875.3 client (services/uplink/adapters/gb26875-adapter.ts). */
export interface UplinkAdapter {
  readonly name: string;
  /** most items per send() */
  readonly maxBatch: number;
  start?(): Promise<void> | void;
  /**
   * Deliver the items, in order. Resolves once the remote accepted all of them (items the adapter
   * has no mapping for count as accepted); rejects with an UplinkError otherwise.
   */
  send(items: readonly StoredUplinkItem[]): Promise<void>;
  /**
   * Whether send() puts the item on the wire, rather than counting it accepted with nothing to send
   * (the HTTP mapping's `types`, a GB/T 26875.3 change without a frame). Absent: every item. An
   * alert's `forwardedAt` is only an item that went out (issue #15 item 4).
   */
  sends?(item: UplinkItem): boolean;
  /**
   * Ends a send in flight at once (it rejects, retryable: the batch stays in the outbox), closes
   * every connection to the remote, and makes any later send reject (retryable) without reaching
   * it. The contract all three pass: tests/support/uplink-adapter-contract.ts.
   */
  close(): Promise<void> | void;
}

export interface AdapterCounters {
  adapter: string;
  /** seq of the last item delivered or dead-lettered */
  cursor: number;
  retries: number;
  sent: number;
  deadLetters: number;
  lastError: string | null;
  lastSuccessAt: number | null;
}

export interface DeadLetter {
  id: number;
  adapter: string;
  reason: string;
  deadAt: string;
  item: UplinkItem;
}

/**
 * What the uplink needs from storage (SqliteUplinkStore answers at once, PgUplinkStore with a
 * promise; every method is one transaction, or joins the one its caller has open). UplinkService
 * awaits every call it makes in its own work and stages the ones made inside someone else's
 * transaction (uplink-service.ts says which). The contract suite that every implementation passes,
 * fakes included, is tests/support/uplink-store-contract.ts.
 */
export interface UplinkStore {
  /** insert unless an item with this id (key) exists; returns whether it was new */
  enqueue(item: UplinkItem, createdAt: number, feedSeq?: number): Awaitable<boolean>;
  /** the last live-feed sequence number turned into items, or undefined before the first run */
  feedSeq(): Awaitable<number | undefined>;
  setFeedSeq(seq: number): Awaitable<void>;
  /** counters for the adapter, created at the newest item when it is new (it does not replay history) */
  lane(adapter: string): Awaitable<AdapterCounters>;
  next(adapter: string, limit: number): Awaitable<StoredUplinkItem[]>;
  /** items after the cursor and the entry time of the oldest */
  backlog(adapter: string): Awaitable<{ count: number; oldestCreatedAt: number | null }>;
  delivered(adapter: string, lastSeq: number, count: number, at: number): Awaitable<void>;
  failed(adapter: string, error: string): Awaitable<void>;
  /** dead-letter these items (the head of the lane) and move the cursor past them */
  deadLetter(adapter: string, items: readonly StoredUplinkItem[], reason: string, at: number): Awaitable<void>;
  /** the prefix of the lane that entered before `cutoff` (epoch ms), oldest first, at most `limit` */
  expired(adapter: string, cutoff: number, limit: number): Awaitable<StoredUplinkItem[]>;
  deadLetters(adapter: string | undefined, afterId: number, limit: number): Awaitable<DeadLetter[]>;
  /** drop items every listed adapter is past */
  prune(adapters: readonly string[]): Awaitable<number>;
}

export interface UplinkAdapterStatus {
  name: string;
  backlog: number;
  oldestAgeS: number;
  retries: number;
  deadLetters: number;
  sent: number;
  lastError: string | null;
  lastSuccessAt: string | null;
}

/** Read side for the API: read from the outbox, awaited (the metrics read UplinkService.status(), synchronous). */
export interface UplinkStatusSource {
  readStatus(): Awaitable<UplinkAdapterStatus[]>;
  deadLetters(adapter: string | undefined, afterId: number, limit: number): Awaitable<DeadLetter[]>;
}
