#!/usr/bin/env node
/**
 * The `firewatch` command: one entry, one module per subcommand. Each subcommand module exports
 * `summary`, `help()` and `run(argv)`; run resolves to an exit code, or undefined for a command
 * that keeps running (serve).
 */
import * as serve from '../server/serve.js';
import * as importCommand from '../services/cli/import.js';
import * as simulate from '../simulators/cli.js';
import * as bench from '../bench/cli.js';
import { packageVersion } from '../server/main.js';

interface Command {
  summary: string;
  help(): string;
  run(argv: string[]): Promise<number | undefined>;
}

const COMMANDS: Record<string, Command> = { serve, import: importCommand, simulate, bench };

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return `firewatch — 消防物联网遥测接入服务 / fire-facility telemetry ingestion

Usage:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  firewatch ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}
  firewatch --version  print the version
  firewatch <command> --help

Configuration is read from environment variables; see \`firewatch serve --help\`.
`;
}

async function main(argv: string[]): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command: ${name}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`firewatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
