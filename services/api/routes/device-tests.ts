/**
 * /api/v1/devices/{id}/tests — scheduled tests of fire-water points (services/devices/test-windows.ts).
 *
 *   POST   /devices/{id}/tests          start one: { kind, durationS?, note? } (the device must be water_pressure)
 *   POST   /devices/{id}/tests/end      end the running test early
 *   GET    /devices/{id}/tests          the device's tests, newest first, with the pressures they saw
 *
 * Who: the building's operator and an admin (they run the tests), duty in its streets.
 * While a test runs the pressure rules use their flowing limits and pressure_drop is quiet.
 */
import { z } from 'zod';
import type { TestWindow, TestWindows } from '../../devices/test-windows.js';
import { TEST_KINDS, TEST_MAX_S } from '../../devices/test-windows.js';
import { ROLES, type Principal } from '../../auth/model.js';
import { canApproveAlertChanges, canReadBuilding, canWriteRegistry } from '../../auth/scope.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import { BadRequestError, ForbiddenError, NotFoundError } from '../../shared/errors.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { IdParams } from '../schemas/registry.js';

export interface DeviceTestRouteOptions {
  registry: DeviceRegistry;
  tests: TestWindows;
  now: () => number;
}

const TestBody = z.strictObject({
  kind: z.enum(TEST_KINDS).describe('end_of_line 末端试水, pump 水泵试验, hydrant 消火栓试验, other'),
  durationS: z.number().int().min(60).max(TEST_MAX_S).optional().describe('default 1800 s; at most 4 h'),
  note: z.string().max(500).optional(),
});

const TestSchema = z.object({
  id: z.number(),
  deviceId: z.string(),
  buildingId: z.string(),
  kind: z.enum(TEST_KINDS),
  note: z.string().nullable(),
  startedBy: z.string(),
  startedAt: z.string(),
  endsAt: z.string(),
  endedAt: z.string().nullable(),
  endedBy: z.string().nullable(),
  running: z.boolean(),
  minMpa: z.number().nullable(),
  maxMpa: z.number().nullable(),
  readings: z.number(),
});

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export async function deviceTestRoutes(app: Api, deps: DeviceTestRouteOptions): Promise<void> {
  const tags = ['devices'];
  const view = (t: TestWindow, now: number) => ({
    ...t,
    startedAt: iso(t.startedAt)!,
    endsAt: iso(t.endsAt)!,
    endedAt: iso(t.endedAt),
    running: t.endedAt === null && now >= t.startedAt && now < t.endsAt,
  });
  // every role reaches the handler; whether this principal may see or run a test depends on the building
  const config = { roles: ROLES };
  const device = (p: Principal, id: string, write: boolean) => {
    const d = deps.registry.getDevice(id);
    const b = deps.registry.getBuilding(d.buildingId);
    if (!canReadBuilding(p, b)) throw new NotFoundError('device', id);
    if (write && !canWriteRegistry(p, b.id) && !canApproveAlertChanges(p, b)) {
      throw new ForbiddenError('试验由楼宇运营方、值班人员或管理员登记 / tests are run by the building operator, duty or an admin');
    }
    if (d.kind !== 'water_pressure') throw new BadRequestError('not_a_pressure_point', `设备 ${id} 不是水压监测点，无法登记试验 / device ${id} is a ${d.kind}, tests are for water-pressure points`);
    return { p, d };
  };

  app.post('/devices/:id/tests', { config, schema: { tags, description: 'Start a scheduled test of a fire-water point.', params: IdParams, body: TestBody, response: { 201: TestSchema } } }, async (req, reply) => {
    const { p, d } = device(principalOf(req), req.params.id, true);
    const t = await deps.tests.start({ deviceId: d.id, buildingId: d.buildingId, kind: req.body.kind, by: p.username, note: req.body.note ?? null, ...(req.body.durationS !== undefined ? { durationS: req.body.durationS } : {}) });
    return reply.code(201).send(view(t, t.startedAt));
  });

  app.post('/devices/:id/tests/end', { config, schema: { tags, description: 'End the running test early.', params: IdParams, response: { 200: TestSchema } } }, async (req) => {
    const { p, d } = device(principalOf(req), req.params.id, true);
    const t = await deps.tests.end(d.id, p.username);
    return view(t, t.endedAt ?? t.endsAt);
  });

  app.get('/devices/:id/tests', { config, schema: { tags, description: 'The device\'s tests, newest first.', params: IdParams, response: { 200: z.object({ items: z.array(TestSchema) }) } } }, async (req) => {
    const { d } = device(principalOf(req), req.params.id, false);
    const now = deps.now();
    return { items: (await deps.tests.list(d.id)).map((t) => view(t, now)) };
  });
}
