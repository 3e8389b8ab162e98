/**
 * A private InfluxDB 1.x (Debian's /usr/bin/influxd) on free loopback ports in a temp folder, for
 * the benchmark and for the integration tests (tests/support/influxd.ts): it can be stopped and
 * restarted on the same ports and data, so a test can take InfluxDB away mid-stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';

const START_TIMEOUT_MS = 30_000;

export interface PrivateInfluxd {
  url: string;
  /** the running server's pid, if any */
  pid(): number | undefined;
  /** kill the server (SIGTERM, then SIGKILL after 5 s); data stays */
  stop(): Promise<void>;
  /** start it again on the same ports and data dir; resolves once /ping answers */
  restart(): Promise<void>;
  /** stop and remove the temp dir */
  dispose(): Promise<void>;
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

export async function startPrivateInfluxd(bin = '/usr/bin/influxd'): Promise<PrivateInfluxd> {
  if (!existsSync(bin)) throw new Error(`${bin} not found: apt-get install influxdb`);
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
    pid: () => child?.pid,
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

/** The benchmark's view: a server to run against and throw away. */
export async function startInfluxd(bin = '/usr/bin/influxd'): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const s = await startPrivateInfluxd(bin);
  return { url: s.url, pid: s.pid() ?? 0, stop: () => s.dispose() };
}

export async function influxQuery(url: string, db: string, q: string): Promise<unknown> {
  const r = await fetch(`${url}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`);
  return r.json();
}
