/** /api/v1/devices: registration, credentials (shown once), live status, readings. */
import { z } from 'zod';
import { eventTopicFor, telemetryTopicFor } from '../../telemetry/topics.js';
import type { Device as DeviceModel } from '../../devices/model.js';
import { sourceText } from '../../rules/defaults.js';
import { ruleLimits } from '../../rules/hydraulic.js';
import { resolveRules, validateRuleOverrides } from '../../rules/rule-params.js';
import { ROLES, type Principal } from '../../auth/model.js';
import { buildingFilterFor, canApproveAlertChanges, canReadBuilding, canWriteRegistry } from '../../auth/scope.js';
import { DEVICE_ALERT_FIELDS } from '../../audit/change-control.js';
import { BadRequestError, ForbiddenError, NotFoundError } from '../../shared/errors.js';
import { rejectionDetailZh } from '../../telemetry/rejection-text.js';
import { principalOf } from '../authenticated.js';
import { parseTimeParam } from '../time-param.js';
import type { Api, ApiDeps } from '../types.js';
import {
  Credentials,
  Device,
  DeviceBody,
  DeviceListQuery,
  DevicePatchBody,
  IdParams,
  Page,
  ReadingsQuery,
} from '../schemas/registry.js';

function parseTime(value: string | undefined, name: string): number | undefined {
  return value === undefined || value === '' ? undefined : parseTimeParam(value, name);
}

/** A one-shot publish (connect, publish, disconnect) is a working sensor for this long: 3 report intervals, at least 5 min. */
export const reachableWindowMs = (d: Pick<DeviceModel, 'reportIntervalS'>) => Math.max(3 * d.reportIntervalS, 300) * 1000;

export type DeviceRouteOptions = Pick<ApiDeps, 'registry' | 'status' | 'changeControl' | 'readingStore' | 'feed' | 'clock'>;

