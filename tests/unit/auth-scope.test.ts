/** Role and scope rules (services/auth/scope.ts): who may read, write and handle what. */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../services/auth/model.js';
import {
  buildingFilterFor,
  canHandleAlerts,
  canManageMaintenance,
  canReadAlert,
  canReadBuilding,
  canWriteRegistry,
  filterAllows,
  requireRole,
} from '../../services/auth/scope.js';
import { AppError } from '../../services/shared/errors.js';

const base = { kind: 'user', displayName: 'x', streets: null, buildingIds: null } as const;
const admin: Principal = { ...base, id: 'a', username: 'admin1', role: 'admin' };
const platform: Principal = { ...base, id: 'p', kind: 'api_token', username: 'token:city', role: 'platform' };
const dutyAll: Principal = { ...base, id: 'd0', username: 'duty.all', role: 'duty' };
const dutyJfb: Principal = { ...base, id: 'd1', username: 'duty.jfb', role: 'duty', streets: ['解放碑', '朝天门'] };
const operator: Principal = { ...base, id: 'o', username: 'op', role: 'operator', buildingIds: ['b-jfb-1'] };
const operatorNone: Principal = { ...base, id: 'o2', username: 'op2', role: 'operator', buildingIds: [] };

const jfb1 = { id: 'b-jfb-1', street: '解放碑' };
const jfb2 = { id: 'b-jfb-2', street: '解放碑' };
const dp = { id: 'b-dp-1', street: '大坪' };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? `${err.status} ${err.code}` : String(err);
  }
}

describe('requireRole', () => {
  it('returns the principal when its role is listed', () => {
    expect(requireRole(admin, 'admin')).toBe(admin);
    expect(requireRole(dutyJfb, 'admin', 'duty')).toBe(dutyJfb);
  });
  it('is 403 forbidden for another role and 401 without a principal', () => {
    expect(codeOf(() => requireRole(dutyJfb, 'admin'))).toBe('403 forbidden');
    expect(codeOf(() => requireRole(platform, 'admin', 'duty', 'operator'))).toBe('403 forbidden');
    expect(codeOf(() => requireRole(undefined, 'admin'))).toBe('401 unauthorized');
  });
});

describe('canReadBuilding', () => {
  it('admin and platform read everything', () => {
    for (const b of [jfb1, jfb2, dp]) {
      expect(canReadBuilding(admin, b)).toBe(true);
      expect(canReadBuilding(platform, b)).toBe(true);
    }
  });
  it('duty reads its streets, or all when unscoped', () => {
    expect(canReadBuilding(dutyJfb, jfb1)).toBe(true);
    expect(canReadBuilding(dutyJfb, dp)).toBe(false);
    expect(canReadBuilding(dutyAll, dp)).toBe(true);
  });
  it('an operator never sees another building, even on the same street', () => {
    expect(canReadBuilding(operator, jfb1)).toBe(true);
    expect(canReadBuilding(operator, jfb2)).toBe(false);
    expect(canReadBuilding(operator, dp)).toBe(false);
    expect(canReadBuilding(operatorNone, jfb1)).toBe(false);
  });
});

describe('canWriteRegistry and canManageMaintenance', () => {
  it('admin writes any building, operator only its own, duty and platform none', () => {
    expect(canWriteRegistry(admin, 'b-dp-1')).toBe(true);
    expect(canWriteRegistry(operator, 'b-jfb-1')).toBe(true);
    expect(canWriteRegistry(operator, 'b-jfb-2')).toBe(false);
    expect(canWriteRegistry(dutyAll, 'b-jfb-1')).toBe(false);
    expect(canWriteRegistry(platform, 'b-jfb-1')).toBe(false);
    expect(canManageMaintenance(operator, 'b-jfb-1')).toBe(true);
    expect(canManageMaintenance(operator, 'b-dp-1')).toBe(false);
    expect(canManageMaintenance(dutyAll, 'b-jfb-1')).toBe(false);
  });
});

describe('alerts', () => {
  const alertJfb = { buildingId: 'b-jfb-1', street: '解放碑' };
  const alertDp = { buildingId: 'b-dp-1', street: '大坪' };
  const system = { buildingId: null, street: null };

  it('admin handles any alert; duty within its streets; operator and platform never', () => {
    expect(canHandleAlerts(admin, alertDp)).toBe(true);
    expect(canHandleAlerts(dutyJfb, alertJfb)).toBe(true);
    expect(canHandleAlerts(dutyJfb, alertDp)).toBe(false);
    expect(canHandleAlerts(dutyAll, alertDp)).toBe(true);
    expect(canHandleAlerts(operator, alertJfb)).toBe(false);
    expect(canHandleAlerts(platform, alertJfb)).toBe(false);
  });
  it('reading an alert follows the building scope', () => {
    expect(canReadAlert(operator, alertJfb)).toBe(true);
    expect(canReadAlert(operator, alertDp)).toBe(false);
    expect(canReadAlert(dutyJfb, alertDp)).toBe(false);
    expect(canReadAlert(platform, alertDp)).toBe(true);
  });
  it('system alerts are visible to all, handled by admins and unscoped duty only', () => {
    for (const p of [admin, platform, dutyAll, dutyJfb, operator]) expect(canReadAlert(p, system)).toBe(true);
    expect(canHandleAlerts(admin, system)).toBe(true);
    expect(canHandleAlerts(dutyAll, system)).toBe(true);
    expect(canHandleAlerts(dutyJfb, system)).toBe(false);
    expect(canHandleAlerts(operator, system)).toBe(false);
  });
});

describe('buildingFilterFor', () => {
  it('is all for admin, platform and unscoped duty; streets or building ids otherwise', () => {
    expect(buildingFilterFor(admin)).toBe('all');
    expect(buildingFilterFor(platform)).toBe('all');
    expect(buildingFilterFor(dutyAll)).toBe('all');
    expect(buildingFilterFor(dutyJfb)).toEqual({ streets: ['解放碑', '朝天门'] });
    expect(buildingFilterFor(operator)).toEqual({ buildingIds: ['b-jfb-1'] });
    expect(buildingFilterFor(operatorNone)).toEqual({ buildingIds: [] });
  });
  it('agrees with canReadBuilding through filterAllows', () => {
    for (const p of [admin, platform, dutyAll, dutyJfb, operator, operatorNone]) {
      for (const b of [jfb1, jfb2, dp]) expect(filterAllows(buildingFilterFor(p), b)).toBe(canReadBuilding(p, b));
    }
  });
  it('returns a copy, so a caller cannot widen the principal', () => {
    const f = buildingFilterFor(dutyJfb);
    if (f !== 'all') f.streets?.push('大坪');
    expect(dutyJfb.streets).toEqual(['解放碑', '朝天门']);
  });
});
