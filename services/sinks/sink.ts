/**
 * Where readings go. Two small interfaces:
 *
 *   ReadingStore  a database that can keep and return readings (SQLite, InfluxDB v1, InfluxDB v2).
 *                 Every implementation passes the shared contract suite (sink-contract.ts).
 *   ReadingSink   the pipeline's last stage: `accept()` resolves only once the readings are durable
 *                 on this machine, which is what allows the broker to PUBACK a QoS 1 message.
 *
 * SQLite is local and durable, so it is both. A remote store (InfluxDB) sits behind
 * OutboxSink: readings are committed to an on-disk outbox first, then forwarded in batches.
 */
import type { Reading } from '../telemetry/telemetry.js';

export interface ReadingQuery {
  deviceId: string;
  /** epoch ms, inclusive */
  from?: number;
  /** epoch ms, inclusive */
  to?: number;
  limit: number;
  channel?: 'telemetry' | 'event';
}

/** A stored reading as returned by queries: the time plus the fields. */
export interface StoredReading {
  ts: number;
  seq?: number;
  fields: Record<string, unknown>;
}

export interface ReadingStore {
  readonly name: string;
  /** Write a batch; rejects with SinkError on failure (retryable or not). */
  write(readings: readonly Reading[]): Promise<void>;
  /** Newest first. */
  query(q: ReadingQuery): Promise<StoredReading[]>;
  /** Readiness probe: resolves when the store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface SinkStatus {
  name: string;
  ready: boolean;
  /** readings waiting on disk for the remote store */
  backlog: number;
  /** age in seconds of the oldest waiting reading */
  backlogAgeS: number;
  lastError?: string;
}

/** Runs inside the transaction that stores a batch: what it writes commits (or not) with the readings. */
export type CommitHook = (readings: readonly Reading[]) => void;

export interface ReadingSink {
  readonly name: string;
  /** Resolves once every reading is durable locally (or rejects: the message must not be acked). */
  accept(readings: readonly Reading[]): Promise<void>;
  /** Add a hook to the commit of accepted readings (e.g. the platform uplink's outbox, same database). */
  onCommit(hook: CommitHook): void;
  status(): SinkStatus;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A failure of a store; `retryable` tells the buffer owner whether to keep the batch and retry. */
export class SinkError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SinkError';
  }
}
