/**
 * Scheduled tests of fire-water points (试验): an end-of-line test (末端试水), a pump test, a hydrant
 * test. While a device's test runs, its pressure rules use the flowing limits and `pressure_drop`
 * gives no verdict (services/rules/hydraulic.ts): the drawdown is the test, not a burst pipe. Each
 * test is recorded, with who ran it, when, and the lowest and highest pressure it saw, so an
 * end-of-line test leaves the pressure at the most unfavourable head on file (GB 50084-2017
 * 6.5.1–6.5.2, fact 45).
 *
 * Active tests are held in memory (a handful at a time) and read on every pressure reading; the
 * store has them all. The hot path (`activeFor`, `observe`, called inside the processors'
 * synchronous batch) calls its store synchronously; the API's calls (`start`, `end`, `list`) are
 * awaited, so on PostgreSQL the store is a mirror (TestWindowBackend below) and on SQLite the
 * store as it is.
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

/**
 * What TestWindows takes of its store. The hot path's calls answer at once: `active` (at start,
 * and again when the store says it reloaded) and `update` (observe, inside the processors' batch,
 * and end). The API's are awaited: `insert` (start) and `list`. SQLite's store (a
 * SyncTestWindowStore) is one as it is. On PostgreSQL it is PgTestWindowMirror
 * (../storage/postgres/pg-mirrors.ts): `update` queues its write in the write scope, `insert`
 * resolves once its row committed, `step` runs end as a step of its own (resolves once committed,
 * rejects if not), and `onReload` says when what `active` answers was read again (a step rolled
 * back, another node changed a test), so TestWindows reads its running tests again.
 */
export interface TestWindowBackend {
  active(at: number): TestWindow[];
  update(t: TestWindow): void;
  insert(t: Omit<TestWindow, 'id'>): Awaitable<TestWindow>;
  list(deviceId: string, limit: number): Awaitable<TestWindow[]>;
  /** runs `fn` as one step (its writes commit together); without it, `fn` runs at once */
  step?<T>(fn: () => T): Promise<T>;
  /** calls `listener` each time what `active` answers was read again from the database */
  onReload?(listener: () => void): void;
}

export class TestWindows {
  private readonly running = new Map<string, TestWindow>();
  /** devices whose start is waiting for its insert: a second start for one of them is refused */
  private readonly starting = new Set<string>();

  /** `reader` answers `list` (default: the store) */
  constructor(
    private readonly store: TestWindowBackend,
    private readonly now: () => number,
    private readonly reader: Pick<TestWindowStore, 'list'> = store,
  ) {
    this.reload();
    store.onReload?.(() => this.reload());
  }

  /** The running tests again from the store (after its mirror reloaded: what a rolled-back step observed is gone). */
  reload(): void {
    this.running.clear();
    for (const t of this.store.active(this.now())) this.running.set(t.deviceId, t);
  }

  async start(input: { deviceId: string; buildingId: string; kind: TestKind; durationS?: number; note?: string | null; by: string }): Promise<TestWindow> {
    const at = this.now();
    if (this.activeFor(input.deviceId, at) || this.starting.has(input.deviceId)) {
      throw new ConflictError('test_running', `设备 ${input.deviceId} 已在试验中 / a test is already running for device ${input.deviceId}`);
    }
    const durationS = input.durationS ?? TEST_DEFAULT_S;
    if (!(durationS > 0 && durationS <= TEST_MAX_S)) throw new BadRequestError('test_duration', `试验时长须在 1–${TEST_MAX_S} 秒之间 / a test lasts 1–${TEST_MAX_S} s`);
    this.starting.add(input.deviceId);
    try {
      const t = await this.store.insert({
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
    } finally {
      this.starting.delete(input.deviceId);
    }
  }

  async end(deviceId: string, by: string): Promise<TestWindow> {
    // checked first, so a 409 is not a failed step (which would reload the mirrors)
    if (!this.activeFor(deviceId, this.now())) throw notRunning(deviceId);
    // a mirror: decided and applied inside the step, so no step before it sees the test ended and
    // none after it sees it running; if it does not commit, the mirror and `running` reload
    return this.store.step ? this.store.step(() => this.endNow(deviceId, by)) : this.endNow(deviceId, by);
  }

  private endNow(deviceId: string, by: string): TestWindow {
    const at = this.now();
    const t = this.activeFor(deviceId, at);
    if (!t) throw notRunning(deviceId);
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

  /** The device's tests, newest first: the API's read, from the store (awaited). */
  list(deviceId: string, limit = 50): Awaitable<TestWindow[]> {
    return this.reader.list(deviceId, limit);
  }
}

const notRunning = (deviceId: string) => new ConflictError('test_not_running', `设备 ${deviceId} 当前没有试验 / no test is running for device ${deviceId}`);

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
