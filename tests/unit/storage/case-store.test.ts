import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteCaseStore } from '../../../gateway/src/adapters/sqlite/case-store.js';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import type { GridCase } from '../../../gateway/src/domain/cases/types.js';
import { COMMUNITY, PLACE_B1, PLACE_B3, WORKER, alert, book, changeOf, local } from '../cases/support.js';
import { tempDir, type TempDir } from './support/fixtures.js';

const T = local('2026-11-26 10:00');

describe('SqliteCaseStore', () => {
  let dir: TempDir;
  let db: Database;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(dir.file('gridwatch.db'));
  });
  afterEach(() => {
    if (db.open) db.close();
    dir.remove();
  });

  function seeded(): { store: SqliteCaseStore; fire: GridCase; manual: GridCase; cancelled: GridCase } {
    const store = new SqliteCaseStore(db);
    const b = book();
    const a = alert('smoke.alarm', T);
    const fire = b.onAlertChange(changeOf(a), PLACE_B1, T).at(-1)!.case;
    const manual = b.open({ place: PLACE_B3, category: 'other', urgency: 'normal', title: 'Noise', description: '' }, WORKER, T + 1000).at(-1)!.case;
    const toCancel = b.open({ place: PLACE_B3, category: 'other', urgency: 'normal', title: 'Dup', description: '' }, WORKER, T + 2000).at(-1)!.case;
    const cancelled = b.act(toCancel.id, { action: 'cancel', note: 'duplicate' }, COMMUNITY, T + 3000).at(-1)!.case;
    store.save([fire, manual, cancelled]);
    return { store, fire, manual, cancelled };
  }

  it('reads back exactly what it saved, and mirrors the history and the alert links', () => {
    const { store, fire } = seeded();
    expect(store.get(fire.id)).toEqual(fire);
    expect(store.byCode(fire.code)).toEqual(fire);
    expect(store.byAlert(fire.alertIds[0]!).map((c) => c.id)).toEqual([fire.id]);
    const rows = db.prepare('SELECT idx, action, to_state AS toState, evidence FROM case_history WHERE case_id = ? ORDER BY idx').all(fire.id) as Array<{ idx: number; action: string; toState: string; evidence: string }>;
    expect(rows.map((r) => r.action)).toEqual(['opened', 'verify', 'register', 'dispatch']);
    expect(JSON.parse(rows[0]!.evidence)).toEqual([`alert:${fire.alertIds[0]}`]);
    // Saving again adds only the new entries.
    store.save([fire]);
    expect((db.prepare('SELECT COUNT(*) AS n FROM case_history').get() as { n: number }).n).toBe(4 + 1 + 2);
  });

  it('lists newest first with filters, scope and keyset pages', () => {
    const { store, fire, manual, cancelled } = seeded();
    expect(store.list({ limit: 10 }).map((c) => c.id)).toEqual([cancelled.id, manual.id, fire.id]);
    expect(store.list({ limit: 10, state: 'open' }).map((c) => c.id)).toEqual([manual.id, fire.id]);
    expect(store.list({ limit: 10, urgency: 'urgent' }).map((c) => c.id)).toEqual([fire.id]);
    expect(store.list({ limit: 10, category: 'other', gridId: 'g2' }).map((c) => c.id)).toEqual([cancelled.id, manual.id]);
    expect(store.list({ limit: 10, buildingIds: ['b1'] }).map((c) => c.id)).toEqual([fire.id]);
    expect(store.list({ limit: 10, buildingIds: [] })).toEqual([]);
    expect(store.list({ limit: 10, since: T + 1000 }).map((c) => c.id)).toEqual([cancelled.id, manual.id]);
    const page = store.list({ limit: 1, before: { openedAt: manual.openedAt, id: manual.id } });
    expect(page.map((c) => c.id)).toEqual([fire.id]);
    // Overdue: the fire case's accept step is due an hour after opening.
    expect(store.list({ limit: 10, overdue: true, now: T + 30 * 60_000 })).toEqual([]);
    expect(store.list({ limit: 10, overdue: true, now: T + 61 * 60_000 }).map((c) => c.id)).toContain(fire.id);
    expect(store.list({ limit: 10, overdue: false, now: T + 61 * 60_000 }).map((c) => c.id)).toEqual([cancelled.id]);
  });

  it('resumes open cases (not cancelled ones), finds the cases of a period, and numbers codes per day', () => {
    const { store, fire, manual } = seeded();
    expect(store.resumable(0).map((c) => c.id).sort()).toEqual([fire.id, manual.id].sort());
    expect(store.touching(T - 1, T + 10_000)).toHaveLength(3);
    expect(store.touching(T + 10_000, T + 20_000).map((c) => c.id).sort()).toEqual([fire.id, manual.id].sort());
    expect(store.nextSequence('2026-11-26')).toBe(1);
    expect(store.nextSequence('2026-11-26')).toBe(2);
    expect(store.nextSequence('2026-11-27')).toBe(1);
  });

  it('records job runs, and everything survives reopening the file', () => {
    const { store, fire } = seeded();
    expect(store.jobRun('cases.report.daily')).toBeUndefined();
    store.recordJobRun({ name: 'cases.report.daily', slot: T, ranAt: T + 5, status: 'ok', detail: '3 reports' });
    store.recordJobRun({ name: 'cases.report.daily', slot: T + 86_400_000, ranAt: T + 86_400_005, status: 'failed', detail: 'boom' });
    db.close();
    db = openDatabase(dir.file('gridwatch.db'));
    const again = new SqliteCaseStore(db);
    expect(again.jobRun('cases.report.daily')).toEqual({ name: 'cases.report.daily', slot: T + 86_400_000, ranAt: T + 86_400_005, status: 'failed', detail: 'boom' });
    expect(again.get(fire.id)).toEqual(fire);
    void store;
  });
});
