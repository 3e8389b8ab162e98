/** `firewatch simulate`: run a scenario against a live service (see simulators/README.md). */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIO_NAMES, scenarioByName } from './scenarios/index.js';
import { simulate } from './simulate.js';

export const summary = 'simulate sensors: the Yuzhong district or an incident scenario (--verify checks the alerts)';

export function help(): string {
  return `Usage: firewatch simulate --scenario <name> [options]

Simulated fire-facility sensors speaking MQTT to a running Firewatch, provisioned through its
HTTP API (idempotently: existing buildings and devices are reused).

Scenarios:
  yuzhong        the district: 15 complexes, high-rises on all 11 streets, markets, old compounds
  pipe-burst     a hydrant riser bursts in a 288 m tower (pressure_drop, pressure_low)
  overheating    a loose terminal heats in a complex's distribution board (temperature_high, device_alarm)
  lane-blocked   a car parks in a fire lane, a van only stops (lane_blocked; about 70 s: the dwell is at least 60 s)
  offline        a tank sensor loses its link, then flushes its backlog (device_offline, cleared)
  stuck-sensor   a gauge stuck for hours, replayed (sensor_fault: a fault, not a hazard)

Options:
  --scenario <name>   one of the above (required)
  --verify            watch the live feed and exit 1 if an expected alert is missing, late or
                      duplicated, or an unexpected one is raised on the scenario's devices
  --duration <s>      simulated seconds to run (default: the scenario's; yuzhong runs until Ctrl-C)
  --speed <x>         simulated seconds per real second (default: the scenario's)
  --seed <n>          random seed; the same seed gives the same readings (default 1)
  --no-incident       skip the incident itself (with --verify this must fail: a negative check)
  --api <url>         HTTP API [env FIREWATCH_API, default http://127.0.0.1:8080]
  --mqtt <url>        MQTT broker [env FIREWATCH_MQTT, default mqtt://127.0.0.1:1883]
  --token <t>         admin (or operator) API token [env FIREWATCH_TOKEN]
  --state <dir>       where device passwords are kept [default ./.firewatch-sim]
  --quiet             only the summary
  -h, --help          this text

Incident scenarios shorten rule durations for their own devices by the speed
(PATCH /api/v1/devices/:id {"rules":…}) and restore the defaults at the end.
The last line is "SUMMARY {json}" for scripts.
`;
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        scenario: { type: 'string' },
        verify: { type: 'boolean', default: false },
        duration: { type: 'string' },
        speed: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'no-incident': { type: 'boolean', default: false },
        api: { type: 'string' },
        mqtt: { type: 'string' },
        token: { type: 'string' },
        state: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`firewatch simulate: ${(err as Error).message}\n\n${help()}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(help());
    return 0;
  }
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const seed = Number(args.seed);
  const scenario = args.scenario ? scenarioByName(args.scenario, seed) : undefined;
  if (!scenario) {
    process.stderr.write(`firewatch simulate: --scenario must be one of ${SCENARIO_NAMES.join(', ')}\n`);
    return 2;
  }
  const token = args.token ?? process.env.FIREWATCH_TOKEN;
  if (!token) {
    process.stderr.write('firewatch simulate: an API token is needed (--token or FIREWATCH_TOKEN; the admin token printed at first start)\n');
    return 2;
  }
  let speed: number | undefined;
  let durationS: number | undefined;
  try {
    speed = num(args.speed, 'speed');
    durationS = num(args.duration, 'duration');
  } catch (err) {
    process.stderr.write(`firewatch simulate: ${(err as Error).message}\n`);
    return 2;
  }
  const quiet = args.quiet;
  const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  const result = await simulate({
    scenario,
    seed,
    ...(speed !== undefined ? { speed } : {}),
    ...(durationS !== undefined ? { durationS } : {}),
    verify: args.verify,
    noIncident: args['no-incident'],
    api: args.api ?? process.env.FIREWATCH_API ?? 'http://127.0.0.1:8080',
    mqtt: args.mqtt ?? process.env.FIREWATCH_MQTT ?? 'mqtt://127.0.0.1:1883',
    token,
    stateDir: args.state ?? join(process.cwd(), '.firewatch-sim'),
    out: (line) => {
      if (!quiet) process.stdout.write(`${line}\n`);
    },
    interrupted,
  });
  const w = result.verify;
  process.stdout.write(
    `summary: ${result.scenario} — ${result.devicesConnected}/${result.devices} devices connected, ${result.messagesSent} messages sent ` +
      `(${result.messagesAcked} acknowledged), ${result.readings} readings, ${result.alertsRaised} alerts raised ` +
      `in ${result.simulatedS} simulated s (${result.realS} real s)` +
      (w ? `; verify ${w.ok ? 'PASSED' : `FAILED (${w.failures.length})`}` : '') +
      '\n',
  );
  process.stdout.write(`SUMMARY ${JSON.stringify(result)}\n`);
  // mqtt.js and ws sockets are closed; exit now rather than wait for stray timers
  return w && !w.ok ? 1 : 0;
}
