/**
 * The only reader of process.env. One zod schema turns the environment into a frozen Config;
 * every problem is reported at once at boot (house style: "config validated once at boot").
 */
import { z } from 'zod';
import { peerListProblem } from '../devices/peer-allow-list.js';

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
    MQTT_MAX_CONNECT_BYTES: z.coerce.number().int().min(256).max(1024 * 1024).default(4096),
    HTTP_HOST: z.string().default('0.0.0.0'),
    HTTP_PORT: port.default(8080),
    DATA_DIR: z.string().default('./data'),
    SQLITE_SYNCHRONOUS: z.enum(['full', 'normal']).default('full'),
    SQLITE_BUSY_TIMEOUT_MS: z.coerce.number().int().min(0).default(100),
    LOG_BUSY_TIMEOUT_MS: z.coerce.number().int().min(0).default(2000),
    LOG_APPEND_TIMEOUT_MS: positiveInt.default(5000),
    PROCESSORS_MIN_INTERVAL_MS: z.coerce.number().int().min(0).max(1000).default(4),
    ADMIN_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 32, {
      message: 'must be at least 32 characters (e.g. `openssl rand -hex 24`), or unset to have one generated',
    }),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),

    DATABASE_URL: optionalString,
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
    ALERT_DISPLAY_TARGET_S: z.coerce.number().min(0).max(3600).default(10),
    ALERT_FORWARD_TARGET_S: z.coerce.number().min(0).max(3600).default(3),
    INCIDENT_WINDOW_S: z.coerce.number().int().min(0).max(86_400).default(300),
    MAINTENANCE_MAX_OPERATOR_H: z.coerce.number().positive().default(72),
    SESSION_TTL_H: z.coerce.number().positive().default(12),
    LIVE_MAX_BUFFER_BYTES: positiveInt.default(4 * 1024 * 1024),
    READINGS_RETENTION_DAYS: z.coerce.number().int().min(0).default(90),
    PUBLIC_BASE_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    SAFETY_CODE_OFFLINE_H: z.coerce.number().positive().default(24),
    COMMISSIONING_MAX_H: z.coerce.number().positive().default(72),

    // platform uplink and GB/T 26875.3 (issue #6)
    UPLINK_HTTP_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    UPLINK_HTTP_TOKEN: optionalString,
    UPLINK_HTTP_HMAC_SECRET: optionalString,
    UPLINK_HTTP_MAPPING: optionalString,
    UPLINK_HTTP_TIMEOUT_MS: positiveInt.default(10_000),
    UPLINK_MQTT_URL: optionalString.pipe(z.url({ protocol: /^(mqtt|mqtts|ws|wss|tcp|ssl)$/ }).optional()),
    UPLINK_MQTT_TOPIC: z.string().min(1).default('yuzhong/fire/{type}/{buildingId}'),
    UPLINK_GB26875_ADDR: optionalString.pipe(
      z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
        .optional(),
    ),
    UPLINK_GB26875_SOURCE_ADDR: z.coerce.number().int().min(0).max(2 ** 48 - 1).default(1),
    UPLINK_GB26875_DEST_ADDR: z.coerce.number().int().min(0).max(2 ** 48 - 1).default(0),
    UPLINK_GB26875_TIMEOUT_MS: positiveInt.default(10_000),
    UPLINK_GB26875_HEARTBEAT_S: positiveInt.default(30),
    UPLINK_GB26875_STATUS_MAP: optionalString,
    GB26875_DUTY_CHECK_S: positiveInt.default(300),
    UPLINK_READINGS: z
      .string()
      .default('none')
      .transform((v, ctx) => {
        const parsed = parseReadingsPolicies(v);
        if (typeof parsed === 'string') {
          ctx.addIssue({ code: 'custom', message: parsed });
          return z.NEVER;
        }
        return parsed;
      }),
    UPLINK_DEAD_LETTER_AFTER_S: positiveInt.default(86_400),
    GB26875_PORT: optionalPort,
    GB26875_COMMAND_TIMEOUT_MS: positiveInt.default(10_000),
    GB26875_DUTY_ROUND_AT: z
      .string()
      .default('09:00')
      .transform((v, ctx) => {
        if (v.trim().toLowerCase() === 'off') return undefined;
        const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(v.trim());
        if (!m) {
          ctx.addIssue({ code: 'custom', message: 'must be a time of day HH:MM (in GB26875_TZ), or off' });
          return z.NEVER;
        }
        return Number(m[1]) * 60 + Number(m[2]);
      }),
    GB26875_TZ: z
      .string()
      .default('+08:00')
      .transform((v, ctx) => {
        const m = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(v.trim());
        const minutes = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : NaN;
        if (!m || Number(m[3] ?? 0) > 59 || minutes < -12 * 60 || minutes > 14 * 60) {
          ctx.addIssue({ code: 'custom', message: 'must be an offset from UTC such as +08:00, UTC+8 or -05:30 (−12:00 … +14:00)' });
          return z.NEVER;
        }
        return minutes;
      }),
    GB26875_VENDOR_MAPPING: optionalString,
    // gateway protection (issue #12 item 7); the idle default is 6 heartbeats of 30 s (fact 8)
    GB26875_HOST: optionalString,
    GB26875_IDLE_TIMEOUT_S: positiveInt.default(180),
    GB26875_MAX_CONNECTIONS: positiveInt.default(1000),
    GB26875_MAX_CONNECTIONS_PER_PEER: optionalString.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().positive().optional()),
    GB26875_ALLOW: optionalString.transform((v, ctx) => {
      if (v === undefined) return undefined;
      const list = v.split(/[\s,]+/).filter((x) => x !== '');
      const problem = list.length === 0 ? 'an IP or CIDR list, e.g. 10.9.0.0/16,fd00::/8' : peerListProblem(list);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return list;
    }),
  });

