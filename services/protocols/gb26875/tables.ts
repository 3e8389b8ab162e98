/**
 * GB/T 26875.3-2011 code tables: system types, component types, analog value types and the
 * status / operation bit fields. Pure data plus lookups; no I/O.
 *
 * Names carry Chinese beside English because duty staff read Chinese. Chinese text follows the
 * standard's wording as reproduced in G2 (docs/standards.md "Sources"), with G2's known typos fixed
 * (noted where they occur).
 *
 * Caution (fact 28): some regions run a newer protocol variant with different tables and
 * 1-byte event codes. These tables are the 2011 ones only; choose tables per protocol version
 * and region before trusting a name.
 */

export interface Name {
  readonly en: string;
  readonly zh: string;
}

/** A looked-up code: its name and whether the 2011 table defines it. */
export interface CodeName extends Name {
  readonly code: number;
  /** 'defined' in the 2011 table, else 'reserved' or 'user_defined' (128–255). */
  readonly kind: 'defined' | 'reserved' | 'user_defined';
}

const RESERVED: Name = { en: 'reserved', zh: '预留' };
const USER_DEFINED: Name = { en: 'user-defined', zh: '用户自定义' };

function lookup(table: ReadonlyMap<number, Name>, code: number): CodeName {
  const name = table.get(code);
  if (name !== undefined) return { code, kind: 'defined', ...name };
  if (code >= 128) return { code, kind: 'user_defined', ...USER_DEFINED };
  return { code, kind: 'reserved', ...RESERVED };
}

// ---------------------------------------------------------------------------------------------
// System types (系统类型), fact §1.7. Codes 2–9 and 25–127 reserved; 128–255 user-defined.
// Vendors put electrical-fire and pipe-pressure systems at user-defined codes (e.g. 0x81, 0x83).
// ---------------------------------------------------------------------------------------------
export const SYSTEM_TYPES: ReadonlyMap<number, Name> = new Map<number, Name>([
  [0, { en: 'general', zh: '通用' }],
  [1, { en: 'fire alarm system', zh: '火灾报警系统' }],
  [10, { en: 'fire linkage controller', zh: '消防联动控制器' }],
  [11, { en: 'hydrant system', zh: '消火栓系统' }],
  [12, { en: 'automatic sprinkler system', zh: '自动喷水灭火系统' }],
  [13, { en: 'gas extinguishing system', zh: '气体灭火系统' }],
  [14, { en: 'water spray system (pump-started)', zh: '水喷雾灭火系统（泵启动方式）' }],
  [15, { en: 'water spray system (pressure-vessel-started)', zh: '水喷雾灭火系统（压力容器启动方式）' }],
  [16, { en: 'foam extinguishing system', zh: '泡沫灭火系统' }],
  [17, { en: 'dry powder extinguishing system', zh: '干粉灭火系统' }],
  [18, { en: 'smoke control and exhaust system', zh: '防烟排烟系统' }],
  [19, { en: 'fire doors and shutters system', zh: '防火门及卷帘系统' }],
  [20, { en: 'fire elevator', zh: '消防电梯' }],
  [21, { en: 'emergency broadcast', zh: '消防应急广播' }],
  [22, { en: 'emergency lighting and evacuation signs', zh: '消防应急照明和疏散指示系统' }],
  // G2 prints 23 as 消防电梯 (a duplicate of 20); G1 and G5 give fire power supply (§1.7 note).
  [23, { en: 'fire power supply', zh: '消防电源' }],
  [24, { en: 'fire telephone', zh: '消防电话' }],
]);

export function systemTypeName(code: number): CodeName {
  return lookup(SYSTEM_TYPES, code);
}

