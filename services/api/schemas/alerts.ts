/** HTTP schemas for alerts and maintenance. */
import { z } from 'zod';
import { ALERT_STATUSES, OUTCOMES } from '../../alerts/model.js';
import { SPAN_NAMES } from '../../alerts/alarm-clocks.js';

const Message = z.object({ zh: z.string(), en: z.string() });
const Outcome = z.enum(OUTCOMES);

/** a history entry's detail as data (issue #17 item 5; services/alerts/model.ts HistoryInfo) */
export const HistoryInfoSchema = z
  .discriminatedUnion('code', [
    z.object({ code: z.literal('message'), message: Message }),
    z.object({ code: z.literal('still_active'), message: Message }),
    z.object({ code: z.literal('auto_closed'), outcome: Outcome, why: z.enum(['fault_cleared', 'commissioning_cleared', 'in_service']) }),
    z.object({ code: z.literal('closed'), outcome: Outcome, note: z.string() }),
    z.object({ code: z.literal('note'), note: z.string() }),
    z.object({ code: z.literal('escalated'), level: z.number(), deadline: z.enum(['ack', 'close']), due: z.string().nullable() }),
    z.object({ code: z.literal('maintenance'), until: z.string(), reason: z.string() }),
    z.object({ code: z.literal('commissioning') }),
  ])
  .describe(
    'what `detail` says, as data: message (the rule\'s sentence), still_active, auto_closed (closed by the system: why), closed (outcome, note), ' +
      'note (acknowledged with a note), escalated (the ack or close deadline passed), maintenance (until, reason), commissioning',
  );

export const HistoryEntrySchema = z.object({
  at: z.string(),
  action: z.string(),
  by: z.string().describe("a person's username, `token:<name>`, `system:admin`, or `system` (the service itself)"),
  detail: z.string().nullable().describe('the same as plain text, Chinese first'),
  byName: z.string().nullable().optional().describe("issue #17 item 5: the person's display name (null: the system or a token; absent on older entries)"),
  info: HistoryInfoSchema.nullable().optional().describe('absent on older entries'),
});

const instant = (what: string) => z.string().nullable().describe(what);
/** issue #15 item 4: services/alerts/alarm-clocks.ts */
export const AlertClocksSchema = z
  .object({
    deviceTs: instant("the reading's own timestamp (null: the device sent none, or no reading raised the alert)"),
    receivedAt: instant('the broker (or the GB/T 26875.3 gateway) received the reading'),
    durableAt: instant('the reading log committed it (see durableAtSource)'),
    durableAtSource: z
      .enum(['commit', 'read_back'])
      .nullable()
      .optional()
      .describe('commit: the commit as the appending process saw it; read_back: read back from the log after a restart or from another node, the time it was read (durable then at the latest)'),
    raisedAt: instant('the alert was created'),
    firstShownAt: instant('the first duty console displayed it (POST /alerts/{id}/shown)'),
    firstShownBy: z.string().nullable().optional().describe('who that console was logged in as'),
    acknowledgedAt: instant('a person acknowledged (confirmed) it'),
    forwardedAt: instant('the uplink started sending its first item after the acknowledgement (the confirmed alarm)'),
    forwardedVia: z.string().nullable().optional().describe('the adapter: http, mqtt or gb26875'),
    platformConfirmedAt: instant('the platform confirmed that item: HTTP 2xx, the remote broker\'s PUBACK, the GB/T 26875.3 centre\'s confirm'),
    late: z.array(z.enum(SPAN_NAMES)).optional().describe('spans found over their target (ALERT_DISPLAY_TARGET_S, ALERT_FORWARD_TARGET_S), each raising alarm_clock_late'),
  })
  .describe('When each step from the reading to the platform happened, in this order; each set once (ISO 8601)');

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
    message: Message,
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
    commissioning: z
      .boolean()
      .optional()
      .describe('raised while the device was being commissioned (调试, issue #17 item 6): no deadlines, never escalated, not on the duty board, the safety code or the uplink'),
    acknowledgedByName: z.string().nullable().optional().describe('issue #17 item 5: the display name of who acknowledged (null: a token or the system)'),
    closedByName: z.string().nullable().optional().describe('the display name of who closed (null: a token or the system)'),
    noteText: Message.nullable().optional().describe('the note in both languages when the system closed the alert itself (null when a person wrote it)'),
    history: z.array(HistoryEntrySchema),
    // issue #17 item 2 (added fields: absent on alerts stored before them, so optional)
    location: z.string().nullable().optional().describe("the device's installed location (楼层/位置)"),
    contactName: z.string().nullable().optional().describe("the building's contact"),
    contactPhone: z.string().nullable().optional(),
    measured: z
      .object({
        value: z.number().nullable().describe('the measured quantity in `unit`; for pressure_drop the pressure now (`value` of the alert is the fall)'),
        unit: z.string().nullable(),
        from: z.number().nullable().describe('pressure_drop: the pressure it fell from'),
        since: z.string().nullable().describe('lane_blocked: occupied since; device_offline: silent since'),
        code: z.string().nullable().describe("the device's alarm or supervisory code; sensor_fault: its cause"),
      })
      .nullable()
      .optional(),
    incidentId: z
      .string()
      .nullable()
      .optional()
      .describe('issue #15 item 1: the incident (警情) this hazard belongs to, GET /incidents/{id}; null for faults, maintenance and commissioning alerts; absent on older alerts'),
    evidenceIds: z
      .array(z.string())
      .nullable()
      .optional()
      .describe("issue #15 item 2: a building rule's alert (probable_fire, …): the alerts, or `flow:<deviceId>` flow signals, that made it hold"),
    clocks: AlertClocksSchema.nullable().optional().describe('issue #15 item 4: the alarm clocks; absent on alerts stored before them'),
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
  commissioning: z
    .enum(['exclude', 'include', 'only'])
    .default('exclude')
    .describe("alerts of devices being commissioned (调试): left out by default (the duty board's list); `include` (the device page, the building's operator) or `only`"),
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
  byName: z.string().nullable().optional().describe("issue #17 item 5: the display name of who set it (null: a token)"),
  createdAt: z.string(),
});

// ── the incident record (警情记录, issue #17 item 4) ─────────────────────────────────────────
const text = (what: string) => z.string().max(200).optional().describe(what);
export const RecordQuery = z.object({
  class: z.enum(['hazard', 'fault']).default('hazard').describe('hazards (default) or faults, never mixed'),
  dateField: z.enum(['opened', 'closed']).default('opened').describe('the time that from/to apply to and the list is ordered by (closed: closed alerts only)'),
  from: text('from this time: a date YYYY-MM-DD (a day in Asia/Shanghai), ISO 8601 or epoch ms; inclusive'),
  to: text('to this time; a date includes the whole day'),
  status: z.enum([...ALERT_STATUSES, 'active']).optional().describe("'active' = open or acknowledged"),
  street: text('one of the 11 streets'),
  buildingId: text('a building id'),
  rule: text('a rule id, e.g. pressure_low'),
  outcome: z.enum(OUTCOMES).optional(),
  person: text('who acknowledged or closed it (username)'),
  q: text("free text in the building's name"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
});

export const RecordSchema = AlertSchema.omit({ history: true })
  .extend({ location: z.string().nullable().describe("the device's installed location (as recorded with the alert, else the device's now)") })
  .describe('An alert as the incident record lists it (GET /alerts/{id} has its history)');

export const RecordPage = z.object({ items: z.array(RecordSchema), nextCursor: z.string().nullable() });
