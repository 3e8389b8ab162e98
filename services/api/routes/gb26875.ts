/**
 * What a UITD's points report, as the GB/T 26875.3 gateway keeps it (issue #16 item 7):
 *
 *   GET /devices/{id}/gb26875          each point with a status bit set: disabled (屏蔽) points counted
 *                                      and listed, test mode, supervisory, started, feedback, delay, manual
 *   GET /devices/{id}/gb26875/tests    test-mode alarms (bit0 = 0 with the fire alarm or supervisory bit),
 *                                      newest first: recorded as tests, never raised as alerts
 *   GET /buildings/{id}/gb26875        the building's UITDs with their disabled and test-mode counts
 *                                      (many disabled detectors in one building is a finding for the inspector)
 *   POST /devices/{id}/gb26875/commands  the duty room sends the UITD a clock sync, a duty check or a read
 *   GET /devices/{id}/gb26875/commands   what was sent and answered (issue #14; the last 20)
 *
 * Who: anyone who may read the building (admin, duty in its streets, its operator, platforms); the
 * commands are sent by duty and admin only.
 */
import { z } from 'zod';
import { ROLES, type Principal } from '../../auth/model.js';
import { canReadBuilding } from '../../auth/scope.js';
import { CENTRE_COMMANDS, type CentreCommands, type DutyRound, type DutyRounds, type Gb26875Point, type Gb26875TestAlarm, type Gb26875View } from '../../devices/gb26875-points.js';
import type { Device } from '../../devices/model.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import { BadRequestError, NotFoundError } from '../../shared/errors.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { IdParams } from '../schemas/registry.js';

export interface Gb26875RouteOptions {
  registry: DeviceRegistry;
  /** the gateway (Gb26875Listener) */
  gateway: Gb26875View;
  /** the centre's commands to UITDs (gateway/gb26875/centre-commands.ts) */
  commands: CentreCommands;
  /** the daily duty check of the UITDs (gateway/gb26875/duty-rounds.ts) */
  rounds: DutyRounds;
}

const DutyRoundSchema = z.object({
  id: z.string(),
  startedAt: z.string(),
  by: z.string().describe('who ran it: a username, or system:schedule for the daily round (GB26875_DUTY_ROUND_AT)'),
  deadline: z.string().describe('answers count until this (GB26875_DUTY_CHECK_S after the start)'),
  items: z.array(
    z.object({
      deviceId: z.string(),
      buildingId: z.string(),
      sent: z.string().describe('how the duty check itself went: confirmed, denied, timeout, not_connected, …'),
      status: z.enum(['waiting', 'answered', 'unanswered', 'unreachable']),
      answeredAt: z.string().nullable().describe("when the UITD's 查岗应答 operation record came"),
    }),
  ),
  summary: z.object({ uitds: z.number(), answered: z.number(), unanswered: z.number(), unreachable: z.number(), waiting: z.number() }),
});

const CommandRecordSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  command: z.enum(CENTRE_COMMANDS),
  by: z.string(),
  sentAt: z.string(),
  serial: z.number().nullable(),
  attempts: z.number(),
  outcome: z.enum(['confirmed', 'answered', 'denied', 'timeout', 'not_connected', 'unexpected']),
  answeredAt: z.string().nullable(),
  target: z.object({ systemType: z.number(), systemAddress: z.number(), zone: z.number(), position: z.number() }).optional().describe('read_analog: the component read'),
  answer: z.record(z.string(), z.unknown()).nullable().describe('a read\'s answer: { status, flags, time } (read_status), { major, minor } (read_version), { text } (read_config), { time } (read_time), { values: [{ analogType, value, time, … }] } (read_analog)'),
});

