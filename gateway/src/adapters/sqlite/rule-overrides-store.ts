/**
 * Rule overrides per building and per device (the levels between a kind's defaults and a single
 * device), as set from the site file or the API. Each row keeps who set it and when: turning a
 * rule off silences a source, and domain.md §2 asks for an audit record of that.
 *
 * Schema scope 'rules' in `schema_migrations`; the constructor applies it. Validation of rule ids
 * and parameters belongs to the rule engine (RuleService.setOverrides); this store keeps what it
 * is given.
 */
import type { RuleOverrides } from '../../domain/rules/types.js';
import { applyMigrations, type Database, type Migration } from './database.js';

export const RULE_OVERRIDE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'rule overrides per building and device, with who and when',
    sql: `
      CREATE TABLE rule_overrides (
        level TEXT NOT NULL CHECK (level IN ('building', 'device')),
        target_id TEXT NOT NULL,
        overrides TEXT NOT NULL,   -- JSON RuleOverrides
        updated_by TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (level, target_id)
      ) WITHOUT ROWID;
    `,
  },
];

export type RuleOverrideLevel = 'building' | 'device';

export interface StoredRuleOverrides {
  readonly level: RuleOverrideLevel;
  readonly id: string;
  readonly overrides: RuleOverrides;
  readonly updatedBy: string;
  readonly updatedAt: number;
}

interface Row {
  level: RuleOverrideLevel;
  target_id: string;
  overrides: string;
  updated_by: string;
  updated_at: number;
}

export class SqliteRuleOverridesStore {
  private readonly stmt;

  constructor(db: Database) {
    applyMigrations(db, 'rules', RULE_OVERRIDE_MIGRATIONS);
    this.stmt = {
      get: db.prepare('SELECT level, target_id, overrides, updated_by, updated_at FROM rule_overrides WHERE level = ? AND target_id = ?'),
      // An empty set is kept rather than deleted: the row still says who cleared the overrides.
      set: db.prepare(
        `INSERT INTO rule_overrides (level, target_id, overrides, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (level, target_id) DO UPDATE SET
           overrides = excluded.overrides, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      ),
      all: db.prepare('SELECT level, target_id, overrides, updated_by, updated_at FROM rule_overrides ORDER BY level, target_id'),
    };
  }

  /** The overrides at one level; `{}` when none were ever set. */
  get(level: RuleOverrideLevel, id: string): RuleOverrides {
    const row = this.stmt.get.get(assertLevel(level), id) as Row | undefined;
    return row === undefined ? {} : (JSON.parse(row.overrides) as RuleOverrides);
  }

  /** Who set the overrides at one level and when; undefined when never set. */
  audit(level: RuleOverrideLevel, id: string): { updatedBy: string; updatedAt: number } | undefined {
    const row = this.stmt.get.get(assertLevel(level), id) as Row | undefined;
    return row === undefined ? undefined : { updatedBy: row.updated_by, updatedAt: row.updated_at };
  }

  /** Replaces the overrides at one level (not a merge: what is sent is what applies). */
  set(level: RuleOverrideLevel, id: string, overrides: RuleOverrides, actor: string, now: number): void {
    if (id.length === 0) throw new Error('rule overrides need a building or device id');
    if (actor.length === 0) throw new Error('rule overrides need an actor for the audit record');
    if (!Number.isFinite(now)) throw new Error(`rule overrides need a time, got ${now}`);
    this.stmt.set.run(assertLevel(level), id, JSON.stringify(overrides), actor, Math.trunc(now));
  }

  /** Every level that was ever set, buildings first, for the rule engine at start-up. */
  all(): StoredRuleOverrides[] {
    return (this.stmt.all.all() as Row[]).map((r) => ({
      level: r.level,
      id: r.target_id,
      overrides: JSON.parse(r.overrides) as RuleOverrides,
      updatedBy: r.updated_by,
      updatedAt: r.updated_at,
    }));
  }
}

function assertLevel(level: string): RuleOverrideLevel {
  if (level !== 'building' && level !== 'device') throw new Error(`rule override level must be 'building' or 'device', got '${level}'`);
  return level;
}
