/**
 * GB/T 26875.3-2011 codec: worked example frames (docs/standards.md facts 12, 25–27, from G2),
 * seeded property round trips, stream splitting (fact 6), time tags (facts 13–15), status bits
 * (facts 20–23) and analog scaling (§1.10).
 */
import { describe, expect, it } from 'vitest';
import {
  AppDataType,
  Command,
  FrameSplitter,
  MAX_ADDRESS,
  MAX_APP_DATA,
  MAX_FRAME,
  OVERHEAD,
  analogToEngineering,
  checksum,
  componentStatusLabels,
  componentTypeName,
  decodeAppData,
  decodeComponentStatus,
  decodeFrame,
  decodeGb18030,
  decodeSystemStatus,
  decodeTimeTag,
  decodeUitdOperation,
  decodeUitdStatus,
  encodeAppData,
  encodeComponentStatus,
  encodeFrame,
  encodeGb18030,
  encodeReply,
  encodeSystemStatus,
  encodeTimeTag,
  frameChecksum,
  isHeartbeat,
  readUint48LE,
  systemTypeName,
  writeUint48LE,
  type AppDataInput,
  type FrameInput,
  type SplitterOutput,
  type SupportedAppDataType,
} from '../../services/protocols/gb26875/index.js';
import { Prng } from '../../simulators/prng.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

/** 2012-09-26 09:58:ss China Standard Time (UTC+8), as in G2's examples. */
const cst = (s: number): Date => new Date(Date.UTC(2012, 8, 26, 1, 58, s));

// ---- G2 worked examples (fact 12 lists their checksums; fact 25–27 describe them) ----
const UITD = 0x0379; // 79 03 00 00 00 00
const CENTRE = 0x015b38; // 38 5B 01 00 00 00
const DESCRIPTION_30_SPACES_AND_NUL = '20'.repeat(30) + '00';
const FIRE_ALARM_APP_DATA = `02 01  01 01 28 0A000200 0200 ${DESCRIPTION_30_SPACES_AND_NUL} 023A091A090C`;
const EXAMPLES = {
  /** fact 25: smoke detector zone 10 / position 2 fire alarm */
  fireAlarm: hex(`4040 0100 0101 203A091A090C 790300000000 385B01000000 3000 02 ${FIRE_ALARM_APP_DATA} 46 2323`),
  /** fact 26: centre's confirm */
  confirm: hex('4040 0100 0101 233A091A090C 385B01000000 790300000000 0000 03 AB 2323'),
  deny: hex('4040 0100 0101 233A091A090C 385B01000000 790300000000 0000 06 AE 2323'),
  /** fact 27: UITD main-power fault */
  mainPowerFault: hex('4040 0100 0101 203A091A090C 790300000000 385B01000000 0900 02 15 01 08 023A091A090C 42 2323'),
  dutyCheckAnswered: hex('4040 0100 0101 203A091A090C 790300000000 385B01000000 0A00 02 18 01 20 01 023A091A090C 5F 2323'),
  softwareVersion: hex('4040 0100 0101 203A091A090C 790300000000 385B01000000 0400 02 19 01 01 01 C7 2323'),
  uitdTime: hex('4040 0100 0101 203A091A090C 790300000000 385B01000000 0800 02 1C 01 023A091A090C 40 2323'),
  readUitdStatus: hex('4040 0100 0101 203A091A090C 385B01000000 790300000000 0300 04 51 01 00 FE 2323'),
  syncClock: hex('4040 0100 0101 203A091A090C 385B01000000 790300000000 0800 01 5A 01 023A091A090C 7D 2323'),
  dutyCheck: hex('4040 0100 0101 203A091A090C 385B01000000 790300000000 0300 01 5B 01 0A 0F 2323'),
  initUitd: hex('4040 0100 0101 203A091A090C 385B01000000 790300000000 0300 01 59 01 00 03 2323'),
};

function mustDecodeFrame(buf: Uint8Array) {
  const r = decodeFrame(buf);
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.frame;
}
function mustDecodeAppData(bytes: Uint8Array) {
  const r = decodeAppData(bytes);
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.appData;
}

