/**
 * Integration-suite preflight: the real parts the tests use must be on this machine.
 * `npm test` runs tests/support/provision.mjs first, which installs them when it can; if they are
 * still missing, fail loudly with what to install instead of skipping tests.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const which = (bin: string) => (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, bin)));

export default function setup(): void {
  const missing: string[] = [];
  if (!which('mosquitto_pub')) missing.push('mosquitto_pub (apt-get install mosquitto-clients)');
  if (!process.env.INFLUX_V1_URL && !which('influxd')) missing.push('influxd (apt-get install influxdb), or set INFLUX_V1_URL');
  if (missing.length > 0) {
    throw new Error(`Integration tests need real servers and tools that are missing:\n  - ${missing.join('\n  - ')}`);
  }
}
