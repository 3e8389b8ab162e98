/**
 * GET /api/v1/live — the live feed over WebSocket.
 *
 * Auth: `?token=` (browsers cannot set headers on a WebSocket) or an Authorization header.
 * Resume: `?since=<seq>` replays every event after that sequence number from the durable log,
 * then continues live; no gap, no duplicate (events are sent in seq order, each once).
 * Filters: `?street=a,b` and `?buildingId=x`, on top of the principal's own scope.
 * A slow client never slows ingestion: publishing only queues on its socket, and a client whose
 * socket buffer passes `maxBufferedBytes` is closed with 4008 — it reconnects with `since`.
 */
import websocket from '@fastify/websocket';
import { z } from 'zod';
import type { LiveFeed } from '../../alerts/live-feed.js';
import type { FeedEvent } from '../../alerts/model.js';
import type { TokenAuthenticator } from '../../auth/model.js';
import { buildingFilterFor, filterAllows, type BuildingFilter } from '../../auth/scope.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Api } from '../app.js';
import { bearerToken } from '../auth.js';

export interface LiveRouteDeps {
  feed: LiveFeed;
  metrics: Metrics;
  auth: TokenAuthenticator;
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

export async function registerLiveRoute(app: Api, deps: LiveRouteDeps): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const limit = deps.maxBufferedBytes ?? 4 * 1024 * 1024;

  app.get(
    '/api/v1/live',
    {
      websocket: true,
      schema: {
        tags: ['alerts'],
        description:
          'WebSocket live feed: alert.raised, alert.updated, alert.cleared, alert.escalated, alert.closed, device.online, device.offline, each with a sequence number. Reconnect with ?since=<last seq> to receive what you missed.',
        querystring: LiveQuery,
      },
    },
    (socket, req) => {
      const q = req.query as z.infer<typeof LiveQuery>;
      const token = q.token ?? bearerToken(req.headers.authorization);
      const principal = token ? deps.auth.resolve(token) : undefined;
      if (!principal) {
        socket.close(4001, 'unauthorized');
        return;
      }
      const scope = buildingFilterFor(principal);
      const streets = q.street ? q.street.split(',').filter(Boolean) : undefined;
      let lastSent = q.since ?? deps.feed.lastSeq();
      let replaying = true;
      const queued: FeedEvent[] = [];

      const send = (e: FeedEvent) => {
        if (e.seq <= lastSent) return;
        lastSent = e.seq;
        if (!visible(e, scope, streets, q.buildingId)) return;
        if (socket.bufferedAmount > limit) {
          if (socket.readyState === socket.OPEN) deps.metrics.liveClientsDropped.inc();
          socket.close(4008, 'slow consumer: reconnect with since');
          return;
        }
        socket.send(JSON.stringify(e));
      };
      const subscription = deps.feed.subscribe((e) => (replaying ? queued.push(e) : send(e)));
      deps.metrics.liveClients.inc();
      let open = true;
      const unsubscribe = () => {
        if (!open) return;
        open = false;
        subscription();
        deps.metrics.liveClients.dec();
      };
      socket.on('close', unsubscribe);
      socket.on('error', unsubscribe);

      socket.send(
        JSON.stringify({ type: 'hello', lastSeq: deps.feed.lastSeq(), role: principal.role, user: principal.username, serverTime: new Date(deps.feed.now()).toISOString() }),
      );
      if (q.since !== undefined) {
        for (;;) {
          const batch = deps.feed.since(lastSent, 1000);
          for (const e of batch) send(e);
          if (batch.length < 1000) break;
        }
      }
      replaying = false;
      for (const e of queued.splice(0)) send(e);
    },
  );
}
