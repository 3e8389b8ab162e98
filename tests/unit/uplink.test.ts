/**
 * Pure parts of the platform uplink: backoff with jitter, the "firewatch.uplink/v1" payload and
 * its field mapping, the MQTT topic template, the GB/T 26875.3 item mapping and the vendor analog
 * mapping. Property tests use a seeded generator (no new dependency).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAppData, encodeAppData } from '../../services/protocols/gb26875/index.js';
import { RULE_SYSTEM_ADDRESS, alertState, appDataForItem, componentAddressFor } from '../../services/uplink/adapters/gb26875-mapping.js';
import { parseVendorMapping, vendorAnalog } from '../../gateway/gb26875/vendor-mapping.js';
import { loadConfig } from '../../services/config/config.js';
import { backoffDelay, nominalDelay } from '../../services/shared/backoff.js';
import { buildPayload, getPath, mapItem, parseMapping } from '../../services/uplink/mapping.js';
import type { UplinkItem } from '../../services/uplink/model.js';
import { renderTopic } from '../../services/uplink/adapters/mqtt-adapter.js';
import { signBody } from '../../services/uplink/adapters/http-adapter.js';
import { itemFromReading } from '../../services/uplink/uplink-service.js';
import { Prng } from '../../simulators/prng.js';

/** the simulators' seeded mulberry32, as a plain function */
const prng = (seed: number): (() => number) => {
  const r = new Prng(seed);
  return () => r.next();
};

const alertItem = (type: UplinkItem['type'], alert: Record<string, unknown>, change: Record<string, unknown> | null = null): UplinkItem => ({
  id: `${type}:al-1:7`,
  type,
  occurredAt: '2026-11-29T08:00:00.000Z',
  deviceId: 'lfs-hydrant-top-t1',
  buildingId: 'laifushi',
  street: '朝天门',
  data: { alert: { id: 'al-1', deviceId: 'lfs-hydrant-top-t1', kind: 'water_pressure', point: 'hydrant_top', rule: 'pressure_low', class: 'hazard', cleared: false, ...alert }, change },
});

describe('backoff', () => {
  it('doubles from the minimum up to the maximum', () => {
    const p = { minMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => nominalDelay(a, p))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    expect(nominalDelay(10_000, p)).toBe(60_000);
    expect(nominalDelay(0, p)).toBe(1000);
  });

  it('property: the jittered delay lies in [nominal/2, nominal] and is not always the same', () => {
    const rnd = prng(11);
    const p = { minMs: 500, maxMs: 300_000 };
    for (let i = 0; i < 2000; i++) {
      const attempt = 1 + Math.floor(rnd() * 40);
      const d = backoffDelay(attempt, p, rnd);
      const n = nominalDelay(attempt, p);
      expect(d).toBeGreaterThanOrEqual(n / 2);
      expect(d).toBeLessThanOrEqual(n);
    }
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(5, p, rnd)));
    expect(spread.size).toBeGreaterThan(10);
    expect(backoffDelay(3, p, () => 0)).toBe(1000);
    expect(backoffDelay(3, p, () => 1)).toBe(2000);
  });
});

