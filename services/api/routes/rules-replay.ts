/**
 * POST /api/v1/rules/replay: rule replay (试算, issue #15 item 3). Runs the pure rule engine
 * (services/rules/replay.ts) over the stored readings of a device or a building — the ReadingStore
 * the readings route reads: SQLite, InfluxDB or PostgreSQL — with the rules in force or with
 * overrides on top of them, and answers the alerts those rules would have raised beside the alerts
 * actually raised in the range. It changes nothing: the engine runs on a fresh in-memory rule
 * state; no alert, feed event, uplink item or rule state of the service is touched.
 *
 * Bounded: a range of at most REPLAY_MAX_RANGE_DAYS, at most REPLAY_MAX_READINGS readings in all,
 * at most REPLAY_MAX_RUNNING replays at once; the engine yields to other work every chunk of
 * readings (ingest shares this thread). Whoever may read the device or building (and so its
 * alerts) may replay it; outside the principal's scope it answers 404, as the other routes do.
 */
import { ROLES, type Principal } from '../../auth/model.js';
import { canReadBuilding } from '../../auth/scope.js';
import type { AlertService } from '../../alerts/alert-service.js';
import type { Alert } from '../../alerts/model.js';
import type { DeviceStatusTracker } from '../../devices/device-status.js';
import type { Building, Device } from '../../devices/model.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import type { TestWindows } from '../../devices/test-windows.js';
import { defaultRules } from '../../rules/defaults.js';
import { replaySteps, type ReplayDevice, type WouldBeAlert } from '../../rules/replay.js';
import { resolveRules, validateRuleOverrides } from '../../rules/rule-params.js';
import { RuleOverridesSchema } from '../../rules/rule-types.js';
import { AppError, BadRequestError, NotFoundError } from '../../shared/errors.js';
import type { ReadingStore } from '../../storage/reading-store.js';
import type { Reading } from '../../telemetry/telemetry.js';
import { principalOf } from '../authenticated.js';
import { parseTimeParam } from '../time-param.js';
import { ReplayBody, ReplayResponse } from '../schemas/replay.js';
import type { Api } from '../types.js';

/** the longest range one replay covers */
export const REPLAY_MAX_RANGE_DAYS = 31;
/** the most readings (telemetry and events, all devices) one replay evaluates */
export const REPLAY_MAX_READINGS = 200_000;
/** replays running at once; one more is refused (429) */
export const REPLAY_MAX_RUNNING = 2;

/**
 * The limits in force, read on every request: the constants above. Only a test changes them (to
 * reach the readings limit without storing 200,000 readings), and puts them back.
 */
export const replayLimits = { maxRangeDays: REPLAY_MAX_RANGE_DAYS, maxReadings: REPLAY_MAX_READINGS, maxRunning: REPLAY_MAX_RUNNING };
/** the most actual alerts listed beside the would-be ones */
const ACTUAL_MAX = 1000;
/** readings evaluated between two yields to the event loop */
const CHUNK = 2000;
const DAY = 86_400_000;

export interface ReplayRouteOptions {
  registry: DeviceRegistry;
  readingStore: ReadingStore;
  alerts: Pick<AlertService, 'list'>;
  status: Pick<DeviceStatusTracker, 'get'>;
  /** scheduled tests of fire-water points: a test's span is replayed as live (flowing limits) */
  tests?: Pick<TestWindows, 'list'> | undefined;
  /** the InfluxDB forwarder's backlog: readings not in the store yet */
  sinkStatus?: (() => { backlog: number; backlogAgeS: number }) | undefined;
  now: () => number;
}

