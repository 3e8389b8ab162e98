/**
 * AlertStore and MaintenanceStore over PostgreSQL (tables: schema-alerts.ts), the twins of
 * ../sqlite/sqlite-alert-store.ts and ../sqlite/sqlite-feed-stores.ts (SqliteMaintenanceStore).
 * Both pairs pass tests/support/alert-store-contract.ts.
 *
 * An alert is stored as SQLite stores it: the document without its history (json) plus copies of
 * the fields the queries filter, order and page on, and its history entries as rows of their own.
 * A read takes the alert and its history in one statement, so it sees both as one commit left them
 * (two statements could see an update's history without its document, or the reverse). insert and
 * update write the row and the added entries in one transaction.
 *
 * One unclosed alert per device and rule is the database's (ADR 0004, 0008): the partial unique
 * index alerts_one_active refuses a second one, also when two nodes insert at once, and nothing is
 * checked before the write. The refusal keeps node-postgres' DatabaseError (SQLSTATE 23505,
 * `uniqueViolation(err) === ALERTS_ONE_ACTIVE`), as SQLite's store keeps its SqliteError
 * (SQLITE_CONSTRAINT_UNIQUE): both are a storage failure (services/shared/errors.ts
 * isStorageFailure), so AlertService.applyOutcomes rethrows it and the processors' batch is rolled
 * back and retried, and the retry finds the winner's alert and updates it. A second alert with a
 * taken id (a random UUID) and an update of an alert that does not exist with entries to add (the
 * history's foreign key) keep their DatabaseError likewise, as on SQLite.
 *
 * Matching as SQLite matches:
 *   - the incident record's free text `q` is SQLite's `LIKE … ESCAPE '\'` on the building's name or
 *     id, with `%`, `_` and `\` of the text escaped: literal characters. SQLite's LIKE folds A–Z
 *     and nothing else, which ILIKE does under the "C" collation only (the database's own locale
 *     would also fold É to é), so both sides are given that collation
 *   - a commissioning alert is one whose document says `"commissioning": true` (SQLite:
 *     json_extract(…) IS 1); an alert stored before the field existed is not one
 *   - the system alerts (no device) are found by coalesce(device_id, '') = '', the key of the
 *     unique index, as SQLite's IFNULL(device_id, '')
 * Orders have a tie-break by id where SQLite's is left to the plan (unclosed: oldest opened first,
 * then id).
 *
 * Versions (migration 11, schema-alerts.ts): every update adds one to the row's `version`.
 * `updateIfUnchanged` is the update of a caller that decided on a copy it read before (the alert
 * mirror, pg-alert-mirror.ts): it changes the row only while it is at the version that copy had,
 * and otherwise throws StaleAlertError (a ConflictError, 409 alert_changed) with nothing written.
 * `getWithVersion`, `withVersions` and `unclosedWithVersions` read the alerts with their version,
 * each in one statement as the other reads. `update` stays the contract's: unchecked, but it adds
 * one too, so a checked update after it is refused.
 */
import { ALERT_COLUMNS, alertParams } from '../alert-rows.js';
import type {
  Alert,
  AlertFilter,
  AlertRecord,
  AlertRecordFilter,
  AlertRule,
  AlertStore,
  HistoryEntry,
  HistoryInfo,
  MaintenanceStore,
  MaintenanceWindow,
} from '../../alerts/model.js';
import { ConflictError } from '../../shared/errors.js';
import type { PgDatabase } from './database.js';

/** The partial unique index (schema-alerts.ts) that holds one unclosed alert per device and rule. */
export const ALERTS_ONE_ACTIVE = 'alerts_one_active';

/**
 * An update decided on a copy of an alert that is no longer what is stored: another node (or an
 * earlier write of this one) updated it since that copy was read, or it is gone. Nothing was
 * written; read the alert again and decide again (the mirror reloads when its scope rolls back).
 */
export class StaleAlertError extends ConflictError {
  constructor(
    readonly alertId: string,
    /** the version the caller's copy had */
    readonly expectedVersion: number,
  ) {
    super('alert_changed', `警情 ${alertId} 已被其他操作更改，请刷新后重试 / alert ${alertId} was changed since it was read; reload it and try again`);
    this.name = 'StaleAlertError';
  }
}

/** An alert with the version of its row (migration 11): what a checked update expects. */
export interface VersionedAlert {
  alert: Alert;
  version: number;
}

/** A history entry as the read's json_agg gives it (json columns parsed). */
interface HistoryRow {
  at: string;
  action: HistoryEntry['action'];
  by: string;
  detail: string | null;
  by_name: string | null;
  info: HistoryInfo | null;
}

