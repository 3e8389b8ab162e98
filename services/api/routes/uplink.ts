/** /api/v1/uplink: the platform uplink's backlog, retries and dead letters (admin, duty, platform). */
import { z } from 'zod';
import { requireRole } from '../../auth/scope.js';
import type { UplinkStatusSource } from '../../uplink/model.js';
import type { Api } from '../app.js';

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

export function registerUplinkRoutes(app: Api, deps: { uplink?: UplinkStatusSource }): void {
  const tags = ['uplink'];
  app.get(
    '/uplink',
    {
      schema: {
        tags,
        description: 'Per adapter: items not yet accepted by the platform (backlog, age of the oldest), retries, dead letters, last error and success.',
        response: { 200: z.object({ adapters: z.array(AdapterStatus) }) },
      },
    },
    async (req) => {
      requireRole(req.principal, 'admin', 'duty', 'platform');
      return { adapters: deps.uplink?.status() ?? [] };
    },
  );

  app.get(
    '/uplink/dead-letters',
    {
      schema: {
        tags,
        description: 'Items the platform refused (4xx except 429) or that were not accepted within UPLINK_DEAD_LETTER_AFTER_S, oldest first.',
        querystring: DeadLetterQuery,
        response: { 200: z.object({ items: z.array(DeadLetterSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (req) => {
      requireRole(req.principal, 'admin', 'duty', 'platform');
      const { adapter, limit, cursor } = req.query;
      const rows = deps.uplink?.deadLetters(adapter, cursor === undefined ? 0 : Number(cursor), limit + 1) ?? [];
      const items = rows.slice(0, limit);
      return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
    },
  );
}