describe('worked examples (G2)', () => {
  it('fact 25: decodes the fire-alarm upload', () => {
    const frame = mustDecodeFrame(EXAMPLES.fireAlarm);
    expect(EXAMPLES.fireAlarm.length).toBe(OVERHEAD + 48);
    expect(frame).toMatchObject({
      serial: 1,
      version: { major: 1, user: 1 },
      time: cst(32), // header tag 20 3A 09 1A 09 0C: sent at 09:58:32
      source: UITD,
      destination: CENTRE,
      command: Command.send_data,
      checksum: 0x46,
    });
    expect(frame.appData.length).toBe(48);

    const appData = mustDecodeAppData(frame.appData);
    expect(appData.type).toBe(AppDataType.componentStatus);
    if (appData.type !== 2) throw new Error('unreachable');
    expect(appData.objects).toHaveLength(1);
    const [obj] = appData.objects;
    expect(obj).toMatchObject({
      systemType: 1,
      systemAddress: 1,
      componentType: 40,
      address: { zone: 10, position: 2, raw: 0x0002000a },
      status: 0x0002,
      description: '',
      time: cst(2),
    });
    // Only bit1 is set; bit0 = 0 means "test mode" by the letter of fact 20/21.
    expect(obj?.flags).toEqual({ ...allFalse(obj?.flags ?? {}), fireAlarm: true });
    expect(systemTypeName(obj?.systemType ?? -1).zh).toBe('火灾报警系统');
    expect(componentTypeName(obj?.componentType ?? -1)).toMatchObject({ en: 'smoke detector', zh: '感烟火灾探测器' });
  });

  it('fact 25: the blank description is 30 spaces and one NUL (31 spaces would give checksum 0x66, not 0x46)', () => {
    const appData = hex(FIRE_ALARM_APP_DATA);
    const fields: Omit<FrameInput, 'appData'> = {
      serial: 1,
      version: { major: 1, user: 1 },
      time: cst(32),
      source: UITD,
      destination: CENTRE,
      command: Command.send_data,
    };
    expect(encodeFrame({ ...fields, appData })).toEqual(EXAMPLES.fireAlarm);
    const allSpaces = Buffer.from(appData);
    allSpaces[2 + 9 + 30] = 0x20;
    expect(encodeFrame({ ...fields, appData: allSpaces })[OVERHEAD + 48 - 3]).toBe(0x66);
  });

  it('fact 25: re-encoding the decoded object round-trips (encoder pads with spaces)', () => {
    const appData = mustDecodeAppData(mustDecodeFrame(EXAMPLES.fireAlarm).appData);
    const bytes = encodeAppData(appData);
    expect(bytes.length).toBe(48);
    expect(toHex(bytes.subarray(11, 42))).toBe('20'.repeat(31));
    expect(mustDecodeAppData(bytes)).toEqual(appData);
  });

  it('fact 26: the confirm is 30 bytes, same serial, addresses swapped, checksum 0xAB; deny 0xAE', () => {
    const alarm = mustDecodeFrame(EXAMPLES.fireAlarm);
    const confirm = encodeReply(alarm, Command.confirm, cst(35));
    expect(confirm).toEqual(EXAMPLES.confirm);
    expect(confirm.length).toBe(30);
    expect(confirm[27]).toBe(0xab);
    expect(encodeReply(alarm, Command.deny, cst(35))).toEqual(EXAMPLES.deny);
    expect(mustDecodeFrame(EXAMPLES.confirm)).toMatchObject({ serial: 1, source: CENTRE, destination: UITD, command: 3 });
  });

  it('fact 12: the sum-mod-256 rule reproduces every example checksum', () => {
    const expected: Record<keyof typeof EXAMPLES, number> = {
      fireAlarm: 0x46,
      confirm: 0xab,
      deny: 0xae,
      mainPowerFault: 0x42,
      dutyCheckAnswered: 0x5f,
      softwareVersion: 0xc7,
      uitdTime: 0x40,
      readUitdStatus: 0xfe,
      syncClock: 0x7d,
      dutyCheck: 0x0f,
      initUitd: 0x03,
    };
    for (const [name, frame] of Object.entries(EXAMPLES) as [keyof typeof EXAMPLES, Buffer][]) {
      expect(frameChecksum(frame), name).toBe(expected[name]);
      expect(checksum(frame.subarray(2, frame.length - 3)), name).toBe(expected[name]);
      expect(decodeFrame(frame).ok, name).toBe(true);
    }
  });

  it('fact 27 and the other UITD examples decode to the documented objects', () => {
    const ad = (f: Buffer) => mustDecodeAppData(mustDecodeFrame(f).appData);
    expect(ad(EXAMPLES.mainPowerFault)).toEqual({
      type: 21,
      objects: [{ status: 0x08, flags: decodeUitdStatus(0x08), time: cst(2) }],
    });
    expect(decodeUitdStatus(0x08)).toMatchObject({ mainPowerFault: true, fireAlarm: false, normal: false });
    expect(ad(EXAMPLES.dutyCheckAnswered)).toEqual({
      type: 24,
      objects: [{ operation: 0x20, flags: decodeUitdOperation(0x20), operator: 1, time: cst(2) }],
    });
    expect(decodeUitdOperation(0x20).dutyCheckAnswered).toBe(true);
    expect(ad(EXAMPLES.softwareVersion)).toEqual({ type: 25, objects: [{ major: 1, minor: 1 }] });
    expect(ad(EXAMPLES.uitdTime)).toEqual({ type: 28, objects: [{ time: cst(2) }] });
    expect(ad(EXAMPLES.readUitdStatus)).toEqual({ type: 81, objects: [{ reserved: 0 }] });
    expect(ad(EXAMPLES.syncClock)).toEqual({ type: 90, objects: [{ time: cst(2) }] });
    expect(ad(EXAMPLES.dutyCheck)).toEqual({ type: 91, objects: [{ reserved: 10 }] });
    expect(ad(EXAMPLES.initUitd)).toEqual({ type: 89, objects: [{ reserved: 0 }] });
    for (const f of [EXAMPLES.mainPowerFault, EXAMPLES.dutyCheckAnswered, EXAMPLES.softwareVersion, EXAMPLES.uitdTime]) {
      expect(toHex(encodeAppData(ad(f)))).toBe(toHex(mustDecodeFrame(f).appData));
    }
  });
});