/** An alert's row as node-postgres gives it: the document parsed, its history in order. */
interface AlertRow {
  doc: Omit<Alert, 'history'>;
  history: HistoryRow[];
}

/** An alert's row with its version. */
interface VersionedRow extends AlertRow {
  version: number;
}

interface MaintenanceRow {
  target: MaintenanceWindow['target'];
  target_id: string;
  until: string;
  reason: string;
  by: string;
  created_at: string;
}

/** an entry as stored; the fields of issue #17 item 5 only when the entry has them */
function entryOf(r: HistoryRow): HistoryEntry {
  const e: HistoryEntry = { at: r.at, action: r.action, by: r.by, detail: r.detail };
  if (r.by_name !== null) e.byName = r.by_name;
  if (r.info !== null) e.info = r.info;
  return e;
}

function toAlert(r: AlertRow): Alert {
  const alert = r.doc as Alert;
  alert.history = r.history.map(entryOf);
  alert.commissioning ??= false; // stored before issue #17 item 6
  return alert;
}

/** The row of an alert, as positional values in ALERT_COLUMNS order. */
function alertValues(a: Alert): unknown[] {
  const params = alertParams(a);
  return ALERT_COLUMNS.map((c) => params[c]);
}

const toVersioned = (r: VersionedRow): VersionedAlert => ({ alert: toAlert(r), version: r.version });

