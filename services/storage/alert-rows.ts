/**
 * An alert's row as both engines store it (sqlite/sqlite-alert-store.ts and
 * postgres/pg-alert-store.ts): the document without its history (the history has its own table),
 * and the columns copied from it that the queries filter and sort on.
 */
import type { Alert } from '../alerts/model.js';

export const ALERT_COLUMNS = [
  'id', 'rule', 'device_id', 'building_id', 'street', 'status', 'severity', 'opened_at', 'class', 'building_name',
  'acknowledged_by', 'closed_at', 'closed_by', 'outcome', 'doc',
] as const;

/** An alert's values by column, the document as JSON text. */
export function alertParams(a: Alert): Record<(typeof ALERT_COLUMNS)[number], unknown> {
  const { history: _h, ...doc } = a;
  return {
    id: a.id,
    rule: a.rule,
    device_id: a.deviceId,
    building_id: a.buildingId,
    street: a.street,
    status: a.status,
    severity: a.severity,
    opened_at: a.openedAt,
    // the incident record's filter columns (issue #17 item 4), copies of the document's fields
    class: a.class,
    building_name: a.buildingName,
    acknowledged_by: a.acknowledgedBy,
    closed_at: a.closedAt,
    closed_by: a.closedBy,
    outcome: a.outcome,
    doc: JSON.stringify(doc),
  };
}
