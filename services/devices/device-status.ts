/**
 * Live status per device: what an installer needs to see why data is not arriving.
 * Kept in memory (the hot path updates it per message) and saved in the background every
 * `flushMs`; after a crash the counters may lag by at most that interval. Online state is
 * never trusted from disk: after a restart every device is offline until it reconnects.
 */
import type { RejectReason } from '../telemetry/telemetry.js';
import { every } from '../shared/every.js';
import type { Awaitable } from '../shared/awaitable.js';

export interface DeviceStatus {
  online: boolean;
  lastSeenAt: string | null;
  connectedAt: string | null;
  disconnectedAt: string | null;
  lastReading: { ts: string; fields: Record<string, unknown> } | null;
  /**
   * `supersededAt`: the first accepted message after this rejection (issue #17 item 6): the
   * problem is history then, shown greyed in the commissioning check. Absent while it is current.
   */
  lastRejected: { reason: RejectReason; detail: string; at: string; supersededAt?: string } | null;
  /** when the first accepted message arrived (issue #17 item 6); absent for devices from before it was kept */
  firstAcceptedAt?: string | null;
  accepted: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** rejected messages since the last accepted one, and when that run began (issue #16 item 4) */
  rejectedRun?: number;
  rejectedSince?: string | null;
  /** fields rejected on their own in otherwise accepted messages */
  rejectedFields?: number;
}

/** The contract suite that every implementation passes, fakes included, is tests/support/device-status-store-contract.ts. */
export interface DeviceStatusStore {
  loadAll(): Awaitable<Map<string, DeviceStatus>>;
  /**
   * Reads `entries` before it returns or awaits anything (it serialises them at once): the tracker
   * goes on changing the statuses while the save is under way, and saves them again later.
   */
  saveMany(entries: Array<[string, DeviceStatus]>): Awaitable<void>;
}


const empty = (): DeviceStatus => ({
  online: false,
  lastSeenAt: null,
  connectedAt: null,
  disconnectedAt: null,
  lastReading: null,
  lastRejected: null,
  firstAcceptedAt: null,
  accepted: 0,
  rejected: 0,
  rejectedByReason: {},
  rejectedRun: 0,
  rejectedSince: null,
});

/**
 * One ISO string per millisecond: a burst of messages shares its `now()`, and formatting a date
 * per message was a measurable share of the accept path (bench/REPORT.md run 6).
 */
let isoMs = Number.NaN;
let isoText = '';
function iso(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

export class DeviceStatusTracker {
  private readonly byId: Map<string, DeviceStatus>;
  /**
   * The newest reading per device as given (epoch ms): the hot path keeps the number, and
   * `lastReading` is written from it when the status is read or saved.
   */
  private readonly latest = new Map<string, { ts: number; fields: Record<string, unknown> }>();
  /** `lastReading.ts` of each device, as epoch ms (no date parsing per message) */
  private readonly latestMs = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly rejecting = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  /** Opens the tracker on its store: every device's saved status, none of them online yet. */
  static async open(store: DeviceStatusStore, now: () => number = Date.now): Promise<DeviceStatusTracker> {
    return new DeviceStatusTracker(store, now, await store.loadAll());
  }

  private constructor(
    private readonly store: DeviceStatusStore,
    private readonly now: () => number,
    loaded: Map<string, DeviceStatus>,
  ) {
    this.byId = loaded;
    for (const [id, s] of this.byId) {
      s.online = false;
      if (s.rejectedRun) this.rejecting.add(id);
    }
  }

  /** the flush in progress: flushes run one at a time */
  private flushing: Promise<void> = Promise.resolve();

  /** Save in the background every `flushMs`; a failed save keeps the entries dirty and is retried. */
  start(flushMs = 1000, onError: (err: unknown) => void = () => undefined, onOk: () => void = () => undefined): void {
    this.timer = every(flushMs, () => this.flush(), onError, onOk);
  }

  get(deviceId: string): DeviceStatus {
    const s = this.byId.get(deviceId);
    if (!s) return empty();
    this.settle(deviceId, s);
    return s;
  }

  /** Write the newest reading kept as a number into `lastReading`. */
  private settle(deviceId: string, s: DeviceStatus): void {
    const l = this.latest.get(deviceId);
    if (!l) return;
    this.latest.delete(deviceId);
    s.lastReading = { ts: new Date(l.ts).toISOString(), fields: l.fields };
  }

  private lastReadingMs(deviceId: string, s: DeviceStatus): number | undefined {
    let ms = this.latestMs.get(deviceId);
    if (ms === undefined && s.lastReading) {
      ms = Date.parse(s.lastReading.ts);
      this.latestMs.set(deviceId, ms);
    }
    return ms;
  }

  private entry(deviceId: string): DeviceStatus {
    let s = this.byId.get(deviceId);
    if (!s) {
      s = empty();
      this.byId.set(deviceId, s);
    }
    this.dirty.add(deviceId);
    return s;
  }

  connected(deviceId: string): void {
    const s = this.entry(deviceId);
    s.online = true;
    s.connectedAt = new Date(this.now()).toISOString();
  }

  disconnected(deviceId: string): void {
    const s = this.entry(deviceId);
    s.online = false;
    s.disconnectedAt = new Date(this.now()).toISOString();
  }

  accepted(deviceId: string, latest: { ts: number; fields: Record<string, unknown> } | undefined, count: number): void {
    const s = this.entry(deviceId);
    const at = iso(this.now());
    s.accepted += count;
    s.lastSeenAt = at;
    // the first message, for the installer: kept, never moved by later ones (a record from before
    // the field existed, with messages already counted, stays without it)
    if (count > 0 && !s.firstAcceptedAt && s.accepted === count) s.firstAcceptedAt = at;
    if (count > 0 && s.lastRejected && !s.lastRejected.supersededAt) s.lastRejected.supersededAt = at;
    if (s.rejectedRun) {
      s.rejectedRun = 0;
      s.rejectedSince = null;
      this.rejecting.delete(deviceId);
    }
    if (latest) {
      const before = this.lastReadingMs(deviceId, s);
      if (before === undefined || before <= latest.ts) {
        this.latest.set(deviceId, latest);
        this.latestMs.set(deviceId, latest.ts);
      }
    }
  }

  /**
   * A rejected message. It does not make the device "seen": a sensor that only sends bad data
   * (a broken 4–20 mA loop, kPa sent as MPa) must still be found offline, and a run of rejections
   * is a sensor fault (RuleRunner).
   */
  rejected(deviceId: string, reason: RejectReason, detail: string): void {
    const s = this.entry(deviceId);
    const at = new Date(this.now()).toISOString();
    s.rejected += 1;
    s.rejectedByReason[reason] = (s.rejectedByReason[reason] ?? 0) + 1;
    s.lastRejected = { reason, detail, at };
    s.rejectedRun = (s.rejectedRun ?? 0) + 1;
    s.rejectedSince ??= at;
    this.rejecting.add(deviceId);
  }

  /** A field of an accepted message rejected on its own: shown to the installer, not a rejected message. */
  fieldRejected(deviceId: string, detail: string): void {
    const s = this.entry(deviceId);
    s.lastRejected = { reason: 'out_of_range', detail, at: new Date(this.now()).toISOString() };
    s.rejectedFields = (s.rejectedFields ?? 0) + 1;
  }

  /** Devices whose latest messages were all rejected (a run of at least one). */
  rejectingDevices(): ReadonlySet<string> {
    return this.rejecting;
  }

  forget(deviceId: string): void {
    this.byId.delete(deviceId);
    this.latest.delete(deviceId);
    this.latestMs.delete(deviceId);
    this.rejecting.delete(deviceId);
    this.dirty.delete(deviceId);
  }

  isOnline(deviceId: string): boolean {
    return this.byId.get(deviceId)?.online ?? false;
  }

  /**
   * Save what changed since the last save. A status that changes while the save waits on the store
   * is dirty again and saved by the next flush; a failed save leaves what it took dirty.
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.flushOnce());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async flushOnce(): Promise<void> {
    if (this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    const entries: Array<[string, DeviceStatus]> = [];
    for (const id of ids) {
      const s = this.byId.get(id);
      if (s) {
        this.settle(id, s);
        // no copy: saveMany reads the entries before it awaits anything (DeviceStatusStore)
        entries.push([id, s]);
      }
    }
    try {
      await this.store.saveMany(entries);
    } catch (err) {
      for (const id of ids) if (this.byId.has(id)) this.dirty.add(id);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    try {
      await this.flush();
    } catch {
      /* storage failing at shutdown: counters lag by the last interval, as after a crash */
    }
  }
}
