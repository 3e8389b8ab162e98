/**
 * Commissioning (调试, issue #17 item 6): a device registered without `"inService": true` is being
 * installed. Its alerts carry `commissioning: true`: they are kept and shown on the device page
 * and to the building's operator, but they are never escalated and never reach the duty board,
 * the public safety code or the platform uplink — an installer trying a sensor (3.2, then 0.32)
 * must not page the duty room or turn a building's code red.
 *
 * A device is in service once
 *   - a person put it in service (`POST /api/v1/devices/{id}/in-service`, audited), or it was
 *     registered with `"inService": true` (fleet provisioning, the simulators): `inServiceAt` is
 *     that time; or
 *   - COMMISSIONING_MAX_H (72 h) passed since its registration: a sensor nobody put in service is
 *     monitored anyway, an installation is never left unwatched for longer than the bound.
 *
 * The bound is computed (exact on the service's clock, the same answer everywhere) and also
 * persisted: the service writes `inServiceAt = createdAt + bound` for such devices (a minute's
 * scan, server/main.ts), so raising COMMISSIONING_MAX_H later never takes a device that already
 * went in service back out of monitoring.
 *
 * `inServiceAt` undefined (a record made without the field, e.g. a hand-built device in a test)
 * counts as in service since its registration; only an explicit null is commissioning. Devices
 * that existed before the migration were monitored already: the migration set their time.
 */
import type { Device } from './model.js';

export const DEFAULT_COMMISSIONING_MAX_H = 72;

export interface CommissioningState {
  /** false while commissioning (调试中) */
  inService: boolean;
  /** when it went in service: by a person, at registration, or when the bound passed; null while commissioning */
  inServiceAt: string | null;
  /** while commissioning: when it goes in service by itself (registration + bound); otherwise null */
  commissioningUntil: string | null;
}

/** When the device goes in service by itself (epoch ms); NaN for a record without a valid createdAt. */
export function commissioningBoundAt(device: Pick<Device, 'createdAt'>, maxH: number): number {
  return Date.parse(device.createdAt) + maxH * 3_600_000;
}

export function commissioningState(device: Pick<Device, 'createdAt' | 'inServiceAt'>, nowMs: number, maxH: number): CommissioningState {
  if (device.inServiceAt === undefined) return { inService: true, inServiceAt: device.createdAt, commissioningUntil: null };
  if (device.inServiceAt !== null) return { inService: true, inServiceAt: device.inServiceAt, commissioningUntil: null };
  const bound = commissioningBoundAt(device, maxH);
  if (!Number.isFinite(bound)) return { inService: true, inServiceAt: device.createdAt, commissioningUntil: null };
  if (nowMs >= bound) return { inService: true, inServiceAt: new Date(bound).toISOString(), commissioningUntil: null };
  return { inService: false, inServiceAt: null, commissioningUntil: new Date(bound).toISOString() };
}

export function isCommissioning(device: Pick<Device, 'createdAt' | 'inServiceAt'>, nowMs: number, maxH: number): boolean {
  return !commissioningState(device, nowMs, maxH).inService;
}
