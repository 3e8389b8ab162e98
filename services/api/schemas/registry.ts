/** HTTP request and response schemas for the registry (request and response kept apart). */
import { z } from 'zod';
import { BUILDING_TYPES, BUILDING_USES, STREETS, SURVEY_RECTIFICATIONS } from '../../devices/model.js';
import { MAX_ALLOWED_PEERS, MAX_PEER_PATTERN_LENGTH, parsePeerPattern } from '../../devices/peer-allow-list.js';
import { ID_PATTERN } from '../../devices/registry.js';
import { BuildingRuleOverridesSchema } from '../../rules/building-rules.js';
import { DEVICE_KINDS, PRESSURE_POINTS, REJECT_REASONS } from '../../telemetry/telemetry.js';

const id = z.string().regex(ID_PATTERN, 'letters, digits, _ . - (2–64 characters, no / + # or spaces)');
const nullableText = (max: number) => z.string().max(max).nullable();
/** Why (issue #12 item 9): required when a change loosens alerting; kept in the audit history. */
const changeReason = z.string().max(500).describe('why; required (and audited, GET /api/v1/audit) when the change loosens a rule in force or changes the building\'s threshold fields');

// Field schemas without defaults: a PATCH must not reset omitted fields (zod 4's .partial()
// keeps .default() values), so defaults are added only for creation.
const buildingFields = {
  name: z.string().min(1).max(200),
  street: z.enum(STREETS).describe('one of the 11 streets (街道) of Yuzhong'),
  address: z.string().max(300),
  type: z.enum(BUILDING_TYPES),
  heightM: z.number().positive().max(1000).nullable().describe('measured building height (m), from the fire-engine access level on a hillside site (GB 50016); null = not measured'),
  accessLevelM: z.number().min(-100).max(3000).nullable().describe('elevation (m, city datum) of the fire-engine access level the height is measured from'),
  floors: z.number().int().min(1).max(200).nullable(),
  areaM2: z.number().positive().nullable(),
  category: z.union([z.literal(1), z.literal(2)]).nullable().describe('high-rise public building category (GB 50016)'),
  use: z.enum(BUILDING_USES),
  contactName: nullableText(100),
  contactPhone: nullableText(40),
  buildingRules: BuildingRuleOverridesSchema.nullable().describe(
    'issue #15 item 2: overrides of the building rules (probable_fire, lane_blocked_in_fire): `enabled`, `windowS`; null = the defaults. A change is an alerting change (a duty officer or an admin, with a reason, audited)',
  ),
};

export const BuildingBody = z.object({
  id: id.optional(),
  ...buildingFields,
  address: buildingFields.address.default(''),
  heightM: buildingFields.heightM.default(null),
  accessLevelM: buildingFields.accessLevelM.default(null),
  floors: buildingFields.floors.default(null),
  areaM2: buildingFields.areaM2.default(null),
  category: buildingFields.category.default(null),
  use: buildingFields.use.default('other'),
  buildingRules: buildingFields.buildingRules.default(null),
  contactName: buildingFields.contactName.default(null),
  contactPhone: buildingFields.contactPhone.default(null),
});
export const BuildingPatchBody = z
  .object({ ...buildingFields, reason: changeReason })
  .partial()
  .refine((o) => Object.keys(o).some((k) => k !== 'reason'), { message: 'nothing to change' });

