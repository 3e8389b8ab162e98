/** HTTP schemas for alerts and maintenance. */
import { z } from 'zod';
import { ALERT_STATUSES, OUTCOMES } from '../../alerts/model.js';

export const AlertSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    class: z.enum(['hazard', 'fault']),
    severity: z.string(),
    status: z.enum(ALERT_STATUSES),
    cleared: z.boolean(),
    clearedAt: z.string().nullable(),
    deviceId: z.string().nullable(),
    buildingId: z.string().nullable(),
    buildingName: z.string().nullable(),
    street: z.string().nullable(),
    kind: z.string().nullable(),
    point: z.string().nullable(),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    peak: z.number().nullable(),
    count: z.number(),
    message: z.object({ zh: z.string(), en: z.string() }),
    openedAt: z.string(),
    lastAt: z.string(),
    ackDeadline: z.string().nullable(),
    closeDeadline: z.string().nullable(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
    closedAt: z.string().nullable(),
    closedBy: z.string().nullable(),
    outcome: z.enum(OUTCOMES).nullable(),
    note: z.string().nullable(),
    escalationLevel: z.number(),
    maintenance: z.boolean(),
    history: z.array(z.object({ at: z.string(), action: z.string(), by: z.string(), detail: z.string().nullable() })),
  })
  .describe('An alert with its audit trail');

export const AlertListQuery = z.object({
  status: z.enum([...ALERT_STATUSES, 'active']).optional().describe("'active' = open or acknowledged"),
  street: z.string().optional(),
  buildingId: z.string().optional(),
  deviceId: z.string().optional(),
  rule: z.string().optional(),
  severity: z.string().optional(),
  from: z.string().optional().describe('openedAt from (ISO 8601)'),
  to: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const AckBody = z.object({ note: z.string().max(1000).optional() });
export const CloseBody = z.object({
  outcome: z.enum(OUTCOMES).describe('real_fire | false_alarm | test | fault | other'),
  note: z.string().min(1).max(2000),
});

export const MaintenanceBody = z.object({
  until: z.string().describe('ISO 8601; maintenance ends by itself then'),
  reason: z.string().min(1).max(500),
});
export const MaintenanceSchema = z.object({
  target: z.enum(['device', 'building']),
  targetId: z.string(),
  until: z.string(),
  reason: z.string(),
  by: z.string(),
  createdAt: z.string(),
});
