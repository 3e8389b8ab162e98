#!/usr/bin/env node
// `npm test` runs this first (pretest). The integration suite talks to real parts: InfluxDB 1.x
// (`influxd`, started per test file on free ports), mosquitto_pub and PostgreSQL (the local
// cluster on 127.0.0.1:5432, tests/support/postgres.ts), and the console tests drive Debian's
// Chromium. When one is missing and we run as root on Debian, install it with apt-get; otherwise
// say exactly what to install. A PostgreSQL cluster that is installed but stopped is started.
// Set FIREWATCH_NO_PROVISION=1 to skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const NEEDS = [
  { bin: 'influxd', pkg: 'influxdb', unlessEnv: 'INFLUX_V1_URL' },
  { bin: 'mosquitto_pub', pkg: 'mosquitto-clients' },
  { bin: 'chromium', pkg: 'chromium' },
  // the PostgreSQL stores' tests; FIREWATCH_TEST_PG_URL points them at a server elsewhere
  { bin: 'pg_ctlcluster', pkg: 'postgresql', unlessEnv: 'FIREWATCH_TEST_PG_URL' },
  // a CJK font, so the console's screenshots show Chinese rather than boxes (tests pass without it)
  { pkg: 'fonts-wqy-microhei', optional: true },
];

const onPath = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const installed = (n) => (n.bin ? onPath(n.bin) : spawnSync('dpkg', ['-s', n.pkg], { stdio: 'ignore' }).status === 0);

const PG_HOST = '127.0.0.1';
const PG_PORT = 5432;
const PG_START_WAIT_MS = 20_000;

/** Whether something accepts TCP connections on host:port (within a second). */
function listening(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The newest cluster version under /etc/postgresql (Debian's layout), if any. */
function clusterVersion() {
  if (!existsSync('/etc/postgresql')) return undefined;
  const versions = readdirSync('/etc/postgresql').filter((v) => /^\d+(\.\d+)?$/.test(v));
  return versions.sort((a, b) => Number(a) - Number(b)).at(-1);
}

/**
 * Starts the local PostgreSQL cluster when it is installed (pg_ctlcluster, Debian's
 * postgresql-common) and nothing listens on 127.0.0.1:5432. Not when FIREWATCH_TEST_PG_URL names
 * another server. Exits 1 when it cannot be started: the PostgreSQL tests fail without it.
 */
async function startPostgres() {
  if (process.env.FIREWATCH_TEST_PG_URL || !onPath('pg_ctlcluster')) return;
  if (await listening(PG_HOST, PG_PORT)) return;
  const version = clusterVersion();
  if (!version) {
    console.error(`[provision] PostgreSQL is installed but /etc/postgresql has no cluster: create one with: pg_createcluster <version> main --start`);
    process.exit(1);
  }
  const args = ['--skip-systemctl-redirect', version, 'main', 'start'];
  console.log(`[provision] PostgreSQL ${version} is not listening on ${PG_HOST}:${PG_PORT}; starting it: pg_ctlcluster ${args.join(' ')}`);
  // exit status 2: the cluster was running already (then it listens elsewhere, which the wait below shows)
  const started = spawnSync('pg_ctlcluster', args, { stdio: 'inherit' });
  if (started.status !== 0 && started.status !== 2) {
    console.error(`[provision] pg_ctlcluster failed (exit ${started.status ?? started.signal}); start PostgreSQL by hand: pg_ctlcluster ${args.join(' ')}`);
    process.exit(1);
  }
  const deadline = Date.now() + PG_START_WAIT_MS;
  while (!(await listening(PG_HOST, PG_PORT))) {
    if (Date.now() > deadline) {
      console.error(`[provision] PostgreSQL ${version} does not listen on ${PG_HOST}:${PG_PORT} (see /var/log/postgresql/postgresql-${version}-main.log and listen_addresses/port in /etc/postgresql/${version}/main/postgresql.conf)`);
      process.exit(1);
    }
    await sleep(250);
  }
  console.log(`[provision] PostgreSQL ${version} is listening on ${PG_HOST}:${PG_PORT}`);
}

if (process.env.FIREWATCH_NO_PROVISION === '1') process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const canApt = isRoot && existsSync('/usr/bin/apt-get');
const missing = NEEDS.filter((n) => !(n.unlessEnv && process.env[n.unlessEnv]) && !installed(n) && (canApt || !n.optional));
if (missing.length === 0) {
  await startPostgres();
  process.exit(0);
}

const pkgs = missing.map((m) => m.pkg);
if (canApt) {
  console.log(`[provision] installing Debian packages for the test suite: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  } catch (err) {
    console.error(`[provision] apt-get failed: ${err.message}`);
    process.exit(1);
  }
  const still = missing.filter((m) => !m.optional && !installed(m));
  if (still.length > 0) {
    console.error(`[provision] still missing after install: ${still.map((m) => m.pkg).join(', ')}`);
    process.exit(1);
  }
  if (pkgs.includes('postgresql')) {
    console.log(
      '[provision] PostgreSQL was installed: the tests connect as postgres@127.0.0.1 without a password, which a new Debian cluster refuses\n' +
        '  (pg_hba.conf: host ... scram-sha-256). On a test machine, allow it with a line `host all postgres 127.0.0.1/32 trust` in\n' +
        '  /etc/postgresql/<version>/main/pg_hba.conf (then pg_ctlcluster <version> main reload), or set FIREWATCH_TEST_PG_URL with a password.',
    );
  }
  await startPostgres();
  process.exit(0);
}

console.error(
  `[provision] The test suite needs: ${missing.map((m) => `${m.bin ?? m.pkg} (Debian package ${m.pkg})`).join(', ')}.\n` +
    `  Install them with: sudo apt-get install ${pkgs.join(' ')}\n` +
    `  (or point INFLUX_V1_URL at an InfluxDB 1.x server, FIREWATCH_TEST_PG_URL at a PostgreSQL server; with a Docker engine, the InfluxDB tests use testcontainers).`,
);
process.exit(1);
