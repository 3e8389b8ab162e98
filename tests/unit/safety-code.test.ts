/**
 * The fire-safety code's decision table (services/safety-code/safety-code.ts), one test per row, the
 * public id, and the public page (colour, reasons, the rules in Chinese first).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeSafetyCode, type AlertFact, type DeviceFact, type SafetyFacts } from '../../services/safety-code/safety-code.js';
import { PUBLIC_ID_LENGTH, safetyCodePublicId } from '../../services/safety-code/safety-code-service.js';
import { renderSafetyCodePage, shanghaiTime } from '../../services/api/routes/safety-code-page.js';
import { requirementOf } from '../../services/coverage/coverage.js';
import { parseRectification, surveyFoundHazard } from '../../services/import/survey-csv.js';

const NOW = Date.parse('2026-11-29T00:00:00.000Z');
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const device = (d: Partial<DeviceFact> = {}): DeviceFact => ({
  id: 'd1',
  kind: 'electrical_fire',
  commissioned: true,
  online: true,
  offlineSince: null,
  maintenanceSince: null,
  ...d,
});
const facts = (f: Partial<SafetyFacts> = {}): SafetyFacts => ({
  now: NOW,
  bounds: { offlineH: 24, maintenanceH: 72 },
  requirement: null,
  unclosedAlerts: [],
  devices: [device()],
  buildingMaintenanceSince: null,
  survey: null,
  ...f,
});
/** an unclosed alert, opened a moment ago (its ack deadline still ahead) unless told */
const alert = (rule: string, a: Partial<AlertFact> = {}): AlertFact => ({
  class: rule === 'device_offline' || rule === 'sensor_fault' ? 'fault' : 'hazard',
  rule,
  severity: 'major',
  kind: 'water_pressure',
  deviceId: 'd1',
  maintenance: false,
  acknowledged: false,
  ackDeadline: iso(NOW + 30_000),
  ...a,
});
const HIGH_RISE = { reasons: ['high_rise' as const], required: ['water_pressure' as const, 'electrical_fire' as const, 'fire_lane' as const] };
const allKinds = [device({ id: 'p', kind: 'water_pressure' }), device({ id: 'e', kind: 'electrical_fire' }), device({ id: 'l', kind: 'fire_lane' })];
const codes = (f: Partial<SafetyFacts>) => computeSafetyCode(facts(f)).reasons.map((r) => r.code);

describe('decision table: red', () => {
  it('fire evidence: residual_current_high, temperature_high and a fire detector\'s device_alarm are red whatever the severity', () => {
    for (const a of [
      alert('residual_current_high', { kind: 'electrical_fire', severity: 'minor' }),
      alert('temperature_high', { kind: 'electrical_fire', severity: 'warning' }),
      alert('device_alarm', { kind: 'electrical_fire', severity: 'minor' }),
      alert('device_alarm', { kind: 'uitd', severity: 'minor' }),
    ]) {
      const c = computeSafetyCode(facts({ unclosedAlerts: [a] }));
      expect(c.status, a.rule).toBe('red');
      expect(c.reasons[0]).toMatchObject({ code: `hazard.${a.rule}`, level: 'red' });
    }
    expect(computeSafetyCode(facts({ unclosedAlerts: [alert('residual_current_high', { kind: 'electrical_fire' })] })).reasons[0]).toEqual({
      code: 'hazard.residual_current_high',
      level: 'red',
      zh: '电气线路剩余电流超限（电气火灾隐患），待处置',
      en: 'Residual current over the limit (electrical fire risk); being handled',
    });
  });

  it('fire evidence stays red when acknowledged ("处置中")', () => {
    const c = computeSafetyCode(facts({ unclosedAlerts: [alert('temperature_high', { kind: 'electrical_fire', acknowledged: true })] }));
    expect(c.status).toBe('red');
    expect(c.reasons[0]!.zh).toBe('电气线缆温度过高（电气火灾隐患），处置中');
  });

  it('a critical hazard is red', () => {
    expect(computeSafetyCode(facts({ unclosedAlerts: [alert('pressure_low', { severity: 'critical' })] })).status).toBe('red');
  });

  it('a major hazard not acknowledged by its deadline is red, "超时未响应"', () => {
    const c = computeSafetyCode(facts({ unclosedAlerts: [alert('pressure_low', { ackDeadline: iso(NOW - 1) })] }));
    expect(c.status).toBe('red');
    expect(c.reasons).toEqual([{ code: 'hazard.pressure_low', level: 'red', zh: '消防水压偏低，超时未响应', en: 'Fire-water pressure is too low; not answered in time' }]);
  });

  it('red outranks everything else, red reasons first', () => {
    const c = computeSafetyCode(
      facts({
        requirement: HIGH_RISE,
        unclosedAlerts: [alert('sensor_fault'), alert('lane_blocked', { kind: 'fire_lane' }), alert('pressure_low', { ackDeadline: iso(NOW - 1) }), alert('pressure_low')],
        devices: [device({ kind: 'water_pressure' })],
        survey: { hazardFound: true, rectification: null },
      }),
    );
    expect(c.status).toBe('red');
    expect(c.counts).toEqual({ hazards: 3, faults: 1, offline: 0, maintenance: 0 });
    expect(c.reasons.map((r) => [r.code, r.level])).toEqual([
      ['hazard.pressure_low', 'red'],
      ['hazard.lane_blocked', 'yellow'],
      ['fault.sensor_fault', 'yellow'],
      ['survey_hazard', 'yellow'],
      ['required_missing', 'yellow'],
    ]);
    expect(c.reasons[0]!.zh).toBe('消防水压偏低（2 处），超时未响应');
  });
});