export type ReadingsPolicy = { readonly mode: 'all' } | { readonly mode: 'none' } | { readonly mode: 'sample'; readonly intervalMs: number };
/** Which readings the uplink forwards: one policy per device kind, and one for the kinds not named. */
export interface ReadingsPolicies {
  readonly default: ReadingsPolicy;
  readonly byKind: Readonly<Record<string, ReadingsPolicy>>;
}

function parseReadingsPolicy(v: string): ReadingsPolicy | undefined {
  if (v === 'all' || v === 'none') return { mode: v };
  const m = /^(\d+)(ms|s|m|h)$/.exec(v);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return { mode: 'sample', intervalMs: Number(m[1]) * unit };
}

/**
 * `all` | `none` | an interval (`60s`, `5m`: one reading per device per interval), for every kind;
 * or per kind: `electrical_fire=all,water_pressure=60s,*=none` (`*` = kinds not named; default none).
 * Returns the policies, or the problem as a sentence.
 */
export function parseReadingsPolicies(v: string): ReadingsPolicies | string {
  const usage = 'all, none, an interval such as 60s or 5m, or per kind: electrical_fire=all,water_pressure=60s,*=none';
  if (!v.includes('=')) {
    const p = parseReadingsPolicy(v.trim());
    return p ? { default: p, byKind: {} } : usage;
  }
  let fallback: ReadingsPolicy = { mode: 'none' };
  const byKind: Record<string, ReadingsPolicy> = {};
  for (const part of v.split(',')) {
    const [kind, value] = part.split('=').map((x) => x.trim()) as [string, string | undefined];
    const p = value === undefined ? undefined : parseReadingsPolicy(value);
    if (!kind || !p) return `${part.trim()}: ${usage}`;
    if (kind === '*') fallback = p;
    else byKind[kind] = p;
  }
  return { default: fallback, byKind };
}

/**
 * Rules that tie variables together. They read the raw strings (unset or empty = absent) so they
 * are reported together with type errors, not only once every variable parses.
 */
