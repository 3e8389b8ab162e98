/**
 * Issue #16 item 6: which alerts a monitoring centre sees as fires. The alert category table
 * (fire / supervisory / fault), the GB/T 26875.3 component status bits made from it (bit1 fire only
 * for fire evidence, bit4 supervisory, bit2 fault, bit0 always), the per-platform overrides and
 * their validation, the JSON uplink's `data.category`, and the documented copy of the table.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeAppData, decodeComponentStatus, encodeAppData } from '../../services/protocols/gb26875/index.js';
import { alertBits, loadStatusMap, parseStatusMap, statusWordFor } from '../../services/uplink/adapters/gb26875-status-map.js';
import { RULE_SYSTEM_ADDRESS, appDataForItem } from '../../services/uplink/adapters/gb26875-mapping.js';
import { loadConfig } from '../../services/config/config.js';
import { RULE_CLASS, RULE_IDS } from '../../services/rules/rule-types.js';
import { DEVICE_KINDS } from '../../services/telemetry/telemetry.js';
import { DEFAULT_ALERT_CATEGORIES, alertCategory } from '../../services/uplink/alert-category.js';
import { buildPayload, canonicalItem, parseMapping } from '../../services/uplink/mapping.js';
import type { UplinkItem } from '../../services/uplink/model.js';

const BIT0 = 0x0001;
const FIRE = 0x0003; // bit0 + bit1
const FAULT = 0x0005; // bit0 + bit2
const SUPERVISORY = 0x0011; // bit0 + bit4

const KIND_OF: Record<string, string> = {
  pressure_low: 'water_pressure',
  pressure_high: 'water_pressure',
  pressure_drop: 'water_pressure',
  level_low: 'water_level',
  level_high: 'water_level',
  residual_current_high: 'electrical_fire',
  temperature_high: 'electrical_fire',
  lane_blocked: 'fire_lane',
  device_offline: 'water_pressure',
  sensor_fault: 'water_level',
};

const alert = (rule: string, kind: string | null = KIND_OF[rule] ?? null, cls = (RULE_CLASS as Record<string, string>)[rule] ?? 'hazard') => ({ rule, kind, class: cls });

function item(type: UplinkItem['type'], a: { rule: string; kind: string | null; class: string }, extra: Record<string, unknown> = {}): UplinkItem {
  return {
    id: `${type}:al-1:1`,
    type,
    occurredAt: '2026-11-29T08:00:00.000Z',
    deviceId: 'dev-1',
    buildingId: 'b-1',
    street: '解放碑',
    data: { alert: { id: 'al-1', deviceId: 'dev-1', point: null, cleared: false, ...a, ...extra }, change: null },
  };
}

/** the status word as a centre decodes it from the encoded app data */
function wireStatus(i: UplinkItem, map?: Parameters<typeof appDataForItem>[1]): number {
  const units = appDataForItem(i, map);
  expect(units).toHaveLength(1);
  const back = decodeAppData(encodeAppData(units[0]!));
  expect(back.ok).toBe(true);
  return (back.ok ? (back.appData.objects[0] as any).status : -1) as number;
}

