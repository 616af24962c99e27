/**
 * Alerts in the embedded store: one row per alert with the columns the API filters on, plus the
 * whole alert (history included) as a JSON document, so what is saved is exactly what is read
 * back. The rule engine's state (timers, windows, CO exposure) is kept here too, as one document,
 * so a restart resumes held-open timers and verification windows instead of forgetting them.
 *
 * Schema scope 'alerts' in `schema_migrations`; the constructor applies it, so composing the
 * store needs nothing but the database.
 */
import type { Alert } from '../../domain/alerts/types.js';
import { ALERT_STATES } from '../../domain/alerts/types.js';
import type { AlertQuery, AlertStore } from '../../ports.js';
import { applyMigrations, type Database, type Migration } from './database.js';

export const ALERT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'alerts with history, rule engine state',
    // is_open is derived on save (see isOpen) so that open() at start-up is an index range, not
    // a scan of every alert ever raised.
    sql: `
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        building_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        type TEXT NOT NULL,
        signal_class TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN (${ALERT_STATES.map((s) => `'${s}'`).join(', ')})),
        is_open INTEGER NOT NULL CHECK (is_open IN (0, 1)),
        raised_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        closed_at INTEGER,
        doc TEXT NOT NULL          -- the whole Alert as JSON, history included
      );
      CREATE INDEX alerts_raised ON alerts(raised_at DESC, id DESC);
      CREATE INDEX alerts_building ON alerts(building_id, raised_at DESC, id DESC);
      CREATE INDEX alerts_device ON alerts(device_id, raised_at DESC, id DESC);
      CREATE INDEX alerts_state ON alerts(state, raised_at DESC, id DESC);
      CREATE INDEX alerts_class ON alerts(signal_class, raised_at DESC, id DESC);
      CREATE INDEX alerts_open ON alerts(raised_at DESC, id DESC) WHERE is_open = 1;
      CREATE TABLE alert_rule_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        doc TEXT NOT NULL
      );
    `,
  },
];

/** Upper bound on one list() page, whatever the caller asks for. */
export const MAX_ALERT_PAGE = 10_000;

/**
 * Open = still needs someone's attention or a timer: any state but normal, or — while not
 * closed — latched (waiting for a reset), shelved (auto-unshelve pending) or disabled (expiry
 * pending). domain.md §4: on leaving a side state the condition is re-evaluated, so those alerts
 * must be reloaded at start-up even when their state reads normal.
 */
export function isOpen(alert: Alert): boolean {
  if (alert.state !== 'normal') return true;
  if (alert.closedAt !== null) return false;
  return alert.latched || alert.shelvedUntil !== null || alert.disabled !== null;
}

interface Row {
  doc: string;
}

export class SqliteAlertStore implements AlertStore {
  private readonly db: Database;
  private readonly stmt;
  /** list() statements by shape (which filters are present): at most 2^6 of them. */
  private readonly listStatements = new Map<string, ReturnType<Database['prepare']>>();

  constructor(db: Database) {
    this.db = db;
    applyMigrations(db, 'alerts', ALERT_MIGRATIONS);
    this.stmt = {
      upsert: db.prepare(
        `INSERT INTO alerts (id, device_id, building_id, kind, type, signal_class, state, is_open, raised_at, last_seen_at, closed_at, doc)
         VALUES (@id, @deviceId, @buildingId, @kind, @type, @signalClass, @state, @isOpen, @raisedAt, @lastSeenAt, @closedAt, @doc)
         ON CONFLICT (id) DO UPDATE SET
           device_id = excluded.device_id, building_id = excluded.building_id, kind = excluded.kind,
           type = excluded.type, signal_class = excluded.signal_class, state = excluded.state,
           is_open = excluded.is_open, raised_at = excluded.raised_at, last_seen_at = excluded.last_seen_at,
           closed_at = excluded.closed_at, doc = excluded.doc`,
      ),
      get: db.prepare('SELECT doc FROM alerts WHERE id = ?'),
      open: db.prepare('SELECT doc FROM alerts WHERE is_open = 1 ORDER BY raised_at DESC, id DESC'),
      saveRuleState: db.prepare(
        'INSERT INTO alert_rule_state (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc',
      ),
      clearRuleState: db.prepare('DELETE FROM alert_rule_state WHERE id = 1'),
      loadRuleState: db.prepare('SELECT doc FROM alert_rule_state WHERE id = 1'),
    };
  }

