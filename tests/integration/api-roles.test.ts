/**
 * The API's role-in-config rule (issue #13 items 4 and 6) against the real service: every route of
 * the authenticated /api/v1 scope needs a bearer token (401), declares `config.roles`, and answers
 * a principal of another role with the 403 problem body that `requireRole` has always given.
 *
 * The routes are not listed by hand: Fastify publishes each new instance on the
 * `fastify.initialization` diagnostics channel before anything is registered on it, and an onRoute
 * hook added there sees every route the real buildApi registers, with the config it was given.
 * A route added tomorrow is checked without touching this file.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticated } from '../../services/api/authenticated.js';
import { BearerGuard } from '../../services/auth/bearer-guard.js';
import { ROLES, type Role } from '../../services/auth/model.js';
import { ADMIN_TOKEN, ApiClient, startService, type TestService } from '../support/service.js';

interface SeenRoute {
  method: string;
  url: string;
  roles: unknown;
}

/** routes per Fastify instance created while the service starts */
const routesOf = new Map<FastifyInstance, SeenRoute[]>();
const onInit = (message: unknown) => {
  const { fastify } = message as { fastify: FastifyInstance };
  const seen: SeenRoute[] = [];
  routesOf.set(fastify, seen);
  fastify.addHook('onRoute', (r: RouteOptions) => {
    for (const method of [r.method].flat()) seen.push({ method, url: r.url, roles: r.config?.roles });
  });
};

/**
 * The /api/v1 routes that take no bearer token in the HTTP tiers: login (how a person gets a token)
 * and the live feed, which authenticates from `?token=` itself and closes the socket with 4001
 * (tests/integration/live-*.test.ts and roles.test.ts cover it).
 */
const PUBLIC_V1 = new Set(['POST /api/v1/auth/login', 'GET /api/v1/live', 'HEAD /api/v1/live']);

let svc: TestService;
let routes: SeenRoute[];
let authenticatedRoutes: SeenRoute[];
const tokens = {} as Record<Role, string>;
const anonymous = () => new ApiClient(svc.fw.httpUrl, undefined);

const key = (r: Pick<SeenRoute, 'method' | 'url'>) => `${r.method} ${r.url}`;
/** a URL that reaches the route: every parameter (and wildcard) filled in with an id that does not exist */
const concrete = (url: string) => url.replace(/:[A-Za-z_]\w*/g, 'no-such-id').replace(/\*/g, 'x');
const forbidden = (roles: readonly string[]) => ({
  type: 'https://firewatch.local/problems/forbidden',
  title: 'AppError',
  status: 403,
  code: 'forbidden',
  detail: `this needs the role ${roles.join(' or ')}`,
});

beforeAll(async () => {
  subscribe('fastify.initialization', onInit);
  try {
    // the GB/T 26875.3 gateway on, so its routes are registered too (devices' scheduled tests always are)
    svc = await startService({ GB26875_PORT: '0' });
  } finally {
    unsubscribe('fastify.initialization', onInit);
  }
  routes = routesOf.get(svc.fw.api as unknown as FastifyInstance) ?? [];
  authenticatedRoutes = routes.filter((r) => r.url.startsWith('/api/v1/') && !PUBLIC_V1.has(key(r)));

  const admin = svc.api;
  expect((await admin.post('/api/v1/buildings', { id: 'b-roles', name: '解放碑某商场', street: '解放碑', address: '民族路 1 号', type: 'public', use: 'market' })).status).toBe(201);
  expect((await admin.post('/api/v1/users', { username: 'zhao.duty', password: 'duty-password-1', role: 'duty', streets: ['解放碑'] })).status).toBe(201);
  expect((await admin.post('/api/v1/users', { username: 'qian.ops', password: 'operator-pass-1', role: 'operator', buildingIds: ['b-roles'] })).status).toBe(201);
  const platform = await admin.post('/api/v1/tokens', { name: 'city-platform', role: 'platform' });
  expect(platform.status).toBe(201);
  const login = async (username: string, password: string) => {
    const r = await anonymous().post('/api/v1/auth/login', { username, password });
    expect(r.status).toBe(200);
    return r.body.token as string;
  };
  tokens.admin = ADMIN_TOKEN;
  tokens.duty = await login('zhao.duty', 'duty-password-1');
  tokens.operator = await login('qian.ops', 'operator-pass-1');
  tokens.platform = platform.body.token;
});
afterAll(async () => {
  await svc?.stop();
});

describe('the routes, as the real API registers them', () => {
  it('are seen: the listing is the service\'s own, not empty or a stray instance', () => {
    const keys = new Set(routes.map(key));
    for (const k of ['POST /api/v1/buildings', 'GET /api/v1/users', 'GET /api/v1/audit', 'POST /api/v1/import/buildings', 'GET /api/v1/devices/:id/gb26875', 'GET /healthz', ...PUBLIC_V1]) {
      expect(keys, k).toContain(k);
    }
    expect(authenticatedRoutes.length).toBeGreaterThan(40);
  });
});

