/**
 * Smoke test of `firewatch bench --quick`: it starts its own targets, runs every phase on a small
 * load and writes a JSON result. No timing is asserted (speed is measured in bench/, never in tests).
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../support/service.js';

it('firewatch bench --quick runs and writes a JSON result', { timeout: 150_000 }, async () => {
  const out = tempDir('firewatch-bench-');
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'bin/firewatch.ts', 'bench', '--quick', '--out', out], {
        cwd: join(import.meta.dirname, '..', '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let o = '';
      let e = '';
      p.stdout.on('data', (d: Buffer) => (o += d.toString()));
      p.stderr.on('data', (d: Buffer) => (e += d.toString()));
      p.on('exit', (c) => resolve({ code: c, stdout: o, stderr: e }));
    });
    expect(code, stdout + stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    expect(result.machine.nproc).toBeGreaterThan(0);
    expect(result.baselines.map((t: any) => `${t.target} ${t.qos}`)).toEqual(['aedes (bare) 1', 'aedes (bare) 0']);
    expect(result.sqlite.throughput).toHaveLength(2);
    expect(result.sqlite.storedRows).toBe(result.sqlite.acceptedTotal);
    expect(result.sqlite.latency[0].received).toBe(result.sqlite.latency[0].probes);
    expect(result.connections.connected).toBe(result.connections.requested);
    expect(result.connections.serviceConnections).toBe(result.connections.requested);
    expect(stdout).toContain('| firewatch (SQLite) | 1 |');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
