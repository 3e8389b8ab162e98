/**
 * The reading log as a NATS JetStream stream (issue #11, cluster mode; docs/adr/0009): the
 * ReadingLog of services/log/reading-log.ts over a replicated stream that several nodes append to.
 * Replication and consensus are JetStream's (RAFT per stream, `replicas` copies); nothing here
 * replicates or elects anything.
 *
 *   append(readings) ─► for each reading, in order, on one connection:
 *                         js.publish(<prefix>.readings.<partition>, JSON, { msgID: dedupe key })
 *                       ─► await every PubAck (the stream leader answers once a quorum of its
 *                          replicas stored the message) ─► logIds = the acks' stream sequences
 *                       ─► listeners (in the order appends were called) ─► resolve
 *
 * The stream. `<stream>` (e.g. FIREWATCH_READINGS) on the subjects `<prefix>.readings.*`, file
 * storage, `replicas` copies, JetStream's `duplicate_window` = `duplicateWindowMs`; created at
 * start() or, when it exists (another node made it, or an earlier version of this config), updated
 * to this config. A reading's subject is `<prefix>.readings.<partition>`, partition = FNV-1a of the
 * device id modulo `partitions` (`partitionOf`): every reading of a device is in one partition, so
 * processing can later be split by partition (a consumer per partition subject); the log's order is
 * the stream's, over all partitions.
 *
 * Log ids are the stream sequences: unique, increasing, the same for every reader and node. A
 * duplicate takes no sequence, so lastId() (the stream's last_seq) does not move for one.
 *
 * De-duplication maps ADR 0006 onto JetStream's message-id window (`dedupeKey`):
 *   - a seq and a device timestamp: msg id = hash(device, channel, seq, ts);
 *   - a seq and no device timestamp (serverTs): msg id = hash(device, channel, seq, fields as JSON),
 *     without any time: the same seq with the same fields is a re-send while JetStream still holds
 *     the first id, i.e. within `duplicateWindowMs` (default DEDUPE_WINDOW_MS) of the first
 *     arrival *at the stream*. ADR 0006 measures the window from the first reading's receivedAt;
 *     on a live node the two are the same to within the append's latency, but a reading appended
 *     with an old receivedAt (a backlog) is judged by when it reached the stream;
 *   - no seq: no msg id, never a duplicate.
 * The bound is honest and narrower than the embedded log's: a device-timestamped re-send that
 * comes after the window (a device that replays a day of backlog) is a new message in the stream;
 * the reading store's unique key (PostgreSQL readings_key) is what stores it once (to be wired).
 * The ids live in the stream's messages (the Nats-Msg-Id header), so a restarted server and a new
 * stream leader still know them. A PubAck with `duplicate: true` is counted as a duplicate.
 *
 * Order. Publishes of one connection reach the stream leader in the order they were written, so
 * the readings of appends called one after another get increasing sequences; another node's
 * readings interleave. Listeners hear what this node appended, append by append in call order.
 *
 * Failures are LogErrors, never crashes: `log_timeout` when a PubAck did not come within
 * `appendTimeoutMs`, `log_write_failed` for any other refusal. "No responders" (no stream leader:
 * an election under way, or the quorum gone) is retried with a short backoff until the deadline
 * (`publishUntil`), so an append rides out a short election and otherwise ends as `log_timeout`;
 * retried publishes of different appends may then be stored in another order than they were
 * called (the log's order is the sequence, which readers follow). A failed append is refused whole — the caller must not
 * acknowledge — but the readings of it that were acknowledged are in the log: the listeners hear
 * them, and the device's re-send is a duplicate within the window. A message whose PubAck was lost
 * may be in the stream too; no listener hears of it, readers (readAfter) find it. Health: failing
 * from the first failure until an append succeeds or a probe (stream info, answered by the stream
 * leader, so only while the stream can take writes) does, one every `probeMs` while failing.
 *
 * Reads. readAfter gets messages by stream sequence (STREAM.MSG.GET, answered by the stream leader:
 * what it returns is committed, and an acknowledged append is readable at once), a bounded number
 * in flight at a time, from max(afterId + 1, first_seq) up to the stream's last_seq. An ordered
 * consumer was the other candidate: the client recreates it on gaps and it streams well, but it is
 * an ephemeral consumer created (and left for its inactive threshold) per call, follows a replica
 * that may lag the leader, and cannot say "up to here" — a page of a processor's cursor is the
 * simpler request. Batch direct get (one request per page) needs nats-server 2.11; Debian has 2.9.
 */
