#!/usr/bin/env node
// `npm test` runs this first (pretest). The integration suite talks to real parts: InfluxDB 1.x
// (`influxd`, started per test file on free ports) and mosquitto_pub, and the console tests
// drive Debian's Chromium. When one is missing and we run as root on Debian, install it with
// apt-get; otherwise say exactly what to install. Set FIREWATCH_NO_PROVISION=1 to skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDS = [
  { bin: 'influxd', pkg: 'influxdb', unlessEnv: 'INFLUX_V1_URL' },
  { bin: 'mosquitto_pub', pkg: 'mosquitto-clients' },
  { bin: 'chromium', pkg: 'chromium' },
  // a CJK font, so the console's screenshots show Chinese rather than boxes (tests pass without it)
  { pkg: 'fonts-wqy-microhei', optional: true },
];

const onPath = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const installed = (n) => (n.bin ? onPath(n.bin) : spawnSync('dpkg', ['-s', n.pkg], { stdio: 'ignore' }).status === 0);

if (process.env.FIREWATCH_NO_PROVISION === '1') process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const canApt = isRoot && existsSync('/usr/bin/apt-get');
const missing = NEEDS.filter((n) => !(n.unlessEnv && process.env[n.unlessEnv]) && !installed(n) && (canApt || !n.optional));
if (missing.length === 0) process.exit(0);

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
  if (still.length === 0) process.exit(0);
  console.error(`[provision] still missing after install: ${still.map((m) => m.pkg).join(', ')}`);
  process.exit(1);
}

console.error(
  `[provision] The test suite needs: ${missing.map((m) => `${m.bin ?? m.pkg} (Debian package ${m.pkg})`).join(', ')}.\n` +
    `  Install them with: sudo apt-get install ${pkgs.join(' ')}\n` +
    `  (or point INFLUX_V1_URL at an InfluxDB 1.x server; with a Docker engine, tests use testcontainers).`,
);
process.exit(1);
