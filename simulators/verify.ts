/**
 * --verify: watch the live feed (WebSocket /api/v1/live) for the scenario's devices and hold the
 * service to the scenario's expectations. Each expected alert must be raised exactly once, not
 * before its incident and not after its deadline (simulated seconds mapped to real time by the
 * speed, plus a grace for processing), with the declared class (a stuck sensor is a fault, not a
 * hazard); nothing else may be raised on the scenario's devices. The API is checked too: the
 * alert must exist there with the same rule and class.
 */
import WebSocket from 'ws';
import type { ApiClient } from './api-client.js';
import type { Expectation } from './scenario.js';

export interface FeedEvent {
  seq: number;
  type: string;
  receivedAt: number;
  alert: { id: string; deviceId: string | null; rule: string; class: string; status: string; cleared: boolean } | undefined;
}

export class LiveWatcher {
  readonly events: FeedEvent[] = [];
  private ws: WebSocket | undefined;

  constructor(private readonly devices: ReadonlySet<string>) {}

  async open(api: ApiClient): Promise<void> {
    const url = `${api.baseUrl.replace(/^http/, 'ws')}/api/v1/live?token=${encodeURIComponent(api.token)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('live feed: no hello within 10 s')), 10_000);
      ws.on('message', (data: WebSocket.RawData) => {
        const msg = JSON.parse(data.toString()) as { type: string; seq: number; data?: { alert?: FeedEvent['alert'] } };
        if (msg.type === 'hello') {
          clearTimeout(timer);
          resolve();
          return;
        }
        const alert = msg.data?.alert;
        if (alert?.deviceId && this.devices.has(alert.deviceId)) {
          this.events.push({ seq: msg.seq, type: msg.type, receivedAt: Date.now(), alert });
        }
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`live feed closed (${code})${code === 4001 ? ': token not accepted' : ''}`));
      });
    });
  }

  raised(): FeedEvent[] {
    return this.events.filter((e) => e.type === 'alert.raised');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const ws = this.ws;
      if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once('close', () => resolve());
      ws.close();
    });
  }
}

export interface Timing {
  /** epoch ms when simulated time 0 began */
  realStart: number;
  speed: number;
  graceMs: number;
}

export const simToReal = (t: Timing, simS: number) => t.realStart + (simS / t.speed) * 1000;

export interface CheckResult {
  ok: boolean;
  lines: string[];
  failures: string[];
}

/** The last real time an expectation may still be met. */
export function lastDeadline(expect: readonly Expectation[], timing: Timing): number {
  let last = timing.realStart;
  for (const e of expect) {
    last = Math.max(last, simToReal(timing, e.afterS + e.withinS) + timing.graceMs);
    if (e.clear) last = Math.max(last, simToReal(timing, e.clear.afterS + e.clear.withinS) + timing.graceMs);
  }
  return last;
}

/** A hazard clears (`alert.cleared`, stays on the board); a fault closes itself on recovery (`alert.closed`). */
const isClear = (ev: FeedEvent) => ev.type === 'alert.cleared' || (ev.type === 'alert.closed' && ev.alert?.class === 'fault');

/** Every expectation met (so --verify can stop waiting early). */
export function allMet(expect: readonly Expectation[], events: readonly FeedEvent[]): boolean {
  return expect.every((e) => {
    const mine = events.filter((ev) => ev.alert?.deviceId === e.device && ev.alert.rule === e.rule);
    return mine.some((ev) => ev.type === 'alert.raised') && (!e.clear || mine.some((ev) => isClear(ev)));
  });
}

export function check(expect: readonly Expectation[], events: readonly FeedEvent[], timing: Timing): CheckResult {
  const lines: string[] = [];
  const failures: string[] = [];
  const simAt = (ms: number) => Math.round(((ms - timing.realStart) / 1000) * timing.speed);
  const raised = events.filter((e) => e.type === 'alert.raised');
  const used = new Set<FeedEvent>();
  for (const e of expect) {
    const key = `${e.device} ${e.rule}`;
    const mine = raised.filter((ev) => ev.alert!.deviceId === e.device && ev.alert!.rule === e.rule);
    mine.forEach((ev) => used.add(ev));
    const deadline = simToReal(timing, e.afterS + e.withinS) + timing.graceMs;
    const earliest = simToReal(timing, e.afterS) - timing.graceMs;
    const first = mine[0];
    if (!first) {
      failures.push(`missing: ${key} (${e.class}) expected by sim +${e.afterS + e.withinS} s`);
      continue;
    }
    const where = `at sim +${simAt(first.receivedAt)} s (window +${e.afterS}…+${e.afterS + e.withinS} s)`;
    if (mine.length > 1) failures.push(`duplicated: ${key} raised ${mine.length} times`);
    if (first.alert!.class !== e.class) failures.push(`wrong class: ${key} is ${first.alert!.class}, expected ${e.class}`);
    if (first.receivedAt > deadline) failures.push(`late: ${key} raised ${where}`);
    else if (first.receivedAt < earliest) failures.push(`early: ${key} raised ${where}, before its incident`);
    else lines.push(`ok    ${key} (${first.alert!.class}) raised ${where}`);
    if (e.clear) {
      const cleared = events.find((ev) => isClear(ev) && ev.alert!.deviceId === e.device && ev.alert!.rule === e.rule);
      const clearBy = simToReal(timing, e.clear.afterS + e.clear.withinS) + timing.graceMs;
      if (!cleared) failures.push(`not cleared: ${key} expected to clear by sim +${e.clear.afterS + e.clear.withinS} s`);
      else if (cleared.receivedAt > clearBy) failures.push(`late clear: ${key} cleared at sim +${simAt(cleared.receivedAt)} s`);
      else lines.push(`ok    ${key} cleared at sim +${simAt(cleared.receivedAt)} s`);
    }
  }
  for (const ev of raised) {
    if (!used.has(ev)) failures.push(`unexpected: ${ev.alert!.deviceId} ${ev.alert!.rule} (${ev.alert!.class}) raised at sim +${simAt(ev.receivedAt)} s`);
  }
  return { ok: failures.length === 0, lines, failures };
}

interface ApiAlert {
  id: string;
  deviceId: string | null;
  rule: string;
  class: string;
  status: string;
}

/** Cross-check through the API: every expected alert that the feed announced exists there. */
export async function checkApi(api: ApiClient, expect: readonly Expectation[], events: readonly FeedEvent[]): Promise<string[]> {
  const failures: string[] = [];
  for (const e of expect) {
    const ids = events.filter((ev) => ev.type === 'alert.raised' && ev.alert!.deviceId === e.device && ev.alert!.rule === e.rule).map((ev) => ev.alert!.id);
    if (ids.length === 0) continue; // reported as missing already
    const r = await api.request<{ items: ApiAlert[] }>('GET', `/api/v1/alerts?deviceId=${encodeURIComponent(e.device)}&rule=${e.rule}&limit=100`);
    if (r.status !== 200) {
      failures.push(`api: GET alerts for ${e.device} answered ${r.status}`);
      continue;
    }
    const found = r.body.items.find((a) => ids.includes(a.id));
    if (!found) failures.push(`api: ${e.device} ${e.rule} announced on the feed but not listed by GET /api/v1/alerts`);
    else if (found.class !== e.class) failures.push(`api: ${e.device} ${e.rule} has class ${found.class}, expected ${e.class}`);
  }
  return failures;
}

/** Before a verified run: close what earlier runs left open on these devices, so a new incident raises anew. */
export async function closeOpenAlerts(api: ApiClient, devices: readonly string[]): Promise<number> {
  let closed = 0;
  for (const id of devices) {
    const r = await api.request<{ items: ApiAlert[] }>('GET', `/api/v1/alerts?deviceId=${encodeURIComponent(id)}&status=active&limit=1000`);
    if (r.status !== 200) continue;
    for (const a of r.body.items) {
      const c = await api.request('POST', `/api/v1/alerts/${a.id}/close`, { outcome: 'test', note: 'firewatch simulate --verify: reset before a verified run' });
      if (c.status < 300) closed++;
    }
  }
  return closed;
}
