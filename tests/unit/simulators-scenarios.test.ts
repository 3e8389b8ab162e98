/** Scenario definitions and the --verify judgement, without a service. */
import { describe, expect, it } from 'vitest';
import { INCIDENTS } from '../../simulators/scenarios/incidents.js';
import { scenarioByName, SCENARIO_NAMES } from '../../simulators/scenarios/index.js';
import { COMPLEXES, STREETS, yuzhong } from '../../simulators/scenarios/yuzhong.js';
import { scaled } from '../../simulators/scenario.js';
import { check, type FeedEvent } from '../../simulators/verify.js';

const ID = /^[A-Za-z0-9_.-]{2,64}$/;

describe('yuzhong', () => {
  const fleet = yuzhong(1).build(1);
  it('has the 15 complexes, buildings on all 11 streets, high-rises over 100 m, markets and old compounds', () => {
    expect(COMPLEXES).toHaveLength(15);
    const names = new Set(fleet.buildings.map((b) => b.name));
    for (const [, name] of COMPLEXES) expect(names.has(name)).toBe(true);
    expect(new Set(fleet.buildings.map((b) => b.street))).toEqual(new Set(STREETS));
    expect(fleet.buildings.some((b) => (b.heightM ?? 0) > 100 && b.type === 'residential')).toBe(true);
    expect(fleet.buildings.some((b) => (b.heightM ?? 0) > 100 && b.type === 'public' && b.use !== 'complex')).toBe(true);
    for (const sample of ['十八梯综合大楼', '解放西路121号住宅楼', '解放碑地下人防工程']) expect(names.has(sample)).toBe(true);
    expect(fleet.buildings.filter((b) => b.use === 'old_compound')).toHaveLength(11);
  });

  it('gives each building the sensors the plan asks for, with valid unique ids', () => {
    const ids = fleet.devices.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [...ids, ...fleet.buildings.map((b) => b.id)]) expect(id).toMatch(ID);
    const kinds = (bid: string) => new Set(fleet.devices.filter((d) => d.buildingId === bid).map((d) => d.kind));
    for (const [id] of COMPLEXES) expect(kinds(id)).toEqual(new Set(['water_pressure', 'water_level', 'electrical_fire', 'fire_lane']));
    for (const b of fleet.buildings.filter((x) => x.use === 'market')) expect(kinds(b.id).has('electrical_fire')).toBe(true);
    expect(fleet.devices.every((d) => d.kind !== 'water_pressure' || d.point)).toBe(true);
  });

  it('has the same shape for every seed (idempotent provisioning), different signals', () => {
    const other = yuzhong(2).build(2);
    expect(other.devices.map((d) => d.id)).toEqual(fleet.devices.map((d) => d.id));
    expect(other.devices[0]!.model.sample(60)).not.toEqual(yuzhong(1).build(1).devices[0]!.model.sample(60));
  });
});

describe('incident scenarios', () => {
  it('are all listed and expect alerts on their own devices', () => {
    expect(SCENARIO_NAMES).toEqual(['yuzhong', 'pipe-burst', 'overheating', 'lane-blocked', 'offline', 'stuck-sensor']);
    for (const name of Object.keys(INCIDENTS)) {
      const sc = scenarioByName(name, 1)!;
      const ids = new Set(sc.build(1).devices.map((d) => d.id));
      expect(sc.expect!.length).toBeGreaterThan(0);
      for (const e of sc.expect!) expect(ids.has(e.device), `${name}: ${e.device}`).toBe(true);
      expect(sc.script.some((s) => s.incident)).toBe(true);
    }
  });

  it('stuck-sensor expects a fault, never a hazard', () => {
    expect(scenarioByName('stuck-sensor', 1)!.expect!.every((e) => e.class === 'fault')).toBe(true);
  });

  it('scales rule durations by the speed within the allowed range', () => {
    expect(scaled(60, 20)).toBe(3);
    expect(scaled(300, 5, 60, 600)).toBe(60);
    expect(scaled(300, 50, 60, 600)).toBe(60);
    expect(scaled(60, 60, 5)).toBe(5);
  });
});

describe('verify judgement', () => {
  const timing = { realStart: 1_000_000, speed: 10, graceMs: 1000 };
  const expectAlert = [{ device: 'd1', rule: 'pressure_low', class: 'hazard' as const, afterS: 100, withinS: 60 }];
  const ev = (type: string, atSim: number, device = 'd1', rule = 'pressure_low', cls = 'hazard'): FeedEvent => ({
    seq: atSim,
    type,
    receivedAt: timing.realStart + (atSim / timing.speed) * 1000,
    alert: { id: `${device}-${rule}`, deviceId: device, rule, class: cls, status: 'open', cleared: false },
  });

  it('passes one alert in its window', () => {
    expect(check(expectAlert, [ev('alert.raised', 130), ev('alert.updated', 140)], timing)).toMatchObject({ ok: true });
  });
  it('fails missing, late, early, duplicated, wrong-class and unexpected alerts', () => {
    const f = (events: FeedEvent[]) => check(expectAlert, events, timing).failures.join('\n');
    expect(f([])).toMatch(/missing: d1 pressure_low/);
    expect(f([ev('alert.raised', 200)])).toMatch(/late: d1 pressure_low/);
    expect(f([ev('alert.raised', 50)])).toMatch(/early: d1 pressure_low/);
    expect(f([ev('alert.raised', 120), ev('alert.raised', 150)])).toMatch(/duplicated: d1 pressure_low raised 2 times/);
    expect(f([ev('alert.raised', 120, 'd1', 'pressure_low', 'fault')])).toMatch(/wrong class/);
    expect(f([ev('alert.raised', 120), ev('alert.raised', 125, 'd2', 'lane_blocked')])).toMatch(/unexpected: d2 lane_blocked/);
  });
});

describe('credential state file', () => {
  it('keeps what several simulators learned about one service (merge on save)', async () => {
    const { mkdtempSync, rmSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { CredentialFile } = await import('../../simulators/provision.js');
    const dir = mkdtempSync(join(tmpdir(), 'fw-cred-'));
    try {
      const a = new CredentialFile(dir);
      const b = new CredentialFile(dir);
      a.set('http://x', 'dev-a', 'pw-a');
      b.set('http://x', 'dev-b', 'pw-b');
      a.save();
      b.save();
      const c = new CredentialFile(dir);
      expect([c.get('http://x', 'dev-a'), c.get('http://x', 'dev-b'), c.get('http://y', 'dev-a')]).toEqual(['pw-a', 'pw-b', undefined]);
      expect(statSync(c.file).mode & 0o077).toBe(0); // passwords: owner only
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
