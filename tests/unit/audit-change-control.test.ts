/**
 * ChangeControl (issue #12 item 9) against the in-memory audit store (tests/support/memory-audit-store.ts,
 * held to the AuditStore contract): who may weaken alerting, the reason, and that the record and the
 * change happen together or not at all.
 */
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../services/audit/audit-log.js';
import { ChangeControl, requireReason, windowHours } from '../../services/audit/change-control.js';
import type { Principal } from '../../services/auth/model.js';
import { canApproveAlertChanges } from '../../services/auth/scope.js';
import type { Building, Device } from '../../services/devices/model.js';
import { AppError } from '../../services/shared/errors.js';
import { ManualClock } from '../../services/shared/clock.js';
import { MemoryAuditStore, memoryUnitOfWork } from '../support/memory-audit-store.js';

const principal = (role: Principal['role'], p: Partial<Principal> = {}): Principal => ({
  id: role, kind: 'user', username: `${role}.user`, displayName: role, role, streets: null, buildingIds: role === 'operator' ? ['b-1'] : null, ...p,
});
const building: Building = {
  id: 'b-1', name: 'B', street: '朝天门', address: '', type: 'public', heightM: 250, floors: 60, areaM2: null, category: 1, use: 'complex',
  contactName: null, contactPhone: null, createdAt: '', updatedAt: '',
};
const device: Device = { id: 'd-1', buildingId: 'b-1', kind: 'electrical_fire', point: null, location: null, reportIntervalS: 60, vendor: null, model: null, rules: null, createdAt: '', updatedAt: '' };

function setup(byUse: Record<string, { ackS: number; closeS: number }> = {}) {
  const store = new MemoryAuditStore();
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const cc = new ChangeControl({ audit: new AuditLog(store, clock, memoryUnitOfWork(store)), clock, maintenanceMaxOperatorH: 72, deadlinesFor: (use) => byUse[use] ?? { ackS: 60, closeS: 180 } });
  return { store, clock, cc };
}

const status = async (fn: () => Promise<unknown>): Promise<number | 'ok'> => {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    if (err instanceof AppError) return err.status;
    throw err;
  }
};

describe('canApproveAlertChanges', () => {
  it('admin anywhere; duty in its streets; never an operator or the platform', async () => {
    expect(canApproveAlertChanges(principal('admin'), building)).toBe(true);
    expect(canApproveAlertChanges(principal('duty'), building)).toBe(true);
    expect(canApproveAlertChanges(principal('duty', { streets: ['朝天门'] }), building)).toBe(true);
    expect(canApproveAlertChanges(principal('duty', { streets: ['七星岗'] }), building)).toBe(false);
    expect(canApproveAlertChanges(principal('operator'), building)).toBe(false);
    expect(canApproveAlertChanges(principal('platform'), building)).toBe(false);
  });
});

