/**
 * /api/v1/auth/* (login, logout, me), /api/v1/users and /api/v1/tokens (admin only).
 * `registerLoginRoute` is mounted outside the bearer-token scope: it is how a person gets a token.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuthService } from '../../auth/auth-service.js';
import { InvalidCredentialsError, TooManyAttemptsError } from '../../auth/auth-service.js';
import { requireRole } from '../../auth/scope.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Api } from '../app.js';
import { bearerToken } from '../auth.js';
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

export interface AuthRouteDeps {
  auth: AuthService;
}

export function registerLoginRoute(app: Api, { auth, metrics }: AuthRouteDeps & { metrics?: Metrics }): void {
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

// A route-level onRequest hook runs after the scope's bearer-token hook, and before body
// validation, so a non-admin gets 403 rather than learning what a valid body looks like.
const adminOnly = async (req: FastifyRequest) => {
  requireRole(req.principal, 'admin');
};

export function registerAuthRoutes(app: Api, { auth }: AuthRouteDeps): void {
  const authTags = ['auth'];
  app.post('/auth/logout', { schema: { tags: authTags, response: { 204: z.null() } } }, async (req, reply) => {
    // only sessions end; API tokens and the admin token are revoked elsewhere
    const token = bearerToken(req.headers.authorization);
    if (token && req.principal?.kind === 'user') auth.logout(token);
    return reply.code(204).send(null);
  });
  app.get('/auth/me', { schema: { tags: authTags, response: { 200: Principal } } }, async (req) => requireRole(req.principal, 'admin', 'duty', 'operator', 'platform'));

  const userTags = ['users'];
  app.post('/users', { onRequest: adminOnly, schema: { tags: userTags, body: UserBody, response: { 201: User } } }, async (req, reply) =>
    reply.code(201).send(await auth.createUser(req.body)),
  );
  app.get('/users', { onRequest: adminOnly, schema: { tags: userTags, response: { 200: UserList } } }, async () => ({ items: auth.listUsers() }));
  app.get('/users/:id', { onRequest: adminOnly, schema: { tags: userTags, params: AuthIdParams, response: { 200: User } } }, async (req) =>
    auth.getUser(req.params.id),
  );
  app.patch(
    '/users/:id',
    { onRequest: adminOnly, schema: { tags: userTags, params: AuthIdParams, body: UserPatchBody, response: { 200: User } } },
    async (req) => auth.updateUser(req.params.id, req.body),
  );
  app.delete('/users/:id', { onRequest: adminOnly, schema: { tags: userTags, params: AuthIdParams, response: { 204: z.null() } } }, async (req, reply) => {
    auth.deleteUser(req.params.id);
    return reply.code(204).send(null);
  });

  const tokenTags = ['tokens'];
  app.post('/tokens', { onRequest: adminOnly, schema: { tags: tokenTags, body: TokenBody, response: { 201: CreatedApiToken } } }, async (req, reply) =>
    reply.code(201).send(auth.createApiToken(req.body)),
  );
  app.get('/tokens', { onRequest: adminOnly, schema: { tags: tokenTags, response: { 200: ApiTokenList } } }, async () => ({ items: auth.listApiTokens() }));
  app.delete('/tokens/:id', { onRequest: adminOnly, schema: { tags: tokenTags, params: AuthIdParams, response: { 204: z.null() } } }, async (req, reply) => {
    auth.revokeApiToken(req.params.id);
    return reply.code(204).send(null);
  });
}
