/**
 * A lease held with a PostgreSQL session-level advisory lock: of all the nodes on one database, at
 * most one holds it at a time (docs/adr/0008: uniqueness and ordering are the database's job). The
 * processors use it: one node at a time consumes the shared reading log, so each device's readings
 * are judged in order and its rule state has one writer (the cluster issue partitions this).
 *
 * The lease keeps one connection of the pool for good (registered with PgDatabase.holding so
 * close() lets go of it first). It tries `pg_try_advisory_lock(key)` every `retryMs` until it has
 * it; while held, the same connection runs `SELECT 1` every `retryMs`, so a broken connection is
 * noticed within that time. PostgreSQL drops a session's advisory locks with the session: when the
 * holding node dies (kill -9, a lost network) its connection ends and another node's next try
 * takes the lease over — the failover time is about `retryMs` plus the time PostgreSQL needs to
 * notice the dead connection (at once for a killed process, whose socket the kernel closes; up to
 * the TCP keepalive for a host that vanished).
 *
 * The lease alone does not fence: a node that lost its connection may still be finishing a batch
 * when another takes over. What a holder writes must therefore also be checked by the database —
 * the processors advance their cursor with a compare-and-set (PgCursorStore.advance), so the
 * second writer's batch fails and rolls back.
 */
import type pg from 'pg';
import type { PgDatabase } from './database.js';

export interface LeaseOptions {
  /** how often to try for the lease, and to check the connection while holding it (default 1000 ms) */
  retryMs?: number;
  /** the lease was taken: resolve once the holder is ready (it processes only after) */
  onAcquired: () => void | Promise<void>;
  /** the lease was lost (its connection broke); it is tried for again */
  onLost: (err: Error) => void;
  /** a failed attempt (the database is down): counted, not fatal */
  onError?: (err: unknown) => void;
  /** an attempt that reached the database (held or not): the failures are over */
  onOk?: () => void;
}

export class PgLease {
  private client: pg.PoolClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private holding = false;
  private busy = false;
  private unregister: (() => void) | undefined;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: PgDatabase,
    private readonly key: bigint,
    private readonly opts: LeaseOptions,
  ) {}

  /** Whether this node holds the lease now. */
  get held(): boolean {
    return this.holding;
  }

  /** Starts trying for the lease; resolves after the first attempt (held or not). */
  async start(): Promise<void> {
    this.unregister = this.db.holding(() => this.close());
    await this.tryNow();
    this.timer = setInterval(() => void this.tryNow(), this.opts.retryMs ?? 1000);
    this.timer.unref();
  }

  private tryNow(): Promise<void> {
    if (this.closed || this.busy) return this.inflight;
    this.inflight = this.attempt();
    return this.inflight;
  }

  private async attempt(): Promise<void> {
    this.busy = true;
    try {
      if (!this.client) {
        const client = await this.db.pool.connect();
        if (this.closed) {
          client.release();
          return;
        }
        client.on('error', (err) => this.drop(err));
        this.client = client;
      }
      if (this.holding) {
        await this.client.query('SELECT 1');
        this.opts.onOk?.();
        return;
      }
      const r = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [this.key.toString()]);
      this.opts.onOk?.();
      if (r.rows[0]?.ok) {
        // held even if closing meanwhile: close() then unlocks it before the connection goes back
        this.holding = true;
        if (!this.closed) await this.opts.onAcquired();
      }
    } catch (err) {
      if (this.client) this.drop(err instanceof Error ? err : new Error(String(err)));
      else this.opts.onError?.(err);
    } finally {
      this.busy = false;
    }
  }

  /** The connection broke: the lock went with the session. */
  private drop(err: Error): void {
    const c = this.client;
    if (!c) return;
    this.client = undefined;
    c.release(err);
    if (this.holding) {
      this.holding = false;
      if (!this.closed) this.opts.onLost(err);
    } else this.opts.onError?.(err);
  }

  /** Gives the lease up (if held) and the connection back. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unregister?.();
    if (this.timer) clearInterval(this.timer);
    await this.inflight;
    const c = this.client;
    this.client = undefined;
    const wasHolding = this.holding;
    this.holding = false;
    if (!c) return;
    try {
      if (wasHolding) await c.query('SELECT pg_advisory_unlock($1)', [this.key.toString()]);
      c.release();
    } catch (err) {
      c.release(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
