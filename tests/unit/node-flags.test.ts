/**
 * Every launcher of `firewatch serve` passes the service's V8 flags (server/node-flags.ts): the
 * bench measures the service as it is started in production, so the two cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_NODE_FLAGS } from '../../server/node-flags.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

describe('the service V8 flags', () => {
  const launchers: Array<[string, string]> = [
    ['package.json start script', (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!],
    ['Dockerfile CMD', read('Dockerfile').split('\n').find((l) => l.startsWith('CMD '))!],
    ['systemd ExecStart', read('deploy/systemd/firewatch.service').split('\n').find((l) => l.startsWith('ExecStart='))!],
  ];
  it('are not empty', () => {
    expect(SERVICE_NODE_FLAGS.length).toBeGreaterThan(0);
  });
  for (const [name, line] of launchers) {
    it(`are given by the ${name}, before the script`, () => {
      expect(line).toBeDefined();
      const script = line.indexOf('firewatch.js');
      expect(script).toBeGreaterThan(0);
      for (const flag of SERVICE_NODE_FLAGS) {
        const at = line.indexOf(flag);
        expect(at, `${name}: ${line}`).toBeGreaterThan(-1);
        expect(at).toBeLessThan(script);
      }
    });
  }
  it('are given by both bench launchers', () => {
    for (const f of ['bench/targets.ts', 'bench/fleet-reconnect.ts']) expect(read(f)).toContain('...SERVICE_NODE_FLAGS');
  });
});
