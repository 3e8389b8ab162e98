/** AlertStore over SQLite: indexed columns for filtering, the alert itself as a JSON document, history in its own table. */
import type { Alert, AlertFilter, AlertRecord, AlertRecordFilter, AlertRule, AlertStore, HistoryEntry, HistoryInfo } from '../../alerts/model.js';
import { alertParams } from '../alert-rows.js';
import type { Db } from './database.js';

interface Row {
  doc: string;
  id: string;
}

interface HistoryRow {
  at: string;
  action: HistoryEntry['action'];
  by: string;
  detail: string | null;
  by_name: string | null;
  info: string | null;
}

/** an entry as stored; the fields of issue #17 item 5 only when the entry has them */
function entryOf(r: HistoryRow): HistoryEntry {
  const e: HistoryEntry = { at: r.at, action: r.action, by: r.by, detail: r.detail };
  if (r.by_name !== null) e.byName = r.by_name;
  if (r.info !== null) e.info = JSON.parse(r.info) as HistoryInfo;
  return e;
}

export class SqliteAlertStore implements AlertStore {
  private readonly historyStmt;
  private readonly insertHistory;

  constructor(private readonly db: Db) {
    this.historyStmt = db.prepare('SELECT at, action, by, detail, by_name, info FROM alert_history WHERE alert_id = ? ORDER BY id');
    this.insertHistory = db.prepare('INSERT INTO alert_history (alert_id, at, action, by, detail, by_name, info) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  private hydrate(row: Row): Alert {
    const alert = JSON.parse(row.doc) as Alert;
    alert.history = (this.historyStmt.all(row.id) as HistoryRow[]).map(entryOf);
    alert.commissioning ??= false; // stored before issue #17 item 6
    return alert;
  }

  private insertEntry(alertId: string, h: HistoryEntry): void {
    this.insertHistory.run(alertId, h.at, h.action, h.by, h.detail, h.byName ?? null, h.info ? JSON.stringify(h.info) : null);
  }

  findActive(deviceId: string | null, rule: AlertRule, buildingId?: string | null): Alert | undefined {
    // alerts_one_active's key: a device's alert by device and rule; one without a device by building and rule too
    const row = (
      deviceId !== null
        ? this.db.prepare("SELECT id, doc FROM alerts WHERE device_id = ? AND rule = ? AND status != 'closed'").get(deviceId, rule)
        : this.db.prepare("SELECT id, doc FROM alerts WHERE device_id IS NULL AND IFNULL(building_id, '') = ? AND rule = ? AND status != 'closed'").get(buildingId ?? '', rule)
    ) as Row | undefined;
    return row && this.hydrate(row);
  }

  insert(alert: Alert): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO alerts (id, rule, device_id, building_id, street, status, severity, opened_at, class, building_name, acknowledged_by, closed_at, closed_by, outcome, doc)
           VALUES (@id, @rule, @device_id, @building_id, @street, @status, @severity, @opened_at, @class, @building_name, @acknowledged_by, @closed_at, @closed_by, @outcome, @doc)`,
        )
        .run(alertParams(alert));
      for (const h of alert.history) this.insertEntry(alert.id, h);
    })();
  }

  update(alert: Alert, added: HistoryEntry[]): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          // every column copied from the document: a replaced alert is found and filtered as it is now
          `UPDATE alerts SET rule = @rule, device_id = @device_id, building_id = @building_id, street = @street, status = @status,
             severity = @severity, opened_at = @opened_at, class = @class, building_name = @building_name, acknowledged_by = @acknowledged_by,
             closed_at = @closed_at, closed_by = @closed_by, outcome = @outcome, doc = @doc WHERE id = @id`,
        )
        .run(alertParams(alert));
      for (const h of added) this.insertEntry(alert.id, h);
    })();
  }

  get(id: string): Alert | undefined {
    const row = this.db.prepare('SELECT id, doc FROM alerts WHERE id = ?').get(id) as Row | undefined;
    return row && this.hydrate(row);
  }

  list(f: AlertFilter): Alert[] {
    const where: string[] = [];
    const p: Record<string, unknown> = { limit: f.limit };
    const eq = (column: string, name: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(`${column} = @${name}`);
      p[name] = value;
    };
    if (f.status === 'active') where.push("status != 'closed'");
    else eq('status', 'status', f.status);
    eq('street', 'street', f.street);
    eq('building_id', 'buildingId', f.buildingId);
    eq('device_id', 'deviceId', f.deviceId);
    eq('rule', 'rule', f.rule);
    eq('severity', 'severity', f.severity);
    if (f.from) {
      where.push('opened_at >= @from');
      p.from = f.from;
    }
    if (f.to) {
      where.push('opened_at <= @to');
      p.to = f.to;
    }
    if (f.streets) {
      where.push(`street IN (SELECT value FROM json_each(@streets))`);
      p.streets = JSON.stringify(f.streets);
    }
    if (f.buildingIds) {
      where.push(`building_id IN (SELECT value FROM json_each(@buildingIds))`);
      p.buildingIds = JSON.stringify(f.buildingIds);
    }
    // commissioning alerts (issue #17 item 6) only when asked for: the board and the safety code never see them
    const commissioning = f.commissioning ?? 'exclude';
    if (commissioning !== 'include') where.push(`json_extract(doc, '$.commissioning') IS ${commissioning === 'only' ? '' : 'NOT '}1`);
    // an incident's alerts (issue #15 item 1): the document's incidentId
    if (f.incidentId === true) where.push("json_extract(doc, '$.incidentId') IS NOT NULL");
    else if (f.incidentId !== undefined) {
      where.push("json_extract(doc, '$.incidentId') = @incidentId");
      p.incidentId = f.incidentId;
    }
    const sql = `SELECT id, doc FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(p) as Row[]).map((r) => this.hydrate(r));
  }

  records(f: AlertRecordFilter): AlertRecord[] {
    const at = f.dateField === 'closed' ? 'closed_at' : 'opened_at';
    const where = ['class = @class', `${at} IS NOT NULL`];
    // an installer's tests are not incidents (issue #17 item 6)
    where.push("json_extract(doc, '$.commissioning') IS NOT 1");
    const p: Record<string, unknown> = { class: f.class, limit: f.limit };
    const add = (sql: string, values: Record<string, unknown>) => {
      where.push(sql);
      Object.assign(p, values);
    };
    if (f.from !== undefined) add(`${at} >= @from`, { from: f.from });
    if (f.to !== undefined) add(`${at} <= @to`, { to: f.to });
    if (f.status === 'active') where.push("status != 'closed'");
    else if (f.status !== undefined) add('status = @status', { status: f.status });
    if (f.street !== undefined) add('street = @street', { street: f.street });
    if (f.buildingId !== undefined) add('building_id = @buildingId', { buildingId: f.buildingId });
    if (f.rule !== undefined) add('rule = @rule', { rule: f.rule });
    if (f.outcome !== undefined) add('outcome = @outcome', { outcome: f.outcome });
    if (f.person !== undefined) add('(acknowledged_by = @person OR closed_by = @person)', { person: f.person });
    if (f.q !== undefined) {
      add("(building_name LIKE @q ESCAPE '\\' OR building_id LIKE @q ESCAPE '\\')", { q: `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` });
    }
    if (f.streets) add('street IN (SELECT value FROM json_each(@streets))', { streets: JSON.stringify(f.streets) });
    if (f.buildingIds) add('building_id IN (SELECT value FROM json_each(@buildingIds))', { buildingIds: JSON.stringify(f.buildingIds) });
    if (f.after) add(`(${at}, id) < (@afterAt, @afterId)`, { afterAt: f.after.at, afterId: f.after.id }); // row value: follows the index
    const sql = `SELECT doc FROM alerts WHERE ${where.join(' AND ')} ORDER BY ${at} DESC, id DESC LIMIT @limit`;
    return (this.db.prepare(sql).pluck().all(p) as string[]).map((doc) => JSON.parse(doc) as AlertRecord);
  }

  unclosed(): Alert[] {
    return (this.db.prepare("SELECT id, doc FROM alerts WHERE status != 'closed' ORDER BY opened_at").all() as Row[]).map((r) =>
      this.hydrate(r),
    );
  }
}
