/**
 * GET /api/v1/live — the live feed over WebSocket.
 *
 * Auth: `?token=` (browsers cannot set headers on a WebSocket) or an Authorization header.
 * Resume: `?since=<seq>` replays every event after that sequence number from the durable log,
 * then continues live; no gap, no duplicate (events are sent in seq order, each once).
 * Filters: `?street=a,b` and `?buildingId=x`, on top of the principal's own scope. Alert events of
 * a device being commissioned (调试, issue #17 item 6) go to operators and admins only.
 * A slow client never slows ingestion: publishing only queues on its socket, and a client whose
 * socket buffer passes `maxBufferedBytes` is closed with 4008 — it reconnects with `since`.
 *
 * A socket lives no longer than its credential (issue #12 item 5). Each socket remembers the
 * token it was opened with; the auth service's change events close it with 4001 at once, before
 * any further event is sent, with the reason as the close reason: `logout`, `session_expired`,
 * `token_revoked`, `token_expired`, `user_disabled`, `user_deleted`, `password_changed`,
 * `role_changed`, `scope_changed`. A session or an expiring API token also has a timer to its
 * expiry on the service's clock. The admin token (ADMIN_TOKEN) is static and never ends a socket.
 *
 * Role and scope changes close the socket too, rather than re-scoping it in place: the client's
 * board was loaded under the old scope, and neither a narrower scope (alerts it may no longer see
 * stay on screen) nor a wider one (active alerts of the new buildings were never sent, and `since`
 * cannot replay what was filtered out) is right without a fresh load. The credential still works,
 * so the client reconnects and reloads (the console does so on those two reasons).
 *
 * Failed tokens count against the address like any bearer token (BearerGuard): where the address
 * is throttled, a token that does not pass is closed with 4029 and `too_many_attempts retry-after=<s>`.
 *
 * A public route as far as the HTTP tiers go (it is not in the authenticated /api/v1 scope and
 * declares no config.roles): every role may open the feed, and what it is sent is the principal's
 * scope. @fastify/websocket is registered at the root by app.ts, before this plugin.
 */
import { z } from 'zod';
import type { LiveFeed } from '../../live-feed/live-feed.js';
import type { FeedEvent } from '../../live-feed/model.js';
import type { BearerGuard } from '../../auth/bearer-guard.js';
import { TooManyAttemptsError } from '../../auth/auth-service.js';
import type { LiveAuthenticator, PrincipalChange, ResolvedCredential } from '../../auth/model.js';
import { buildingFilterFor, filterAllows, type BuildingFilter } from '../../auth/scope.js';
import type { Metrics } from '../../metrics/metrics.js';
import { SystemClock, type Clock, type TimerHandle } from '../../shared/clock.js';
import { bearerToken } from '../auth.js';
import type { Api } from '../types.js';

export interface LiveRouteOptions {
  feed: LiveFeed;
  metrics: Metrics;
  auth: LiveAuthenticator;
  /** per-address throttling of failed tokens, shared with the HTTP API; none = not throttled */
  guard?: BearerGuard;
  /** the clock the auth service's expiry times are on */
  clock?: Clock;
  maxBufferedBytes?: number;
}

const LiveQuery = z.object({
  token: z.string().optional(),
  since: z.coerce.number().int().min(0).optional(),
  street: z.string().optional(),
  buildingId: z.string().optional(),
});

function visible(e: FeedEvent, scope: BuildingFilter, streets: string[] | undefined, buildingId: string | undefined): boolean {
  if (e.buildingId !== null && !filterAllows(scope, { id: e.buildingId, street: e.street ?? '' })) return false;
  if (streets && (e.street === null || !streets.includes(e.street))) return false;
  if (buildingId && e.buildingId !== buildingId) return false;
  return true;
}

/**
 * An alert of a device being commissioned (issue #17 item 6): an installer's test. Only the
 * building's operator (and admins) are sent it; the duty room's boards and the city platform's
 * integrations never see it.
 */
function installerOnly(e: FeedEvent): boolean {
  return e.type.startsWith('alert.') && (e.data.alert as { commissioning?: unknown } | undefined)?.commissioning === true;
}
const SEES_COMMISSIONING: readonly string[] = ['operator', 'admin'];

/** Whether `change` concerns the credential a socket was opened with. */
function concerns(change: PrincipalChange, cred: ResolvedCredential): boolean {
  switch (change.kind) {
    case 'session':
      return cred.principal.kind === 'user' && change.tokenDigest === cred.tokenDigest;
    case 'user':
      return cred.principal.kind === 'user' && change.userId === cred.principal.id;
    case 'api_token':
      return cred.principal.kind === 'api_token' && change.tokenId === cred.principal.id;
  }
}