describe('default status bits (GB/T 26875.3 component status, type 2)', () => {
  it('fire evidence → bit1; water, lane and electrical-fire hazards → bit4; faults → bit2; bit0 always', () => {
    const expected: Array<[ReturnType<typeof alert>, number]> = [
      [alert('device_alarm', 'uitd'), FIRE], // a fire detector's / the UITD's fire alarm
      [alert('probable_fire', 'uitd', 'hazard'), FIRE],
      [alert('probable_fire', null, 'hazard'), FIRE],
      [alert('pressure_low'), SUPERVISORY],
      [alert('pressure_high'), SUPERVISORY],
      [alert('pressure_drop'), SUPERVISORY],
      [alert('level_low'), SUPERVISORY],
      [alert('level_high'), SUPERVISORY],
      [alert('lane_blocked'), SUPERVISORY],
      [alert('residual_current_high'), SUPERVISORY],
      [alert('temperature_high'), SUPERVISORY],
      [alert('device_alarm', 'electrical_fire'), SUPERVISORY], // GB 50116-2013 9.5: shown apart from fire alarms
      [alert('device_alarm', 'water_pressure'), SUPERVISORY],
      [alert('device_alarm', 'fire_lane'), SUPERVISORY],
      [alert('device_alarm', null), SUPERVISORY],
      [alert('device_offline'), FAULT],
      [alert('sensor_fault'), FAULT],
      [alert('sensor_fault', 'uitd'), FAULT],
      [alert('service_outage', null, 'fault'), FAULT],
    ];
    for (const [a, word] of expected) {
      expect([a, statusWordFor(a, true)]).toEqual([a, word]);
      expect(statusWordFor(a, false)).toBe(BIT0); // recovery: bit0 only
    }
  });

  it('property: of every rule and device kind, only a uitd device_alarm and probable_fire are fires', () => {
    for (const rule of [...RULE_IDS, 'probable_fire', 'some_future_hazard', 'some_future_fault']) {
      for (const kind of [...DEVICE_KINDS, null]) {
        const cls = rule === 'some_future_fault' ? 'fault' : ((RULE_CLASS as Record<string, string>)[rule] ?? 'hazard');
        const word = statusWordFor({ rule, kind, class: cls }, true);
        const flags = decodeComponentStatus(word);
        const fire = rule === 'probable_fire' || (rule === 'device_alarm' && kind === 'uitd');
        expect([rule, kind, flags.fireAlarm]).toEqual([rule, kind, fire]);
        expect(flags.normal).toBe(true); // a real alert, not a test
        expect(flags.fault).toBe(cls === 'fault');
        expect(flags.supervisory).toBe(!fire && cls !== 'fault');
        expect(word & ~0x17).toBe(0); // nothing beyond bits 0, 1, 2, 4
      }
    }
  });

  it('every rule is categorised explicitly in the table (a new rule needs a decision, not the fallback)', () => {
    for (const rule of RULE_IDS) expect(Object.keys(DEFAULT_ALERT_CATEGORIES), rule).toContain(rule);
    expect(DEFAULT_ALERT_CATEGORIES.probable_fire).toBe('fire');
    expect(RULE_SYSTEM_ADDRESS.probable_fire).toBe(12);
  });

  it('through the codec: raise, recur, clear and a fault closing as the centre decodes them', () => {
    expect(wireStatus(item('alert.raised', alert('pressure_low')))).toBe(SUPERVISORY);
    expect(appDataForItem(item('alert.updated', alert('lane_blocked')))).toEqual([]); // an update that is no recurrence
    const recurred: UplinkItem = { ...item('alert.updated', alert('lane_blocked')), data: { ...item('alert.updated', alert('lane_blocked')).data, change: { action: 'recurred' } } };
    expect(wireStatus(recurred)).toBe(SUPERVISORY);
    expect(wireStatus(item('alert.cleared', alert('pressure_low'), { cleared: true }))).toBe(BIT0);
    expect(wireStatus(item('alert.raised', alert('device_alarm', 'uitd')))).toBe(FIRE);
    expect(wireStatus(item('alert.raised', alert('device_alarm', 'electrical_fire')))).toBe(SUPERVISORY);
    expect(wireStatus(item('alert.raised', alert('device_offline')))).toBe(FAULT);
    expect(wireStatus(item('alert.closed', alert('device_offline'), { cleared: true }))).toBe(BIT0);
    // the bytes: 2-byte word, low byte first — bit4 is 0x10 in the low byte, the high byte 0
    const unit = appDataForItem(item('alert.raised', alert('residual_current_high')))[0]!;
    const bytes = encodeAppData(unit);
    const decoded = decodeAppData(bytes);
    expect(decoded.ok && (decoded.appData.objects[0] as any).status).toBe(SUPERVISORY);
    expect(Buffer.from(bytes).includes(Buffer.from([0x11, 0x00]))).toBe(true);
  });
});