describe('decodeFrame rejects (fact 5)', () => {
  const good = EXAMPLES.mainPowerFault;
  const mutate = (i: number, v: number): Buffer => {
    const b = Buffer.from(good);
    b[i] = v;
    return b;
  };
  const reason = (b: Uint8Array, extra?: number[]) => {
    const r = decodeFrame(b, extra ? { extraCommands: extra } : {});
    return r.ok ? 'ok' : r.reason;
  };

  it('bad start, bad end, bad checksum', () => {
    expect(reason(mutate(0, 0x41))).toBe('bad_start');
    expect(reason(mutate(good.length - 1, 0x24))).toBe('bad_end');
    expect(reason(mutate(good.length - 3, 0x43))).toBe('bad_checksum');
    expect(reason(mutate(30, 0x09))).toBe('bad_checksum'); // payload bit flip
  });

  it('length over 1024, truncated and over-long buffers', () => {
    const big = Buffer.alloc(OVERHEAD + 1025);
    big.write('@@');
    big.writeUInt16LE(1025, 24);
    expect(reason(big)).toBe('too_long');
    expect(reason(good.subarray(0, good.length - 1))).toBe('truncated');
    expect(reason(good.subarray(0, 20))).toBe('truncated');
    expect(reason(Buffer.concat([good, Buffer.from([0])]))).toBe('length_mismatch');
  });

  it('unknown command unless explicitly accepted (vendor keep-alive 7, fact 8)', () => {
    const f = encodeFrame({ serial: 0, version: { major: 1, user: 1 }, time: null, source: 1, destination: 2, command: 7, appData: new Uint8Array(0) });
    expect(reason(f)).toBe('unknown_command');
    expect(reason(f, [7])).toBe('ok');
    expect(reason(mutate(26, 0))).toBe('bad_checksum'); // checksum is checked before the command
  });

  it('a zero time tag is kept raw and decodes to time null; heartbeats are recognised (fact 8)', () => {
    const f = mustDecodeFrame(
      encodeFrame({ serial: 9, version: { major: 1, user: 0 }, time: null, source: UITD, destination: CENTRE, command: 2, appData: new Uint8Array(0) }),
    );
    expect(f.time).toBeNull();
    expect(toHex(f.timeTag)).toBe('000000000000');
    expect(isHeartbeat(f)).toBe(true);
    expect(isHeartbeat(mustDecodeFrame(EXAMPLES.fireAlarm))).toBe(false);
  });

  it('encodeFrame refuses arguments no frame can carry', () => {
    const base: FrameInput = { serial: 0, version: { major: 1, user: 1 }, time: cst(0), source: 0, destination: 0, command: 2, appData: new Uint8Array(0) };
    expect(() => encodeFrame({ ...base, appData: new Uint8Array(MAX_APP_DATA + 1) })).toThrow(RangeError);
    expect(() => encodeFrame({ ...base, serial: 65536 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...base, source: 2 ** 48 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...base, time: new Date(Date.UTC(1999, 11, 31, 15, 59, 59)) })).toThrow(RangeError);
    expect(encodeFrame({ ...base, appData: new Uint8Array(MAX_APP_DATA) }).length).toBe(MAX_FRAME);
  });
});

