/**
 * `firewatch bench`: the project's yardstick. Every figure is measured in one run, with the
 * baselines (bare aedes, Mosquitto) under the same load generator, so ratios stay meaningful on a
 * shared machine.
 *
 *   1. baselines      aedes (no hooks, relaying to nobody) and Mosquitto: QoS 1 and QoS 0 rates
 *   2. SQLite         Firewatch child process: QoS 1 / QoS 0 accepted rate, stored rows, CPU,
 *                     memory; alert latency publish → alert.raised at a paced background load
 *   3. InfluxDB v1    the same load through the outbox into a private influxd; batch figures,
 *                     drain rate and time
 *   3b. PostgreSQL    DATABASE_URL on a database of its own on the machine's server (made and
 *                     dropped): the same figures as SQLite
 *   4. connections    N light devices each publishing every 30 s; memory held
 *   5. profile        a short QoS 1 run of the SQLite service under --cpu-prof; top functions
 */
import { cpus, freemem, totalmem, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startInfluxd, influxQuery } from './influxd.js';
import { connectMany, endAll, FloodLoad, PacedLoad, RawFleet, type Creds } from './load.js';
import { cpuCores, ProcWatcher, sampleProc } from './proc.js';
import { summariseProfile, type ProfileSummary } from './profile.js';
import { SPAN_NAMES, spanSeconds, type AlertClocks, type SpanName } from '../services/alerts/alarm-clocks.js';
import {
  BENCH_TOKEN,
  DEVICE_PASSWORD,
  benchDatabase,
  metricValue,
  pgCount,
  seedRegistry,
  seedRegistryPg,
  startBareAedes,
  startFirewatch,
  startMosquitto,
  type FirewatchTarget,
  type Target,
} from './targets.js';

export interface BenchOptions {
  quick: boolean;
  clients: number;
  measureS: number;
  warmupS: number;
  /** background readings/s for each alert-latency measurement */
  latencyRates: number[];
  probes: number;
  connections: number;
  holdS: number;
  influx: boolean;
  /** PostgreSQL server for the DATABASE_URL run (a database of its own is made and dropped); undefined: skip */
  postgres: string | undefined;
  mosquitto: boolean;
  profile: boolean;
  log(line: string): void;
}

export interface Throughput {
  target: string;
  qos: 0 | 1;
  /** messages the broker handled (baselines) or Firewatch accepted, per second */
  perS: number;
  /** publishes acknowledged to the load generator per second (QoS 1: PUBACKs) */
  ackedPerS: number;
  targetCpuCores: number;
  loadgenCpuCores: number;
  /** InfluxDB: points written to InfluxDB per second during the window */
  sinkPerS?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (n: number) => Math.round(n * 10) / 10;

async function measure(target: Target, load: FloodLoad, qos: 0 | 1, o: BenchOptions): Promise<Throughput> {
  load.start();
  await sleep(o.warmupS * 1000);
  const sinkPoints = async () => ('metrics' in target && target.name.includes('Influx') ? metricValue(await (target as FirewatchTarget).metrics(), 'firewatch_sink_batch_size_sum', 'influx') : undefined);
  const sink0 = await sinkPoints();
  const c0 = await target.count();
  const t0 = Date.now();
  const a0 = load.acked;
  const p0 = sampleProc(target.pid);
  const u0 = process.cpuUsage();
  await sleep(o.measureS * 1000);
  const c1 = await target.count();
  const t1 = Date.now();
  const sink1 = await sinkPoints();
  const a1 = load.acked;
  const p1 = sampleProc(target.pid);
  const u1 = process.cpuUsage(u0);
  await load.stop();
  const s = (t1 - t0) / 1000;
  const res: Throughput = {
    target: target.name,
    qos,
    perS: Math.round((c1 - c0) / s),
    ackedPerS: Math.round((a1 - a0) / s),
    targetCpuCores: p0 && p1 ? Math.round(cpuCores(p0, p1) * 100) / 100 : 0,
    ...(sink0 !== undefined && sink1 !== undefined ? { sinkPerS: Math.round((sink1 - sink0) / ((t1 - t0) / 1000)) } : {}),
    loadgenCpuCores: Math.round(((u1.user + u1.system) / 1e6 / s) * 100) / 100,
  };
  o.log(
    `  ${res.target} QoS ${qos}: ${res.perS}/s handled, ${res.ackedPerS}/s acknowledged (target CPU ${res.targetCpuCores} cores, load generator ${res.loadgenCpuCores})` +
      (res.sinkPerS !== undefined ? `, ${res.sinkPerS}/s written to InfluxDB` : ''),
  );
  return res;
}

async function throughputs(target: Target, creds: (Creds | undefined)[], ids: string[], o: BenchOptions): Promise<Throughput[]> {
  const url = `mqtt://127.0.0.1:${target.mqttPort}`;
  const out: Throughput[] = [];
  for (const qos of [1, 0] as const) {
    const clients = await connectMany(url, creds, `load-q${qos}`);
    // flow control for QoS 0 only where the count is live (Firewatch's /metrics); the baselines keep up
    const handled = 'metrics' in target ? () => target.count() : undefined;
    out.push(await measure(target, new FloodLoad(clients, ids.map((id) => `fire/v1/${id}/telemetry`), qos, 16, handled), qos, o));
    await endAll(clients);
    await settle(target);
  }
  return out;
}

/** wait until the target's count stops moving (a QoS 0 queue drained) */
async function settle(target: Target): Promise<void> {
  let last = await target.count();
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    await sleep(1000);
    const now = await target.count();
    if (now === last) return;
    last = now;
  }
}

