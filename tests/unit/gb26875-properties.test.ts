/**
 * Property-based tests (fast-check) for the GB/T 26875.3 codec and stream splitter (issue #12):
 * frames and app-data units round-trip through encode → decode for any fields the codec can carry;
 * any single corrupted byte is caught (fact 12: the sum mod 256 sees every one-byte change);
 * whatever bytes arrive, the decoders answer with a value and the splitter never throws, never
 * holds more than one frame's worth of bytes, accounts for every byte, and still finds every valid
 * frame that garbage surrounds, however the stream is cut into reads (fact 6).
 * Regressions found by these properties are kept as plain tests at the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CST_OFFSET_MINUTES,
  FrameSplitter,
  MAX_APP_DATA,
  MAX_FRAME,
  OVERHEAD,
  decodeAppData,
  decodeFrame,
  encodeAppData,
  encodeFrame,
  encodeTimeTag,
  frameChecksum,
  OFFSET,
  type AppDataInput,
  type FrameInput,
  type SplitterOutput,
  type SupportedAppDataType,
} from '../../services/protocols/gb26875/index.js';
import { ConfigError, loadConfig } from '../../services/config/config.js';
import { PeerAllowList, parsePeerPattern, peerListProblem } from '../../services/devices/peer-allow-list.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------
/** Whole seconds the 6-byte time tag can carry: years 2000–2099 in UTC+8 (facts 13–15). */
const timeArb = fc
  .date({ min: new Date(Date.UTC(2000, 0, 1) - CST_OFFSET_MINUTES * 60_000), max: new Date(Date.UTC(2099, 11, 31, 23, 59, 59) - CST_OFFSET_MINUTES * 60_000), noInvalidDate: true })
  .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));
const stampArb = fc.option(timeArb, { nil: null, freq: 10 });
const byteArb = fc.integer({ min: 0, max: 0xff });
const u16Arb = fc.integer({ min: 0, max: 0xffff });
const addressArb = fc.bigInt({ min: 0n, max: 2n ** 48n - 1n }).chain((a) => fc.constantFrom<bigint | number>(a, Number(a)));

const frameInputArb: fc.Arbitrary<FrameInput> = fc.record({
  serial: u16Arb,
  version: fc.record({ major: byteArb, user: byteArb }),
  time: stampArb,
  source: addressArb,
  destination: addressArb,
  command: byteArb,
  appData: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: MAX_APP_DATA }), fc.constant(new Uint8Array(0))),
});
/** A frame the decoder accepts without options: standard command bytes 1–6 (fact §1.3). */
const standardFrameArb = frameInputArb.chain((f) => fc.integer({ min: 1, max: 6 }).map((command) => encodeFrame({ ...f, command })));

/**
 * Text that survives the round trip: ASCII and hanzi of the 2-byte GBK range (what the encoder
 * supports), no NUL, no leading or trailing whitespace (the decoder trims padding, fact 18).
 */
const textCharArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.constantFrom(...'号楼层区消火栓压力水箱泵阀门烟感温探测器（）、，。日') },
  // any 2-byte GBK code the decoder knows (lead 0x81–0xFE, trail 0x40–0xFE except 0x7F)
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0x81, max: 0xfe }), fc.integer({ min: 0x40, max: 0xfe }).filter((t) => t !== 0x7f))
      .map(([l, t]) => new TextDecoder('gb18030').decode(Uint8Array.of(l, t)))
      .filter((ch) => ch !== '\ufffd' && ch.trim() === ch),
  },
);
const textArb = (maxBytes: number): fc.Arbitrary<string> =>
  fc.array(textCharArb, { maxLength: maxBytes }).map((chars) => {
    let out = '';
    let bytes = 0;
    for (const ch of chars) {
      const size = ch.charCodeAt(0) < 0x80 ? 1 : 2;
      if (bytes + size > maxBytes) break;
      out += ch;
      bytes += size;
    }
    return out.trim();
  });

const sysArb = fc.record({ systemType: byteArb, systemAddress: byteArb });
const compArb = fc.record({ systemType: byteArb, systemAddress: byteArb, componentType: byteArb, address: fc.record({ zone: u16Arb, position: u16Arb }) });
const merge = <A extends object, B extends object>(a: fc.Arbitrary<A>, b: fc.Arbitrary<B>): fc.Arbitrary<A & B> => fc.tuple(a, b).map(([x, y]) => ({ ...x, ...y }));
const many = <T,>(max: number, arb: fc.Arbitrary<T>) => fc.array(arb, { maxLength: max });
const reservedArb = fc.record({ reserved: byteArb }).map((o) => [o]);
const one = <T,>(arb: fc.Arbitrary<T>) => arb.map((o) => [o]);
const unit = <T extends SupportedAppDataType>(type: T, objects: fc.Arbitrary<unknown[]>) => objects.map((o) => ({ type, objects: o }) as AppDataInput);

