/** Incidents (警情, issue #15 item 1): a building's hazard alerts as one. */
import { z } from 'zod';
import { ALERT_STATUSES, OUTCOMES } from '../../alerts/model.js';

const Message = z.object({ zh: z.string(), en: z.string() });

export const IncidentSchema = z
  .object({
    id: z.string(),
    buildingId: z.string(),
    buildingName: z.string().nullable(),
    street: z.string().nullable(),
    status: z.enum(ALERT_STATUSES).describe('open while any alert is open; acknowledged while none is open and some is not closed; closed when all are'),
    severity: z.string().describe('the most severe of its alerts'),
    alertIds: z.array(z.string()).describe('its alerts in the order they were raised'),
    openedAt: z.string(),
    lastAt: z.string().describe('the latest change of any of its alerts'),
    ackDeadline: z.string().nullable().describe('the earliest acknowledge deadline of its open alerts'),
    closeDeadline: z.string().nullable().describe('the earliest close deadline of its unclosed alerts'),
    escalationLevel: z.number(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
    closedAt: z.string().nullable(),
    closedBy: z.string().nullable(),
    outcome: z.enum(OUTCOMES).nullable(),
    contactName: z.string().nullable(),
    contactPhone: z.string().nullable(),
    evidence: z
      .array(
        z.object({
          alertId: z.string(),
          rule: z.string(),
          severity: z.string(),
          status: z.enum(ALERT_STATUSES),
          cleared: z.boolean(),
          deviceId: z.string().nullable(),
          kind: z.string().nullable(),
          point: z.string().nullable(),
          location: z.string().nullable(),
          openedAt: z.string(),
          lastAt: z.string(),
          count: z.number(),
          message: Message,
          value: z.number().nullable(),
          measured: z
            .object({ value: z.number().nullable(), unit: z.string().nullable(), from: z.number().nullable(), since: z.string().nullable(), code: z.string().nullable() })
            .nullable(),
        }),
      )
      .describe('its alerts in order, each as its card says it'),
  })
  .describe("An incident (警情): one building's hazard alerts while any is unclosed, plus a short window");

export const IncidentListQuery = z.object({
  status: z.enum(['active', ...ALERT_STATUSES, 'all']).default('active').describe("'active' = open or acknowledged (the board)"),
  buildingId: z.string().optional(),
  street: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