describe('decision table: yellow', () => {
  it('a major hazard within its deadline ("待处置") or acknowledged ("处置中") is yellow', () => {
    expect(computeSafetyCode(facts({ unclosedAlerts: [alert('lane_blocked')] }))).toMatchObject({
      status: 'yellow',
      reasons: [{ code: 'hazard.lane_blocked', level: 'yellow', zh: '消防车道被占用，待处置' }],
    });
    const acked = computeSafetyCode(facts({ unclosedAlerts: [alert('pressure_low', { acknowledged: true, ackDeadline: iso(NOW - H) })] }));
    expect(acked).toMatchObject({ status: 'yellow', reasons: [{ code: 'hazard.pressure_low', zh: '消防水压偏低，处置中' }] });
  });

  it('an overflow (level_high, a warning) is yellow, not red, even past its deadline', () => {
    const c = computeSafetyCode(facts({ unclosedAlerts: [alert('level_high', { kind: 'water_level', severity: 'warning', ackDeadline: iso(NOW - H) })] }));
    expect(c.status).toBe('yellow');
    expect(c.reasons).toEqual([{ code: 'hazard.level_high', level: 'yellow', zh: '消防水池/水箱水位偏高，待处置', en: 'Fire-water tank level is too high; being handled' }]);
    expect(computeSafetyCode(facts({ unclosedAlerts: [alert('pressure_high', { severity: 'minor', ackDeadline: iso(NOW - H) })] })).status).toBe('yellow');
  });

  it('device_alarm from a sensor that is not a fire detector weighs by its severity', () => {
    expect(computeSafetyCode(facts({ unclosedAlerts: [alert('device_alarm', { kind: 'water_level', severity: 'minor' })] })).status).toBe('yellow');
  });

  it('an unclosed fault is yellow; device_offline is not counted as a fault', () => {
    const c = computeSafetyCode(facts({ unclosedAlerts: [alert('sensor_fault', { severity: 'minor' }), alert('sensor_fault', { severity: 'minor' })] }));
    expect(c.status).toBe('yellow');
    expect(c.counts.faults).toBe(2);
    expect(c.reasons[0]).toMatchObject({ code: 'fault.sensor_fault', level: 'yellow', zh: '监测设备故障（2 处），待维修' });
    expect(computeSafetyCode(facts({ unclosedAlerts: [alert('device_offline', { severity: 'minor' })] }))).toMatchObject({ status: 'green', counts: { faults: 0 } });
  });

  it('a hazard raised in maintenance is yellow, not red, while the window is within its bound', () => {
    const c = computeSafetyCode(
      facts({
        unclosedAlerts: [alert('residual_current_high', { kind: 'electrical_fire', maintenance: true })],
        devices: [device({ maintenanceSince: NOW - H })],
      }),
    );
    expect(c.status).toBe('yellow');
    expect(c.counts.hazards).toBe(0);
    expect(c.reasons.map((r) => r.code)).toEqual(['maintenance_alerts', 'maintenance']);
  });

  it('a device offline longer than SAFETY_CODE_OFFLINE_H is yellow; shorter is only noted', () => {
    const long = computeSafetyCode(facts({ devices: [device({ id: 'a' }), device({ id: 'b', online: false, offlineSince: NOW - 25 * H })] }));
    expect(long.status).toBe('yellow');
    expect(long.counts.offline).toBe(1);
    expect(long.reasons).toEqual([{ code: 'offline', level: 'yellow', zh: '1 台监测设备离线超过 24 小时', en: '1 monitoring device has been offline for more than 24 h' }]);
    const short = computeSafetyCode(facts({ devices: [device({ online: false, offlineSince: NOW - 23 * H })] }));
    expect(short.status).toBe('green');
    expect(short.reasons).toEqual([
      { code: 'all_normal', level: 'green', zh: '消防设施监测正常', en: 'All monitored fire facilities are normal' },
      { code: 'offline_recent', level: 'info', zh: '1 台监测设备暂时离线（不足 24 小时）', en: '1 monitoring device is briefly offline (less than 24 h)' },
    ]);
    // the bound is configurable
    expect(computeSafetyCode(facts({ bounds: { offlineH: 2, maintenanceH: 72 }, devices: [device({ online: false, offlineSince: NOW - 3 * H })] })).status).toBe('yellow');
  });

  it('a device offline in a maintenance window within its bound is not counted offline', () => {
    const c = computeSafetyCode(facts({ devices: [device({ online: false, offlineSince: NOW - 48 * H, maintenanceSince: NOW - 48 * H })] }));
    expect(c.reasons.map((r) => r.code)).toEqual(['maintenance', 'offline_recent']);
  });

  it('maintenance on the building or on a device is yellow', () => {
    expect(computeSafetyCode(facts({ buildingMaintenanceSince: NOW - H }))).toMatchObject({
      status: 'yellow',
      counts: { maintenance: 1 },
      reasons: [{ code: 'maintenance', level: 'yellow', zh: '消防设施维护保养中' }],
    });
    expect(computeSafetyCode(facts({ devices: [device({ maintenanceSince: NOW - H })] })).reasons[0]).toMatchObject({ code: 'maintenance', zh: '1 台监测设备维护中' });
  });

  it('a maintenance window past its bound is yellow "maintenance_overdue", and its alerts weigh as any other', () => {
    const c = computeSafetyCode(
      facts({
        unclosedAlerts: [alert('residual_current_high', { kind: 'electrical_fire', maintenance: true })],
        devices: [device({ maintenanceSince: NOW - 73 * H })],
      }),
    );
    expect(c.status).toBe('red');
    expect(c.counts.hazards).toBe(1);
    expect(c.reasons.map((r) => r.code)).toEqual(['hazard.residual_current_high', 'maintenance_overdue']);
    const b = computeSafetyCode(facts({ buildingMaintenanceSince: NOW - 73 * H }));
    expect(b).toMatchObject({ status: 'yellow', reasons: [{ code: 'maintenance_overdue', level: 'yellow', zh: '消防设施维护保养已超过 72 小时' }] });
  });

  it('survey hazards not rectified are yellow; rectified ones are only noted', () => {
    expect(computeSafetyCode(facts({ survey: { hazardFound: true, rectification: 'pending' } }))).toMatchObject({
      status: 'yellow',
      reasons: [{ code: 'survey_hazard', level: 'yellow', zh: '区消防安全排查发现隐患，尚未整改' }],
    });
    expect(computeSafetyCode(facts({ survey: { hazardFound: true, rectification: null } })).reasons[0]).toMatchObject({
      code: 'survey_hazard',
      zh: '区消防安全排查发现隐患，尚无整改完成记录',
    });
    const done = computeSafetyCode(facts({ survey: { hazardFound: true, rectification: 'rectified' } }));
    expect(done.status).toBe('green');
    expect(done.reasons.map((r) => r.code)).toEqual(['all_normal', 'survey_rectified']);
    expect(computeSafetyCode(facts({ survey: { hazardFound: false, rectification: null } })).reasons.map((r) => r.code)).toEqual(['all_normal']);
  });

  it('survey hazards outrank "not connected": yellow, with both reasons', () => {
    const c = computeSafetyCode(facts({ requirement: HIGH_RISE, devices: [], survey: { hazardFound: true, rectification: null } }));
    expect(c.status).toBe('yellow');
    expect(c.reasons.map((r) => [r.code, r.level])).toEqual([
      ['survey_hazard', 'yellow'],
      ['required_not_connected', 'grey'],
    ]);
  });

  it('a required building missing a required kind is yellow, naming it', () => {
    const c = computeSafetyCode(facts({ requirement: HIGH_RISE, devices: [device({ kind: 'electrical_fire' })] }));
    expect(c.status).toBe('yellow');
    expect(c.reasons).toEqual([
      {
        code: 'required_missing',
        level: 'yellow',
        zh: '按区消防物联网建设要求（高层建筑）应接入的监测尚缺：消防水压、消防车道',
        en: 'Monitoring the district plan requires (high-rise) is missing: fire-water pressure, fire lane',
      },
    ]);
    // a kind whose only device never reported is missing too
    expect(codes({ requirement: HIGH_RISE, devices: [...allKinds.slice(0, 2), device({ id: 'l', kind: 'fire_lane', commissioned: false, online: false })] })).toEqual([
      'required_missing',
      'devices_pending',
    ]);
  });
});

