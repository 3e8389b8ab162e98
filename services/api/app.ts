/**
 * The HTTP API (Fastify). Plugins in tiers: external (helmet, swagger) → app (auth, errors) → routes.
 * Errors are application/problem+json (RFC 9457) with a stable `code`; 5xx details stay in the log.
 *
 * Security headers (issue #12 item 11) come from @fastify/helmet on every response; the CSP
 * default is for JSON (`default-src 'none'`), and the pages that render set their own: the
 * console (routes/console.ts), the public safety-code page (routes/safety-code.ts) and /docs.
 * Failed bearer tokens are throttled per address (auth/bearer-guard.ts).
 */
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DeviceStatusTracker } from '../devices/device-status.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Metrics } from '../metrics/metrics.js';
import { AppError, UnauthorizedError } from '../shared/errors.js';
import type { ReadingStore } from '../storage/reading-store.js';
import { TooManyAttemptsError, type AuthService } from '../auth/auth-service.js';
import { BearerGuard } from '../auth/bearer-guard.js';
import type { Clock } from '../shared/clock.js';
import { bearerToken, type Principal } from './auth.js';
import { registerAuthRoutes, registerLoginRoute } from './routes/auth.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { LiveFeed } from '../live-feed/live-feed.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerLiveRoute } from './routes/live.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerDeviceTestRoutes } from './routes/device-tests.js';
import type { TestWindows } from '../devices/test-windows.js';
import { registerGb26875Routes, type Gb26875RouteDeps } from './routes/gb26875.js';
import { registerBuildingRoutes } from './routes/buildings.js';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health.js';
import { registerUplinkRoutes } from './routes/uplink.js';
import type { UplinkStatusSource } from '../uplink/model.js';
import type { SafetyCodeService } from '../safety-code/safety-code-service.js';
import type { BuildingImporter } from '../import/building-import.js';
import { registerPublicSafetyCodeRoutes, registerSafetyCodeRoutes } from './routes/safety-code.js';
import { registerImportRoutes } from './routes/import.js';
import { registerCoverageRoutes } from './routes/coverage.js';
import { registerConsoleRoutes } from './routes/console.js';
import { registerAuditRoutes } from './routes/audit.js';
import type { ChangeControl } from '../audit/change-control.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface ApiDeps {
  /** the platform uplink's status (issue #6); absent when no adapter is configured */
  uplink?: UplinkStatusSource;
  liveMaxBufferBytes: number;
  alerts: AlertService;
  feed: LiveFeed;
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
  readingStore: ReadingStore;
  /** backlog of the store the readings are forwarded to (InfluxDB), for /metrics; none with SQLite */
  sinkStatus?: () => { name: string; backlog: number; backlogAgeS: number };
  metrics: Metrics;
  auth: AuthService;
  readiness: ReadinessCheck[];
  /** issue #16: scheduled tests of fire-water points (absent in tests that do not need them) */
  tests?: TestWindows;
  /** issue #16 item 7: the GB/T 26875.3 gateway's view of UITD points; absent when the gateway is off */
  gb26875?: Omit<Gb26875RouteDeps, 'registry'>;
  /** issue #12 item 9: approval, reasons and the audit history of changes that weaken alerting */
  changeControl: ChangeControl;
  /** the service's clock (session expiry of live-feed sockets); the system clock when absent */
  clock?: Clock;
  log: Logger;
  version: string;
  /** issue #5: fire-safety codes, the survey import, and PUBLIC_BASE_URL for the QR codes' links */
  safetyCodes: SafetyCodeService;
  importer: BuildingImporter;
  publicBaseUrl?: string | undefined;
}

export type Api = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** `?token=…` in a logged URL becomes `?token=[redacted]`. */
export function redactQueryToken(url: string | undefined): string | undefined {
  return url?.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

function problem(reply: FastifyReply, status: number, code: string, title: string, detail: string, extra: object = {}) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `https://firewatch.local/problems/${code}`, title, status, code, detail, ...extra });
}