function crossFieldIssues(raw: Record<string, string | undefined>): string[] {
  const has = (k: string) => raw[k] !== undefined && raw[k] !== '';
  const issues: string[] = [];
  if (has('MQTTS_PORT') !== (has('TLS_CERT') && has('TLS_KEY'))) issues.push('MQTTS_PORT: MQTTS_PORT, TLS_CERT and TLS_KEY must be set together');
  if (has('UPLINK_HTTP_TOKEN') && has('UPLINK_HTTP_HMAC_SECRET')) issues.push('UPLINK_HTTP_TOKEN: choose one of UPLINK_HTTP_TOKEN and UPLINK_HTTP_HMAC_SECRET');
  if (has('DATABASE_URL') && !/^postgres(ql)?:\/\//.test(raw.DATABASE_URL!)) issues.push('DATABASE_URL: must be a postgres:// (or postgresql://) URL');
  if (has('INFLUX_URL')) {
    if ((raw.INFLUX_API || 'v2') === 'v2') {
      for (const key of ['INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET']) if (!has(key)) issues.push(`${key}: ${key} is required when INFLUX_API=v2`);
    } else if (raw.INFLUX_API === 'v1' && !has('INFLUX_DB')) issues.push('INFLUX_DB: INFLUX_DB is required when INFLUX_API=v1');
  }
  return issues;
}

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
    /** largest CONNECT (Remaining Length), and any packet before it is accepted or other than PUBLISH */
    readonly maxConnectBytes: number;
    /** largest PUBLISH on the wire: MAX_PAYLOAD_BYTES plus PUBLISH_HEADROOM_BYTES for topic and packet id */
    readonly maxPublishBytes: number;
  };
  readonly http: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  /** PostgreSQL for the shared state (ADR 0008); undefined: SQLite files in dataDir */
  readonly databaseUrl: string | undefined;
  /** the embedded database: durability of a commit, and how long a write waits for a lock */
  readonly sqlite: {
    readonly synchronous: 'full' | 'normal';
    /** main thread (API, processors): short, the event loop waits this long at most */
    readonly busyTimeoutMs: number;
    /** the reading log's writer thread: it may wait longer, the broker does not wait on it */
    readonly logBusyTimeoutMs: number;
    /** an append not committed by then is refused (no PUBACK; the device re-sends) */
    readonly appendTimeoutMs: number;
  };
  /** the log processors (rules → alerts → feed, uplink items) */
  readonly processors: {
    /** least time between two of their batches while fewer than a full batch wait */
    readonly minIntervalMs: number;
  };
  readonly adminToken?: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly influx?: Readonly<InfluxConfig>;
  readonly sink: { readonly batchSize: number; readonly flushIntervalMs: number };
  readonly alerts: {
    readonly ackS: number;
    readonly closeS: number;
    readonly byUse: Readonly<Record<string, { ackS: number; closeS: number }>>;
    readonly outageAlertS: number;
    /** issue #15 item 4: received → first shown on a duty console, for a hazard (GB 50440: 10 s) */
    readonly displayTargetS: number;
    /** issue #15 item 4: acknowledged → forwarded to the platform, for a confirmed fire alarm (GB 50440: 3 s) */
    readonly forwardTargetS: number;
    /** issue #15 item 1: how long after its last change an incident still takes a new hazard of its building */
    readonly incidentWindowS: number;
    /** an operator's maintenance window may last this long; a longer one needs duty or admin (issue #12 item 9) */
    readonly maintenanceMaxOperatorH: number;
  };
  readonly sessionTtlH: number;
  /** a live-feed client whose unsent data passes this is disconnected (it resumes with ?since=) */
  readonly liveMaxBufferBytes: number;
  /** the embedded store keeps readings this many days after arrival; 0 = for ever */
  readonly readingsRetentionDays: number;
  /** base of the public safety-code pages' URL in QR codes; unset = the request's own host */
  readonly publicBaseUrl?: string;
  /** a device silent longer than this turns its building's safety code yellow (issue #16 item 8) */
  readonly safetyCodeOfflineH: number;
  /** a device not put in service counts as in service this long after registration (issue #17 item 6) */
  readonly commissioningMaxH: number;
  /** the platform uplink (issue #6); an adapter is on when its URL or address is set */
  readonly uplink: {
    readonly http?: { readonly url: string; readonly token?: string; readonly hmacSecret?: string; readonly mappingFile?: string; readonly timeoutMs: number };
    readonly mqtt?: { readonly url: string; readonly topic: string };
    readonly gb26875?: {
      readonly host: string;
      readonly port: number;
      readonly sourceAddress: number;
      readonly destinationAddress: number;
      readonly timeoutMs: number;
      readonly heartbeatS: number;
      /** time tags' zone, minutes east of UTC (GB26875_TZ) */
      readonly offsetMinutes: number;
      /** how long the duty room has to answer the centre's duty check (GB26875_DUTY_CHECK_S) */
      readonly dutyCheckS: number;
      /** the platform's status-bit overrides: a JSON file, or inline JSON (checked at start) */
      readonly statusMap?: string;
    };
    readonly readings: ReadingsPolicies;
    readonly deadLetterAfterS: number;
  };
  /** the GB/T 26875.3 TCP listener for UITDs (on when port is set; listens on GB26875_HOST, else MQTT_HOST) */
  readonly gb26875: {
    readonly port?: number;
    readonly host: string;
    readonly vendorMappingFile?: string;
    /** a connection without a frame from an allowed, registered UITD for this long is closed */
    readonly idleTimeoutS: number;
    /** time tags' zone, minutes east of UTC (GB26875_TZ): both roles, UITDs' frames and ours to the centre */
    readonly offsetMinutes: number;
    /** the centre's commands to a UITD: wait this long per try, 3 tries (GB26875_COMMAND_TIMEOUT_MS) */
    readonly commandTimeoutMs: number;
    /** a duty check's answer is due within this (GB26875_DUTY_CHECK_S), both ways */
    readonly dutyCheckS: number;
    /** the daily duty check of the UITDs, minutes after midnight in GB26875_TZ (GB26875_DUTY_ROUND_AT); absent: off */
    readonly dutyRoundAtMin?: number;
    /** connections beyond this are accepted and closed at once */
    readonly maxConnections: number;
    readonly maxConnectionsPerPeer?: number;
    /** peers allowed for a UITD without its own allowedPeers; unset = any peer */
    readonly allow?: readonly string[];
  };
  readonly ingest: {
    readonly maxPayloadBytes: number;
    readonly deviceRatePerS: number;
    readonly deviceRateBurst: number;
    readonly maxClockSkewS: number;
    readonly rejectLogIntervalS: number;
  };
}

