/**
 * What a UITD's status bits mean to Firewatch (issue #16 item 7). Pure: no sockets, no storage.
 *
 * Status frames report states (fact 24): the gateway keeps, per UITD, the last bits of every status
 * source (a system of type 1, a component of type 2, the UITD itself of type 21) that has any bit set,
 * and derives from them
 *
 *   bit1 火警  fire alarm    ─► `alarm`        ─► device_alarm (hazard, a fire)
 *   bit2 故障  fault (+ power, bus, channel, line faults) ─► `fault` ─► sensor_fault
 *   bit4 监管  supervisory   ─► `supervisory`  ─► device_supervisory (hazard, not a fire)
 *   bit3 屏蔽  disabled      ─► counted and listed: a building with many disabled points is a finding
 *   bit5 启动, bit6 反馈, bit7 延时, bit11 手动 (system): kept and shown, no alert
 *   bit0 = 0   test mode     ─► a fire alarm or supervisory bit is a test: recorded, never an alert
 *
 * The test bit, carefully. By the letter of facts 20–22 bit0 = 1 is "normal operation" and 0 is
 * "test mode", but the standard's own worked fire alarm (fact 25, G2) has status 0x0002: bit0 = 0.
 * A UITD built after that example sends real fire alarms with bit0 = 0 (some set bit0 only in an
 * all-normal report, 0x0001), and reading them as tests would drop real fires. So bit0 = 0 means
 * test only from a source that has proved it uses bit0 as the operating mode: sent bit0 = 1 together
 * with an alarm, fault, supervisory or disabled bit (provesTestBit). Sources are per system (system
 * type and address: its controller writes the words of its system and its components) and the
 * UITD's own status byte; what was learned is remembered across restarts. Until then a bit0 = 0
 * alarm is a real alarm (the safe side), and an alarm raised as real stays real while its bit stays.
 */
import type { Gb26875Point, Gb26875PointRef, Gb26875TestAlarm, Gb26875TestRecord } from '../../services/devices/gb26875-points.js';
import type { AppData } from '../../services/protocols/gb26875/app-data.js';
import { componentTypeName, systemTypeName } from '../../services/protocols/gb26875/tables.js';

/** One status source's last bits. Only sources with a bit set are kept. */
export interface ComponentState {
  /** fire alarm bit, not in test mode */
  alarm: boolean;
  /** fault bits: fault, power, bus, channel and line faults */
  fault: boolean;
  /** supervisory bit 监管, not in test mode */
  supervisory?: boolean;
  /** disabled 屏蔽 */
  disabled?: boolean;
  /** bit0 = 0 from a source known to set bit0 */
  test?: boolean;
  /** the fire alarm bit while in test mode: a test alarm */
  testAlarm?: boolean;
  /** the supervisory bit while in test mode */
  testSupervisory?: boolean;
  started?: boolean;
  feedback?: boolean;
  delay?: boolean;
  /** manual mode (system status bit 11; 0 = automatic) */
  manual?: boolean;
  /** the raw status word (byte for the UITD) */
  status?: number;
  /** the component's description (type 2) */
  description?: string;
  /** when this state began (epoch ms): the first report with these bits */
  since?: number;
}

/** The bits of one status object, before the test bit is applied. */
export interface StatusObservation {
  /** `sys:<type>:<addr>`, `comp:<sysType>:<sysAddr>:<compType>:<zone>-<position>` or `uitd` */
  key: string;
  /** whose bit0 habit applies: `sys:<type>:<addr>` for systems and their components, `uitd` for the UITD */
  source: string;
  normalBit: boolean;
  fireAlarm: boolean;
  fault: boolean;
  supervisory: boolean;
  disabled: boolean;
  started: boolean;
  feedback: boolean;
  delay: boolean;
  manual: boolean;
  status: number;
  description?: string;
}

