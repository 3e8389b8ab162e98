#!/usr/bin/env node
/**
 * The `firewatch` command. Subcommands:
 *   serve     run the broker, pipeline and HTTP API (what `npm start` runs)
 */
import { ConfigError, ENV_HELP, loadConfig } from './config/config.js';
import { packageVersion, startFirewatch } from './main.js';

const USAGE = `firewatch — 消防物联网遥测接入服务 / fire-facility telemetry ingestion

Usage:
  firewatch serve            run the MQTT broker, ingest pipeline and HTTP API
  firewatch --version        print the version
  firewatch <command> --help help for a command

Configuration is read from environment variables; see \`firewatch serve --help\`.
`;

function serveHelp(): string {
  const width = Math.max(...ENV_HELP.map(([n]) => n.length));
  const rows = ENV_HELP.map(([name, def, text]) => `  ${name.padEnd(width)}  ${text}${def ? ` [default: ${def}]` : ''}`);
  return `Usage: firewatch serve

Starts the embedded MQTT broker (aedes; MQTT 3.1/3.1.1), the ingest pipeline and the HTTP API.
With no InfluxDB configured, readings are kept in the embedded SQLite store under DATA_DIR.
Stops cleanly on SIGINT or SIGTERM.

Environment:
${rows.join('\n')}
`;
}

async function serve(): Promise<void> {
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
    throw err;
  }
  const stop = (signal: string) => {
    fw.log.info({ signal }, 'shutting down');
    fw.close().then(
      () => process.exit(0),
      (err: unknown) => {
        fw.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return;
    case '--version':
    case '-v':
      process.stdout.write(`${packageVersion()}\n`);
      return;
    case 'serve':
      if (wantsHelp) {
        process.stdout.write(serveHelp());
        return;
      }
      return serve();
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`firewatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
