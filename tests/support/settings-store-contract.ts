/**
 * The one contract every SettingsStore passes (services/shared/settings.ts): the service's
 * key/value settings (the admin token's digest, the safety-code secret, the last-alive time, the
 * GB/T 26875.3 gateway's component states as JSON). SQLite (firewatch.db's settings) and
 * PostgreSQL (pg-settings-store.ts), run by tests/integration/misc-store-contracts.test.ts. Every
 * call is awaited; each case gets a fresh, empty store.
 *
 * What it pins down:
 *   - a key never set has no value (undefined), also next to keys that are set
 *   - a value set is the one got, per key; the last set wins
 *   - keys are exact: case, spaces and unicode make different keys
 *   - values are kept as written: the empty string (a value, not a removal), unicode (CJK,
 *     emoji), quotes, backslashes, newlines, JSON text and a long value (a large gateway state)
 *   - a durable store gives back after a reopen the last value set for each key
 */
import { describe, expect, it } from 'vitest';
import { contractHarness } from './contract-harness.js';
import type { SettingsStore } from '../../services/shared/settings.js';

export interface ContractSettingsStore {
  store: SettingsStore;
  /** Durable stores: close and open the same data again (a restart); returns the new store, which cleanup closes. */
  reopen?: () => Promise<SettingsStore> | SettingsStore;
  cleanup: () => Promise<void> | void;
}

/** A gateway state of many components, as server/gb26875.ts saves it: a long JSON text. */
function longJson(): string {
  const components: Record<string, unknown> = {};
  for (let i = 0; i < 3000; i++) {
    components[`comp:1:1:40:${i % 64}-${i}`] = { alarm: i % 7 === 0, fault: false, description: `感烟火灾探测器 ${i}号（${(i % 30) + 1}F 走廊）`, since: 1_800_000_000_000 + i };
  }
  return JSON.stringify({ version: 2, devices: { 'u-1': { components, bit0: ['sys:1:1'] } } });
}

export function settingsStoreContract(name: string, make: () => Promise<ContractSettingsStore> | ContractSettingsStore): void {
  describe(`SettingsStore contract: ${name}`, () => {
    const { store, handle } = contractHarness<SettingsStore, ContractSettingsStore>(name, make);

    it('has no value for a key never set', async () => {
      expect(await store().get('admin_token_sha256')).toBeUndefined();
      await store().set('admin_token_sha256', 'ab'.repeat(32));
      expect(await store().get('safety_code_secret')).toBeUndefined();
      expect(await store().get('')).toBeUndefined();
    });

    it('gives back the value set, per key', async () => {
      const s = store();
      await s.set('admin_token_sha256', 'ab'.repeat(32));
      await s.set('last_alive_at', '1796025600000');
      await s.set('gb26875_components', '{}');
      expect(await s.get('admin_token_sha256')).toBe('ab'.repeat(32));
      expect(await s.get('last_alive_at')).toBe('1796025600000');
      expect(await s.get('gb26875_components')).toBe('{}');
    });

    it('keeps the last value set, and only for that key', async () => {
      const s = store();
      await s.set('last_alive_at', '1');
      await s.set('storage_probe_at', '7');
      await s.set('last_alive_at', '2');
      await s.set('last_alive_at', '3');
      expect(await s.get('last_alive_at')).toBe('3');
      expect(await s.get('storage_probe_at')).toBe('7');
      await s.set('last_alive_at', 'a longer value than before');
      await s.set('last_alive_at', 'x');
      expect(await s.get('last_alive_at')).toBe('x');
    });

    it('keeps the empty string as a value, and a value set over it', async () => {
      const s = store();
      await s.set('k', '');
      expect(await s.get('k')).toBe('');
      await s.set('k', 'v');
      expect(await s.get('k')).toBe('v');
      await s.set('k', '');
      expect(await s.get('k')).toBe('');
    });

    it('keys are exact: case, spaces and unicode make different keys', async () => {
      const s = store();
      const keys = ['key', 'Key', 'KEY', 'key ', ' key', 'ключ', '设置', '設置', 'e\u0301', '\u00e9', ''];
      for (const [i, k] of keys.entries()) await s.set(k, `v${i}`);
      for (const [i, k] of keys.entries()) expect(await s.get(k)).toBe(`v${i}`);
    });

    it('keeps unicode, quotes, backslashes, newlines and a long value as written', async () => {
      const s = store();
      const values = {
        cjk: '消防栓 解放碑 3F 走廊：末端试水“月检”',
        emoji: '🔥🚒 \u{1F9EF} zwj 👩‍🚒',
        quoted: `it's "quoted" \\ back\\slash; -- not SQL'); DROP TABLE settings; --`,
        lines: 'line 1\nline 2\r\n\ttabbed  ',
        json: JSON.stringify({ a: [1, 2.5, null, true], s: 'é\u2028\u2029', nested: { '键': '值' } }),
        long: longJson(),
      };
      expect(values.long.length).toBeGreaterThan(200_000);
      for (const [k, v] of Object.entries(values)) await s.set(k, v);
      for (const [k, v] of Object.entries(values)) expect(await s.get(k)).toBe(v);
      expect(JSON.parse((await s.get('long'))!)).toEqual(JSON.parse(values.long));
    });

    it('when durable, gives back after a reopen the last value set for each key', async (ctx) => {
      if (!handle().reopen) return ctx.skip();
      await store().set('admin_token_sha256', 'old');
      await store().set('admin_token_sha256', 'cd'.repeat(32));
      await store().set('empty', '');
      await store().set('设置', '值 🔥');
      const again = await handle().reopen!();
      expect(await again.get('admin_token_sha256')).toBe('cd'.repeat(32));
      expect(await again.get('empty')).toBe('');
      expect(await again.get('设置')).toBe('值 🔥');
      expect(await again.get('never')).toBeUndefined();
      await again.set('empty', 'now set');
      expect(await again.get('empty')).toBe('now set');
    });
  });
}