/** The status objects of a type 1, 2 or 21 unit; none for other types. */
export function statusObservations(app: AppData): StatusObservation[] {
  switch (app.type) {
    case 1:
      return app.objects.map((o) => {
        const f = o.flags;
        return {
          key: `sys:${o.systemType}:${o.systemAddress}`,
          source: `sys:${o.systemType}:${o.systemAddress}`,
          normalBit: f.normal,
          fireAlarm: f.fireAlarm,
          fault: f.fault || f.mainPowerFault || f.backupPowerFault || f.busFault,
          supervisory: f.supervisory,
          disabled: f.disabled,
          started: f.started,
          feedback: f.feedback,
          delay: f.delay,
          manual: f.manual,
          status: o.status,
        };
      });
    case 2:
      return app.objects.map((o) => {
        const f = o.flags;
        return {
          key: `comp:${o.systemType}:${o.systemAddress}:${o.componentType}:${o.address.zone}-${o.address.position}`,
          source: `sys:${o.systemType}:${o.systemAddress}`,
          normalBit: f.normal,
          fireAlarm: f.fireAlarm,
          fault: f.fault || f.powerFault,
          supervisory: f.supervisory,
          disabled: f.disabled,
          started: f.started,
          feedback: f.feedback,
          delay: f.delay,
          manual: false,
          status: o.status,
          ...(o.description ? { description: o.description } : {}),
        };
      });
    case 21:
      return app.objects.map((o) => {
        const f = o.flags;
        return {
          key: 'uitd',
          source: 'uitd',
          normalBit: f.normal,
          fireAlarm: f.fireAlarm,
          fault: f.fault || f.mainPowerFault || f.backupPowerFault || f.centreLinkFault || f.monitoringLineFault,
          supervisory: false,
          disabled: false,
          started: false,
          feedback: false,
          delay: false,
          manual: false,
          status: o.status,
        };
      });
    default:
      return [];
  }
}

/**
 * Whether an observation proves that its source uses bit0 as the standard says (operating mode,
 * not "nothing to report"): bit0 = 1 together with an alarm, fault, supervisory or disabled bit.
 * A source that sets bit0 only in its "all normal" reports (0x0001) and sends a real alarm as 0x0002
 * would otherwise have its real alarms taken for tests.
 */
export function provesTestBit(o: StatusObservation): boolean {
  return o.normalBit && (o.fireAlarm || o.fault || o.supervisory || o.disabled);
}

/**
 * The state an observation leaves, or undefined when no bit is set (the source is normal).
 * `honoursTestBit`: the source is known to set bit0 (see the module comment). `before`: the point's
 * state so far: an alarm (supervisory) already raised as real stays real while its bit stays set,
 * even when the source's habit was learned after it.
 */
export function stateOf(o: StatusObservation, honoursTestBit: boolean, since: number, before?: ComponentState): ComponentState | undefined {
  const test = !o.normalBit && honoursTestBit;
  const alarmIsTest = test && before?.alarm !== true;
  const supervisoryIsTest = test && before?.supervisory !== true;
  const s: ComponentState = { alarm: o.fireAlarm && !alarmIsTest, fault: o.fault };
  if (o.supervisory && !supervisoryIsTest) s.supervisory = true;
  if (o.disabled) s.disabled = true;
  if (test) s.test = true;
  if (o.fireAlarm && alarmIsTest) s.testAlarm = true;
  if (o.supervisory && supervisoryIsTest) s.testSupervisory = true;
  if (o.started) s.started = true;
  if (o.feedback) s.feedback = true;
  if (o.delay) s.delay = true;
  if (o.manual) s.manual = true;
  const any = s.alarm || s.fault || Object.keys(s).length > 2;
  if (!any) return undefined;
  s.status = o.status;
  if (o.description) s.description = o.description;
  s.since = since;
  return s;
}

/** The bits that matter (not `since`): a state whose signature is unchanged is not news. */
export function signature(s: ComponentState | undefined): string {
  if (!s) return '';
  const { since: _since, ...rest } = s;
  return JSON.stringify(rest);
}

export function isTestSignal(s: ComponentState | undefined): boolean {
  return s?.testAlarm === true || s?.testSupervisory === true;
}

// ---------------------------------------------------------------------------------------------
// Points: what a key names, for the API and for messages
// ---------------------------------------------------------------------------------------------