describe('(a) without a bearer token', () => {
  it('every /api/v1 route but login and the live feed answers 401 unauthorized', async () => {
    const answers: Record<string, unknown> = {};
    for (const r of authenticatedRoutes) {
      const res = await anonymous().request(r.method, concrete(r.url), undefined, undefined);
      answers[key(r)] = r.method === 'HEAD' ? res.status : [res.status, res.body?.code, res.headers.get('content-type')];
    }
    const expected = Object.fromEntries(
      authenticatedRoutes.map((r) => [key(r), r.method === 'HEAD' ? 401 : [401, 'unauthorized', 'application/problem+json; charset=utf-8']]),
    );
    expect(answers).toEqual(expected);
  });

  it('login and the public pages still answer without one', async () => {
    expect((await anonymous().post('/api/v1/auth/login', { username: 'zhao.duty', password: 'duty-password-1' })).status).toBe(200);
    expect((await anonymous().get('/healthz')).status).toBe(200);
    expect((await anonymous().get('/api/public/safety-code/no-such-id')).status).toBe(404);
  });
});

describe('(b) every authenticated route declares who may call it', () => {
  it('config.roles is a non-empty list of known roles on each of them', () => {
    const bad = authenticatedRoutes.filter((r) => !Array.isArray(r.roles) || r.roles.length === 0 || !r.roles.every((x) => (ROLES as readonly unknown[]).includes(x)));
    expect(bad.map((r) => `${key(r)} roles=${JSON.stringify(r.roles)}`)).toEqual([]);
  });

  it('a route registered in the authenticated scope without roles stops the API from starting', async () => {
    for (const config of [{}, { roles: [] }, { roles: ['root'] }]) {
      const app = Fastify().withTypeProvider<ZodTypeProvider>();
      app.setValidatorCompiler(validatorCompiler);
      app.setSerializerCompiler(serializerCompiler);
      await expect(
        app.register(
          async (api) => {
            await api.register(authenticated, { auth: { resolveCredential: async () => undefined }, guard: new BearerGuard() });
            await api.register(async (routes) => {
              routes.get('/forgotten', { config: config as never }, async () => 'open to anyone');
            });
          },
          { prefix: '/api/v1' },
        ),
      ).rejects.toThrow(/GET \/api\/v1\/forgotten is an authenticated route and must declare who may call it: config\.roles/);
      await app.close();
    }
  });
});

describe('(c) a principal whose role the route does not list', () => {
  const as = (role: Role) => new ApiClient(svc.fw.httpUrl, tokens[role]);

  it('gets the 403 problem body requireRole gave, on representative routes, before the body is looked at', async () => {
    const cases: Array<[Role, string, string, unknown, string]> = [
      ['platform', 'POST', '/api/v1/buildings', { name: 'x', street: '解放碑', type: 'public' }, 'this needs the role admin'],
      ['duty', 'POST', '/api/v1/buildings', {}, 'this needs the role admin'],
      ['operator', 'DELETE', '/api/v1/buildings/b-roles', undefined, 'this needs the role admin'],
      ['operator', 'GET', '/api/v1/audit', undefined, 'this needs the role admin or duty'],
      ['operator', 'GET', '/api/v1/uplink', undefined, 'this needs the role admin or duty or platform'],
      ['duty', 'POST', '/api/v1/import/buildings', { csv: 'not a survey' }, 'this needs the role admin'],
      ['duty', 'GET', '/api/v1/users', undefined, 'this needs the role admin'],
      ['platform', 'POST', '/api/v1/tokens', { name: 'mine', role: 'platform' }, 'this needs the role admin'],
    ];
    for (const [role, method, path, body, detail] of cases) {
      const r = await as(role).request(method, path, body);
      expect([role, method, path, r.status, r.headers.get('content-type'), r.body]).toEqual([
        role,
        method,
        path,
        403,
        'application/problem+json; charset=utf-8',
        { type: 'https://firewatch.local/problems/forbidden', title: 'AppError', status: 403, code: 'forbidden', detail },
      ]);
    }
    // nothing happened: the building is still there
    expect((await svc.api.get('/api/v1/buildings/b-roles')).status).toBe(200);
  });

  it('on every authenticated route, each role it does not list gets that 403; each role it lists gets past the check (GET)', async () => {
    const wrong: string[] = [];
    for (const r of authenticatedRoutes) {
      const listed: readonly Role[] = Array.isArray(r.roles) ? r.roles : [];
      for (const role of ROLES) {
        if (!listed.includes(role)) {
          const res = await as(role).request(r.method, concrete(r.url), r.method === 'GET' || r.method === 'HEAD' || r.method === 'DELETE' ? undefined : {});
          const ok = res.status === 403 && (r.method === 'HEAD' || JSON.stringify(res.body) === JSON.stringify(forbidden(listed)));
          if (!ok) wrong.push(`${role} ${key(r)}: ${res.status} ${JSON.stringify(res.body)}`);
        } else if (r.method === 'GET') {
          const res = await as(role).request('GET', concrete(r.url));
          if (res.status === 401 || String(res.body?.detail ?? '').startsWith('this needs the role')) wrong.push(`${role} ${key(r)} (listed): ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
