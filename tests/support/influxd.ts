/**
 * Finds an InfluxDB for integration tests, in this order:
 * an env URL, else a locally started server, else testcontainers
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
import { existsSync } from 'node:fs';
import { startPrivateInfluxd, waitForPing } from '../../bench/influxd.js';
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
  if (bin) return { ...(await startPrivateInfluxd(bin)), controllable: true };
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

function external(url: string): InfluxV1Server {
  const refuse = async (): Promise<never> => {
    throw new Error('INFLUX_V1_URL points at an external InfluxDB; tests cannot stop or restart it');
  };
  return { url: url.replace(/\/+$/, ''), controllable: false, stop: refuse, restart: refuse, dispose: async () => {} };
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
