/**
 * What the benchmark runs against, each as its own process on free loopback ports:
 * the Firewatch service (`firewatch serve`, SQLite, InfluxDB v1 or PostgreSQL), a bare aedes broker and a
 * private Mosquitto (never the system one on 1883).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { hashGeneratedSecret } from '../services/devices/credentials.js';
import { openDatabase } from '../services/storage/sqlite/database.js';
import { SqliteRegistryStore } from '../services/storage/sqlite/sqlite-registry-store.js';
import { openPostgres } from '../services/storage/postgres/database.js';
import { PgRegistryStore } from '../services/storage/postgres/pg-registry-store.js';
import { freePort } from './ports.js';
import { waitReady } from './proc.js';
import { SERVICE_NODE_FLAGS } from '../server/node-flags.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** run sibling scripts the way this one runs: through tsx from source, or compiled */
const LOADER = FROM_SOURCE ? ['--import', 'tsx'] : [];
const ext = FROM_SOURCE ? '.ts' : '.js';

export const BENCH_TOKEN = 'bench-admin-token-0123456789abcdef';
export const DEVICE_PASSWORD = 'bench-device-password';

export interface Target {
  name: string;
  mqttPort: number;
  pid: number;
  /** client publishes handled (baselines), or messages accepted (Firewatch) */
  count(): Promise<number>;
  stop(): Promise<void>;
}

function waitExit(p: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

export async function startBareAedes(): Promise<Target> {
  const port = await freePort();
  const child = fork(join(HERE, `bare-aedes${ext}`), [String(port)], { execArgv: LOADER, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`bare aedes exited ${c}`)));
  });
  return {
    name: 'aedes (bare)',
    mqttPort: port,
    pid: child.pid!,
    count: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { count: number }).count));
        child.send('count');
      }),
    stop: () => waitExit(child, 3000),
  };
}

export async function startMosquitto(dir: string, bin = '/usr/sbin/mosquitto'): Promise<Target> {
  if (!existsSync(bin)) throw new Error(`${bin} not found: apt-get install mosquitto`);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nsys_interval 1\nmax_inflight_messages 0\nmax_queued_messages 0\nlog_dest none\n`);
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  // wait for the port
  const deadline = Date.now() + 10_000;
  let probe: MqttClient | undefined;
  while (!probe) {
    try {
      probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, protocolVersion: 4, clientId: 'bench-sys' });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // $SYS/broker/publish/messages/received counts PUBLISH packets received (sys_interval 1 s)
  let received = 0;
  await probe.subscribeAsync('$SYS/broker/publish/messages/received');
  probe.on('message', (_t, p) => (received = Number(p.toString())));
  return {
    name: 'mosquitto',
    mqttPort: port,
    pid: child.pid!,
    count: async () => {
      await new Promise((r) => setTimeout(r, 1100)); // let $SYS catch up
      return received;
    },
    stop: async () => {
      await probe!.endAsync(true);
      await waitExit(child, 3000);
    },
  };
}

export interface FirewatchTarget extends Target {
  httpUrl: string;
  dataDir: string;
  metrics(): Promise<string>;
  storedRows(): number;
}

/**
 * Seed the registry straight into SQLite before the service starts: one building and `n` devices
 * sharing one password, stored in the form the service itself stores (`sha256$…`, ADR 0007).
 * Registration through the API would give each its own password (~17 s for 20,000);
 * the only shortcut the benchmark takes is the shared password, and it only touches the CONNECT path.
 */
export function seedRegistry(dataDir: string, devices: { id: string; kind: string; point: string | null }[]): void {
  mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(join(dataDir, 'firewatch.db'));
  const store = new SqliteRegistryStore(db);
  const now = new Date().toISOString();
  const hash = hashGeneratedSecret(DEVICE_PASSWORD);
  const building = {
    id: 'bench-tower', name: '压测大厦', street: '解放碑', address: 'bench', type: 'public', heightM: 150, floors: 40, areaM2: null,
    category: 1, use: 'office', contactName: null, contactPhone: null, createdAt: now, updatedAt: now,
  };
  // cast: the registry's types grow with other issues; the store fills what it knows
  store.insertBuilding(building as never);
  db.transaction(() => {
    for (const d of devices) {
      const device = {
        id: d.id, buildingId: building.id, kind: d.kind, point: d.point, location: null, reportIntervalS: 60, vendor: 'bench', model: null,
        rules: null, inServiceAt: now, createdAt: now, updatedAt: now,
      };
      store.insertDevice(device as never, { deviceId: d.id, username: d.id, hash, rotatedAt: now });
    }
  })();
  db.close();
}

/**
 * Seed the registry of a fresh PostgreSQL database the same way (the service's own migrations and
 * registry store), for the PostgreSQL run: one building, `devices`, one shared password.
 */
export async function seedRegistryPg(url: string, devices: { id: string; kind: string; point: string | null }[]): Promise<void> {
  const db = await openPostgres(url, { max: 2 });
  try {
    const store = new PgRegistryStore(db);
    const now = new Date().toISOString();
    const hash = hashGeneratedSecret(DEVICE_PASSWORD);
    const building = {
      id: 'bench-tower', name: '压测大厦', street: '解放碑', address: 'bench', type: 'public', heightM: 150, floors: 40, areaM2: null,
      category: 1, use: 'office', contactName: null, contactPhone: null, createdAt: now, updatedAt: now,
    };
    await db.transaction(async () => {
      await store.insertBuilding(building as never);
      for (const d of devices) {
        const device = {
          id: d.id, buildingId: building.id, kind: d.kind, point: d.point, location: null, reportIntervalS: 60, vendor: 'bench', model: null,
          rules: null, inServiceAt: now, createdAt: now, updatedAt: now,
        };
        await store.insertDevice(device as never, { deviceId: d.id, username: d.id, hash, rotatedAt: now });
      }
    });
  } finally {
    await db.close();
  }
}

/** A database of its own on the machine's PostgreSQL for one run, dropped after; undefined when none answers. */
export async function benchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const name = `firewatch_bench_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Rows in a PostgreSQL database's readings table (the PostgreSQL run's stored count). */
export async function pgCount(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM readings')).rows[0]!.n);
  } finally {
    await c.end();
  }
}

