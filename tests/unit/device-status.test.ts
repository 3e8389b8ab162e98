/**
 * DeviceStatusTracker keeps the newest reading as a number on the hot path and writes
 * `lastReading` when the status is read or saved (bench/REPORT.md run 6). What a reader sees must be
 * what it saw when every message formatted its dates at once. And with a store that answers with a
 * promise (PostgreSQL): a status changed while a save waits is saved again by the next flush, a
 * failed save keeps what it took dirty, and two flushes never overlap.
 */
import { describe, expect, it } from 'vitest';
import { DeviceStatusTracker, type DeviceStatus, type DeviceStatusStore } from '../../services/devices/device-status.js';

class RecordingStore implements DeviceStatusStore {
  saved: Array<[string, DeviceStatus]> = [];
  constructor(private readonly initial = new Map<string, DeviceStatus>()) {}
  loadAll(): Map<string, DeviceStatus> {
    return this.initial;
  }
  saveMany(entries: Array<[string, DeviceStatus]>): void {
    this.saved.push(...entries.map(([id, s]) => [id, structuredClone(s)] as [string, DeviceStatus]));
  }
}

const T = Date.UTC(2026, 11, 3, 1, 0, 0);

describe('DeviceStatusTracker: the newest reading', () => {
  it('keeps the reading with the newest device time, whatever the arrival order', async () => {
    let now = T;
    const t = await DeviceStatusTracker.open(new RecordingStore(), () => now);
    t.accepted('d1', { ts: T - 1000, fields: { pressureMpa: 0.31 } }, 1);
    now += 5;
    t.accepted('d1', { ts: T - 5000, fields: { pressureMpa: 0.2 } }, 1); // a late backlog reading
    const s = t.get('d1');
    expect(s.lastReading).toEqual({ ts: new Date(T - 1000).toISOString(), fields: { pressureMpa: 0.31 } });
    expect(s.lastSeenAt).toBe(new Date(T + 5).toISOString());
    expect(s.firstAcceptedAt).toBe(new Date(T).toISOString());
    expect(s.accepted).toBe(2);
    // the same time again replaces it (as before: "not older")
    t.accepted('d1', { ts: T - 1000, fields: { pressureMpa: 0.32 } }, 1);
    expect(t.get('d1').lastReading?.fields).toEqual({ pressureMpa: 0.32 });
  });

  it('compares against a reading loaded from the store, and saves the formatted newest', async () => {
    const loaded = new Map<string, DeviceStatus>([
      [
        'd2',
        {
          online: false, lastSeenAt: null, connectedAt: null, disconnectedAt: null,
          lastReading: { ts: new Date(T).toISOString(), fields: { pressureMpa: 0.4 } },
          lastRejected: null, accepted: 7, rejected: 0, rejectedByReason: {},
        },
      ],
    ]);
    const store = new RecordingStore(loaded);
    const t = await DeviceStatusTracker.open(store, () => T + 60_000);
    t.accepted('d2', { ts: T - 1, fields: { pressureMpa: 0.1 } }, 1); // older than what was stored
    await t.flush();
    expect(store.saved.at(-1)![1].lastReading).toEqual({ ts: new Date(T).toISOString(), fields: { pressureMpa: 0.4 } });
    t.accepted('d2', { ts: T + 1, fields: { pressureMpa: 0.5 } }, 1);
    await t.flush();
    expect(store.saved.at(-1)![1].lastReading).toEqual({ ts: new Date(T + 1).toISOString(), fields: { pressureMpa: 0.5 } });
    expect(store.saved.at(-1)![1].lastSeenAt).toBe(new Date(T + 60_000).toISOString());
  });

  it('forgets a removed device entirely', async () => {
    const t = await DeviceStatusTracker.open(new RecordingStore(), () => T);
    t.accepted('d3', { ts: T, fields: { a: 1 } }, 1);
    t.forget('d3');
    expect(t.get('d3').lastReading).toBeNull();
    t.accepted('d3', { ts: T - 10, fields: { a: 2 } }, 1);
    expect(t.get('d3').lastReading).toEqual({ ts: new Date(T - 10).toISOString(), fields: { a: 2 } });
  });
});

/** A store whose saves wait until released, and can be told to fail: an asynchronous database. */
class SlowStore implements DeviceStatusStore {
  saved: Array<[string, string]> = [];
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  fail = false;
  private releases: Array<() => void> = [];
  async loadAll(): Promise<Map<string, DeviceStatus>> {
    return new Map();
  }
  async saveMany(entries: Array<[string, DeviceStatus]>): Promise<void> {
    this.calls++;
    // read at once, as the interface asks (the tracker goes on changing the objects)
    const rows = entries.map(([id, s]) => [id, JSON.stringify(s.lastReading?.fields ?? null)] as [string, string]);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((r) => this.releases.push(r));
    this.inFlight--;
    if (this.fail) throw new Error('connection terminated');
    this.saved.push(...rows);
  }
  release(): void {
    for (const r of this.releases.splice(0)) r();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('DeviceStatusTracker on an asynchronous store', () => {
  it('a change made while a save waits is saved by the next flush; flushes never overlap', async () => {
    const store = new SlowStore();
    const t = await DeviceStatusTracker.open(store, () => T);
    t.accepted('d1', { ts: T, fields: { v: 1 } }, 1);
    const first = t.flush();
    await tick();
    t.accepted('d1', { ts: T + 1, fields: { v: 2 } }, 1); // while the first save waits
    const second = t.flush();
    await tick();
    expect(store.inFlight).toBe(1); // the second waits for the first
    store.release();
    await first;
    await tick();
    store.release();
    await second;
    expect(store.maxInFlight).toBe(1);
    expect(store.saved).toEqual([
      ['d1', '{"v":1}'],
      ['d1', '{"v":2}'],
    ]);
  });

  it('a failed save keeps its statuses dirty: the next flush saves them', async () => {
    const store = new SlowStore();
    const t = await DeviceStatusTracker.open(store, () => T);
    t.accepted('d1', { ts: T, fields: { v: 1 } }, 1);
    t.accepted('d2', { ts: T, fields: { v: 7 } }, 1);
    store.fail = true;
    const failing = t.flush();
    await tick();
    store.release();
    await expect(failing).rejects.toThrow('connection terminated');
    expect(store.saved).toEqual([]);
    store.fail = false;
    const again = t.flush();
    await tick();
    store.release();
    await again;
    expect(store.saved.map(([id]) => id).sort()).toEqual(['d1', 'd2']);
    // nothing dirty any more: a flush does not call the store
    const calls = store.calls;
    await t.flush();
    expect(store.calls).toBe(calls);
  });
});