class ReplayBusyError extends AppError {
  constructor() {
    super('replay_busy', 429, `试算正在进行（最多同时 ${replayLimits.maxRunning} 个），请稍后再试 / ${replayLimits.maxRunning} replays are running already; try again in a moment`);
  }
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

type Overrides = Record<string, Record<string, unknown>>;

/** the device's own overrides with `given` on top, per rule and parameter; checked as PATCH checks them */
function overridesFor(device: Device, building: Building, given: Overrides | undefined): unknown {
  if (!given) return device.rules;
  const merged: Overrides = { ...((device.rules ?? {}) as Overrides) };
  for (const [id, o] of Object.entries(given)) merged[id] = { ...(merged[id] ?? {}), ...o };
  const v = validateRuleOverrides(merged, device, building);
  if (!v.ok) throw new BadRequestError('invalid_rule_override', `试算规则无效 / invalid rules for ${device.id}: ${v.detail}`, { issues: v.issues });
  return v.value;
}

const actualView = (a: Alert) => ({
  id: a.id,
  rule: a.rule,
  deviceId: a.deviceId,
  buildingId: a.buildingId,
  class: a.class,
  severity: a.severity,
  status: a.status,
  raisedAt: a.openedAt,
  clearedAt: a.clearedAt,
  closedAt: a.closedAt,
  peak: a.peak,
  count: a.count,
  threshold: a.threshold,
  commissioning: a.commissioning,
  maintenance: a.maintenance,
});

const wouldBeView = (a: WouldBeAlert) => ({ ...a, raisedAt: iso(a.raisedAt)!, clearedAt: iso(a.clearedAt) });

export async function ruleReplayRoutes(app: Api, deps: ReplayRouteOptions): Promise<void> {
  const { registry, readingStore } = deps;
  let running = 0;

  /** the devices to replay and their building, if the principal may read them (404 otherwise) */
  const target = (p: Principal, body: { deviceId?: string | undefined; buildingId?: string | undefined }): { building: Building; devices: Device[] } => {
    if (body.deviceId !== undefined) {
      const d = registry.getDevice(body.deviceId);
      const building = registry.getBuilding(d.buildingId);
      if (!canReadBuilding(p, building)) throw new NotFoundError('device', d.id);
      return { building, devices: [d] };
    }
    const building = registry.getBuilding(body.buildingId!);
    if (!canReadBuilding(p, building)) throw new NotFoundError('building', building.id);
    return { building, devices: [...registry.devices()].filter((d) => d.buildingId === building.id).sort((a, b) => a.id.localeCompare(b.id)) };
  };

  /** a building's overrides: each device takes the rules that apply to it; one that applies to none is an error */
  const givenFor = (devices: readonly Device[], building: Building, given: Overrides | undefined, single: boolean) => {
    if (!given) return () => undefined;
    const shape = RuleOverridesSchema.safeParse(given);
    if (!shape.success) {
      const issues = shape.error.issues.map((i) => `${i.path.join('.') || 'rules'}: ${i.message}`);
      throw new BadRequestError('invalid_rule_override', `试算规则无效 / invalid rules: ${issues.join('; ')}`, { issues });
    }
    if (single) return () => given;
    const applies = new Map(devices.map((d) => [d.id, defaultRules(d, building)]));
    const unused = Object.keys(given).filter((id) => ![...applies.values()].some((r) => id in r));
    if (unused.length > 0) throw new BadRequestError('invalid_rule_override', `试算规则不适用于该楼宇的任何设备 / ${unused.join(', ')}: applies to no device of building ${building.id}`);
    return (d: Device) => Object.fromEntries(Object.entries(given).filter(([id]) => id in applies.get(d.id)!));
  };

  /** the device's readings in the range, oldest first, at most `room` (one more says there are more) */
  const readingsOf = async (d: Device, from: number, to: number, room: number): Promise<Reading[]> => {
    const out: Reading[] = [];
    for (const channel of ['telemetry', 'event'] as const) {
      const rows = await readingStore.query({ deviceId: d.id, from, to, channel, limit: room - out.length + 1 });
      for (let i = rows.length - 1; i >= 0; i--) {
        const r = rows[i]!;
        out.push({ deviceId: d.id, kind: d.kind, channel, ts: r.ts, ...(r.seq !== undefined ? { seq: r.seq } : {}), fields: r.fields as Reading['fields'] });
      }
      if (out.length > room) break;
    }
    // telemetry and events in one timeline, each channel in its stored order
    return out.sort((a, b) => a.ts - b.ts);
  };

  /**
   * Whether the store still holds the start of the range: the device sent nothing before `from`,
   * or a reading from before `from` is still there (retention prunes the oldest first).
   */
  const startKept = async (d: Device, from: number): Promise<boolean> => {
    const first = deps.status.get(d.id).firstAcceptedAt;
    if (!first || Date.parse(first) >= from) return true;
    for (const channel of ['telemetry', 'event'] as const) {
      if ((await readingStore.query({ deviceId: d.id, to: from - 1, channel, limit: 1 })).length > 0) return true;
    }
    return false;
  };

  app.post(
    '/rules/replay',
    {
      // whoever may read the device or building and its alerts: the scope is checked per building
      config: { roles: ROLES },
      schema: {
        tags: ['rules'],
        description:
          `Rule replay (试算): the alerts the rules — in force, or with \`rules\` overrides on top — would have raised over the stored readings of a device or a building, beside the alerts actually raised then. Changes nothing. At most ${REPLAY_MAX_RANGE_DAYS} days and ${REPLAY_MAX_READINGS} readings (400 replay_range_too_long, replay_too_many_readings).`,
        body: ReplayBody,
        response: { 200: ReplayResponse },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const body = req.body;
      const { building, devices } = target(p, body);
      const { maxRangeDays, maxReadings } = replayLimits;
      const from = parseTimeParam(body.from, 'from');
      const askedTo = parseTimeParam(body.to, 'to');
      if (askedTo <= from) throw new BadRequestError('bad_range', '`to` must be after `from`');
      if (askedTo - from > maxRangeDays * DAY) {
        throw new BadRequestError('replay_range_too_long', `试算时间范围最长 ${maxRangeDays} 天 / a replay covers at most ${maxRangeDays} days; split the range`, { maxRangeDays });
      }
      const now = deps.now();
      const to = Math.min(askedTo, now);
      if (to <= from) throw new BadRequestError('bad_range', '`from` must be before now');
      const givenOf = givenFor(devices, building, body.rules, body.deviceId !== undefined);
      const overrides = new Map(devices.map((d) => [d.id, overridesFor(d, building, givenOf(d))]));

      if (running >= replayLimits.maxRunning) throw new ReplayBusyError();
      running++;
      try {
        const input: ReplayDevice[] = [];
        let total = 0;
        for (const d of devices) {
          const readings = await readingsOf(d, from, to, maxReadings - total);
          total += readings.length;
          if (total > maxReadings) {
            throw new BadRequestError(
              'replay_too_many_readings',
              `试算最多 ${maxReadings} 条读数，该范围超出；请缩短时间范围或逐个设备试算 / a replay evaluates at most ${maxReadings} readings and this range has more; shorten it or replay one device`,
              { maxReadings },
            );
          }
          const tests = d.kind === 'water_pressure' && deps.tests ? await deps.tests.list(d.id, 200) : [];
          const spans = tests.map((t) => ({ startedAt: t.startedAt, endsAt: t.endedAt ?? t.endsAt })).filter((s) => s.endsAt > from && s.startedAt <= to);
          input.push({ device: d, building, overrides: overrides.get(d.id), readings, ...(spans.length ? { tests: spans } : {}) });
        }

        const incomplete: Array<{ code: 'readings_pruned' | 'forwarding_backlog'; deviceId: string | null; message: { zh: string; en: string } }> = [];
        for (const d of devices) {
          if (!(await startKept(d, from))) {
            incomplete.push({
              code: 'readings_pruned',
              deviceId: d.id,
              message: { zh: `设备 ${d.id} 在开始时间之前的读数已按保留期删除，范围开头可能缺少读数`, en: `readings of ${d.id} from before the start are gone (retention): the start of the range may be missing some` },
            });
          }
        }
        const sink = deps.sinkStatus?.();
        if (sink && sink.backlog > 0 && to >= now - sink.backlogAgeS * 1000) {
          incomplete.push({
            code: 'forwarding_backlog',
            deviceId: null,
            message: { zh: `最近 ${sink.backlogAgeS} 秒的 ${sink.backlog} 条读数尚未写入 InfluxDB，范围末尾可能缺少读数`, en: `${sink.backlog} readings of the last ${sink.backlogAgeS} s are not in InfluxDB yet: the end of the range may be missing some` },
          });
        }

        // the engine, a chunk of readings at a time: ingest shares this thread
        const steps = replaySteps({ devices: input, from, to }, { chunk: CHUNK });
        let step = steps.next();
        while (!step.done) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          step = steps.next();
        }
        const result = step.value;

        const actual = await deps.alerts.list({
          ...(body.deviceId !== undefined ? { deviceId: body.deviceId } : { buildingId: building.id }),
          from: iso(from)!,
          to: iso(to)!,
          commissioning: 'include',
          limit: ACTUAL_MAX + 1,
        });
        return {
          from: iso(from)!,
          to: iso(to)!,
          readings: result.readings,
          complete: incomplete.length === 0,
          incomplete,
          devices: devices.map((d) => ({
            deviceId: d.id,
            kind: d.kind,
            readings: result.perDevice[d.id] ?? 0,
            rules: resolveRules(d, building, overrides.get(d.id)) as Record<string, Record<string, unknown>>,
          })),
          wouldBe: result.alerts.map(wouldBeView),
          actual: actual
            .slice(0, ACTUAL_MAX)
            .map(actualView)
            .sort((a, b) => a.raisedAt.localeCompare(b.raisedAt)),
          actualTruncated: actual.length > ACTUAL_MAX,
          limits: { maxRangeDays, maxReadings },
        };
      } finally {
        running--;
      }
    },
  );
}