// ---------------------------------------------------------------------------------------------
// Component types (部件类型), fact §1.8 (full 2011 list as reproduced in G2).
// No 2011 code exists for hydrant pressure sensors or fire-lane sensors: vendors use ≥128.
// ---------------------------------------------------------------------------------------------
export const COMPONENT_TYPES: ReadonlyMap<number, Name> = new Map<number, Name>([
  [0, { en: 'general', zh: '通用' }],
  [1, { en: 'fire alarm controller', zh: '火灾报警控制器' }],
  [10, { en: 'combustible gas detector', zh: '可燃气体探测器' }],
  [11, { en: 'point combustible gas detector', zh: '点型可燃气体探测器' }],
  [12, { en: 'stand-alone combustible gas detector', zh: '独立式可燃气体探测器' }],
  [13, { en: 'line combustible gas detector', zh: '线型可燃气体探测器' }],
  [16, { en: 'electrical-fire monitoring alarm unit', zh: '电气火灾监控报警器' }],
  [17, { en: 'residual-current electrical-fire monitoring detector', zh: '剩余电流式电气火灾监控探测器' }],
  [18, { en: 'temperature-sensing electrical-fire monitoring detector', zh: '测温式电气火灾监控探测器' }],
  [21, { en: 'detection loop', zh: '探测回路' }],
  [22, { en: 'fire display panel', zh: '火灾显示盘' }],
  [23, { en: 'manual call point', zh: '手动火灾报警按钮' }],
  // G2 writes 消防栓按钮; the standard term is 消火栓按钮.
  [24, { en: 'hydrant button', zh: '消火栓按钮' }],
  [25, { en: 'fire detector', zh: '火灾探测器' }],
  [30, { en: 'heat detector', zh: '感温火灾探测器' }],
  [31, { en: 'point heat detector', zh: '点型感温火灾探测器' }],
  [32, { en: 'point heat detector (S type)', zh: '点型感温火灾探测器（S型）' }],
  [33, { en: 'point heat detector (R type)', zh: '点型感温火灾探测器（R型）' }],
  [34, { en: 'line heat detector', zh: '线型感温火灾探测器' }],
  [35, { en: 'line heat detector (S type)', zh: '线型感温火灾探测器（S型）' }],
  [36, { en: 'line heat detector (R type)', zh: '线型感温火灾探测器（R型）' }],
  [37, { en: 'optical-fibre heat detector', zh: '光纤感温火灾探测器' }],
  [40, { en: 'smoke detector', zh: '感烟火灾探测器' }],
  [41, { en: 'point ionisation smoke detector', zh: '点型离子感烟火灾探测器' }],
  [42, { en: 'point photoelectric smoke detector', zh: '点型光电感烟火灾探测器' }],
  [43, { en: 'linear beam smoke detector', zh: '线型光束感烟火灾探测器' }],
  [44, { en: 'aspirating smoke detector', zh: '吸气式感烟火灾探测器' }],
  [50, { en: 'multi-sensor fire detector', zh: '复合式火灾探测器' }],
  [51, { en: 'multi-sensor smoke/heat detector', zh: '复合式感烟感温火灾探测器' }],
  [52, { en: 'multi-sensor flame/heat detector', zh: '复合式感光感温火灾探测器' }],
  [53, { en: 'multi-sensor flame/smoke detector', zh: '复合式感光感烟火灾探测器' }],
  // G2 writes 紫外火灾探测器 for 61; the detector standard's term is 紫外火焰探测器.
  [61, { en: 'ultraviolet flame detector', zh: '紫外火焰探测器' }],
  [62, { en: 'infrared flame detector', zh: '红外火焰探测器' }],
  [69, { en: 'optical flame detector', zh: '感光火灾探测器' }],
  [74, { en: 'gas detector', zh: '气体探测器' }],
  [78, { en: 'video-based fire detector', zh: '图像摄像方式火灾探测器' }],
  [79, { en: 'acoustic fire detector', zh: '感声火灾探测器' }],
  [81, { en: 'gas-extinguishing controller', zh: '气体灭火控制器' }],
  [82, { en: 'fire electrical control device', zh: '消防电气控制装置' }],
  [83, { en: 'fire control room graphic display', zh: '消防控制室图形显示装置' }],
  [84, { en: 'module', zh: '模块' }],
  [85, { en: 'input module', zh: '输入模块' }],
  [86, { en: 'output module', zh: '输出模块' }],
  [87, { en: 'input/output module', zh: '输入/输出模块' }],
  [88, { en: 'relay module', zh: '中继模块' }],
  [91, { en: 'fire pump', zh: '消防水泵' }],
  [92, { en: 'fire water tank', zh: '消防水箱' }],
  [95, { en: 'sprinkler pump', zh: '喷淋泵' }],
  [96, { en: 'water-flow indicator', zh: '水流指示器' }],
  [97, { en: 'signal valve', zh: '信号阀' }],
  [98, { en: 'alarm valve', zh: '报警阀' }],
  [99, { en: 'pressure switch', zh: '压力开关' }],
  [101, { en: 'valve actuator', zh: '阀驱动装置' }],
  [102, { en: 'fire door', zh: '防火门' }],
  [103, { en: 'fire damper', zh: '防火阀' }],
  [104, { en: 'HVAC', zh: '通风空调' }],
  [105, { en: 'foam pump', zh: '泡沫液泵' }],
  [106, { en: 'pipe-network solenoid valve', zh: '管网电磁阀' }],
  [111, { en: 'smoke control fan', zh: '防烟排烟风机' }],
  [113, { en: 'smoke-exhaust fire damper', zh: '排烟防火阀' }],
  [114, { en: 'normally-closed air inlet', zh: '常闭送风口' }],
  [115, { en: 'smoke outlet', zh: '排烟口' }],
  [116, { en: 'electric smoke curtain', zh: '电控挡烟垂壁' }],
  [117, { en: 'fire shutter controller', zh: '防火卷帘控制器' }],
  [118, { en: 'fire door monitor', zh: '防火门监控器' }],
  [121, { en: 'alarm device', zh: '报警装置' }],
]);

