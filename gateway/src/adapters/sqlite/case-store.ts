/**
 * Grid cases in the embedded store: one row per case with the columns the API filters on plus
 * the whole case as JSON (what is saved is what is read back), the history mirrored one row per
 * entry for audit queries, the daily code sequence, and the report jobs' runs (so a restart
 * knows what ran and catches a missed run up once).
 *
 * Schema scope 'cases' in `schema_migrations`; the constructor applies it.
 */
import type { GridCase } from '../../domain/cases/types.js';
import { CASE_STATES, FINAL_STATES } from '../../domain/cases/types.js';
import type { CaseQuery, JobRun } from '../../ports.js';
import { applyMigrations, type Database, type Migration } from './database.js';

export const CASE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'grid cases, history, code sequence, job runs',
    sql: `
      CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN (${CASE_STATES.map((s) => `'${s}'`).join(', ')})),
        category TEXT NOT NULL,
        urgency TEXT NOT NULL CHECK (urgency IN ('urgent', 'normal')),
        building_id TEXT NOT NULL,
        grid_id TEXT,
        community_id TEXT,
        street_id TEXT,
        is_open INTEGER NOT NULL CHECK (is_open IN (0, 1)),
        opened_at INTEGER NOT NULL,
        closed_at INTEGER,
        due_at INTEGER,
        -- earliest unmet step deadline: 'overdue' is next_due_at < now, an index range
        next_due_at INTEGER,
        updated_at INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX cases_opened ON cases(opened_at DESC, id DESC);
      CREATE INDEX cases_building ON cases(building_id, opened_at DESC, id DESC);
      CREATE INDEX cases_grid ON cases(grid_id, opened_at DESC, id DESC);
      CREATE INDEX cases_state ON cases(state, opened_at DESC, id DESC);
      CREATE INDEX cases_open ON cases(opened_at DESC, id DESC) WHERE is_open = 1;
      CREATE INDEX cases_updated ON cases(updated_at);
      CREATE TABLE case_history (
        case_id TEXT NOT NULL REFERENCES cases(id),
        idx INTEGER NOT NULL,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        note TEXT,
        evidence TEXT NOT NULL,
        PRIMARY KEY (case_id, idx)
      ) WITHOUT ROWID;
      CREATE INDEX case_history_at ON case_history(at);
      CREATE TABLE case_alerts (
        alert_id TEXT NOT NULL,
        case_id TEXT NOT NULL REFERENCES cases(id),
        PRIMARY KEY (alert_id, case_id)
      ) WITHOUT ROWID;
      CREATE TABLE case_code_seq (
        day TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE job_runs (
        name TEXT PRIMARY KEY,
        slot INTEGER NOT NULL,
        ran_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        detail TEXT
      ) WITHOUT ROWID;
    `,
  },
];

export const MAX_CASE_PAGE = 10_000;

interface Row {
  doc: string;
}

/** Kept open = still in the case book's hands (closed cases stay in it for the reopen window, but are not open). */
export function isOpenCase(c: GridCase): boolean {
  return !FINAL_STATES.has(c.state);
}

function nextDueAt(c: GridCase): number | null {
  if (!isOpenCase(c)) return null;
  let next: number | null = null;
  for (const d of Object.values(c.deadlines)) if (d !== null && d.metAt === null && (next === null || d.dueAt < next)) next = d.dueAt;
  return next;
}

export class SqliteCaseStore {
  private readonly stmt;
  private readonly listStatements = new Map<string, ReturnType<Database['prepare']>>();

  constructor(private readonly db: Database) {
    applyMigrations(db, 'cases', CASE_MIGRATIONS);
    this.stmt = {
      upsert: db.prepare(
        `INSERT INTO cases (id, code, state, category, urgency, building_id, grid_id, community_id, street_id, is_open, opened_at, closed_at, due_at, next_due_at, updated_at, doc)
         VALUES (@id, @code, @state, @category, @urgency, @buildingId, @gridId, @communityId, @streetId, @isOpen, @openedAt, @closedAt, @dueAt, @nextDueAt, @updatedAt, @doc)
         ON CONFLICT (id) DO UPDATE SET
           state = excluded.state, category = excluded.category, urgency = excluded.urgency, building_id = excluded.building_id,
           grid_id = excluded.grid_id, community_id = excluded.community_id, street_id = excluded.street_id,
           is_open = excluded.is_open, closed_at = excluded.closed_at, due_at = excluded.due_at,
           next_due_at = excluded.next_due_at, updated_at = excluded.updated_at, doc = excluded.doc`,
      ),
      history: db.prepare(
        `INSERT OR IGNORE INTO case_history (case_id, idx, at, action, actor, role, from_state, to_state, note, evidence)
         VALUES (@caseId, @idx, @at, @action, @actor, @role, @from, @to, @note, @evidence)`,
      ),
      historyCount: db.prepare('SELECT COUNT(*) AS n FROM case_history WHERE case_id = ?'),
      link: db.prepare('INSERT OR IGNORE INTO case_alerts (alert_id, case_id) VALUES (?, ?)'),
      get: db.prepare('SELECT doc FROM cases WHERE id = ?'),
      byCode: db.prepare('SELECT doc FROM cases WHERE code = ?'),
      byAlert: db.prepare('SELECT c.doc FROM case_alerts a JOIN cases c ON c.id = a.case_id WHERE a.alert_id = ? ORDER BY c.opened_at DESC'),
      open: db.prepare('SELECT doc FROM cases WHERE is_open = 1 ORDER BY opened_at DESC, id DESC'),
      closedSince: db.prepare("SELECT doc FROM cases WHERE state IN ('closed', 'evaluated') AND closed_at >= ?"),
      touching: db.prepare('SELECT doc FROM cases WHERE opened_at < @to AND (is_open = 1 OR updated_at >= @from) ORDER BY opened_at, id'),
      nextSeq: db.prepare('INSERT INTO case_code_seq (day, seq) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET seq = seq + 1 RETURNING seq'),
      jobRun: db.prepare('SELECT name, slot, ran_at AS ranAt, status, detail FROM job_runs WHERE name = ?'),
      recordJob: db.prepare(
        `INSERT INTO job_runs (name, slot, ran_at, status, detail) VALUES (@name, @slot, @ranAt, @status, @detail)
         ON CONFLICT (name) DO UPDATE SET slot = excluded.slot, ran_at = excluded.ran_at, status = excluded.status, detail = excluded.detail`,
      ),
    };
  }

