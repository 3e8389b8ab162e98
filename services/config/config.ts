/**
 * The only reader of process.env. One zod schema turns the environment into a frozen Config;
 * every problem is reported at once at boot (house style: "config validated once at boot").
 */
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const optionalPort = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : Number(v)))
  .pipe(z.number().int().min(0).max(65535).optional());
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));
const positiveInt = z.coerce.number().int().positive();

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const EnvSchema = z
  .object({
    MQTT_HOST: z.string().default('0.0.0.0'),
    MQTT_PORT: port.default(1883),
    MQTT_WS_PORT: optionalPort,
    MQTTS_PORT: optionalPort,
    TLS_CERT: optionalString,
    TLS_KEY: optionalString,
    HTTP_HOST: z.string().default('0.0.0.0'),
    HTTP_PORT: port.default(8080),
    DATA_DIR: z.string().default('./data'),
    ADMIN_TOKEN: optionalString,
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),

    INFLUX_URL: optionalString,
    INFLUX_API: z.enum(['v2', 'v1']).default('v2'),
    INFLUX_TOKEN: optionalString,
    INFLUX_ORG: optionalString,
    INFLUX_BUCKET: optionalString,
    INFLUX_DB: optionalString,
    INFLUX_USERNAME: optionalString,
    INFLUX_PASSWORD: optionalString,
    INFLUX_BATCH_SIZE: positiveInt.default(5000),
    INFLUX_FLUSH_INTERVAL_MS: positiveInt.default(1000),

    MAX_PAYLOAD_BYTES: positiveInt.default(65536),
    DEVICE_RATE_PER_S: z.coerce.number().positive().default(50),
    DEVICE_RATE_BURST: positiveInt.default(500),
    MAX_CLOCK_SKEW_S: positiveInt.default(300),
    REJECT_LOG_INTERVAL_S: positiveInt.default(60),

    ALERT_ACK_S: positiveInt.default(60),
    ALERT_CLOSE_S: positiveInt.default(180),
    ALERT_DEADLINES_BY_USE: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v === '') return {};
        try {
          return JSON.parse(v) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"hotel":{"ackS":120,"closeS":300}}' });
          return z.NEVER;
        }
      })
      .pipe(z.record(z.string(), z.object({ ackS: z.number().int().positive(), closeS: z.number().int().positive() }))),
    OUTAGE_ALERT_S: positiveInt.default(60),
    SESSION_TTL_H: z.coerce.number().positive().default(12),
    LIVE_MAX_BUFFER_BYTES: positiveInt.default(4 * 1024 * 1024),
  })
  .superRefine((env, ctx) => {
    if ((env.MQTTS_PORT !== undefined) !== (env.TLS_CERT !== undefined && env.TLS_KEY !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['MQTTS_PORT'],
        message: 'MQTTS_PORT, TLS_CERT and TLS_KEY must be set together',
      });
    }
    if (env.INFLUX_URL === undefined) return;
    if (env.INFLUX_API === 'v2') {
      for (const key of ['INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET'] as const) {
        if (env[key] === undefined) {
          ctx.addIssue({ code: 'custom', path: [key], message: `${key} is required when INFLUX_API=v2` });
        }
      }
    } else if (env.INFLUX_DB === undefined) {
      ctx.addIssue({ code: 'custom', path: ['INFLUX_DB'], message: 'INFLUX_DB is required when INFLUX_API=v1' });
    }
  });

export type InfluxConfig =
  | {
      api: 'v2';
      url: string;
      token: string;
      org: string;
      bucket: string;
    }
  | {
      api: 'v1';
      url: string;
      db: string;
      username?: string;
      password?: string;
    };

