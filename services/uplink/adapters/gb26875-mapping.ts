/**
 * Platform uplink items → GB/T 26875.3 app data (we act as a UITD towards a monitoring centre).
 * Pure. The 2011 tables have no codes for water-pressure, electrical-fire or fire-lane
 * monitoring (docs/standards.md §1.7, §1.8), so those use the user-defined codes vendors use (G6).
 *
 *   alert raised / recurred ─► type 2 component status: bit0 normal + the alert's bits from the
 *                              status map (gb26875-status-map.ts): bit1 fire alarm for fire evidence only,
 *                              bit4 supervisory for water, lane and electrical-fire hazards, bit2 fault
 *   alert cleared (hazard), closed after clearing (fault) ─► type 2 with bit0 only (recovery)
 *   reading ─► type 3 analog values (pressure: type 5 kPa, 0.1 kPa steps; level: type 2; …)
 *   anything else (presence, building changes, escalation, acknowledgement) ─► nothing
 */
import type { UplinkItem } from '../model.js';
import type { AppDataInput, AnalogValueInput, ComponentAddress, ComponentStatusInput } from '../../protocols/gb26875/app-data.js';
import { statusWordFor, type StatusMap } from './gb26875-status-map.js';
import { ANALOG_TYPES } from '../../protocols/gb26875/tables.js';

/** System types (fact §1.7): 11 hydrant, 12 sprinkler, 1 fire alarm system; ≥128 user-defined. */
export const SYSTEM = {
  fireAlarm: 1,
  hydrant: 11,
  sprinkler: 12,
  /** user-defined, as in G6's vendor data (0x81 "electrical fire system") */
  electricalFire: 0x81,
  /** user-defined: fire-lane occupancy monitoring (no standard code) */
  fireLane: 0x84,
} as const;

/** Component types (fact §1.8); ≥128 user-defined. */
export const COMPONENT = {
  general: 0,
  fireDetector: 25,
  residualCurrentDetector: 17,
  temperatureDetector: 18,
  fireWaterTank: 92,
  /** user-defined, as in G6's vendor data (0x80 "fire water pressure") */
  waterPressure: 0x80,
  /** user-defined: fire-lane occupancy sensor */
  laneSensor: 0x84,
} as const;

/** User-defined analog type for residual current in 1 mA steps (type 9 is 0.1 A, too coarse: fact §1.10). */
export const ANALOG_RESIDUAL_CURRENT_MA = 0x80;

/**
 * The system address (1 byte, fact §1.8) carries the rule, so that each alert is its own point at
 * the centre: a pressure_drop recovering must not report "normal" while pressure_low is still in
 * alarm on the same sensor (status frames are states, fact 24). Analog values use 0.
 */
export const RULE_SYSTEM_ADDRESS: Readonly<Record<string, number>> = {
  pressure_low: 1,
  pressure_high: 2,
  pressure_drop: 3,
  level_low: 4,
  level_high: 5,
  residual_current_high: 6,
  temperature_high: 7,
  lane_blocked: 8,
  device_offline: 9,
  sensor_fault: 10,
  device_alarm: 11,
  /** fire evidence from several signals (issue #16); its own point once the rule exists */
  probable_fire: 12,
  /** a UITD's supervisory bit (issue #16 item 7) */
  device_supervisory: 13,
};
export const READING_SYSTEM_ADDRESS = 0;

export interface Facility {
  systemType: number;
  componentType: number;
}

export function facilityFor(kind: string | null, point: string | null, rule: string | null): Facility | undefined {
  switch (kind) {
    case 'water_pressure':
      return { systemType: point === 'sprinkler_end' ? SYSTEM.sprinkler : SYSTEM.hydrant, componentType: COMPONENT.waterPressure };
    case 'water_level':
      return { systemType: SYSTEM.hydrant, componentType: COMPONENT.fireWaterTank };
    case 'electrical_fire':
      return {
        systemType: SYSTEM.electricalFire,
        componentType: rule === 'temperature_high' ? COMPONENT.temperatureDetector : COMPONENT.residualCurrentDetector,
      };
    case 'fire_lane':
      return { systemType: SYSTEM.fireLane, componentType: COMPONENT.laneSensor };
    case 'uitd':
      return { systemType: SYSTEM.fireAlarm, componentType: rule === 'device_alarm' ? COMPONENT.fireDetector : COMPONENT.general };
    default:
      return undefined;
  }
}

/** A stable 4-byte component address per device: FNV-1a of the id split into zone and position. */
export function componentAddressFor(deviceId: string): ComponentAddress {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(deviceId, 'utf8')) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return { zone: h & 0xffff, position: h >>> 16 };
}

/** ASCII only (GB 18030 4-byte characters cannot be encoded), at most 31 bytes (fact 18). */
export function descriptionFor(deviceId: string): string {
  return deviceId.replace(/[^\x20-\x7e]/g, '?').slice(0, 31);
}