describe('ChangeControl', () => {
  const disable = { ...device, rules: { device_alarm: { enabled: false } } };
  const change = (reason?: string) => ({ current: device, building, next: disable, nextBuilding: building, fields: ['rules'], reason });

  it('a device change that loosens: 403 for an operator, 400 without a reason, recorded with the reason otherwise', async () => {
    const { store, cc } = setup();
    let applied = 0;
    expect(await status(() => cc.deviceChange(principal('operator'), change('x'), async () => applied++))).toBe(403);
    expect(await status(() => cc.deviceChange(principal('duty'), change(), async () => applied++))).toBe(400);
    expect(applied).toBe(0);
    expect(await status(() => cc.deviceChange(principal('duty'), change(' 触点损坏 '), async () => applied++))).toBe('ok');
    expect(applied).toBe(1);
    expect(store.rows).toEqual([
      expect.objectContaining({
        by: 'duty.user', role: 'duty', action: 'device.rules_loosened', reason: '触点损坏', at: '2026-12-01T00:00:00.000Z',
        before: { rules: null }, after: { rules: { device_alarm: { enabled: false } } }, changes: [{ what: 'device_alarm.enabled', before: true, after: false }],
      }),
    ]);
  });

  it('a tightening is applied at once and not recorded', async () => {
    const { store, cc } = setup();
    const tighter = { ...device, rules: { residual_current_high: { threshold: 200 } } };
    expect(await status(() => cc.deviceChange(principal('operator'), { ...change(), next: tighter }, async () => 1))).toBe('ok');
    expect(store.rows).toEqual([]);
  });

  it('a move to a building with lower defaults loosens the device\'s rules: 403 for an operator of both, fine for an admin with a reason', async () => {
    const { store, cc } = setup();
    const hydrant: Device = { ...device, kind: 'water_pressure', point: 'hydrant_top' };
    const low: Building = { ...building, id: 'b-2', type: 'residential', heightM: 30, floors: 10 };
    const move = { current: hydrant, building, next: { ...hydrant, buildingId: 'b-2' }, nextBuilding: low, fields: ['buildingId'], reason: '搬迁' };
    expect(await status(() => cc.deviceChange(principal('operator', { buildingIds: ['b-1', 'b-2'] }), move, async () => 1))).toBe(403);
    expect(await status(() => cc.deviceChange(principal('admin'), move, async () => 1))).toBe('ok');
    expect(store.rows[0]).toMatchObject({ before: { buildingId: 'b-1' }, after: { buildingId: 'b-2' } });
    expect(store.rows[0]!.changes).toEqual(expect.arrayContaining([{ what: 'pressure_low.threshold', before: 0.15, after: 0.07 }]));
  });

  it('the record and the change happen together: a failing change leaves no record', async () => {
    const { store, cc } = setup();
    await expect(cc.deviceChange(principal('admin'), change('r'), async () => { throw new Error('disk full'); })).rejects.toThrow('disk full');
    expect(store.rows).toEqual([]);
    // a write of the change that fails at commit takes its record back with it
    await expect(
      cc.deviceChange(principal('admin'), change('r'), async (uow) => {
        uow!.write(() => {
          throw new Error('SQLITE_FULL: database or disk is full');
        });
      }),
    ).rejects.toThrow('SQLITE_FULL');
    expect(store.rows).toEqual([]);
    // and one that commits is recorded, with the change given the unit (not committing on its own)
    let given: unknown;
    await cc.deviceChange(principal('admin'), change('r'), async (uow) => {
      given = uow;
      uow!.write(() => undefined);
    });
    expect(given).toBeDefined();
    expect(store.rows).toHaveLength(1);
  });

  it('building use counts when it changes the response deadlines (ALERT_DEADLINES_BY_USE)', async () => {
    expect(setup().cc.buildingAlertChanges(building, { ...building, use: 'hotel' })).toEqual([]);
    const { cc } = setup({ hotel: { ackS: 120, closeS: 300 } });
    expect(cc.buildingAlertChanges(building, { ...building, use: 'hotel' })).toEqual([
      { what: 'use', before: 'complex', after: 'hotel' },
      { what: 'deadline.ackS', before: 60, after: 120 },
      { what: 'deadline.closeS', before: 180, after: 300 },
    ]);
    expect(await status(() => cc.buildingChange(principal('operator'), { current: building, next: { ...building, use: 'hotel' }, reason: 'x' }, async () => 1))).toBe(403);
  });

  it('maintenance: over the bound is for an approver; every window is recorded', async () => {
    const { store, clock, cc } = setup();
    const spec = (hours: number, reason = '检测') => ({ kind: 'building' as const, id: 'b-1', building, until: new Date(clock.now() + hours * 3_600_000).toISOString(), reason });
    expect(await status(() => cc.setMaintenance(principal('operator'), spec(73), undefined, async () => 1))).toBe(403);
    expect(await status(() => cc.setMaintenance(principal('operator'), spec(72), undefined, async () => 1))).toBe('ok');
    expect(await status(() => cc.setMaintenance(principal('duty'), spec(100, ' '), undefined, async () => 1))).toBe(400);
    expect(await status(() => cc.setMaintenance(principal('duty'), spec(100), undefined, async () => 1))).toBe('ok');
    expect(store.rows.map((r) => [r.by, r.action, (r.after as { hours: number }).hours])).toEqual([
      ['operator.user', 'maintenance.set', 72],
      ['duty.user', 'maintenance.set', 100],
    ]);
  });

  it('helpers: a reason must have content; hours to a window end', async () => {
    expect(() => requireReason('   ', 'x')).toThrow(/^此项修改须填写原因/);
    expect(requireReason(' ok ', 'x')).toBe('ok');
    expect(windowHours('2026-12-01T10:00:00Z', Date.parse('2026-12-01T00:00:00Z'))).toBe(10);
    expect(windowHours('9999-12-31T00:00:00Z', 0)).toBeGreaterThan(72);
    expect(windowHours('not a time', 0)).toBeNaN();
  });
});
