/**
 * GB/T 26875.3-2011 application data unit (docs/standards.md §1.5–§1.10). Pure.
 *
 *   type flag (1) | object count n (1) | object 1 … object n      (fact 16)
 *   object = information body [+ 6-byte time tag, for most types]
 *
 * All multi-byte numbers are little-endian (fact 11). Text is GB 18030 (fact 18).
 * Supported: upstream types 1–8, 21, 24, 25, 26, 28; downstream 61–68, 81, 84, 85, 86, 88, 89, 90, 91.
 * User-defined types (128–254) give `unsupported_type`.
 *
 * Reads of facility data (61–68) name what they read, without a time tag: a system (type + address,
 * 2 bytes) for 61, 65, 66, 68; a component (system type, system address, the 4-byte component
 * address, 6 bytes) for 62, 63, 67; 64 adds a record count and a start time (9 bytes). Our sources
 * agree on these bodies but one Java decoder reads a time tag after each (docs/standards.md fact 16a,
 * UNVERIFIED): decoding takes either, encoding writes none.
 *
 * Text limitation: decoding accepts all of GB 18030 (WHATWG TextDecoder, needs Node's full ICU,
 * the default in official builds). Encoding supports ASCII plus every character of the 2-byte
 * GBK range (all GB 2312 / GBK hanzi); characters that need a 4-byte GB 18030 sequence throw.
 */
import { CST_OFFSET_MINUTES, MAX_APP_DATA, TIME_TAG_SIZE, decodeTimeTag, encodeTimeTag } from './frame.js';
import {
  decodeComponentStatus,
  decodeFacilityOperation,
  decodeSystemStatus,
  decodeUitdOperation,
  decodeUitdStatus,
  type ComponentStatusFlags,
  type FacilityOperationFlags,
  type SystemStatusFlags,
  type UitdOperationFlags,
  type UitdStatusFlags,
} from './tables.js';

/** Type flags (类型标志), fact §1.6. */
export const AppDataType = {
  systemStatus: 1,
  componentStatus: 2,
  analogValue: 3,
  facilityOperation: 4,
  facilitySoftwareVersion: 5,
  facilitySystemConfig: 6,
  facilityComponentConfig: 7,
  facilitySystemTime: 8,
  uitdStatus: 21,
  uitdOperation: 24,
  uitdSoftwareVersion: 25,
  uitdConfig: 26,
  uitdSystemTime: 28,
  readSystemStatus: 61,
  readComponentStatus: 62,
  readAnalogValues: 63,
  readFacilityOperations: 64,
  readFacilitySoftwareVersion: 65,
  readFacilitySystemConfig: 66,
  readFacilityComponentConfig: 67,
  readFacilitySystemTime: 68,
  readUitdStatus: 81,
  readUitdOperations: 84,
  readUitdSoftwareVersion: 85,
  readUitdConfig: 86,
  readUitdTime: 88,
  initUitd: 89,
  syncUitdClock: 90,
  dutyCheck: 91,
} as const;

/** Component description width, fact 18 and fact §1.6 type 2. */
export const DESCRIPTION_SIZE = 31;

/** Component address (fact §1.8): 2-byte zone (区号) then 2-byte position (位号), little-endian. */
export interface ComponentAddress {
  zone: number;
  position: number;
}
export interface DecodedComponentAddress extends ComponentAddress {
  /** the same 4 bytes read as one uint32 LE (how G1 reads it) */
  raw: number;
}
export function componentAddressFromRaw(raw: number): DecodedComponentAddress {
  return { zone: raw & 0xffff, position: Math.floor(raw / 0x10000) & 0xffff, raw };
}

interface SystemRef {
  systemType: number;
  systemAddress: number;
}
interface ComponentRef extends SystemRef {
  componentType: number;
  address: ComponentAddress;
}
/** Object time tags decode to null when the 6 bytes are not a valid date; null encodes as zeros. */
type Stamped = { time: Date | null };