describe('payload and field mapping', () => {
  const item = alertItem('alert.raised', { severity: 'major', message: { zh: '低压', en: 'low' } });

  it('the canonical payload is versioned and carries the items unchanged', () => {
    const body = buildPayload([item], new Date('2026-11-29T00:00:00Z'), undefined);
    expect(body).toEqual({ version: 'firewatch.uplink/v1', sentAt: '2026-11-29T00:00:00.000Z', items: [item] });
  });

  it('renames and selects fields, translates values, adds constants, renames the envelope', () => {
    const mapping = parseMapping({
      format: 'firewatch.uplink/v1',
      envelope: { items: 'data.records', version: 'ver' },
      fields: { id: 'msgId', type: 'alarm.kind', 'data.alert.severity': 'alarm.level', 'data.alert.message.zh': 'content', street: 'street' },
      values: { type: { 'alert.raised': 'ALARM' }, 'data.alert.severity': { major: 2 } },
      constants: { 'source.code': 'YZ-FW' },
    });
    const body = buildPayload([item], new Date(0), mapping);
    expect(body).toEqual({
      ver: 'firewatch.uplink/v1',
      sentAt: '1970-01-01T00:00:00.000Z',
      data: { records: [{ msgId: item.id, alarm: { kind: 'ALARM', level: 2 }, content: '低压', street: '朝天门', source: { code: 'YZ-FW' } }] },
    });
    expect(item.data.alert).toMatchObject({ severity: 'major' }); // input untouched
  });

  it('keepUnmapped keeps the rest and moves only the listed fields; types filters', () => {
    const mapping = parseMapping({ format: 'firewatch.uplink/v1', fields: { deviceId: 'deviceCode' }, keepUnmapped: true, types: ['reading'] });
    const out = mapItem(item, mapping);
    expect(out.deviceCode).toBe('lfs-hydrant-top-t1');
    expect(out).not.toHaveProperty('deviceId');
    expect(out.buildingId).toBe('laifushi');
    expect((buildPayload([item], new Date(0), mapping).items as unknown[]).length).toBe(0);
  });

  it('refuses a mapping for another format version or with unknown keys, listing the problems', () => {
    expect(() => parseMapping({ format: 'firewatch.uplink/v2' })).toThrow(/format/);
    expect(() => parseMapping({ format: 'firewatch.uplink/v1', rename: {} })).toThrow(/rename|Unrecognized/i);
    expect(() => parseMapping({ format: 'firewatch.uplink/v1', fields: { 'a..b': 'x' } })).toThrow(/fields\.a\.\.b: a dot path such as data\.alert\.severity/);
  });

  it('property: with every canonical leaf mapped to a new name, each value arrives under it', () => {
    const rnd = prng(3);
    for (let n = 0; n < 200; n++) {
      const leaves = ['id', 'type', 'occurredAt', 'deviceId', 'buildingId', 'street', 'data.alert.rule', 'data.alert.severity'];
      const chosen = leaves.filter(() => rnd() < 0.6);
      const fields = Object.fromEntries(chosen.map((l, i) => [l, `f${i}.${l.replace(/\./g, '_')}`]));
      const m = parseMapping({ format: 'firewatch.uplink/v1', fields });
      const out = mapItem(item, m);
      for (const [src, dst] of Object.entries(fields)) expect(getPath(out, dst)).toEqual(getPath(item, src));
      expect(Object.keys(out).length).toBe(new Set(Object.values(fields).map((d) => d.split('.')[0])).size);
    }
  });

  it('HMAC signature over `${t}.${body}`', () => {
    expect(signBody('k', '{}', 1700000000)).toBe(`t=1700000000,v1=${createHmac('sha256', 'k').update('1700000000.{}').digest('hex')}`);
    expect(signBody('k', '{}', 1)).not.toBe(signBody('k', '{}', 2));
    expect(signBody('k', '{}', 1)).toMatch(/^t=1,v1=[0-9a-f]{64}$/);
  });
});

describe('idempotency keys', () => {
  it('readings with a seq have a deterministic key; without one a unique key', () => {
    const r = { deviceId: 'd1', kind: 'water_pressure' as const, channel: 'telemetry' as const, ts: 1000, seq: 5, fields: { pressureMpa: 0.2 } };
    expect(itemFromReading(r).id).toBe('reading:d1:telemetry:5:1000');
    expect(itemFromReading(r).id).toBe(itemFromReading(r).id);
    const { seq: _s, ...noSeq } = r;
    expect(itemFromReading(noSeq).id).not.toBe(itemFromReading(noSeq).id);
  });
});

