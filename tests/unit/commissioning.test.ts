/**
 * Commissioning (调试, issue #17 item 6), the pure parts: when a device is in service, the safety
 * code's view of a device being commissioned, and rejection details in Chinese for the installer.
 */
import { describe, expect, it } from 'vitest';
import { computeSafetyCode, type AlertFact, type DeviceFact, type SafetyFacts } from '../../services/safety-code/safety-code.js';
import { commissioningState, DEFAULT_COMMISSIONING_MAX_H, isCommissioning } from '../../services/devices/commissioning.js';
import { rejectionDetailZh } from '../../services/telemetry/rejection-text.js';
import { validateMessage, type DeviceKind } from '../../services/telemetry/telemetry.js';

const H = 3_600_000;
const CREATED = '2026-11-29T00:00:00.000Z';
const T0 = Date.parse(CREATED);

describe('commissioningState', () => {
  it('a new device is commissioning until COMMISSIONING_MAX_H (72 h) after registration, then in service by itself', () => {
    expect(DEFAULT_COMMISSIONING_MAX_H).toBe(72);
    const d = { createdAt: CREATED, inServiceAt: null };
    expect(commissioningState(d, T0, 72)).toEqual({ inService: false, inServiceAt: null, commissioningUntil: '2026-12-02T00:00:00.000Z' });
    expect(isCommissioning(d, T0 + 72 * H - 1, 72)).toBe(true);
    expect(commissioningState(d, T0 + 72 * H, 72)).toEqual({ inService: true, inServiceAt: '2026-12-02T00:00:00.000Z', commissioningUntil: null });
    expect(isCommissioning(d, T0 + 2 * H, 1)).toBe(false);
  });

  it('put in service (or registered in service) keeps its time; a record without the field counts as in service', () => {
    expect(commissioningState({ createdAt: CREATED, inServiceAt: '2026-11-29T01:00:00.000Z' }, T0 + H, 72)).toEqual({
      inService: true,
      inServiceAt: '2026-11-29T01:00:00.000Z',
      commissioningUntil: null,
    });
    expect(commissioningState({ createdAt: CREATED }, T0, 72)).toEqual({ inService: true, inServiceAt: CREATED, commissioningUntil: null });
  });
});

describe('the safety code and a device being commissioned', () => {
  const NOW = T0 + H;
  const device = (d: Partial<DeviceFact> = {}): DeviceFact => ({ id: 'd1', kind: 'water_pressure', commissioned: true, online: true, offlineSince: null, maintenanceSince: null, ...d });
  const hazard = (a: Partial<AlertFact> = {}): AlertFact => ({
    class: 'hazard', rule: 'pressure_drop', severity: 'major', kind: 'water_pressure', deviceId: 'd1', maintenance: false, acknowledged: false, ackDeadline: null, ...a,
  });
  const facts = (f: Partial<SafetyFacts>): SafetyFacts => ({
    now: NOW, bounds: { offlineH: 24, maintenanceH: 72 }, requirement: null, unclosedAlerts: [], devices: [], buildingMaintenanceSince: null, survey: null, ...f,
  });

  it('its alerts never weigh (an installer\'s 3.2 → 0.32 does not turn the code red), it is only noted', () => {
    const c = computeSafetyCode(facts({ devices: [device({ commissioning: true })], unclosedAlerts: [hazard({ commissioning: true, severity: 'critical' })] }));
    expect(c.status).toBe('grey');
    expect(c.counts).toEqual({ hazards: 0, faults: 0, offline: 0, maintenance: 0 });
    expect(c.reasons).toEqual([
      { code: 'not_connected', level: 'grey', zh: '尚未接入物联网监测设备，本码不反映消防设施状态', en: 'No monitoring device is connected: the code cannot show the state of the fire facilities' },
      { code: 'devices_commissioning', level: 'info', zh: '1 台监测设备安装调试中，尚未投入使用', en: '1 monitoring device is being commissioned, not in service yet' },
    ]);
  });

  it('beside a device in service the code is green; the same hazard from the device in service is red', () => {
    const devices = [device({ id: 'old' }), device({ commissioning: true })];
    expect(computeSafetyCode(facts({ devices, unclosedAlerts: [hazard({ commissioning: true, severity: 'critical' })] })).status).toBe('green');
    expect(computeSafetyCode(facts({ devices, unclosedAlerts: [hazard({ deviceId: 'old', severity: 'critical' })] })).status).toBe('red');
  });
});