describe('time tag (facts 13–15), fixed UTC+8, independent of the host zone', () => {
  it('decodes G2 bytes 02 3A 09 1A 09 0C as 2012-09-26 09:58:02 +08:00', () => {
    expect(decodeTimeTag(hex('023A091A090C'))).toEqual({ ok: true, time: new Date('2012-09-26T09:58:02+08:00') });
    expect(toHex(encodeTimeTag(new Date('2012-09-26T01:58:02Z')))).toBe('023A091A090C');
  });

  it('crosses midnight and year ends in UTC+8, and honours an explicit offset', () => {
    // 2023-12-31T16:30:05Z is 2024-01-01 00:30:05 in Chongqing.
    expect(toHex(encodeTimeTag(new Date('2023-12-31T16:30:05Z')))).toBe(toHex(Uint8Array.of(5, 30, 0, 1, 1, 24)));
    expect(toHex(encodeTimeTag(new Date('2023-12-31T16:30:05Z'), 0))).toBe(toHex(Uint8Array.of(5, 30, 16, 31, 12, 23)));
    expect(decodeTimeTag(Uint8Array.of(5, 30, 16, 31, 12, 23), 0, 0)).toEqual({ ok: true, time: new Date('2023-12-31T16:30:05Z') });
  });

  it('does not read the host time zone', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'America/New_York';
      expect(toHex(encodeTimeTag(new Date('2012-09-26T01:58:02Z')))).toBe('023A091A090C');
      expect(decodeTimeTag(hex('023A091A090C'))).toEqual({ ok: true, time: new Date('2012-09-26T01:58:02Z') });
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('rejects impossible fields and dates; round-trips random instants to the second', () => {
    expect(decodeTimeTag(Uint8Array.of(0, 0, 0, 31, 4, 24)).ok).toBe(false); // 31 April
    expect(decodeTimeTag(Uint8Array.of(0, 0, 0, 29, 2, 23)).ok).toBe(false); // 2023 not leap
    expect(decodeTimeTag(Uint8Array.of(0, 0, 0, 29, 2, 24)).ok).toBe(true);
    expect(decodeTimeTag(Uint8Array.of(60, 0, 0, 1, 1, 24)).ok).toBe(false);
    expect(decodeTimeTag(Uint8Array.of(0x12, 0x30, 0x09, 0x01, 0x01, 0x24)).ok).toBe(true); // BCD-looking bytes are binary
    expect(decodeTimeTag(new Uint8Array(6)).ok).toBe(false);
    const rnd = prng(1);
    for (let i = 0; i < 2000; i++) {
      const t = randomTime(rnd);
      expect(decodeTimeTag(encodeTimeTag(t))).toEqual({ ok: true, time: t });
    }
  });
});

describe('48-bit little-endian addresses', () => {
  it('round-trips the extremes and accepts bigint', () => {
    const b = new Uint8Array(6);
    for (const a of [0, 1, 0x0379, 0x015b38, 2 ** 32, MAX_ADDRESS]) {
      writeUint48LE(b, 0, a);
      expect(readUint48LE(b, 0)).toBe(a);
    }
    writeUint48LE(b, 0, 0xffffffffffffn);
    expect(toHex(b)).toBe('FFFFFFFFFFFF');
    writeUint48LE(b, 0, 0x0102030405n);
    expect(toHex(b)).toBe('050403020100');
    expect(() => writeUint48LE(b, 0, 2n ** 48n)).toThrow(RangeError);
    expect(() => writeUint48LE(b, 0, -1)).toThrow(RangeError);
  });
});

describe('app data', () => {
  it('enforces the object-count caps of fact 17', () => {
    const component = { systemType: 1, systemAddress: 1, componentType: 40, address: { zone: 1, position: 1 }, status: 1, description: '', time: null };
    expect(() => encodeAppData({ type: 2, objects: Array.from({ length: 23 }, () => component) })).toThrow(RangeError);
    expect(encodeAppData({ type: 2, objects: Array.from({ length: 22 }, () => component) }).length).toBe(2 + 22 * 46);
    const analog = { systemType: 11, systemAddress: 1, componentType: 128, address: { zone: 1, position: 1 }, analogType: 5, value: 700, time: null };
    expect(encodeAppData({ type: 3, objects: Array.from({ length: 63 }, () => analog) }).length).toBe(1010);
    expect(decodeAppData(Uint8Array.of(2, 23))).toMatchObject({ ok: false, reason: 'bad_object_count' });
    expect(decodeAppData(Uint8Array.of(21, 2, 8, 2, 58, 9, 26, 9, 12, 8, 2, 58, 9, 26, 9, 12))).toMatchObject({ ok: false, reason: 'bad_object_count' });
    expect(decodeAppData(Uint8Array.of(21, 0))).toMatchObject({ ok: false, reason: 'bad_object_count' });
    expect(decodeAppData(Uint8Array.of(24, 128))).toMatchObject({ ok: false, reason: 'bad_object_count' });
  });

  it('reads of facility data (61–68): the system or component they name, without a time tag, and with one from a sender that adds it', () => {
    // 63: hydrant system 1 (type 11), component 3-7: 3F 05 … no time tag (fact 16a)
    const bytes = encodeAppData({ type: 63, objects: [{ systemType: 11, systemAddress: 1, address: { zone: 3, position: 7 } }] });
    expect([...bytes]).toEqual([63, 1, 11, 1, 3, 0, 7, 0]);
    expect(decodeAppData(bytes)).toEqual({ ok: true, appData: { type: 63, objects: [{ systemType: 11, systemAddress: 1, address: { zone: 3, position: 7, raw: 3 + 7 * 65536 } }] } });
    expect([...encodeAppData({ type: 61, objects: [{ systemType: 1, systemAddress: 2 }] })]).toEqual([61, 1, 1, 2]);
    const ops = encodeAppData({ type: 64, objects: [{ systemType: 1, systemAddress: 2, count: 10, startTime: null }] });
    expect(ops.length).toBe(2 + 9);
    // the same read with a 6-byte time tag after the object (one decoder's reading): the object as before
    const stamped = Uint8Array.from([...bytes, 0, 0, 10, 1, 6, 26]);
    expect(decodeAppData(stamped)).toMatchObject({ ok: true, appData: { type: 63, objects: [{ systemType: 11, systemAddress: 1, address: { zone: 3, position: 7 } }] } });
    expect(decodeAppData(Uint8Array.from([61, 1, 1, 2, 0, 0, 10, 1, 6, 26]))).toEqual({ ok: true, appData: { type: 61, objects: [{ systemType: 1, systemAddress: 2 }] } });
    expect(() => encodeAppData({ type: 62, objects: [] as never[] })).toThrow(RangeError); // exactly one object
  });

  it('reports empty, unsupported, truncated and trailing units as values', () => {
    expect(decodeAppData(new Uint8Array(0))).toMatchObject({ ok: false, reason: 'empty' });
    expect(decodeAppData(Uint8Array.of(69, 1, 1, 1))).toMatchObject({ ok: false, reason: 'unsupported_type' });
    expect(decodeAppData(Uint8Array.of(61, 1, 1, 1, 1))).toMatchObject({ ok: false, reason: 'trailing_bytes' });
    expect(decodeAppData(Uint8Array.of(200, 1))).toMatchObject({ ok: false, reason: 'unsupported_type' });
    expect(decodeAppData(Uint8Array.of(0, 0))).toMatchObject({ ok: false, reason: 'unsupported_type' });
    expect(decodeAppData(Uint8Array.of(21))).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeAppData(Uint8Array.of(21, 1, 8, 2, 58))).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeAppData(Uint8Array.of(25, 1, 1, 1, 0))).toMatchObject({ ok: false, reason: 'trailing_bytes' });
    expect(decodeAppData(Uint8Array.of(26, 1, 5, 0x41))).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('decodes analog values as signed int16 little-endian (§1.10)', () => {
    const bytes = Uint8Array.of(3, 1, 11, 2, 128, 3, 0, 7, 0, 5, 0xbc, 0x02, 2, 58, 9, 26, 9, 12);
    const ad = mustDecodeAppData(bytes);
    expect(ad).toMatchObject({ type: 3, objects: [{ systemType: 11, componentType: 128, address: { zone: 3, position: 7 }, analogType: 5, value: 700 }] });
    const neg = mustDecodeAppData(Uint8Array.of(3, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0x18, 0xfc, 0, 0, 0, 1, 1, 24));
    expect(neg).toMatchObject({ objects: [{ value: -1000 }] });
  });

  it('GB 18030 descriptions: full decode, ASCII + GBK encode, trims spaces and NULs (fact 18)', () => {
    expect(toHex(encodeGb18030('日'))).toBe('C8D5');
    expect(decodeGb18030(hex('CFFBBBF0CBA8 2020 00 FFFF'))).toBe('消火栓'); // text after the NUL is ignored
    expect(decodeGb18030(hex('8130813041'))).toBe('\u0080A'); // 4-byte sequence decodes
    const text = '1号楼B2层 消火栓压力 #3';
    expect(decodeGb18030(encodeGb18030(text))).toBe(text);
    expect(() => encodeGb18030('\u{1F525}')).toThrow(RangeError);
    const obj = { systemType: 11, systemAddress: 2, componentType: 92, address: { zone: 1, position: 9 }, description: '消防水箱（屋顶）' };
    expect(mustDecodeAppData(encodeAppData({ type: 7, objects: [obj] }))).toMatchObject({ objects: [obj] });
    expect(() => encodeAppData({ type: 7, objects: [{ ...obj, description: '消'.repeat(16) }] })).toThrow(RangeError);
  });

  it('property: random objects of every supported type round-trip (seeded)', () => {
    const rnd = prng(20240601);
    for (let i = 0; i < 3000; i++) {
      const input = randomAppData(rnd);
      const bytes = encodeAppData(input);
      expect(bytes.length).toBeLessThanOrEqual(MAX_APP_DATA);
      const r = decodeAppData(bytes);
      if (!r.ok) throw new Error(`case ${i} type ${input.type}: ${r.reason} ${r.detail}`);
      expect(r.appData, `case ${i}`).toMatchObject(input);
      expect(toHex(encodeAppData(r.appData)), `case ${i}`).toBe(toHex(bytes));
    }
  });
});

describe('frame property round trip', () => {
  it('encode → decode over random frames (seeded)', () => {
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const input = randomFrame(rnd);
      const buf = encodeFrame(input);
      expect(buf.length).toBe(OVERHEAD + input.appData.length);
      const frame = mustDecodeFrame(buf);
      const { appData, ...header } = input;
      expect(frame).toMatchObject({ ...header, source: Number(input.source), destination: Number(input.destination) });
      expect(toHex(frame.appData)).toBe(toHex(appData));
    }
  });
});