describe('MQTT topic template', () => {
  it('fills placeholders, `_` for missing values, never adds a topic level', () => {
    const item = alertItem('alert.cleared', {});
    expect(renderTopic('yuzhong/fire/{type}/{buildingId}', item)).toBe('yuzhong/fire/alert.cleared/laifushi');
    expect(renderTopic('x/{deviceId}/{street}', { ...item, deviceId: 'a/b+#', street: null })).toBe('x/a_b__/_');
  });
});

describe('GB/T 26875.3 uplink mapping', () => {
  it('alert raised → component status bit0 + its bits (a low pressure: bit4 supervisory, not bit1); cleared → bit0; acks send nothing', () => {
    const raised = appDataForItem(alertItem('alert.raised', {}));
    expect(raised).toHaveLength(1);
    const o = raised[0]!.objects[0] as any;
    expect(raised[0]!.type).toBe(2);
    expect(o).toMatchObject({ systemType: 11, componentType: 128, systemAddress: RULE_SYSTEM_ADDRESS.pressure_low, status: 0b1_0001, address: componentAddressFor('lfs-hydrant-top-t1') });
    expect((appDataForItem(alertItem('alert.cleared', { cleared: true }))[0]!.objects[0] as any).status).toBe(0b001);
    expect(alertState(alertItem('alert.raised', { class: 'fault', rule: 'sensor_fault' }))).toBe('raise');
    expect((appDataForItem(alertItem('alert.raised', { class: 'fault', rule: 'sensor_fault' }))[0]!.objects[0] as any).status).toBe(0b101);
    expect(alertState(alertItem('alert.closed', { class: 'fault', rule: 'sensor_fault', cleared: true }))).toBe('recover');
    expect(alertState(alertItem('alert.closed', { cleared: true }))).toBeUndefined(); // hazard recovery went with alert.cleared
    expect(alertState(alertItem('alert.updated', {}, { action: 'acknowledged' }))).toBeUndefined();
    expect(alertState(alertItem('alert.updated', {}, { action: 'recurred' }))).toBe('raise');
    expect(appDataForItem({ ...alertItem('alert.raised', {}), deviceId: null, data: { alert: { rule: 'service_outage', class: 'fault', deviceId: null } } })).toEqual([]);
    expect(appDataForItem({ ...alertItem('device.online', {}), data: { deviceId: 'x' } })).toEqual([]);
  });

  it('readings → analog values: pressure kPa type 5 (0.1 kPa), level type 2, temperatures type 3, and the frames encode', () => {
    const r = (fields: Record<string, unknown>, kind = 'water_pressure'): UplinkItem => ({
      id: 'reading:x', type: 'reading', occurredAt: '2026-11-29T08:00:00.000Z', deviceId: 'd-1', buildingId: 'b', street: null, data: { kind, fields },
    });
    const p = appDataForItem(r({ pressureMpa: 0.07 }));
    expect(p[0]!.objects).toEqual([expect.objectContaining({ analogType: 5, value: 700, systemType: 11 })]);
    expect((appDataForItem(r({ levelM: 3.21 }, 'water_level'))[0]!.objects[0] as any)).toMatchObject({ analogType: 2, value: 321, componentType: 92 });
    const ef = appDataForItem(r({ residualCurrentMa: 320, temperaturesC: [41.5, 39] }, 'electrical_fire'))[0]!.objects as any[];
    expect(ef.map((o) => [o.analogType, o.value])).toEqual([[128, 320], [3, 415], [3, 390]]);
    expect(appDataForItem(r({ occupied: true }, 'fire_lane'))).toEqual([]);
    for (const unit of [...p, ...appDataForItem(r({ residualCurrentMa: 320, temperaturesC: [41.5, 39] }, 'electrical_fire'))]) {
      const back = decodeAppData(encodeAppData(unit));
      expect(back.ok).toBe(true);
    }
    // the time tag is the event's time in UTC+8, exact to the second
    const decoded = decodeAppData(encodeAppData(p[0]!));
    expect(decoded.ok && (decoded.appData.objects[0] as any).time.toISOString()).toBe('2026-11-29T08:00:00.000Z');
  });

  it('property: component addresses are stable and spread over 32 bits', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const a = componentAddressFor(`dev-${i}`);
      expect(a).toEqual(componentAddressFor(`dev-${i}`));
      expect(a.zone).toBeLessThanOrEqual(0xffff);
      expect(a.position).toBeLessThanOrEqual(0xffff);
      seen.add(`${a.zone}-${a.position}`);
    }
    expect(seen.size).toBe(5000);
  });
});

