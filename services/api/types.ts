/**
 * The types the API's plugins share: the Fastify instance they are given (`Api`), what the
 * composition root hands `buildApi` (`ApiDeps`), and what this service adds to Fastify's own types —
 * the caller of a request (`req.principal`) and the roles a route admits (`config.roles`).
 *
 * They live here rather than in app.ts so that route files import nothing from app.ts: app.ts
 * imports the route plugins, never the other way round.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { DutyChecks } from '../uplink/duty-checks.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AlertService } from '../alerts/alert-service.js';
import type { IncidentService } from '../alerts/incidents.js';
import type { ChangeControl } from '../audit/change-control.js';
import type { AuthService } from '../auth/auth-service.js';
import type { Principal, Role } from '../auth/model.js';
import type { DeviceStatusTracker } from '../devices/device-status.js';
import type { CentreCommands, DutyRounds, Gb26875View } from '../devices/gb26875-points.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { TestWindows } from '../devices/test-windows.js';
import type { BuildingImporter } from '../import/building-import.js';
import type { LiveFeed } from '../live-feed/live-feed.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SafetyCodeService } from '../safety-code/safety-code-service.js';
import type { Clock } from '../shared/clock.js';
import type { ReadingStore } from '../storage/reading-store.js';
import type { UplinkStatusSource } from '../uplink/model.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** who is calling; set by the authenticated scope's onRequest hook (authenticated.ts), absent on public routes */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /**
     * The roles that may call this route. Every route in the authenticated /api/v1 scope must
     * declare it (checked when the route is registered); a caller with another role gets 403.
     */
    roles?: readonly Role[];
  }
}

/** The Fastify instance every API plugin is given: the zod type provider on the node:http server. */
export type Api = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** A part of /readyz. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ready: boolean; detail?: Record<string, unknown> }>;
}

export interface ApiDeps {
  /** the platform uplink's status (issue #6); absent when no adapter is configured */
  uplink?: UplinkStatusSource;
  /** the GB/T 26875.3 centre's duty checks, when that uplink is configured (issue #14) */
  dutyChecks?: DutyChecks;
  liveMaxBufferBytes: number;
  alerts: AlertService;
  /** a building's hazard alerts as one incident (警情, issue #15 item 1) */
  incidents: IncidentService;
  feed: LiveFeed;
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
  readingStore: ReadingStore;
  /** backlog of the store the readings are forwarded to (InfluxDB), for /metrics; none with SQLite */
  sinkStatus?: () => { name: string; backlog: number; backlogAgeS: number };
  metrics: Metrics;
  auth: AuthService;
  readiness: ReadinessCheck[];
  /** issue #16: scheduled tests of fire-water points (absent in tests that do not need them) */
  tests?: TestWindows;
  /** issue #16 item 7: the GB/T 26875.3 gateway's view of UITD points; absent when the gateway is off */
  gb26875?: { gateway: Gb26875View; commands: CentreCommands; rounds: DutyRounds };
  /** issue #12 item 9: approval, reasons and the audit history of changes that weaken alerting */
  changeControl: ChangeControl;
  /** the service's clock (session expiry of live-feed sockets); the system clock when absent */
  clock?: Clock;
  log: Logger;
  version: string;
  /** issue #5: fire-safety codes, the survey import, and PUBLIC_BASE_URL for the QR codes' links */
  safetyCodes: SafetyCodeService;
  importer: BuildingImporter;
  publicBaseUrl?: string | undefined;
}
