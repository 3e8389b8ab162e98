/**
 * The HTTP API (Fastify). Plugins in tiers: external (swagger) → app (auth, errors) → routes.
 * Errors are application/problem+json (RFC 9457) with a stable `code`; 5xx details stay in the log.
 */
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
import type { ReadingStore } from '../sinks/sink.js';
import type { AuthService } from '../auth/auth-service.js';
import { bearerToken, type Principal } from './auth.js';
import { registerAuthRoutes, registerLoginRoute } from './routes/auth.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { LiveFeed } from '../alerts/live-feed.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerLiveRoute } from './routes/live.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerBuildingRoutes } from './routes/buildings.js';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health.js';
import { registerUplinkRoutes } from './routes/uplink.js';
import type { UplinkStatusSource } from '../uplink/model.js';
import type { SafetyCodeService } from '../alerts/safety-code-service.js';
import type { BuildingImporter } from '../import/building-import.js';
import { registerPublicSafetyCodeRoutes, registerSafetyCodeRoutes } from './routes/safety-code.js';
import { registerImportRoutes } from './routes/import.js';
import { registerCoverageRoutes } from './routes/coverage.js';
import { registerConsoleRoutes } from './routes/console.js';

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
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      return problem(reply, 400, 'validation_failed', 'Invalid request', err.message, {
        errors: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
      });
    }
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
  // data: no cache, proxy or browser history keeps them
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  registerHealthRoutes(app, deps);
  // the duty console: `/` and static assets under /console/ (dashboards/console/)
  await registerConsoleRoutes(app as Api);
  // the live feed authenticates from ?token= itself (browsers cannot set WebSocket headers)
  await registerLiveRoute(app as Api, { feed: deps.feed, auth: deps.auth, metrics: deps.metrics, maxBufferedBytes: deps.liveMaxBufferBytes });

  // the public fire-safety code page and JSON (no token; nothing private in them)
  await app.register(async (pub) => registerPublicSafetyCodeRoutes(pub.withTypeProvider<ZodTypeProvider>(), deps));
  // login needs no bearer token
  await app.register(async (pub) => registerLoginRoute(pub.withTypeProvider<ZodTypeProvider>(), { auth: deps.auth }), { prefix: '/api/v1' });

  await app.register(async (api) => {
    api.addHook('onRequest', async (req) => {
      const token = bearerToken(req.headers.authorization);
      const principal = token ? deps.auth.resolve(token) : undefined;
      if (!principal) throw new UnauthorizedError();
      req.principal = principal;
    });
    const typed = api.withTypeProvider<ZodTypeProvider>();
    registerBuildingRoutes(typed, deps);
    registerDeviceRoutes(typed, deps);
    registerAlertRoutes(typed, deps);
    registerUplinkRoutes(typed, deps);
    registerAuthRoutes(typed, { auth: deps.auth });
    registerSafetyCodeRoutes(typed, deps);
    registerCoverageRoutes(typed, deps);
    await registerImportRoutes(typed, deps);
  }, { prefix: '/api/v1' });

  return app as Api;
}
