/** HTTP schemas for the audit history (GET /api/v1/audit). */
import { z } from 'zod';
import { AUDIT_ACTIONS } from '../../audit/model.js';
import { ROLES } from '../../auth/model.js';

export const AuditEntrySchema = z
  .object({
    id: z.number(),
    at: z.string(),
    by: z.string().describe('username (`token:<name>` for an API token, `system:admin` for the admin token)'),
    byName: z.string().nullable().optional().describe("issue #17 item 5: the person's display name (null: a token)"),
    role: z.enum(ROLES),
    action: z.enum(AUDIT_ACTIONS),
    buildingId: z.string().nullable(),
    deviceId: z.string().nullable(),
    street: z.string().nullable(),
    reason: z.string().nullable(),
    before: z.unknown().describe('the changed fields as they were'),
    after: z.unknown().describe('the changed fields as they became'),
    changes: z.array(z.object({ what: z.string(), before: z.unknown(), after: z.unknown() })).describe('what differs in effect'),
  })
  .describe('A change that weakened or bypassed alerting, with who, when, what and why');

export const AuditQuery = z.object({
  buildingId: z.string().optional(),
  deviceId: z.string().optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d+$/).optional().describe('nextCursor of the previous page'),
});

export const AuditPage = z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() });
