/**
 * GB/T 26875.3-2011 frame codec (docs/standards.md §1.2–§1.4). Pure: bytes in, values out.
 *
 *   byte (1-based)  1-2    3-4     5-6      7-12   13-18   19-24  25-26  27    28…      +1   +2
 *                   '@@' | serial | version | time | source | dest | len | cmd | app data | cs | '##'
 *
 * Byte offsets in code are 0-based (standard byte n = offset n-1).
 * Bad input is a value ({ ok: false, reason, detail }); bad arguments to the encoders are
 * programmer errors and throw RangeError.
 */

export const START = Buffer.from('@@', 'latin1'); // 0x40 0x40, fact §1.2
export const END = Buffer.from('##', 'latin1'); // 0x23 0x23, fact §1.2
export const START_BYTE = 0x40;
export const END_BYTE = 0x23;
/** App-data unit length limit, fact §1.2 (bytes 25–26 "must be ≤ 1024"). */
export const MAX_APP_DATA = 1024;
/** Fixed overhead: 27 header bytes + checksum + 2 end bytes (fact 9). Also the minimum frame (fact 10). */
export const OVERHEAD = 30;
/** Bytes before the app data: start marker through command byte (1-based bytes 1–27). */
export const HEADER_SIZE = 27;
export const MIN_FRAME = OVERHEAD;
export const MAX_FRAME = OVERHEAD + MAX_APP_DATA;

/** 0-based offsets of the control-unit fields. */
export const OFFSET = {
  serial: 2,
  versionMajor: 4,
  versionUser: 5,
  time: 6,
  source: 12,
  destination: 18,
  length: 24,
  command: 26,
  appData: 27,
} as const;

/** Command byte (byte 27), fact §1.3. 7–127 reserved (one vendor: 7 = keep-alive); 128–255 user-defined. */
export const Command = {
  control: 1,
  send_data: 2,
  confirm: 3,
  request: 4,
  response: 5,
  deny: 6,
} as const;
export type Command = (typeof Command)[keyof typeof Command];

const STANDARD_COMMANDS: ReadonlySet<number> = new Set(Object.values(Command));

/** China Standard Time. Fact 15: the zone is not stated in the standard; assume UTC+8 (UNVERIFIED). */
export const CST_OFFSET_MINUTES = 480;

// ---------------------------------------------------------------------------------------------
// Time tag, facts 13–15: six binary (not BCD) bytes sec, min, hour, day, month, yy (2000+yy),
// in local time at `offsetMinutes` east of UTC. Never reads the host time zone.
// ---------------------------------------------------------------------------------------------
export const TIME_TAG_SIZE = 6;

/** Encode a Date as a 6-byte time tag. `null` encodes as six zero bytes ("no valid time"). */
export function encodeTimeTag(time: Date | null, offsetMinutes: number = CST_OFFSET_MINUTES): Uint8Array {
  const out = new Uint8Array(TIME_TAG_SIZE);
  if (time === null) return out;
  const ms = time.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('encodeTimeTag: invalid Date');
  const local = new Date(ms + offsetMinutes * 60_000);
  const year = local.getUTCFullYear();
  if (year < 2000 || year > 2099) throw new RangeError(`encodeTimeTag: year ${year} outside 2000–2099`);
  out[0] = local.getUTCSeconds();
  out[1] = local.getUTCMinutes();
  out[2] = local.getUTCHours();
  out[3] = local.getUTCDate();
  out[4] = local.getUTCMonth() + 1;
  out[5] = year - 2000;
  return out;
}

export type TimeTagResult = { ok: true; time: Date } | { ok: false; reason: 'bad_time'; detail: string };

/**
 * Decode the 6-byte time tag at `offset`. Out-of-range fields or an impossible date (31 April)
 * give `bad_time`; some devices send all zeros before their clock is set.
 */
export function decodeTimeTag(
  bytes: Uint8Array,
  offset = 0,
  offsetMinutes: number = CST_OFFSET_MINUTES,
): TimeTagResult {
  if (bytes.length < offset + TIME_TAG_SIZE) return { ok: false, reason: 'bad_time', detail: 'time tag truncated' };
  const at = (i: number): number => bytes[offset + i] ?? 0;
  const [s, mi, h, d, mo, y] = [at(0), at(1), at(2), at(3), at(4), at(5)];
  const fields = `${s},${mi},${h},${d},${mo},${y}`;
  if (s > 59 || mi > 59 || h > 23 || d < 1 || d > 31 || mo < 1 || mo > 12 || y > 99) {
    return { ok: false, reason: 'bad_time', detail: `time tag fields out of range (s,m,h,D,M,Y = ${fields})` };
  }
  const localMs = Date.UTC(2000 + y, mo - 1, d, h, mi, s);
  if (new Date(localMs).getUTCDate() !== d) {
    return { ok: false, reason: 'bad_time', detail: `no such date (s,m,h,D,M,Y = ${fields})` };
  }
  return { ok: true, time: new Date(localMs - offsetMinutes * 60_000) };
}

