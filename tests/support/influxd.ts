/**
 * Finds an InfluxDB for integration tests, in the order the house style asks for
 * (docs/house-style.md, "Tests"): an env URL, else a locally started server, else testcontainers
 * when Docker is present; nothing available → fail loudly with what to install.
 *
 *   INFLUX_V1_URL set        → use it (cannot be stopped by tests)
 *   /usr/bin/influxd exists  → private influxd: temp dir, free ports, generated config
 *   Docker reachable         → testcontainers influxdb:1.8 on a fixed free host port
 *   none                     → throw "apt-get install influxdb"
 *
 * A private server can be stopped and restarted on the same ports and data dir, so tests can
 * take InfluxDB away mid-stream and bring it back with its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';

export interface InfluxV1Server {
  url: string;
  /** false for an external server (INFLUX_V1_URL): stop()/restart() throw */
  controllable: boolean;
  /** kill the server (SIGTERM, then SIGKILL after 5 s); data stays */
  stop(): Promise<void>;
  /** start it again on the same ports and data dir; resolves once /ping answers */
  restart(): Promise<void>;
  /** stop and remove the temp dir / container */
  dispose(): Promise<void>;
}

export interface InfluxV2Target {
  url: string;
  token: string;
  org: string;
  bucket: string;
}

const INFLUXD_CANDIDATES = ['/usr/bin/influxd', '/usr/local/bin/influxd'];
const START_TIMEOUT_MS = 30_000;

export async function findInfluxV1(): Promise<InfluxV1Server> {
  const envUrl = process.env.INFLUX_V1_URL;
  if (envUrl) return external(envUrl);
  const bin = INFLUXD_CANDIDATES.find((p) => existsSync(p));
  if (bin) return startPrivateInfluxd(bin);
  if (process.env.DOCKER_HOST || existsSync('/var/run/docker.sock')) return startContainer();
  throw new Error(
    'No InfluxDB v1 for the integration tests. Install the server (`apt-get install -y influxdb`, ' +
      'which provides /usr/bin/influxd), or set INFLUX_V1_URL=http://host:8086, or start a Docker engine ' +
      '(testcontainers runs influxdb:1.8).',
  );
}

/** An InfluxDB v2 only from the environment; all four variables or none. */
export function findInfluxV2(): InfluxV2Target | undefined {
  const url = process.env.INFLUX_V2_URL;
  if (!url) return undefined;
  const token = process.env.INFLUX_V2_TOKEN;
  const org = process.env.INFLUX_V2_ORG;
  const bucket = process.env.INFLUX_V2_BUCKET;
  if (!token || !org || !bucket) {
    throw new Error('INFLUX_V2_URL is set: INFLUX_V2_TOKEN, INFLUX_V2_ORG and INFLUX_V2_BUCKET are required too');
  }
  return { url, token, org, bucket };
}

export async function waitForPing(url: string, timeoutMs: number, alive: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const dead = alive();
    if (dead) throw new Error(`influxd exited before answering /ping: ${dead}`);
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 204) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`InfluxDB at ${url} did not answer /ping within ${timeoutMs} ms (${last})`);
}

function external(url: string): InfluxV1Server {
  const refuse = async (): Promise<never> => {
    throw new Error('INFLUX_V1_URL points at an external InfluxDB; tests cannot stop or restart it');
  };
  return { url: url.replace(/\/+$/, ''), controllable: false, stop: refuse, restart: refuse, dispose: async () => {} };
}

/**
 * influxd 1.x config. The RPC bind-address (backup/restore, default 127.0.0.1:8088) must move
 * too, or a second server on the host fails with "address already in use". Debian's 1.6 build
 * spells the reporting switch `reporting-enabled`, upstream `reporting-disabled`; both are accepted.
 */
function influxdConfig(dir: string, rpcPort: number, httpPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false

[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "error"
  suppress-logo = true
`;
}

async function startPrivateInfluxd(bin: string): Promise<InfluxV1Server> {
  const dir = await mkdtemp(join(tmpdir(), 'firewatch-influxd-'));
  const [rpcPort, httpPort] = [await freePort(), await freePort()];
  const configFile = join(dir, 'influxdb.conf');
  await writeFile(configFile, influxdConfig(dir, rpcPort, httpPort));
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  // Never leave an influxd behind if the test worker exits without calling dispose().
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const launch = async (): Promise<void> => {
    const proc = spawn(bin, ['-config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderrTail = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });
    child = proc;
    const exited = (): string | undefined => {
      if (spawnError) return spawnError.message;
      if (proc.exitCode !== null || proc.signalCode !== null) {
        return `exit ${proc.exitCode ?? proc.signalCode}; stderr: ${stderrTail.trim() || '(empty)'}`;
      }
      return undefined;
    };
    try {
      await waitForPing(url, START_TIMEOUT_MS, exited);
    } catch (err) {
      await stop();
      throw err;
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = once(proc, 'exit');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };

  await launch();
  return {
    url,
    controllable: true,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Docker fallback; a fixed host port so restart() keeps the URL. Not exercised on Debian CI. */
async function startContainer(): Promise<InfluxV1Server> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const port = await freePort();
  const started = await new GenericContainer('influxdb:1.8')
    .withExposedPorts({ container: 8086, host: port })
    .withEnvironment({ INFLUXDB_REPORTING_DISABLED: 'true', INFLUXDB_HTTP_LOG_ENABLED: 'false' })
    .withWaitStrategy(Wait.forHttp('/ping', 8086).forStatusCode(204))
    .withStartupTimeout(START_TIMEOUT_MS)
    .start();
  const url = `http://${started.getHost()}:${port}`;
  return {
    url,
    controllable: true,
    stop: async () => {
      await started.stop({ remove: false });
    },
    restart: async () => {
      await started.restart();
      await waitForPing(url, START_TIMEOUT_MS);
    },
    dispose: async () => {
      await started.stop({ remove: true }).catch(() => undefined);
    },
  };
}