describe('decision table: grey and green', () => {
  it('a required building with no device is grey, never green', () => {
    const c = computeSafetyCode(facts({ requirement: HIGH_RISE, devices: [] }));
    expect(c.status).toBe('grey');
    expect(c.reasons).toEqual([
      { code: 'required_not_connected', level: 'grey', zh: '按区消防物联网建设要求（高层建筑）应接入监测，尚未接入', en: 'The district plan requires monitoring (high-rise); not connected yet' },
    ]);
  });

  it('a required building whose devices never reported is grey, noting them', () => {
    const c = computeSafetyCode(facts({ requirement: HIGH_RISE, devices: [device({ commissioned: false, online: false })] }));
    expect(c.status).toBe('grey');
    expect(c.reasons.map((r) => [r.code, r.level])).toEqual([
      ['required_not_connected', 'grey'],
      ['devices_pending', 'info'],
    ]);
  });

  it('a building not required and without devices is grey with its own words', () => {
    const c = computeSafetyCode(facts({ devices: [] }));
    expect(c.status).toBe('grey');
    expect(c.reasons).toEqual([
      { code: 'not_connected', level: 'grey', zh: '尚未接入物联网监测设备，本码不反映消防设施状态', en: 'No monitoring device is connected: the code cannot show the state of the fire facilities' },
    ]);
  });

  it('green needs a device that has reported and nothing else', () => {
    expect(computeSafetyCode(facts())).toEqual({
      status: 'green',
      reasons: [{ code: 'all_normal', level: 'green', zh: '消防设施监测正常', en: 'All monitored fire facilities are normal' }],
      counts: { hazards: 0, faults: 0, offline: 0, maintenance: 0 },
    });
    expect(computeSafetyCode(facts({ requirement: HIGH_RISE, devices: allKinds })).status).toBe('green');
  });
});