describe('FrameSplitter (fact 6)', () => {
  const frames = (outs: SplitterOutput[]): string[] => outs.flatMap((o) => (o.kind === 'frame' ? [toHex(o.frame)] : []));
  const invalid = (outs: SplitterOutput[]) => outs.flatMap((o) => (o.kind === 'invalid' ? [o] : []));
  const [a, b, c] = [EXAMPLES.fireAlarm, EXAMPLES.mainPowerFault, EXAMPLES.confirm];

  it('splits three frames stuck together in one chunk', () => {
    const s = new FrameSplitter();
    const out = s.push(Buffer.concat([a, b, c]));
    expect(out.map((o) => o.kind)).toEqual(['frame', 'frame', 'frame']);
    expect(frames(out)).toEqual([a, b, c].map(toHex));
    expect(s.pendingBytes).toBe(0);
  });

  it('reassembles a frame fed byte by byte', () => {
    const s = new FrameSplitter();
    const out: SplitterOutput[] = [];
    for (const byte of a) out.push(...s.push(Uint8Array.of(byte)));
    expect(out).toEqual([{ kind: 'frame', frame: a }]);
  });

  it('drops garbage before "@@" and reports it once', () => {
    const s = new FrameSplitter();
    const out = s.push(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), b]));
    expect(frames(out)).toEqual([toHex(b)]);
    expect(invalid(out)).toEqual([expect.objectContaining({ reason: 'garbage', dropped: 18 })]);
  });

  it('recovers when garbage ends in "@" (a false "@@" one byte early)', () => {
    const s = new FrameSplitter();
    const out = s.push(Buffer.concat([Buffer.from('xx@'), b, Buffer.from('@'), c]));
    expect(frames(out)).toEqual([b, c].map(toHex));
    expect(invalid(out).reduce((n, o) => n + o.dropped, 0)).toBe(4);
  });

  it('reports a bad-checksum frame between two good ones and keeps both good ones', () => {
    const bad = Buffer.from(b);
    bad[30] = (bad[30] ?? 0) ^ 0x01;
    const s = new FrameSplitter();
    const out = s.push(Buffer.concat([a, bad, c]));
    expect(out.map((o) => (o.kind === 'frame' ? 'frame' : o.reason))).toEqual(['frame', 'bad_checksum', 'frame']);
    expect(frames(out)).toEqual([a, c].map(toHex));
    const rejected = invalid(out)[0];
    expect(rejected?.bytes).toEqual(bad);
    expect(decodeFrame(rejected?.bytes ?? new Uint8Array(0))).toMatchObject({ ok: false, reason: 'bad_checksum' });
  });

  it('resynchronises after a length field over 1024 without waiting for 1 KB', () => {
    const bogus = Buffer.from(b.subarray(0, 27));
    bogus.writeUInt16LE(0xffff, 24);
    const s = new FrameSplitter();
    const out = s.push(Buffer.concat([bogus, a]));
    expect(out.map((o) => (o.kind === 'frame' ? 'frame' : o.reason))).toEqual(['too_long', 'frame']);
    expect(invalid(out)[0]?.dropped).toBe(27);
    expect(frames(out)).toEqual([toHex(a)]);
  });

  it('resynchronises when the end marker is not where the length says', () => {
    const wrongLen = Buffer.from(b);
    wrongLen.writeUInt16LE(3, 24); // real app data is 9 B
    const s = new FrameSplitter();
    const out = s.push(Buffer.concat([wrongLen, c, a]));
    expect(out.map((o) => (o.kind === 'frame' ? 'frame' : o.reason))).toEqual(['bad_end', 'frame', 'frame']);
    expect(frames(out)).toEqual([c, a].map(toHex));
  });

  it('keeps its buffer bounded under endless garbage, including fake "@@" headers', () => {
    const rnd = prng(99);
    const s = new FrameSplitter();
    let dropped = 0;
    for (let i = 0; i < 500; i++) {
      const chunk = Buffer.alloc(1 + Math.floor(rnd() * 4096));
      for (let j = 0; j < chunk.length; j++) chunk[j] = rnd() < 0.02 ? 0x40 : Math.floor(rnd() * 256);
      for (const o of s.push(chunk)) {
        if (o.kind === 'invalid') dropped += o.dropped;
      }
      expect(s.pendingBytes).toBeLessThan(MAX_FRAME);
    }
    expect(dropped).toBeGreaterThan(0);
    s.reset();
    expect(s.push(a)).toEqual([{ kind: 'frame', frame: a }]);
  });

  it('property: random frames cut at random points come out whole and in order (seeded)', () => {
    const rnd = prng(4242);
    for (let round = 0; round < 50; round++) {
      const sent = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => encodeFrame(randomFrame(rnd)));
      const stream = Buffer.concat(sent);
      const s = new FrameSplitter();
      const out: SplitterOutput[] = [];
      for (let pos = 0; pos < stream.length; ) {
        const n = 1 + Math.floor(rnd() * 700);
        out.push(...s.push(stream.subarray(pos, pos + n)));
        pos += n;
      }
      expect(invalid(out)).toEqual([]);
      expect(frames(out)).toEqual(sent.map(toHex));
      expect(s.pendingBytes).toBe(0);
    }
  });
});

