/**
 * A private InfluxDB 1.x (Debian's /usr/bin/influxd) on free loopback ports in a temp folder, as
 * tests/support/influxd.ts starts it for the tests (same config: RPC port moved, reporting and
 * logging off).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface Influxd {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startInfluxd(bin = '/usr/bin/influxd'): Promise<Influxd> {
  if (!existsSync(bin)) throw new Error(`${bin} not found: apt-get install influxdb`);
  const dir = await mkdtemp(join(tmpdir(), 'firewatch-bench-influxd-'));
  const [rpc, http] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  await writeFile(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpc}"
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
[http]
  bind-address = "127.0.0.1:${http}"
  log-enabled = false
  pprof-enabled = false
[logging]
  level = "error"
  suppress-logo = true
`,
  );
  const proc: ChildProcess = spawn(bin, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`influxd exited: ${err}`);
    try {
      const r = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 204) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`influxd did not answer /ping: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: proc.pid!,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function influxQuery(url: string, db: string, q: string): Promise<unknown> {
  const r = await fetch(`${url}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`);
  return r.json();
}
