/**
 * The HTTP API (Fastify), built as plugins in tiers (the layout of fastify/demo):
 *
 * 1. external plugins, at the root: @fastify/helmet, @fastify/swagger(-ui) (and @fastify/websocket,
 *    at the root too, just before the live feed); then the error and not-found handlers (application/problem+json, RFC 9457, with a stable
 *    `code`; 5xx details stay in the log) and the no-store header on /api/ answers;
 * 2. public route plugins, which take no bearer token: health and metrics (routes/health.ts), the
 *    duty console (routes/console.ts), the live feed (routes/live.ts, which authenticates from
 *    `?token=` itself), the public safety-code page and JSON (routes/safety-code.ts) and login
 *    (routes/auth.ts);
 * 3. the authenticated /api/v1 scope: the `authenticated` plugin (authenticated.ts) first, then
 *    one plugin per route file, each registered with `app.register(plugin, options)` and given only
 *    the dependencies it uses.
 *
 * The role rule: every route of the authenticated scope says who may call it in its config,
 * `{ config: { roles: ['admin', 'duty'] }, schema: {…} }`. The scope's one onRequest hook turns the
 * bearer token into `req.principal` (401 without one) and refuses a role not in that list (403,
 * "this needs the role admin or duty"); a route that declares no roles fails at startup. Handlers
 * take the caller with `principalOf(req)` and check only what depends on the resource (scope:
 * canReadBuilding, canWriteRegistry, … in auth/scope.ts).
 *
 * Route files import their types from types.ts, never from this file: this file imports them.
 *
 * Security headers (issue #12 item 11) come from @fastify/helmet on every response; the CSP
 * default is for JSON (`default-src 'none'`), and the pages that render set their own: the
 * console (routes/console.ts), the public safety-code page (routes/safety-code.ts) and /docs.
 * Failed bearer tokens are throttled per address (auth/bearer-guard.ts).
 */
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { TooManyAttemptsError } from '../auth/auth-service.js';
import { BearerGuard } from '../auth/bearer-guard.js';
import { AppError } from '../shared/errors.js';
import { authenticated } from './authenticated.js';
import { alertRoutes } from './routes/alerts.js';
import { incidentRoutes } from './routes/incidents.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes, loginRoutes } from './routes/auth.js';
import { buildingRoutes } from './routes/buildings.js';
import { consoleRoutes } from './routes/console.js';
import { coverageRoutes } from './routes/coverage.js';
import { deviceTestRoutes } from './routes/device-tests.js';
import { deviceRoutes } from './routes/devices.js';
import { gb26875Routes } from './routes/gb26875.js';
import { healthRoutes } from './routes/health.js';
import { importRoutes } from './routes/import.js';
import { liveRoutes } from './routes/live.js';
import { publicSafetyCodeRoutes, safetyCodeRoutes } from './routes/safety-code.js';
import { ruleReplayRoutes } from './routes/rules-replay.js';
import { uplinkRoutes } from './routes/uplink.js';
import type { Api, ApiDeps } from './types.js';

export type { Api, ApiDeps } from './types.js';

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
  const app: Api = Fastify({
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

  // ── 1. external plugins ─────────────────────────────────────────────────────
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

  // ── 2. public routes (no bearer token) ──────────────────────────────────────
  await app.register(healthRoutes, { readiness: deps.readiness, metrics: deps.metrics, sinkStatus: deps.sinkStatus });
  // the duty console: `/` and static assets under /console/ (dashboards/console/)
  await app.register(consoleRoutes, {});
  // at the root, not in the live feed's plugin (it is fastify-plugin wrapped and hooks into every
  // route registered after it): an upgrade request to any other route is closed, not left open
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // the live feed authenticates from ?token= itself (browsers cannot set WebSocket headers)
  await app.register(liveRoutes, {
    feed: deps.feed,
    auth: deps.auth,
    guard,
    ...(deps.clock ? { clock: deps.clock } : {}),
    metrics: deps.metrics,
    maxBufferedBytes: deps.liveMaxBufferBytes,
  });
  // the public fire-safety code page and JSON (nothing private in them)
  await app.register(publicSafetyCodeRoutes, { safetyCodes: deps.safetyCodes });
  // login is how a person gets a token
  await app.register(loginRoutes, { prefix: '/api/v1', auth: deps.auth, metrics: deps.metrics });

  // ── 3. the authenticated scope: bearer token, and the roles each route declares ──
  await app.register(
    async (api: Api) => {
      await api.register(authenticated, { auth: deps.auth, guard });
      const { registry, changeControl, auth } = deps;
      await api.register(buildingRoutes, { registry, changeControl });
      await api.register(deviceRoutes, { registry, status: deps.status, changeControl, readingStore: deps.readingStore, feed: deps.feed, clock: deps.clock });
      if (deps.tests) await api.register(deviceTestRoutes, { registry, tests: deps.tests, now: () => deps.clock?.now() ?? Date.now() });
      if (deps.gb26875) await api.register(gb26875Routes, { registry, ...deps.gb26875 });
      await api.register(alertRoutes, { alerts: deps.alerts, registry, changeControl, auth });
      // rule replay (试算, issue #15 item 3): reads readings and alerts, changes nothing
      await api.register(ruleReplayRoutes, {
        registry,
        readingStore: deps.readingStore,
        alerts: deps.alerts,
        status: deps.status,
        tests: deps.tests,
        sinkStatus: deps.sinkStatus,
        now: () => deps.clock?.now() ?? Date.now(),
      });
      await api.register(incidentRoutes, { incidents: deps.incidents });
      await api.register(auditRoutes, { changeControl, auth });
      await api.register(uplinkRoutes, { uplink: deps.uplink, dutyChecks: deps.dutyChecks });
      await api.register(authRoutes, { auth });
      await api.register(safetyCodeRoutes, { registry, safetyCodes: deps.safetyCodes, publicBaseUrl: deps.publicBaseUrl });
      await api.register(coverageRoutes, { registry, status: deps.status });
      await api.register(importRoutes, { importer: deps.importer });
    },
    { prefix: '/api/v1' },
  );

  return app;
}