describe('rejection details in Chinese', () => {
  const span = { field: 'pressureMpa', unit: 'MPa', min: 0, max: 2.5, below: 0.03125, above: 0.078125 };
  const opts = { now: T0, maxClockSkewMs: 300_000, range: span };
  const zh = (kind: DeviceKind, m: unknown, channel: 'telemetry' | 'event' = 'telemetry') => {
    const r = validateMessage(kind, channel, 'd1', m, opts);
    if (r.ok) throw new Error(`accepted: ${JSON.stringify(m)}`);
    return rejectionDetailZh(r.reason, r.detail);
  };

  it('common zod issues and our own details', () => {
    expect(zh('water_pressure', { pressureMpa: '0.32' })).toBe('字段 pressureMpa 应为数值，收到的是字符串');
    expect(zh('water_pressure', { pressure: 0.32 })).toBe('缺少字段 pressureMpa（应为数值）');
    expect(zh('water_pressure', { pressureMpa: 0.3, flowing: 'yes' })).toBe('字段 flowing 应为布尔值（true/false），收到的是字符串');
    expect(zh('water_pressure', { pressureMpa: 0.3, seq: -1 })).toBe('字段 seq 应不小于 0');
    expect(zh('water_pressure', { pressureMpa: 0.3, seq: 1.5 })).toBe('字段 seq 应为整数，收到的是数值');
    expect(zh('water_pressure', { pressureMpa: 0.3, ts: '2026-11-29 08:00' })).toContain('字段 ts 不是带时区的 ISO 8601 时间');
    expect(zh('water_pressure', { pressureMpa: 3.2 })).toBe('pressureMpa=3.2 超出传感器量程 0…2.5 MPa（可接收 -0.03125…2.578125）；是否把 bar 或 kPa 的数值当作 MPa 发送了？');
    expect(zh('water_pressure', { pressureMpa: 32 })).toBe('pressureMpa=32 超出物理上可能的范围 -0.1…10（检查单位）');
    expect(zh('water_pressure', { pressureMpa: 0.3, kind: 'fire_lane' })).toBe('kind fire_lane 与设备登记的类型 water_pressure 不一致');
    expect(zh('water_pressure', { pressureMpa: 0.3, ts: T0 + 3_600_000 })).toBe('时间戳 2026-11-29T01:00:00.000Z 比服务器时间快 300 秒以上：请校准设备时钟（NTP）');
    expect(zh('electrical_fire', {})).toBe('消息须包含 residualCurrentMa 或 temperaturesC 之一');
    expect(zh('electrical_fire', { temperaturesC: [1, 2, 3, 4, 5] })).toBe('字段 temperaturesC 最多只能有 4 项');
    expect(zh('fire_lane', { occupied: 1 })).toBe('字段 occupied 应为布尔值（true/false），收到的是数值');
    expect(zh('water_pressure', { alarm: 'yes' }, 'event')).toBe('字段 alarm 应为布尔值（true/false），收到的是字符串');
    expect(rejectionDetailZh('bad_json', 'Unexpected end of JSON input')).toBe('消息不是合法的 JSON：内容不完整（缺少结尾的 } 或 ]）');
    expect(rejectionDetailZh('bad_json', 'Unexpected token \'p\', "pressure=0.3" is not valid JSON')).toBe('消息不是合法的 JSON（检查引号、逗号和括号）');
    expect(rejectionDetailZh('topic_acl', 'publish to fire/v1/other/telemetry is not allowed')).toBe('不允许发布到主题 fire/v1/other/telemetry');
    expect(rejectionDetailZh('too_large', 'payload of 70000 bytes exceeds 65536')).toBe('消息 70000 字节，超过上限 65536 字节');
    expect(rejectionDetailZh('rate_limited', 'more than 50/s (burst 500)')).toBe('每秒超过 50 条（突发上限 500 条）');
  });

  it('never shows zod\'s English: whatever the message, the Chinese has none of its words', () => {
    const bad: Array<[DeviceKind, unknown]> = [
      ['water_pressure', {}],
      ['water_pressure', { pressureMpa: null }],
      ['water_pressure', { pressureMpa: [1] }],
      ['water_pressure', { pressureMpa: 0.3, seq: 'x' }],
      ['water_pressure', { pressureMpa: 0.3, ts: true }],
      ['water_pressure', { pressureMpa: 0.3, ts: 1000 }],
      ['water_pressure', { pressureMpa: 0.3, kind: 'gas' }],
      ['water_level', { levelM: 'high' }],
      ['water_level', { levelM: 999 }],
      ['electrical_fire', { residualCurrentMa: 'x', temperaturesC: 'y' }],
      ['electrical_fire', { temperaturesC: [] }],
      ['electrical_fire', { residualCurrentMa: 1e9 }],
      ['fire_lane', {}],
      ['fire_lane', 'occupied'],
    ];
    for (const [kind, m] of bad) {
      const text = zh(kind, m);
      expect(text, JSON.stringify(m)).not.toMatch(/Invalid|expected|received|outside|must|required|Too (small|big)|is not|does not/);
      expect(text, JSON.stringify(m)).toMatch(/[\u4e00-\u9fff]/);
    }
    // an unknown form still reads in Chinese, naming the field
    expect(rejectionDetailZh('schema', 'pressureMpa: Something zod says one day')).toBe('消息格式不符合要求（字段缺失或类型错误）（字段 pressureMpa）');
  });
});
