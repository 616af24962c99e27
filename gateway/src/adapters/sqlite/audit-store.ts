/**
 * The audit log: one row per mutating API request and per refused authentication, with who,
 * which role, what (method + route pattern), on what (the route's :id), when, from where and the
 * outcome. Rows hold no bodies, no query strings and no raw URLs, so no secret can land here: a
 * token travels in a header and a new device secret in an answer body, neither of which is kept.
 *
 * Schema scope 'audit' in `schema_migrations`; the constructor applies it. Append-only: nothing
 * here updates a row, and the only delete is `prune`, retention by age (whole rows older than a
 * cut-off, never a chosen entry), so the log cannot grow without end on a long-running gateway.
 */
import type { ApiRole, AuditEntry, AuditLog, AuditOutcome, AuditQuery, NewAuditEntry } from '../../ports.js';
import { applyMigrations, type Database, type Migration } from './database.js';

export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit log of API actions and refused authentications',
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT,
        role TEXT,
        action TEXT NOT NULL,
        target TEXT,
        ip TEXT NOT NULL,
        status INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed'))
      );
      CREATE INDEX audit_log_at ON audit_log(at);
      CREATE INDEX audit_log_actor ON audit_log(actor, id);
    `,
  },
];

/** Longest value kept per column: they come from outside (ids, addresses) and must not grow rows unbounded. */
const MAX_TEXT = 200;

interface Row {
  id: number;
  at: number;
  actor: string | null;
  role: ApiRole | null;
  action: string;
  target: string | null;
  ip: string;
  status: number;
  outcome: AuditOutcome;
}

const clip = (s: string): string => (s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s);
const clipOrNull = (s: string | null): string | null => (s === null ? null : clip(s));

export class SqliteAuditStore implements AuditLog {
  private readonly insert;
  private readonly deleteBefore;

  constructor(private readonly db: Database) {
    applyMigrations(db, 'audit', AUDIT_MIGRATIONS);
    this.insert = db.prepare(
      'INSERT INTO audit_log (at, actor, role, action, target, ip, status, outcome) VALUES (@at, @actor, @role, @action, @target, @ip, @status, @outcome)',
    );
    this.deleteBefore = db.prepare('DELETE FROM audit_log WHERE at < ?');
  }

  /** Deletes the entries recorded before `before` (epoch ms; uses the `at` index); returns how many. */
  prune(before: number): number {
    if (!Number.isFinite(before)) return 0;
    return this.deleteBefore.run(Math.trunc(before)).changes;
  }

  record(entry: NewAuditEntry): void {
    this.insert.run({
      at: entry.at,
      actor: clipOrNull(entry.actor),
      role: entry.role,
      action: clip(entry.action),
      target: clipOrNull(entry.target),
      ip: clip(entry.ip),
      status: entry.status,
      outcome: entry.outcome,
    });
  }

  list(query: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: query.limit };
    const filters: Array<[keyof AuditQuery, string]> = [
      ['actor', 'actor = @actor'],
      ['action', 'action = @action'],
      ['outcome', 'outcome = @outcome'],
      ['target', 'target = @target'],
      ['since', 'at >= @since'],
      ['until', 'at < @until'],
      ['beforeId', 'id < @beforeId'],
    ];
    for (const [name, clause] of filters) {
      const value = query[name];
      if (value === undefined || typeof value === 'object') continue;
      where.push(clause);
      params[name] = value;
    }
    const sql = `SELECT * FROM audit_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as Row[]).map((r) => ({ ...r }));
  }
}
