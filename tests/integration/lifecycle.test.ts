/**
 * The service's one lifecycle (server/main.ts + server/lifecycle.ts): intake stops first, storage
 * last, and a start that fails half-way releases everything it had opened — the same list.
 */
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startService, tempDir } from '../support/service.js';
import { loadConfig } from '../../services/config/config.js';
import { startFirewatch } from '../../server/main.js';
import { createLogger } from '../../services/shared/logger.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function holdPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    servers.push(s);
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('lifecycle', () => {
  it('starts storage first and intake and the API last, so they stop in the reverse order', async () => {
    const svc = await startService({ GB26875_PORT: '0' });
    try {
      const parts = svc.fw.parts();
      const at = (name: string) => {
        const i = parts.indexOf(name);
        expect(i, `${name} in ${parts.join(', ')}`).toBeGreaterThanOrEqual(0);
        return i;
      };
      expect(at('firewatch.db')).toBe(0);
      expect(at('readings.db')).toBeLessThan(at('reading log'));
      expect(at('reading log')).toBeLessThan(at('processors'));
      // the drain point stops after intake and the timers, before the processors
      expect(at('processors')).toBeLessThan(at('reading log drain'));
      expect(at('reading log drain')).toBeLessThan(at('rule timers'));
      expect(at('rule timers')).toBeLessThan(at('MQTT broker'));
      expect(at('MQTT broker')).toBeLessThan(at('GB/T 26875.3 gateway'));
      expect(parts.at(-1)).toBe('HTTP API');
    } finally {
      await svc.stop();
    }
    expect(svc.fw.parts()).toEqual([]);
  });

  it('a start that fails on a taken port releases what it opened: the MQTT port, the databases', async () => {
    const taken = await holdPort();
    const mqttPort = await holdPort();
    servers.pop()!.close(); // free again: the failed start takes it, and must give it back
    const dataDir = tempDir();
    // the broker's port is picked by the OS first; the HTTP port is taken, so the API is the part that fails
    const config = loadConfig({
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(taken),
      GB26875_PORT: '0',
      DATA_DIR: dataDir,
      ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
      LOG_LEVEL: 'silent',
    });
    try {
      await expect(startFirewatch(config, { logger: createLogger('silent') })).rejects.toThrow(/EADDRINUSE|in use/i);
      expect(await portFree(mqttPort)).toBe(true);
      // the databases are closed: an exclusive lock can be taken at once (busy_timeout 0)
      for (const file of ['firewatch.db', 'readings.db']) {
        const db = new Database(join(dataDir, file), { timeout: 0 });
        expect(() => db.exec('BEGIN EXCLUSIVE; COMMIT')).not.toThrow();
        db.close();
      }
      // and a second start on a free HTTP port works in the same folder (nothing left holding it)
      const again = await startFirewatch({ ...config, http: { ...config.http, port: 0 } }, { logger: createLogger('silent') });
      expect(again.mqttPorts.mqtt).toBe(mqttPort);
      await again.close();
      expect(await portFree(mqttPort)).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