const INSERT_ALERT = `INSERT INTO alerts (${ALERT_COLUMNS.join(', ')}) VALUES (${ALERT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
/** every column copied from the document: a replaced alert is found and filtered as it is now; every update is a new version */
const UPDATE_ALERT_SET = `UPDATE alerts SET ${ALERT_COLUMNS.slice(1)
  .map((c, i) => `${c} = $${i + 2}`)
  .join(', ')}, version = version + 1`;
const UPDATE_ALERT = `${UPDATE_ALERT_SET} WHERE id = $1`;
/** the same, only while the row is at the version the caller read (the last parameter) */
const UPDATE_ALERT_IF_VERSION = `${UPDATE_ALERT_SET} WHERE id = $1 AND version = $${ALERT_COLUMNS.length + 1} RETURNING version`;

/** the added entries in one statement, in the order given (the identity follows the rows' order) */
const INSERT_HISTORY = `
  INSERT INTO alert_history (alert_id, at, action, by, detail, by_name, info)
  SELECT $1, e.at, e.action, e.by, e.detail, e.by_name, e.info
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::json[]) WITH ORDINALITY AS e (at, action, by, detail, by_name, info, n)
  ORDER BY e.n`;

/** An alert with its history, in one statement (one snapshot). */
const SELECT_ALERT = `
  SELECT alerts.doc, coalesce((
    SELECT json_agg(json_build_object('at', h.at, 'action', h.action, 'by', h.by, 'detail', h.detail, 'by_name', h.by_name, 'info', h.info) ORDER BY h.id)
    FROM alert_history h WHERE h.alert_id = alerts.id
  ), '[]') AS history
  FROM alerts`;

/** The same with the row's version. */
const SELECT_VERSIONED = SELECT_ALERT.replace('SELECT alerts.doc,', 'SELECT alerts.version, alerts.doc,');

/** a commissioning alert (issue #17 item 6): its document says so; one stored before the field is not */
const IS_COMMISSIONING = "coalesce(doc->>'commissioning' = 'true', false)";

/** A query's WHERE clause and its parameters, numbered as they are added. */
class Where {
  readonly conditions: string[] = [];
  readonly params: unknown[] = [];

  /** Adds a parameter; its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(condition: string): void {
    this.conditions.push(condition);
  }

  /** `column = value` when the value is given */
  eq(column: string, value: string | undefined): void {
    if (value !== undefined) this.add(`${column} = ${this.param(value)}`);
  }

  /** `column` is one of `values` (none: nothing matches) */
  among(column: string, values: readonly string[]): void {
    this.add(`${column} = ANY(${this.param([...values])}::text[])`);
  }

  toString(): string {
    return this.conditions.length ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
}

/** The text of a LIKE pattern that matches `text` anywhere, `%`, `_` and `\` as themselves (escape `\`). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The history rows of `entries`, column by column (unnest's arrays). */
function historyColumns(entries: readonly HistoryEntry[]): unknown[] {
  return [
    entries.map((h) => h.at),
    entries.map((h) => h.action),
    entries.map((h) => h.by),
    entries.map((h) => h.detail),
    entries.map((h) => h.byName ?? null),
    entries.map((h) => (h.info ? JSON.stringify(h.info) : null)),
  ];
}

export class PgAlertStore implements AlertStore {
  constructor(private readonly db: PgDatabase) {}

  async findActive(deviceId: string | null, rule: AlertRule, buildingId?: string | null): Promise<Alert | undefined> {
    // alerts_one_active's key: a device's alert by device and rule; one without a device by building and rule too
    const rows =
      deviceId !== null
        ? await this.db.query<AlertRow>(`${SELECT_ALERT} WHERE device_id = $1 AND rule = $2 AND status <> 'closed'`, [deviceId, rule])
        : await this.db.query<AlertRow>(`${SELECT_ALERT} WHERE device_id IS NULL AND coalesce(building_id, '') = $1 AND rule = $2 AND status <> 'closed'`, [buildingId ?? '', rule]);
    return rows[0] && toAlert(rows[0]);
  }

  /** The alert and its history; a second unclosed alert for its device and rule is refused by alerts_one_active. */
  async insert(alert: Alert): Promise<void> {
    await this.db.transaction(async (client) => {
      await client.query(INSERT_ALERT, alertValues(alert));
      if (alert.history.length > 0) await client.query(INSERT_HISTORY, [alert.id, ...historyColumns(alert.history)]);
    });
  }

  async update(alert: Alert, added: HistoryEntry[]): Promise<void> {
    await this.db.transaction(async (client) => {
      await client.query(UPDATE_ALERT, alertValues(alert));
      if (added.length > 0) await client.query(INSERT_HISTORY, [alert.id, ...historyColumns(added)]);
    });
  }

  /**
   * `update`, only while the stored row is at `expectedVersion`; the row's new version. Another
   * version (or no row): StaleAlertError, and neither the row nor the entries are written.
   */
  async updateIfUnchanged(alert: Alert, added: HistoryEntry[], expectedVersion: number): Promise<number> {
    return this.db.transaction(async (client) => {
      const { rows } = await client.query<{ version: number }>(UPDATE_ALERT_IF_VERSION, [...alertValues(alert), expectedVersion]);
      if (rows.length === 0) throw new StaleAlertError(alert.id, expectedVersion);
      if (added.length > 0) await client.query(INSERT_HISTORY, [alert.id, ...historyColumns(added)]);
      return rows[0]!.version;
    });
  }

  /** The alert (any status) with its version. */
  async getWithVersion(id: string): Promise<VersionedAlert | undefined> {
    const rows = await this.db.query<VersionedRow>(`${SELECT_VERSIONED} WHERE id = $1`, [id]);
    return rows[0] && toVersioned(rows[0]);
  }

  /** The alerts of `ids` that exist (any status) with their versions, in one statement; in no particular order. */
  async withVersions(ids: readonly string[]): Promise<VersionedAlert[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<VersionedRow>(`${SELECT_VERSIONED} WHERE id = ANY($1::text[])`, [[...ids]]);
    return rows.map(toVersioned);
  }

  /** `unclosed` with the versions, in the same order, in one statement. */
  async unclosedWithVersions(): Promise<VersionedAlert[]> {
    const rows = await this.db.query<VersionedRow>(`${SELECT_VERSIONED} WHERE status <> 'closed' ORDER BY opened_at, id`);
    return rows.map(toVersioned);
  }

  async get(id: string): Promise<Alert | undefined> {
    const rows = await this.db.query<AlertRow>(`${SELECT_ALERT} WHERE id = $1`, [id]);
    return rows[0] && toAlert(rows[0]);
  }

  async list(f: AlertFilter): Promise<Alert[]> {
    const where = new Where();
    if (f.status === 'active') where.add("status <> 'closed'");
    else where.eq('status', f.status);
    where.eq('street', f.street);
    where.eq('building_id', f.buildingId);
    where.eq('device_id', f.deviceId);
    where.eq('rule', f.rule);
    where.eq('severity', f.severity);
    if (f.from) where.add(`opened_at >= ${where.param(f.from)}`);
    if (f.to) where.add(`opened_at <= ${where.param(f.to)}`);
    if (f.streets) where.among('street', f.streets);
    if (f.buildingIds) where.among('building_id', f.buildingIds);
    // commissioning alerts (issue #17 item 6) only when asked for: the board and the safety code never see them
    const commissioning = f.commissioning ?? 'exclude';
    if (commissioning !== 'include') where.add(commissioning === 'only' ? IS_COMMISSIONING : `NOT ${IS_COMMISSIONING}`);
    // an incident's alerts (issue #15 item 1): the document's incidentId
    if (f.incidentId === true) where.add("doc->>'incidentId' IS NOT NULL");
    else if (f.incidentId !== undefined) where.add(`doc->>'incidentId' = ${where.param(f.incidentId)}`);
    const sql = `${SELECT_ALERT} ${where} ORDER BY opened_at DESC, id DESC LIMIT ${where.param(f.limit)}`;
    const rows = await this.db.query<AlertRow>(sql, where.params);
    return rows.map(toAlert);
  }

  async records(f: AlertRecordFilter): Promise<AlertRecord[]> {
    const at = f.dateField === 'closed' ? 'closed_at' : 'opened_at';
    const where = new Where();
    where.add(`class = ${where.param(f.class)}`);
    where.add(`${at} IS NOT NULL`);
    // an installer's tests are not incidents (issue #17 item 6)
    where.add(`NOT ${IS_COMMISSIONING}`);
    if (f.from !== undefined) where.add(`${at} >= ${where.param(f.from)}`);
    if (f.to !== undefined) where.add(`${at} <= ${where.param(f.to)}`);
    if (f.status === 'active') where.add("status <> 'closed'");
    else where.eq('status', f.status);
    where.eq('street', f.street);
    where.eq('building_id', f.buildingId);
    where.eq('rule', f.rule);
    where.eq('outcome', f.outcome);
    if (f.person !== undefined) {
      const person = where.param(f.person);
      where.add(`(acknowledged_by = ${person} OR closed_by = ${person})`);
    }
    if (f.q !== undefined) {
      // SQLite's LIKE: A–Z folded, nothing else (see the header)
      const q = where.param(containing(f.q));
      where.add(`(building_name COLLATE "C" ILIKE ${q} ESCAPE '\\' OR building_id COLLATE "C" ILIKE ${q} ESCAPE '\\')`);
    }
    if (f.streets) where.among('street', f.streets);
    if (f.buildingIds) where.among('building_id', f.buildingIds);
    // row value: follows the index
    if (f.after) where.add(`(${at}, id) < (${where.param(f.after.at)}, ${where.param(f.after.id)})`);
    const sql = `SELECT doc FROM alerts ${where} ORDER BY ${at} DESC, id DESC LIMIT ${where.param(f.limit)}`;
    const rows = await this.db.query<{ doc: AlertRecord }>(sql, where.params);
    return rows.map((r) => r.doc);
  }

  async unclosed(): Promise<Alert[]> {
    const rows = await this.db.query<AlertRow>(`${SELECT_ALERT} WHERE status <> 'closed' ORDER BY opened_at, id`);
    return rows.map(toAlert);
  }
}

const toWindow = (r: MaintenanceRow): MaintenanceWindow => ({
  target: r.target,
  targetId: r.target_id,
  until: r.until,
  reason: r.reason,
  by: r.by,
  createdAt: r.created_at,
});

const UPSERT_WINDOW = `
  INSERT INTO maintenance (target, target_id, until, reason, by, created_at) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (target, target_id) DO UPDATE SET until = excluded.until, reason = excluded.reason, by = excluded.by, created_at = excluded.created_at`;

export class PgMaintenanceStore implements MaintenanceStore {
  constructor(private readonly db: PgDatabase) {}

  async set(w: MaintenanceWindow): Promise<void> {
    await this.db.query(UPSERT_WINDOW, [w.target, w.targetId, w.until, w.reason, w.by, w.createdAt]);
  }

  async remove(target: 'device' | 'building', targetId: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM maintenance WHERE target = $1 AND target_id = $2 RETURNING target', [target, targetId]);
    return rows.length > 0;
  }

  async get(target: 'device' | 'building', targetId: string): Promise<MaintenanceWindow | undefined> {
    const rows = await this.db.query<MaintenanceRow>(
      'SELECT target, target_id, until, reason, by, created_at FROM maintenance WHERE target = $1 AND target_id = $2',
      [target, targetId],
    );
    return rows[0] && toWindow(rows[0]);
  }

  /** Every window, expired ones included, in (target, target id) order: what a mirror loads (pg-alert-mirror.ts). */
  async all(): Promise<MaintenanceWindow[]> {
    const rows = await this.db.query<MaintenanceRow>('SELECT target, target_id, until, reason, by, created_at FROM maintenance ORDER BY target, target_id');
    return rows.map(toWindow);
  }
}