export async function liveRoutes(app: Api, deps: LiveRouteOptions): Promise<void> {
  if (!app.hasDecorator('websocketServer')) throw new Error('the live feed needs @fastify/websocket registered before it (services/api/app.ts)');
  const limit = deps.maxBufferedBytes ?? 4 * 1024 * 1024;
  const clock = deps.clock ?? new SystemClock();

  app.get(
    '/api/v1/live',
    {
      websocket: true,
      schema: {
        tags: ['alerts'],
        description:
          'WebSocket live feed: alert.raised, alert.updated, alert.cleared, alert.escalated, alert.closed, alert.clocks (an alert\'s clocks changed), device.online, device.offline, each with a sequence number. Reconnect with ?since=<last seq> to receive what you missed. Closed with 4001 when the credential ends or its role or scope changes.',
        querystring: LiveQuery,
      },
    },
    async (socket, req) => {
      const q = req.query as z.infer<typeof LiveQuery>;
      const token = q.token ?? bearerToken(req.headers.authorization);
      let cred: ResolvedCredential | undefined;
      try {
        const resolve = (t: string, o: { admin: boolean }) => deps.auth.resolveCredential(t, o);
        cred = token ? await (deps.guard ? deps.guard.authenticate(token, req.ip, resolve) : resolve(token, { admin: true })) : undefined;
      } catch (err) {
        if (err instanceof TooManyAttemptsError) socket.close(4029, `too_many_attempts retry-after=${err.retryAfterS}`);
        else {
          // the store could not answer: the credential is unknown, the console reconnects later
          req.log.error({ err }, 'live feed: the credential could not be looked up');
          socket.close(1011, 'credential_check_failed');
        }
        return;
      }
      // gone while its credential was looked up: nothing to subscribe
      if (socket.readyState !== socket.OPEN) return;
      if (!token || !cred) {
        socket.close(4001, 'unauthorized');
        return;
      }
      const { principal } = cred;
      const scope = buildingFilterFor(principal);
      const streets = q.street ? q.street.split(',').filter(Boolean) : undefined;
      // set once the feed's position is known (below); until then events are queued, not sent
      let lastSent = q.since ?? Number.MAX_SAFE_INTEGER;
      let replaying = true;
      const queued: FeedEvent[] = [];

      let open = true;
      let expiry: TimerHandle | undefined;
      let stopWatching = () => {};
      const unsubscribe = () => {
        if (!open) return;
        open = false;
        subscription();
        stopWatching();
        expiry?.cancel();
        deps.metrics.liveClients.dec();
      };
      /** the credential ended or changed: stop sending first, then say why */
      const end = (reason: string) => {
        if (!open) return;
        unsubscribe();
        socket.close(4001, reason);
      };

      const send = (e: FeedEvent) => {
        if (!open || e.seq <= lastSent) return;
        lastSent = e.seq;
        if (!visible(e, scope, streets, q.buildingId)) return;
        if (installerOnly(e) && !SEES_COMMISSIONING.includes(principal.role)) return;
        if (socket.bufferedAmount > limit) {
          if (socket.readyState === socket.OPEN) deps.metrics.liveClientsDropped.inc();
          socket.close(4008, 'slow consumer: reconnect with since');
          return;
        }
        socket.send(JSON.stringify(e));
      };
      const subscription = deps.feed.subscribe((e) => (replaying ? queued.push(e) : send(e)));
      deps.metrics.liveClients.inc();
      socket.on('close', unsubscribe);
      socket.on('error', unsubscribe);

      if (principal.kind !== 'admin_token') {
        stopWatching = deps.auth.onPrincipalChange((change) => {
          if (concerns(change, cred)) end(change.reason);
        });
        // the credential's own end: re-check at its expiry (re-arming if the clock is a hair early)
        const armExpiry = (at: number | null) => {
          if (at === null || !open) return;
          expiry = clock.at(at, () => {
            deps.auth.resolveCredential(token).then(
              (now) => {
                if (!now || now.tokenDigest !== cred.tokenDigest) end(principal.kind === 'user' ? 'session_expired' : 'token_expired');
                else armExpiry(now.expiresAtMs);
              },
              // the store failed: the credential cannot be confirmed, so the connection ends (the console reconnects)
              () => end('credential_check_failed'),
            );
          });
        };
        armExpiry(cred.expiresAtMs);
      }

      // subscribed first, then the position read: an event published in between is queued and
      // sent if it is newer than what hello says (the feed's reads may wait: PostgreSQL)
      let feedSeq: number;
      try {
        feedSeq = await deps.feed.lastSeq();
        if (q.since === undefined) lastSent = feedSeq;
        if (!open) return;
        socket.send(JSON.stringify({ type: 'hello', lastSeq: feedSeq, role: principal.role, user: principal.username, serverTime: new Date(deps.feed.now()).toISOString() }));
        if (q.since !== undefined) {
          for (;;) {
            const batch = await deps.feed.since(lastSent, 1000);
            for (const e of batch) send(e);
            if (batch.length < 1000 || !open) break;
          }
        }
      } catch (err) {
        req.log.error({ err }, 'live feed: the event log could not be read');
        unsubscribe();
        if (socket.readyState === socket.OPEN) socket.close(1011, 'feed_unavailable');
        return;
      }
      replaying = false;
      for (const e of queued.splice(0)) send(e);
    },
  );
}