// ---------------------------------------------------------------------------------------------
// 48-bit little-endian addresses, fact §1.2 (bytes 13–24). 2^48 < 2^53, so a number is exact.
// ---------------------------------------------------------------------------------------------
export const MAX_ADDRESS = 2 ** 48 - 1;

export function readUint48LE(bytes: Uint8Array, offset: number): number {
  let value = 0;
  for (let i = 5; i >= 0; i--) value = value * 256 + (bytes[offset + i] ?? 0);
  return value;
}

export function writeUint48LE(bytes: Uint8Array, offset: number, address: bigint | number): void {
  const n = typeof address === 'bigint' ? Number(address) : address;
  if (!Number.isInteger(n) || n < 0 || n > MAX_ADDRESS || (typeof address === 'bigint' && BigInt(n) !== address)) {
    throw new RangeError(`address ${String(address)} is not a 48-bit unsigned integer`);
  }
  let v = n;
  for (let i = 0; i < 6; i++) {
    bytes[offset + i] = v % 256;
    v = Math.floor(v / 256);
  }
}

// ---------------------------------------------------------------------------------------------
// Checksum, fact 12: arithmetic sum mod 256 (not CRC, not XOR).
// ---------------------------------------------------------------------------------------------

/** Sum of the given bytes mod 256. Pass bytes 3…27 plus the app data (see frameChecksum). */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum += b;
  return sum & 0xff;
}