export async function buildApi(deps: ApiDeps): Promise<Api> {
  const app = Fastify({
    // per-request lines only when debugging; errors are always logged by the error handler
    loggerInstance: deps.log.child(
      { module: 'http' },
      {
        level: ['debug', 'trace'].includes(deps.log.level) ? deps.log.level : 'warn',
        // the live feed takes its token in the query string (browsers cannot set WebSocket headers)
        serializers: { req: (req: { method?: string; url?: string }) => ({ method: req.method, url: redactQueryToken(req.url) }) },
      },
    ) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(helmet, {
    // JSON renders nothing; pages that do render replace this with their own policy
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] } },
    xFrameOptions: { action: 'deny' },
    // no includeSubDomains: other hosts of the district's domain may still be plain HTTP
    strictTransportSecurity: { maxAge: 180 * 86_400, includeSubDomains: false },
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Firewatch API',
        description: '消防物联网遥测接入服务 — fire-facility telemetry ingestion (Yuzhong district)',
        version: deps.version,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // Swagger UI loads its own scripts and styles and calls this origin ("Try it out")
    staticCSP:
      "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'",
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      return problem(reply, 400, 'validation_failed', 'Invalid request', err.message, {
        errors: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
      });
    }
    // RFC 9110 §10.2.3: tell a well-behaved client when to come back
    if (err instanceof TooManyAttemptsError) reply.header('retry-after', String(err.retryAfterS));
    if (err instanceof AppError) {
      return problem(reply, err.status, err.code, err.name, err.message, err.details ? { details: err.details } : {});
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode < 500) {
      return problem(reply, e.statusCode, (e.code ?? 'bad_request').toLowerCase(), 'Bad request', e.message ?? 'bad request');
    }
    req.log.error({ err }, 'unhandled error');
    return problem(reply, 500, 'internal_error', 'Internal error', 'an internal error occurred; see the service log');
  });
  app.setNotFoundHandler((req, reply) => problem(reply, 404, 'not_found', 'Not found', `no route ${req.method} ${req.url}`));

  // API answers can carry credentials (a device secret, an API token, a login session) or people's
  // data: no cache, proxy or browser history keeps them (matched by route too: a percent-encoded
  // path such as /%61pi/… reaches the same route)
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith('/api/') || req.routeOptions.url?.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  const guard = new BearerGuard({
    now: () => deps.feed.now(),
    onFailure: (result) => deps.metrics.authFailures.inc({ method: 'bearer', result }),
  });

  registerHealthRoutes(app, deps);
  // the duty console: `/` and static assets under /console/ (dashboards/console/)
  await registerConsoleRoutes(app as Api);
  // the live feed authenticates from ?token= itself (browsers cannot set WebSocket headers)
  await registerLiveRoute(app as Api, {
    feed: deps.feed,
    auth: deps.auth,
    guard,
    ...(deps.clock ? { clock: deps.clock } : {}),
    metrics: deps.metrics,
    maxBufferedBytes: deps.liveMaxBufferBytes,
  });

  // the public fire-safety code page and JSON (no token; nothing private in them)
  await app.register(async (pub) => registerPublicSafetyCodeRoutes(pub.withTypeProvider<ZodTypeProvider>(), deps));
  // login needs no bearer token
  await app.register(async (pub) => registerLoginRoute(pub.withTypeProvider<ZodTypeProvider>(), { auth: deps.auth, metrics: deps.metrics }), { prefix: '/api/v1' });

  await app.register(async (api) => {
    api.addHook('onRequest', async (req) => {
      const token = bearerToken(req.headers.authorization);
      // a wrong token counts against the address; a throttled one is a 429 (TooManyAttemptsError)
      const principal = token ? guard.authenticate(token, req.ip, (t, o) => deps.auth.resolveCredential(t, o)?.principal) : undefined;
      if (!principal) throw new UnauthorizedError();
      req.principal = principal;
    });
    const typed = api.withTypeProvider<ZodTypeProvider>();
    registerBuildingRoutes(typed, deps);
    registerDeviceRoutes(typed, deps);
    if (deps.tests) registerDeviceTestRoutes(typed, { registry: deps.registry, tests: deps.tests, now: () => deps.clock?.now() ?? Date.now() });
    if (deps.gb26875) registerGb26875Routes(typed, { registry: deps.registry, ...deps.gb26875 });
    registerAlertRoutes(typed, deps);
    registerAuditRoutes(typed, deps);
    registerUplinkRoutes(typed, deps);
    registerAuthRoutes(typed, { auth: deps.auth });
    registerSafetyCodeRoutes(typed, deps);
    registerCoverageRoutes(typed, deps);
    await registerImportRoutes(typed, deps);
  }, { prefix: '/api/v1' });

  return app as Api;
}
