/** /api/v1/uplink: the platform uplink's backlog, retries and dead letters (admin, duty, platform). */
import { z } from 'zod';
import type { Role } from '../../auth/model.js';
import type { UplinkStatusSource } from '../../uplink/model.js';
import type { Api } from '../types.js';

const AdapterStatus = z.object({
  name: z.string().describe('http, mqtt or gb26875'),
  backlog: z.number().describe('items not yet accepted by the platform'),
  oldestAgeS: z.number().describe('age of the oldest waiting item, seconds'),
  retries: z.number(),
  deadLetters: z.number(),
  sent: z.number(),
  lastError: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
});

const DeadLetterSchema = z.object({
  id: z.number(),
  adapter: z.string(),
  reason: z.string(),
  deadAt: z.string(),
  item: z.object({
    id: z.string().describe('idempotency key'),
    type: z.string(),
    occurredAt: z.string(),
    deviceId: z.string().nullable(),
    buildingId: z.string().nullable(),
    street: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  }),
});

const DeadLetterQuery = z.object({
  adapter: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d+$/).optional(),
});

export interface UplinkRouteOptions {
  /** absent when no adapter is configured: the routes answer an empty list */
  uplink?: UplinkStatusSource | undefined;
}

export async function uplinkRoutes(app: Api, deps: UplinkRouteOptions): Promise<void> {
  const tags = ['uplink'];
  const roles: readonly Role[] = ['admin', 'duty', 'platform'];
  app.get(
    '/uplink',
    {
      config: { roles },
      schema: {
        tags,
        description: 'Per adapter: items not yet accepted by the platform (backlog, age of the oldest), retries, dead letters, last error and success.',
        response: { 200: z.object({ adapters: z.array(AdapterStatus) }) },
      },
    },
    async () => ({ adapters: (await deps.uplink?.readStatus()) ?? [] }),
  );

  app.get(
    '/uplink/dead-letters',
    {
      config: { roles },
      schema: {
        tags,
        description: 'Items the platform refused (4xx except 429) or that were not accepted within UPLINK_DEAD_LETTER_AFTER_S, oldest first.',
        querystring: DeadLetterQuery,
        response: { 200: z.object({ items: z.array(DeadLetterSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (req) => {
      const { adapter, limit, cursor } = req.query;
      const rows = (await deps.uplink?.deadLetters(adapter, cursor === undefined ? 0 : Number(cursor), limit + 1)) ?? [];
      const items = rows.slice(0, limit);
      return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
    },
  );
}
