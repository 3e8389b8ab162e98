/**
 * Units of issue #12 items 3 and 4: the packet guard's header state machine (packet boundaries
 * through any chunking), the slow-check budget, and the fast device-credential form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketGuard, type PacketLimits } from '../../gateway/mqtt/packet-guard.js';
import { SlowCheckBudget } from '../../gateway/mqtt/hooks/slow-check-budget.js';
import { generateSecret, hashGeneratedSecret, hashSecret, isFastHash, verifyGeneratedSecret, verifySecret } from '../../services/devices/credentials.js';
import { remainingLength } from '../support/mqtt-packets.js';

const LIMITS: PacketLimits = { controlBytes: 4096, publishBytes: 65_536 + 1024 };


const packet = (type: number, bodyLength: number) => Buffer.concat([Buffer.from([(type << 4) | (type === 3 ? 2 : type === 8 ? 2 : 0), ...remainingLength(bodyLength)]), Buffer.alloc(bodyLength, 0x61)]);

/** feed `data` to a guard cut at `cuts`; the index of the first refused chunk, or -1 */
function feed(guard: PacketGuard, data: Buffer, cuts: number[]): number {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  let k = 0;
  for (const end of [...points, data.length]) {
    if (end <= start) continue;
    if (!guard.check(data.subarray(start, end))) return k;
    k++;
    start = end;
  }
  return -1;
}

describe('PacketGuard', () => {
  it('passes packets at their bound and refuses one byte more', () => {
    expect(new PacketGuard(LIMITS).check(packet(1, 4096))).toBe(true);
    expect(new PacketGuard(LIMITS).check(packet(1, 4097))).toBe(false);
    // before the CONNECT is accepted a PUBLISH is held to the CONNECT bound
    expect(new PacketGuard(LIMITS).check(packet(3, 4097))).toBe(false);
    const g = new PacketGuard(LIMITS);
    g.authenticated();
    expect(g.check(packet(3, 65_536 + 1024))).toBe(true);
    expect(g.check(packet(3, 65_536 + 1025))).toBe(false);
    // other packets stay at the CONNECT bound after authentication
    const h = new PacketGuard(LIMITS);
    h.authenticated();
    expect(h.check(packet(8, 4097))).toBe(false);
  });

  it('refuses on the header alone, and a 5-byte Remaining Length', () => {
    expect(new PacketGuard(LIMITS).check(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x20]))).toBe(false); // 64 MiB declared
    expect(new PacketGuard(LIMITS).check(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff]))).toBe(false);
    // a header split byte by byte is followed too
    const g = new PacketGuard(LIMITS);
    expect(g.check(Buffer.from([0x10]))).toBe(true);
    expect(g.check(Buffer.from([0x80]))).toBe(true);
    expect(g.check(Buffer.from([0x80]))).toBe(true);
    expect(g.check(Buffer.from([0x01]))).toBe(false); // 16 KiB
  });

  it('follows packet boundaries through any chunking (property)', () => {
    const pkt = fc.record({ type: fc.constantFrom(1, 3, 4, 8, 12, 14), length: fc.integer({ min: 0, max: 3000 }) });
    fc.assert(
      fc.property(fc.array(pkt, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (pkts, cuts) => {
        const data = Buffer.concat(pkts.map((p) => packet(p.type, p.length)));
        expect(feed(new PacketGuard(LIMITS), data, cuts)).toBe(-1);
      }),
    );
    // and an oversized one anywhere in the stream is found, whatever the chunking
    fc.assert(
      fc.property(fc.array(pkt, { maxLength: 10 }), fc.array(pkt, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 20 }), (before, after, cuts) => {
        const data = Buffer.concat([...before.map((p) => packet(p.type, p.length)), Buffer.from([0x30, ...remainingLength(10_000_000)]), ...after.map((p) => packet(p.type, p.length))]);
        expect(feed(new PacketGuard(LIMITS), data, cuts)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('SlowCheckBudget', () => {
  it('caps concurrent checks globally and failures per address; successes give their token back', () => {
    let t = 0;
    const b = new SlowCheckBudget({ maxConcurrent: 2, perAddressBurst: 3, perAddressRefillMs: 1000 }, () => t);
    const a1 = b.acquire('a');
    const a2 = b.acquire('b');
    expect(typeof a1).toBe('function');
    expect(typeof a2).toBe('function');
    expect(b.acquire('c')).toBe('global');
    (a1 as (ok: boolean) => void)(false);
    (a2 as (ok: boolean) => void)(true);
    expect(b.inFlight()).toBe(0);
    // 'a' spent one token on a failure; two left, then none
    for (let i = 0; i < 2; i++) (b.acquire('a') as (ok: boolean) => void)(false);
    expect(b.acquire('a')).toBe('address');
    // 'b' succeeded: its token came back, it still has all three
    for (let i = 0; i < 3; i++) (b.acquire('b') as (ok: boolean) => void)(false);
    expect(b.acquire('b')).toBe('address');
    t += 1000;
    const again = b.acquire('a');
    expect(typeof again).toBe('function');
    (again as (ok: boolean) => void)(false);
    expect(b.acquire('a')).toBe('address');
  });
});

describe('device credential forms', () => {
  it('sha256$ for generated secrets; scrypt stays for people and legacy hashes', async () => {
    const secret = generateSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(24);
    const fast = hashGeneratedSecret(secret);
    expect(fast).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
    expect(fast).not.toContain(secret);
    expect(isFastHash(fast)).toBe(true);
    expect(verifyGeneratedSecret(secret, fast)).toBe(true);
    expect(verifyGeneratedSecret(secret + 'x', fast)).toBe(false);
    const slow = await hashSecret(secret);
    expect(isFastHash(slow)).toBe(false);
    expect(verifyGeneratedSecret(secret, slow)).toBe(false);
    // a people's-password check never accepts the fast form
    expect(await verifySecret(secret, fast)).toBe(false);
    expect(await verifySecret(secret, slow)).toBe(true);
  });
});