export function componentTypeName(code: number): CodeName {
  return lookup(COMPONENT_TYPES, code);
}

// ---------------------------------------------------------------------------------------------
// Analog value types (模拟量类型), fact §1.10. The value is a signed 16-bit integer; the
// engineering value is raw × resolution. Resolution is stored as a divisor (raw / 10^k) so that
// raw 700 at 0.1 kPa gives exactly 70, not 70.00000000000001.
// Type 5 is kPa at 0.1 kPa (G2 prints "0.1Mpa", a typo; G1 and G5 agree on kPa).
// ---------------------------------------------------------------------------------------------
export type AnalogQuantity =
  | 'event_count'
  | 'level'
  | 'temperature'
  | 'pressure'
  | 'gas_concentration'
  | 'time'
  | 'voltage'
  | 'current'
  | 'flow'
  | 'air_volume'
  | 'wind_speed';

export interface AnalogType {
  readonly code: number;
  readonly quantity: AnalogQuantity;
  readonly name: Name;
  readonly unit: string;
  /** engineering value = raw / divisor */
  readonly divisor: 1 | 10 | 100;
  /** smallest step in engineering units (1 / divisor) */
  readonly resolution: number;
  /** valid range in engineering units */
  readonly min: number;
  readonly max: number;
}

function analog(
  code: number,
  quantity: AnalogQuantity,
  name: Name,
  unit: string,
  divisor: 1 | 10 | 100,
  min: number,
  max: number,
): AnalogType {
  return { code, quantity, name, unit, divisor, resolution: 1 / divisor, min, max };
}

export const ANALOG_TYPES: ReadonlyMap<number, AnalogType> = new Map<number, AnalogType>([
  [1, analog(1, 'event_count', { en: 'event count', zh: '事件计数' }, 'items', 1, 0, 32000)],
  [2, analog(2, 'level', { en: 'height / level', zh: '高度' }, 'm', 100, 0, 320)],
  [3, analog(3, 'temperature', { en: 'temperature', zh: '温度' }, '°C', 10, -273, 3200)],
  [4, analog(4, 'pressure', { en: 'pressure', zh: '压力' }, 'MPa', 10, 0, 3200)],
  [5, analog(5, 'pressure', { en: 'pressure', zh: '压力' }, 'kPa', 10, 0, 3200)],
  [6, analog(6, 'gas_concentration', { en: 'gas concentration', zh: '气体浓度' }, '%LEL', 10, 0, 100)],
  [7, analog(7, 'time', { en: 'time', zh: '时间' }, 's', 1, 0, 32000)],
  [8, analog(8, 'voltage', { en: 'voltage', zh: '电压' }, 'V', 10, 0, 3200)],
  [9, analog(9, 'current', { en: 'current', zh: '电流' }, 'A', 10, 0, 3200)],
  [10, analog(10, 'flow', { en: 'flow', zh: '流量' }, 'L/s', 10, 0, 3200)],
  [11, analog(11, 'air_volume', { en: 'air volume', zh: '风量' }, 'm³/min', 10, 0, 3200)],
  [12, analog(12, 'wind_speed', { en: 'wind speed', zh: '风速' }, 'm/s', 1, 0, 20)],
]);