import { createHash } from 'node:crypto';
import { jetstream, jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type PubAck, type StreamConfig } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { CommittedReadings, DEDUPE_WINDOW_MS, LogError, LogHealthState, type AppendListener, type AppendResult, type LogHealth, type ReadingLog } from '../../log/reading-log.js';
import type { Reading } from '../../telemetry/telemetry.js';

export interface JetStreamLogOptions {
  /** nats://host:port of every server (the client fails over between them) */
  servers: readonly string[];
  /** the stream's name (default FIREWATCH_READINGS) */
  stream?: string;
  /** first token of the subjects (default "firewatch"): subjects are `<prefix>.readings.<partition>` */
  subjectPrefix?: string;
  /** partitions = subjects (default 16) */
  partitions?: number;
  /** the stream's replicas (default 1; 3 for a cluster of three or more) */
  replicas?: number;
  /** JetStream's duplicate_window (default DEDUPE_WINDOW_MS) */
  duplicateWindowMs?: number;
  /** a PubAck not in within this is a log_timeout */
  appendTimeoutMs: number;
  /** while failing, how often health is probed (default 1000 ms) */
  probeMs?: number;
  /** messages requested at once by readAfter (default 256) */
  readConcurrency?: number;
  /** connection name the servers show (default "firewatch-log") */
  connectionName?: string;
  log: Logger;
  onFailure?: (err: LogError) => void;
  onRecovered?: () => void;
}

export const DEFAULT_STREAM = 'FIREWATCH_READINGS';
export const DEFAULT_PARTITIONS = 16;

/** FNV-1a (32 bit) of the UTF-8 bytes: stable across nodes, versions and restarts. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The partition of a device's readings. */
export function partitionOf(deviceId: string, partitions: number): number {
  return fnv1a32(deviceId) % partitions;
}

export function partitionSubject(prefix: string, partition: number): string {
  return `${prefix}.readings.${partition}`;
}

/**
 * The JetStream message id of a reading: its de-duplication key (ADR 0006) hashed to a short
 * header-safe value, or undefined for a reading without seq (never a duplicate).
 */
export function dedupeKey(r: Reading): string | undefined {
  if (r.seq === undefined) return undefined;
  const parts = r.serverTs === true ? ['s', r.deviceId, r.channel, r.seq, JSON.stringify(r.fields)] : ['t', r.deviceId, r.channel, r.seq, r.ts];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);
}

/** What the stream holds of a reading: everything but what the log sets (logId, durableAt). */
export function encodeReading(r: Reading, now: number): Uint8Array {
  const { logId: _logId, durableAt: _durableAt, durableReadBack: _readBack, ...rest } = r;
  return Buffer.from(JSON.stringify({ ...rest, receivedAt: r.receivedAt ?? now }), 'utf8');
}

export function decodeReading(data: Uint8Array, seq: number): Reading {
  const r = JSON.parse(Buffer.from(data).toString('utf8')) as Reading;
  r.logId = seq;
  return r;
}

/** The stream's configuration for these options (pure). */
export function streamConfig(o: { stream: string; prefix: string; replicas: number; duplicateWindowMs: number }): Partial<StreamConfig> & { name: string } {
  return {
    name: o.stream,
    subjects: [`${o.prefix}.readings.*`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: o.replicas,
    duplicate_window: o.duplicateWindowMs * 1_000_000,
  };
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A client error as the log's error: a timeout is log_timeout, anything else log_write_failed. */
export function toLogError(err: unknown, what: string, timeoutMs: number): LogError {
  if (err instanceof LogError) return err;
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || /timeout/i.test(errorMessage(err))) {
    return new LogError(`${what}: no JetStream acknowledgement within ${timeoutMs} ms`, 'log_timeout', { cause: err });
  }
  return new LogError(`${what}: ${errorMessage(err)}`, 'log_write_failed', { cause: err });
}

/** Rejects with a LogError('log_timeout') when `p` has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LogError(`${what}: no JetStream acknowledgement within ${ms} ms`, 'log_timeout')), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Whether the server said nobody subscribes to the subject: no stream leader (an election, the quorum gone). */
export function isNoResponders(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'JetStreamNotEnabled') return true;
  const cause = err.cause as { isNoResponders?: () => boolean } | undefined;
  return typeof cause?.isNoResponders === 'function' && cause.isNoResponders();
}