/** Every app-data type the codec encodes (upstream 1–8, 21, 24–26, 28; downstream 61–68, 81–91), with the object caps of fact 17. */
const appDataArb: fc.Arbitrary<AppDataInput> = fc.oneof(
  unit(1, many(102, merge(sysArb, fc.record({ status: u16Arb, time: stampArb })))),
  unit(2, many(22, merge(compArb, fc.record({ status: u16Arb, description: textArb(31), time: stampArb })))),
  unit(3, many(63, merge(compArb, fc.record({ analogType: byteArb, value: fc.integer({ min: -0x8000, max: 0x7fff }), time: stampArb })))),
  unit(4, many(102, merge(sysArb, fc.record({ operation: byteArb, operator: byteArb, time: stampArb })))),
  unit(5, one(merge(sysArb, fc.record({ major: byteArb, minor: byteArb })))),
  unit(6, many(3, merge(sysArb, fc.record({ text: textArb(255) })))),
  unit(7, many(26, merge(compArb, fc.record({ description: textArb(31) })))),
  unit(8, one(merge(sysArb, fc.record({ time: stampArb })))),
  unit(21, one(fc.record({ status: byteArb, time: stampArb }))),
  unit(24, many(127, fc.record({ operation: byteArb, operator: byteArb, time: stampArb }))),
  unit(25, one(fc.record({ major: byteArb, minor: byteArb }))),
  unit(26, one(fc.record({ text: textArb(255) }))),
  unit(28, one(fc.record({ time: stampArb }))),
  unit(84, one(fc.record({ count: fc.integer({ min: 0, max: 102 }), startTime: stampArb }))),
  unit(90, one(fc.record({ time: stampArb }))),
  ...([81, 85, 86, 88, 89, 91] as const).map((t) => unit(t, reservedArb)),
  // reads of facility data: the system or component they name (no component type, no time tag)
  ...([61, 65, 66, 68] as const).map((t) => unit(t, one(sysArb))),
  ...([62, 63, 67] as const).map((t) => unit(t, one(merge(sysArb, fc.record({ address: fc.record({ zone: u16Arb, position: u16Arb }) }))))),
  unit(64, one(merge(sysArb, fc.record({ count: fc.integer({ min: 0, max: 102 }), startTime: stampArb })))),
);

/** Bytes between frames, rich in the marker bytes '@' (0x40) and '#' (0x23) so fake starts and ends occur. */
const garbageArb = fc
  .array(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(0x40, 0x23) }, { weight: 5, arbitrary: byteArb }), { maxLength: 80 })
  .map((a) => Uint8Array.from(a));
/** Read sizes, used in turn to cut a stream into chunks. */
const cutsArb = fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 2 * MAX_FRAME })), { minLength: 1, maxLength: 20 });

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------
interface Fed {
  out: SplitterOutput[];
  frames: string[];
  /** bytes emitted as frames plus bytes dropped by invalid events */
  accounted: number;
  maxPending: number;
  pending: number;
}

/** Push `stream` through a fresh splitter in chunks of the given sizes (cycled). */
function feed(stream: Uint8Array, cuts: readonly number[]): Fed {
  const s = new FrameSplitter();
  const out: SplitterOutput[] = [];
  let maxPending = 0;
  for (let pos = 0, i = 0; pos < stream.length; i++) {
    const n = cuts[i % cuts.length] ?? 1;
    out.push(...s.push(stream.subarray(pos, pos + n)));
    maxPending = Math.max(maxPending, s.pendingBytes);
    pos += n;
  }
  const frames = out.flatMap((o) => (o.kind === 'frame' ? [toHex(o.frame)] : []));
  const accounted = out.reduce((n, o) => n + (o.kind === 'frame' ? o.frame.length : o.dropped), 0);
  return { out, frames, accounted, maxPending, pending: s.pendingBytes };
}

/** `needles` occur in `haystack` in order (other items may sit between them). */
function isSubsequence(needles: readonly string[], haystack: readonly string[]): boolean {
  let i = 0;
  for (const h of haystack) if (i < needles.length && h === needles[i]) i++;
  return i === needles.length;
}