export type EngineeringResult =
  | {
      ok: true;
      quantity: AnalogQuantity;
      unit: string;
      value: number;
      /** false when the value lies outside the table's valid range (fact §1.10) */
      inRange: boolean;
      type: AnalogType;
    }
  | { ok: false; reason: 'unused_type' | 'reserved_type' | 'user_defined_type'; detail: string };

/**
 * Raw int16 → engineering value. Codes ≥128 are vendor-private (fact §1.10 notes: G6 sends
 * electrical-fire readings under undocumented private codes), so they need a per-vendor mapping
 * and are returned as `user_defined_type` here rather than guessed.
 */
export function analogToEngineering(code: number, raw: number): EngineeringResult {
  const type = ANALOG_TYPES.get(code);
  if (type === undefined) {
    if (code === 0) return { ok: false, reason: 'unused_type', detail: 'analog type 0 is "unused"' };
    if (code >= 128) {
      return { ok: false, reason: 'user_defined_type', detail: `analog type ${code} is vendor-defined; map it per vendor` };
    }
    return { ok: false, reason: 'reserved_type', detail: `analog type ${code} is reserved in GB/T 26875.3-2011` };
  }
  const value = raw / type.divisor;
  return { ok: true, quantity: type.quantity, unit: type.unit, value, inRange: value >= type.min && value <= type.max, type };
}

// ---------------------------------------------------------------------------------------------
// Bit fields, facts 20–23. Each table lists [flag name, bit, Chinese label].
// ---------------------------------------------------------------------------------------------
type BitTable<K extends string> = readonly (readonly [K, number, string])[];

function decodeBits<K extends string>(table: BitTable<K>, word: number): Record<K, boolean> {
  const out = {} as Record<K, boolean>;
  for (const [name, bit] of table) out[name] = ((word >>> bit) & 1) === 1;
  return out;
}

function encodeBits<K extends string>(table: BitTable<K>, flags: Partial<Record<K, boolean>>): number {
  let word = 0;
  for (const [name, bit] of table) if (flags[name] === true) word |= 1 << bit;
  return word;
}

/** Chinese labels of the set bits, for duty-staff display. */
function labels<K extends string>(table: BitTable<K>, word: number): string[] {
  return table.filter(([, bit]) => ((word >>> bit) & 1) === 1).map(([, , zh]) => zh);
}

/** Bits 0–7, shared by system status (fact 20) and component status (fact 21). */
const COMMON_STATUS_BITS = [
  ['normal', 0, '正常运行'], // 0 = test mode
  ['fireAlarm', 1, '火警'],
  ['fault', 2, '故障'],
  ['disabled', 3, '屏蔽'],
  ['supervisory', 4, '监管'],
  ['started', 5, '启动'], // 0 = stopped/closed
  ['feedback', 6, '反馈'],
  ['delay', 7, '延时'],
] as const;

/** System status word, fact 20. Bits 14–15 reserved. */
export const SYSTEM_STATUS_BITS = [
  ...COMMON_STATUS_BITS,
  ['mainPowerFault', 8, '主电故障'],
  ['backupPowerFault', 9, '备电故障'],
  ['busFault', 10, '总线故障'],
  ['manual', 11, '手动'], // 0 = automatic
  ['configChanged', 12, '配置改变'],
  ['reset', 13, '复位'],
] as const;
export type SystemStatusFlags = Record<(typeof SYSTEM_STATUS_BITS)[number][0], boolean>;

