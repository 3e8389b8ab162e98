/**
 * Scheduled tests of fire-water points (试验): an end-of-line test (末端试水), a pump test, a hydrant
 * test. While a device's test runs, its pressure rules use the flowing limits and `pressure_drop`
 * gives no verdict (services/rules/hydraulic.ts): the drawdown is the test, not a burst pipe. Each
 * test is recorded, with who ran it, when, and the lowest and highest pressure it saw, so an
 * end-of-line test leaves the pressure at the most unfavourable head on file (GB 50084-2017
 * 6.5.1–6.5.2, fact 45).
 *
 * Active tests are held in memory (a handful at a time) and read on every pressure reading; the
 * store has them all.
 */
import { BadRequestError, ConflictError } from '../shared/errors.js';
import type { Awaitable, Settled } from '../shared/awaitable.js';

export const TEST_KINDS = ['end_of_line', 'pump', 'hydrant', 'other'] as const;
export type TestKind = (typeof TEST_KINDS)[number];

/** A test longer than this is not a test (design choice): 4 h. Default 30 min. */
export const TEST_MAX_S = 4 * 3600;
export const TEST_DEFAULT_S = 30 * 60;

export interface TestWindow {
  id: number;
  deviceId: string;
  buildingId: string;
  kind: TestKind;
  note: string | null;
  startedBy: string;
  /** epoch ms */
  startedAt: number;
  /** when it ends by itself (epoch ms) */
  endsAt: number;
  /** when it ended early (epoch ms), null while running or if it ran to endsAt */
  endedAt: number | null;
  endedBy: string | null;
  /** pressure seen during the test (MPa), null if no reading came */
  minMpa: number | null;
  maxMpa: number | null;
  readings: number;
}

/** The contract suite that every implementation passes, fakes included, is tests/support/test-window-store-contract.ts. */
export interface TestWindowStore {
  insert(t: Omit<TestWindow, 'id'>): Awaitable<TestWindow>;
  update(t: TestWindow): Awaitable<void>;
  /** tests whose end is after `at` and not ended early */
  active(at: number): Awaitable<TestWindow[]>;
  list(deviceId: string, limit: number): Awaitable<TestWindow[]>;
}

/** TestWindowStore answering at once (SQLite): what its service takes while it calls the store synchronously (ADR 0008). */
export type SyncTestWindowStore = Settled<TestWindowStore>;

export class TestWindows {
  private readonly running = new Map<string, TestWindow>();

  constructor(private readonly store: SyncTestWindowStore, private readonly now: () => number) {
    for (const t of store.active(now())) this.running.set(t.deviceId, t);
  }

  start(input: { deviceId: string; buildingId: string; kind: TestKind; durationS?: number; note?: string | null; by: string }): TestWindow {
    const at = this.now();
    if (this.activeFor(input.deviceId, at)) throw new ConflictError('test_running', `设备 ${input.deviceId} 已在试验中 / a test is already running for device ${input.deviceId}`);
    const durationS = input.durationS ?? TEST_DEFAULT_S;
    if (!(durationS > 0 && durationS <= TEST_MAX_S)) throw new BadRequestError('test_duration', `试验时长须在 1–${TEST_MAX_S} 秒之间 / a test lasts 1–${TEST_MAX_S} s`);
    const t = this.store.insert({
      deviceId: input.deviceId,
      buildingId: input.buildingId,
      kind: input.kind,
      note: input.note ?? null,
      startedBy: input.by,
      startedAt: at,
      endsAt: at + durationS * 1000,
      endedAt: null,
      endedBy: null,
      minMpa: null,
      maxMpa: null,
      readings: 0,
    });
    this.running.set(t.deviceId, t);
    return t;
  }

  end(deviceId: string, by: string): TestWindow {
    const at = this.now();
    const t = this.activeFor(deviceId, at);
    if (!t) throw new ConflictError('test_not_running', `设备 ${deviceId} 当前没有试验 / no test is running for device ${deviceId}`);
    const ended = { ...t, endedAt: at, endedBy: by };
    this.store.update(ended);
    this.running.delete(deviceId);
    return ended;
  }

  /** The test running for a device at `at`, if any. Called on every pressure reading: a map lookup. */
  activeFor(deviceId: string, at: number): TestWindow | undefined {
    const t = this.running.get(deviceId);
    if (!t) return undefined;
    if (at < t.startedAt) return undefined; // a reading from before the test (a backlog)
    if (at >= t.endsAt) {
      this.running.delete(deviceId);
      return undefined;
    }
    return t;
  }

  /** A pressure reading during the test: kept as the test's record. */
  observe(deviceId: string, at: number, pressureMpa: number): void {
    const t = this.activeFor(deviceId, at);
    if (!t) return;
    t.minMpa = t.minMpa === null ? pressureMpa : Math.min(t.minMpa, pressureMpa);
    t.maxMpa = t.maxMpa === null ? pressureMpa : Math.max(t.maxMpa, pressureMpa);
    t.readings++;
    this.store.update(t);
  }

  list(deviceId: string, limit = 50): TestWindow[] {
    return this.store.list(deviceId, limit);
  }
}

export class InMemoryTestWindowStore implements TestWindowStore {
  private readonly rows: TestWindow[] = [];
  insert(t: Omit<TestWindow, 'id'>): TestWindow {
    const row = { ...t, id: this.rows.length + 1 };
    this.rows.push(row);
    return { ...row };
  }
  update(t: TestWindow): void {
    const i = this.rows.findIndex((r) => r.id === t.id);
    if (i >= 0) this.rows[i] = { ...t };
  }
  active(at: number): TestWindow[] {
    return this.rows.filter((r) => r.endedAt === null && r.endsAt > at).map((r) => ({ ...r }));
  }
  list(deviceId: string, limit: number): TestWindow[] {
    return this.rows.filter((r) => r.deviceId === deviceId).sort((a, b) => b.startedAt - a.startedAt).slice(0, limit).map((r) => ({ ...r }));
  }
}
