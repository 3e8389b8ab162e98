/**
 * Real NATS JetStream servers for the tests (issue #11): one `nats-server` (Debian's
 * /usr/sbin/nats-server, v2.9.10) or a cluster of three, on free loopback ports, each with `-js`
 * and a store directory of its own under one temp directory.
 *
 *   startNatsCluster(3) ─► n0, n1, n2: client port, cluster route port, monitoring port each;
 *                          every server routes to the other two (--routes), one cluster name
 *   ready()             ─► every running server answers /healthz with 200 and, in a cluster,
 *                          /jsz names a JetStream meta leader (JetStream can create streams)
 *   kill(i) / restart(i) ─► SIGKILL one server (no shutdown, as a crash), start it again on the
 *                          same ports, name and store directory, so it rejoins and catches up
 *   stop()              ─► SIGKILL every server still running, remove the temp directory
 *
 * A server's ports stay its own across restarts: its peers' routes and the clients' server lists
 * name them. The process is started detached from nothing and killed by its pid only; a test file
 * must call stop() in afterAll (and `stopAllNatsOnExit` covers a worker that dies first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

export interface NatsNode {
  name: string;
  clientPort: number;
  routePort: number;
  monitorPort: number;
  storeDir: string;
  /** nats://127.0.0.1:<clientPort> */
  url: string;
  proc?: ChildProcess;
}

export interface NatsCluster {
  nodes: readonly NatsNode[];
  /** every server's client URL, comma-separated: what NATS_URL will hold */
  servers: string[];
  /** resolves once every running server is healthy and (in a cluster) a meta leader is elected */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGKILL server i and wait for its exit */
  kill(i: number): Promise<void>;
  /** start server i again (same ports, name and store) and wait until the cluster is ready */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every server this process started, when the process ends (a failed test, a crash). */
function stopAllNatsOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of running) {
      try {
        if (p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** The command-line arguments of one server (pure, so the layout is easy to read and check). */
export function natsServerArgs(node: NatsNode, peers: readonly NatsNode[], clusterName: string | undefined): string[] {
  const args = ['-a', '127.0.0.1', '-p', String(node.clientPort), '-n', node.name, '-js', '-sd', node.storeDir, '-m', String(node.monitorPort)];
  if (clusterName !== undefined) {
    const routes = peers.filter((p) => p !== node).map((p) => `nats://127.0.0.1:${p.routePort}`);
    args.push('--cluster_name', clusterName, '--cluster', `nats://127.0.0.1:${node.routePort}`, '--routes', routes.join(','));
  }
  return args;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** Whether one server is healthy and, in a cluster, knows a JetStream meta leader. */
async function nodeReady(node: NatsNode, clustered: boolean): Promise<boolean> {
  try {
    const health = await getJson(`http://127.0.0.1:${node.monitorPort}/healthz`);
    if (health.status !== 200) return false;
    if (!clustered) return true;
    const jsz = await getJson(`http://127.0.0.1:${node.monitorPort}/jsz`);
    const meta = jsz.body?.meta_cluster as { leader?: string } | undefined;
    return typeof meta?.leader === 'string' && meta.leader.length > 0;
  } catch {
    return false;
  }
}

/**
 * Starts `size` servers (1: a single server without a cluster; 3: a JetStream cluster) and waits
 * until they are ready.
 */
export async function startNatsCluster(size: 1 | 3, opts: { clusterName?: string } = {}): Promise<NatsCluster> {
  stopAllNatsOnExit();
  const root = await mkdtemp(join(tmpdir(), 'firewatch-nats-'));
  const clustered = size > 1;
  const clusterName = clustered ? (opts.clusterName ?? 'firewatch-test') : undefined;
  const nodes: NatsNode[] = [];
  for (let i = 0; i < size; i++) {
    const clientPort = await freePort();
    nodes.push({
      name: `n${i}`,
      clientPort,
      routePort: await freePort(),
      monitorPort: await freePort(),
      storeDir: join(root, `n${i}`),
      url: `nats://127.0.0.1:${clientPort}`,
    });
  }

  const output = new Map<string, string[]>();
  const launch = (node: NatsNode): void => {
    const proc = spawn(NATS_SERVER_BIN, natsServerArgs(node, nodes, clusterName), { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = output.get(node.name) ?? [];
    output.set(node.name, lines);
    const keep = (chunk: Buffer) => {
      lines.push(chunk.toString());
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('exit', () => running.delete(proc));
    proc.once('error', (err) => lines.push(`spawn failed: ${err.message}`));
    running.add(proc);
    node.proc = proc;
  };

  const alive = (n: NatsNode) => n.proc !== undefined && n.proc.exitCode === null && n.proc.signalCode === null;

  const ready = async (timeoutMs = 20_000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const live = nodes.filter(alive);
      const states = await Promise.all(live.map((n) => nodeReady(n, clustered)));
      if (live.length > 0 && states.every(Boolean)) return;
      if (Date.now() > until) {
        const tails = nodes.map((n) => `${n.name}: ${(output.get(n.name) ?? []).join('').split('\n').slice(-8).join('\n')}`).join('\n');
        throw new Error(`nats-server not ready within ${timeoutMs} ms\n${tails}`);
      }
      await sleep(100);
    }
  };

  const kill = async (i: number): Promise<void> => {
    const node = nodes[i]!;
    const proc = node.proc;
    if (!proc || !alive(node)) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGKILL');
    await exited;
  };

  for (const n of nodes) launch(n);
  try {
    await ready();
  } catch (err) {
    for (let i = 0; i < nodes.length; i++) await kill(i);
    await rm(root, { recursive: true, force: true });
    throw err;
  }

  return {
    nodes,
    servers: nodes.map((n) => n.url),
    ready,
    kill,
    restart: async (i: number) => {
      await kill(i);
      launch(nodes[i]!);
      await ready();
    },
    stop: async () => {
      for (let i = 0; i < nodes.length; i++) await kill(i);
      await rm(root, { recursive: true, force: true });
    },
  };
}
