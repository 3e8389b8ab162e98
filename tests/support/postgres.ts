/**
 * A fresh, empty PostgreSQL database for a test, on the server the integration suite uses: the
 * local one (postgres://postgres@127.0.0.1:5432/postgres, trust auth), or FIREWATCH_TEST_PG_URL,
 * a URL whose user may create and drop databases. `npm test` starts a local cluster that is
 * installed but stopped (tests/support/provision.mjs).
 *
 * Each call creates its own database (firewatch_test_<random>), so test files and cases running
 * at once never see each other's rows; drop() removes it, closing whatever connections are left
 * (DROP DATABASE … WITH (FORCE)). No server is no skip: the call throws, saying how to start one.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface FreshDatabase {
  /** connection URL of the new database */
  url: string;
  /** its name */
  name: string;
  /** drops it, with any connections still open to it */
  drop(): Promise<void>;
}

/** The server's URL (its maintenance database): FIREWATCH_TEST_PG_URL, or the local default. */
export function testServerUrl(): string {
  return process.env.FIREWATCH_TEST_PG_URL || DEFAULT_TEST_PG_URL;
}

/** The same server and credentials, another database. */
function urlOf(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The server URL without its password, for messages. */
function shown(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

/** Runs one statement on the maintenance database, on a connection of its own. */
async function onServer(sql: string): Promise<void> {
  const serverUrl = testServerUrl();
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL is not reachable at ${shown(serverUrl)} (${(err as Error).message || (err as { code?: string }).code}); ` +
        'the PostgreSQL tests need it and do not skip. Start the local cluster with ' +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (npm test does it: tests/support/provision.mjs), ' +
        'install it with `apt-get install postgresql`, or set FIREWATCH_TEST_PG_URL to a server where this user may create databases.',
      { cause: err },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(prefix = 'firewatch_test'): Promise<FreshDatabase> {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`freshDatabase: prefix must be a lower-case SQL identifier, got ${JSON.stringify(prefix)}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  return {
    url: urlOf(testServerUrl(), name),
    name,
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
