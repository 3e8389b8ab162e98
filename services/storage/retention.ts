/**
 * Hourly (and at start): the live feed keeps 7 days for replay, and the embedded store keeps
 * readings for READINGS_RETENTION_DAYS (a district at 1 reading/min per sensor writes millions a
 * day). With SQLite as the store the log's rows are the readings; with InfluxDB they are only the
 * log, kept an hour after every consumer has passed them (InfluxDB has its own retention).
 */
import type { Logger } from 'pino';
import { repeat, type Clock, type TimerHandle } from '../shared/clock.js';

const HOUR = 3_600_000;

export interface RetentionDeps {
  clock: Clock;
  log: Logger;
  /** the live feed's replay buffer */
  feed: { prune(): number | Promise<number> };
  /** the reading log: delete rows older than `cutoff` (epoch ms) that every consumer has passed */
  readings: { prune(cutoff: number, maxId: number): Promise<number> };
  /** the lowest position of the log's consumers */
  consumed: () => number;
  /** true when readings are forwarded to InfluxDB (the log is then only a log) */
  forwarded: boolean;
  /** 0 = keep the readings for ever */
  readingsRetentionDays: number;
}

export function startRetention(d: RetentionDeps): TimerHandle {
  return repeat(d.clock, HOUR, () => {
    const pruneFailed = (err: unknown) => d.log.error({ err }, 'live feed pruning failed');
    try {
      Promise.resolve(d.feed.prune()).catch(pruneFailed);
    } catch (err) {
      pruneFailed(err);
    }
    if (!d.forwarded && d.readingsRetentionDays <= 0) return;
    const keepMs = d.forwarded ? HOUR : d.readingsRetentionDays * 24 * HOUR;
    d.readings.prune(d.clock.now() - keepMs, d.consumed()).then(
      (n) => {
        if (n > 0) d.log.info({ deleted: n, retentionDays: d.readingsRetentionDays }, 'readings past retention deleted');
      },
      (err: unknown) => d.log.error({ err }, 'readings retention failed'),
    );
  });
}