export interface Config {
  readonly mqtt: {
    readonly host: string;
    readonly port: number;
    readonly wsPort?: number;
    readonly tlsPort?: number;
    readonly tlsCertFile?: string;
    readonly tlsKeyFile?: string;
  };
  readonly http: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  readonly adminToken?: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly influx?: Readonly<InfluxConfig>;
  readonly sink: { readonly batchSize: number; readonly flushIntervalMs: number };
  readonly alerts: {
    readonly ackS: number;
    readonly closeS: number;
    readonly byUse: Readonly<Record<string, { ackS: number; closeS: number }>>;
    readonly outageAlertS: number;
  };
  readonly sessionTtlH: number;
  /** a live-feed client whose unsent data passes this is disconnected (it resumes with ?since=) */
  readonly liveMaxBufferBytes: number;
  readonly ingest: {
    readonly maxPayloadBytes: number;
    readonly deviceRatePerS: number;
    readonly deviceRateBurst: number;
    readonly maxClockSkewS: number;
    readonly rejectLogIntervalS: number;
  };
}

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parse an environment (process.env by default) into a Config; throws ConfigError listing every issue. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  let influx: InfluxConfig | undefined;
  if (e.INFLUX_URL !== undefined) {
    influx =
      e.INFLUX_API === 'v2'
        ? { api: 'v2', url: e.INFLUX_URL, token: e.INFLUX_TOKEN!, org: e.INFLUX_ORG!, bucket: e.INFLUX_BUCKET! }
        : {
            api: 'v1',
            url: e.INFLUX_URL,
            db: e.INFLUX_DB!,
            ...(e.INFLUX_USERNAME !== undefined ? { username: e.INFLUX_USERNAME } : {}),
            ...(e.INFLUX_PASSWORD !== undefined ? { password: e.INFLUX_PASSWORD } : {}),
          };
  }
  const config: Config = {
    mqtt: {
      host: e.MQTT_HOST,
      port: e.MQTT_PORT,
      ...(e.MQTT_WS_PORT !== undefined ? { wsPort: e.MQTT_WS_PORT } : {}),
      ...(e.MQTTS_PORT !== undefined
        ? { tlsPort: e.MQTTS_PORT, tlsCertFile: e.TLS_CERT!, tlsKeyFile: e.TLS_KEY! }
        : {}),
    },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    dataDir: e.DATA_DIR,
    ...(e.ADMIN_TOKEN !== undefined ? { adminToken: e.ADMIN_TOKEN } : {}),
    logLevel: e.LOG_LEVEL,
    ...(influx ? { influx } : {}),
    sink: { batchSize: e.INFLUX_BATCH_SIZE, flushIntervalMs: e.INFLUX_FLUSH_INTERVAL_MS },
    alerts: { ackS: e.ALERT_ACK_S, closeS: e.ALERT_CLOSE_S, byUse: e.ALERT_DEADLINES_BY_USE, outageAlertS: e.OUTAGE_ALERT_S },
    sessionTtlH: e.SESSION_TTL_H,
    liveMaxBufferBytes: e.LIVE_MAX_BUFFER_BYTES,
    ingest: {
      maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
      deviceRatePerS: e.DEVICE_RATE_PER_S,
      deviceRateBurst: e.DEVICE_RATE_BURST,
      maxClockSkewS: e.MAX_CLOCK_SKEW_S,
      rejectLogIntervalS: e.REJECT_LOG_INTERVAL_S,
    },
  };
  return deepFreeze(config);
}

/** Documentation of every variable, used by `firewatch serve --help` and kept beside the schema. */
export const ENV_HELP: ReadonlyArray<[name: string, def: string, text: string]> = [
  ['MQTT_HOST', '0.0.0.0', 'address the MQTT broker listens on'],
  ['MQTT_PORT', '1883', 'MQTT (TCP) port; 0 picks a free port'],
  ['MQTT_WS_PORT', '(off)', 'MQTT over WebSocket port'],
  ['MQTTS_PORT', '(off)', 'MQTT over TLS port; needs TLS_CERT and TLS_KEY (PEM file paths)'],
  ['HTTP_HOST', '0.0.0.0', 'address the HTTP API listens on'],
  ['HTTP_PORT', '8080', 'HTTP API port; 0 picks a free port'],
  ['DATA_DIR', './data', 'folder for the embedded SQLite database'],
  ['ADMIN_TOKEN', '(generated)', 'admin API token; when unset, one is generated on first start and printed once'],
  ['LOG_LEVEL', 'info', 'fatal | error | warn | info | debug | trace | silent'],
  ['INFLUX_URL', '(unset)', 'InfluxDB URL; when unset, readings go to the embedded SQLite store'],
  ['INFLUX_API', 'v2', 'v2 (token/org/bucket) or v1 (/write and InfluxQL /query)'],
  ['INFLUX_TOKEN / INFLUX_ORG / INFLUX_BUCKET', '', 'InfluxDB v2 credentials and target'],
  ['INFLUX_DB / INFLUX_USERNAME / INFLUX_PASSWORD', '', 'InfluxDB v1 database and optional credentials'],
  ['INFLUX_BATCH_SIZE', '5000', 'points per InfluxDB write'],
  ['INFLUX_FLUSH_INTERVAL_MS', '1000', 'longest wait before a partial batch is written'],
  ['MAX_PAYLOAD_BYTES', '65536', 'larger MQTT payloads are rejected (too_large)'],
  ['DEVICE_RATE_PER_S', '50', 'sustained publishes per second per device (rate_limited beyond)'],
  ['DEVICE_RATE_BURST', '500', 'burst allowance per device (e.g. a backlog flush)'],
  ['MAX_CLOCK_SKEW_S', '300', 'readings timestamped further in the future are rejected (future_ts)'],
  ['REJECT_LOG_INTERVAL_S', '60', 'a device\'s rejected messages are logged at most once per interval'],
  ['ALERT_ACK_S', '60', 'hazard alerts not acknowledged within this escalate to level 1 (1分钟响应)'],
  ['ALERT_CLOSE_S', '180', 'hazard alerts not closed within this escalate to level 2 (3分钟处置)'],
  ['ALERT_DEADLINES_BY_USE', '{}', 'per building use, JSON: {"hotel":{"ackS":120,"closeS":300}}'],
  ['OUTAGE_ALERT_S', '60', 'a service downtime longer than this raises one service_outage alert at start'],
  ['SESSION_TTL_H', '12', 'lifetime of a login session (one duty shift)'],
  ['LIVE_MAX_BUFFER_BYTES', '4194304', 'a live-feed client that falls this far behind is disconnected; it resumes with ?since='],
];