describe('per-platform status map (UPLINK_GB26875_STATUS_MAP)', () => {
  it('an alert entry wins over the default table, most specific first; categories change a category\'s bits', () => {
    const m = parseStatusMap({
      alerts: { residual_current_high: 'fire', 'device_alarm/electrical_fire': ['fireAlarm', 'supervisory'], lane_blocked: ['supervisory', 'delay'] },
      categories: { supervisory: ['fault'] },
    });
    expect(statusWordFor(alert('residual_current_high'), true, m)).toBe(FIRE);
    expect(statusWordFor(alert('device_alarm', 'electrical_fire'), true, m)).toBe(0x13);
    expect(statusWordFor(alert('lane_blocked'), true, m)).toBe(0x91); // bit0 + bit4 + bit7 delay
    expect(statusWordFor(alert('pressure_low'), true, m)).toBe(FAULT); // supervisory → fault for this centre
    expect(statusWordFor(alert('device_alarm', 'uitd'), true, m)).toBe(FIRE);
    expect(statusWordFor(alert('residual_current_high'), false, m)).toBe(BIT0);
    // a platform that wants every hazard as a fire says so with one class entry
    const old = parseStatusMap({ alerts: { 'class:hazard': 'fire' } });
    expect(statusWordFor(alert('pressure_low'), true, old)).toBe(FIRE);
    expect(statusWordFor(alert('device_offline'), true, old)).toBe(FAULT);
    expect(alertBits(alert('pressure_low'), parseStatusMap({}))).toEqual(['supervisory']);
    expect(wireStatus(item('alert.raised', alert('residual_current_high')), m)).toBe(FIRE);
  });

  it('refuses unknown rules, kinds, classes, bits, categories and keys, bit0 and empty lists, naming each problem', () => {
    const err = (json: unknown) => {
      try {
        parseStatusMap(json);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(err({ alerts: { presure_low: 'fire' } })).toMatch(/^UPLINK_GB26875_STATUS_MAP: alerts\.presure_low: unknown rule "presure_low"/);
    expect(err({ alerts: { 'device_alarm/smoke': 'fire' } })).toMatch(/alerts\.device_alarm\/smoke: unknown device kind "smoke"/);
    expect(err({ alerts: { 'class:fire': 'fire' } })).toMatch(/unknown alert class "fire"/);
    expect(err({ alerts: { lane_blocked: 'alarm' } })).toMatch(/alerts\.lane_blocked: a category \(fire, supervisory, fault\) or a list of bits/);
    expect(err({ alerts: { lane_blocked: ['normal'] } })).toMatch(/alerts\.lane_blocked/);
    expect(err({ alerts: { lane_blocked: [] } })).toMatch(/alerts\.lane_blocked/);
    expect(err({ categories: { supervisory: ['bit4'] } })).toMatch(/categories\.supervisory\.0: a bit is one of fireAlarm, fault, disabled, supervisory/);
    expect(err({ categories: { supervisory: [] } })).toMatch(/categories\.supervisory: at least one bit/);
    expect(err({ categories: { hazard: ['fault'] } })).toMatch(/categories: unknown category hazard \(categories: fire, supervisory, fault\)/);
    expect(err({ alert: {} })).toMatch(/unknown key\(s\) alert \(allowed: alerts, categories\)/);
    expect(err([])).toMatch(/must be an object/);
    // several problems at once
    expect(err({ alerts: { x: 'fire', lane_blocked: 'nope' } })).toMatch(/alerts\.x: unknown rule[\s\S]*; alerts\.lane_blocked/);
  });

  it('loads a JSON file or inline JSON; a missing file or broken JSON names the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-status-map-'));
    const file = join(dir, 'centre.json');
    writeFileSync(file, JSON.stringify({ alerts: { lane_blocked: 'fault' } }));
    expect(statusWordFor(alert('lane_blocked'), true, loadStatusMap(file))).toBe(FAULT);
    expect(statusWordFor(alert('lane_blocked'), true, loadStatusMap(' {"alerts":{"lane_blocked":"fire"}}'))).toBe(FIRE);
    expect(() => loadStatusMap(join(dir, 'missing.json'))).toThrow(/^UPLINK_GB26875_STATUS_MAP .*missing\.json: ENOENT/);
    expect(() => loadStatusMap('{"alerts":')).toThrow(/^UPLINK_GB26875_STATUS_MAP \(inline JSON\): /);
    writeFileSync(file, JSON.stringify({ alerts: { lane_blocked: 'nope' } }));
    expect(() => loadStatusMap(file)).toThrow(new RegExp(`^UPLINK_GB26875_STATUS_MAP ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: alerts\\.lane_blocked`));
  });

  it('is read from the environment with the GB/T uplink', () => {
    expect(loadConfig({ UPLINK_GB26875_ADDR: '10.0.0.5:9000', UPLINK_GB26875_STATUS_MAP: '/etc/firewatch/centre.json' }).uplink.gb26875?.statusMap).toBe('/etc/firewatch/centre.json');
    expect(loadConfig({ UPLINK_GB26875_ADDR: '10.0.0.5:9000' }).uplink.gb26875).not.toHaveProperty('statusMap');
  });
});