  /** Upserts cases, their new history entries and alert links in one transaction. */
  save(cases: readonly GridCase[]): void {
    if (cases.length === 0) return;
    this.db.transaction(() => {
      for (const c of cases) {
        this.stmt.upsert.run({
          id: c.id,
          code: c.code,
          state: c.state,
          category: c.category,
          urgency: c.urgency,
          buildingId: c.buildingId,
          gridId: c.gridId,
          communityId: c.communityId,
          streetId: c.streetId,
          isOpen: isOpenCase(c) ? 1 : 0,
          openedAt: c.openedAt,
          closedAt: c.state === 'closed' || c.state === 'evaluated' ? (c.times.closed ?? null) : null,
          dueAt: c.dueAt,
          nextDueAt: nextDueAt(c),
          updatedAt: c.updatedAt,
          doc: JSON.stringify(c),
        });
        const stored = (this.stmt.historyCount.get(c.id) as { n: number }).n;
        c.history.forEach((h, idx) => {
          if (idx < stored) return;
          this.stmt.history.run({ caseId: c.id, idx, at: h.at, action: h.action, actor: h.actor, role: h.role, from: h.from, to: h.to, note: h.note, evidence: JSON.stringify(h.evidence) });
        });
        for (const alertId of c.alertIds) this.stmt.link.run(alertId, c.id);
      }
    })();
  }

  get(id: string): GridCase | undefined {
    const row = this.stmt.get.get(id) as Row | undefined;
    return row === undefined ? undefined : parse(row);
  }

  byCode(code: string): GridCase | undefined {
    const row = this.stmt.byCode.get(code) as Row | undefined;
    return row === undefined ? undefined : parse(row);
  }

  /** Cases an alert is linked to, newest first. */
  byAlert(alertId: string): GridCase[] {
    return (this.stmt.byAlert.all(alertId) as Row[]).map(parse);
  }

  /** What the case book resumes with: open cases and those closed since `closedSince` (the reopen window). */
  resumable(closedSince: number): GridCase[] {
    const open = (this.stmt.open.all() as Row[]).map(parse);
    const closed = (this.stmt.closedSince.all(closedSince) as Row[]).map(parse);
    return [...open, ...closed];
  }

  /** Cases that may count in KPIs of [from, to): opened before `to` and open, or changed since `from`. */
  touching(from: number, to: number): GridCase[] {
    return (this.stmt.touching.all({ from, to }) as Row[]).map(parse);
  }

  /**
   * Newest first by (openedAt, id), keyset `before`. `buildingIds: []` matches nothing;
   * `overdue` compares the earliest unmet deadline with `now`.
   */
  list(query: CaseQuery): GridCase[] {
    if (query.buildingIds !== undefined && query.buildingIds.length === 0) return [];
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    const eq = (column: string, name: string, value: unknown) => {
      if (value === undefined) return;
      where.push(`${column} = @${name}`);
      params[name] = value;
    };
    if (query.state === 'open') where.push('is_open = 1');
    else eq('state', 'state', query.state);
    eq('category', 'category', query.category);
    eq('urgency', 'urgency', query.urgency);
    eq('grid_id', 'gridId', query.gridId);
    if (query.buildingIds !== undefined) {
      where.push('building_id IN (SELECT value FROM json_each(@buildingIds))');
      params.buildingIds = JSON.stringify(query.buildingIds);
    }
    if (query.overdue !== undefined) {
      where.push(query.overdue ? 'next_due_at < @now' : '(next_due_at IS NULL OR next_due_at >= @now)');
      params.now = query.now;
    }
    if (query.since !== undefined) {
      where.push('opened_at >= @since');
      params.since = query.since;
    }
    if (query.before !== undefined) {
      where.push('(opened_at < @beforeOpenedAt OR (opened_at = @beforeOpenedAt AND id < @beforeId))');
      params.beforeOpenedAt = query.before.openedAt;
      params.beforeId = query.before.id;
    }
    params.limit = Math.max(1, Math.min(Math.floor(Number.isFinite(query.limit) ? query.limit : 1), MAX_CASE_PAGE));
    const sql = `SELECT doc FROM cases${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY opened_at DESC, id DESC LIMIT @limit`;
    let stmt = this.listStatements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.listStatements.set(sql, stmt);
    }
    return (stmt.all(params) as Row[]).map(parse);
  }

  /** The next sequence number of a local day, for case codes (atomic: two cases never share a code). */
  nextSequence(day: string): number {
    return (this.stmt.nextSeq.get(day) as { seq: number }).seq;
  }

  jobRun(name: string): JobRun | undefined {
    return this.stmt.jobRun.get(name) as JobRun | undefined;
  }

  recordJobRun(run: JobRun): void {
    this.stmt.recordJob.run({ name: run.name, slot: run.slot, ranAt: run.ranAt, status: run.status, detail: run.detail });
  }
}

function parse(row: Row): GridCase {
  return JSON.parse(row.doc) as GridCase;
}