export const Building = z.object({
  id: z.string(),
  name: z.string(),
  street: z.string(),
  address: z.string(),
  type: z.string(),
  heightM: z.number().nullable(),
  accessLevelM: z.number().nullable().optional(),
  /** how the rules see the height: measured, estimated from floors, or unknown (issue #16 item 9) */
  height: z
    .object({
      basis: z.enum(['measured', 'estimated', 'unknown']),
      usedM: z.number().nullable().describe('the height the rules use (estimated from floors when not measured)'),
      over100m: z.boolean().describe('over 100 m by a measured height: the 0.15 MPa top-hydrant minimum for category-1 public buildings'),
    })
    .optional(),
  /** things the operator should check or record (Chinese first) */
  checks: z.array(z.object({ code: z.string(), zh: z.string(), en: z.string() })).optional(),
  floors: z.number().nullable(),
  areaM2: z.number().nullable(),
  category: z.number().nullable(),
  use: z.string(),
  contactName: z.string().nullable(),
  contactPhone: z.string().nullable(),
  buildingRules: BuildingRuleOverridesSchema.nullable().optional().describe("the building's overrides of the building rules; absent: the defaults"),
  survey: z
    .object({
      no: z.string().nullable(),
      marketName: z.string().nullable(),
      buildingName: z.string().nullable(),
      fireAlarm: z.boolean().nullable(),
      sprinklers: z.boolean().nullable(),
      hydrants: z.boolean().nullable(),
      smokeControl: z.boolean().nullable(),
      hazards: z.string().nullable(),
      rectification: z.enum(SURVEY_RECTIFICATIONS).nullable().optional().describe('整改情况: rectified 已整改, pending 未整改; null = not recorded'),
      remarks: z.string().nullable(),
    })
    .nullable()
    .optional()
    .describe('the district market survey\'s answers, when imported from it (POST /api/v1/import/buildings)'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const pointField = z.enum(PRESSURE_POINTS).nullable();
/** uitd only (issue #12): the TCP peers that may send frames with the device's address */
const allowedPeersField = z
  .array(
    z
      .string()
      .trim()
      .max(MAX_PEER_PATTERN_LENGTH)
      .superRefine((v, ctx) => {
        const r = parsePeerPattern(v);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.detail });
      }),
  )
  .min(1)
  .max(MAX_ALLOWED_PEERS)
  .describe('uitd only: IPs or CIDR blocks (IPv4 or IPv6, e.g. ["10.9.9.0/24"]) allowed to send frames with this address; unset = GB26875_ALLOW, else any peer');

/** water_pressure only (issue #16 item 7): the UITD analog component whose pressure values are this device's readings */
const gb26875SourceField = z
  .strictObject({
    uitdId: z.string().min(1).describe('the registered uitd device the sensor is wired to'),
    systemType: z.number().int().min(0).max(255).optional().describe('GB/T 26875.3 system type (e.g. 11 hydrant system); any when absent'),
    systemAddress: z.number().int().min(0).max(255).optional().describe('system address; any when absent'),
    componentType: z.number().int().min(0).max(255).optional().describe('component type (e.g. 128, a vendor\'s pressure sensor); any when absent'),
    componentAddress: z.number().int().min(0).max(0xffffffff).describe('the 4-byte component address as one integer: zone + position × 65536 (as the UITD\'s readings show it)'),
  })
  .describe('water_pressure only: the UITD analog component this sensor reports through (GB/T 26875.3 type 3); its pressure values become this device\'s readings');

export const DeviceBody = z
  .object({
    id: id.optional(),
    buildingId: z.string().min(1),
    kind: z.enum(DEVICE_KINDS),
    point: pointField.default(null).describe('water_pressure only: where in the system the sensor sits'),
    location: nullableText(200).default(null).describe('floor, room'),
    reportIntervalS: z.number().int().min(1).max(86_400).default(60),
    vendor: nullableText(100).default(null),
    model: nullableText(100).default(null),
    address: z
      .number()
      .int()
      .min(0)
      .max(2 ** 48 - 1)
      .optional()
      .describe('uitd only, required there: the GB/T 26875.3 6-byte source address as an unsigned integer'),
    allowedPeers: allowedPeersField.optional(),
    gb26875Source: gb26875SourceField.optional(),
    inService: z
      .boolean()
      .default(false)
      .describe('in service from registration (fleet provisioning, simulators). Otherwise the device starts in commissioning (调试): its alerts stay on the device page until POST /devices/{id}/in-service or COMMISSIONING_MAX_H'),
  })
  .refine((d) => d.kind === 'uitd' || d.address === undefined, { path: ['address'], message: 'address applies to uitd devices only' })
  .refine((d) => d.kind === 'water_pressure' || d.gb26875Source === undefined, { path: ['gb26875Source'], message: 'gb26875Source applies to water_pressure devices only' })
  .refine((d) => d.kind === 'uitd' || d.allowedPeers === undefined, { path: ['allowedPeers'], message: 'allowedPeers applies to uitd devices only' })
  .refine((d) => d.kind !== 'uitd' || d.address !== undefined, {
    path: ['address'],
    message: 'a uitd device needs its GB/T 26875.3 source address (an integer, 0 … 2^48−1)',
  })
  .refine((d) => d.kind === 'water_pressure' || d.point === null, {
    path: ['point'],
    message: 'point applies to water_pressure devices only',
  })
  .refine((d) => d.kind !== 'water_pressure' || d.point !== null, {
    path: ['point'],
    message: `a water_pressure device needs a point: ${PRESSURE_POINTS.join(', ')}`,
  });

export const DevicePatchBody = z
  .object({
    buildingId: z.string().min(1),
    point: pointField,
    location: nullableText(200),
    reportIntervalS: z.number().int().min(1).max(86_400),
    vendor: nullableText(100),
    model: nullableText(100),
    rules: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .nullable()
      .describe('per-rule overrides, e.g. {"pressure_low":{"threshold":0.12,"forS":30}}; null resets to the defaults'),
    reason: changeReason,
    allowedPeers: allowedPeersField.nullable().describe('uitd only: allowed TCP peers (IPs or CIDR blocks); null removes the list'),
    gb26875Source: gb26875SourceField.nullable().describe('water_pressure only: the UITD analog component it reports through; null removes the binding'),
  })
  .partial()
  .refine((o) => Object.keys(o).length > 0, { message: 'nothing to change' });

export const DeviceStatusSchema = z.object({
  online: z.boolean(),
  lastSeenAt: z.string().nullable(),
  connectedAt: z.string().nullable(),
  disconnectedAt: z.string().nullable(),
  lastReading: z.object({ ts: z.string(), fields: z.record(z.string(), z.unknown()) }).nullable(),
  lastRejected: z
    .object({
      reason: z.enum(REJECT_REASONS),
      detail: z.string().describe('as the service judged it (English)'),
      detailZh: z.string().optional().describe('the detail in Chinese, for the installer'),
      at: z.string(),
      supersededAt: z.string().optional().describe('the first accepted message after it: the problem is history'),
    })
    .nullable(),
  /** issue #17 item 6: the commissioning check's facts */
  firstAcceptedAt: z.string().nullable().optional().describe('when the first accepted message arrived'),
  lastContactAt: z.string().nullable().optional().describe('its latest connection or accepted message'),
  reachable: z
    .boolean()
    .optional()
    .describe('connected now, or connected or sent an accepted message within 3 × reportIntervalS (at least 5 min): a one-shot publish (connect, publish, disconnect) counts'),
  accepted: z.number(),
  rejected: z.number(),
  rejectedByReason: z.record(z.string(), z.number()),
  /** rejected messages since the last accepted one (a run of them is a sensor_fault) */
  rejectedRun: z.number().optional(),
  rejectedSince: z.string().nullable().optional(),
  /** fields rejected on their own in otherwise accepted messages (one bad channel) */
  rejectedFields: z.number().optional(),
});

export const Device = z.object({
  id: z.string(),
  buildingId: z.string(),
  buildingName: z.string().optional().describe("GET /devices/{id}: the building's name"),
  kind: z.string(),
  point: z.string().nullable(),
  location: z.string().nullable(),
  reportIntervalS: z.number(),
  vendor: z.string().nullable(),
  model: z.string().nullable(),
  rules: z.record(z.string(), z.unknown()).nullable(),
  address: z.number().nullish().describe('uitd only: GB/T 26875.3 source address'),
  allowedPeers: z.array(z.string()).nullish().describe('uitd only: TCP peers allowed to send frames with its address'),
  gb26875Source: z
    .object({ uitdId: z.string(), systemType: z.number().optional(), systemAddress: z.number().optional(), componentType: z.number().optional(), componentAddress: z.number() })
    .nullish()
    .describe('water_pressure only: the UITD analog component it reports through'),
  inService: z.boolean().describe('false while the device is being commissioned (调试, issue #17 item 6)'),
  inServiceAt: z.string().nullable().describe('when it went in service (put in service, registered in service, or COMMISSIONING_MAX_H after registration); null while commissioning'),
  commissioningUntil: z.string().nullable().describe('while commissioning: when it goes in service by itself'),
  createdAt: z.string(),
  updatedAt: z.string(),
  mqtt: z.object({ username: z.string(), telemetryTopic: z.string(), eventTopic: z.string() }),
  status: DeviceStatusSchema.optional(),
});

export const Credentials = z.object({
  username: z.string(),
  password: z.string().describe('shown once; only its hash is stored'),
});

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional(),
});

export const BuildingListQuery = ListQuery.extend({ street: z.string().optional(), use: z.string().optional() });
export const DeviceListQuery = ListQuery.extend({
  buildingId: z.string().optional(),
  kind: z.enum(DEVICE_KINDS).optional(),
  online: z.enum(['true', 'false']).optional(),
});

export const IdParams = z.object({ id: z.string() });

export const ReadingsQuery = z.object({
  from: z.string().optional().describe('ISO 8601 or epoch ms'),
  to: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  channel: z.enum(['telemetry', 'event']).default('telemetry'),
});

export const Page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
