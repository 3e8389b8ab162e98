/** HTTP request and response schemas for the registry (request and response kept apart). */
import { z } from 'zod';
import { BUILDING_TYPES, BUILDING_USES, STREETS } from '../../devices/model.js';
import { ID_PATTERN } from '../../devices/registry.js';
import { DEVICE_KINDS, PRESSURE_POINTS, REJECT_REASONS } from '../../telemetry/telemetry.js';

const id = z.string().regex(ID_PATTERN, 'letters, digits, _ . - (2–64 characters, no / + # or spaces)');
const nullableText = (max: number) => z.string().max(max).nullable();

// Field schemas without defaults: a PATCH must not reset omitted fields (zod 4's .partial()
// keeps .default() values), so defaults are added only for creation.
const buildingFields = {
  name: z.string().min(1).max(200),
  street: z.enum(STREETS).describe('one of the 11 streets (街道) of Yuzhong'),
  address: z.string().max(300),
  type: z.enum(BUILDING_TYPES),
  heightM: z.number().positive().max(1000).nullable(),
  floors: z.number().int().min(1).max(200).nullable(),
  areaM2: z.number().positive().nullable(),
  category: z.union([z.literal(1), z.literal(2)]).nullable().describe('high-rise public building category (GB 50016)'),
  use: z.enum(BUILDING_USES),
  contactName: nullableText(100),
  contactPhone: nullableText(40),
};

export const BuildingBody = z.object({
  id: id.optional(),
  ...buildingFields,
  address: buildingFields.address.default(''),
  heightM: buildingFields.heightM.default(null),
  floors: buildingFields.floors.default(null),
  areaM2: buildingFields.areaM2.default(null),
  category: buildingFields.category.default(null),
  use: buildingFields.use.default('other'),
  contactName: buildingFields.contactName.default(null),
  contactPhone: buildingFields.contactPhone.default(null),
});
export const BuildingPatchBody = z
  .object(buildingFields)
  .partial()
  .refine((o) => Object.keys(o).length > 0, { message: 'nothing to change' });

export const Building = z.object({
  id: z.string(),
  name: z.string(),
  street: z.string(),
  address: z.string(),
  type: z.string(),
  heightM: z.number().nullable(),
  floors: z.number().nullable(),
  areaM2: z.number().nullable(),
  category: z.number().nullable(),
  use: z.string(),
  contactName: z.string().nullable(),
  contactPhone: z.string().nullable(),
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
      remarks: z.string().nullable(),
    })
    .nullable()
    .optional()
    .describe('the district market survey\'s answers, when imported from it (POST /api/v1/import/buildings)'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const pointField = z.enum(PRESSURE_POINTS).nullable();

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
  })
  .refine((d) => d.kind === 'uitd' || d.address === undefined, { path: ['address'], message: 'address applies to uitd devices only' })
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
  })
  .partial()
  .refine((o) => Object.keys(o).length > 0, { message: 'nothing to change' });

export const DeviceStatusSchema = z.object({
  online: z.boolean(),
  lastSeenAt: z.string().nullable(),
  connectedAt: z.string().nullable(),
  disconnectedAt: z.string().nullable(),
  lastReading: z.object({ ts: z.string(), fields: z.record(z.string(), z.unknown()) }).nullable(),
  lastRejected: z.object({ reason: z.enum(REJECT_REASONS), detail: z.string(), at: z.string() }).nullable(),
  accepted: z.number(),
  rejected: z.number(),
  rejectedByReason: z.record(z.string(), z.number()),
});

export const Device = z.object({
  id: z.string(),
  buildingId: z.string(),
  kind: z.string(),
  point: z.string().nullable(),
  location: z.string().nullable(),
  reportIntervalS: z.number(),
  vendor: z.string().nullable(),
  model: z.string().nullable(),
  rules: z.record(z.string(), z.unknown()).nullable(),
  address: z.number().nullish().describe('uitd only: GB/T 26875.3 source address'),
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
