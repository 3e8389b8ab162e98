/** HTTP schemas of the rule replay (试算, issue #15 item 3): POST /api/v1/rules/replay. */
import { z } from 'zod';

const Message = z.object({ zh: z.string(), en: z.string() });
const Time = z.union([z.string(), z.number()]).describe('ISO 8601 or epoch milliseconds');

export const ReplayBody = z
  .object({
    deviceId: z.string().min(1).optional(),
    buildingId: z.string().min(1).optional(),
    from: Time,
    to: Time,
    rules: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .optional()
      .describe('per-rule overrides as PATCH /devices/{id} takes them, applied over the device\'s own, e.g. {"pressure_low":{"threshold":0.12}}; absent: the rules in force'),
  })
  .refine((b) => (b.deviceId === undefined) !== (b.buildingId === undefined), { message: 'give either deviceId or buildingId, not both' });

const WouldBe = z.object({
  rule: z.string(),
  deviceId: z.string(),
  buildingId: z.string(),
  class: z.enum(['hazard', 'fault']),
  severity: z.string(),
  raisedAt: z.string(),
  clearedAt: z.string().nullable().describe('null: still active at `to`'),
  peak: z.number().nullable(),
  count: z.number().describe('breaching readings in the episode'),
  threshold: z.number().nullable(),
  value: z.number().nullable(),
  realerts: z.number(),
  message: Message,
});

const Actual = z.object({
  id: z.string(),
  rule: z.string(),
  deviceId: z.string().nullable(),
  buildingId: z.string().nullable(),
  class: z.enum(['hazard', 'fault']),
  severity: z.string(),
  status: z.string(),
  raisedAt: z.string().describe('the alert\'s openedAt'),
  clearedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  peak: z.number().nullable(),
  count: z.number(),
  threshold: z.number().nullable(),
  commissioning: z.boolean(),
  maintenance: z.boolean(),
});

export const ReplayResponse = z.object({
  from: z.string(),
  to: z.string().describe('the end replayed: the `to` asked, or now if that is later'),
  readings: z.number().describe('readings replayed, telemetry and events'),
  complete: z.boolean().describe('the store held every reading of the range'),
  incomplete: z.array(z.object({ code: z.enum(['readings_pruned', 'forwarding_backlog']), deviceId: z.string().nullable(), message: Message })),
  devices: z.array(z.object({ deviceId: z.string(), kind: z.string(), readings: z.number(), rules: z.record(z.string(), z.record(z.string(), z.unknown())) })),
  wouldBe: z.array(WouldBe),
  actual: z.array(Actual),
  actualTruncated: z.boolean().describe('more alerts were raised in the range than the list carries'),
  limits: z.object({ maxRangeDays: z.number(), maxReadings: z.number() }),
});
