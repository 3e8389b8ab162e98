/**
 * A UITD's points as the GB/T 26875.3 gateway sees them (issue #16 item 7): the shapes the API
 * shows and the store of test-mode alarms. Types only; the gateway (gateway/gb26875/uitd-state.ts)
 * fills them, server/main.ts wires it to the API.
 */
import type { Awaitable, Settled } from '../shared/awaitable.js';

/** A point: a system (type 1), a component (type 2) or the UITD itself (type 21). */
export interface Gb26875PointRef {
  /** `sys:<type>:<addr>`, `comp:<sysType>:<sysAddr>:<compType>:<zone>-<position>` or `uitd` */
  point: string;
  level: 'system' | 'component' | 'uitd';
  /** as duty staff read it: 感烟火灾探测器 10区2号（3F 走廊） */
  name: string;
  systemType: number | null;
  systemTypeName: string | null;
  systemAddress: number | null;
  componentType: number | null;
  componentTypeName: string | null;
  zone: number | null;
  position: number | null;
  /** zone + position × 65536, as in the UITD's readings and a gb26875Source */
  componentAddress: number | null;
  description: string | null;
}

export interface Gb26875PointBits {
  /** fire alarm, not in test mode */
  fireAlarm: boolean;
  fault: boolean;
  /** supervisory 监管, not in test mode */
  supervisory: boolean;
  disabled: boolean;
  /** test mode: bit0 = 0 from a source known to set bit0 */
  test: boolean;
  testAlarm: boolean;
  testSupervisory: boolean;
  started: boolean;
  feedback: boolean;
  delay: boolean;
  manual: boolean;
}

/** A point with a status bit set. */
export interface Gb26875Point extends Gb26875PointRef {
  /** the last status word (byte for the UITD) */
  status: number | null;
  bits: Gb26875PointBits;
  /** when the point began reporting these bits (epoch ms) */
  since: number | null;
}

/** One test-mode alarm of one point, as stored: from its first test signal until the point leaves test mode. */
export interface Gb26875TestRecord {
  id: number;
  deviceId: string;
  point: string;
  name: string;
  description: string | null;
  /** the fire alarm bit was set in test mode */
  fireAlarm: boolean;
  /** the supervisory bit was set in test mode */
  supervisory: boolean;
  /** epoch ms */
  startedAt: number;
  endedAt: number | null;
}

/**
 * Where test-mode alarms are recorded (docs/adr/0008: awaitable, SQLite answers at once, PostgreSQL
 * with a promise): ../storage/sqlite/sqlite-gb26875-store.ts, ../storage/postgres/pg-gb26875-store.ts.
 * At most one open record per (device, point). The contract suite that every implementation passes
 * is tests/support/gb26875-test-store-contract.ts.
 */
export interface Gb26875TestStore {
  /**
   * open the point's record, or add bits to the one still open (its name, description and start
   * stay those of the begin that opened it)
   */
  begin(r: { deviceId: string; point: string; name: string; description: string | null; fireAlarm: boolean; supervisory: boolean; at: number }): Awaitable<void>;
  /** close the point's open record, if any */
  end(deviceId: string, point: string, at: number): Awaitable<void>;
  /** one device's records, newest started first, at most `limit` */
  list(deviceId: string, limit: number): Awaitable<Gb26875TestRecord[]>;
}

/** Gb26875TestStore answering at once (SQLite's); the gateway's listener takes any Gb26875TestStore and awaits it. */
export type SyncGb26875TestStore = Settled<Gb26875TestStore>;

/** A test record with its point spelled out. */
export type Gb26875TestAlarm = Gb26875PointRef & Pick<Gb26875TestRecord, 'id' | 'fireAlarm' | 'supervisory' | 'startedAt' | 'endedAt'>;

/** What the API reads from the gateway. */
export interface Gb26875View {
  /** the UITD's points with a status bit set */
  points(deviceId: string): Gb26875Point[];
  /** status sources seen setting bit0: bit0 = 0 from them is test mode */
  testBitSources(deviceId: string): string[];
  /** test-mode alarms, newest first: at once where the store answers at once (SQLite), else a promise (PostgreSQL); await it */
  tests(deviceId: string, limit: number): Awaitable<Gb26875TestAlarm[]>;
}

/** The centre's commands to a UITD (issue #14), as the duty room sends them (gateway/gb26875/centre-commands.ts). */
export const CENTRE_COMMANDS = ['clock_sync', 'duty_check', 'read_status', 'read_version', 'read_config', 'read_time', 'read_analog'] as const;
export type CentreCommand = (typeof CENTRE_COMMANDS)[number];

/** One command sent to a UITD and what came of it. */
export interface CentreCommandRecord {
  id: string;
  deviceId: string;
  command: CentreCommand;
  /** who sent it (username) */
  by: string;
  sentAt: string;
  /** the frame's serial number; null when nothing was sent (not connected) */
  serial: number | null;
  attempts: number;
  /**
   * confirmed (a control, confirmed), answered (a read, with its answer), denied, timeout (no answer
   * to any attempt), not_connected (the UITD has no connection now), unexpected (an answer of the wrong type)
   */
  outcome: 'confirmed' | 'answered' | 'denied' | 'timeout' | 'not_connected' | 'unexpected';
  answeredAt: string | null;
  /** a read's answer, decoded: the running status, the version, the configuration text, the time, or the analog values ({ values: [...] }) */
  answer: Record<string, unknown> | null;
  /** read_analog: the component read */
  target?: CentreCommandTarget;
}

/** read_analog: the component whose analog values are read (a point of the UITD: system, zone and position) */
export interface CentreCommandTarget {
  systemType: number;
  systemAddress: number;
  zone: number;
  position: number;
}

export interface CentreCommands {
  run(deviceId: string, command: CentreCommand, by: string, target?: CentreCommandTarget): Promise<CentreCommandRecord>;
  /** newest first */
  history(deviceId: string): CentreCommandRecord[];
}

/** The daily duty check of the UITDs (gateway/gb26875/duty-rounds.ts): one round, and who answered. */
export interface DutyRoundItem {
  deviceId: string;
  buildingId: string;
  /** how the duty check itself went (centre-commands.ts outcomes) */
  sent: string;
  status: 'waiting' | 'answered' | 'unanswered' | 'unreachable';
  answeredAt: string | null;
}

export interface DutyRound {
  id: string;
  startedAt: string;
  /** a username, or `system:schedule` for the daily round */
  by: string;
  /** the answer is due by this */
  deadline: string;
  items: DutyRoundItem[];
}

export interface DutyRounds {
  /** check every UITD in service now */
  run(by: string): Promise<DutyRound>;
  /** newest first (the last 30) */
  list(): DutyRound[];
}