type AlertLike = { rule?: string; class?: string; cleared?: boolean; deviceId?: string | null; kind?: string | null; point?: string | null };

/**
 * What the item does to its component: `raise` (the alert is active: its bits), `recover` (bit0
 * only), or undefined when it changes nothing.
 */
export function alertState(item: UplinkItem): 'raise' | 'recover' | undefined {
  const alert = item.data.alert as AlertLike | undefined;
  if (!alert) return undefined;
  const change = item.data.change as { action?: string } | null | undefined;
  switch (item.type) {
    case 'alert.raised':
      return alert.cleared ? undefined : 'raise';
    case 'alert.updated':
      return change?.action === 'recurred' && !alert.cleared ? 'raise' : undefined;
    case 'alert.cleared':
      return 'recover';
    case 'alert.closed':
      // a hazard's recovery went out with alert.cleared; a fault clears and closes in one step
      return alert.class === 'fault' && alert.cleared ? 'recover' : undefined;
    default:
      return undefined;
  }
}

const int16 = (v: number): number => Math.max(-0x8000, Math.min(0x7fff, Math.round(v)));

function analogObjects(item: UplinkItem, time: Date): AnalogValueInput[] {
  const kind = item.data.kind as string | undefined;
  const fields = (item.data.fields ?? {}) as Record<string, unknown>;
  const deviceId = item.deviceId ?? '';
  const fac = facilityFor(kind ?? null, (item.data.point as string | undefined) ?? null, null);
  if (!fac || !deviceId) return [];
  const address = componentAddressFor(deviceId);
  const base = { systemType: fac.systemType, systemAddress: READING_SYSTEM_ADDRESS, componentType: fac.componentType, address, time };
  const out: AnalogValueInput[] = [];
  if (typeof fields.pressureMpa === 'number') out.push({ ...base, analogType: 5, value: int16(fields.pressureMpa * 1000 * 10) }); // kPa, 0.1 kPa steps
  if (typeof fields.levelM === 'number') out.push({ ...base, analogType: 2, value: int16(fields.levelM * 100) }); // 0.01 m
  if (typeof fields.residualCurrentMa === 'number') {
    out.push({ ...base, componentType: COMPONENT.residualCurrentDetector, analogType: ANALOG_RESIDUAL_CURRENT_MA, value: int16(fields.residualCurrentMa) });
  }
  if (Array.isArray(fields.temperaturesC)) {
    fields.temperaturesC.forEach((t, i) => {
      if (typeof t !== 'number') return;
      // channel i → position + i: one component address per measuring channel
      out.push({ ...base, componentType: COMPONENT.temperatureDetector, address: { zone: address.zone, position: (address.position + i) & 0xffff }, analogType: 3, value: int16(t * 10) });
    });
  }
  if (kind === 'uitd' && typeof fields.analogType === 'number' && typeof fields.value === 'number') {
    const t = ANALOG_TYPES.get(fields.analogType);
    if (t) {
      out.push({
        systemType: typeof fields.systemType === 'number' ? fields.systemType : base.systemType,
        systemAddress: typeof fields.systemAddress === 'number' ? fields.systemAddress : READING_SYSTEM_ADDRESS,
        componentType: typeof fields.componentType === 'number' ? fields.componentType : base.componentType,
        address:
          typeof fields.componentAddress === 'number'
            ? { zone: fields.componentAddress & 0xffff, position: Math.floor(fields.componentAddress / 0x10000) & 0xffff }
            : address,
        analogType: t.code,
        value: int16(fields.value * t.divisor),
        time,
      });
    }
  }
  return out;
}

/** The app-data units one item becomes (empty: nothing to send for it); `statusMap`: the platform's overrides. */
export function appDataForItem(item: UplinkItem, statusMap?: StatusMap): AppDataInput[] {
  const time = new Date(item.occurredAt);
  if (item.type === 'reading') {
    const objects = analogObjects(item, time);
    const units: AppDataInput[] = [];
    for (let i = 0; i < objects.length; i += 63) units.push({ type: 3, objects: objects.slice(i, i + 63) }); // n ≤ 63 (fact 17)
    return units;
  }
  const state = alertState(item);
  if (!state) return [];
  const alert = item.data.alert as AlertLike;
  const deviceId = alert.deviceId ?? item.deviceId;
  if (!deviceId) return []; // service_outage and other system alerts have no component
  const fac = facilityFor(alert.kind ?? null, alert.point ?? null, alert.rule ?? null);
  if (!fac) return [];
  const object: ComponentStatusInput = {
    systemType: fac.systemType,
    systemAddress: RULE_SYSTEM_ADDRESS[alert.rule ?? ''] ?? 0xff,
    componentType: fac.componentType,
    address: componentAddressFor(deviceId),
    status: statusWordFor(alert, state === 'raise', statusMap),
    description: descriptionFor(deviceId),
    time,
  };
  return [{ type: 2, objects: [object] }];
}
