/**
 * InfluxDB 1.x over its HTTP API (docs.influxdata.com/influxdb/v1.6/tools/api/), with the global
 * fetch. Debian ships InfluxDB 1.6, which speaks only this API: no /api/v2, no Flux, no tokens.
 *
 *   write   POST /write?db=…&precision=ns   line protocol (influx-mapping.ts), 204 on success
 *   query   GET  /query?db=…&epoch=ms&q=…   InfluxQL, JSON series; times come back in epoch ms
 *
 * Points are stored at ns precision, one ns per reading inside its millisecond (influx-mapping.ts,
 * "time"), so two readings of one device in one ms stay two points. Queries bound time with ns
 * integer literals (InfluxQL: an epoch without a unit is ns) so that `to` covers its whole ms.
 *   ping    GET  /ping                      204
 *   ensure  POST /query q=CREATE DATABASE   idempotent; run once before the first write
 *
 * Credentials go in a Basic auth header (the 1.x API accepts it, /tools/api/#authentication),
 * never in the URL, so no error message or log line that shows a URL can show a password.
 * Retries belong to the StoreForwarder; this class makes exactly one attempt per call and classifies
 * the failure (influx-errors.ts).
 */
import type { Reading } from '../../telemetry/telemetry.js';
import type { ReadingQuery, ReadingStore, StoredReading } from '../reading-store.js';
import { SinkError } from '../reading-store.js';
import { statusError, transportError } from './influx-errors.js';
import {
  influxqlIdentifier,
  influxqlString,
  measurementsFor,
  msRangeToNs,
  newestFirst,
  readingsToLines,
  rowToStoredReading,
  seriesToRows,
} from './influx-mapping.js';

export interface InfluxV1Config {
  /** e.g. http://127.0.0.1:8086; user:password in the URL is moved to the auth header */
  url: string;
  db: string;
  username?: string;
  password?: string;
  /** retention policy; the database default when absent */
  retentionPolicy?: string;
}

export interface InfluxV1Options {
  /** per HTTP request; default 10 s */
  timeoutMs?: number;
}

interface QueryResponse {
  results?: Array<{ error?: string; series?: Array<{ name: string; columns: string[]; values?: unknown[][] }> }>;
  error?: string;
}

/** Codes after which writing is still worth trying: the user may lack admin rights on an existing db. */
const ENSURE_SKIPPABLE = new Set(['influx_unauthorized', 'influx_rejected', 'influx_not_found']);

export class InfluxV1Store implements ReadingStore {
  readonly name = 'influxdb-v1';
  private readonly base: string;
  private readonly db: string;
  private readonly rp: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private dbReady = false;

  constructor(config: InfluxV1Config, opts: InfluxV1Options = {}) {
    if (!config.db) throw new Error('InfluxV1Store: db is required');
    const url = new URL(config.url);
    const username = config.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = config.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    url.username = '';
    url.password = '';
    this.base = url.toString().replace(/\/+$/, '');
    this.db = config.db;
    this.rp = config.retentionPolicy;
    this.headers = {};
    if (username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    }
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** CREATE DATABASE is a no-op when the database exists (InfluxQL reference, "CREATE DATABASE"). */
  async ensureDatabase(): Promise<void> {
    const text = await this.request('POST', '/query', { q: `CREATE DATABASE ${influxqlIdentifier(this.db)}` }, 'create database');
    const error = parseQueryResponse(text)?.results?.[0]?.error;
    if (error) throw new SinkError(`${this.name} create database: ${error}`, false, 'influx_rejected');
    this.dbReady = true;
  }

  async write(readings: readonly Reading[]): Promise<void> {
    if (readings.length === 0) return;
    let body: string;
    try {
      body = readingsToLines(readings).join('\n');
    } catch (err) {
      throw transportError(this.name, 'write', err);
    }
    if (!this.dbReady) await this.ensureOnce();
    try {
      await this.postWrite(body);
    } catch (err) {
      // The database went away (dropped, or a fresh data dir): create it once more, then give up.
      if (!(err instanceof SinkError) || err.code !== 'influx_not_found') throw err;
      this.dbReady = false;
      await this.ensureOnce();
      await this.postWrite(body);
    }
  }

  async query(q: ReadingQuery): Promise<StoredReading[]> {
    if (q.limit <= 0) return [];
    const measurements = measurementsFor(q.channel ?? 'telemetry').map(influxqlIdentifier).join(', ');
    const where = [`"device" = ${influxqlString(q.deviceId)}`];
    // `time <= ${to}ms` would stop at the first ns of that ms and miss the readings later in it.
    const bounds = msRangeToNs(q.from, q.to);
    if (bounds.from !== undefined) where.push(`time >= ${bounds.from}`);
    if (bounds.to !== undefined) where.push(`time <= ${bounds.to}`);
    // LIMIT applies per series (one per measurement here), so merge and cut again below.
    const influxql = `SELECT * FROM ${measurements} WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT ${Math.floor(q.limit)}`;
    const text = await this.request('GET', '/query', { db: this.db, epoch: 'ms', q: influxql }, 'query');
    const parsed = parseQueryResponse(text);
    if (!parsed) throw new SinkError(`${this.name} query: reply is not JSON`, true, 'influx_bad_response');
    const result = parsed.results?.[0];
    if (result?.error) {
      // Nothing was ever written: no database yet means no readings, not a failure.
      if (/database not found/i.test(result.error)) return [];
      // A statement error in a 200 reply is usually ours (syntax), but a shard closing under a
      // DROP or a restart reports "engine is closed" the same way (seen with influxd 1.6.7).
      const transient = /engine is closed|shard .* is closed|timeout/i.test(result.error);
      throw new SinkError(`${this.name} query: ${result.error}`, transient, transient ? 'influx_server_error' : 'influx_rejected');
    }
    const readings = (result?.series ?? []).flatMap((s) => seriesToRows(s).map(rowToStoredReading));
    return newestFirst(readings, q.limit);
  }

  async ping(): Promise<void> {
    await this.request('GET', '/ping', {}, 'ping');
  }

  async close(): Promise<void> {}

  private async ensureOnce(): Promise<void> {
    try {
      await this.ensureDatabase();
    } catch (err) {
      if (err instanceof SinkError && ENSURE_SKIPPABLE.has(err.code)) {
        // Not allowed to create it (non-admin user) or the server refuses: let the write decide.
        this.dbReady = true;
        return;
      }
      throw err;
    }
  }

  private async postWrite(body: string): Promise<void> {
    const params: Record<string, string> = { db: this.db, precision: 'ns' };
    if (this.rp) params.rp = this.rp;
    await this.request('POST', '/write', params, 'write', body);
  }

  private async request(method: 'GET' | 'POST', path: string, params: Record<string, string>, what: string, body?: string): Promise<string> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'text/plain; charset=utf-8' },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw transportError(this.name, what, err);
    }
    if (!res.ok) throw statusError(this.name, what, res.status, text);
    return text;
  }
}

function parseQueryResponse(text: string): QueryResponse | undefined {
  try {
    return JSON.parse(text) as QueryResponse;
  } catch {
    return undefined;
  }
}