/** Room in a PUBLISH for its topic (a device's topics are < 100 bytes) and packet id, beyond the payload. */
export const PUBLISH_HEADROOM_BYTES = 1024;

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
  const issues = [...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`)), ...crossFieldIssues(env)];
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues);
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
      maxConnectBytes: e.MQTT_MAX_CONNECT_BYTES,
      maxPublishBytes: e.MAX_PAYLOAD_BYTES + PUBLISH_HEADROOM_BYTES,
    },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    sqlite: {
      synchronous: e.SQLITE_SYNCHRONOUS,
      busyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS,
      logBusyTimeoutMs: e.LOG_BUSY_TIMEOUT_MS,
      appendTimeoutMs: e.LOG_APPEND_TIMEOUT_MS,
    },
    processors: { minIntervalMs: e.PROCESSORS_MIN_INTERVAL_MS },
    ...(e.ADMIN_TOKEN !== undefined ? { adminToken: e.ADMIN_TOKEN } : {}),
    logLevel: e.LOG_LEVEL,
    ...(influx ? { influx } : {}),
    sink: { batchSize: e.INFLUX_BATCH_SIZE, flushIntervalMs: e.INFLUX_FLUSH_INTERVAL_MS },
    alerts: { ackS: e.ALERT_ACK_S, closeS: e.ALERT_CLOSE_S, byUse: e.ALERT_DEADLINES_BY_USE, outageAlertS: e.OUTAGE_ALERT_S, displayTargetS: e.ALERT_DISPLAY_TARGET_S, forwardTargetS: e.ALERT_FORWARD_TARGET_S, incidentWindowS: e.INCIDENT_WINDOW_S, maintenanceMaxOperatorH: e.MAINTENANCE_MAX_OPERATOR_H },
    sessionTtlH: e.SESSION_TTL_H,
    liveMaxBufferBytes: e.LIVE_MAX_BUFFER_BYTES,
    readingsRetentionDays: e.READINGS_RETENTION_DAYS,
    ...(e.PUBLIC_BASE_URL !== undefined ? { publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/+$/, '') } : {}),
    safetyCodeOfflineH: e.SAFETY_CODE_OFFLINE_H,
    commissioningMaxH: e.COMMISSIONING_MAX_H,
    uplink: {
      ...(e.UPLINK_HTTP_URL !== undefined
        ? {
            http: {
              url: e.UPLINK_HTTP_URL,
              timeoutMs: e.UPLINK_HTTP_TIMEOUT_MS,
              ...(e.UPLINK_HTTP_TOKEN !== undefined ? { token: e.UPLINK_HTTP_TOKEN } : {}),
              ...(e.UPLINK_HTTP_HMAC_SECRET !== undefined ? { hmacSecret: e.UPLINK_HTTP_HMAC_SECRET } : {}),
              ...(e.UPLINK_HTTP_MAPPING !== undefined ? { mappingFile: e.UPLINK_HTTP_MAPPING } : {}),
            },
          }
        : {}),
      ...(e.UPLINK_MQTT_URL !== undefined ? { mqtt: { url: e.UPLINK_MQTT_URL, topic: e.UPLINK_MQTT_TOPIC } } : {}),
      ...(e.UPLINK_GB26875_ADDR !== undefined
        ? {
            gb26875: {
              host: e.UPLINK_GB26875_ADDR.slice(0, e.UPLINK_GB26875_ADDR.lastIndexOf(':')),
              port: Number(e.UPLINK_GB26875_ADDR.slice(e.UPLINK_GB26875_ADDR.lastIndexOf(':') + 1)),
              sourceAddress: e.UPLINK_GB26875_SOURCE_ADDR,
              destinationAddress: e.UPLINK_GB26875_DEST_ADDR,
              timeoutMs: e.UPLINK_GB26875_TIMEOUT_MS,
              heartbeatS: e.UPLINK_GB26875_HEARTBEAT_S,
              offsetMinutes: e.GB26875_TZ,
              dutyCheckS: e.GB26875_DUTY_CHECK_S,
              ...(e.UPLINK_GB26875_STATUS_MAP !== undefined ? { statusMap: e.UPLINK_GB26875_STATUS_MAP } : {}),
            },
          }
        : {}),
      readings: e.UPLINK_READINGS,
      deadLetterAfterS: e.UPLINK_DEAD_LETTER_AFTER_S,
    },
    gb26875: {
      // unset follows MQTT_HOST, so an upgrade never listens on more interfaces than before
      host: e.GB26875_HOST ?? e.MQTT_HOST,
      ...(e.GB26875_PORT !== undefined ? { port: e.GB26875_PORT } : {}),
      ...(e.GB26875_VENDOR_MAPPING !== undefined ? { vendorMappingFile: e.GB26875_VENDOR_MAPPING } : {}),
      idleTimeoutS: e.GB26875_IDLE_TIMEOUT_S,
      offsetMinutes: e.GB26875_TZ,
      commandTimeoutMs: e.GB26875_COMMAND_TIMEOUT_MS,
      dutyCheckS: e.GB26875_DUTY_CHECK_S,
      ...(e.GB26875_DUTY_ROUND_AT !== undefined ? { dutyRoundAtMin: e.GB26875_DUTY_ROUND_AT } : {}),
      maxConnections: e.GB26875_MAX_CONNECTIONS,
      ...(e.GB26875_MAX_CONNECTIONS_PER_PEER !== undefined ? { maxConnectionsPerPeer: e.GB26875_MAX_CONNECTIONS_PER_PEER } : {}),
      ...(e.GB26875_ALLOW !== undefined ? { allow: e.GB26875_ALLOW } : {}),
    },
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

/**
 * The names of the variables loadConfig reads: the keys of its schema (crossFieldIssues reads only
 * these too). tests/unit/docs-truth.test.ts checks that ENV_HELP documents each of them.
 */
export const ENV_NAMES: readonly string[] = Object.keys(EnvSchema.shape);

/**
 * Documentation of every variable, one row each, beside the schema: `firewatch serve --help` prints
 * it and `npm run docs` (services/cli/render-docs.ts) writes it into docs/configuration.md. The text
 * stays one line; a default in parentheses is a description, not a value.
 */
export const ENV_HELP: ReadonlyArray<[name: string, def: string, text: string]> = [
  ['MQTT_HOST', '0.0.0.0', 'address the MQTT broker listens on'],
  ['MQTT_PORT', '1883', 'MQTT (TCP) port; 0 picks a free port'],
  ['MQTT_WS_PORT', '(off)', 'MQTT over WebSocket port'],
  ['MQTTS_PORT', '(off)', 'MQTT over TLS port, for devices on public networks; set together with TLS_CERT and TLS_KEY'],
  ['TLS_CERT', '(unset)', 'MQTT over TLS: the certificate, a PEM file path; set together with MQTTS_PORT and TLS_KEY'],
  ['TLS_KEY', '(unset)', 'MQTT over TLS: the private key, a PEM file path; set together with MQTTS_PORT and TLS_CERT'],
  ['MQTT_MAX_CONNECT_BYTES', '4096', 'largest CONNECT (Remaining Length: room for client id, username, password and a will; 256 to 1048576), also for any packet before the CONNECT is accepted and every packet but PUBLISH; a larger declared length closes the connection at once (TCP, TLS, WebSocket)'],
  ['HTTP_HOST', '0.0.0.0', 'address the HTTP API listens on'],
  ['HTTP_PORT', '8080', 'HTTP API port; 0 picks a free port'],
  ['DATA_DIR', './data', 'folder of the SQLite databases firewatch.db (everything but readings) and readings.db (the reading log); with DATABASE_URL only the node id (node-id)'],
  ['SQLITE_SYNCHRONOUS', 'full', 'full: an acknowledged reading survives a power cut; normal: faster, survives a crash of the process but may lose the last commits before a power cut or OS crash'],
  ['SQLITE_BUSY_TIMEOUT_MS', '100', 'how long a write on the main thread (API, processors, status) waits for a lock before it fails and is retried'],
  ['LOG_BUSY_TIMEOUT_MS', '2000', 'how long the reading log\'s writer thread waits for a lock on readings.db before it refuses the batch'],
  ['LOG_APPEND_TIMEOUT_MS', '5000', 'an append not committed by then is not acknowledged (the device re-sends it)'],
  ['PROCESSORS_MIN_INTERVAL_MS', '4', 'least time (0–1000 ms) between two batches of the processors (rules → alerts → live feed, uplink) while fewer than a full batch wait: light traffic then commits fewer, larger batches (a reading waits at most this long more for its alert); 0 processes each log commit at once'],
  ['ADMIN_TOKEN', '(generated)', 'admin API token, at least 32 characters; when unset, one is generated on first start, printed once, and only its SHA-256 is stored'],
  ['LOG_LEVEL', 'info', 'fatal | error | warn | info | debug | trace | silent'],
  ['DATABASE_URL', '(unset)', 'postgres://user:pass@host:port/db: all shared state (registry, users, alerts, rule state, feed, outbox, readings unless InfluxDB) in PostgreSQL; several nodes may share it (README "Running on PostgreSQL")'],
  ['INFLUX_URL', '(unset)', 'InfluxDB URL; when unset, readings go to the embedded SQLite store'],
  ['INFLUX_API', 'v2', 'v2 (token/org/bucket) or v1 (/write and InfluxQL /query: InfluxDB 1.x, and 2.x/3.x in compatibility mode)'],
  ['INFLUX_TOKEN', '', 'InfluxDB v2 API token; required with INFLUX_URL when INFLUX_API=v2'],
  ['INFLUX_ORG', '', 'InfluxDB v2 organisation; required with INFLUX_URL when INFLUX_API=v2'],
  ['INFLUX_BUCKET', '', 'InfluxDB v2 bucket; required with INFLUX_URL when INFLUX_API=v2'],
  ['INFLUX_DB', '', 'InfluxDB v1 database; required with INFLUX_URL when INFLUX_API=v1'],
  ['INFLUX_USERNAME', '', 'InfluxDB v1 user name (optional)'],
  ['INFLUX_PASSWORD', '', 'InfluxDB v1 password (optional)'],
  ['INFLUX_BATCH_SIZE', '5000', 'points per InfluxDB write'],
  ['INFLUX_FLUSH_INTERVAL_MS', '1000', 'longest wait before a partial batch is written to InfluxDB'],
  ['MAX_PAYLOAD_BYTES', '65536', 'larger MQTT payloads are rejected (too_large); a PUBLISH declared larger than this + 1024 bytes closes the connection at once'],
  ['DEVICE_RATE_PER_S', '50', 'sustained publishes per second per device (rate_limited beyond)'],
  ['DEVICE_RATE_BURST', '500', 'burst allowance per device (e.g. a backlog flush)'],
  ['MAX_CLOCK_SKEW_S', '300', 'readings timestamped further in the future are rejected (future_ts)'],
  ['REJECT_LOG_INTERVAL_S', '60', 'a device\'s rejected messages are logged at most once per interval'],
  ['ALERT_ACK_S', '60', 'hazard alerts not acknowledged within this escalate to level 1 (1分钟响应)'],
  ['ALERT_CLOSE_S', '180', 'hazard alerts not closed within this escalate to level 2 (3分钟处置)'],
  ['ALERT_DEADLINES_BY_USE', '{}', 'deadlines per building use, JSON: {"hotel":{"ackS":120,"closeS":300}}'],
  ['OUTAGE_ALERT_S', '60', 'a service downtime longer than this raises one service_outage alert at start'],
  ['ALERT_DISPLAY_TARGET_S', '10', 'a hazard not shown on any duty console within this many seconds of its receipt (0–3600, fractions allowed; 0: not watched) raises the operational alert alarm_clock_late: GB 50440-2007 asks that an alarm reach the monitoring centre\'s display within 10 s (docs/standards.md fact 57)'],
  ['ALERT_FORWARD_TARGET_S', '3', 'a confirmed (acknowledged) fire alarm not forwarded to the platform within this many seconds of its acknowledgement (0–3600; 0: not watched) raises alarm_clock_late: GB 50440-2007 asks that a confirmed fire alarm reach the 119 command centre within 3 s (fact 57); only with an HTTP or MQTT uplink (GB/T 26875.3 has no frame for the confirmation)'],
  ['INCIDENT_WINDOW_S', '300', 'a hazard raised in a building joins its incident (警情) while any of the incident\'s alerts is unclosed, or within this many seconds (0–86400) of its last change; otherwise it opens a new incident'],
  ['MAINTENANCE_MAX_OPERATOR_H', '72', 'longest maintenance window (hours from now) a building operator may set; a longer one needs a duty officer or an admin, with a reason; every window is audited'],
  ['SESSION_TTL_H', '12', 'lifetime of a login session (one duty shift)'],
  ['READINGS_RETENTION_DAYS', '90', 'the embedded SQLite store keeps readings this many days after arrival, pruned hourly (0 = for ever); InfluxDB keeps its own retention'],
  ['LIVE_MAX_BUFFER_BYTES', '4194304', 'a live-feed client that falls this far behind is disconnected (close code 4008); it resumes with ?since='],
  ['PUBLIC_BASE_URL', '(the request\'s host)', 'base URL of the public safety-code pages the QR codes link to, e.g. https://firewatch.example.cn'],
  ['SAFETY_CODE_OFFLINE_H', '24', 'a device silent longer than this (hours) turns its building\'s safety code yellow; shorter outages are only noted'],
  ['COMMISSIONING_MAX_H', '72', 'a new device is in commissioning (调试: its alerts reach neither the duty board, the safety code nor the uplink) until put in service, at most this many hours after registration; the automatic transition is persisted'],
  ['UPLINK_HTTP_URL', '(off)', 'platform uplink: batched JSON POSTs ("firewatch.uplink/v1") to this http(s) URL'],
  ['UPLINK_HTTP_TOKEN', '(unset)', 'uplink HTTP auth: Authorization: Bearer <token> (not together with UPLINK_HTTP_HMAC_SECRET)'],
  ['UPLINK_HTTP_HMAC_SECRET', '(unset)', 'uplink HTTP auth instead: X-Firewatch-Signature: t=<unix>,v1=<HMAC-SHA256 hex of "t.body">'],
  ['UPLINK_HTTP_MAPPING', '(unset)', 'JSON file that renames/selects/translates payload fields (docs/uplink-format.md)'],
  ['UPLINK_HTTP_TIMEOUT_MS', '10000', 'an uplink POST without an answer within this is retried'],
  ['UPLINK_MQTT_URL', '(off)', 'platform uplink: QoS 1 publishes to this remote broker (mqtt, mqtts, ws, wss, tcp or ssl URL)'],
  ['UPLINK_MQTT_TOPIC', 'yuzhong/fire/{type}/{buildingId}', 'topic template; {type} {deviceId} {buildingId} {street} {id}'],
  ['UPLINK_GB26875_ADDR', '(off)', 'platform uplink: GB/T 26875.3 monitoring centre as host:port (Firewatch acts as a UITD)'],
  ['UPLINK_GB26875_SOURCE_ADDR', '1', 'our 48-bit GB/T 26875.3 source address (integer)'],
  ['UPLINK_GB26875_DEST_ADDR', '0', 'the monitoring centre\'s 48-bit address (integer)'],
  ['UPLINK_GB26875_TIMEOUT_MS', '10000', 'confirm timeout per attempt towards the monitoring centre, then a resend (3 resends, fact 4)'],
  ['UPLINK_GB26875_HEARTBEAT_S', '30', 'heartbeat interval towards the monitoring centre'],
  ['GB26875_DUTY_CHECK_S', '300', 'how long a duty check (查岗) has for its answer: the duty room on the console for the monitoring centre\'s, a UITD\'s person for our daily round; then it is recorded as missed / unanswered'],
  ['UPLINK_GB26875_STATUS_MAP', '(default table)', 'this centre\'s alert → component status bits: a JSON file, or inline JSON starting with {; checked at start (docs/gb26875-gateway.md#status-bits)'],
  ['UPLINK_READINGS', 'none', 'readings to forward: all | none | one per device per interval (60s, 5m) | per kind: electrical_fire=all,water_pressure=60s,*=none'],
  ['UPLINK_DEAD_LETTER_AFTER_S', '86400', 'uplink items not accepted within this are moved to the dead-letter list'],
  ['GB26875_TZ', '+08:00', 'the time zone of GB/T 26875.3 time tags, as an offset from UTC (+08:00, UTC+8, -05:30): the standard gives none, China Standard Time is what UITDs and centres here use (docs/gb26875-gateway.md, "The centre\'s commands"); both roles, and the centre\'s clock sync shifts our tags on top of it'],
  ['GB26875_DUTY_ROUND_AT', '09:00', 'the daily duty check (查岗) of every UITD in service, at this time of day in GB26875_TZ, with a report of who answered within GB26875_DUTY_CHECK_S (GET /api/v1/gb26875/duty-rounds); off: none'],
  ['GB26875_COMMAND_TIMEOUT_MS', '10000', 'a command the duty room sends a UITD (clock sync, duty check, reads) waits this long for its answer per try, 3 tries (fact 4: 10 s)'],
  ['GB26875_PORT', '(off)', 'TCP port of the GB/T 26875.3 gateway for UITDs (listens on GB26875_HOST); 0 picks a free port'],
  ['GB26875_VENDOR_MAPPING', '(unset)', 'JSON file mapping user-defined analog codes 128–255 per vendor (docs/gb26875-gateway.md)'],
  ['GB26875_HOST', '(value of MQTT_HOST)', 'address the GB/T 26875.3 gateway listens on, e.g. the VPN interface or 127.0.0.1 behind a TLS tunnel; unset = the value of MQTT_HOST'],
  ['GB26875_IDLE_TIMEOUT_S', '180', 'a UITD connection with no frame (heartbeats included) from an allowed, registered UITD for this long is closed; UITDs send heartbeats every 20–30 s'],
  ['GB26875_MAX_CONNECTIONS', '1000', 'UITD connections beyond this are accepted and closed at once (refused{reason="cap"})'],
  ['GB26875_MAX_CONNECTIONS_PER_PEER', '(no limit)', 'connections per peer IP beyond this are closed at once (refused{reason="peer_cap"}); leave unset when UITDs share an address (carrier NAT, a local TLS tunnel)'],
  ['GB26875_ALLOW', '(any peer)', 'IPs/CIDRs (comma-separated) that may send for a UITD registered without allowedPeers; the protocol has no authentication (docs/gb26875-gateway.md#security)'],
];

/** What the client commands (`firewatch import`) read: where the API is and the token to use. */
export interface ClientConfig {
  readonly api: string;
  readonly token?: string;
}

/** Client settings from the environment (FIREWATCH_API, FIREWATCH_TOKEN); command-line flags override them. */
export function loadClientConfig(env: Record<string, string | undefined> = process.env): ClientConfig {
  const api = env.FIREWATCH_API?.trim() || 'http://127.0.0.1:8080';
  const token = env.FIREWATCH_TOKEN?.trim();
  return token ? { api, token } : { api };
}