const loadIds = (n: number) => Array.from({ length: n }, (_, i) => `load-${String(i).padStart(4, '0')}`);
const probeIds = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `probe-${String(from + i).padStart(4, '0')}`);
const deviceCreds = (ids: string[]): Creds[] => ids.map((id) => ({ username: id, password: DEVICE_PASSWORD }));

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export interface LatencyResult {
  backgroundPerS: number;
  probes: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** the service's event-loop lag over the run (prom-client's monitorEventLoopDelay) */
  loopP99Ms: number;
  loopMaxMs: number;
  /**
   * issue #15 item 4: the probe alerts' clocks, per span (services/alerts/alarm-clocks.ts), read back
   * from the API after the round; the bench reports `shown` as a console does when the alert.raised
   * event reaches it. No uplink and no acknowledgement here: the spans after the display are absent.
   */
  spans?: Partial<Record<SpanName, { n: number; p50Ms: number; p99Ms: number }>>;
}

/** 'received_to_durable 1.2/3.4, …': each span's p50/p99 in ms */
export function spanText(spans: LatencyResult['spans']): string {
  return Object.entries(spans ?? {})
    .map(([span, s]) => `${span} ${s.p50Ms}/${s.p99Ms}`)
    .join(', ');
}

/** p50 and p99 of each span over the probe alerts' clocks */
function clockSpans(clocks: AlertClocks[]): LatencyResult['spans'] {
  const out: NonNullable<LatencyResult['spans']> = {};
  for (const span of SPAN_NAMES) {
    const ms = clocks.map((c) => spanSeconds(c, span)).filter((s): s is number => s !== undefined).map((s) => s * 1000);
    if (ms.length > 0) out[span] = { n: ms.length, p50Ms: r1(percentile(ms, 50)), p99Ms: r1(percentile(ms, 99)) };
  }
  return out;
}

