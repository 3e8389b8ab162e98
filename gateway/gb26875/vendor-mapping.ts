/**
 * Per-vendor meaning of user-defined analog types 128–255 (docs/standards.md §1.10: vendors send
 * readings under private codes whose scaling is not public, so a gateway must be told).
 * GB26875_VENDOR_MAPPING is a JSON file keyed by the device's `vendor` ("*" for any vendor):
 *
 *   { "ACME": { "154": { "quantity": "pressure", "unit": "kPa", "divisor": 10, "min": 0, "max": 3200 } } }
 *
 * engineering value = raw / divisor (a divisor, not a resolution, keeps 700 / 10 exactly 70).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const Entry = z.object({
  quantity: z.string().min(1).max(32),
  unit: z.string().max(16),
  divisor: z.number().positive().default(1),
  min: z.number().optional(),
  max: z.number().optional(),
});
export type VendorAnalogType = z.infer<typeof Entry>;

const code = z.string().regex(/^(12[89]|1[3-9]\d|2[0-4]\d|25[0-5])$/, 'a user-defined analog code 128–255');
export const VendorMappingSchema = z.record(z.string().min(1), z.record(code, Entry));
export type VendorMapping = z.infer<typeof VendorMappingSchema>;

export function parseVendorMapping(json: unknown, source = 'GB26875_VENDOR_MAPPING'): VendorMapping {
  const r = VendorMappingSchema.safeParse(json);
  if (!r.success) throw new Error(`${source}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export function loadVendorMapping(file: string): VendorMapping {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`GB26875_VENDOR_MAPPING ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseVendorMapping(json, `GB26875_VENDOR_MAPPING ${file}`);
}

export function vendorAnalog(mapping: VendorMapping, vendor: string | null, code: number): VendorAnalogType | undefined {
  const key = String(code);
  return (vendor !== null ? mapping[vendor]?.[key] : undefined) ?? mapping['*']?.[key];
}
