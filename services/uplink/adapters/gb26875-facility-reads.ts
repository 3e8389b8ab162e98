/**
 * The monitoring centre reads our building-facility data (types 61–68; issue #14): Firewatch, as a
 * UITD, presents its devices as the components its uplink reports (gb26875-mapping.ts: the system
 * type of the device's kind, the system address of the rule — 0 for readings —, the component
 * address hashed from the device id), and answers each read from what it knows now: the unclosed
 * alerts and each device's last reading. Pure over the state it is given.
 *
 *   61 system status      → type 1: bit0 and every bit of the active alerts in that system
 *   62 component status   → type 2: the component's active alert's bits (system address = rule), or,
 *                           at address 0, the bits of all the device's active alerts; bit0 alone when none
 *   63 analog values      → type 3: the device's last reading as analog values (as the uplink sends it)
 *   65 software version   → type 5: Firewatch's version
 *   66 system config      → type 6: how many devices the system has ("Firewatch 3 个设备")
 *   67 component config   → type 7: the component's description (the device id)
 *   68 system time        → type 8: our time
 *   64 operation records  → type 4 with no object: Firewatch keeps none
 *   a system or component we do not have → undefined (the caller denies)
 */
import type { AppDataInput, AppDataObject } from '../../protocols/gb26875/app-data.js';
import { appDataForItem, componentAddressFor, descriptionFor, facilityFor, READING_SYSTEM_ADDRESS, RULE_SYSTEM_ADDRESS } from './gb26875-mapping.js';
import { statusWordFor, type StatusMap } from './gb26875-status-map.js';

/** What Firewatch knows of a device now, as the reads need it. */
export interface FacilityDevice {
  id: string;
  kind: string;
  point: string | null;
  /** its unclosed, not cleared alerts */
  active: ReadonlyArray<{ rule: string; class: string; cleared: boolean; kind: string | null; point: string | null; deviceId: string | null }>;
  lastReading: { ts: string; fields: Record<string, unknown> } | null;
}

export interface FacilityReadContext {
  devices: () => Iterable<FacilityDevice>;
  now: Date;
  version: { major: number; minor: number };
  statusMap?: StatusMap;
}

type ReadType = 61 | 62 | 63 | 64 | 65 | 66 | 67 | 68;

const NORMAL = 0x0001;

function inSystem(d: FacilityDevice, systemType: number): boolean {
  // a device's components may sit in more than one system type (electrical fire: one per rule), so ask per rule too
  if (facilityFor(d.kind, d.point, null)?.systemType === systemType) return true;
  return d.active.some((a) => facilityFor(d.kind, d.point, a.rule)?.systemType === systemType);
}

function statusOf(d: FacilityDevice, systemAddress: number, statusMap: StatusMap | undefined): number {
  let word = NORMAL;
  for (const a of d.active) {
    if (systemAddress !== READING_SYSTEM_ADDRESS && RULE_SYSTEM_ADDRESS[a.rule] !== systemAddress) continue;
    word |= statusWordFor(a, true, statusMap);
  }
  return word;
}

function componentOf(ctx: FacilityReadContext, systemType: number, zone: number, position: number): FacilityDevice | undefined {
  for (const d of ctx.devices()) {
    if (!inSystem(d, systemType)) continue;
    const a = componentAddressFor(d.id);
    // electrical fire: temperature channel i is at position + i (gb26875-mapping.ts)
    const channels = d.kind === 'electrical_fire' ? 8 : 1;
    if (a.zone === zone && ((position - a.position) & 0xffff) < channels) return d;
  }
  return undefined;
}

/** The answer (response, command 5) to a read of facility data, or undefined: deny. */
export function answerFacilityRead(type: ReadType, object: AppDataObject<ReadType>, ctx: FacilityReadContext): AppDataInput | undefined {
  const { systemType, systemAddress } = object;
  const time = ctx.now;
  switch (type) {
    case 61: {
      const devices = [...ctx.devices()].filter((d) => inSystem(d, systemType));
      if (devices.length === 0) return undefined;
      const status = devices.reduce((w, d) => w | (statusOf(d, systemAddress, ctx.statusMap) & 0x00ff), NORMAL);
      return { type: 1, objects: [{ systemType, systemAddress, status, time }] };
    }
    case 62:
    case 63:
    case 67: {
      const { address } = object as AppDataObject<62>;
      const d = componentOf(ctx, systemType, address.zone, address.position);
      if (!d) return undefined;
      const fac = facilityFor(d.kind, d.point, null)!;
      const ref = { systemType, systemAddress, componentType: fac.componentType, address: { zone: address.zone, position: address.position } };
      if (type === 62) return { type: 2, objects: [{ ...ref, status: statusOf(d, systemAddress, ctx.statusMap), description: descriptionFor(d.id), time }] };
      if (type === 67) return { type: 7, objects: [{ ...ref, description: descriptionFor(d.id) }] };
      if (!d.lastReading) return undefined;
      const units = appDataForItem({
        id: 'read',
        type: 'reading',
        occurredAt: d.lastReading.ts,
        deviceId: d.id,
        buildingId: null,
        street: null,
        data: { kind: d.kind, point: d.point, fields: d.lastReading.fields },
      });
      const values = units.flatMap((u) => (u.type === 3 ? [...u.objects] : [])).filter((v) => v.address.zone === address.zone && v.address.position === address.position);
      return values.length === 0 ? undefined : { type: 3, objects: values.slice(0, 63) };
    }
    case 65:
      return [...ctx.devices()].some((d) => inSystem(d, systemType)) ? { type: 5, objects: [{ systemType, systemAddress, ...ctx.version }] } : undefined;
    case 66: {
      const n = [...ctx.devices()].filter((d) => inSystem(d, systemType)).length;
      return n === 0 ? undefined : { type: 6, objects: [{ systemType, systemAddress, text: `Firewatch ${n} 个设备` }] };
    }
    case 68:
      return [...ctx.devices()].some((d) => inSystem(d, systemType)) ? { type: 8, objects: [{ systemType, systemAddress, time }] } : undefined;
    case 64:
      // Firewatch keeps no operation records of the facilities: none to give (a unit of 0 objects)
      return [...ctx.devices()].some((d) => inSystem(d, systemType)) ? { type: 4, objects: [] } : undefined;
  }
}
