import { describe, expect, it } from 'vitest';
import { maySubscribe, publishChannel } from '../../gateway/mqtt/topics.js';
import { ConfigError, loadConfig } from '../../services/config/config.js';
import { TokenBuckets } from '../../services/pipeline/token-buckets.js';

describe('topics', () => {
  it('a device publishes only to its own telemetry and event topics', () => {
    expect(publishChannel('d1', 'fire/v1/d1/telemetry')).toBe('telemetry');
    expect(publishChannel('d1', 'fire/v1/d1/event')).toBe('event');
    expect(publishChannel('d1', 'fire/v1/d2/telemetry')).toBeUndefined();
    expect(publishChannel('d1', 'fire/v1/d1/telemetry/x')).toBeUndefined();
    expect(publishChannel('d1', 'fire/v1/d1/config')).toBeUndefined();
  });
  it('a device subscribes only under its own config topic', () => {
    expect(maySubscribe('d1', 'fire/v1/d1/config/#')).toBe(true);
    expect(maySubscribe('d1', 'fire/v1/d1/config')).toBe(true);
    expect(maySubscribe('d1', 'fire/v1/d1/config/thresholds')).toBe(true);
    expect(maySubscribe('d1', 'fire/v1/d1/config/+')).toBe(true);
    expect(maySubscribe('d1', 'fire/v1/+/config/#')).toBe(false);
    expect(maySubscribe('d1', 'fire/v1/d1/#')).toBe(false);
    expect(maySubscribe('d1', '#')).toBe(false);
    expect(maySubscribe('d1', 'fire/v1/d2/config/#')).toBe(false);
    expect(maySubscribe('d1', 'fire/v1/d1/config/a/#/b')).toBe(false);
  });
});

describe('config', () => {
  it('has embedded defaults', () => {
    const c = loadConfig({});
    expect(c.mqtt.port).toBe(1883);
    expect(c.http.port).toBe(8080);
    expect(c.dataDir).toBe('./data');
    expect(c.influx).toBeUndefined();
    expect(Object.isFrozen(c.mqtt)).toBe(true);
  });
  it('reports every issue at once', () => {
    let err: unknown;
    try {
      loadConfig({ MQTT_PORT: 'abc', HTTP_PORT: '70000', LOG_LEVEL: 'loud', INFLUX_URL: 'http://x', INFLUX_API: 'v2', MQTTS_PORT: '8883' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues.join('\n');
    for (const key of ['MQTT_PORT', 'HTTP_PORT', 'LOG_LEVEL']) expect(issues).toContain(key);
  });
  it('checks InfluxDB settings per API version', () => {
    expect(() => loadConfig({ INFLUX_URL: 'http://x', INFLUX_API: 'v2' })).toThrow(/INFLUX_TOKEN[\s\S]*INFLUX_ORG[\s\S]*INFLUX_BUCKET/);
    expect(() => loadConfig({ INFLUX_URL: 'http://x', INFLUX_API: 'v1' })).toThrow(/INFLUX_DB/);
    expect(loadConfig({ INFLUX_URL: 'http://x', INFLUX_API: 'v1', INFLUX_DB: 'fire' }).influx).toEqual({ api: 'v1', url: 'http://x', db: 'fire' });
  });
  it('takes a postgres:// DATABASE_URL and refuses anything else without echoing it (ADR 0008)', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://fire:secret@db.example:5432/firewatch' }).databaseUrl).toBe('postgres://fire:secret@db.example:5432/firewatch');
    expect(loadConfig({ DATABASE_URL: 'postgresql://db.example/firewatch' }).databaseUrl).toBe('postgresql://db.example/firewatch');
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://fire:secret@db.example/firewatch' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues.join('\n');
    expect(issues).toMatch(/^DATABASE_URL: must be a postgres:\/\//m);
    expect(issues).not.toContain('secret');
  });
  it('GB26875_TZ: UTC+8 by default for both GB/T 26875.3 roles; offsets in the usual spellings; nonsense refused', () => {
    const gb = (v?: string) => {
      const c = loadConfig({ UPLINK_GB26875_ADDR: '127.0.0.1:5000', ...(v === undefined ? {} : { GB26875_TZ: v }) });
      expect(c.uplink.gb26875!.offsetMinutes).toBe(c.gb26875.offsetMinutes);
      return c.gb26875.offsetMinutes;
    };
    expect(gb()).toBe(480);
    expect(gb('+08:00')).toBe(480);
    expect(gb('UTC+8')).toBe(480);
    expect(gb('-05:30')).toBe(-330);
    expect(gb('+0000')).toBe(0);
    expect(gb('GMT+14')).toBe(840);
    for (const bad of ['Asia/Shanghai', '+15:00', '+08:60', '8', 'UTC']) expect(() => gb(bad), bad).toThrow(/GB26875_TZ: must be an offset from UTC/);
  });
});

describe('token buckets', () => {
  it('allow the burst, then the sustained rate', () => {
    let t = 0;
    const b = new TokenBuckets(2, 3, () => t);
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
    expect(b.take('b')).toBe(true); // per key
    t += 500;
    expect(b.take('a')).toBe(true);
    expect(b.take('a')).toBe(false);
  });
});