  /** Upserts every alert in one transaction: a crash leaves all of them saved or none. */
  save(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    const rows = alerts.map((a) => ({
      id: a.id,
      deviceId: a.source.deviceId,
      buildingId: a.source.buildingId,
      kind: a.source.kind,
      type: a.type,
      signalClass: a.signalClass,
      state: a.state,
      isOpen: isOpen(a) ? 1 : 0,
      raisedAt: a.raisedAt,
      lastSeenAt: a.lastSeenAt,
      closedAt: a.closedAt,
      doc: JSON.stringify(a),
    }));
    this.db.transaction(() => {
      for (const row of rows) this.stmt.upsert.run(row);
    })();
  }

  get(id: string): Alert | undefined {
    const row = this.stmt.get.get(id) as Row | undefined;
    return row === undefined ? undefined : parse(row);
  }

  /**
   * Newest first by (raisedAt, id); `before` continues after the last alert of the previous
   * page, so pages stay stable while new alerts are raised. `buildingIds: []` matches nothing
   * (a caller who may see no building sees no alert); leaving it out matches every building.
   */
  list(query: AlertQuery): Alert[] {
    if (query.buildingIds !== undefined && query.buildingIds.length === 0) return [];
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.state === 'open') where.push('is_open = 1');
    else if (query.state !== undefined) {
      where.push('state = @state');
      params.state = query.state;
    }
    if (query.signalClass !== undefined) {
      where.push('signal_class = @signalClass');
      params.signalClass = query.signalClass;
    }
    if (query.buildingIds !== undefined) {
      // One bound JSON array instead of one parameter per building: a street's staff may see
      // thousands, and the statement stays the same for every caller.
      where.push('building_id IN (SELECT value FROM json_each(@buildingIds))');
      params.buildingIds = JSON.stringify(query.buildingIds);
    }
    if (query.deviceId !== undefined) {
      where.push('device_id = @deviceId');
      params.deviceId = query.deviceId;
    }
    if (query.since !== undefined) {
      where.push('raised_at >= @since');
      params.since = query.since;
    }
    if (query.before !== undefined) {
      where.push('(raised_at < @beforeRaisedAt OR (raised_at = @beforeRaisedAt AND id < @beforeId))');
      params.beforeRaisedAt = query.before.raisedAt;
      params.beforeId = query.before.id;
    }
    params.limit = clampLimit(query.limit);
    const sql = `SELECT doc FROM alerts${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`}
                 ORDER BY raised_at DESC, id DESC LIMIT @limit`;
    let stmt = this.listStatements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.listStatements.set(sql, stmt);
    }
    return (stmt.all(params) as Row[]).map(parse);
  }

  open(): Alert[] {
    return (this.stmt.open.all() as Row[]).map(parse);
  }

  /** `undefined` clears the saved state (nothing to resume). */
  saveRuleState(state: unknown): void {
    if (state === undefined) {
      this.stmt.clearRuleState.run();
      return;
    }
    let doc: string;
    try {
      doc = JSON.stringify(state);
    } catch (err) {
      throw new Error(`rule engine state is not JSON-serialisable: ${(err as Error).message}`, { cause: err });
    }
    this.stmt.saveRuleState.run(doc);
  }

  /** The last saved state, or undefined when none was saved. */
  loadRuleState(): unknown {
    const row = this.stmt.loadRuleState.get() as Row | undefined;
    return row === undefined ? undefined : (JSON.parse(row.doc) as unknown);
  }
}

function parse(row: Row): Alert {
  return JSON.parse(row.doc) as Alert;
}

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 1;
  return Math.max(1, Math.min(Math.floor(limit), MAX_ALERT_PAGE));
}
