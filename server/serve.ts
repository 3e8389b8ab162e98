/** `firewatch serve`: run the broker, pipeline and HTTP API (what `npm start` runs). */
import { ConfigError, ENV_HELP, loadConfig } from '../services/config/config.js';
import { startFirewatch } from './main.js';
import { DatabaseCorruptError } from '../services/storage/sqlite/database.js';

export const summary = 'run the MQTT broker, ingest pipeline, alerts and HTTP API';

export function help(): string {
  const width = Math.max(...ENV_HELP.map(([n]) => n.length));
  const rows = ENV_HELP.map(([name, def, text]) => `  ${name.padEnd(width)}  ${text}${def ? ` [default: ${def}]` : ''}`);
  return `Usage: firewatch serve

Starts the embedded MQTT broker (aedes; MQTT 3.1/3.1.1), the ingest pipeline and the HTTP API.
With no InfluxDB configured, readings are kept in the embedded SQLite store under DATA_DIR.
Stops cleanly on SIGINT or SIGTERM.

Environment (the same list is docs/configuration.md; every problem is reported together at start):
${rows.join('\n')}
`;
}

export async function run(argv: string[]): Promise<number | undefined> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help());
    return 0;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let fw;
  try {
    fw = await startFirewatch(config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(
        `firewatch: port ${e.port ?? ''} is already in use (another MQTT broker such as Mosquitto, or a second Firewatch?).\n` +
          `Choose free ports, e.g. MQTT_PORT=1884 HTTP_PORT=8081 firewatch serve\n`,
      );
      process.exit(2);
    }
    if (err instanceof DatabaseCorruptError) {
      process.stderr.write(`firewatch: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const stop = (signal: string) => {
    fw.logger.info({ signal }, 'shutting down');
    fw.close().then(
      () => process.exit(0),
      (err: unknown) => {
        fw.logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return undefined; // keeps running
}

