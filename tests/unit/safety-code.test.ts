/** The fire-safety code's colour and reasons (services/alerts/safety-code.ts), and the public id. */
import { describe, expect, it } from 'vitest';
import { computeSafetyCode, type SafetyFacts } from '../../services/alerts/safety-code.js';
import { PUBLIC_ID_LENGTH, safetyCodePublicId } from '../../services/alerts/safety-code-service.js';
import { renderSafetyCodePage, shanghaiTime } from '../../services/api/routes/safety-code-page.js';

const facts = (f: Partial<SafetyFacts> = {}): SafetyFacts => ({
  unclosedAlerts: [],
  devices: [{ online: true, inMaintenance: false }],
  buildingInMaintenance: false,
  ...f,
});
const hazard = (rule: string, maintenance = false) => ({ class: 'hazard' as const, rule, maintenance });
const fault = (rule: string) => ({ class: 'fault' as const, rule, maintenance: false });

describe('computeSafetyCode', () => {
  it('green when every device is online and nothing is open', () => {
    const c = computeSafetyCode(facts());
    expect(c.status).toBe('green');
    expect(c.reasons.map((r) => r.code)).toEqual(['all_normal']);
    expect(c.counts).toEqual({ hazards: 0, faults: 0, offline: 0, maintenance: 0 });
  });

  it('green, saying so, for a building without devices', () => {
    const c = computeSafetyCode(facts({ devices: [] }));
    expect(c.status).toBe('green');
    expect(c.reasons[0]).toMatchObject({ code: 'no_devices', zh: '尚未接入物联网监测设备' });
  });

  it('yellow for an offline device', () => {
    const c = computeSafetyCode(facts({ devices: [{ online: true, inMaintenance: false }, { online: false, inMaintenance: false }] }));
    expect(c.status).toBe('yellow');
    expect(c.counts.offline).toBe(1);
    expect(c.reasons).toEqual([{ code: 'offline', zh: '1 台监测设备离线', en: '1 monitoring device is offline' }]);
  });

  it('yellow for an unclosed fault', () => {
    const c = computeSafetyCode(facts({ unclosedAlerts: [fault('sensor_fault'), fault('sensor_fault')] }));
    expect(c.status).toBe('yellow');
    expect(c.counts.faults).toBe(2);
    expect(c.reasons[0]).toMatchObject({ code: 'fault.sensor_fault', zh: '监测设备故障（2 处），待维修' });
  });

  it('yellow for maintenance on the building or on a device', () => {
    expect(computeSafetyCode(facts({ buildingInMaintenance: true }))).toMatchObject({
      status: 'yellow',
      counts: { maintenance: 1 },
      reasons: [{ code: 'maintenance', zh: '消防设施维护保养中' }],
    });
    expect(computeSafetyCode(facts({ devices: [{ online: true, inMaintenance: true }] })).reasons[0]).toMatchObject({ code: 'maintenance', zh: '1 台监测设备维护中' });
  });

  it('a hazard raised in maintenance is yellow, not red', () => {
    const c = computeSafetyCode(facts({ unclosedAlerts: [hazard('pressure_low', true)] }));
    expect(c.status).toBe('yellow');
    expect(c.counts.hazards).toBe(0);
    expect(c.reasons.map((r) => r.code)).toEqual(['maintenance_alerts']);
  });

  it('red for an unclosed hazard, with every reason, hazards first', () => {
    const c = computeSafetyCode(
      facts({
        unclosedAlerts: [fault('device_offline'), hazard('lane_blocked'), hazard('pressure_low'), hazard('pressure_low')],
        devices: [{ online: false, inMaintenance: false }],
      }),
    );
    expect(c.status).toBe('red');
    expect(c.counts).toEqual({ hazards: 3, faults: 1, offline: 1, maintenance: 0 });
    expect(c.reasons.map((r) => r.code)).toEqual(['hazard.lane_blocked', 'hazard.pressure_low', 'fault.device_offline', 'offline']);
    expect(c.reasons[1]).toEqual({ code: 'hazard.pressure_low', zh: '消防水压偏低（2 处），待处置', en: 'Fire-water pressure is too low (2); being handled' });
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
      reasons: [{ code: 'hazard.lane_blocked', zh: '消防车道被占用，待处置', en: 'Fire lane is blocked; being handled' }],
      updatedAt: '2026-11-29T00:00:00.000Z',
    });
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;大厦');
    expect(html).not.toContain('<script>');
    expect(html.indexOf('消防车道被占用')).toBeLessThan(html.indexOf('Fire lane is blocked'));
    expect(html).toContain('2026-11-29 08:00:00');
    expect(html).toContain('红码');
  });
});
