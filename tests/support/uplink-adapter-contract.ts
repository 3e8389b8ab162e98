/**
 * The one contract every UplinkAdapter passes (services/uplink/model.ts): HTTP, the MQTT bridge and
 * the GB/T 26875.3 client, each against a real receiver (tests/support/uplink-receiver.ts). The
 * uplink lanes (uplink-service.ts) depend on exactly this: a send that resolved is delivered, one
 * that rejected says whether to retry or dead-letter, and close() ends the send in flight.
 * Each case gets a fresh adapter and receiver.
 *
 * What it pins down:
 *   - a name and a batch size (a positive integer)
 *   - send resolves once the receiver accepted every item of the batch, in order; batch after
 *     batch keeps the order; a batch of maxBatch items goes; an empty batch resolves
 *   - items the adapter has no mapping for count as accepted and are not sent
 *   - a receiver that does not answer, answers "not now" or cannot be reached: the send rejects
 *     within the adapter's timeouts with an UplinkError, retryable; once the receiver is back the
 *     same batch is delivered by the same adapter (it recovers by itself, no restart)
 *   - a receiver that refuses the items for good: the send rejects with an UplinkError that is
 *     not retryable (the lane dead-letters the batch)
 *   - close() ends a send in flight at once (a retryable UplinkError: the batch stays in the
 *     outbox), lets go of its connections to the receiver, and a send after it rejects (retryable)
 *     without reaching the receiver
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UplinkError, type StoredUplinkItem, type UplinkAdapter, type UplinkItem } from '../../services/uplink/model.js';

/** How the receiver answers: it accepts, says nothing, says "not now" (retry), or refuses the items for good. */
export type ReceiverAnswer = 'accept' | 'silent' | 'busy' | 'refuse';

export interface ContractReceiver {
  /** what the receiver accepted so far, one entry per item (or per unit it became), in arrival order, duplicates included */
  accepted(): string[];
  /** the entries `items` become at the receiver once accepted */
  expected(items: readonly StoredUplinkItem[]): string[];
  /** requests, messages or frames carrying items that reached the receiver, answered or not */
  contacts(): number;
  /** how it answers from now on; false when this receiver has no such answer (the case is skipped) */
  answer(a: ReceiverAnswer): boolean;
  /** stop listening, dropping every connection (the platform is unreachable) */
  stop(): Promise<void>;
  /** listen again where it listened before */
  restart(): Promise<void>;
  /** connections open to it now */
  connections(): number;
  /** connections it ever accepted */
  opened(): number;
}

export interface ContractAdapter {
  /** not started: the contract starts it */
  adapter: UplinkAdapter;
  receiver: ContractReceiver;
  /** items it has no mapping for; absent when it sends every item */
  unmapped?: StoredUplinkItem[];
  /** the longest a send to a silent receiver takes to reject (its timeouts and resends), ms */
  silentMs: number;
  cleanup: () => Promise<void>;
}

const T0 = Date.UTC(2026, 10, 29, 8);
let seq = 0;

/** a pressure reading as the uplink forwards it (uplink-service.ts itemFromReading) */
export function readingItem(deviceId: string, n: number, mpa = 0.3 + n / 1000): StoredUplinkItem {
  const ts = T0 + n * 1000;
  return {
    id: `reading:${deviceId}:telemetry:${n}:${ts}`,
    type: 'reading',
    occurredAt: new Date(ts).toISOString(),
    deviceId,
    buildingId: 'ct-b',
    street: '解放碑',
    data: { kind: 'water_pressure', channel: 'telemetry', point: 'hydrant_top', seq: n, fields: { pressureMpa: mpa } },
    seq: ++seq,
    createdAt: ts,
  };
}

/** an alert raised or cleared, as the uplink forwards it (uplink-service.ts itemFromFeedEvent) */
export function alertItem(type: 'alert.raised' | 'alert.cleared', deviceId: string, n: number): StoredUplinkItem {
  const at = new Date(T0 + n * 1000).toISOString();
  return {
    id: `${type}:al-${deviceId}:${n}`,
    type,
    occurredAt: at,
    deviceId,
    buildingId: 'ct-b',
    street: '解放碑',
    data: {
      alert: { id: `al-${deviceId}`, deviceId, buildingId: 'ct-b', kind: 'water_pressure', point: 'hydrant_top', rule: 'pressure_low', class: 'hazard', severity: 'major', cleared: type === 'alert.cleared' },
      change: null,
    },
    seq: ++seq,
    createdAt: T0 + n * 1000,
  };
}

/** an item no uplink format maps for every platform: a building registry change */
export function buildingItem(n: number): StoredUplinkItem {
  const item: UplinkItem = {
    id: `building.created:ct-b${n}:${T0}`,
    type: 'building.created',
    occurredAt: new Date(T0).toISOString(),
    deviceId: null,
    buildingId: `ct-b${n}`,
    street: '解放碑',
    data: { building: { id: `ct-b${n}`, name: '测试大厦', street: '解放碑' } },
  };
  return { ...item, seq: ++seq, createdAt: T0 };
}

