/** `firewatch bench`: measure throughput, alert latency, connections and memory (see bench/REPORT.md). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBench, spanText, type BenchOptions, type BenchResult } from './bench.js';

export const summary = 'benchmark: throughput, alert latency, connections, memory, with aedes and Mosquitto baselines';

export function help(): string {
  return `Usage: firewatch bench [options]

Starts everything itself on free loopback ports (nothing else needs to run): a bare aedes broker
and a private Mosquitto as baselines, then Firewatch as a child process with SQLite and with a
private InfluxDB 1.x (Debian's /usr/bin/influxd) and with its state in PostgreSQL (a database of
its own on the server --postgres names, dropped after; skipped when none answers), and drives them
with the same load generator.
Writes a JSON result and prints a table. Takes several minutes; do not run it beside other load.

Options:
  --quick             a smoke run (~20 s): small load, no Mosquitto, InfluxDB or profile
  --clients <n>       load devices (mqtt.js clients) for throughput [100]
  --measure <s>       seconds measured per throughput phase [10]
  --warmup <s>        seconds before measuring [2]
  --latency-rate <n,…> background readings/s for each alert-latency measurement [5000,10000]
  --probes <n>        alert-latency probes [200]
  --connections <n>   light devices connected at once, each publishing every 30 s [19800]
  --hold <s>          seconds to hold them [60]
  --no-influx         skip InfluxDB     --no-mosquitto   skip Mosquitto     --no-profile   skip --cpu-prof
  --postgres <url>    PostgreSQL server for the DATABASE_URL run [postgres://postgres@127.0.0.1:5432/postgres]
  --no-postgres       skip PostgreSQL
  --out <dir>         where to write bench-<time>.json and latest.json [bench/results]
  -h, --help
`;
}

function table(r: BenchResult): string {
  const rows: string[] = ['| target | QoS | handled/s | acked/s | target CPU (cores) | load gen CPU |', '|---|---|---|---|---|---|'];
  for (const t of [...r.baselines, ...r.sqlite.throughput, ...(r.influx?.throughput ?? []), ...(r.postgres?.throughput ?? [])]) {
    rows.push(`| ${t.target} | ${t.qos} | ${t.perS} | ${t.ackedPerS} | ${t.targetCpuCores} | ${t.loadgenCpuCores} |`);
  }
  const l = r.sqlite.latency ?? [];
  const c = r.connections;
  return [
    ...rows,
    '',
    `ratios (QoS 1 stored / bare relay): ${JSON.stringify(r.ratios)}`,
    ...l.flatMap((x) => [
      `alert latency at ${x.backgroundPerS}/s: p50 ${x.p50Ms} ms, p99 ${x.p99Ms} ms, max ${x.maxMs} ms (${x.received}/${x.probes})`,
      x.spans ? `  alert clocks at ${x.backgroundPerS}/s (p50/p99 ms): ${spanText(x.spans)}` : '',
    ]),
    `SQLite: accepted ${r.sqlite.acceptedTotal}, rows ${r.sqlite.storedRows}, peak RSS ${r.sqlite.peakRssMiB} MiB`,
    r.influx?.influx ? `InfluxDB: ${JSON.stringify(r.influx.influx)}` : '',
    r.postgres ? `PostgreSQL: accepted ${r.postgres.acceptedTotal}, rows ${r.postgres.storedRows}, peak RSS ${r.postgres.peakRssMiB} MiB` : '',
    ...(r.postgres?.latency ?? []).map((x) => `PostgreSQL alert latency at ${x.backgroundPerS}/s: p50 ${x.p50Ms} ms, p99 ${x.p99Ms} ms, max ${x.maxMs} ms (${x.received}/${x.probes})`),
    c ? `connections: ${c.connected}/${c.requested} held (service counts ${c.serviceConnections}), RSS ${c.rssMiB} MiB, peak ${c.vmHwmMiB} MiB, CPU ${c.cpuCoresHeld} cores` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export async function run(argv: string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        clients: { type: 'string' },
        measure: { type: 'string' },
        warmup: { type: 'string' },
        'latency-rate': { type: 'string' },
        probes: { type: 'string' },
        connections: { type: 'string' },
        hold: { type: 'string' },
        'no-influx': { type: 'boolean', default: false },
        'no-mosquitto': { type: 'boolean', default: false },
        'no-profile': { type: 'boolean', default: false },
        postgres: { type: 'string' },
        'no-postgres': { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`firewatch bench: ${(err as Error).message}\n\n${help()}`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(help());
    return 0;
  }
  const q = v.quick;
  const n = (s: string | undefined, def: number) => (s === undefined ? def : Number(s));
  const o: BenchOptions = {
    quick: q,
    clients: n(v.clients, q ? 20 : 100),
    measureS: n(v.measure, q ? 1 : 10),
    warmupS: n(v.warmup, q ? 0.5 : 2),
    latencyRates: (v['latency-rate'] ?? (q ? '500' : '5000,10000')).split(',').map(Number),
    probes: n(v.probes, q ? 10 : 200),
    connections: n(v.connections, q ? 200 : 19_800),
    holdS: n(v.hold, q ? 1 : 60),
    influx: !v['no-influx'] && !q,
    postgres: v['no-postgres'] || q ? undefined : (v.postgres ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
    mosquitto: !v['no-mosquitto'] && !q,
    profile: !v['no-profile'] && !q,
    log: (line) => process.stdout.write(`${line}\n`),
  };
  const result = await runBench(o);
  const dir = v.out ?? join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(result, null, 2);
  const file = join(dir, `bench-${result.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, json);
  writeFileSync(join(dir, 'latest.json'), json);
  process.stdout.write(`\n${table(result)}\n\nwritten: ${file}\n`);
  return 0;
}
