/**
 * /api/v1/auth/* (login, logout, me), /api/v1/users and /api/v1/tokens (admin only).
 * `loginRoutes` is mounted outside the bearer-token scope: it is how a person gets a token.
 */
import { z } from 'zod';
import type { AuthService } from '../../auth/auth-service.js';
import { InvalidCredentialsError, TooManyAttemptsError } from '../../auth/auth-service.js';
import { ROLES, type Role } from '../../auth/model.js';
import type { Metrics } from '../../metrics/metrics.js';
import { bearerToken } from '../auth.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import {
  ApiTokenList,
  AuthIdParams,
  CreatedApiToken,
  LoginBody,
  LoginResponse,
  Principal,
  TokenBody,
  User,
  UserBody,
  UserList,
  UserPatchBody,
} from '../schemas/auth.js';

export interface LoginRouteOptions {
  auth: Pick<AuthService, 'login'>;
  /** counts failed and throttled logins; none in tests that do not look */
  metrics?: Metrics | undefined;
}

/** Public (no token). */
export async function loginRoutes(app: Api, { auth, metrics }: LoginRouteOptions): Promise<void> {
  app.post(
    '/auth/login',
    { schema: { tags: ['auth'], security: [], body: LoginBody, response: { 200: LoginResponse } } },
    async (req, reply) => {
      try {
        return await auth.login(req.body.username, req.body.password, req.ip);
      } catch (err) {
        // RFC 9110 §10.2.3: tell a well-behaved client when to come back
        if (err instanceof TooManyAttemptsError) reply.header('retry-after', String(err.retryAfterS));
        if (err instanceof TooManyAttemptsError || err instanceof InvalidCredentialsError) {
          metrics?.authFailures.inc({ method: 'login', result: err instanceof TooManyAttemptsError ? 'throttled' : 'invalid' });
        }
        throw err;
      }
    },
  );
}

export interface AuthRouteOptions {
  auth: AuthService;
}

// The role is checked in the scope's onRequest hook (authenticated.ts), before the body is
// validated, so a non-admin gets 403 rather than learning what a valid body looks like.
const adminOnly: { roles: readonly Role[] } = { roles: ['admin'] };

export async function authRoutes(app: Api, { auth }: AuthRouteOptions): Promise<void> {
  const authTags = ['auth'];
  app.post('/auth/logout', { config: { roles: ROLES }, schema: { tags: authTags, response: { 204: z.null() } } }, async (req, reply) => {
    // only sessions end; API tokens and the admin token are revoked elsewhere
    const token = bearerToken(req.headers.authorization);
    if (token && principalOf(req).kind === 'user') await auth.logout(token);
    return reply.code(204).send(null);
  });
  app.get('/auth/me', { config: { roles: ROLES }, schema: { tags: authTags, response: { 200: Principal } } }, async (req) => principalOf(req));

  const userTags = ['users'];
  app.post('/users', { config: adminOnly, schema: { tags: userTags, body: UserBody, response: { 201: User } } }, async (req, reply) =>
    reply.code(201).send(await auth.createUser(req.body)),
  );
  app.get('/users', { config: adminOnly, schema: { tags: userTags, response: { 200: UserList } } }, async () => ({ items: await auth.listUsers() }));
  app.get('/users/:id', { config: adminOnly, schema: { tags: userTags, params: AuthIdParams, response: { 200: User } } }, async (req) =>
    auth.getUser(req.params.id),
  );
  app.patch(
    '/users/:id',
    { config: adminOnly, schema: { tags: userTags, params: AuthIdParams, body: UserPatchBody, response: { 200: User } } },
    async (req) => auth.updateUser(req.params.id, req.body),
  );
  app.delete('/users/:id', { config: adminOnly, schema: { tags: userTags, params: AuthIdParams, response: { 204: z.null() } } }, async (req, reply) => {
    await auth.deleteUser(req.params.id);
    return reply.code(204).send(null);
  });

  const tokenTags = ['tokens'];
  app.post('/tokens', { config: adminOnly, schema: { tags: tokenTags, body: TokenBody, response: { 201: CreatedApiToken } } }, async (req, reply) =>
    reply.code(201).send(await auth.createApiToken(req.body)),
  );
  app.get('/tokens', { config: adminOnly, schema: { tags: tokenTags, response: { 200: ApiTokenList } } }, async () => ({ items: await auth.listApiTokens() }));
  app.delete('/tokens/:id', { config: adminOnly, schema: { tags: tokenTags, params: AuthIdParams, response: { 204: z.null() } } }, async (req, reply) => {
    await auth.revokeApiToken(req.params.id);
    return reply.code(204).send(null);
  });
}
