/** HTTP schemas for the fire-safety code, the survey import and the coverage report (issue #5). */
import { z } from 'zod';
import { REASON_LEVELS, SAFETY_STATUSES } from '../../safety-code/safety-code.js';
import { COVERAGE_REASONS } from '../../coverage/coverage.js';

const Reason = z.object({
  code: z.string(),
  level: z.enum(REASON_LEVELS).describe('the colour this reason gives the code; info = shown, never changes it'),
  zh: z.string(),
  en: z.string(),
});
const Counts = z.object({ hazards: z.number(), faults: z.number(), offline: z.number(), maintenance: z.number() });

export const SafetyCodeSchema = z.object({
  buildingId: z.string(),
  name: z.string(),
  street: z.string(),
  status: z.enum(SAFETY_STATUSES),
  reasons: z.array(Reason),
  counts: Counts,
  updatedAt: z.string(),
  publicId: z.string().describe('the id in the public page\'s URL (HMAC of the building id; stable, unguessable)'),
  publicUrl: z.string().describe('the public read-only page the QR code links to'),
});

/** What anyone may see: no ids, contacts, phones, devices or address beyond the street. */
export const PublicSafetyCodeSchema = z.object({
  name: z.string(),
  street: z.string(),
  status: z.enum(SAFETY_STATUSES),
  reasons: z.array(Reason),
  counts: Counts,
  updatedAt: z.string(),
});

export const PublicIdParams = z.object({ publicId: z.string().max(64) });

export const QrQuery = z.object({ size: z.coerce.number().int().min(128).max(2048).default(512).describe('PNG width in pixels') });

const RowError = z.object({ field: z.string().nullable(), code: z.string(), zh: z.string(), en: z.string() });

export const ImportBody = z.union([z.string().describe('text/csv: the survey file'), z.object({ csv: z.string() })]);

export const ImportResultSchema = z.object({
  created: z.number(),
  updated: z.number(),
  failed: z.array(z.object({ row: z.number().describe('line of the file where the row starts'), name: z.string().nullable(), errors: z.array(RowError) })),
  imported: z.array(z.object({ row: z.number(), buildingId: z.string(), name: z.string(), action: z.enum(['created', 'updated']) })),
  headerRow: z.number().nullable(),
  ignoredColumns: z.array(z.string()),
});

export const CoverageQuery = z.object({ street: z.string().optional().describe('one of the 11 streets, with or without 街道') });

export const CoverageSchema = z.object({
  items: z.array(
    z.object({
      street: z.string(),
      buildingId: z.string(),
      name: z.string(),
      use: z.string(),
      reasons: z.array(z.enum(COVERAGE_REASONS)),
      required: z.array(z.string()),
      registered: z.array(z.string()),
      online: z.array(z.string()),
      missing: z.array(z.string()),
    }),
  ),
  summary: z.array(
    z.object({
      street: z.string(),
      buildings: z.number(),
      covered: z.number(),
      partial: z.number(),
      uncovered: z.number(),
      missingByKind: z.record(z.string(), z.number()),
    }),
  ),
});
