/**
 * The shape of a scenario: what to register, how each sensor behaves, the script of incidents
 * (in simulated seconds) and, for incident scenarios, the alerts expected beside it.
 *
 * Time. The service runs on its own real clock; the simulator compresses simulated time by
 * `speed`. Two ways to stamp readings:
 *   wall     `ts` is the real time of sending. Rule durations (forS, clearS, windows, offline
 *            thresholds) are in the service's real seconds, so an incident scenario shortens them
 *            per device (`overrides(speed)`, PATCH /api/v1/devices/:id { rules }) by the speed,
 *            within the ranges the service allows.
 *   history  `ts` is simulated time, ending at the run's start: hours of a sensor's history are
 *            replayed in seconds. Only for rules decided by reading timestamps alone (the stuck
 *            detection, whose stuckS may not be set below 600 s).
 */
import type { DeviceKind, PressurePoint } from '../services/telemetry/telemetry.js';
import type { SensorModel } from './models/model.js';

export interface BuildingSpec {
  id: string;
  name: string;
  street: string;
  address: string;
  type: 'residential' | 'public' | 'industrial';
  heightM: number | null;
  floors: number | null;
  areaM2?: number | null;
  category: 1 | 2 | null;
  use: string;
  contactName?: string | null;
  contactPhone?: string | null;
}

export interface DeviceSpec {
  id: string;
  buildingId: string;
  kind: DeviceKind;
  point?: PressurePoint;
  location: string;
  /** simulated seconds between reports; registered as the device's reportIntervalS */
  reportIntervalS: number;
  model: SensorModel;
  /** set an MQTT last will (fire/v1/{id}/status "offline") */
  will?: boolean;
}

export interface Fleet {
  buildings: BuildingSpec[];
  devices: DeviceSpec[];
}

/** What a script step may do to a running device (implemented by the device runner). */
export interface DeviceControl {
  readonly spec: DeviceSpec;
  /** the link drops without a DISCONNECT (the broker then sends the will, if any); readings are buffered */
  goOffline(): void;
  /** reconnect and flush the buffered readings as one JSON array */
  reconnect(): void;
  /** the output freezes at its last value (or resumes) */
  setStuck(stuck: boolean): void;
  sendOutOfRange(): void;
  sendMalformed(): void;
  /** the next reading carries a ts `skewS` seconds ahead of the real time */
  sendSkewed(skewS: number): void;
  /** the next reading is sent twice with the same seq */
  duplicateNext(): void;
  /** one extra connection attempt with a wrong password (answered with CONNACK 4) */
  tryWrongCredentials(): void;
}

export interface ScriptStep {
  atS: number;
  /** part of the incident (skipped by --no-incident) rather than background */
  incident?: boolean;
  note: string;
  run(sim: { device(id: string): DeviceControl }): void;
}

export interface Expectation {
  device: string;
  rule: string;
  class: 'hazard' | 'fault';
  /** the incident's start (sim s): raised before it is early */
  afterS: number;
  /** raised within this many simulated seconds after afterS */
  withinS: number;
  /** the alert must also clear within this many simulated seconds after `clearAfterS` */
  clear?: { afterS: number; withinS: number };
}

export interface Scenario {
  name: string;
  title: string;
  description: string;
  speed: number;
  /** simulated seconds; undefined = until interrupted */
  durationS: number | undefined;
  tsMode: 'wall' | 'history';
  build(seed: number): Fleet;
  /** per-device rule overrides for this speed (PATCH /api/v1/devices/:id { rules }) */
  overrides?(speed: number): Record<string, Record<string, Record<string, number | boolean>>>;
  script: ScriptStep[];
  /** incident scenarios: alerts expected; nothing else may be raised on the scenario's devices */
  expect?: Expectation[];
}

/** A rule duration of `simS` simulated seconds in the service's real seconds, within [min, max]. */
export function scaled(simS: number, speed: number, min = 0, max = 3600): number {
  return Math.min(max, Math.max(min, Math.round((simS / speed) * 100) / 100));
}