describe('status bits (facts 20–23)', () => {
  it('decodes system status words', () => {
    expect(decodeSystemStatus(0x0002)).toEqual({ ...allFalse(decodeSystemStatus(0)), fireAlarm: true });
    const both = decodeSystemStatus(0x0007);
    expect([both.normal, both.fireAlarm, both.fault]).toEqual([true, true, true]); // fact 24: simultaneous
    expect(decodeSystemStatus(0x0100 | 0x0200 | 0x0400 | 0x0800 | 0x1000 | 0x2000)).toMatchObject({
      mainPowerFault: true,
      backupPowerFault: true,
      busFault: true,
      manual: true,
      configChanged: true,
      reset: true,
      fireAlarm: false,
    });
    expect(Object.values(decodeSystemStatus(0xc000)).every((v) => !v)).toBe(true); // bits 14–15 reserved
    for (let w = 0; w < 0x4000; w += 37) expect(encodeSystemStatus(decodeSystemStatus(w))).toBe(w);
  });

  it('decodes component status words with bit 8 = power fault', () => {
    expect(decodeComponentStatus(0x0104)).toMatchObject({ fault: true, powerFault: true, fireAlarm: false });
    expect(Object.keys(decodeComponentStatus(0))).not.toContain('mainPowerFault');
    expect(encodeComponentStatus({ normal: true, supervisory: true, feedback: true })).toBe(0x51);
    expect(componentStatusLabels(0x0003)).toEqual(['正常运行', '火警']);
  });
});

