/**
 * The Grafana dashboards and deployment files parse and refer to what exists: files on disk,
 * datasource uids, the InfluxDB measurements, fields and tags that influx-mapping.ts writes, the
 * Prometheus metrics that metrics.ts registers, and the thresholds of rules/defaults.ts.
 * (No Docker engine in CI: the compose file is checked statically, never run.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { Metrics } from '../../services/metrics/metrics.js';
import {
  ANY_POINT_MAX_MPA,
  CABLE_TEMPERATURE_C,
  HYDRANT_OUTLET_MAX_MPA,
  HYDRANT_OUTLET_MIN_MPA,
  HYDRANT_TOP_MPA,
  SPRINKLER_MAX_MPA,
  SPRINKLER_STANDBY_MPA,
  RESIDUAL_CURRENT_MA,
  SPRINKLER_END_MPA,
} from '../../services/rules/defaults.js';
import { EVENT_MEASUREMENT, KIND_MEASUREMENTS, readingFields, TAG_KEYS } from '../../services/storage/influx/influx-mapping.js';
import type { Reading } from '../../services/telemetry/telemetry.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const GRAFANA_DIR = 'dashboards/grafana';
const dashboardFiles = readdirSync(join(ROOT, GRAFANA_DIR)).filter((f) => f.endsWith('.json'));
const dashboards = dashboardFiles.map((f) => ({ file: f, json: JSON.parse(read(`${GRAFANA_DIR}/${f}`)) as any }));
const yamlFiles = [
  'docker-compose.yml',
  'deploy/prometheus/prometheus.yml',
  ...readdirSync(join(ROOT, 'deploy/grafana/provisioning/datasources')).map((f) => `deploy/grafana/provisioning/datasources/${f}`),
  ...readdirSync(join(ROOT, 'deploy/grafana/provisioning/dashboards')).map((f) => `deploy/grafana/provisioning/dashboards/${f}`),
];
// merge keys (<<) as docker compose applies them
const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as any;

/** Every target of every panel. */
const targets = (d: any): any[] => (d.panels as any[]).flatMap((p) => (p.targets ?? []).map((t: any) => ({ ...t, panel: p })));

/** Field names the InfluxDB mapping writes, per measurement, from one reading of each kind. */
function writtenFields(): Map<string, Set<string>> {
  const sample: Record<string, Reading['fields']> = {
    water_pressure: { pressureMpa: 0.3 },
    water_level: { levelM: 3 },
    electrical_fire: { residualCurrentMa: 10, temperaturesC: [20, 21, 22, 23] },
    fire_lane: { occupied: true },
  };
  const out = new Map<string, Set<string>>();
  for (const [kind, fields] of Object.entries(sample)) {
    const r = { deviceId: 'd', kind, channel: 'telemetry', ts: 1, seq: 1, fields } as Reading;
    out.set(KIND_MEASUREMENTS[kind as keyof typeof KIND_MEASUREMENTS], new Set(readingFields(r).map(([k]) => k)));
  }
  const event = { deviceId: 'd', kind: 'water_pressure', channel: 'event', ts: 1, fields: { alarm: true, fault: false, code: 'x', message: 'y' } } as Reading;
  out.set(EVENT_MEASUREMENT, new Set(readingFields(event).map(([k]) => k)));
  return out;
}

describe('files parse', () => {
  it.each(dashboardFiles)('%s is a Grafana dashboard', (f) => {
    const d = dashboards.find((x) => x.file === f)!.json;
    expect(d.uid).toMatch(/^firewatch-/);
    expect(d.title).toBeTruthy();
    expect(d.panels.length).toBeGreaterThan(0);
    expect(d.timezone).toBe('Asia/Shanghai');
  });

  it.each(yamlFiles)('%s is YAML', (f) => {
    expect(parseYaml(read(f))).toBeTypeOf('object');
  });

  it('there are dashboards for pressure, electrical fire, fire lanes and ingest health', () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual(['firewatch-electrical', 'firewatch-fire-lane', 'firewatch-ingest', 'firewatch-pressure']);
  });
});

