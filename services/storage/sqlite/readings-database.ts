/**
 * readings.db: the embedded reading log and reading store, a SQLite file of its own beside
 * firewatch.db (docs/adr/0006-reading-log.md). Its one writer is the log's worker thread; the main
 * thread only reads it. Two files, because SQLite has one writer per file: with the log inside
 * firewatch.db, every alert, acknowledgement or status save on the main thread waited in SQLite's
 * busy handler (sleeping the event loop 1, 2, 5, 10… ms) behind the writer's group commits.
 *
 *   readings   the log: `id` is the reading's logId; `server_ts` = 1 when `ts` is our receive time
 *   log_probe  a one-row table the writer updates to test that writes work again after a failure
 */
import { existsSync } from 'node:fs';
import { openDatabase, type Db, type OpenOptions } from './database.js';
import { READINGS_MIGRATIONS } from './migrations.js';

export const READINGS_FILE = 'readings.db';

export function openReadingsDatabase(file: string, opts: Omit<OpenOptions, 'migrations'> = {}): Db {
  return openDatabase(file, { ...opts, migrations: READINGS_MIGRATIONS });
}

/**
 * Before issue #9 readings lived in firewatch.db (`readings`, and `influx_outbox` in front of
 * InfluxDB). Move them into readings.db once, keeping their ids, and start the consumers where the
 * old code stood: what it stored had been through the rules already (they ran before the commit),
 * and what waited in the outbox had not reached InfluxDB. Safe to repeat after a crash half-way
 * (ids are kept, inserts ignore rows already copied; the old tables go last).
 */
export function moveLegacyReadings(main: Db, readingsFile: string): { moved: number; outbox: number } {
  const has = (t: string) => main.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(t) !== undefined;
  if (!has('readings') && !has('influx_outbox')) return { moved: 0, outbox: 0 };
  if (!existsSync(readingsFile)) throw new Error(`${readingsFile} must be created before legacy readings move into it`);
  main.prepare('ATTACH DATABASE ? AS r').run(readingsFile);
  try {
    const cols = 'device_id, building_id, street, point, kind, channel, ts, seq, received_at, fields';
    let moved = 0;
    let outbox = 0;
    main.transaction(() => {
      if (has('readings')) {
        moved = main.prepare(`INSERT OR IGNORE INTO r.readings (id, ${cols}) SELECT id, ${cols} FROM main.readings ORDER BY id`).run().changes;
      }
      const upTo = main.prepare('SELECT IFNULL(MAX(id), 0) FROM r.readings').pluck().get() as number;
      const setCursor = main.prepare('INSERT INTO log_cursors (name, position) VALUES (?, ?) ON CONFLICT(name) DO NOTHING');
      setCursor.run('processors', upTo);
      if (has('influx_outbox')) {
        const waiting = main.prepare('SELECT COUNT(*) FROM main.influx_outbox').pluck().get() as number;
        // the InfluxDB forwarders start just before the rows that were still waiting for InfluxDB
        setCursor.run('store:influxdb-v1', upTo);
        setCursor.run('store:influxdb-v2', upTo);
        if (waiting > 0) {
          outbox = main.prepare(`INSERT OR IGNORE INTO r.readings (${cols}) SELECT ${cols} FROM main.influx_outbox ORDER BY id`).run().changes;
          // and the processors after them: they had been through the rules too
          main.prepare("UPDATE log_cursors SET position = (SELECT IFNULL(MAX(id), 0) FROM r.readings) WHERE name = 'processors'").run();
        }
      }
    })();
    main.exec('DROP TABLE IF EXISTS main.readings; DROP TABLE IF EXISTS main.influx_outbox;');
    return { moved, outbox };
  } finally {
    main.exec('DETACH DATABASE r');
  }
}
