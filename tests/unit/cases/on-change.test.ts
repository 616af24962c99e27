/**
 * Cases.onChange: every committed case change reaches the listeners in order, after it is
 * stored (the live stream and InfluxDB hang off it); a listener that throws is logged and neither
 * breaks the action nor keeps the other listeners from hearing it.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../../../gateway/src/adapters/notify/index.js';
import { SqliteCaseStore } from '../../../gateway/src/adapters/sqlite/case-store.js';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { SqliteSiteStore } from '../../../gateway/src/adapters/sqlite/site-store.js';
import { Cases } from '../../../gateway/src/app/cases.js';
import type { CaseChange } from '../../../gateway/src/domain/cases/types.js';
import { tempDir, type TempDir } from '../storage/support/fixtures.js';
import { MIN, WORKER, alert, changeOf, local } from './support.js';

describe('Cases.onChange', () => {
  let dir: TempDir;
  let db: Database;
  let site: SqliteSiteStore;
  let t: number;
  let logged: Array<{ msg: string; caseId?: string }>;
  let cases: Cases;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(dir.file('gridwatch.db'));
    site = new SqliteSiteStore(db);
    site.upsertStreet({ id: 's1', code: '110105001', name: 'Street' });
    site.upsertCommunity({ id: 'c1', streetId: 's1', code: '110105001001', name: 'Community' });
    site.upsertGrid({ id: 'g1', communityId: 'c1', code: '11010500100101', name: 'Grid' });
    site.upsertBuilding({ id: 'b1', gridId: 'g1', name: 'Building 1', address: null, floors: 6 });
    site.upsertPerson({ id: 'worker-1', name: 'Worker', role: 'grid_worker', scope: ['g1'], channels: [{ type: 'webhook', target: 'http://127.0.0.1:9/w' }] });
    t = local('2026-11-26 10:00');
    logged = [];
    // A real pino logger writing into an array, so the test sees what an operator would.
    const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line) as { msg: string; caseId?: string }) });
    const clock = { now: () => t };
    cases = new Cases({ db, clock, log, site, store: new SqliteCaseStore(db), outbox: new SqliteOutbox(db, { senders: [], clock }) });
  });

  afterEach(() => {
    cases.stop();
    db.close();
    dir.remove();
  });

  it('tells listeners of each committed change in order, with the stored case', () => {
    const seen: CaseChange[] = [];
    cases.onChange((c) => {
      // Called after the commit: the store already holds the case in this state.
      expect(cases.get(c.case.id)?.state).toBeDefined();
      expect(new SqliteCaseStore(db).get(c.case.id)?.history.length).toBeGreaterThanOrEqual(c.case.history.length);
      seen.push(c);
    });
    cases.onAlertChange(changeOf(alert('smoke.alarm', t)));
    expect(seen.length).toBeGreaterThan(0);
    const opened = seen[seen.length - 1]!.case;
    expect(opened.state).toBe('dispatched');
    expect(seen.map((c) => c.case.id).every((id) => id === opened.id)).toBe(true);

    seen.length = 0;
    const accepted = cases.act(opened.id, { action: 'accept' }, WORKER);
    expect(seen.map((c) => [c.action, c.case.state])).toEqual([['accept', 'accepted']]);
    expect(seen[0]!.case).toEqual(accepted);

    seen.length = 0;
    t += 121 * MIN;
    cases.tick();
    expect(seen.map((c) => c.action)).toContain('overdue');
  });

  it('a refused action tells nobody', () => {
    const seen: CaseChange[] = [];
    cases.onAlertChange(changeOf(alert('smoke.alarm', t)));
    const [c] = cases.list({ limit: 1 });
    cases.onChange((x) => seen.push(x));
    expect(() => cases.act(c!.id, { action: 'close' }, WORKER)).toThrow();
    expect(seen).toEqual([]);
  });

  it('a listener that throws is logged; the action succeeds and the other listeners still hear it; unsubscribe stops the calls', () => {
    const seen: string[] = [];
    cases.onChange(() => {
      throw new Error('stream down');
    });
    const off = cases.onChange((c) => seen.push(c.action));
    cases.onAlertChange(changeOf(alert('smoke.alarm', t)));
    const [c] = cases.list({ limit: 1 });
    expect(c?.state).toBe('dispatched');
    expect(seen.length).toBeGreaterThan(0);
    expect(logged.some((l) => l.msg === 'a case change listener failed' && l.caseId === c!.id)).toBe(true);
    expect(logged.some((l) => l.msg.includes('opening a case from an alert failed'))).toBe(false);

    off();
    seen.length = 0;
    expect(cases.act(c!.id, { action: 'accept' }, WORKER).state).toBe('accepted');
    expect(seen).toEqual([]);
  });
});