const nullableNumber = z.number().nullable();
const PointRefSchema = {
  point: z.string().describe('the point\'s key: sys:<type>:<addr>, comp:<sysType>:<sysAddr>:<compType>:<zone>-<position> or uitd'),
  level: z.enum(['system', 'component', 'uitd']),
  name: z.string().describe('as duty staff read it, e.g. 感烟火灾探测器 10区2号（3F 走廊）'),
  systemType: nullableNumber,
  systemTypeName: z.string().nullable(),
  systemAddress: nullableNumber,
  componentType: nullableNumber,
  componentTypeName: z.string().nullable(),
  zone: nullableNumber,
  position: nullableNumber,
  componentAddress: nullableNumber.describe('zone + position × 65536, as in the UITD\'s readings and a gb26875Source'),
  description: z.string().nullable(),
};
const BITS = ['fireAlarm', 'fault', 'supervisory', 'disabled', 'test', 'testAlarm', 'testSupervisory', 'started', 'feedback', 'delay', 'manual'] as const;
const PointSchema = z.object({
  ...PointRefSchema,
  status: nullableNumber.describe('the last status word (byte for the UITD itself)'),
  bits: z.object(Object.fromEntries(BITS.map((b) => [b, z.boolean()])) as Record<(typeof BITS)[number], z.ZodBoolean>).describe(
    'fireAlarm 火警 and supervisory 监管 outside test mode raise alerts; test: bit0 = 0 (test mode) from a source known to set bit0; testAlarm / testSupervisory: those bits in test mode (recorded as tests)',
  ),
  since: z.string().nullable().describe('when the point began reporting these bits'),
});
const StateSchema = z.object({
  deviceId: z.string(),
  alarm: z.boolean().describe('a point reports a fire alarm (not in test mode)'),
  fault: z.boolean(),
  supervisory: z.boolean(),
  disabledCount: z.number().describe('points reporting disabled 屏蔽'),
  disabledPoints: z.array(PointSchema),
  testModeCount: z.number().describe('points in test mode'),
  points: z.array(PointSchema).describe('every point with a status bit set'),
  testBitSources: z.array(z.string()).describe('status sources seen setting bit0 (normal): bit0 = 0 from them is test mode; from others it is not trusted as a test'),
});
const TestSchema = z.object({
  id: z.number(),
  ...PointRefSchema,
  fireAlarm: z.boolean().describe('the fire alarm bit was set in test mode'),
  supervisory: z.boolean().describe('the supervisory bit was set in test mode'),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  running: z.boolean(),
});

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const pointView = (p: Gb26875Point) => ({ ...p, since: iso(p.since) });
const testView = (t: Gb26875TestAlarm) => ({ ...t, startedAt: iso(t.startedAt)!, endedAt: iso(t.endedAt), running: t.endedAt === null });