describe('docker-compose.yml', () => {
  it('runs Firewatch (built from the root Dockerfile) with InfluxDB 2.7 and Grafana', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['firewatch', 'influxdb', 'grafana', 'prometheus']));
    const fw = compose.services.firewatch;
    expect(existsSync(join(ROOT, fw.build.context, fw.build.dockerfile))).toBe(true);
    expect(compose.services.influxdb.image).toBe('influxdb:2.7');
    const influxEnv = compose.services.influxdb.environment;
    for (const k of ['DOCKER_INFLUXDB_INIT_MODE', 'DOCKER_INFLUXDB_INIT_ORG', 'DOCKER_INFLUXDB_INIT_BUCKET', 'DOCKER_INFLUXDB_INIT_ADMIN_TOKEN']) expect(influxEnv[k], k).toBeTruthy();
    // Firewatch writes to that InfluxDB with the same org, bucket and token
    expect(fw.environment).toMatchObject({ INFLUX_URL: 'http://influxdb:8086', INFLUX_API: 'v2' });
    expect(fw.environment.INFLUX_TOKEN).toBe(influxEnv.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    expect(fw.environment.INFLUX_ORG).toBe(influxEnv.DOCKER_INFLUXDB_INIT_ORG);
    expect(fw.environment.INFLUX_BUCKET).toBe(influxEnv.DOCKER_INFLUXDB_INIT_BUCKET);
  });

  it('every bind-mounted file or folder exists', () => {
    const binds = Object.values(compose.services as Record<string, any>).flatMap((s) => (s.volumes ?? []) as string[]).filter((v) => v.startsWith('./'));
    expect(binds.length).toBeGreaterThanOrEqual(3);
    for (const v of binds) expect(existsSync(join(ROOT, v.split(':')[0]!)), v).toBe(true);
  });

  it('the Dockerfile builds on node:22-bookworm-slim (a maintained LTS; Node 20 reached end of life in April 2026) with npm ci, npm run build and runs dist/bin/firewatch.js serve', () => {
    const df = read('Dockerfile');
    expect(df).toMatch(/^FROM node:22-bookworm-slim/m);
    expect(df).toMatch(/npm ci/);
    expect(df).toMatch(/npm run build/);
    expect(df).toMatch(/^CMD \["node", (?:"--[a-z-]+=[^"]+", )*"dist\/bin\/firewatch.js", "serve"\]$/m);
    expect((JSON.parse(read('package.json')) as any).bin.firewatch).toBe('dist/bin/firewatch.js');
  });

  it('Prometheus scrapes the firewatch service on its HTTP port', () => {
    const prom = parseYaml(read('deploy/prometheus/prometheus.yml')) as any;
    const target = prom.scrape_configs[0].static_configs[0].targets[0] as string;
    const [host, port] = target.split(':');
    expect(compose.services[host!]).toBeDefined();
    expect(compose.services.firewatch.environment.HTTP_PORT).toBe(port);
    expect(compose.services.firewatch.ports).toContain(`${port}:${port}`);
  });
});

describe('Grafana provisioning', () => {
  const grafana = compose.services.grafana;
  /** container path → repository path, through grafana's bind mounts */
  const onHost = (containerPath: string): string | undefined => {
    for (const v of grafana.volumes as string[]) {
      const [src, dst] = v.split(':') as [string, string];
      if (!src.startsWith('./')) continue;
      if (containerPath === dst || containerPath.startsWith(`${dst}/`)) return posix.join(src, containerPath.slice(dst.length));
    }
    return undefined;
  };

  it('provisioning is mounted from deploy/grafana/provisioning', () => {
    expect(onHost('/etc/grafana/provisioning/datasources')).toBe('deploy/grafana/provisioning/datasources');
  });

  it('the dashboard provider points at the folder with the dashboards', () => {
    const providers = yamlFiles.filter((f) => f.includes('/provisioning/dashboards/')).flatMap((f) => (parseYaml(read(f)) as any).providers);
    expect(providers.length).toBeGreaterThan(0);
    for (const p of providers) {
      const host = onHost(p.options.path);
      expect(host, p.options.path).toBe(GRAFANA_DIR);
      expect(readdirSync(join(ROOT, host!)).filter((f) => f.endsWith('.json')).length).toBe(dashboards.length);
    }
  });

  it('every datasource a panel uses is provisioned, with its variables given to Grafana', () => {
    const sources = yamlFiles.filter((f) => f.includes('/provisioning/datasources/')).flatMap((f) => (parseYaml(read(f)) as any).datasources as any[]);
    const uids = new Set(sources.map((s) => s.uid));
    for (const d of dashboards) {
      for (const t of targets(d.json)) expect(uids.has(t.datasource.uid), `${d.file}: ${t.datasource.uid}`).toBe(true);
      for (const v of d.json.templating.list) if (v.datasource) expect(uids.has(v.datasource.uid)).toBe(true);
    }
    const referenced = [...read('deploy/grafana/provisioning/datasources/firewatch.yml').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);
    for (const name of referenced) expect(grafana.environment[name], name).toBeTruthy();
    const influx = sources.find((s) => s.type === 'influxdb');
    expect(influx.jsonData.version).toBe('Flux');
  });
});

