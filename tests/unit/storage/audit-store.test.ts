/**
 * SqliteAuditStore.prune: retention by age over a real SQLite file. Entries before the cut-off go,
 * the rest stay intact and still list newest first; a non-finite cut-off deletes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../../../gateway/src/adapters/sqlite/audit-store.js';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { tempDir, type TempDir } from './support/fixtures.js';

describe('SqliteAuditStore.prune', () => {
  let dir: TempDir;
  let db: Database;
  let audit: SqliteAuditStore;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(dir.file('gridwatch.db'));
    audit = new SqliteAuditStore(db);
    for (const at of [1_000, 2_000, 3_000, 4_000]) {
      audit.record({ at, actor: `t-${at}`, role: 'staff', action: 'POST /api/v1/cases', target: null, ip: '127.0.0.1', status: 201, outcome: 'ok' });
    }
  });

  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('deletes the entries before the cut-off and returns how many', () => {
    expect(audit.prune(3_000)).toBe(2);
    expect(audit.list({ limit: 10 }).map((e) => e.at)).toEqual([4_000, 3_000]);
    expect(audit.prune(3_000)).toBe(0);
    // A later record still gets the next id: ids never come back (AUTOINCREMENT).
    const before = audit.list({ limit: 1 })[0]!.id;
    audit.record({ at: 5_000, actor: null, role: null, action: 'auth', target: null, ip: '10.0.0.9', status: 401, outcome: 'refused' });
    expect(audit.list({ limit: 1 })[0]!.id).toBeGreaterThan(before);
  });

  it('deletes nothing for a non-finite cut-off, everything for one past the newest', () => {
    expect(audit.prune(Number.NaN)).toBe(0);
    expect(audit.prune(Number.POSITIVE_INFINITY)).toBe(0);
    expect(audit.list({ limit: 10 })).toHaveLength(4);
    expect(audit.prune(4_001)).toBe(4);
    expect(audit.list({ limit: 10 })).toEqual([]);
  });
});
