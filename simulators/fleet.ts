/**
 * Device factories: a sensor of each kind with believable figures for its building and point.
 * Pressures sit clearly above the rules' minimums (docs/standards.md §3, the default rules table in docs/duty.md):
 * the top hydrant of a building over 100 m must hold 0.15 MPa, other public high-rises 0.10,
 * residential 0.07; a sprinkler end 0.05; the municipal network 0.14; pump outlets stay under
 * the 1.0 MPa zoning limit.
 */
import type { PressurePoint } from '../services/telemetry/telemetry.js';
import { ElectricalModel } from './models/electrical.js';
import { LaneModel, type LaneOptions } from './models/lane.js';
import { LevelModel } from './models/level.js';
import { PressureModel, type PressureOptions } from './models/pressure.js';
import { Prng } from './prng.js';
import type { BuildingSpec, DeviceSpec } from './scenario.js';

function topStatic(b: BuildingSpec, rng: Prng): number {
  if ((b.heightM ?? 0) > 100) return rng.uniform(0.22, 0.32);
  if (b.type === 'residential') return rng.uniform(0.13, 0.2);
  return rng.uniform(0.17, 0.25);
}

function staticFor(point: PressurePoint, b: BuildingSpec, rng: Prng): number {
  switch (point) {
    case 'hydrant_top':
      return topStatic(b, rng);
    case 'pump_outlet':
      return rng.uniform(0.72, 0.9);
    case 'sprinkler_end':
      return rng.uniform(0.12, 0.2);
    case 'network':
      return rng.uniform(0.25, 0.34);
    case 'hydrant_outlet':
      return rng.uniform(0.41, 0.44);
  }
}

export function pressureDevice(
  seed: number,
  b: BuildingSpec,
  id: string,
  point: PressurePoint,
  location: string,
  reportIntervalS = 60,
  opts: Partial<PressureOptions> = {},
): DeviceSpec {
  const rng = Prng.for(seed, id);
  const staticMpa = opts.staticMpa ?? staticFor(point, b, rng);
  return {
    id,
    buildingId: b.id,
    kind: 'water_pressure',
    point,
    location,
    reportIntervalS,
    will: true,
    model: new PressureModel({ ...opts, staticMpa }, rng),
  };
}

export function levelDevice(seed: number, b: BuildingSpec, id: string, location: string, reportIntervalS = 300, fullM?: number): DeviceSpec {
  const rng = Prng.for(seed, id);
  return {
    id,
    buildingId: b.id,
    kind: 'water_level',
    location,
    reportIntervalS,
    will: true,
    model: new LevelModel({ fullM: fullM ?? rng.uniform(3.2, 4.5) }, rng),
  };
}

export function electricalDevice(
  seed: number,
  b: BuildingSpec,
  id: string,
  location: string,
  channels: 1 | 2 | 3 | 4,
  reportIntervalS = 60,
  startHour = 8,
): DeviceSpec {
  const rng = Prng.for(seed, id);
  return {
    id,
    buildingId: b.id,
    kind: 'electrical_fire',
    location,
    reportIntervalS,
    will: true,
    model: new ElectricalModel({ channels, startHour }, rng),
  };
}

export function laneDevice(seed: number, b: BuildingSpec, id: string, location: string, reportIntervalS = 300, opts: LaneOptions = {}): DeviceSpec {
  const rng = Prng.for(seed, id);
  return { id, buildingId: b.id, kind: 'fire_lane', location, reportIntervalS, will: true, model: new LaneModel(opts, rng) };
}
