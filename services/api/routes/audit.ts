/**
 * GET /api/v1/audit (admin, duty): the audit history of changes that weakened or bypassed
 * alerting — loosened rules, reclassified buildings, maintenance windows — newest first. A duty
 * officer limited to streets sees those streets' entries.
 */
import type { AuthService } from '../../auth/auth-service.js';
import type { ChangeControl } from '../../audit/change-control.js';
import { buildingFilterFor } from '../../auth/scope.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { AuditPage, AuditQuery } from '../schemas/audit.js';

export interface AuditRouteOptions {
  changeControl: ChangeControl;
  auth: Pick<AuthService, 'displayNameOf'>;
}

export async function auditRoutes(app: Api, { changeControl, auth }: AuditRouteOptions): Promise<void> {
  app.get(
    '/audit',
    {
      config: { roles: ['admin', 'duty'] },
      schema: {
        tags: ['audit'],
        description: 'Who loosened a rule, changed a building\'s threshold fields or set maintenance, when, what (before → after) and why; newest first.',
        querystring: AuditQuery,
        response: { 200: AuditPage },
      },
    },
    async (req) => {
      const scope = buildingFilterFor(principalOf(req));
      const { buildingId, deviceId, action, limit, cursor } = req.query;
      const rows = await changeControl.audit.list({
        limit: limit + 1,
        ...(buildingId !== undefined ? { buildingId } : {}),
        ...(deviceId !== undefined ? { deviceId } : {}),
        ...(action !== undefined ? { action } : {}),
        ...(cursor !== undefined ? { beforeId: Number(cursor) } : {}),
        ...(scope !== 'all' ? { streets: scope.streets ?? [] } : {}),
      });
      const items = rows.slice(0, limit);
      // who, as people read it (issue #17 item 5): the user's display name, null for tokens
      const names = new Map<string, string | null>();
      const nameOf = (by: string) => (names.has(by) ? names.get(by)! : (names.set(by, auth.displayNameOf(by)), names.get(by)!));
      return { items: items.map((e) => ({ ...e, byName: nameOf(e.by) })), nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
    },
  );
}