/** one probe device's alert clocks, from the API */
async function probeClocks(fw: FirewatchTarget, deviceId: string): Promise<AlertClocks | undefined> {
  const res = await fetch(`${fw.httpUrl}/api/v1/alerts?deviceId=${encodeURIComponent(deviceId)}&limit=1`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { items?: Array<{ clocks?: AlertClocks | null }> };
  return body.items?.[0]?.clocks ?? undefined;
}

/** publish → alert.raised on the live feed, one probe device at a time, over a paced background load */
async function alertLatency(fw: FirewatchTarget, o: BenchOptions, rate: number, round: number): Promise<LatencyResult> {
  const ids = loadIds(o.clients);
  const clients = await connectMany(`mqtt://127.0.0.1:${fw.mqttPort}`, deviceCreds(ids), 'bg');
  // a fresh set of probe devices per round: a probe still breaching from the round before would
  // update its open alert, not raise a new one
  const probes = probeIds(o.probes, o.probes * (round - 1));
  const probeClients = await connectMany(`mqtt://127.0.0.1:${fw.mqttPort}`, deviceCreds(probes), 'probe');
  const waiting = new Map<string, (at: number) => void>();
  const ws = new WebSocket(`${fw.httpUrl.replace(/^http/, 'ws')}/api/v1/live?token=${BENCH_TOKEN}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data: WebSocket.RawData) => {
      const now = performance.now();
      const msg = JSON.parse(data.toString()) as { type: string; data?: { alert?: { id?: string; deviceId?: string } } };
      if (msg.type === 'hello') resolve();
      const id = msg.data?.alert?.deviceId;
      if (msg.type === 'alert.raised' && id) {
        waiting.get(id)?.(now);
        // displayed, as a duty console reports it (its firstShownAt: the raised → shown span)
        const alertId = msg.data?.alert?.id;
        if (alertId && waiting.has(id)) {
          void fetch(`${fw.httpUrl}/api/v1/alerts/${encodeURIComponent(alertId)}/shown`, {
            method: 'POST',
            headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' },
            body: '{}',
          }).catch(() => undefined);
        }
      }
    });
  });
  const bg = new PacedLoad(clients, ids.map((id) => `fire/v1/${id}/telemetry`), rate);
  bg.start();
  await sleep(2000);
  await fw.metrics(); // prom-client resets its event-loop lag histogram on each scrape: measure the probes' window
  const a0 = bg.acked;
  const t0 = Date.now();
  const lat: number[] = [];
  for (let i = 0; i < probes.length; i++) {
    const id = probes[i]!;
    const got = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 5000);
      waiting.set(id, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
    const start = performance.now();
    probeClients[i]!.publish(`fire/v1/${id}/telemetry`, JSON.stringify({ ts: Date.now(), seq: round, residualCurrentMa: 150, temperaturesC: [96.5, 41] }), { qos: 1 });
    const at = await got;
    if (at !== undefined) lat.push(at - start);
    await sleep(40);
  }
  const backgroundPerS = Math.round((bg.acked - a0) / ((Date.now() - t0) / 1000));
  const m = await fw.metrics();
  const loopP99Ms = r1(metricValue(m, 'firewatch_nodejs_eventloop_lag_p99_seconds') * 1000);
  const loopMaxMs = r1(metricValue(m, 'firewatch_nodejs_eventloop_lag_max_seconds') * 1000);
  bg.stop();
  ws.close();
  await endAll([...clients, ...probeClients]);
  const clocks: AlertClocks[] = [];
  for (const id of probes) {
    const c = await probeClocks(fw, id);
    if (c) clocks.push(c);
  }
  const spans = clockSpans(clocks);
  const res = { backgroundPerS, probes: probes.length, received: lat.length, p50Ms: r1(percentile(lat, 50)), p99Ms: r1(percentile(lat, 99)), maxMs: r1(Math.max(...lat)), loopP99Ms, loopMaxMs, spans };
  o.log(
    `  alert latency at ${backgroundPerS} readings/s: p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms, max ${res.maxMs} ms (${res.received}/${res.probes} probes); service event-loop lag p99 ${loopP99Ms} ms, max ${loopMaxMs} ms`,
  );
  o.log(`  alert clocks (p50/p99 ms): ${spanText(spans)}`);
  return res;
}

async function processorsLag(fw: FirewatchTarget): Promise<number> {
  const res = await fetch(`${fw.httpUrl}/readyz`);
  const body = (await res.json()) as { checks?: { processors?: { lag?: number } } };
  return body.checks?.processors?.lag ?? 0;
}

async function processorsCatchUp(fw: FirewatchTarget): Promise<{ lagAfterLoad: number; catchUpS: number }> {
  const t0 = Date.now();
  const lagAfterLoad = await processorsLag(fw);
  let lag = lagAfterLoad;
  while (lag > 0 && Date.now() - t0 < 600_000) {
    await sleep(200);
    lag = await processorsLag(fw);
  }
  return { lagAfterLoad, catchUpS: r1((Date.now() - t0) / 1000) };
}

export interface ServiceFigures {
  throughput: Throughput[];
  acceptedTotal: number;
  storedRows?: number;
  peakRssMiB: number;
  vmHwmMiB: number;
  /** one per background rate, each measured once the processors had caught up */
  latency?: LatencyResult[];
  processors?: { lagAfterLoad: number; catchUpS: number };
  influx?: { batches: number; points: number; meanBatch: number; drainS: number; pointsInInflux: number; dropped: number };
}

export interface ConnectionFigures {
  requested: number;
  connected: number;
  refused: number;
  errors: number;
  serviceConnections: number;
  connectS: number;
  publishedPerS: number;
  rssMiB: number;
  vmHwmMiB: number;
  cpuCoresHeld: number;
  perConnectionKiB: number;
  baselineRssMiB: number;
}

export interface BenchResult {
  startedAt: string;
  machine: { nproc: number; cpu: string; memGiB: number; freeGiB: number; node: string; loadavg: number[] };
  options: Omit<BenchOptions, 'log'>;
  baselines: Throughput[];
  sqlite: ServiceFigures;
  influx?: ServiceFigures;
  /** DATABASE_URL: the state and the readings in PostgreSQL (issue #10) */
  postgres?: ServiceFigures;
  connections?: ConnectionFigures;
  profile?: ProfileSummary;
  ratios: Record<string, number>;
  durationS: number;
}

async function firewatchRun(kind: 'sqlite' | 'influx' | 'postgres', o: BenchOptions, tmp: string, pgUrl?: string): Promise<ServiceFigures> {
  const dataDir = join(tmp, `fw-${kind}`);
  const ids = loadIds(o.clients);
  const devices = [
    ...ids.map((id) => ({ id, kind: 'water_pressure', point: 'hydrant_top' })),
    ...probeIds(o.probes * o.latencyRates.length).map((id) => ({ id, kind: 'electrical_fire', point: null })),
  ];
  if (pgUrl) await seedRegistryPg(pgUrl, devices);
  else seedRegistry(dataDir, devices);
  const influxd = kind === 'influx' ? await startInfluxd() : undefined;
  if (influxd) await fetch(`${influxd.url}/query?q=${encodeURIComponent('CREATE DATABASE firewatch')}`, { method: 'POST' });
  const fw = await startFirewatch({ dataDir, ...(influxd ? { influx: { url: influxd.url, db: 'firewatch' } } : {}), ...(pgUrl ? { postgres: pgUrl } : {}) });
  const watch = new ProcWatcher(fw.pid);
  try {
    o.log(`${fw.name} (pid ${fw.pid})`);
    const throughput = await throughputs(fw, deviceCreds(ids), ids, o);
    const fig: ServiceFigures = { throughput, acceptedTotal: 0, peakRssMiB: 0, vmHwmMiB: 0 };
    // the floods accept faster than rules → alerts can follow: how far behind, and how long to catch up
    fig.processors = await processorsCatchUp(fw);
    o.log(`  processors: ${fig.processors.lagAfterLoad} readings behind after the floods, caught up in ${fig.processors.catchUpS} s`);
    if (kind === 'sqlite' || kind === 'postgres') {
      fig.latency = [];
      for (const [i, rate] of o.latencyRates.entries()) fig.latency.push(await alertLatency(fw, o, rate, i + 1));
      await sleep(1500);
      fig.acceptedTotal = await fw.count();
      fig.storedRows = pgUrl ? await pgCount(pgUrl) : fw.storedRows();
      o.log(`  accepted ${fig.acceptedTotal}, rows in ${pgUrl ? 'PostgreSQL' : 'SQLite'} ${fig.storedRows}`);
    } else {
      fig.acceptedTotal = await fw.count();
      // wait for the outbox to drain into InfluxDB
      const t0 = Date.now();
      let backlog = Infinity;
      while (backlog > 0 && Date.now() - t0 < 300_000) {
        backlog = metricValue(await fw.metrics(), 'firewatch_sink_backlog');
        if (backlog > 0) await sleep(500);
      }
      const drainS = (Date.now() - t0) / 1000;
      const m = await fw.metrics();
      const batches = metricValue(m, 'firewatch_sink_batch_size_count');
      const points = metricValue(m, 'firewatch_sink_batch_size_sum');
      const q = (await influxQuery(influxd!.url, 'firewatch', 'SELECT count(pressure_mpa) FROM water_pressure')) as { results?: { series?: { values?: [string, number][] }[] }[] };
      const pointsInInflux = q.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0;
      fig.influx = {
        batches,
        points,
        meanBatch: batches ? Math.round(points / batches) : 0,
        drainS: r1(drainS),
        pointsInInflux,
        dropped: metricValue(m, 'firewatch_sink_dropped_total'),
      };
      o.log(`  InfluxDB: ${batches} batches, ${points} points (mean ${fig.influx.meanBatch}/batch), backlog drained ${r1(drainS)} s after the load; ${pointsInInflux} points in InfluxDB`);
    }
    watch.sample();
    fig.peakRssMiB = Math.round(watch.peakRssMiB);
    fig.vmHwmMiB = Math.round(watch.last?.hwmMiB ?? 0);
    return fig;
  } finally {
    watch.stop();
    await fw.stop();
    await influxd?.stop();
  }
}

async function connectionRun(o: BenchOptions, tmp: string): Promise<ConnectionFigures> {
  const dataDir = join(tmp, 'fw-conn');
  const ids = Array.from({ length: o.connections }, (_, i) => `conn-${String(i).padStart(5, '0')}`);
  seedRegistry(dataDir, ids.map((id) => ({ id, kind: 'water_pressure', point: 'hydrant_top' })));
  const fw = await startFirewatch({ dataDir });
  const watch = new ProcWatcher(fw.pid, 500);
  const fleet = new RawFleet(fw.mqttPort, ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']);
  try {
    await sleep(1000);
    const baselineRssMiB = Math.round(watch.sample()?.rssMiB ?? 0);
    o.log(`connections: ${o.connections} devices (each every 30 s) to ${fw.name}, service RSS before ${baselineRssMiB} MiB`);
    const t0 = Date.now();
    await fleet.connect(ids, DEVICE_PASSWORD, 30);
    const connectS = (Date.now() - t0) / 1000;
    o.log(`  ${fleet.stats.connected} connected in ${r1(connectS)} s (${fleet.stats.refused} refused, ${fleet.stats.errors} errors); holding ${o.holdS} s`);
    const p0 = watch.sample();
    const pub0 = fleet.stats.published;
    await sleep(o.holdS * 1000);
    const p1 = watch.sample();
    const serviceConnections = metricValue(await fw.metrics(), 'firewatch_mqtt_connections');
    const fig: ConnectionFigures = {
      requested: o.connections,
      connected: fleet.stats.connected,
      refused: fleet.stats.refused,
      errors: fleet.stats.errors,
      serviceConnections,
      connectS: r1(connectS),
      publishedPerS: Math.round((fleet.stats.published - pub0) / o.holdS),
      rssMiB: Math.round(p1?.rssMiB ?? 0),
      vmHwmMiB: Math.round(p1?.hwmMiB ?? 0),
      cpuCoresHeld: p0 && p1 ? Math.round(cpuCores(p0, p1) * 100) / 100 : 0,
      perConnectionKiB: 0,
      baselineRssMiB,
    };
    fig.perConnectionKiB = fig.connected ? Math.round(((fig.rssMiB - baselineRssMiB) * 1024) / fig.connected) : 0;
    o.log(`  service: ${serviceConnections} connections, RSS ${fig.rssMiB} MiB (peak ${fig.vmHwmMiB} MiB, ~${fig.perConnectionKiB} KiB per connection), CPU ${fig.cpuCoresHeld} cores at ${fig.publishedPerS} msg/s`);
    return fig;
  } finally {
    fleet.close();
    watch.stop();
    await fw.stop();
  }
}

async function profileRun(o: BenchOptions, tmp: string): Promise<ProfileSummary> {
  const dataDir = join(tmp, 'fw-prof');
  const profDir = join(tmp, 'cpuprof');
  const ids = loadIds(o.clients);
  seedRegistry(dataDir, ids.map((id) => ({ id, kind: 'water_pressure', point: 'hydrant_top' })));
  const fw = await startFirewatch({ dataDir, cpuProfDir: profDir });
  try {
    o.log(`profile: ${fw.name} under --cpu-prof, QoS 1 flood`);
    const clients = await connectMany(`mqtt://127.0.0.1:${fw.mqttPort}`, deviceCreds(ids), 'prof');
    await measure(fw, new FloodLoad(clients, ids.map((id) => `fire/v1/${id}/telemetry`), 1), 1, o);
    await endAll(clients);
  } finally {
    await fw.stop();
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  return summariseProfile(join(profDir, file));
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'firewatch-bench-'));
  const result: Partial<BenchResult> = {
    startedAt: new Date(started).toISOString(),
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memGiB: r1(totalmem() / 2 ** 30),
      freeGiB: r1(freemem() / 2 ** 30),
      node: process.version,
      loadavg: loadavg().map(r1),
    },
    options: Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'log')) as BenchResult['options'],
  };
  try {
    const none = Array.from({ length: o.clients }, () => undefined);
    const ids = loadIds(o.clients);
    result.baselines = [];
    const aedes = await startBareAedes();
    o.log(`${aedes.name} (pid ${aedes.pid})`);
    try {
      result.baselines.push(...(await throughputs(aedes, none, ids, o)));
    } finally {
      await aedes.stop();
    }
    if (o.mosquitto) {
      const mosq = await startMosquitto(tmp);
      o.log(`${mosq.name} (pid ${mosq.pid})`);
      try {
        result.baselines.push(...(await throughputs(mosq, none, ids, o)));
      } finally {
        await mosq.stop();
      }
    }
    result.sqlite = await firewatchRun('sqlite', o, tmp);
    if (o.influx) result.influx = await firewatchRun('influx', o, tmp);
    if (o.postgres) {
      const db = await benchDatabase(o.postgres);
      if (!db) o.log(`PostgreSQL: nothing answers at ${o.postgres.replace(/\/\/[^@]*@/, '//…@')}; skipped (--postgres <url>, or --no-postgres)`);
      else {
        try {
          result.postgres = await firewatchRun('postgres', o, tmp, db.url);
        } finally {
          await db.drop();
        }
      }
    }
    if (o.connections > 0) result.connections = await connectionRun(o, tmp);
    if (o.profile) result.profile = await profileRun(o, tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const rate = (list: Throughput[] | undefined, qos: 0 | 1) => list?.find((t) => t.qos === qos)?.perS ?? 0;
  const aedesQ1 = result.baselines?.find((t) => t.target.startsWith('aedes') && t.qos === 1)?.perS ?? 0;
  const mosqQ1 = result.baselines?.find((t) => t.target === 'mosquitto' && t.qos === 1)?.perS ?? 0;
  const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : 0);
  result.ratios = {
    sqliteQos1VsAedes: ratio(rate(result.sqlite?.throughput, 1), aedesQ1),
    sqliteQos1VsMosquitto: ratio(rate(result.sqlite?.throughput, 1), mosqQ1),
    influxQos1VsAedes: ratio(rate(result.influx?.throughput, 1), aedesQ1),
    influxQos1VsMosquitto: ratio(rate(result.influx?.throughput, 1), mosqQ1),
    postgresQos1VsAedes: ratio(rate(result.postgres?.throughput, 1), aedesQ1),
    postgresQos1VsSqlite: ratio(rate(result.postgres?.throughput, 1), rate(result.sqlite?.throughput, 1)),
  };
  result.durationS = Math.round((Date.now() - started) / 1000);
  return result as BenchResult;
}