export async function deviceRoutes(app: Api, deps: DeviceRouteOptions): Promise<void> {
  const { registry, status, changeControl } = deps;
  const now = () => deps.clock?.now() ?? Date.now();
  const tags = ['devices'];
  // every role reaches these handlers: whether a principal may see or change a device depends on its building
  const config = { roles: ROLES };
  /** the device, if the principal may see it (404 otherwise: its existence is not disclosed) */
  const readable = (principal: Principal, id: string): DeviceModel => {
    const d = registry.getDevice(id);
    if (!canReadBuilding(principal, registry.getBuilding(d.buildingId))) throw new NotFoundError('device', id);
    return d;
  };
  const writable = (principal: Principal, id: string): DeviceModel => {
    const d = readable(principal, id);
    if (!canWriteRegistry(principal, d.buildingId)) throw new ForbiddenError('only an admin or the building\'s operator changes its devices');
    return d;
  };
  /**
   * A gb26875Source takes the readings of another device's component (issue #16 item 7): the UITD
   * must be one the principal may change too. One it may not see answers as one that does not exist.
   */
  const checkSourceUitd = (p: Principal, source: { uitdId: string } | null | undefined) => {
    const c = source ? registry.context(source.uitdId) : undefined;
    if (!source || !c?.building) return; // none, or no such device: the registry refuses it
    if (!canReadBuilding(p, c.building)) {
      throw new BadRequestError('gb26875_source_not_uitd', `gb26875Source.uitdId ${source.uitdId} is not a registered uitd device / 用户信息传输装置 ${source.uitdId} 未登记`);
    }
    if (!canWriteRegistry(p, c.building.id)) throw new ForbiddenError('only an admin or the UITD building\'s operator binds its components');
  };
  /**
   * The live status with what the commissioning check reads (issue #17 item 6): the first message's
   * time, the latest contact and whether it is recent, the rejection's detail in Chinese.
   */
  const statusView = (d: DeviceModel) => {
    const s = status.get(d.id);
    const times = [s.connectedAt, s.lastSeenAt].filter((t): t is string => typeof t === 'string' && t !== '');
    const lastContactAt = times.length ? times.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b)) : null;
    const reachable = s.online || (lastContactAt !== null && now() - Date.parse(lastContactAt) <= reachableWindowMs(d));
    return {
      ...s,
      firstAcceptedAt: s.firstAcceptedAt ?? null,
      lastContactAt,
      reachable,
      lastRejected: s.lastRejected ? { ...s.lastRejected, detailZh: rejectionDetailZh(s.lastRejected.reason, s.lastRejected.detail) } : null,
    };
  };
  const view = (d: DeviceModel, withStatus = false) => {
    const c = registry.commissioning(d);
    return {
      ...d,
      inService: c.inService,
      inServiceAt: c.inServiceAt,
      commissioningUntil: c.commissioningUntil,
      mqtt: { username: d.id, telemetryTopic: telemetryTopicFor(d.id), eventTopic: eventTopicFor(d.id) },
      ...(withStatus ? { status: statusView(d) } : {}),
    };
  };

  app.post(
    '/devices',
    {
      config,
      schema: {
        tags,
        description: 'Register a device. The answer carries its MQTT credentials; the password is shown this once.',
        body: DeviceBody,
        response: { 201: Device.extend({ credentials: Credentials }) },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const building = registry.getBuilding(req.body.buildingId);
      if (!canReadBuilding(p, building)) throw new NotFoundError('building', req.body.buildingId);
      if (!canWriteRegistry(p, building.id)) throw new ForbiddenError('only an admin or the building\'s operator registers its devices');
      checkSourceUitd(p, req.body.gb26875Source);
      const { device, credentials } = await registry.createDevice(req.body);
      return reply.code(201).send({ ...view(device), credentials });
    },
  );

  app.get('/devices', { config, schema: { tags, querystring: DeviceListQuery, response: { 200: Page(Device) } } }, async (req) => {
    const principal = principalOf(req);
    const { limit, cursor, online, ...rest } = req.query;
    const scope = buildingFilterFor(principal);
    const filter = { ...rest, ...(scope === 'all' ? {} : { scope }) };
    if (online === undefined) {
      const page = await registry.listDevices(filter, cursor, limit);
      return { items: page.items.map((d) => view(d, true)), nextCursor: page.nextCursor };
    }
    // online lives in memory: scan in id order and filter until the page is full
    const want = online === 'true';
    const items: DeviceModel[] = [];
    let after = cursor ? Buffer.from(cursor, 'base64url').toString('utf8') : undefined;
    let more = true;
    while (items.length <= limit && more) {
      const batch = await registry.scanDevices(filter, after, 500);
      more = batch.length === 500;
      for (const d of batch) if (status.isOnline(d.id) === want) items.push(d);
      after = batch[batch.length - 1]?.id;
    }
    const pageItems = items.slice(0, limit);
    const nextCursor = items.length > limit ? Buffer.from(pageItems[pageItems.length - 1]!.id, 'utf8').toString('base64url') : null;
    return { items: pageItems.map((d) => view(d, true)), nextCursor };
  });

  app.get(
    '/devices/:id',
    {
      config,
      schema: {
        tags,
        description: 'A device with its live status: online, last reading, last rejected message and why, counts.',
        params: IdParams,
        response: { 200: Device },
      },
    },
    async (req) => {
      const d = readable(principalOf(req), req.params.id);
      // the console's way back says the building's name, not its id (issue #17 item 5)
      return { ...view(d, true), buildingName: registry.getBuilding(d.buildingId).name };
    },
  );

  app.patch(
    '/devices/:id',
    {
      config,
      schema: {
        tags,
        description: 'Change a device. `rules` overrides rule parameters per device (threshold, forS, clearS, hysteresis, severity, enabled, …); values are checked against their allowed ranges. A change that loosens a rule in force (overrides, point, report interval, a move) needs a duty officer or an admin and a `reason`, and is audited (GET /api/v1/audit).',
        params: IdParams,
        body: DevicePatchBody,
        response: { 200: Device },
      },
    },
    async (req) => {
      const { reason, ...patch } = req.body;
      const p = principalOf(req);
      const current = readable(p, req.params.id);
      const building = registry.getBuilding(current.buildingId);
      if (!canWriteRegistry(p, current.buildingId)) {
        // the duty room approves loosened rules: it changes a device's alerting fields, nothing else
        const others = Object.keys(patch).filter((k) => !(DEVICE_ALERT_FIELDS as readonly string[]).includes(k));
        if (!canApproveAlertChanges(p, building)) throw new ForbiddenError('only an admin or the building\'s operator changes its devices');
        if (others.length > 0) {
          throw new ForbiddenError(`值班人员只能修改设备的告警字段（${DEVICE_ALERT_FIELDS.join('、')}）/ a duty officer changes only a device's alerting fields (${DEVICE_ALERT_FIELDS.join(', ')}), not ${others.join(', ')}`);
        }
      }
      if (patch.buildingId !== undefined && patch.buildingId !== current.buildingId) {
        const target = registry.getBuilding(patch.buildingId);
        if (!canWriteRegistry(p, target.id) || !canReadBuilding(p, target)) {
          throw new ForbiddenError('you may move a device only between your own buildings');
        }
      }
      const nextBuilding = patch.buildingId !== undefined ? registry.getBuilding(patch.buildingId) : building;
      checkSourceUitd(p, patch.gb26875Source);
      if (patch.rules) {
        const checked = validateRuleOverrides(patch.rules, { ...current, ...patch, rules: null } as DeviceModel, nextBuilding);
        if (!checked.ok) throw new BadRequestError('invalid_rule_override', checked.detail, { issues: checked.issues });
      }
      const next = { ...current, ...patch, id: current.id, kind: current.kind } as DeviceModel;
      const updated = await changeControl.deviceChange(p, { current, building, next, nextBuilding, fields: Object.keys(patch), reason }, (uow) =>
        registry.updateDevice(req.params.id, patch, uow),
      );
      return view(updated, true);
    },
  );

  app.get(
    '/devices/:id/rules',
    {
      config,
      schema: {
        tags,
        description:
          'The rules in force for this device: defaults from its building and point, merged with its overrides. Each rule lists its limits: the value checked at rest (standby: static pressure) and while water flows (flowing: dynamic pressure, also during a scheduled test), each with its source (a standard clause, or "design choice").',
        params: IdParams,
        response: { 200: z.object({ deviceId: z.string(), rules: z.record(z.string(), z.record(z.string(), z.unknown())), overrides: z.record(z.string(), z.unknown()).nullable() }) },
      },
    },
    async (req) => {
      const device = readable(principalOf(req), req.params.id);
      const building = registry.getBuilding(device.buildingId);
      const rules = resolveRules(device, building, device.rules);
      // the sources in words too (sourceText, flowingSourceText and each limit's), Chinese and English (issue #17 item 5)
      const worded = <T extends { source?: string | undefined }>(x: T) => (x.source === undefined ? x : { ...x, sourceText: sourceText(x.source) });
      const withLimits = Object.fromEntries(
        Object.entries(rules).map(([id, p]) => [
          id,
          { ...worded(p), ...(p.flowingSource !== undefined ? { flowingSourceText: sourceText(p.flowingSource) } : {}), limits: ruleLimits(id, p).map(worded) },
        ]),
      );
      return { deviceId: device.id, rules: withLimits as Record<string, Record<string, unknown>>, overrides: device.rules };
    },
  );

  app.delete(
    '/devices/:id',
    {
      config,
      schema: {
        tags,
        description: 'Delete a device: it is no longer monitored. Recorded in the audit history (`?reason=` says why).',
        params: IdParams,
        querystring: z.object({ reason: z.string().max(500).optional() }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const d = writable(p, req.params.id);
      await changeControl.deviceDeleted(p, d, registry.getBuilding(d.buildingId), req.query.reason, (uow) => registry.deleteDevice(req.params.id, uow));
      status.forget(req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/devices/:id/in-service',
    {
      config,
      schema: {
        tags,
        description:
          'Put a device being commissioned (调试) in service: from now on its alerts reach the duty board, the safety code and the uplink. Its open commissioning alerts are filed as tests (outcome test) and its rules start afresh: the next reading decides (a pressure still low is raised again as a normal alert). The building\'s operator or an admin; recorded in the audit history (device.in_service). A device already in service is answered as it is.',
        params: IdParams,
        body: z.object({ note: z.string().max(500).optional().describe('e.g. 安装验收完成') }).optional(),
        response: { 200: Device },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const d = writable(p, req.params.id);
      if (!registry.isCommissioning(d)) return view(d, true);
      const building = registry.getBuilding(d.buildingId);
      // the device's commissioning alerts are closed in the same transaction (registry.onInService)
      const { device: updated } = await changeControl.deviceInService(p, d, building, req.body?.note, (uow) => registry.putInService(d.id, p.username, uow));
      return view(updated, true);
    },
  );

  app.post(
    '/devices/:id/credentials',
    {
      config,
      schema: {
        tags,
        description: 'Rotate the MQTT password. Sessions using the old one are disconnected.',
        params: IdParams,
        response: { 201: Credentials },
      },
    },
    async (req, reply) => {
      writable(principalOf(req), req.params.id);
      return reply.code(201).send(await registry.rotateCredentials(req.params.id));
    },
  );

  app.get(
    '/devices/:id/readings',
    {
      config,
      schema: {
        tags,
        description: 'Stored readings, newest first, from the active store (SQLite or InfluxDB).',
        params: IdParams,
        querystring: ReadingsQuery,
        response: { 200: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) },
      },
    },
    async (req) => {
      const device = readable(principalOf(req), req.params.id);
      const from = parseTime(req.query.from, 'from');
      const to = parseTime(req.query.to, 'to');
      const rows = await deps.readingStore.query({
        deviceId: device.id,
        limit: req.query.limit,
        channel: req.query.channel,
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      });
      return {
        items: rows.map((r) => ({ ts: new Date(r.ts).toISOString(), ...(r.seq !== undefined ? { seq: r.seq } : {}), ...r.fields })),
      };
    },
  );
}