describe('GB/T 26875.3 vendor mapping for user-defined analog codes', () => {
  it('maps 128–255 per vendor with a "*" fallback and refuses other codes', () => {
    const m = parseVendorMapping({ ACME: { '154': { quantity: 'pressure', unit: 'kPa', divisor: 10 } }, '*': { '130': { quantity: 'current', unit: 'mA' } } });
    expect(vendorAnalog(m, 'ACME', 154)).toMatchObject({ unit: 'kPa', divisor: 10 });
    expect(vendorAnalog(m, 'OTHER', 154)).toBeUndefined();
    expect(vendorAnalog(m, null, 130)).toMatchObject({ divisor: 1 });
    expect(() => parseVendorMapping({ ACME: { '5': { quantity: 'x', unit: 'y' } } })).toThrow(/ACME\.5: Invalid key/);
  });
});

describe('uplink configuration', () => {
  it('parses adapters, readings policy and refuses bad values together', () => {
    const c = loadConfig({
      UPLINK_HTTP_URL: 'https://platform.example/ingest',
      UPLINK_HTTP_TOKEN: 't',
      UPLINK_MQTT_URL: 'mqtt://broker:1883',
      UPLINK_GB26875_ADDR: '10.0.0.5:9000',
      UPLINK_GB26875_SOURCE_ADDR: '889',
      UPLINK_READINGS: '5m',
      GB26875_PORT: '0',
    });
    expect(c.uplink.http).toMatchObject({ url: 'https://platform.example/ingest', token: 't', timeoutMs: 10_000 });
    expect(c.uplink.mqtt).toEqual({ url: 'mqtt://broker:1883', topic: 'yuzhong/fire/{type}/{buildingId}' });
    expect(c.uplink.gb26875).toMatchObject({ host: '10.0.0.5', port: 9000, sourceAddress: 889, timeoutMs: 10_000, heartbeatS: 30 });
    expect(c.uplink.readings).toEqual({ default: { mode: 'sample', intervalMs: 300_000 }, byKind: {} });
    expect(loadConfig({ UPLINK_READINGS: 'electrical_fire=all, water_pressure=60s' }).uplink.readings).toEqual({
      default: { mode: 'none' },
      byKind: { electrical_fire: { mode: 'all' }, water_pressure: { mode: 'sample', intervalMs: 60_000 } },
    });
    expect(loadConfig({ UPLINK_READINGS: 'fire_lane=none,*=all' }).uplink.readings).toEqual({ default: { mode: 'all' }, byKind: { fire_lane: { mode: 'none' } } });
    expect(() => loadConfig({ UPLINK_READINGS: 'water_pressure=often' })).toThrow(/water_pressure=often/);
    expect(c.gb26875.port).toBe(0);
    expect(loadConfig({}).uplink).toEqual({ readings: { default: { mode: 'none' }, byKind: {} }, deadLetterAfterS: 86_400 });
    expect(() => loadConfig({ UPLINK_READINGS: 'often', UPLINK_GB26875_ADDR: 'nohost', UPLINK_HTTP_URL: 'ftp://x' })).toThrow(
      /UPLINK_READINGS[\s\S]*UPLINK_HTTP_URL|UPLINK_HTTP_URL[\s\S]*UPLINK_READINGS/,
    );
    expect(() => loadConfig({ UPLINK_HTTP_TOKEN: 'a', UPLINK_HTTP_HMAC_SECRET: 'b' })).toThrow(/choose one/);
  });
});