/** Component status word, fact 21: bits 0–7 as system status, bit 8 power fault, 9–15 reserved. */
export const COMPONENT_STATUS_BITS = [...COMMON_STATUS_BITS, ['powerFault', 8, '电源故障']] as const;
export type ComponentStatusFlags = Record<(typeof COMPONENT_STATUS_BITS)[number][0], boolean>;

/** UITD running status byte (type 21), fact 22. Bit 7 reserved. */
export const UITD_STATUS_BITS = [
  ['normal', 0, '正常监视'], // 0 = test
  ['fireAlarm', 1, '火警'],
  ['fault', 2, '故障'],
  ['mainPowerFault', 3, '主电故障'],
  ['backupPowerFault', 4, '备电故障'],
  ['centreLinkFault', 5, '与监控中心通信信道故障'],
  ['monitoringLineFault', 6, '监测连接线路故障'],
] as const;
export type UitdStatusFlags = Record<(typeof UITD_STATUS_BITS)[number][0], boolean>;

/** Building-facility operation flags (type 4), fact 23. Bit 7 reserved. */
export const FACILITY_OPERATION_BITS = [
  ['reset', 0, '复位'],
  ['silence', 1, '消音'],
  ['manualAlarm', 2, '手动报警'],
  ['alarmCleared', 3, '报警消除'],
  ['selfTest', 4, '自检'],
  ['confirm', 5, '确认'],
  ['test', 6, '测试'],
] as const;
export type FacilityOperationFlags = Record<(typeof FACILITY_OPERATION_BITS)[number][0], boolean>;

/** UITD operation flags (type 24), fact 23: as type 4 but bit 5 = duty check answered. */
export const UITD_OPERATION_BITS = [
  ['reset', 0, '复位'],
  ['silence', 1, '消音'],
  ['manualAlarm', 2, '手动报警'],
  ['alarmCleared', 3, '警情消除'],
  ['selfTest', 4, '自检'],
  ['dutyCheckAnswered', 5, '查岗应答'],
  ['test', 6, '测试'],
] as const;
export type UitdOperationFlags = Record<(typeof UITD_OPERATION_BITS)[number][0], boolean>;

export const decodeSystemStatus = (word: number): SystemStatusFlags => decodeBits(SYSTEM_STATUS_BITS, word);
export const decodeComponentStatus = (word: number): ComponentStatusFlags => decodeBits(COMPONENT_STATUS_BITS, word);
export const decodeUitdStatus = (byte: number): UitdStatusFlags => decodeBits(UITD_STATUS_BITS, byte);
export const decodeFacilityOperation = (byte: number): FacilityOperationFlags =>
  decodeBits(FACILITY_OPERATION_BITS, byte);
export const decodeUitdOperation = (byte: number): UitdOperationFlags => decodeBits(UITD_OPERATION_BITS, byte);

export const encodeSystemStatus = (flags: Partial<SystemStatusFlags>): number => encodeBits(SYSTEM_STATUS_BITS, flags);
export const encodeComponentStatus = (flags: Partial<ComponentStatusFlags>): number =>
  encodeBits(COMPONENT_STATUS_BITS, flags);
export const encodeUitdStatus = (flags: Partial<UitdStatusFlags>): number => encodeBits(UITD_STATUS_BITS, flags);
export const encodeFacilityOperation = (flags: Partial<FacilityOperationFlags>): number =>
  encodeBits(FACILITY_OPERATION_BITS, flags);
export const encodeUitdOperation = (flags: Partial<UitdOperationFlags>): number => encodeBits(UITD_OPERATION_BITS, flags);

export const systemStatusLabels = (word: number): string[] => labels(SYSTEM_STATUS_BITS, word);
export const componentStatusLabels = (word: number): string[] => labels(COMPONENT_STATUS_BITS, word);
export const uitdStatusLabels = (byte: number): string[] => labels(UITD_STATUS_BITS, byte);
