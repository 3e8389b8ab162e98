/**
 * The duty console (值班控制台): static ES modules and CSS from dashboards/console/, no build step.
 * `/` answers index.html, assets are under `/console/…`. The console is a plain client of the
 * public API (/api/v1, the live feed); it has no server-side logic and no privileges of its own.
 *
 * A plugin registered with `app.register`, so an encapsulated scope of its own: @fastify/static's
 * reply decorator cannot collide with the copy that @fastify/swagger-ui registers for /docs, and
 * the console's CSP applies to the console only.
 */
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Api } from '../types.js';

/** The console's folder: found by walking up from this file (runs from source and from dist/). */
export function findConsoleRoot(from = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'dashboards', 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`dashboards/console/index.html not found above ${from}`);
  }
}

// The console loads only its own scripts and styles and talks only to this origin (fetch and the
// WebSocket feed); the safety-code QR is shown from a blob: URL. No inline script or style.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export interface ConsoleRouteOptions {
  /** the console's folder; found with findConsoleRoot() when absent */
  root?: string;
}

/** Public (no token): the console holds no data; it asks the API for everything with the user's token. */
export async function consoleRoutes(app: Api, opts: ConsoleRouteOptions): Promise<void> {
  const root = opts.root ?? findConsoleRoot();
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    return payload;
  });
  // revalidate on every load (ETag): a console left open on a wall screen picks up a new version on reload
  await app.register(fastifyStatic, { root, prefix: '/console/', index: false, cacheControl: true, maxAge: 0 });
  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html'));
}
