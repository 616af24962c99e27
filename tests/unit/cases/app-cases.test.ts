/**
 * The Cases service over real SQLite (temp file) and a real outbox that is never started, so the
 * queued notices can be read back: alerts open cases and notify the grid worker, the SLA sweep
 * escalates, report jobs queue Markdown reports, cron registrations and catch-up after downtime.
 */
import cron, { type ScheduledTask, type TaskOptions } from 'node-cron';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../../../gateway/src/adapters/notify/index.js';
import { SqliteCaseStore } from '../../../gateway/src/adapters/sqlite/case-store.js';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { SqliteSiteStore } from '../../../gateway/src/adapters/sqlite/site-store.js';
import { Cases, previousSlot, type CasesOptions } from '../../../gateway/src/app/cases.js';
import type { Clock } from '../../../gateway/src/ports.js';
import { tempDir, type TempDir } from '../storage/support/fixtures.js';
import { MIN, alert, changeOf, local } from './support.js';

class Clock1 implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

describe('Cases (app)', () => {
  let dir: TempDir;
  let db: Database;
  let site: SqliteSiteStore;
  let outbox: SqliteOutbox;
  let clock: Clock1;
  const running: Cases[] = [];
  const scheduled: Array<{ expression: string; options: TaskOptions; task: ScheduledTask }> = [];

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(dir.file('gridwatch.db'));
    site = new SqliteSiteStore(db);
    site.upsertStreet({ id: 's1', code: '110105001', name: 'Street' });
    site.upsertCommunity({ id: 'c1', streetId: 's1', code: '110105001001', name: 'Community' });
    site.upsertGrid({ id: 'g1', communityId: 'c1', code: '11010500100101', name: 'Grid' });
    site.upsertBuilding({ id: 'b1', gridId: 'g1', name: 'Building 1', address: null, floors: 6 });
    const hook = (p: string) => [{ type: 'webhook' as const, target: `http://127.0.0.1:9/${p}` }];
    site.upsertPerson({ id: 'worker-1', name: 'Worker', role: 'grid_worker', scope: ['g1'], channels: hook('worker') });
    site.upsertPerson({ id: 'staff-1', name: 'Community staff', role: 'community_staff', scope: ['c1'], channels: hook('community') });
    site.upsertPerson({ id: 'disp-1', name: 'Street dispatcher', role: 'street_dispatcher', scope: ['s1'], channels: hook('street') });
    outbox = new SqliteOutbox(db, { senders: [], clock: { now: () => clock.now() } });
    clock = new Clock1(local('2026-11-26 10:00'));
    scheduled.length = 0;
  });

  afterEach(() => {
    for (const c of running.splice(0)) c.stop();
    db.close();
    dir.remove();
  });

  function cases(extra: Partial<CasesOptions> = {}): Cases {
    const c = new Cases({
      db,
      clock,
      log: pino({ level: 'silent' }),
      site,
      store: new SqliteCaseStore(db),
      outbox,
      scheduler: (expression, run, options) => {
        // The real node-cron task, recorded; stopped again at once so nothing fires during the test.
        const task = cron.createTask(expression, run, options);
        scheduled.push({ expression, options, task });
        return task;
      },
      ...extra,
    });
    running.push(c);
    return c;
  }

  const queued = (personId: string) => outbox.receipts({ personId, limit: 100 });

  it('registers node-cron schedules with the configured expressions, noOverlap and the report time zone', () => {
    const c = cases({ config: { sweepCron: '*/2 * * * *', reports: { daily: '30 7 * * *', weekly: '0 9 * * 1', monthly: null, timezone: 'Asia/Shanghai' } } });
    c.start();
    expect(scheduled.map((s) => [s.options.name, s.expression, s.options.noOverlap, s.options.timezone])).toEqual([
      ['cases.sweep', '*/2 * * * *', true, undefined],
      ['cases.report.daily', '30 7 * * *', true, 'Asia/Shanghai'],
      ['cases.report.weekly', '0 9 * * 1', true, 'Asia/Shanghai'],
    ]);
    expect(c.scheduled().map((s) => s.task.getPattern())).toEqual(['*/2 * * * *', '30 7 * * *', '0 9 * * 1']);
    expect(scheduled.every((s) => s.task.getStatus() !== 'stopped')).toBe(true);
    c.stop();
    expect(c.scheduled()).toEqual([]);
    expect(() => cases({ config: { sweepCron: 'every minute' } })).toThrow(/sweepCron/);
  });

  it('opens a case from a smoke alarm in one transaction with the notice to the grid worker; the sweep escalates', () => {
    const c = cases();
    const a = alert('smoke.alarm', clock.now());
    c.onAlertChange(changeOf(a));
    const [opened] = c.list({ limit: 10 });
    expect(opened).toMatchObject({ state: 'dispatched', assignee: 'worker-1', code: 'GW-20261126-0001', gridId: 'g1', communityId: 'c1', streetId: 's1' });
    expect(queued('worker-1')).toHaveLength(1);
    clock.t += 61 * MIN;
    const changes = c.tick();
    expect(changes.map((x) => x.action)).toEqual(['overdue']);
    expect(queued('worker-1')).toHaveLength(2);
    clock.t += 10 * MIN;
    c.tick();
    expect(queued('staff-1')).toHaveLength(1);
    // A restart resumes the open case from the store: the next rung still comes.
    const again = cases();
    expect(again.nextWakeAt()).toBe(opened!.deadlines.accept!.dueAt + 30 * MIN);
    expect(again.get(opened!.id)?.counters.overdueCount).toBe(2);
  });

  it('report jobs queue one Markdown report per dispatcher about their own scope, once per period', () => {
    const c = cases();
    c.onAlertChange(changeOf(alert('smoke.alarm', clock.now())));
    clock.t = local('2026-11-27 08:00');
    expect(c.runReport('daily', clock.now())).toBe(2);
    expect(c.runReport('daily', clock.now())).toBe(2);
    const [community] = queued('staff-1');
    expect(queued('staff-1')).toHaveLength(1);
    expect(queued('disp-1')).toHaveLength(1);
    const row = db.prepare('SELECT title, markdown FROM notifications WHERE id = ?').get(community!.id) as { title: string; markdown: string };
    expect(row.title).toBe('日调度 Daily dispatch 2026-11-26');
    expect(row.markdown).toContain('Opened 上报: 1');
    expect(new SqliteCaseStore(db).jobRun('cases.report.daily')).toMatchObject({ slot: clock.now(), status: 'ok' });
  });

  it('catches a report missed while stopped up once at start; a first start only records the baseline', () => {
    clock.t = local('2026-11-26 10:00');
    const first = cases();
    expect(first.catchUp()).toEqual([]);
    const store = new SqliteCaseStore(db);
    expect(store.jobRun('cases.report.daily')?.slot).toBe(local('2026-11-26 08:00'));
    // Down from Thursday 10:00 to Saturday 12:00: Friday's and Saturday's 08:00 runs were missed.
    clock.t = local('2026-11-28 12:00');
    const later = cases();
    expect(later.catchUp()).toEqual(['daily']);
    expect(store.jobRun('cases.report.daily')?.slot).toBe(local('2026-11-28 08:00'));
    expect(queued('staff-1')).toHaveLength(1);
    expect(later.catchUp()).toEqual([]);
    expect(previousSlot('0 9 1 * *', 'Asia/Shanghai', local('2026-11-26 10:00'))).toBe(local('2026-11-01 09:00'));
  });
});