/** Checksum a whole frame should carry: bytes between the start marker and the checksum byte. */
export function frameChecksum(frame: Uint8Array): number {
  return checksum(frame.subarray(START.length, frame.length - 3));
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------
export interface ProtocolVersion {
  /** byte 5, fixed at 1 by the standard */
  major: number;
  /** byte 6, user-defined */
  user: number;
}

export interface FrameInput {
  /** business serial number, 0–65535, little-endian (fact §1.2) */
  serial: number;
  version: ProtocolVersion;
  /** send time; null writes a zero time tag */
  time: Date | null;
  source: bigint | number;
  destination: bigint | number;
  /** 0–255; normally a Command value */
  command: number;
  appData: Uint8Array;
}

export interface Frame {
  serial: number;
  version: ProtocolVersion;
  /** send time, or null when the time tag is not a valid date (timeTag keeps the raw bytes) */
  time: Date | null;
  timeTag: Uint8Array;
  source: number;
  destination: number;
  command: number;
  appData: Uint8Array;
  checksum: number;
}

export type FrameRejectReason =
  | 'bad_start'
  | 'bad_end'
  | 'bad_checksum'
  | 'too_long'
  | 'unknown_command'
  | 'truncated'
  | 'length_mismatch';

export type DecodeFrameResult = { ok: true; frame: Frame } | { ok: false; reason: FrameRejectReason; detail: string };

export interface DecodeFrameOptions {
  /** Non-standard command bytes to accept, e.g. [7] for the G5 vendor keep-alive (fact 8). */
  extraCommands?: readonly number[];
  /** Time-tag zone; default UTC+8 (fact 15). */
  offsetMinutes?: number;
}

function byteRange(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} ${value} outside 0–${max}`);
}

/** Build a frame. Throws RangeError on arguments no frame can carry (programmer error). */
export function encodeFrame(input: FrameInput, offsetMinutes: number = CST_OFFSET_MINUTES): Buffer {
  byteRange('serial', input.serial, 0xffff);
  byteRange('version.major', input.version.major, 0xff);
  byteRange('version.user', input.version.user, 0xff);
  byteRange('command', input.command, 0xff);
  if (input.appData.length > MAX_APP_DATA) {
    throw new RangeError(`app data ${input.appData.length} B exceeds ${MAX_APP_DATA} B (fact §1.2)`);
  }
  const len = input.appData.length;
  const buf = Buffer.alloc(OVERHEAD + len);
  START.copy(buf, 0);
  buf.writeUInt16LE(input.serial, OFFSET.serial);
  buf[OFFSET.versionMajor] = input.version.major;
  buf[OFFSET.versionUser] = input.version.user;
  buf.set(encodeTimeTag(input.time, offsetMinutes), OFFSET.time);
  writeUint48LE(buf, OFFSET.source, input.source);
  writeUint48LE(buf, OFFSET.destination, input.destination);
  buf.writeUInt16LE(len, OFFSET.length);
  buf[OFFSET.command] = input.command;
  buf.set(input.appData, OFFSET.appData);
  buf[OFFSET.appData + len] = frameChecksum(buf);
  END.copy(buf, OFFSET.appData + len + 1);
  return buf;
}

/**
 * Validate and decode exactly one frame (use FrameSplitter to cut a stream into frames).
 * Checks follow fact 5: start/end markers, length limit, checksum, recognised command byte.
 */
export function decodeFrame(buf: Uint8Array, options: DecodeFrameOptions = {}): DecodeFrameResult {
  if (buf[0] !== START_BYTE || buf[1] !== START_BYTE) {
    return { ok: false, reason: 'bad_start', detail: 'frame does not begin with "@@"' };
  }
  if (buf.length < MIN_FRAME) {
    return { ok: false, reason: 'truncated', detail: `${buf.length} B is shorter than the ${MIN_FRAME}-B minimum` };
  }
  const len = (buf[OFFSET.length] ?? 0) | ((buf[OFFSET.length + 1] ?? 0) << 8);
  if (len > MAX_APP_DATA) {
    return { ok: false, reason: 'too_long', detail: `app-data length ${len} exceeds ${MAX_APP_DATA}` };
  }
  const total = OVERHEAD + len;
  if (buf.length < total) {
    return { ok: false, reason: 'truncated', detail: `length field says ${total} B, got ${buf.length} B` };
  }
  if (buf.length > total) {
    return { ok: false, reason: 'length_mismatch', detail: `length field says ${total} B, got ${buf.length} B` };
  }
  if (buf[total - 2] !== END_BYTE || buf[total - 1] !== END_BYTE) {
    return { ok: false, reason: 'bad_end', detail: 'frame does not end with "##"' };
  }
  const carried = buf[total - 3] ?? 0;
  const computed = frameChecksum(buf);
  if (carried !== computed) {
    return { ok: false, reason: 'bad_checksum', detail: `checksum 0x${hex(carried)}, computed 0x${hex(computed)}` };
  }
  const command = buf[OFFSET.command] ?? 0;
  if (!STANDARD_COMMANDS.has(command) && !(options.extraCommands ?? []).includes(command)) {
    return { ok: false, reason: 'unknown_command', detail: `command byte ${command} is not recognised` };
  }
  const timeTag = Uint8Array.from(buf.subarray(OFFSET.time, OFFSET.time + TIME_TAG_SIZE));
  const time = decodeTimeTag(timeTag, 0, options.offsetMinutes ?? CST_OFFSET_MINUTES);
  return {
    ok: true,
    frame: {
      serial: (buf[OFFSET.serial] ?? 0) | ((buf[OFFSET.serial + 1] ?? 0) << 8),
      version: { major: buf[OFFSET.versionMajor] ?? 0, user: buf[OFFSET.versionUser] ?? 0 },
      time: time.ok ? time.time : null,
      timeTag,
      source: readUint48LE(buf, OFFSET.source),
      destination: readUint48LE(buf, OFFSET.destination),
      command,
      appData: Uint8Array.from(buf.subarray(OFFSET.appData, OFFSET.appData + len)),
      checksum: carried,
    },
  };
}

/** Heartbeat, fact 8: "send data" with an empty app-data unit. */
export function isHeartbeat(frame: Pick<Frame, 'command' | 'appData'>): boolean {
  return frame.command === Command.send_data && frame.appData.length === 0;
}

/**
 * The 30-byte reply to a frame (fact 26): same serial and version, source and destination
 * swapped, empty app data. `command` is confirm (3) or deny (6).
 */
export function encodeReply(
  to: Pick<Frame, 'serial' | 'version' | 'source' | 'destination'>,
  command: typeof Command.confirm | typeof Command.deny,
  time: Date | null,
  offsetMinutes: number = CST_OFFSET_MINUTES,
): Buffer {
  return encodeFrame(
    { serial: to.serial, version: to.version, time, source: to.destination, destination: to.source, command, appData: new Uint8Array(0) },
    offsetMinutes,
  );
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