// ---------------------------------------------------------------------------------------------
// Frame codec
// ---------------------------------------------------------------------------------------------
describe('frame codec properties', () => {
  it('encode → decode gives the same fields for any serial, version, time, addresses, command and app data', () => {
    fc.assert(
      fc.property(frameInputArb, (input) => {
        const buf = encodeFrame(input);
        expect(buf.length).toBe(OVERHEAD + input.appData.length);
        const r = decodeFrame(buf, { extraCommands: [input.command] });
        if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
        expect(r.frame).toEqual({
          serial: input.serial,
          version: input.version,
          time: input.time,
          timeTag: encodeTimeTag(input.time),
          source: Number(input.source),
          destination: Number(input.destination),
          command: input.command,
          appData: Uint8Array.from(input.appData),
          checksum: frameChecksum(buf),
        });
        // and back again: the decoded frame encodes to the same bytes
        expect(toHex(encodeFrame(r.frame))).toBe(toHex(buf));
      }),
      { numRuns: 1000 },
    );
  });

  it('any single changed byte of a valid frame is rejected (fact 5, fact 12)', () => {
    fc.assert(
      fc.property(standardFrameArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (frame, at, delta) => {
        const bad = Buffer.from(frame);
        const i = at % bad.length;
        bad[i] = ((bad[i] ?? 0) + delta) & 0xff;
        expect(decodeFrame(frame).ok).toBe(true);
        expect(decodeFrame(bad).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('decodeFrame answers any bytes with a value, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1200 }), standardFrameArb.chain((f) => fc.uint8Array({ maxLength: 8 }).map((tail) => Buffer.concat([f, tail])))), (bytes) => {
        const r = decodeFrame(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// App data
// ---------------------------------------------------------------------------------------------
describe('app-data properties', () => {
  it('encode → decode gives the same objects for every supported type, and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(appDataArb, (input) => {
        const bytes = encodeAppData(input);
        expect(bytes.length).toBeLessThanOrEqual(MAX_APP_DATA);
        const r = decodeAppData(bytes);
        if (!r.ok) throw new Error(`type ${input.type}: ${r.reason} ${r.detail}`);
        expect(r.appData).toMatchObject(input);
        expect(toHex(encodeAppData(r.appData))).toBe(toHex(bytes));
        // the unit fits a frame and survives the frame round trip too
        const frame = encodeFrame({ serial: 1, version: { major: 1, user: 1 }, time: null, source: 889, destination: 1, command: 2, appData: bytes });
        const f = decodeFrame(frame);
        expect(f.ok && toHex(f.frame.appData)).toBe(toHex(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodeAppData answers any bytes with a value, never an exception', () => {
    const types = [1, 2, 3, 4, 5, 6, 7, 8, 21, 24, 25, 26, 28, 61, 62, 63, 64, 65, 66, 67, 68, 81, 84, 85, 86, 88, 89, 90, 91];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: MAX_APP_DATA }),
          // a supported type flag and a small count, so the object decoders run on random bodies
          fc.tuple(fc.constantFrom(...types), fc.integer({ min: 0, max: 130 }), fc.uint8Array({ maxLength: MAX_APP_DATA })).map(([t, n, body]) => Uint8Array.from([t, n, ...body])),
        ),
        (bytes) => {
          const r = decodeAppData(bytes);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 3000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Stream splitter
// ---------------------------------------------------------------------------------------------
describe('FrameSplitter properties (fact 6)', () => {
  it('arbitrary bytes in arbitrary reads: no exception, never more than one frame buffered, every byte accounted for', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 3000 }), garbageArb), { maxLength: 12 }), cutsArb, (parts, cuts) => {
        const stream = Buffer.concat(parts);
        const r = feed(stream, cuts);
        expect(r.maxPending).toBeLessThan(MAX_FRAME);
        expect(r.accounted + r.pending).toBe(stream.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('a stream of valid frames, cut anywhere, comes out whole, in order, with nothing invalid', () => {
    fc.assert(
      fc.property(fc.array(standardFrameArb, { minLength: 1, maxLength: 6 }), cutsArb, (frames, cuts) => {
        const r = feed(Buffer.concat(frames), cuts);
        expect(r.out.filter((o) => o.kind === 'invalid')).toEqual([]);
        expect(r.frames).toEqual(frames.map(toHex));
        expect(r.pending).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('valid frames surrounded by garbage (fake "@@" starts and "##" ends included) are all still found, in any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(garbageArb, standardFrameArb), { minLength: 1, maxLength: 5 }), garbageArb, cutsArb, (pairs, tail, cuts) => {
        const frames = pairs.map(([, f]) => f);
        const stream = Buffer.concat([...pairs.flatMap(([g, f]) => [g, f]), tail]);
        const r = feed(stream, cuts);
        expect(isSubsequence(frames.map(toHex), r.frames)).toBe(true);
        expect(r.maxPending).toBeLessThan(MAX_FRAME);
        expect(r.accounted + r.pending).toBe(stream.length);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Peer allow-lists (issue #12 item 7): the gateway's only check on who speaks for a UITD
// ---------------------------------------------------------------------------------------------
describe('peer allow-list properties', () => {
  const ipv4Arb = fc.tuple(byteArb, byteArb, byteArb, byteArb).map((b) => ({ n: ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0, text: b.join('.') }));
  const ipv6Arb = fc.array(u16Arb, { minLength: 8, maxLength: 8 }).map((g) => ({
    n: g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n),
    text: g.map((x) => x.toString(16)).join(':'),
  }));

  it('IPv4: a peer is allowed exactly when it is inside the CIDR block, also when either side is written IPv4-mapped', () => {
    fc.assert(
      fc.property(ipv4Arb, fc.integer({ min: 0, max: 32 }), ipv4Arb, fc.boolean(), (net, prefix, other, near) => {
        const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
        // half the peers share the network's top bits, so "inside" is not vanishingly rare
        const n = near ? ((net.n & mask) | (other.n & ~mask)) >>> 0 : other.n;
        const peer = [24, 16, 8, 0].map((sh) => (n >>> sh) & 0xff).join('.');
        const inside = ((net.n & mask) >>> 0) === ((n & mask) >>> 0);
        const list = new PeerAllowList([`${net.text}/${prefix}`]);
        expect(list.allows(peer)).toBe(inside);
        expect(list.allows(`::ffff:${peer}`)).toBe(inside); // as a dual-stack listener reports it
        expect(new PeerAllowList([`::ffff:${net.text}/${96 + prefix}`]).allows(peer)).toBe(inside);
        expect(new PeerAllowList([net.text]).allows(peer)).toBe(net.n === n);
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6: a peer is allowed exactly when it is inside the CIDR block; an IPv4 peer, when its mapped form ::ffff:a.b.c.d is', () => {
    fc.assert(
      fc.property(ipv6Arb, fc.integer({ min: 1, max: 128 }), ipv6Arb, fc.boolean(), ipv4Arb, (net, prefix, peer, near, v4) => {
        const all = (1n << 128n) - 1n;
        const mask = (all << BigInt(128 - prefix)) & all;
        const n = near ? (net.n & mask) | (peer.n & ~mask & all) : peer.n;
        const text = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
        const list = new PeerAllowList([`${net.text}/${prefix}`]);
        expect(list.allows(text)).toBe((net.n & mask) === (n & mask));
        const mapped = (0xffffn << 32n) | BigInt(v4.n);
        expect(list.allows(v4.text)).toBe((net.n & mask) === (mapped & mask));
      }),
      { numRuns: 2000 },
    );
  });

  it('any text is parsed to a value, never an exception; what parses builds a list', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('10.0.0.0/8', '::/0', 'fe80::1%eth0', '1.2.3.4/33', '::ffff:1.2.3.4/129', '1.2.3.4/ 8', '1.2.3', '0.0.0.0/0')), (text) => {
        const r = parsePeerPattern(text);
        if (r.ok) expect(new PeerAllowList([text]).allows('127.0.0.1')).toBeTypeOf('boolean');
        expect(peerListProblem([text]) === undefined).toBe(r.ok);
      }),
      { numRuns: 2000 },
    );
  });

  it('peers that are not addresses are never allowed; zone indexes are ignored', () => {
    const list = new PeerAllowList(['0.0.0.0/0', '::/0']);
    for (const p of [undefined, '', 'localhost', '10.0.0.1:80']) expect(list.allows(p)).toBe(false);
    expect(new PeerAllowList(['fe80::/10']).allows('fe80::1%eth0')).toBe(true);
    expect(parsePeerPattern('fe80::1%eth0').ok).toBe(false);
  });

  it('GB26875_ALLOW is checked at boot with every other variable; GB26875_HOST defaults to MQTT_HOST', () => {
    expect(loadConfig({ GB26875_ALLOW: '10.0.0.0/8, fd00::/8 192.168.1.5' }).gb26875.allow).toEqual(['10.0.0.0/8', 'fd00::/8', '192.168.1.5']);
    expect(loadConfig({}).gb26875).toMatchObject({ host: '0.0.0.0', idleTimeoutS: 180, maxConnections: 1000 });
    expect(loadConfig({}).gb26875.allow).toBeUndefined();
    expect(loadConfig({ MQTT_HOST: '10.1.1.1' }).gb26875.host).toBe('10.1.1.1');
    expect(loadConfig({ MQTT_HOST: '10.1.1.1', GB26875_HOST: '10.8.0.1' }).gb26875.host).toBe('10.8.0.1');
    let err: unknown;
    try {
      loadConfig({ GB26875_ALLOW: '10.0.0.0/33', GB26875_IDLE_TIMEOUT_S: '0', GB26875_MAX_CONNECTIONS_PER_PEER: 'x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.split(':')[0]).sort()).toEqual(['GB26875_ALLOW', 'GB26875_IDLE_TIMEOUT_S', 'GB26875_MAX_CONNECTIONS_PER_PEER']);
  });
});

// ---------------------------------------------------------------------------------------------
// Counterexamples the properties found, kept as plain tests
// ---------------------------------------------------------------------------------------------
describe('FrameSplitter regressions', () => {
  const frame = (destination: number, command = 2): Buffer =>
    encodeFrame({ serial: 0, version: { major: 0, user: 0 }, time: null, source: 0, destination, command, appData: new Uint8Array(0) });
  const kinds = (out: SplitterOutput[]) => out.map((o) => (o.kind === 'frame' ? 'frame' : `${o.reason}:${o.dropped}`));

  it('a stray "@" before a frame does not hold it hostage until the false length is filled (fast-check counterexample)', () => {
    // '@' + '@@…' reads as a frame one byte early whose length field is the destination's top byte
    // (152) and the real length's low byte: the old splitter waited for 182 B, holding both frames.
    const a = frame(152 * 2 ** 40, 1);
    const b = frame(0, 1);
    expect(toHex(a)).toBe(`4040${'00'.repeat(21)}98000001992323`);
    const stream = Buffer.concat([Uint8Array.of(0x40), a, b]);
    for (const cuts of [[stream.length], [1]]) {
      const r = feed(stream, cuts);
      expect(r.frames).toEqual([toHex(a), toHex(b)]);
      expect(kinds(r.out)).toEqual(['garbage:1', 'frame', 'frame']);
      expect(r.pending).toBe(0);
    }
  });

  it('a stray "@" before a heartbeat whose false end lands on its "##" does not drop it as bad_checksum', () => {
    // the false candidate's length is 1 (destination top byte 1): it ends exactly on the heartbeat's
    // '##', so the old splitter dropped all 31 B as one bad-checksum frame (and the listener denied a serial that was never sent)
    const hb = frame(2 ** 40);
    const r = feed(Buffer.concat([Uint8Array.of(0x40), hb]), [31]);
    expect(kinds(r.out)).toEqual(['garbage:1', 'frame']);
    expect(r.frames).toEqual([toHex(hb)]);
  });

  it('a fake "@@" header in garbage asking for 1 KB does not delay the real frames behind it', () => {
    const fake = Buffer.alloc(26);
    fake.write('@@', 0, 'latin1');
    fake.writeUInt16LE(1000, OFFSET.length);
    const hb = frame(889);
    const s = new FrameSplitter();
    expect(s.push(fake)).toEqual([]); // could be the start of a 1030-byte frame: wait
    const out = s.push(hb);
    expect(kinds(out)).toEqual(['garbage:26', 'frame']);
    expect(s.pendingBytes).toBe(0);
  });

  it('a real frame still waits for its last bytes, and a bad checksum with no frame inside is still bad_checksum', () => {
    const f = encodeFrame({ serial: 7, version: { major: 1, user: 1 }, time: null, source: 889, destination: 1, command: 2, appData: new Uint8Array(500).fill(0x40) });
    const s = new FrameSplitter();
    expect(s.push(f.subarray(0, 400))).toEqual([]);
    expect(s.pendingBytes).toBe(400);
    expect(s.push(f.subarray(400))).toEqual([{ kind: 'frame', frame: f }]);
    const bad = Buffer.from(f);
    bad[bad.length - 3] = ((bad[bad.length - 3] ?? 0) + 1) & 0xff;
    expect(kinds(new FrameSplitter().push(bad))).toEqual([`bad_checksum:${bad.length}`]);
  });
});
