/** The `firewatch` command: usage, per-command help, errors, and a config error reported at boot. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const firewatch = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'bin/firewatch.ts', ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('firewatch', () => {
  it('--help lists the subcommands; --version prints the package version', async () => {
    const help = await firewatch(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/firewatch serve/);
    const v = await firewatch(['--version']);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('serve --help documents every variable', async () => {
    const r = await firewatch(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const name of ['MQTT_PORT', 'HTTP_PORT', 'DATA_DIR', 'ADMIN_TOKEN', 'INFLUX_URL', 'ALERT_ACK_S']) expect(r.stdout).toContain(name);
  });

  it('an unknown command exits 2 with the usage', async () => {
    const r = await firewatch(['launch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command: launch/);
  });

  it('a bad configuration is refused at boot with every problem listed', async () => {
    const r = await firewatch(['serve'], { MQTT_PORT: 'x', LOG_LEVEL: 'loud', INFLUX_URL: 'http://127.0.0.1:1', INFLUX_API: 'v1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MQTT_PORT/);
    expect(r.stderr).toMatch(/LOG_LEVEL/);
    expect(r.stderr).toMatch(/INFLUX_DB/);
  });
});
