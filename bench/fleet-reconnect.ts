/**
 * Fleet reconnect after an outage, and what bad CONNECTs cost (issue #12 item 4; ADR 0007).
 *
 *   node --import tsx bench/fleet-reconnect.ts [--devices 20000] [--bad 100] [--legacy 0] [--root DIR]
 *
 * 1. starts `firewatch serve` (from --root, default this checkout) as a child on free loopback
 *    ports and registers --devices devices through the API (each gets its own generated secret);
 * 2. optionally turns --legacy of them into legacy scrypt hashes (N=16384, the pre-ADR-0007 form),
 *    written straight into firewatch.db while the service is stopped;
 * 3. restarts the service (cold: every in-memory cache empty) and measures the service's CPU for
 *    --bad bad-credential CONNECTs (half a wrong secret for a registered device, half unknown ids;
 *    and, with --legacy, as many against legacy devices);
 * 4. connects the whole fleet at once (raw MQTT 3.1.1 sockets, no mqtt.js objects, source
 *    addresses over 127.0.0.2–9); a refused or failed device retries after 1–2 s like a real one;
 *    reports how many got in, the time until all were connected, and the service's CPU seconds.
 *
 * Run it against the code before ADR 0007 with --root pointing at an export of it (e.g.
 * `git archive HEAD | tar -x -C /tmp/fw-before`, node_modules symlinked), with fewer devices:
 * each registration and each cold CONNECT there costs a full scrypt.
 *
 * 20,000 sockets on each side need file descriptors: when `ulimit -n` is too low, the script
 * re-runs itself under `ulimit -n` raised (possible as root, or up to the hard limit).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { scrypt as scryptCb, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { connectPacket } from './load.js';
import { freePort } from './ports.js';
import { sampleProc, waitReady } from './proc.js';
import { metricValue } from './targets.js';
import { SERVICE_NODE_FLAGS } from '../server/node-flags.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const TOKEN = 'fleet-admin-token-0123456789abcdef0123';

const { values: opts } = parseArgs({
  options: {
    devices: { type: 'string', default: '20000' },
    bad: { type: 'string', default: '100' },
    legacy: { type: 'string', default: '0' },
    root: { type: 'string', default: join(HERE, '..') },
    timeout: { type: 'string', default: '900' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    'Usage: node --import tsx bench/fleet-reconnect.ts [--devices 20000] [--bad 100] [--legacy 0] [--root DIR] [--timeout 900] [--out FILE]\n',
  );
  process.exit(0);
}
const DEVICES = Number(opts.devices);
const BAD = Number(opts.bad);
const LEGACY = Math.min(Number(opts.legacy), DEVICES);
const ROOT = resolve(opts.root!);
const TIMEOUT_S = Number(opts.timeout);

// ---- file descriptors -------------------------------------------------------------------------
const fdLimit = (flag: '-n' | '-Hn') => Number(spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim()) || Infinity;

/**
 * Make `ulimit -n` at least `need` for this process and the service it starts (both hold one socket
 * per device): re-run under a raised limit, or the hard limit when `need` cannot be had (no
 * CAP_SYS_RESOURCE in a container). Returns the limit in force.
 */