describe('tables and analog scaling (§1.7, §1.8, §1.10)', () => {
  it('scales raw values to engineering units', () => {
    expect(analogToEngineering(5, 700)).toMatchObject({ ok: true, quantity: 'pressure', unit: 'kPa', value: 70, inRange: true });
    expect(analogToEngineering(4, 7)).toMatchObject({ ok: true, unit: 'MPa', value: 0.7 });
    expect(analogToEngineering(2, 1234)).toMatchObject({ ok: true, quantity: 'level', unit: 'm', value: 12.34 });
    expect(analogToEngineering(3, -2731)).toMatchObject({ ok: true, unit: '°C', value: -273.1, inRange: false });
    expect(analogToEngineering(9, 3)).toMatchObject({ ok: true, unit: 'A', value: 0.3 });
    expect(analogToEngineering(12, 25)).toMatchObject({ ok: true, unit: 'm/s', value: 25, inRange: false });
    expect(analogToEngineering(0, 1)).toMatchObject({ ok: false, reason: 'unused_type' });
    expect(analogToEngineering(13, 1)).toMatchObject({ ok: false, reason: 'reserved_type' });
    expect(analogToEngineering(0x9a, 1)).toMatchObject({ ok: false, reason: 'user_defined_type' });
  });

  it('names system and component types in English and Chinese', () => {
    expect(systemTypeName(11)).toEqual({ code: 11, kind: 'defined', en: 'hydrant system', zh: '消火栓系统' });
    expect(systemTypeName(23)).toMatchObject({ en: 'fire power supply', zh: '消防电源' });
    expect(systemTypeName(5).kind).toBe('reserved');
    expect(systemTypeName(0x81).kind).toBe('user_defined');
    expect(componentTypeName(92).zh).toBe('消防水箱');
    expect(componentTypeName(17).zh).toBe('剩余电流式电气火灾监控探测器');
    expect(componentTypeName(128).kind).toBe('user_defined');
  });
});

// ---------------------------------------------------------------------------------------------
// Seeded generators (mulberry32; no dependencies)
// ---------------------------------------------------------------------------------------------
/** the simulators' seeded mulberry32, as a plain function */
const prng = (seed: number): (() => number) => {
  const r = new Prng(seed);
  return () => r.next();
};
type Rnd = () => number;
const int = (rnd: Rnd, min: number, max: number): number => min + Math.floor(rnd() * (max - min + 1));
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

function allFalse<T extends object>(flags: T): Record<keyof T, boolean> {
  return Object.fromEntries(Object.keys(flags).map((k) => [k, false])) as Record<keyof T, boolean>;
}

