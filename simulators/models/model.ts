/**
 * What every sensor model offers the device runner. Models are pure state machines over
 * simulated time (seconds since the run started): no clock, no I/O, randomness only from the
 * Prng they are given. Given the same seed and the same sample times they produce the same
 * readings (tests/unit/simulators-models.test.ts).
 */
import type { DeviceKind } from '../../services/telemetry/telemetry.js';

export type TelemetryFields = Record<string, number | boolean | number[]>;

export interface EventFields {
  alarm?: boolean;
  fault?: boolean;
  code?: string;
  message?: string;
}

export interface SensorModel {
  readonly kind: DeviceKind;
  /** Advance to simulated time t (s) and return the reading a sensor would report now. */
  sample(t: number): TelemetryFields;
  /** Events raised by the device itself up to time t (e.g. the detector latching its alarm). */
  takeEvents?(t: number): EventFields[];
  /** A model that reports on change (fire lanes): its current state, without drawing randomness. */
  peek?(t: number): TelemetryFields;
}

/** Fixed internal step so the trajectory does not depend on how often the runner samples. */
export const STEP_S = 1;

/** Hour of the day (0–24) at simulated time t for a run that starts at `startHour`. */
export function hourOfDay(t: number, startHour: number): number {
  return (((startHour * 3600 + t) / 3600) % 24 + 24) % 24;
}

/**
 * Electrical load over the day as a fraction of peak: low at night, a lunchtime and an evening
 * peak (offices, shops and restaurants in a Chongqing business district).
 */
export function dailyLoad(hour: number): number {
  const bump = (centre: number, width: number) => Math.exp(-(((hour - centre) / width) ** 2));
  return Math.min(1, 0.25 + 0.55 * bump(12.5, 3) + 0.7 * bump(19.5, 2.5));
}