export type SystemStatusInput = SystemRef & Stamped & { status: number };
export type ComponentStatusInput = ComponentRef & Stamped & { status: number; description: string };
export type AnalogValueInput = ComponentRef & Stamped & { analogType: number; /** int16 raw */ value: number };
export type FacilityOperationInput = SystemRef & Stamped & { operation: number; operator: number };
export type SoftwareVersion = { major: number; minor: number };
export type ConfigText = { text: string };
export type ComponentConfigInput = ComponentRef & { description: string };
export type UitdStatusInput = Stamped & { status: number };
export type UitdOperationInput = Stamped & { operation: number; operator: number };
export type Reserved = { reserved: number };
export type ReadOperationsInput = { count: number; startTime: Date | null };
/** what a read of facility data (61–68) names: a system, or a component of one (no component type) */
export type ReadSystemInput = SystemRef;
export type ReadComponentInput = SystemRef & { address: ComponentAddress };
export type ReadFacilityOperationsInput = SystemRef & { count: number; startTime: Date | null };

interface InputObjects {
  1: SystemStatusInput;
  2: ComponentStatusInput;
  3: AnalogValueInput;
  4: FacilityOperationInput;
  5: SystemRef & SoftwareVersion;
  6: SystemRef & ConfigText;
  7: ComponentConfigInput;
  8: SystemRef & Stamped;
  21: UitdStatusInput;
  24: UitdOperationInput;
  25: SoftwareVersion;
  26: ConfigText;
  28: Stamped;
  61: ReadSystemInput;
  62: ReadComponentInput;
  63: ReadComponentInput;
  64: ReadFacilityOperationsInput;
  65: ReadSystemInput;
  66: ReadSystemInput;
  67: ReadComponentInput;
  68: ReadSystemInput;
  81: Reserved;
  /** fact §1.6: count n ≤ 102 + start time */
  84: ReadOperationsInput;
  85: Reserved;
  86: Reserved;
  88: Reserved;
  89: Reserved;
  /** G2 example 10 sends the time to set (`5A 01` + 6-byte time) */
  90: Stamped;
  /** G2 documents one reserved byte; its example sends 0x0A ("10 minutes"). Kept raw. */
  91: Reserved;
}

type WithAddress<T> = T extends { address: ComponentAddress } ? Omit<T, 'address'> & { address: DecodedComponentAddress } : T;
interface DecodedObjects {
  1: SystemStatusInput & { flags: SystemStatusFlags };
  2: WithAddress<ComponentStatusInput> & { flags: ComponentStatusFlags };
  3: WithAddress<AnalogValueInput>;
  4: FacilityOperationInput & { flags: FacilityOperationFlags };
  5: InputObjects[5];
  6: InputObjects[6];
  7: WithAddress<ComponentConfigInput>;
  8: InputObjects[8];
  21: UitdStatusInput & { flags: UitdStatusFlags };
  24: UitdOperationInput & { flags: UitdOperationFlags };
  25: InputObjects[25];
  26: InputObjects[26];
  28: InputObjects[28];
  61: ReadSystemInput;
  62: WithAddress<ReadComponentInput>;
  63: WithAddress<ReadComponentInput>;
  64: ReadFacilityOperationsInput;
  65: ReadSystemInput;
  66: ReadSystemInput;
  67: WithAddress<ReadComponentInput>;
  68: ReadSystemInput;
  81: Reserved;
  84: ReadOperationsInput;
  85: Reserved;
  86: Reserved;
  88: Reserved;
  89: Reserved;
  90: Stamped;
  91: Reserved;
}

export type SupportedAppDataType = keyof InputObjects;
export type AppDataInput = { [T in SupportedAppDataType]: { type: T; objects: readonly InputObjects[T][] } }[SupportedAppDataType];
export type AppData = { [T in SupportedAppDataType]: { type: T; objects: DecodedObjects[T][] } }[SupportedAppDataType];
export type AppDataObject<T extends SupportedAppDataType> = DecodedObjects[T];

export type AppDataRejectReason = 'empty' | 'unsupported_type' | 'bad_object_count' | 'truncated' | 'trailing_bytes';
export type DecodeAppDataResult = { ok: true; appData: AppData } | { ok: false; reason: AppDataRejectReason; detail: string };

// ---------------------------------------------------------------------------------------------
// GB 18030 text (fact 18)
// ---------------------------------------------------------------------------------------------
const gb18030 = new TextDecoder('gb18030'); // throws at import on a small-ICU Node: fail loudly at boot

/** Decode text; stops at the first NUL (GB 18030 never uses 0x00 inside a character) and trims spaces. */
export function decodeGb18030(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return gb18030.decode(nul === -1 ? bytes : bytes.subarray(0, nul)).trim();
}