describe('inputs of the table', () => {
  it('requirement comes from coverage (one function)', () => {
    expect(requirementOf({ id: 'x', name: 'x', street: '大坪', use: 'office', type: 'public', heightM: 120, floors: 30, areaM2: null })).toEqual(HIGH_RISE);
    expect(requirementOf({ id: 'x', name: 'x', street: '大坪', use: 'office', type: 'public', heightM: 12, floors: 3, areaM2: 900 })).toBeUndefined();
  });

  it('survey hazards: "无" and the like are no hazard; 整改情况 parses', () => {
    for (const none of ['', '无', ' 无 ', '未发现隐患', '/', '暂无']) expect(surveyFoundHazard(none), none).toBe(false);
    expect(surveyFoundHazard(null)).toBe(false);
    expect(surveyFoundHazard('疏散通道堆放杂物')).toBe(true);
    for (const v of ['已整改', '已整改完毕', '整改完成', '是']) expect(parseRectification(v), v).toBe('rectified');
    for (const v of ['未整改', '整改中', '限期整改', '已责令限期整改', '否', '部分整改']) expect(parseRectification(v), v).toBe('pending');
    expect(parseRectification('')).toBeNull();
    expect(parseRectification('不知道')).toBe('invalid');
  });

  it('the operators\' guide (docs/operators.md) documents every reason code of the table', () => {
    const guide = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'operators.md'), 'utf8');
    const from = guide.indexOf('## 消防安全码 / Building fire-safety code');
    expect(from, 'the safety-code section of docs/operators.md').toBeGreaterThanOrEqual(0);
    const to = guide.indexOf('\n## ', from + 1);
    const section = guide.slice(from, to < 0 ? undefined : to);
    for (const code of [
      'hazard.<rule>',
      'fault.<rule>',
      'maintenance_alerts',
      'offline',
      'maintenance',
      'maintenance_overdue',
      'survey_hazard',
      'required_missing',
      'required_not_connected',
      'not_connected',
      'offline_recent',
      'devices_pending',
      'survey_rectified',
      'all_normal',
    ]) {
      expect(section, code).toContain(`\`${code}\``);
    }
  });
});

