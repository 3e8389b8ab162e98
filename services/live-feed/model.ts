/** The live feed's events (what duty consoles and the uplink read) and the store that keeps them for replay. */
import type { Awaitable, Settled } from '../shared/awaitable.js';
export const FEED_EVENT_TYPES = [
  'alert.raised',
  'alert.updated',
  'alert.cleared',
  'alert.escalated',
  'alert.closed',
  // an alert's clocks changed (issue #15 item 4: shown, forwarded, late): for the duty consoles, not the uplink
  'alert.clocks',
  // an incident's status, severity and evidence after one of its alerts changed (services/alerts/incidents.ts)
  'incident.opened',
  'incident.updated',
  'incident.acknowledged',
  'incident.closed',
  'device.online',
  'device.offline',
  // the GB/T 26875.3 centre's duty checks (services/uplink/duty-checks.ts): for the duty consoles only
  'duty_check.requested',
  'duty_check.answered',
  'duty_check.missed',
] as const;
export type FeedEventType = (typeof FEED_EVENT_TYPES)[number];

export interface FeedEvent {
  seq: number;
  type: FeedEventType;
  at: string;
  street: string | null;
  buildingId: string | null;
  data: Record<string, unknown>;
}

/** The contract suite that every implementation passes, fakes included, is tests/support/event-log-store-contract.ts. */
export interface EventLogStore {
  /** append and return the assigned sequence number (monotonically increasing, durable) */
  append(e: Omit<FeedEvent, 'seq'>): Awaitable<FeedEvent>;
  /** events with seq > afterSeq, oldest first */
  since(afterSeq: number, limit: number): Awaitable<FeedEvent[]>;
  lastSeq(): Awaitable<number>;
  /** drop events older than `before` (epoch ms); returns how many */
  prune(before: number): Awaitable<number>;
}

/** EventLogStore answering at once (SQLite): what its service takes while it calls the store synchronously (ADR 0008). */
export type SyncEventLogStore = Settled<EventLogStore>;

/**
 * What the live feed writes to and reads from: its append answers at once (an inserted row on
 * SQLite; on PostgreSQL an event queued in the write scope, whose seq is set when it is inserted:
 * pg-feed-log.ts), its reads may wait.
 */
export type FeedLog = Pick<SyncEventLogStore, 'append'> &
  Omit<EventLogStore, 'append'> & {
    /**
     * A log several nodes write (PostgreSQL): hands every committed event, by any node, to
     * `onEvents` in seq order; `poke` once a step that published committed. Absent: the feed
     * pushes its own events itself (SQLite, one node).
     */
    follow?(onEvents: (events: readonly FeedEvent[]) => void): Promise<void>;
    poke?(): void;
    close?(): Promise<void>;
  };