let gbkTable: Map<string, number> | undefined;
/** char → 2-byte code, built once from the decoder over the GBK range (lead 0x81–0xFE, trail 0x40–0xFE ≠ 0x7F). */
function gbk(): Map<string, number> {
  if (gbkTable !== undefined) return gbkTable;
  const table = new Map<string, number>();
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      const ch = gb18030.decode(Uint8Array.of(lead, trail));
      if (ch !== '\ufffd' && !table.has(ch)) table.set(ch, (lead << 8) | trail);
    }
  }
  gbkTable = table;
  return table;
}

/** Encode text as GB 18030 (ASCII + 2-byte GBK range only; see the header). Throws RangeError otherwise. */
export function encodeGb18030(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) {
      out.push(cp);
      continue;
    }
    const code = gbk().get(ch);
    if (code === undefined) throw new RangeError(`cannot encode U+${cp.toString(16).toUpperCase()} (needs a 4-byte GB 18030 sequence)`);
    out.push(code >> 8, code & 0xff);
  }
  return Uint8Array.from(out);
}

function fixedText(text: string, size: number): Uint8Array {
  const bytes = encodeGb18030(text);
  if (bytes.length > size) throw new RangeError(`text "${text}" is ${bytes.length} B; the field holds ${size} B`);
  const out = new Uint8Array(size).fill(0x20); // pad with spaces (fact 18)
  out.set(bytes);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Byte reader / writer
// ---------------------------------------------------------------------------------------------
class Truncated extends Error {}

class Reader {
  pos = 2;
  constructor(
    readonly bytes: Uint8Array,
    readonly offsetMinutes: number,
  ) {}
  take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new Truncated();
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  u8(): number {
    return this.take(1)[0] ?? 0;
  }
  u16(): number {
    const b = this.take(2);
    return (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  }
  i16(): number {
    const v = this.u16();
    return v >= 0x8000 ? v - 0x10000 : v;
  }
  time(): Date | null {
    const r = decodeTimeTag(this.take(TIME_TAG_SIZE), 0, this.offsetMinutes);
    return r.ok ? r.time : null;
  }
  address(): DecodedComponentAddress {
    const zone = this.u16();
    const position = this.u16();
    return { zone, position, raw: zone + position * 0x10000 };
  }
  system(): SystemRef {
    return { systemType: this.u8(), systemAddress: this.u8() };
  }
  component(): WithAddress<ComponentRef> {
    return { ...this.system(), componentType: this.u8(), address: this.address() };
  }
}

class Writer {
  readonly out: number[] = [];
  constructor(readonly offsetMinutes: number) {}
  u8(v: number, name: string): void {
    int(name, v, 0, 0xff);
    this.out.push(v);
  }
  u16(v: number, name: string): void {
    int(name, v, 0, 0xffff);
    this.out.push(v & 0xff, v >> 8);
  }
  i16(v: number, name: string): void {
    int(name, v, -0x8000, 0x7fff);
    this.u16(v & 0xffff, name);
  }
  bytes(b: Uint8Array): void {
    for (const x of b) this.out.push(x);
  }
  time(t: Date | null): void {
    this.bytes(encodeTimeTag(t, this.offsetMinutes));
  }
  system(o: SystemRef): void {
    this.u8(o.systemType, 'systemType');
    this.u8(o.systemAddress, 'systemAddress');
  }
  component(o: ComponentRef): void {
    this.system(o);
    this.u8(o.componentType, 'componentType');
    this.u16(o.address.zone, 'address.zone');
    this.u16(o.address.position, 'address.position');
  }
}

function int(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} ${v} outside ${min}–${max}`);
}

// ---------------------------------------------------------------------------------------------
// Per-type codecs. `max` is the object-count cap of fact 17; `one` marks the n = 1 types.
// ---------------------------------------------------------------------------------------------
interface ObjectCodec<I, O> {
  max: number;
  one?: true;
  encode(w: Writer, o: I): void;
  decode(r: Reader): O;
}
type Codecs = { [T in SupportedAppDataType]: ObjectCodec<InputObjects[T], DecodedObjects[T]> };

const reserved: ObjectCodec<Reserved, Reserved> = {
  max: 1,
  one: true,
  encode: (w, o) => w.u8(o.reserved, 'reserved'),
  decode: (r) => ({ reserved: r.u8() }),
};
const version: ObjectCodec<SoftwareVersion, SoftwareVersion> = {
  max: 1,
  one: true,
  encode: (w, o) => (w.u8(o.major, 'major'), w.u8(o.minor, 'minor')),
  decode: (r) => ({ major: r.u8(), minor: r.u8() }),
};
const lengthPrefixedText = (w: Writer, text: string): void => {
  const bytes = encodeGb18030(text);
  w.u8(bytes.length, 'text length');
  w.bytes(bytes);
};
const stampOnly: ObjectCodec<Stamped, Stamped> = {
  max: 1,
  one: true,
  encode: (w, o) => w.time(o.time),
  decode: (r) => ({ time: r.time() }),
};

/** Reads of facility data (61–68): a system or a component named (a time tag after it is skipped by decodeAppData). */
const readSystem: ObjectCodec<ReadSystemInput, ReadSystemInput> = {
  max: 1,
  one: true,
  encode: (w, o) => w.system(o),
  decode: (r) => r.system(),
};
const readComponent: ObjectCodec<ReadComponentInput, WithAddress<ReadComponentInput>> = {
  max: 1,
  one: true,
  encode: (w, o) => (w.system(o), w.u16(o.address.zone, 'address.zone'), w.u16(o.address.position, 'address.position')),
  decode: (r) => ({ ...r.system(), address: r.address() }),
};
/** the body of each read of facility data without a time tag, for telling whether one follows */
const READ_BODY: Partial<Record<number, number>> = { 61: 2, 62: 6, 63: 6, 64: 9, 65: 2, 66: 2, 67: 6, 68: 2 };

const CODECS: Codecs = {
  1: {
    max: 102,
    encode: (w, o) => (w.system(o), w.u16(o.status, 'status'), w.time(o.time)),
    decode: (r) => {
      const sys = r.system();
      const status = r.u16();
      return { ...sys, status, flags: decodeSystemStatus(status), time: r.time() };
    },
  },
  2: {
    max: 22,
    encode: (w, o) => (w.component(o), w.u16(o.status, 'status'), w.bytes(fixedText(o.description, DESCRIPTION_SIZE)), w.time(o.time)),
    decode: (r) => {
      const comp = r.component();
      const status = r.u16();
      const description = decodeGb18030(r.take(DESCRIPTION_SIZE));
      return { ...comp, status, flags: decodeComponentStatus(status), description, time: r.time() };
    },
  },
  3: {
    max: 63,
    encode: (w, o) => (w.component(o), w.u8(o.analogType, 'analogType'), w.i16(o.value, 'value'), w.time(o.time)),
    decode: (r) => ({ ...r.component(), analogType: r.u8(), value: r.i16(), time: r.time() }),
  },
  4: {
    max: 102,
    encode: (w, o) => (w.system(o), w.u8(o.operation, 'operation'), w.u8(o.operator, 'operator'), w.time(o.time)),
    decode: (r) => {
      const sys = r.system();
      const operation = r.u8();
      return { ...sys, operation, flags: decodeFacilityOperation(operation), operator: r.u8(), time: r.time() };
    },
  },
  5: {
    max: 1,
    one: true,
    encode: (w, o) => (w.system(o), version.encode(w, o)),
    decode: (r) => ({ ...r.system(), ...version.decode(r) }),
  },
  6: {
    max: 3,
    encode: (w, o) => (w.system(o), lengthPrefixedText(w, o.text)),
    decode: (r) => ({ ...r.system(), text: decodeGb18030(r.take(r.u8())) }),
  },
  7: {
    max: 26,
    encode: (w, o) => (w.component(o), w.bytes(fixedText(o.description, DESCRIPTION_SIZE))),
    decode: (r) => ({ ...r.component(), description: decodeGb18030(r.take(DESCRIPTION_SIZE)) }),
  },
  8: {
    max: 1,
    one: true,
    encode: (w, o) => (w.system(o), w.time(o.time)),
    decode: (r) => ({ ...r.system(), time: r.time() }),
  },
  21: {
    max: 1,
    one: true,
    encode: (w, o) => (w.u8(o.status, 'status'), w.time(o.time)),
    decode: (r) => {
      const status = r.u8();
      return { status, flags: decodeUitdStatus(status), time: r.time() };
    },
  },
  24: {
    max: 127,
    encode: (w, o) => (w.u8(o.operation, 'operation'), w.u8(o.operator, 'operator'), w.time(o.time)),
    decode: (r) => {
      const operation = r.u8();
      return { operation, flags: decodeUitdOperation(operation), operator: r.u8(), time: r.time() };
    },
  },
  25: version,
  26: {
    max: 1,
    one: true,
    encode: (w, o) => lengthPrefixedText(w, o.text),
    decode: (r) => ({ text: decodeGb18030(r.take(r.u8())) }),
  },
  28: stampOnly,
  61: readSystem,
  62: readComponent,
  63: readComponent,
  64: {
    max: 1,
    one: true,
    encode: (w, o) => (w.system(o), int('count', o.count, 0, 102), w.u8(o.count, 'count'), w.time(o.startTime)),
    decode: (r) => ({ ...r.system(), count: r.u8(), startTime: r.time() }),
  },
  65: readSystem,
  66: readSystem,
  67: readComponent,
  68: readSystem,
  81: reserved,
  84: {
    max: 1,
    one: true,
    encode: (w, o) => (int('count', o.count, 0, 102), w.u8(o.count, 'count'), w.time(o.startTime)),
    decode: (r) => ({ count: r.u8(), startTime: r.time() }),
  },
  85: reserved,
  86: reserved,
  88: reserved,
  89: reserved,
  90: stampOnly,
  91: reserved,
};

function codecFor(type: number): ObjectCodec<unknown, unknown> | undefined {
  return Object.hasOwn(CODECS, type) ? (CODECS[type as SupportedAppDataType] as ObjectCodec<unknown, unknown>) : undefined;
}

export function isSupportedAppDataType(type: number): type is SupportedAppDataType {
  return codecFor(type) !== undefined;
}

/** Build an app-data unit. Throws RangeError on input no unit can carry (programmer error). */
export function encodeAppData(data: AppDataInput, offsetMinutes: number = CST_OFFSET_MINUTES): Uint8Array {
  const codec = codecFor(data.type);
  if (codec === undefined) throw new RangeError(`app-data type ${data.type} is not supported`);
  const n = data.objects.length;
  if (codec.one === true ? n !== 1 : n > codec.max) {
    throw new RangeError(`type ${data.type} carries ${codec.one === true ? 'exactly 1' : `at most ${codec.max}`} objects, got ${n} (fact 17)`);
  }
  const w = new Writer(offsetMinutes);
  w.u8(data.type, 'type');
  w.u8(n, 'count');
  for (const o of data.objects) codec.encode(w, o);
  if (w.out.length > MAX_APP_DATA) throw new RangeError(`app data ${w.out.length} B exceeds ${MAX_APP_DATA} B`);
  return Uint8Array.from(w.out);
}

/** Decode an app-data unit. An empty unit (heartbeat, confirm, deny; fact 8) is `empty`. */
export function decodeAppData(bytes: Uint8Array, offsetMinutes: number = CST_OFFSET_MINUTES): DecodeAppDataResult {
  if (bytes.length === 0) return { ok: false, reason: 'empty', detail: 'empty app-data unit' };
  const type = bytes[0] ?? 0;
  const codec = codecFor(type);
  if (codec === undefined) return { ok: false, reason: 'unsupported_type', detail: `app-data type ${type} is not supported` };
  if (bytes.length < 2) return { ok: false, reason: 'truncated', detail: 'no object count' };
  const n = bytes[1] ?? 0;
  if (codec.one === true ? n !== 1 : n > codec.max) {
    return {
      ok: false,
      reason: 'bad_object_count',
      detail: `type ${type} carries ${codec.one === true ? 'exactly 1' : `at most ${codec.max}`} objects, got ${n} (fact 17)`,
    };
  }
  const r = new Reader(bytes, offsetMinutes);
  // a read of facility data from a sender that puts a time tag after each object (fact 16a): skipped
  const body = READ_BODY[type];
  const trailingTime = body !== undefined && n > 0 && bytes.length - 2 === n * (body + TIME_TAG_SIZE);
  const objects: unknown[] = [];
  try {
    for (let i = 0; i < n; i++) {
      objects.push(codec.decode(r));
      if (trailingTime) r.take(TIME_TAG_SIZE);
    }
  } catch (e) {
    if (!(e instanceof Truncated)) throw e;
    return { ok: false, reason: 'truncated', detail: `type ${type}: ${bytes.length} B ends inside object ${objects.length + 1} of ${n}` };
  }
  if (r.pos !== bytes.length) {
    return { ok: false, reason: 'trailing_bytes', detail: `type ${type}: ${bytes.length - r.pos} B after ${n} objects` };
  }
  return { ok: true, appData: { type, objects } as AppData };
}