export interface FirewatchOptions {
  dataDir: string;
  influx?: { url: string; db: string };
  /** DATABASE_URL: the state (and the readings) in PostgreSQL */
  postgres?: string;
  cpuProfDir?: string;
  env?: Record<string, string>;
}

export async function startFirewatch(o: FirewatchOptions): Promise<FirewatchTarget> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const bin = FROM_SOURCE ? join(HERE, '..', 'bin', 'firewatch.ts') : join(HERE, '..', 'bin', 'firewatch.js');
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : []), ...LOADER, bin, 'serve'], {
    env: {
      ...process.env,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      DATA_DIR: o.dataDir,
      ADMIN_TOKEN: BENCH_TOKEN,
      LOG_LEVEL: 'warn',
      // the load puts 100 devices at hundreds of messages per second each
      DEVICE_RATE_PER_S: '1000000',
      DEVICE_RATE_BURST: '1000000',
      ...(o.influx ? { INFLUX_URL: o.influx.url, INFLUX_API: 'v1', INFLUX_DB: o.influx.db } : {}),
      ...(o.postgres ? { DATABASE_URL: o.postgres } : {}),
      ...o.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await waitReady(child, httpUrl, () => stderr);
  const metrics = async () => (await fetch(`${httpUrl}/metrics`)).text();
  let rowsDb: ReturnType<typeof openDatabase> | undefined;
  return {
    name: o.influx ? 'firewatch (InfluxDB v1)' : o.postgres ? 'firewatch (PostgreSQL)' : 'firewatch (SQLite)',
    mqttPort,
    httpUrl,
    dataDir: o.dataDir,
    pid: child.pid!,
    metrics,
    count: async () => metricValue(await metrics(), 'firewatch_messages_accepted_total'),
    storedRows: () => {
      rowsDb ??= openDatabase(join(o.dataDir, 'readings.db'), { migrate: false, integrityCheck: false });
      return rowsDb.prepare('SELECT COUNT(*) FROM readings').pluck().get() as number;
    },
    stop: async () => {
      rowsDb?.close();
      await waitExit(child, 20_000);
    },
  };
}

/** Sum of a Prometheus sample over its label sets (optionally filtered by a label substring). */
export function metricValue(text: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m && m[1] === name && (m[2] ?? '').includes(labelFilter)) sum += Number(m[3]);
  }
  return sum;
}

export const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