/**
 * One publish, awaited until its PubAck or `deadline`. "No responders" means no stream leader took
 * the message (none is elected yet): it is sent again after a short pause (25 ms, doubling to
 * 250 ms) while the deadline allows, so an append rides out a leader election. A timeout is not
 * retried here: the message may be stored, and only its msg id (the device's re-send) can tell.
 */
export async function publishUntil(js: JetStreamClient, subject: string, data: Uint8Array, msgID: string | undefined, deadline: number): Promise<PubAck> {
  for (let attempt = 0; ; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) throw new LogError('log append: no stream leader answered before the deadline', 'log_timeout');
    try {
      return await js.publish(subject, data, { timeout: left, ...(msgID !== undefined ? { msgID } : {}) });
    } catch (err) {
      const wait = Math.min(250, 25 * 2 ** attempt);
      if (!isNoResponders(err)) throw err;
      if (deadline - Date.now() <= wait) throw new LogError('log append: no stream leader (no responders) before the deadline: the stream has no quorum', 'log_timeout', { cause: err });
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export class JetStreamReadingLog implements ReadingLog {
  readonly name = 'jetstream';
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private closed = false;
  /** the listeners, and this process's recent commits' times (an alert's durableAt) */
  private readonly commits: CommittedReadings;
  private readonly state: LogHealthState;
  /** the last append's delivery: the next one tells its listeners after it (call order) */
  private tail: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private lastProbeAt = 0;
  private readonly stream: string;
  private readonly prefix: string;
  private readonly partitions: number;

  constructor(private readonly opts: JetStreamLogOptions) {
    this.state = new LogHealthState(opts);
    this.commits = new CommittedReadings(opts.log);
    this.stream = opts.stream ?? DEFAULT_STREAM;
    this.prefix = opts.subjectPrefix ?? 'firewatch';
    this.partitions = opts.partitions ?? DEFAULT_PARTITIONS;
  }

  /** Connect, then create the stream or bring it to this configuration. */
  async start(): Promise<void> {
    const timeout = this.opts.appendTimeoutMs;
    const cfg = streamConfig({
      stream: this.stream,
      prefix: this.prefix,
      replicas: this.opts.replicas ?? 1,
      duplicateWindowMs: this.opts.duplicateWindowMs ?? DEDUPE_WINDOW_MS,
    });
    try {
      this.nc = await connect({
        servers: [...this.opts.servers],
        name: this.opts.connectionName ?? 'firewatch-log',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout,
      });
      this.watch(this.nc);
      this.js = jetstream(this.nc, { timeout });
      this.jsm = await jetstreamManager(this.nc, { timeout });
    } catch (err) {
      await this.nc?.close().catch(() => undefined);
      throw new LogError(`no JetStream at ${this.opts.servers.join(',')}: ${errorMessage(err)}`, 'log_write_failed', { cause: err });
    }
    try {
      await this.jsm.streams.add(cfg);
    } catch (addErr) {
      // it exists (another node made it, or with an older configuration): bring it to this one
      try {
        const { name, storage: _storage, ...update } = cfg;
        await this.jsm.streams.update(name, update);
      } catch (updateErr) {
        await this.nc.close().catch(() => undefined);
        throw new LogError(`the stream ${this.stream} could not be created (${errorMessage(addErr)}) or updated (${errorMessage(updateErr)})`, 'log_write_failed', { cause: updateErr });
      }
    }
    this.timer = setInterval(() => this.sweep(), Math.min(250, this.opts.probeMs ?? 1000));
    this.timer.unref();
  }

  /** Log the connection's disconnects and reconnects (the client fails over between the servers by itself). */
  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect') this.opts.log.warn({ server: 'server' in s ? s.server : undefined }, `reading log: NATS ${s.type}`);
        else if (s.type === 'error') this.opts.log.warn({ err: s.error }, 'reading log: NATS error');
      }
    })().catch(() => undefined);
  }

  onAppend(listener: AppendListener): void {
    this.commits.listen(listener);
  }

  append(readings: readonly Reading[]): Promise<AppendResult> {
    if (readings.length === 0) return Promise.resolve({ appended: [], duplicates: 0 });
    if (this.closed || !this.js) return Promise.reject(new LogError('the reading log is closed', 'log_closed'));
    const js = this.js;
    const timeout = this.opts.appendTimeoutMs;
    const now = Date.now();
    // every publish is written now, in order (the client writes before its first await)
    const deadline = now + timeout;
    const acks = readings.map((r) => {
      const subject = partitionSubject(this.prefix, partitionOf(r.deviceId, this.partitions));
      return within(publishUntil(js, subject, encodeReading(r, now), dedupeKey(r), deadline), timeout + 50, 'log append');
    });
    const prev = this.tail;
    const done = this.settle(readings, acks, prev);
    this.tail = done.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(done);
    void done.then(
      () => this.inFlight.delete(done),
      () => this.inFlight.delete(done),
    );
    return done;
  }

  /** Wait for every ack, then (after the previous append's listeners) tell the listeners and answer. */
  private async settle(readings: readonly Reading[], acks: Array<Promise<PubAck>>, prev: Promise<void>): Promise<AppendResult> {
    const results = await Promise.allSettled(acks);
    await prev;
    const appended: Reading[] = [];
    let duplicates = 0;
    let failure: unknown;
    results.forEach((res, i) => {
      if (res.status === 'rejected') {
        failure ??= res.reason;
        return;
      }
      if (res.value.duplicate) {
        duplicates++;
        return;
      }
      const r = readings[i]!;
      r.logId = res.value.seq;
      appended.push(r);
    });
    // an ack can come back out of order only across a reconnect; the log's order is the sequence
    appended.sort((a, b) => a.logId! - b.logId!);
    this.commits.committed(appended);
    if (failure !== undefined) {
      const err = toLogError(failure, 'log append failed', this.opts.appendTimeoutMs);
      this.state.fail(err);
      throw err;
    }
    this.state.recovered();
    return { appended, duplicates };
  }

  /** While failing and nothing is being appended, probe the stream every probeMs. */
  private sweep(): void {
    if (this.closed || this.state.ok || this.probing || this.inFlight.size > 0) return;
    const now = Date.now();
    if (now - this.lastProbeAt < (this.opts.probeMs ?? 1000)) return;
    this.lastProbeAt = now;
    this.probing = true;
    void this.probe().finally(() => {
      this.probing = false;
    });
  }

  private async probe(): Promise<void> {
    try {
      await within(this.jsm!.streams.info(this.stream), this.opts.appendTimeoutMs, 'log probe');
      this.state.recovered();
    } catch (err) {
      this.state.fail(toLogError(err, 'log probe failed', this.opts.appendTimeoutMs));
    }
  }

  health(): LogHealth {
    return this.state.health();
  }

  async readAfter(afterId: number, limit: number): Promise<Reading[]> {
    if (limit <= 0 || !this.jsm) return [];
    const jsm = this.jsm;
    const info = await jsm.streams.info(this.stream);
    const last = info.state.last_seq;
    const out: Reading[] = [];
    const step = this.opts.readConcurrency ?? 256;
    // the first retained message, when older ones were removed (limits), and a gap's messages: skipped
    for (let from = Math.max(afterId + 1, info.state.first_seq); from <= last && out.length < limit; ) {
      const to = Math.min(last, from + Math.min(step, limit - out.length) - 1);
      const seqs = Array.from({ length: to - from + 1 }, (_, i) => from + i);
      const msgs = await Promise.all(seqs.map((seq) => jsm.streams.getMessage(this.stream, { seq })));
      for (const m of msgs) if (m) out.push(decodeReading(m.data, m.seq));
      from = to + 1;
    }
    this.commits.stamp(out);
    return out;
  }

  async lastId(): Promise<number> {
    if (!this.jsm) return 0;
    return (await this.jsm.streams.info(this.stream)).state.last_seq;
  }

  /** Waits for the appends in flight (each ends within its timeout), then drains the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    const nc = this.nc;
    this.nc = undefined;
    if (nc && !nc.isClosed()) {
      try {
        await nc.drain();
      } catch {
        await nc.close().catch(() => undefined);
      }
    }
  }
}
