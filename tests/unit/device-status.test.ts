/**
 * DeviceStatusTracker keeps the newest reading as a number on the hot path and writes
 * `lastReading` when the status is read or saved (bench/REPORT.md run 6). What a reader sees must be
 * what it saw when every message formatted its dates at once.
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
  it('keeps the reading with the newest device time, whatever the arrival order', () => {
    let now = T;
    const t = new DeviceStatusTracker(new RecordingStore(), () => now);
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

  it('compares against a reading loaded from the store, and saves the formatted newest', () => {
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
    const t = new DeviceStatusTracker(store, () => T + 60_000);
    t.accepted('d2', { ts: T - 1, fields: { pressureMpa: 0.1 } }, 1); // older than what was stored
    t.flush();
    expect(store.saved.at(-1)![1].lastReading).toEqual({ ts: new Date(T).toISOString(), fields: { pressureMpa: 0.4 } });
    t.accepted('d2', { ts: T + 1, fields: { pressureMpa: 0.5 } }, 1);
    t.flush();
    expect(store.saved.at(-1)![1].lastReading).toEqual({ ts: new Date(T + 1).toISOString(), fields: { pressureMpa: 0.5 } });
    expect(store.saved.at(-1)![1].lastSeenAt).toBe(new Date(T + 60_000).toISOString());
  });

  it('forgets a removed device entirely', () => {
    const t = new DeviceStatusTracker(new RecordingStore(), () => T);
    t.accepted('d3', { ts: T, fields: { a: 1 } }, 1);
    t.forget('d3');
    expect(t.get('d3').lastReading).toBeNull();
    t.accepted('d3', { ts: T - 10, fields: { a: 2 } }, 1);
    expect(t.get('d3').lastReading).toEqual({ ts: new Date(T - 10).toISOString(), fields: { a: 2 } });
  });
});