describe('dashboards match what Firewatch writes', () => {
  const fields = writtenFields();
  const fluxQueries = dashboards.flatMap((d) => [
    ...targets(d.json).filter((t) => t.query).map((t) => ({ file: d.file, q: t.query as string })),
    ...d.json.templating.list.filter((v: any) => typeof v.query === 'string').map((v: any) => ({ file: d.file, q: v.query as string })),
  ]);

  it('Flux measurements, fields and tags exist in influx-mapping.ts', () => {
    expect(fluxQueries.length).toBeGreaterThan(5);
    for (const { file, q } of fluxQueries) {
      const measurements = [...q.matchAll(/r\._measurement == "([^"]+)"/g)].map((m) => m[1]!);
      expect(measurements.length, `${file}: ${q}`).toBeGreaterThan(0);
      for (const m of measurements) expect(fields.has(m), `${file}: measurement ${m}`).toBe(true);
      for (const [, f] of q.matchAll(/r\._field == "([^"]+)"/g)) {
        expect(measurements.some((m) => fields.get(m)!.has(f!)), `${file}: field ${f} in ${measurements.join(',')}`).toBe(true);
      }
      for (const [, tag] of q.matchAll(/\br\.([a-z]\w*)/g)) expect(TAG_KEYS as readonly string[], `${file}: tag ${tag}`).toContain(tag);
      for (const [, tag] of q.matchAll(/tag: "(\w+)"/g)) expect(TAG_KEYS as readonly string[]).toContain(tag);
      for (const [, col] of q.matchAll(/columns: \[([^\]]+)\]/g)) {
        for (const c of col!.split(',').map((s: string) => s.trim().replace(/"/g, ''))) {
          expect(['_time', '_value', '_field', ...TAG_KEYS], `${file}: column ${c}`).toContain(c);
        }
      }
    }
  });

  it('Prometheus expressions use metrics that Firewatch registers', async () => {
    const registered = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const exprs = dashboards.flatMap((d) => targets(d.json).filter((t) => t.expr).map((t) => t.expr as string));
    expect(exprs.length).toBeGreaterThan(5);
    for (const e of exprs) {
      for (const [name] of e.matchAll(/firewatch_\w+/g)) expect(registered.has(name.replace(/_(bucket|sum|count)$/, '')), name).toBe(true);
    }
  });

  it('pressure and electrical-fire threshold lines are the rule defaults', () => {
    const stepsOf = (uid: string, titlePart: string) => {
      const d = dashboards.find((x) => x.json.uid === uid)!.json;
      const p = (d.panels as any[]).find((x) => x.title.includes(titlePart));
      expect(p, titlePart).toBeDefined();
      expect(p.fieldConfig.defaults.custom.thresholdsStyle.mode).toBe('line');
      return (p.fieldConfig.defaults.thresholds.steps as any[]).map((s) => s.value).filter((v) => v !== null);
    };
    expect(stepsOf('firewatch-pressure', 'Top-floor')).toEqual([HYDRANT_TOP_MPA.other, HYDRANT_TOP_MPA.category1OrIndustrial, HYDRANT_TOP_MPA.superHighRise, ANY_POINT_MAX_MPA]);
    expect(stepsOf('firewatch-pressure', 'Sprinkler')).toEqual([SPRINKLER_END_MPA, SPRINKLER_STANDBY_MPA, SPRINKLER_MAX_MPA]);
    expect(stepsOf('firewatch-pressure', 'Hydrant outlet')).toEqual([HYDRANT_OUTLET_MIN_MPA.other, HYDRANT_OUTLET_MIN_MPA.highRise, HYDRANT_OUTLET_MAX_MPA, ANY_POINT_MAX_MPA]);
    expect(stepsOf('firewatch-pressure', 'network')).toEqual([ANY_POINT_MAX_MPA]);
    expect(stepsOf('firewatch-electrical', 'Residual')).toEqual([RESIDUAL_CURRENT_MA]);
    expect(stepsOf('firewatch-electrical', 'temperatures')).toEqual([CABLE_TEMPERATURE_C]);
  });
});

describe('systemd unit', () => {
  it('starts dist/bin/firewatch.js serve and stops with SIGTERM', () => {
    const unit = read('deploy/systemd/firewatch.service');
    const exec = /^ExecStart=(.+)$/m.exec(unit)?.[1] ?? '';
    expect(exec).toMatch(/\/dist\/bin\/firewatch\.js serve$/);
    expect(exec.split(' ')[0]).toMatch(/\/node$/);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).toMatch(/^\[Install\]$/m);
    expect(existsSync(join(ROOT, 'bin', 'firewatch.ts'))).toBe(true);
  });
});