describe('public id', () => {
  it('is stable, 16 base64url characters, and depends on the secret', () => {
    const a = safetyCodePublicId('secret-1', 'laifushi');
    expect(a).toMatch(new RegExp(`^[A-Za-z0-9_-]{${PUBLIC_ID_LENGTH}}$`));
    expect(safetyCodePublicId('secret-1', 'laifushi')).toBe(a);
    expect(safetyCodePublicId('secret-2', 'laifushi')).not.toBe(a);
    expect(safetyCodePublicId('secret-1', 'laifushi2')).not.toBe(a);
  });
});

describe('public page', () => {
  it('shows Asia/Shanghai time and escapes names', () => {
    expect(shanghaiTime('2026-11-29T00:00:00.000Z')).toBe('2026-11-29 08:00:00');
    const html = renderSafetyCodePage({
      name: '<script>x</script>大厦',
      street: '解放碑',
      status: 'red',
      reasons: [{ code: 'hazard.lane_blocked', level: 'red', zh: '消防车道被占用，待处置', en: 'Fire lane is blocked; being handled' }],
      updatedAt: '2026-11-29T00:00:00.000Z',
    });
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;大厦');
    expect(html).not.toContain('<script>');
    expect(html.indexOf('消防车道被占用')).toBeLessThan(html.indexOf('Fire lane is blocked'));
    expect(html).toContain('2026-11-29 08:00:00');
    expect(html).toContain('红码');
  });

  it('documents the rules in Chinese first, with the deployment\'s bounds, and marks notes', () => {
    const html = renderSafetyCodePage(
      {
        name: '某楼',
        street: '大坪',
        status: 'grey',
        reasons: [
          { code: 'required_not_connected', level: 'grey', zh: '按区消防物联网建设要求（高层建筑）应接入监测，尚未接入', en: 'required' },
          { code: 'devices_pending', level: 'info', zh: '1 台监测设备已登记，尚未接入', en: 'pending' },
        ],
        updatedAt: '2026-11-29T00:00:00.000Z',
      },
      { offlineH: 12, maintenanceH: 48 },
    );
    expect(html).toContain('data-status="grey"');
    expect(html).toContain('灰码：未接入监测');
    for (const words of ['安全码规则', '红码 &gt; 黄码 &gt; 灰码 &gt; 绿码', '绿码：正常', '黄码：需关注', '红码：存在未处置的消防险情', '监测设备离线超过 12 小时', '超过 48 小时', '尚未整改']) {
      expect(html, words).toContain(words);
    }
    expect(html.indexOf('安全码规则')).toBeLessThan(html.indexOf('What the colours mean'));
    expect(html).toContain('<li data-code="devices_pending" data-level="info" class="note">');
    expect(html).toMatch(/<dt class="current"><span class="swatch" style="background:#6b6b6b"><\/span>灰码/);
  });
});