/** a mixed batch: readings of two devices, an alert raised and cleared */
function batch(tag: string, n: number): StoredUplinkItem[] {
  const out: StoredUplinkItem[] = [];
  for (let i = 0; i < n; i++) {
    const dev = `ct-${tag}-${i % 2}`;
    out.push(i % 5 === 3 ? alertItem(i % 10 === 3 ? 'alert.raised' : 'alert.cleared', dev, i) : readingItem(dev, i));
  }
  return out;
}

/** first arrival of each entry, in arrival order (receivers may see a resend twice) */
const firstArrivals = (entries: string[]): string[] => [...new Set(entries)];

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; err: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Send like a lane does after a retryable failure: again, until it goes (bounded). */
async function sendUntilDelivered(adapter: UplinkAdapter, items: readonly StoredUplinkItem[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await settle(adapter.send(items));
    if (r.ok) return;
    expect(r.err).toBeInstanceOf(UplinkError);
    expect((r.err as UplinkError).retryable).toBe(true);
    if (Date.now() > deadline) throw new Error(`not delivered within ${timeoutMs} ms: ${(r.err as Error).message}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** The send must reject with an UplinkError saying whether to retry, within `withinMs`. */
async function expectRefusal(p: Promise<void>, retryable: boolean, withinMs: number): Promise<UplinkError> {
  const t0 = Date.now();
  const r = await settle(p);
  const took = Date.now() - t0;
  expect(r.ok, 'the send resolved').toBe(false);
  const err = (r as { err: unknown }).err;
  expect(err).toBeInstanceOf(UplinkError);
  expect((err as UplinkError).retryable, (err as Error).message).toBe(retryable);
  expect((err as Error).message.length).toBeGreaterThan(0); // the reason a dead letter shows
  expect(took).toBeLessThanOrEqual(withinMs);
  return err as UplinkError;
}

export function uplinkAdapterContract(name: string, make: () => Promise<ContractAdapter>): void {
  describe(`UplinkAdapter contract: ${name}`, () => {
    let handle: ContractAdapter | undefined;
    const h = (): ContractAdapter => {
      if (!handle) throw new Error(`${name}: make() did not finish; see the beforeEach error`);
      return handle;
    };
    /** a connected adapter's first delivery may wait for its connection (the MQTT bridge connects in the background) */
    const firstSend = (items: readonly StoredUplinkItem[]) => sendUntilDelivered(h().adapter, items, 10_000);

    beforeEach(async () => {
      handle = await make();
      await handle.adapter.start?.();
    });

    afterEach(async () => {
      await handle?.adapter.close();
      await handle?.cleanup();
      handle = undefined;
    });

    it('has a name and a positive whole batch size', () => {
      expect(h().adapter.name).toMatch(/^[a-z0-9_-]+$/);
      expect(Number.isInteger(h().adapter.maxBatch)).toBe(true);
      expect(h().adapter.maxBatch).toBeGreaterThan(0);
    });

    it('resolves once the receiver accepted every item, in order; batch after batch keeps the order', async () => {
      const { adapter, receiver } = h();
      const first = batch('a', 6);
      await firstSend(first);
      // resolved: the receiver has it all, already
      expect(receiver.accepted()).toEqual(receiver.expected(first));
      expect(receiver.expected(first).length).toBeGreaterThanOrEqual(first.length - 2); // the batch was not mapped away
      const second = batch('b', 4);
      await adapter.send(second);
      expect(receiver.accepted()).toEqual(receiver.expected([...first, ...second]));
    });

    it('delivers a batch of maxBatch items in one send', async () => {
      const { adapter, receiver } = h();
      const items = Array.from({ length: adapter.maxBatch }, (_, i) => readingItem(`ct-max-${i % 3}`, i));
      await firstSend(items);
      expect(receiver.accepted()).toEqual(receiver.expected(items));
      expect(receiver.accepted()).toHaveLength(adapter.maxBatch);
    });

    it('resolves an empty batch, sending nothing', async () => {
      const { adapter, receiver } = h();
      await firstSend([readingItem('ct-e', 1)]); // connected
      const before = receiver.contacts();
      await expect(adapter.send([])).resolves.toBeUndefined();
      expect(receiver.contacts()).toBe(before);
    });

    it('counts items it has no mapping for as accepted, and does not send them', async (ctx) => {
      const unmapped = h().unmapped;
      if (!unmapped) return ctx.skip();
      const { adapter, receiver } = h();
      await expect(adapter.send(unmapped)).resolves.toBeUndefined();
      expect(receiver.contacts()).toBe(0);
      expect(receiver.accepted()).toEqual([]);
      const mixed = [unmapped[0]!, readingItem('ct-u', 1), ...unmapped.slice(1), readingItem('ct-u', 2)];
      await firstSend(mixed);
      expect(receiver.accepted()).toEqual(receiver.expected([readingItem('ct-u', 1), readingItem('ct-u', 2)]));
    });

    it('rejects, retryable, when the receiver does not answer; delivers the batch once it answers again', async () => {
      const { adapter, receiver, silentMs } = h();
      await firstSend([readingItem('ct-s', 0)]);
      expect(receiver.answer('silent')).toBe(true);
      const items = batch('s', 3);
      await expectRefusal(adapter.send(items), true, silentMs + 1000);
      expect(receiver.answer('accept')).toBe(true);
      await sendUntilDelivered(adapter, items, 10_000);
      expect(firstArrivals(receiver.accepted())).toEqual(receiver.expected([readingItem('ct-s', 0), ...items]));
    });

    it('rejects, retryable, when the receiver says "not now"; delivers the batch once it takes it', async (ctx) => {
      const { adapter, receiver } = h();
      await firstSend([readingItem('ct-busy', 0)]);
      if (!receiver.answer('busy')) return ctx.skip();
      const items = batch('busy', 3);
      await expectRefusal(adapter.send(items), true, 2000);
      receiver.answer('accept');
      await adapter.send(items);
      expect(firstArrivals(receiver.accepted())).toEqual(receiver.expected([readingItem('ct-busy', 0), ...items]));
    });

    it('rejects, not retryable, when the receiver refuses the items for good', async (ctx) => {
      const { adapter, receiver, silentMs } = h();
      await firstSend([readingItem('ct-r', 0)]);
      if (!receiver.answer('refuse')) return ctx.skip();
      const before = receiver.accepted().length;
      await expectRefusal(adapter.send([readingItem('ct-r', 1)]), false, silentMs + 1000);
      expect(receiver.accepted()).toHaveLength(before);
      // the adapter is still usable: the next item goes once the receiver takes it
      receiver.answer('accept');
      await adapter.send([readingItem('ct-r', 2)]);
      expect(receiver.accepted().slice(before)).toEqual(receiver.expected([readingItem('ct-r', 2)]));
    });

    it('rejects, retryable, while the receiver is unreachable; delivers the batch once it is back', async () => {
      const { adapter, receiver, silentMs } = h();
      await firstSend([readingItem('ct-down', 0)]);
      await receiver.stop();
      const items = batch('down', 3);
      await expectRefusal(adapter.send(items), true, silentMs + 1000);
      await expectRefusal(adapter.send(items), true, silentMs + 1000); // and again: it does not hang on a dead link
      await receiver.restart();
      await sendUntilDelivered(adapter, items, 15_000);
      expect(firstArrivals(receiver.accepted())).toEqual(receiver.expected([readingItem('ct-down', 0), ...items]));
    });

    it('close() ends a send in flight at once, retryable, and lets go of its connections', async () => {
      const { adapter, receiver, silentMs } = h();
      await firstSend([readingItem('ct-c', 0)]);
      expect(receiver.connections()).toBeGreaterThan(0);
      receiver.answer('silent');
      const contacts = receiver.contacts();
      const inFlight = settle(adapter.send(batch('c', 3)));
      await until('the send reached the receiver', () => receiver.contacts() > contacts, 5000);
      const t0 = Date.now();
      await adapter.close();
      const r = await inFlight;
      const took = Date.now() - t0;
      expect(r.ok, 'a send in flight at close() resolved').toBe(false);
      const err = (r as { err: unknown }).err;
      expect(err).toBeInstanceOf(UplinkError);
      expect((err as UplinkError).retryable).toBe(true);
      expect(took, `close() took ${took} ms to end the send (its timeouts: ${silentMs} ms)`).toBeLessThan(Math.min(500, silentMs / 2));
      await until('the receiver sees no connection of the adapter', () => receiver.connections() === 0, 2000);
    });

    it('after close(), a send rejects, retryable, and reaches nothing', async () => {
      const { adapter, receiver } = h();
      await firstSend([readingItem('ct-after', 0)]);
      await adapter.close();
      const contacts = receiver.contacts();
      const opened = receiver.opened();
      const accepted = receiver.accepted().length;
      await expectRefusal(adapter.send([readingItem('ct-after', 1)]), true, 1000);
      await new Promise((r) => setTimeout(r, 100));
      expect(receiver.contacts()).toBe(contacts);
      expect(receiver.opened(), 'connected to the receiver after close()').toBe(opened);
      expect(receiver.accepted()).toHaveLength(accepted);
      await until('no connection is left', () => receiver.connections() === 0, 2000);
    });
  });
}
