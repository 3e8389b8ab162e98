/**
 * The authenticated tier of the API: registered first in the /api/v1 scope of app.ts, it makes
 * every route registered after it in that scope (and in the route plugins below it) need a bearer
 * token and one of the roles the route declares in its config:
 *
 *   app.get('/audit', { config: { roles: ['admin', 'duty'] }, schema: {…} }, handler)
 *
 * One onRequest hook does both checks, in this order:
 * 1. the bearer token → `req.principal`, or 401 (a wrong token counts against the address in the
 *    BearerGuard; a throttled address gets 429);
 * 2. `req.routeOptions.config.roles` must include the principal's role, or 403 with the error
 *    `requireRole` (auth/scope.ts) throws: "this needs the role admin or duty".
 * It is onRequest, not preHandler, on purpose: preHandler runs after the body is parsed and
 * validated, so a caller without the role would get a 400 describing the body the route expects
 * (and the import route would read 8 MiB) before hearing 403. The handler then takes the
 * principal with `principalOf(req)` and checks only what depends on the resource (canReadBuilding,
 * canWriteRegistry, …).
 *
 * Fail closed: a route registered in this scope without `config.roles` is a startup error (the
 * onRoute hook throws, so buildApi rejects and the service does not start), rather than a route
 * that any role may call because someone forgot to say which. Should a route reach a request
 * without roles all the same, it answers 403 to everyone.
 *
 * The plugin is marked skip-override (what fastify-plugin does) so that its hooks land in the
 * scope that registers it instead of an encapsulated scope of its own.
 */
import type { FastifyRequest } from 'fastify';
import type { BearerGuard } from '../auth/bearer-guard.js';
import { ROLES, type LiveAuthenticator, type Principal } from '../auth/model.js';
import { requireRole } from '../auth/scope.js';
import { ForbiddenError, UnauthorizedError } from '../shared/errors.js';
import { bearerToken } from './auth.js';
import type { Api } from './types.js';

export interface AuthenticatedOptions {
  /** resolves bearer tokens: sessions, API tokens and the admin token (the AuthService) */
  auth: Pick<LiveAuthenticator, 'resolveCredential'>;
  /** per-address throttling of failed tokens, shared with the live feed */
  guard: BearerGuard;
}

const isRole = (r: unknown) => (ROLES as readonly unknown[]).includes(r);

async function authenticatedPlugin(scope: Api, { auth, guard }: AuthenticatedOptions): Promise<void> {
  // the guard passes `admin: false` where the admin token must not even be compared (a throttled address)
  const resolve = async (token: string, opts: { admin: boolean }) => (await auth.resolveCredential(token, opts))?.principal;

  scope.addHook('onRoute', (route) => {
    const roles: unknown = route.config?.roles;
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every(isRole)) {
      const method = Array.isArray(route.method) ? route.method.join(',') : route.method;
      throw new Error(
        `${method} ${route.url} is an authenticated route and must declare who may call it: config.roles, a non-empty list of ${ROLES.join(', ')} (got ${JSON.stringify(roles)})`,
      );
    }
  });

  scope.addHook('onRequest', async (req) => {
    const token = bearerToken(req.headers.authorization);
    // a wrong token counts against the address; a throttled one is a 429 (TooManyAttemptsError)
    const principal = token ? await guard.authenticate(token, req.ip, resolve) : undefined;
    if (!principal) throw new UnauthorizedError();
    req.principal = principal;
    const roles = req.routeOptions.config.roles;
    if (!roles || roles.length === 0) throw new ForbiddenError('this route admits no role');
    requireRole(principal, ...roles);
  });
}

export const authenticated = Object.assign(authenticatedPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'firewatch-authenticated',
});

/** The caller of a route in the authenticated scope (set by the hook above); 401 if there is none. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new UnauthorizedError();
  return req.principal;
}