/** Whole seconds between 2000-01-01 and 2099-12-31 (UTC+8). */
function randomTime(rnd: Rnd): Date {
  const from = Date.UTC(2000, 0, 1) - 8 * 3600_000;
  const to = Date.UTC(2099, 11, 31, 23, 59, 59) - 8 * 3600_000;
  return new Date(from + Math.floor(rnd() * ((to - from) / 1000)) * 1000);
}
const maybeTime = (rnd: Rnd): Date | null => (rnd() < 0.05 ? null : randomTime(rnd));

function randomFrame(rnd: Rnd): FrameInput {
  const len = rnd() < 0.2 ? 0 : rnd() < 0.05 ? MAX_APP_DATA : int(rnd, 1, 300);
  const appData = new Uint8Array(len);
  for (let i = 0; i < len; i++) appData[i] = int(rnd, 0, 255); // '@@' and '##' inside payloads included
  const addr = (): bigint | number => (rnd() < 0.5 ? int(rnd, 0, 2 ** 20 - 1) * 2 ** 28 + int(rnd, 0, 2 ** 28 - 1) : BigInt(int(rnd, 0, 2 ** 30)));
  return {
    serial: int(rnd, 0, 0xffff),
    version: { major: 1, user: int(rnd, 0, 255) },
    time: maybeTime(rnd),
    source: addr(),
    destination: addr(),
    command: int(rnd, 1, 6),
    appData,
  };
}

const TEXT_CHARS = 'ABCxyz0123-_/#@号楼层区消火栓压力水箱泵阀门烟感温（）';
function randomText(rnd: Rnd, maxBytes: number): string {
  let text = '';
  for (let bytes = 0; ; ) {
    const ch = pick(rnd, [...TEXT_CHARS]);
    const size = ch.charCodeAt(0) < 0x80 ? 1 : 2;
    if (bytes + size > maxBytes || rnd() < 0.08) break;
    text += ch;
    bytes += size;
  }
  return text;
}

function randomAppData(rnd: Rnd): AppDataInput {
  const types: SupportedAppDataType[] = [1, 2, 3, 4, 5, 6, 7, 8, 21, 24, 25, 26, 28, 61, 62, 63, 64, 65, 66, 67, 68, 81, 84, 85, 86, 88, 89, 90, 91];
  const type = pick(rnd, types);
  const sys = () => ({ systemType: int(rnd, 0, 255), systemAddress: int(rnd, 0, 255) });
  const comp = () => ({ ...sys(), componentType: int(rnd, 0, 255), address: { zone: int(rnd, 0, 0xffff), position: int(rnd, 0, 0xffff) } });
  const many = <T>(max: number, make: () => T): T[] => Array.from({ length: int(rnd, 0, max) }, make);
  switch (type) {
    case 1: return { type, objects: many(102, () => ({ ...sys(), status: int(rnd, 0, 0xffff), time: maybeTime(rnd) })) };
    case 2: return { type, objects: many(22, () => ({ ...comp(), status: int(rnd, 0, 0xffff), description: randomText(rnd, 31), time: maybeTime(rnd) })) };
    case 3: return { type, objects: many(63, () => ({ ...comp(), analogType: int(rnd, 0, 255), value: int(rnd, -32768, 32767), time: maybeTime(rnd) })) };
    case 4: return { type, objects: many(102, () => ({ ...sys(), operation: int(rnd, 0, 255), operator: int(rnd, 0, 255), time: maybeTime(rnd) })) };
    case 5: return { type, objects: [{ ...sys(), major: int(rnd, 0, 255), minor: int(rnd, 0, 255) }] };
    case 6: return { type, objects: many(3, () => ({ ...sys(), text: randomText(rnd, 255) })) };
    case 7: return { type, objects: many(26, () => ({ ...comp(), description: randomText(rnd, 31) })) };
    case 8: return { type, objects: [{ ...sys(), time: maybeTime(rnd) }] };
    case 21: return { type, objects: [{ status: int(rnd, 0, 255), time: maybeTime(rnd) }] };
    case 24: return { type, objects: many(127, () => ({ operation: int(rnd, 0, 255), operator: int(rnd, 0, 255), time: maybeTime(rnd) })) };
    case 25: return { type, objects: [{ major: int(rnd, 0, 255), minor: int(rnd, 0, 255) }] };
    case 26: return { type, objects: [{ text: randomText(rnd, 255) }] };
    case 28: case 90: return { type, objects: [{ time: maybeTime(rnd) }] };
    case 84: return { type, objects: [{ count: int(rnd, 0, 102), startTime: maybeTime(rnd) }] };
    case 61: case 65: case 66: case 68: return { type, objects: [sys()] };
    case 62: case 63: case 67: return { type, objects: [{ ...sys(), address: { zone: int(rnd, 0, 0xffff), position: int(rnd, 0, 0xffff) } }] };
    case 64: return { type, objects: [{ ...sys(), count: int(rnd, 0, 102), startTime: maybeTime(rnd) }] };
    case 81: case 85: case 86: case 88: case 89: case 91: return { type, objects: [{ reserved: int(rnd, 0, 255) }] };
  }
}
