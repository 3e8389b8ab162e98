/**
 * Gathers the facts for a building's fire-safety code (safety-code.ts decides) and owns the
 * public id behind the QR code.
 *
 * Facts: the building's unclosed alerts; per device whether it has ever connected or reported
 * (commissioned), whether it is connected and reporting now (connected, no device_offline alert
 * open), and since when it is silent (its last message, connection or disconnection, but never
 * before this service started: after a restart nobody has been offline for the service's own
 * downtime, as in rule-runner.ts); the start of active maintenance windows; whether the plan
 * requires the building to be monitored (coverage.ts requirementOf, the same function as the
 * coverage report); and the survey's hazards and 整改情况.
 *
 * The public id is HMAC-SHA256(secret, buildingId), base64url, first 16 characters (96 bits):
 * stable for a building (a printed QR code keeps working), unguessable without the secret (a
 * visitor cannot walk the district's building ids), and needs no stored column. The secret is
 * generated once and kept in the settings table (server/main.ts). Resolving a public id scans
 * the buildings once and caches the map; a miss rebuilds it at most every REBUILD_MS so probing
 * random ids cannot make every request a full scan.
 */
import { createHmac } from 'node:crypto';
import { requirementOf } from '../coverage/coverage.js';
import type { Building } from '../devices/model.js';
import type { DeviceStatusTracker } from '../devices/device-status.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Clock } from '../shared/clock.js';
import type { AlertService } from '../alerts/alert-service.js';
import { surveyFoundHazard } from '../import/survey-csv.js';
import { computeSafetyCode, DEFAULT_SAFETY_BOUNDS, type SafetyBounds, type SafetyCode } from './safety-code.js';

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
  /** SAFETY_CODE_OFFLINE_H and MAINTENANCE_MAX_OPERATOR_H; defaults 24 h and 72 h */
  bounds?: Partial<SafetyBounds>;
}

export class SafetyCodeService {
  private byPublicId = new Map<string, string>();
  private lastRebuild = -Infinity;
  private readonly startedAt: number;
  readonly bounds: SafetyBounds;

  constructor(private readonly deps: SafetyCodeServiceDeps) {
    this.startedAt = deps.clock.now();
    this.bounds = { ...DEFAULT_SAFETY_BOUNDS, ...deps.bounds };
  }

  /** The building's public id; remembered, so the page works at once for a code just shown. */
  publicId(buildingId: string): string {
    const id = safetyCodePublicId(this.deps.secret, buildingId);
    this.byPublicId.set(id, buildingId);
    return id;
  }

  forBuilding(building: Building): BuildingSafetyCode {
    const { registry, status, alerts, clock } = this.deps;
    const now = clock.now();
    const devices = [...registry.devices()].filter((d) => d.buildingId === building.id);
    const unclosed = alerts.unclosedIn(building.id, MAX_UNCLOSED);
    const silent = new Set(unclosed.filter((a) => a.rule === 'device_offline' && a.deviceId !== null).map((a) => a.deviceId));
    const since = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso));
    const requirement = requirementOf(building);
    const code = computeSafetyCode({
      now,
      bounds: this.bounds,
      requirement: requirement ?? null,
      unclosedAlerts: unclosed.map((a) => ({
        class: a.class,
        rule: a.rule,
        severity: a.severity,
        kind: a.kind,
        deviceId: a.deviceId,
        maintenance: a.maintenance,
        acknowledged: a.acknowledgedAt !== null,
        ackDeadline: a.ackDeadline,
        commissioning: a.commissioning === true,
      })),
      devices: devices.map((d) => {
        const s = status.get(d.id);
        const heard = Math.max(...[s.lastSeenAt, s.connectedAt, s.disconnectedAt].map((t) => (t ? Date.parse(t) || 0 : 0)));
        const online = status.isOnline(d.id) && !silent.has(d.id);
        return {
          id: d.id,
          kind: d.kind,
          commissioned: heard > 0,
          online,
          offlineSince: heard > 0 && !online ? Math.max(heard, this.startedAt) : null,
          maintenanceSince: since(alerts.maintenanceOf(d.id, null)?.createdAt),
          commissioning: registry.isCommissioning(d),
        };
      }),
      buildingMaintenanceSince: since(alerts.maintenanceOf(null, building.id)?.createdAt),
      survey: building.survey ? { hazardFound: surveyFoundHazard(building.survey.hazards), rectification: building.survey.rectification ?? null } : null,
    });
    return {
      buildingId: building.id,
      name: building.name,
      street: building.street,
      ...code,
      updatedAt: new Date(now).toISOString(),
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
    for (const b of this.deps.registry.buildingsInMemory()) map.set(safetyCodePublicId(this.deps.secret, b.id), b.id);
    this.byPublicId = map;
    this.lastRebuild = now;
  }
}
