/**
 * InfluxDB 2.x (and 1.8+/3.x compatibility endpoints) through @influxdata/influxdb-client 1.35.
 *
 *   write   POST /api/v2/write?org=…&bucket=…&precision=ns   Authorization: Token …
 *   query   POST /api/v2/query?org=…                          Flux, annotated CSV
 *
 * Points are stored at ns precision, one ns per reading inside its millisecond (influx-mapping.ts,
 * "time"). Flux returns _time as RFC 3339 with up to 9 fraction digits; it is cut to epoch ms.
 * range() takes ms bounds: start at the first ns of `from`, stop (exclusive) at the first ns after
 * the whole `to` millisecond.
 *   ping    GET  /ping                                        204
 *
 * The StoreForwarder owns buffering (the reading log) and retries (processors/store-forwarder.ts), so the client's own are switched
 * off: a WriteApi per batch with maxRetries 0, flushInterval 0 and batch limits above the batch,
 * so nothing is sent behind our back or kept in the client's retry buffer. `writeFailed` returns
 * the rejection itself, which also stops the client logging the failure to the console
 * (WriteApiImpl.sendBatch: a promise from writeFailed replaces its retry-or-log branch).
 */
import { HttpError, InfluxDB, flux, type QueryApi, type WritePrecisionType } from '@influxdata/influxdb-client';
import type { Reading } from '../../telemetry/telemetry.js';
import type { ReadingQuery, ReadingStore, StoredReading } from '../reading-store.js';
import { statusError, transportError } from './influx-errors.js';
import { measurementsFor, readingsToLines, rfc3339ToEpochMs, rowToStoredReading } from './influx-mapping.js';

/** readingToLine writes ns timestamps (influx-mapping.ts, "time"). */
const PRECISION: WritePrecisionType = 'ns';

export interface InfluxV2Config {
  url: string;
  token: string;
  org: string;
  bucket: string;
}

export interface InfluxV2Options {
  /** per HTTP request; default 10 s */
  timeoutMs?: number;
}

/** Flux has no "unbounded" stop and range() needs one; its time type ends in 2262 (int64 ns). */
const FAR_FUTURE = new Date(Date.UTC(2262, 0, 1));

/** Flux bookkeeping columns that are not reading fields. */
const FLUX_SYSTEM_COLUMNS = new Set(['result', 'table', '_start', '_stop', '_time', '_measurement']);

export class InfluxV2Store implements ReadingStore {
  readonly name = 'influxdb-v2';
  private readonly client: InfluxDB;
  private readonly queryApi: QueryApi;
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: InfluxV2Config,
    opts: InfluxV2Options = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.base = config.url.replace(/\/+$/, '');
    this.client = new InfluxDB({ url: this.base, token: config.token, timeout: this.timeoutMs });
    this.queryApi = this.client.getQueryApi(config.org);
  }

  async write(readings: readonly Reading[]): Promise<void> {
    if (readings.length === 0) return;
    let lines: string[];
    try {
      lines = readingsToLines(readings);
    } catch (err) {
      throw transportError(this.name, 'write', err);
    }
    const api = this.client.getWriteApi(this.config.org, this.config.bucket, PRECISION, {
      batchSize: lines.length + 1,
      maxBatchBytes: Number.POSITIVE_INFINITY,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: lines.length + 1,
      writeFailed: (error: Error) => Promise.reject(error),
    });
    api.writeRecords(lines);
    try {
      await api.flush();
    } catch (err) {
      throw this.classify('write', err);
    }
  }

  async query(q: ReadingQuery): Promise<StoredReading[]> {
    if (q.limit <= 0) return [];
    // Points lie anywhere inside their ms (ts * 10^6 + offset ns). start is inclusive: the first ns
    // of `from`. stop is exclusive and ReadingQuery.to inclusive: stop at the first ns after the
    // whole `to` millisecond (to * 10^6 + 999 999 is still in). Fractional bounds round inward.
    const start = new Date(q.from !== undefined ? Math.ceil(q.from) : 0);
    const stop = q.to !== undefined ? new Date(Math.floor(q.to) + 1) : FAR_FUTURE;
    const measurements = [...measurementsFor(q.channel ?? 'telemetry')];
    const query = flux`from(bucket: ${this.config.bucket})
  |> range(start: ${start}, stop: ${stop})
  |> filter(fn: (r) => r.device == ${q.deviceId})
  |> filter(fn: (r) => contains(value: r._measurement, set: ${measurements}))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"], desc: true)
  |> limit(n: ${Math.floor(q.limit)})`;
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await this.queryApi.collectRows<Record<string, unknown>>(query);
    } catch (err) {
      throw this.classify('query', err);
    }
    return rows.map((row) => {
      const plain: Record<string, unknown> = { time: rfc3339ToEpochMs(String(row._time)) };
      for (const [k, v] of Object.entries(row)) if (!FLUX_SYSTEM_COLUMNS.has(k)) plain[k] = v;
      return rowToStoredReading(plain);
    });
  }

  async ping(): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/ping`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer();
    } catch (err) {
      throw transportError(this.name, 'ping', err);
    }
    if (!res.ok) throw statusError(this.name, 'ping', res.status, '');
  }

  async close(): Promise<void> {}

  private classify(what: string, err: unknown) {
    if (err instanceof HttpError) return statusError(this.name, what, err.statusCode, err.body ?? err.message);
    return transportError(this.name, what, err);
  }
}
