/**
 * /api/v1/uplink: the platform uplink's backlog, retries and dead letters (admin, duty, platform),
 * and the GB/T 26875.3 centre's duty checks (查岗), answered by the duty room (admin, duty).
 */
import { z } from 'zod';
import type { Role } from '../../auth/model.js';
import type { UplinkStatusSource } from '../../uplink/model.js';
import type { DutyChecks } from '../../uplink/duty-checks.js';
import { NotFoundError } from '../../shared/errors.js';
import { principalOf } from '../authenticated.js';
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
  /** absent without a GB/T 26875.3 uplink: no duty checks */
  dutyChecks?: DutyChecks | undefined;
}

const DutyCheckSchema = z.object({
  id: z.string(),
  serial: z.number().describe("the centre's frame serial number"),
  receivedAt: z.string(),
  deadline: z.string().describe('answered after this is too late (GB26875_DUTY_CHECK_S after receipt)'),
  status: z.enum(['pending', 'answered', 'missed']),
  answeredBy: z.string().nullable(),
  answeredAt: z.string().nullable(),
});

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

  const dutyRoles: readonly Role[] = ['admin', 'duty'];
  app.get(
    '/uplink/duty-checks',
    {
      config: { roles: dutyRoles },
      schema: {
        tags,
        description: "The GB/T 26875.3 monitoring centre's duty checks (查岗), newest first (the last 50): pending ones wait for a duty officer's answer until their deadline; missed ones were not answered in time.",
        querystring: z.object({ status: z.enum(['pending', 'answered', 'missed']).optional() }),
        response: { 200: z.object({ items: z.array(DutyCheckSchema) }) },
      },
    },
    async (req) => ({ items: deps.dutyChecks?.list(req.query.status) ?? [] }),
  );

  app.post(
    '/uplink/duty-checks/:id/answer',
    {
      config: { roles: dutyRoles },
      schema: {
        tags,
        description: "Answer the centre's duty check (应答): the UITD operation record with the duty-check-answered bit goes to the centre. 409 when it was answered already or missed (too late); 503 when the centre did not confirm the answer (answer again).",
        params: z.object({ id: z.string() }),
        response: { 200: DutyCheckSchema },
      },
    },
    async (req) => {
      if (!deps.dutyChecks) throw new NotFoundError('duty check', req.params.id);
      return deps.dutyChecks.answer(req.params.id, principalOf(req).username);
    },
  );
}