export async function gb26875Routes(app: Api, deps: Gb26875RouteOptions): Promise<void> {
  const tags = ['devices'];
  const config = { roles: ROLES };
  const uitd = (p: Principal, id: string): Device => {
    const d = deps.registry.getDevice(id);
    if (!canReadBuilding(p, deps.registry.getBuilding(d.buildingId))) throw new NotFoundError('device', id);
    if (d.kind !== 'uitd') throw new BadRequestError('not_a_uitd', `设备 ${id} 不是用户信息传输装置 / device ${id} is a ${d.kind}, not a uitd`);
    return d;
  };
  const summary = (deviceId: string) => {
    const points = deps.gateway.points(deviceId).map(pointView);
    const disabled = points.filter((p) => p.bits.disabled);
    return {
      deviceId,
      alarm: points.some((p) => p.bits.fireAlarm),
      fault: points.some((p) => p.bits.fault),
      supervisory: points.some((p) => p.bits.supervisory),
      disabledCount: disabled.length,
      disabledPoints: disabled,
      testModeCount: points.filter((p) => p.bits.test).length,
      points,
      testBitSources: deps.gateway.testBitSources(deviceId),
    };
  };

  app.get(
    '/devices/:id/gb26875',
    {
      config,
      schema: {
        tags,
        description: 'A UITD\'s points as the GB/T 26875.3 gateway last saw them: every point with a status bit set, the disabled (屏蔽) points counted and listed, test mode, supervisory, started, feedback, delay, manual.',
        params: IdParams,
        response: { 200: StateSchema },
      },
    },
    async (req) => summary(uitd(principalOf(req), req.params.id).id),
  );

  app.get(
    '/devices/:id/gb26875/tests',
    {
      config,
      schema: {
        tags,
        description: 'A UITD\'s test-mode alarms (status bit0 = 0 with the fire alarm or supervisory bit), newest first: recorded as tests, not raised as alerts.',
        params: IdParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.object({ items: z.array(TestSchema) }) },
      },
    },
    async (req) => {
      const d = uitd(principalOf(req), req.params.id);
      return { items: (await deps.gateway.tests(d.id, req.query.limit)).map(testView) };
    },
  );

  app.post(
    '/devices/:id/gb26875/commands',
    {
      config: { roles: ['admin', 'duty'] },
      schema: {
        tags,
        description:
          'Send the UITD one of the centre\'s commands on its connection: clock_sync (type 90, our time), duty_check (查岗, type 91), read_status (81 → 21), read_version (85 → 25), read_config (86 → 26), read_time (88 → 28), read_analog (63 → 3: the analog values of the component given by systemType, systemAddress, zone, position). Waits for the answer: up to 3 tries of GB26875_COMMAND_TIMEOUT_MS (10 s) with the same serial. The outcome is in the body (timeout and not_connected included), 200 either way.',
        params: IdParams,
        body: z
          .object({
            command: z.enum(CENTRE_COMMANDS),
            // read_analog: which component (a point of the UITD, as GET /devices/{id}/gb26875 lists them)
            systemType: z.number().int().min(0).max(255).optional(),
            systemAddress: z.number().int().min(0).max(255).optional(),
            zone: z.number().int().min(0).max(0xffff).optional(),
            position: z.number().int().min(0).max(0xffff).optional(),
          })
          .refine((b) => b.command !== 'read_analog' || (b.systemType !== undefined && b.systemAddress !== undefined && b.zone !== undefined && b.position !== undefined), {
            message: 'read_analog needs systemType, systemAddress, zone and position (the component)',
          }),
        response: { 200: CommandRecordSchema },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const d = uitd(p, req.params.id);
      const b = req.body;
      const target = b.command === 'read_analog' ? { systemType: b.systemType!, systemAddress: b.systemAddress!, zone: b.zone!, position: b.position! } : undefined;
      return deps.commands.run(d.id, b.command, p.username, target);
    },
  );

  app.get(
    '/devices/:id/gb26875/commands',
    {
      config,
      schema: {
        tags,
        description: 'The centre\'s commands sent to this UITD and what came of them, newest first (the last 20, kept until a restart).',
        params: IdParams,
        response: { 200: z.object({ items: z.array(CommandRecordSchema) }) },
      },
    },
    async (req) => ({ items: deps.commands.history(uitd(principalOf(req), req.params.id).id) }),
  );

  // the duty check of the UITDs (issue #14): who answered; each duty officer sees the UITDs of their streets
  const report = (p: Principal, r: DutyRound) => {
    const items = r.items.filter((i) => {
      try {
        return canReadBuilding(p, deps.registry.getBuilding(i.buildingId));
      } catch {
        return false;
      }
    });
    const count = (s: string) => items.filter((i) => i.status === s).length;
    return { ...r, items, summary: { uitds: items.length, answered: count('answered'), unanswered: count('unanswered'), unreachable: count('unreachable'), waiting: count('waiting') } };
  };
  app.get(
    '/gb26875/duty-rounds',
    {
      config: { roles: ['admin', 'duty'] },
      schema: {
        tags,
        description: 'The duty checks (查岗) of the UITDs, newest first (the last 30): each UITD in service, whether it confirmed the check and whether a person answered on it (its 查岗应答 operation record) within GB26875_DUTY_CHECK_S. The daily round runs at GB26875_DUTY_ROUND_AT.',
        response: { 200: z.object({ items: z.array(DutyRoundSchema) }) },
      },
    },
    async (req) => ({ items: deps.rounds.list().map((r) => report(principalOf(req), r)) }),
  );

  app.post(
    '/gb26875/duty-rounds',
    {
      config: { roles: ['admin'] },
      schema: {
        tags,
        description: 'Run a duty check of every UITD in service now (the district-wide round, as the daily one); answers when every check was confirmed or failed; the answers come in until the deadline.',
        response: { 200: DutyRoundSchema },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return report(p, await deps.rounds.run(p.username));
    },
  );

  app.get(
    '/buildings/:id/gb26875',
    {
      config,
      schema: {
        tags: ['buildings'],
        description: 'The building\'s UITDs with their disabled (屏蔽) and test-mode point counts: many disabled detectors in one building is a finding for the inspector.',
        params: IdParams,
        response: {
          200: z.object({
            buildingId: z.string(),
            disabledCount: z.number(),
            uitds: z.array(z.object({ deviceId: z.string(), disabledCount: z.number(), testModeCount: z.number(), alarm: z.boolean(), fault: z.boolean(), supervisory: z.boolean() })),
          }),
        },
      },
    },
    async (req) => {
      const b = deps.registry.getBuilding(req.params.id);
      if (!canReadBuilding(principalOf(req), b)) throw new NotFoundError('building', req.params.id);
      const uitds = [...deps.registry.devices()]
        .filter((d) => d.kind === 'uitd' && d.buildingId === b.id)
        .sort((x, y) => (x.id < y.id ? -1 : 1))
        .map((d) => {
          const s = summary(d.id);
          return { deviceId: d.id, disabledCount: s.disabledCount, testModeCount: s.testModeCount, alarm: s.alarm, fault: s.fault, supervisory: s.supervisory };
        });
      return { buildingId: b.id, disabledCount: uitds.reduce((n, u) => n + u.disabledCount, 0), uitds };
    },
  );
}
