/**
 * Where readings are kept for queries: a ReadingStore (SQLite, InfluxDB v1, InfluxDB v2). Every
 * implementation passes the shared contract suite (tests/support/reading-store-contract.ts).
 *
 * Durability before the PUBACK is the reading log's job (services/log/reading-log.ts); the
 * embedded store is the log's own table, and a remote store (InfluxDB) is fed from the log by a
 * StoreForwarder (services/processors/store-forwarder.ts).
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
