/**
 * Duplicate sends (a QoS 1 redelivery, a device that re-sends its backlog): a reading whose `seq`
 * was seen from the same device within `windowMs` is a duplicate. Devices restart their counters
 * after a reboot, so the memory is bounded in time and size rather than forever. Storage adds a
 * second guard that survives restarts: a unique (device, channel, seq, ts) index.
 */
import type { Reading } from '../telemetry/telemetry.js';

export class SeqDeduper {
  private readonly seen = new Map<string, Map<number, number>>();

  constructor(
    private readonly now: () => number,
    private readonly windowMs = 10 * 60_000,
    private readonly perDevice = 1024,
  ) {}

  isDuplicate(r: Reading): boolean {
    if (r.seq === undefined) return false;
    const key = `${r.deviceId}\u0000${r.channel}`;
    let m = this.seen.get(key);
    if (!m) {
      m = new Map();
      this.seen.set(key, m);
    }
    const t = this.now();
    const prev = m.get(r.seq);
    if (prev !== undefined && t - prev <= this.windowMs) return true;
    m.delete(r.seq);
    m.set(r.seq, t);
    if (m.size > this.perDevice) m.delete(m.keys().next().value!);
    return false;
  }
}