function ensureFdLimit(need: number): number {
  const soft = fdLimit('-n');
  if (soft >= need || process.env.FLEET_REEXEC) return soft;
  log(`ulimit -n ${soft} < ${need} (hard ${fdLimit('-Hn')}): re-running with the limit raised`);
  const r = spawnSync('sh', ['-c', `ulimit -n ${need} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, FLEET_REEXEC: '1' },
  });
  process.exit(r.status ?? 1);
}

function log(msg: string): void {
  process.stderr.write(`[fleet ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number) => Math.round(x * 100) / 100;

// ---- the service --------------------------------------------------------------------------------
interface Service {
  proc: ChildProcess;
  pid: number;
  httpUrl: string;
  mqttPort: number;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

async function startService(dataDir: string): Promise<Service> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const proc = spawn(process.execPath, [...SERVICE_NODE_FLAGS, '--import', 'tsx', join(ROOT, 'bin', 'firewatch.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      DATA_DIR: dataDir,
      ADMIN_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await waitReady(proc, httpUrl, () => stderr);
  return {
    proc,
    pid: proc.pid!,
    httpUrl,
    mqttPort,
    metrics: async () => (await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text(),
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

const cpuOf = (pid: number) => sampleProc(pid)?.cpuS ?? NaN;

async function api(svc: Service, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(svc.httpUrl + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json().catch(() => undefined);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// ---- raw CONNECTs -------------------------------------------------------------------------------
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

/** One CONNECT; resolves with the CONNACK return code, or -1 when the connection failed first. */
function connectOnce(port: number, id: string, password: string, localAddress: string, keep: Socket[] | undefined): Promise<number> {
  return new Promise((resolve) => {
    const sock = netConnect({ host: '127.0.0.1', port, localAddress });
    let settled = false;
    const settle = (code: number) => {
      if (settled) return;
      settled = true;
      if (code !== 0 || !keep) sock.destroy();
      else keep.push(sock);
      resolve(code);
    };
    sock.setNoDelay(true);
    sock.on('error', () => settle(-1));
    sock.on('close', () => settle(-1));
    sock.on('data', (buf: Buffer) => {
      if (buf[0] === 0x20 && buf.length >= 4) settle(buf[3]!);
    });
    sock.write(connectPacket(id, id, password, 900)); // keepalive 15 min: no PINGREQs during the run
  });
}

interface FleetResult {
  requested: number;
  /** got CONNACK 0 */
  connected: number;
  /** of those, kept open to the end (the rest closed again: descriptor limit) */
  held: number;
  firstTry: number;
  attempts: number;
  refusedByCode: Record<string, number>;
  failedConnections: number;
  secondsToAllConnected: number | null;
  serviceCpuS: number;
  serviceConnections: number;
  serviceRssMiB: number;
}

/**
 * Connect every device at once. At most `hold` connections are kept open (each costs a descriptor
 * here and one in the service); a device that gets in beyond that closes again, and at most
 * `slots` sockets are open here at any time.
 */
async function connectFleet(svc: Service, creds: { id: string; password: string }[], sockets: Socket[], hold: number, slots: number): Promise<FleetResult> {
  const refusedByCode: Record<string, number> = {};
  let connected = 0;
  let firstTry = 0;
  let attempts = 0;
  let failed = 0;
  let lastAt = 0;
  const cpu0 = cpuOf(svc.pid);
  const t0 = Date.now();
  const deadline = t0 + TIMEOUT_S * 1000;
  let open = 0;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    while (open >= slots) await new Promise<void>((r) => waiting.push(r));
    open++;
  };
  const free = () => {
    open--;
    waiting.shift()?.();
  };
  let reserved = 0; // connections that will be kept once they are up
  const one = async (c: { id: string; password: string }, n: number) => {
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      attempts++;
      await slot();
      const keep = reserved < hold;
      if (keep) reserved++;
      const code = await connectOnce(svc.mqttPort, c.id, c.password, SOURCES[n % SOURCES.length]!, keep ? sockets : undefined);
      if (code !== 0 && keep) reserved--;
      if (code !== 0 || !keep) free();
      if (code === 0) {
        connected++;
        if (attempt === 0) firstTry++;
        lastAt = Date.now();
        return;
      }
      if (code < 0) failed++;
      else refusedByCode[code] = (refusedByCode[code] ?? 0) + 1;
      await sleep(1000 + Math.random() * 1000); // a device's reconnect delay
    }
  };
  const progress = setInterval(() => log(`  ${connected}/${creds.length} connected, ${attempts} attempts`), 5000);
  await Promise.all(creds.map((c, n) => one(c, n)));
  clearInterval(progress);
  const cpu1 = cpuOf(svc.pid);
  await sleep(500);
  const m = await svc.metrics();
  return {
    requested: creds.length,
    connected,
    held: sockets.length,
    firstTry,
    attempts,
    refusedByCode,
    failedConnections: failed,
    secondsToAllConnected: connected === creds.length ? r2((lastAt - t0) / 1000) : null,
    serviceCpuS: r2(cpu1 - cpu0),
    serviceConnections: metricValue(m, 'firewatch_mqtt_connections'),
    serviceRssMiB: Math.round(sampleProc(svc.pid)?.rssMiB ?? 0),
  };
}

interface BadResult {
  attempts: number;
  codes: Record<string, number>;
  serviceCpuS: number;
  /** the service's CPU over the same time when idle, already subtracted from serviceCpuS */
  idleCpuS: number;
  wallS: number;
}

/** `n` bad CONNECTs at once, from 50 addresses (so the per-address delay of answers stays out of it). */
async function badConnects(svc: Service, targets: { id: string; password: string }[], idleRate: number): Promise<BadResult> {
  const codes: Record<string, number> = {};
  const cpu0 = cpuOf(svc.pid);
  const t0 = Date.now();
  const results = await Promise.all(targets.map((t, i) => connectOnce(svc.mqttPort, t.id, t.password, `127.0.3.${(i % 50) + 1}`, undefined)));
  const wallS = (Date.now() - t0) / 1000;
  await sleep(200);
  const cpu = cpuOf(svc.pid) - cpu0;
  for (const c of results) codes[c] = (codes[c] ?? 0) + 1;
  const idle = idleRate * (wallS + 0.2);
  return { attempts: targets.length, codes, serviceCpuS: r2(Math.max(0, cpu - idle)), idleCpuS: r2(idle), wallS: r2(wallS) };
}

async function idleCpuRate(svc: Service, seconds = 3): Promise<number> {
  const a = cpuOf(svc.pid);
  await sleep(seconds * 1000);
  return (cpuOf(svc.pid) - a) / seconds;
}

function scrypt(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((res, rej) => scryptCb(secret, salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (e, k) => (e ? rej(e) : res(k))));
}

// ---- main ---------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const limit = ensureFdLimit(DEVICES + 1024);
  // descriptors besides the device sockets: ~60 in the service (listeners, SQLite, workers), ~40 here
  const hold = Math.min(DEVICES, limit - 300);
  const slots = Math.min(DEVICES, limit - 100);
  if (hold < DEVICES) log(`ulimit -n is ${limit}: all ${DEVICES} devices connect at once, ${hold} of them stay connected`);
  const startedAt = new Date().toISOString();
  const load0 = loadavg();
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-reconnect-'));
  log(`root ${ROOT}, ${DEVICES} devices (${LEGACY} legacy scrypt), ${BAD} bad CONNECTs, data ${dataDir}; load average ${load0.map(r2).join(' ')}`);
  let svc = await startService(dataDir);
  const sockets: Socket[] = [];
  try {
    // 1. register through the API
    const buildings: string[] = [];
    for (let b = 0; b < Math.max(1, Math.ceil(DEVICES / 1000)); b++) {
      const res = await api(svc, 'POST', '/api/v1/buildings', { name: `重连测试楼 ${b}`, street: '解放碑', address: 'fleet', type: 'public', heightM: 100, use: 'office' });
      buildings.push(res.id);
    }
    const creds: { id: string; password: string }[] = new Array(DEVICES);
    const regCpu0 = cpuOf(svc.pid);
    const regT0 = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < DEVICES) {
          const i = next++;
          const id = `fleet-${String(i).padStart(5, '0')}`;
          const res = await api(svc, 'POST', '/api/v1/devices', { id, buildingId: buildings[i % buildings.length], kind: 'water_pressure', point: 'hydrant_top', inService: true });
          creds[i] = { id, password: res.credentials.password };
          if ((i + 1) % 5000 === 0) log(`  registered ${i + 1}`);
        }
      }),
    );
    const registration = { devices: DEVICES, wallS: r2((Date.now() - regT0) / 1000), serviceCpuS: r2(cpuOf(svc.pid) - regCpu0) };
    log(`registered ${DEVICES} in ${registration.wallS} s, service CPU ${registration.serviceCpuS} s`);
    await svc.stop();

    // 2. legacy hashes, straight into the database
    if (LEGACY > 0) {
      const db = new Database(join(dataDir, 'firewatch.db'));
      const t = Date.now();
      const hashes = await Promise.all(
        creds.slice(0, LEGACY).map(async (c) => {
          const salt = randomBytes(16);
          const key = await scrypt(c.password, salt);
          return { id: c.id, hash: ['scrypt', 16384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$') };
        }),
      );
      const upd = db.prepare('UPDATE device_credentials SET hash = ? WHERE device_id = ?');
      db.transaction(() => hashes.forEach((h) => upd.run(h.hash, h.id)))();
      db.close();
      log(`${LEGACY} credentials turned into legacy scrypt hashes in ${r2((Date.now() - t) / 1000)} s`);
    }

    // 3. cold restart; bad CONNECTs
    svc = await startService(dataDir);
    await sleep(2000);
    const idleRate = await idleCpuRate(svc);
    log(`restarted (cold); idle CPU ${r2(idleRate)} cores`);
    const badTargets = Array.from({ length: BAD }, (_, i) =>
      i % 2 ? { id: creds[LEGACY + (i % (DEVICES - LEGACY || 1))]?.id ?? `nobody-${i}`, password: `wrong-${i}` } : { id: `nobody-${i}`, password: `wrong-${i}` },
    );
    const bad = await badConnects(svc, badTargets, idleRate);
    log(`${BAD} bad CONNECTs (fast credentials / unknown ids): service CPU ${bad.serviceCpuS} s, answers ${JSON.stringify(bad.codes)}`);
    let badLegacy: (BadResult & { slowChecks: number }) | undefined;
    if (LEGACY > 0) {
      const before = metricValue(await svc.metrics(), 'firewatch_mqtt_slow_auth_checks_total');
      const r = await badConnects(
        svc,
        Array.from({ length: BAD }, (_, i) => ({ id: creds[i % LEGACY]!.id, password: `wrong-${i}` })),
        idleRate,
      );
      badLegacy = { ...r, slowChecks: metricValue(await svc.metrics(), 'firewatch_mqtt_slow_auth_checks_total') - before };
      log(`${BAD} bad CONNECTs against legacy hashes: service CPU ${r.serviceCpuS} s, ${badLegacy.slowChecks} slow checks, answers ${JSON.stringify(r.codes)}`);
      await sleep(12_000); // let the per-address budgets of those 50 addresses refill a little
    }

    // 4. the whole fleet at once
    log(`connecting ${DEVICES} devices at once`);
    const fleet = await connectFleet(svc, creds, sockets, hold, slots);
    const m = await svc.metrics();
    const slow = { ok: metricValue(m, 'firewatch_mqtt_slow_auth_checks_total', 'result="ok"'), bad: metricValue(m, 'firewatch_mqtt_slow_auth_checks_total', 'result="bad"') };
    const refusals = Object.fromEntries(
      ['auth_busy', 'auth_rate_limited', 'bad_credentials'].map((reason) => [reason, metricValue(m, 'firewatch_mqtt_connect_refused_total', `reason="${reason}"`)]),
    );
    log(
      `fleet: ${fleet.connected}/${fleet.requested} connected (${fleet.held} held; ${fleet.firstTry} at the first try, ${fleet.attempts} attempts), ` +
        `all in ${fleet.secondsToAllConnected ?? '—'} s, service CPU ${fleet.serviceCpuS} s, service counts ${fleet.serviceConnections}, RSS ${fleet.serviceRssMiB} MiB`,
    );
    const result = {
      startedAt,
      root: ROOT,
      node: process.version,
      cores: availableParallelism(),
      loadAverageAtStart: load0.map(r2),
      loadAverageAtEnd: loadavg().map(r2),
      fdLimit: limit,
      registration,
      badConnects: bad,
      ...(badLegacy ? { badConnectsLegacy: badLegacy } : {}),
      fleet,
      slowChecks: slow,
      refusals,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (opts.out) writeFileSync(opts.out, JSON.stringify(result, null, 2));
  } finally {
    for (const s of sockets) s.destroy();
    await svc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
