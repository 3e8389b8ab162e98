/**
 * The measuring range of a device's primary quantity, against which readings are validated
 * (issue #16 item 10). A transmitter cannot report what lies outside its span: a value there is a
 * wiring fault or a unit mistake (bar or kPa sent as MPa), rejected as `out_of_range` and never
 * raised as a hazard such as `pressure_high`.
 *
 * The span is the device's `rules.sensor_fault.spanMin/spanMax` when set (the same span the clamp
 * check uses), else a default per kind:
 *   - water_pressure 0–2.5 MPa: design choice, a common fire-water transmitter span; it covers any
 *     zone's working pressure (zoning above 2.40 MPa, fact 43) and the ≥ 1.6 MPa pump gauges (fact 47).
 *     A suction-side compound gauge sets its own span, e.g. −0.1–1.0 MPa (fact 47).
 *   - water_level 0–320 m: the GB/T 26875.3 height range (fact §1.10), when no transmitter span is set.
 * Readings are accepted a little beyond the span, where a 4–20 mA loop still measures: down to
 * 3.8 mA and up to 20.5 mA (NAMUR NE 43's measuring band), i.e. −1.25 % and +3.125 % of the span;
 * a level transmitter at an empty tank reads slightly negative, so its lower tolerance is at most
 * 0.1 m. Beyond that the loop is broken or the unit is wrong.
 */
import type { Device } from './model.js';

export interface MeasuringRange {
  field: 'pressureMpa' | 'levelM';
  unit: 'MPa' | 'm';
  min: number;
  max: number;
  /** accepted from min − below to max + above */
  below: number;
  above: number;
}

export const DEFAULT_SPANS = {
  water_pressure: { field: 'pressureMpa', unit: 'MPa', min: 0, max: 2.5 },
  water_level: { field: 'levelM', unit: 'm', min: 0, max: 320 },
} as const;

const NAMUR_BELOW = 0.2 / 16; // 3.8 mA on a 4–20 mA loop
const NAMUR_ABOVE = 0.5 / 16; // 20.5 mA
const LEVEL_BELOW_MAX_M = 0.1;

const cache = new WeakMap<Device, MeasuringRange | null>();

function spanOverride(device: Device): { min?: number; max?: number } {
  const sf = (device.rules as { sensor_fault?: { spanMin?: unknown; spanMax?: unknown } } | null)?.sensor_fault;
  return {
    ...(typeof sf?.spanMin === 'number' ? { min: sf.spanMin } : {}),
    ...(typeof sf?.spanMax === 'number' ? { max: sf.spanMax } : {}),
  };
}

/** The device's measuring range with its tolerances, or null for kinds without one. Memoised per device record. */
export function measuringRange(device: Device): MeasuringRange | null {
  const hit = cache.get(device);
  if (hit !== undefined) return hit;
  let out: MeasuringRange | null = null;
  if (device.kind === 'water_pressure' || device.kind === 'water_level') {
    const d = DEFAULT_SPANS[device.kind];
    const o = spanOverride(device);
    const min = o.min ?? d.min;
    const max = o.max ?? d.max;
    const span = max - min;
    const below = device.kind === 'water_level' ? Math.min(span * NAMUR_BELOW, LEVEL_BELOW_MAX_M) : span * NAMUR_BELOW;
    out = { field: d.field, unit: d.unit, min, max, below, above: span * NAMUR_ABOVE };
  }
  cache.set(device, out);
  return out;
}
