/**
 * `firewatch simulate` against the real service (real time), as a child process, the way an
 * operator runs it: every incident scenario passes --verify; the district is provisioned and
 * stores readings; --verify fails when the incident cannot happen (--no-incident).
 * The scenarios are independent (own buildings and devices), so they run side by side.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { ADMIN_TOKEN, startService, tempDir, waitFor, type TestService } from '../support/service.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  summary: any;
}

function simulate(svc: TestService, state: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'bin/firewatch.ts', 'simulate', ...args, '--api', svc.fw.httpUrl, '--mqtt', svc.mqttUrl, '--token', ADMIN_TOKEN, '--state', state],
      { cwd: ROOT, env: { ...process.env, FIREWATCH_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('SUMMARY '));
      resolve({ code, stdout, stderr, summary: line ? JSON.parse(line.slice('SUMMARY '.length)) : undefined });
    });
  });
}

describe('firewatch simulate', () => {
  let svc: TestService;
  let state: string;
  beforeAll(async () => {
    svc = await startService();
    state = tempDir('firewatch-sim-state-');
  });
  afterAll(async () => {
    await svc?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it('--help lists the scenarios and options', async () => {
    const r = await simulate(svc, state, '--help');
    expect(r.code).toBe(0);
    for (const word of ['yuzhong', 'pipe-burst', 'overheating', 'lane-blocked', 'offline', 'stuck-sensor', '--verify', '--speed', '--seed', 'FIREWATCH_API']) {
      expect(r.stdout).toContain(word);
    }
  });

  describe.concurrent('incident scenarios pass --verify', () => {
    for (const [name, rules] of [
      ['pipe-burst', ['pressure_drop', 'pressure_low']],
      ['overheating', ['temperature_high', 'device_alarm']],
      ['lane-blocked', ['lane_blocked']],
      ['offline', ['device_offline']],
      ['stuck-sensor', ['sensor_fault']],
    ] as const) {
      it(name, { timeout: 180_000 }, async () => {
        const r = await simulate(svc, state, '--scenario', name, '--verify', '--quiet');
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`summary: ${name} — \\d+/\\d+ devices connected, \\d+ messages sent .* alerts raised .* verify PASSED`));
        expect(r.summary.verify).toEqual({ ok: true, failures: [] });
        expect(r.summary.devicesConnected).toBe(r.summary.devices);
        expect(r.summary.messagesAcked).toBe(r.summary.messagesSent);
        for (const rule of rules) {
          const alerts = (await svc.api.get(`/api/v1/alerts?rule=${rule}&limit=1000`)).body.items as any[];
          expect(alerts.some((a) => a.deviceId?.startsWith('sim-')), `${name}: ${rule}`).toBe(true);
        }
      });
    }
  });

  // after the concurrent runs: it uses the overheating devices (one client id per device)
  it('--verify exits non-zero when the incident cannot happen (--no-incident)', { timeout: 120_000 }, async () => {
    const r = await simulate(svc, tempDir('firewatch-sim-neg-'), '--scenario', 'overheating', '--verify', '--no-incident', '--seed', '9');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/verify: FAIL {2}missing: sim-raffles-ef-b2 temperature_high/);
    expect(r.stdout).toMatch(/verify FAILED \(2\)/);
    expect(r.summary.verify.ok).toBe(false);
  });

  it('yuzhong provisions the district idempotently and streams readings', { timeout: 240_000 }, async () => {
    const r = await simulate(svc, state, '--scenario', 'yuzhong', '--duration', '120', '--speed', '60', '--seed', '3', '--quiet');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const s = r.summary;
    expect(s.devicesConnected).toBe(s.devices);
    expect(s.provision.devicesCreated).toBe(s.devices);
    expect(s.messagesSent).toBeGreaterThan(s.devices / 2);

    const buildings = (await svc.api.get('/api/v1/buildings?limit=1000')).body.items as any[];
    const streets = new Set(buildings.map((b) => b.street));
    expect(streets.size).toBe(11);
    const names = new Set(buildings.map((b) => b.name));
    for (const n of ['英利卓越购物广场', '重庆时代广场', '大都会东方广场', '解放碑英利国际金融中心', '环球金融中心', '来福士购物中心', '龙湖时代天街 A/B馆', '龙湖时代天街 C馆', '龙湖时代天街 D馆', '龙湖时代天街 E馆', '大融汇', '重庆复星国际中心', '朝天门大融汇', '嘉陵中心', '协信星光天地']) {
      expect(names.has(n), n).toBe(true);
    }
    expect(buildings.some((b) => b.heightM > 100 && b.type === 'residential')).toBe(true);
    expect(buildings.some((b) => b.use === 'market') && buildings.some((b) => b.use === 'old_compound')).toBe(true);
    for (const kind of ['water_pressure', 'water_level', 'electrical_fire', 'fire_lane']) {
      const devices = (await svc.api.get(`/api/v1/devices?kind=${kind}&limit=1000`)).body.items as any[];
      expect(devices.filter((d) => !d.id.startsWith('sim-')).length, kind).toBeGreaterThanOrEqual(kind === 'water_level' ? 40 : 40);
    }
    const readings = (await svc.api.get('/api/v1/devices/ifc-hydrant-top/readings?limit=100')).body.items as any[];
    expect(readings.length).toBeGreaterThan(0);
    expect(readings[0].pressureMpa).toBeGreaterThan(0.15);

    // a second run reuses everything (GET by id, passwords from the state file)
    const again = await simulate(svc, state, '--scenario', 'yuzhong', '--duration', '100', '--speed', '60', '--quiet');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.summary.provision).toMatchObject({ buildingsCreated: 0, devicesCreated: 0, credentialsRotated: 0 });
    expect(again.summary.devicesConnected).toBe(s.devices);
  });

  it('reconnects by itself after the service restarts (issue #17 item 7)', { timeout: 180_000 }, async () => {
    const dataDir = tempDir();
    const env = { MQTT_PORT: String(await freePort()), HTTP_PORT: String(await freePort()) };
    let own = await startService(env, dataDir);
    const ownState = tempDir('firewatch-sim-restart-');
    const run = simulate(own, ownState, '--scenario', 'lane-blocked', '--duration', '3000', '--speed', '100', '--quiet');
    // wait until its devices are connected and reporting, then restart the service on the same ports and data
    await waitFor(async () => (await own.api.get('/api/v1/devices?limit=1000')).body.items.length > 0, 'provisioned', 60_000);
    const probe = async () => ((await own.api.get('/api/v1/devices?limit=1000')).body.items as Array<{ id: string; status?: { accepted: number } }>);
    await waitFor(async () => {
      const ids = (await probe()).map((d) => d.id);
      const counts = await Promise.all(ids.map(async (id) => (await own.api.get(`/api/v1/devices/${id}`)).body.status.accepted as number));
      return counts.some((n) => n > 0);
    }, 'readings before the restart', 60_000);
    await own.stop({ keepData: true });
    own = await startService(env, dataDir);
    const before = Date.now();
    const r = await run;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summary.reconnects).toBeGreaterThanOrEqual(r.summary.devices);
    expect(r.summary.devicesConnected).toBe(r.summary.devices);
    // readings stored after the restart
    const ids = (await own.api.get('/api/v1/devices?limit=1000')).body.items.map((d: { id: string }) => d.id) as string[];
    const fresh = await Promise.all(ids.map(async (id) => (await own.api.get(`/api/v1/devices/${id}/readings?limit=1`)).body.items[0] as { receivedAt?: string; ts: string } | undefined));
    expect(fresh.some((x) => x !== undefined && Date.parse(x.ts) >= before - 60_000)).toBe(true);
    await own.stop();
    rmSync(ownState, { recursive: true, force: true });
  });
});
