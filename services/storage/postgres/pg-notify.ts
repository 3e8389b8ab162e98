/**
 * Change notifications between nodes on one PostgreSQL database (docs/adr/0008: "caches are the
 * node's, truth is the database's"). A store that changes a record another node keeps in memory
 * calls `notify` in the writing transaction: PostgreSQL delivers the notification to every
 * listening session only when that transaction commits (never for one that rolls back), in commit
 * order. `listen` keeps one connection of the pool for a channel's `LISTEN`; when that connection
 * breaks it connects again with backoff and calls `onResync`, because what was notified meanwhile
 * is lost: the listener reloads what it caches from the database then.
 */
import type pg from 'pg';
import { nominalDelay } from '../../shared/backoff.js';
import type { PgDatabase } from './database.js';

/** Runs inside the caller's transaction, if it is in one (PgDatabase binds it), so it is sent on commit. */
export async function notify(db: PgDatabase, channel: string, payload: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
}

export interface Listening {
  /** Stops listening and gives the connection back; waits for a reconnect in progress. */
  close(): Promise<void>;
}

export interface ListenOptions {
  onMessage: (payload: string) => void;
  /** after a reconnect: notifications may have been missed, reload from the database */
  onResync: () => void;
  /** a broken connection (before the reconnect) */
  onError?: (err: Error) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** `LISTEN channel` on a connection of `db`'s pool, kept until close(). Resolves once listening. */
export async function listen(db: PgDatabase, channel: string, opts: ListenOptions): Promise<Listening> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new RangeError(`not a plain channel name: ${channel}`);
  let client: pg.PoolClient | undefined;
  let closed = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let connecting: Promise<void> | undefined;

  const onNotification = (m: pg.Notification) => {
    if (m.channel === channel && m.payload !== undefined) opts.onMessage(m.payload);
  };
  const drop = (err: Error) => {
    const c = client;
    if (!c) return;
    client = undefined;
    c.removeListener('notification', onNotification);
    c.release(err); // a broken connection leaves the pool
    if (closed) return;
    opts.onError?.(err);
    schedule();
  };
  const schedule = () => {
    failures++;
    const delay = nominalDelay(failures, { minMs: opts.minBackoffMs ?? 200, maxMs: opts.maxBackoffMs ?? 10_000 });
    timer = setTimeout(() => {
      timer = undefined;
      connecting = connect(true).catch(() => undefined);
    }, delay);
    timer.unref();
  };
  const connect = async (resync: boolean): Promise<void> => {
    let c: pg.PoolClient | undefined;
    try {
      c = await db.pool.connect();
      c.on('notification', onNotification);
      c.on('error', (err) => drop(err));
      c.on('end', () => drop(new Error('the listening connection ended')));
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      if (c) {
        c.removeListener('notification', onNotification);
        c.release(err instanceof Error ? err : new Error(String(err)));
      }
      if (!resync) throw err;
      if (!closed) schedule();
      return;
    }
    if (closed) {
      c.release();
      return;
    }
    client = c;
    failures = 0;
    if (resync) opts.onResync();
  };

  await connect(false);
  const unregister = db.holding(() => listening.close());
  const listening: Listening = {
    async close() {
      unregister();
      closed = true;
      if (timer) clearTimeout(timer);
      await connecting;
      const c = client;
      client = undefined;
      if (!c) return;
      c.removeListener('notification', onNotification);
      try {
        await c.query(`UNLISTEN ${channel}`);
        c.release();
      } catch (err) {
        c.release(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
  return listening;
}
