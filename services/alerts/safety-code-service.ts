/**
 * Gathers the facts for a building's fire-safety code (safety-code.ts decides) and owns the
 * public id behind the QR code.
 *
 * The public id is HMAC-SHA256(secret, buildingId), base64url, first 16 characters (96 bits):
 * stable for a building (a printed QR code keeps working), unguessable without the secret (a
 * visitor cannot walk the district's building ids), and needs no stored column. The secret is
 * generated once and kept in the settings table (services/main.ts). Resolving a public id scans
 * the buildings once and caches the map; a miss rebuilds it at most every REBUILD_MS so probing
 * random ids cannot make every request a full scan.
 */
import { createHmac } from 'node:crypto';
import type { Building } from '../devices/model.js';
import type { DeviceStatusTracker } from '../devices/device-status.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Clock } from '../shared/clock.js';
import type { AlertService } from './alert-service.js';
import { computeSafetyCode, type SafetyCode } from './safety-code.js';

export const PUBLIC_ID_LENGTH = 16;
const REBUILD_MS = 5_000;
const MAX_UNCLOSED = 10_000;

/** The public id of a building's safety code (the helper the console links with, via publicUrl). */
export function safetyCodePublicId(secret: string, buildingId: string): string {
  return createHmac('sha256', secret).update(buildingId, 'utf8').digest('base64url').slice(0, PUBLIC_ID_LENGTH);
}

/** The public page's path for a public id. */
export const publicPagePath = (publicId: string) => `/s/${publicId}`;

export interface BuildingSafetyCode extends SafetyCode {
  buildingId: string;
  name: string;
  street: string;
  updatedAt: string;
  publicId: string;
}

export interface SafetyCodeServiceDeps {
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
  alerts: AlertService;
  clock: Clock;
  secret: string;
}

export class SafetyCodeService {
  private byPublicId = new Map<string, string>();
  private lastRebuild = -Infinity;

  constructor(private readonly deps: SafetyCodeServiceDeps) {}

  /** The building's public id; remembered, so the page works at once for a code just shown. */
  publicId(buildingId: string): string {
    const id = safetyCodePublicId(this.deps.secret, buildingId);
    this.byPublicId.set(id, buildingId);
    return id;
  }

  forBuilding(building: Building): BuildingSafetyCode {
    const { registry, status, alerts, clock } = this.deps;
    const devices = [...registry.devices()].filter((d) => d.buildingId === building.id);
    const code = computeSafetyCode({
      unclosedAlerts: alerts.list({ status: 'active', buildingId: building.id, limit: MAX_UNCLOSED }),
      devices: devices.map((d) => ({ online: status.isOnline(d.id), inMaintenance: alerts.maintenanceOf(d.id, null) !== undefined })),
      buildingInMaintenance: alerts.maintenanceOf(null, building.id) !== undefined,
    });
    return {
      buildingId: building.id,
      name: building.name,
      street: building.street,
      ...code,
      updatedAt: new Date(clock.now()).toISOString(),
      publicId: this.publicId(building.id),
    };
  }

  /** The building behind a public id, or undefined. */
  resolvePublicId(publicId: string): Building | undefined {
    if (publicId.length !== PUBLIC_ID_LENGTH) return undefined;
    const hit = this.lookup(publicId);
    if (hit) return hit;
    const now = this.deps.clock.now();
    if (now - this.lastRebuild < REBUILD_MS) return undefined;
    this.rebuild(now);
    return this.lookup(publicId);
  }

  private lookup(publicId: string): Building | undefined {
    const id = this.byPublicId.get(publicId);
    if (id === undefined) return undefined;
    try {
      return this.deps.registry.getBuilding(id);
    } catch {
      this.byPublicId.delete(publicId); // deleted since
      return undefined;
    }
  }

  private rebuild(now: number): void {
    const map = new Map<string, string>();
    let cursor: string | undefined;
    do {
      const page = this.deps.registry.listBuildings({}, cursor, 1000);
      for (const b of page.items) map.set(safetyCodePublicId(this.deps.secret, b.id), b.id);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    this.byPublicId = map;
    this.lastRebuild = now;
  }
}