export interface ParsedKey {
  level: 'system' | 'component' | 'uitd';
  systemType: number | null;
  systemAddress: number | null;
  componentType: number | null;
  zone: number | null;
  position: number | null;
  /** zone + position × 65536, the uint32 the `uitd` readings carry as componentAddress */
  componentAddress: number | null;
}

export function parseKey(key: string): ParsedKey {
  const none = { systemType: null, systemAddress: null, componentType: null, zone: null, position: null, componentAddress: null };
  const sys = /^sys:(\d+):(\d+)$/.exec(key);
  if (sys) return { ...none, level: 'system', systemType: Number(sys[1]), systemAddress: Number(sys[2]) };
  const comp = /^comp:(\d+):(\d+):(\d+):(\d+)-(\d+)$/.exec(key);
  if (comp) {
    const zone = Number(comp[4]);
    const position = Number(comp[5]);
    return { level: 'component', systemType: Number(comp[1]), systemAddress: Number(comp[2]), componentType: Number(comp[3]), zone, position, componentAddress: zone + position * 0x10000 };
  }
  return { ...none, level: 'uitd' };
}

/**
 * A point as duty staff read it, Chinese, at most 64 characters: 感烟火灾探测器 10区2号（3F 走廊）,
 * 自动喷水灭火系统 1号, 用户信息传输装置.
 */
export function pointName(key: string, description?: string): string {
  const r = parseKey(key);
  let name: string;
  if (r.level === 'component') {
    name = `${componentTypeName(r.componentType!).zh} ${r.zone}区${r.position}号`;
    if (description) name += `（${description}）`;
    else name = `${systemTypeName(r.systemType!).zh}${r.systemAddress}号 ${name}`;
  } else if (r.level === 'system') {
    name = `${systemTypeName(r.systemType!).zh} ${r.systemAddress}号`;
  } else {
    name = '用户信息传输装置';
  }
  return name.slice(0, 64);
}

// ---------------------------------------------------------------------------------------------
// Analog pressure through a binding
// ---------------------------------------------------------------------------------------------

const PRESSURE_TO_MPA: Readonly<Record<string, number>> = { mpa: 1, kpa: 0.001, pa: 0.000001, bar: 0.1 };

/** A pressure in `unit` (the analog table's MPa or kPa, a vendor's bar or Pa) in MPa; undefined for another unit. */
export function pressureMpa(value: number, unit: string): number | undefined {
  const f = PRESSURE_TO_MPA[unit.trim().toLowerCase()];
  return f === undefined ? undefined : Math.round(value * f * 1e6) / 1e6;
}

/** A type 3 object's component, as a binding (services/devices/model.ts Gb26875Source) names it. */
export interface AnalogComponentRef {
  systemType: number;
  systemAddress: number;
  componentType: number;
  componentAddress: number;
}

// ---------------------------------------------------------------------------------------------
// Views (services/devices/gb26875-points.ts)
// ---------------------------------------------------------------------------------------------

export function pointRef(key: string, description: string | null): Gb26875PointRef {
  const r = parseKey(key);
  return {
    point: key,
    ...r,
    name: pointName(key, description ?? undefined),
    systemTypeName: r.systemType === null ? null : systemTypeName(r.systemType).zh,
    componentTypeName: r.componentType === null ? null : componentTypeName(r.componentType).zh,
    description,
  };
}

export function pointView(key: string, s: ComponentState): Gb26875Point {
  return {
    ...pointRef(key, s.description ?? null),
    status: s.status ?? null,
    bits: {
      fireAlarm: s.alarm,
      fault: s.fault,
      supervisory: s.supervisory === true,
      disabled: s.disabled === true,
      test: s.test === true,
      testAlarm: s.testAlarm === true,
      testSupervisory: s.testSupervisory === true,
      started: s.started === true,
      feedback: s.feedback === true,
      delay: s.delay === true,
      manual: s.manual === true,
    },
    since: s.since ?? null,
  };
}

export function testView(t: Gb26875TestRecord): Gb26875TestAlarm {
  return { ...pointRef(t.point, t.description), name: t.name, id: t.id, fireAlarm: t.fireAlarm, supervisory: t.supervisory, startedAt: t.startedAt, endedAt: t.endedAt };
}