describe('JSON uplink category (data.category)', () => {
  it('every alert item says fire, supervisory or fault; nothing else gets one', () => {
    expect(canonicalItem(item('alert.raised', alert('pressure_low'))).data.category).toBe('supervisory');
    expect(canonicalItem(item('alert.raised', alert('lane_blocked'))).data.category).toBe('supervisory');
    expect(canonicalItem(item('alert.raised', alert('residual_current_high'))).data.category).toBe('supervisory');
    expect(canonicalItem(item('alert.raised', alert('device_alarm', 'uitd'))).data.category).toBe('fire');
    expect(canonicalItem(item('alert.cleared', alert('device_alarm', 'uitd'), { cleared: true })).data.category).toBe('fire');
    expect(canonicalItem(item('alert.raised', alert('device_offline'))).data.category).toBe('fault');
    const reading: UplinkItem = { id: 'reading:x', type: 'reading', occurredAt: '2026-11-29T08:00:00.000Z', deviceId: 'd', buildingId: null, street: null, data: { kind: 'water_pressure', fields: {} } };
    expect(canonicalItem(reading).data).not.toHaveProperty('category');
    // the stored item is not changed
    const i = item('alert.raised', alert('pressure_low'));
    canonicalItem(i);
    expect(i.data).not.toHaveProperty('category');
  });

  it('an HTTP mapping file overrides categories per platform and may rename the values', () => {
    const mapping = parseMapping({
      format: 'firewatch.uplink/v1',
      categories: { residual_current_high: 'fire' },
      values: { 'data.category': { fire: 'FIRE_ALARM', supervisory: 'SUPERVISE', fault: 'FAULT' } },
    });
    const items = [item('alert.raised', alert('residual_current_high')), item('alert.raised', alert('pressure_low'))].map((i) => canonicalItem(i, mapping.categories));
    const body = buildPayload(items, new Date(0), mapping) as { items: any[] };
    expect(body.items.map((i) => i.data.category)).toEqual(['FIRE_ALARM', 'SUPERVISE']);
    expect(() => parseMapping({ format: 'firewatch.uplink/v1', categories: { lane_blocked: 'hazard' } })).toThrow(/categories\.lane_blocked: must be one of fire, supervisory, fault/);
    expect(() => parseMapping({ format: 'firewatch.uplink/v1', categories: { lanes_blocked: 'fault' } })).toThrow(/categories\.lanes_blocked: unknown rule "lanes_blocked"/);
    expect(alertCategory(alert('pressure_low'), { 'class:hazard': 'fire' })).toBe('fire');
  });
});

describe('the documented table', () => {
  it('docs/uplink-format.md "Alert categories" lists exactly the default table', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'uplink-format.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Alert categories'), doc.indexOf('## Field mapping'));
    const documented: Record<string, string> = {};
    for (const line of section.split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      if (cells.length < 4 || !cells[1]!.startsWith('`')) continue;
      for (const m of cells[1]!.matchAll(/`([^`]+)`/g)) documented[m[1]!] = cells[2]!;
      const bits = { fire: 'bit1', supervisory: 'bit4', fault: 'bit2' }[cells[2]!];
      expect(cells[3], line).toContain(bits);
    }
    expect(documented).toEqual({ ...DEFAULT_ALERT_CATEGORIES });
  });
});
