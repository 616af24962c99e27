/**
 * KPIs over a seeded week, every figure checked against a hand computation. The week is
 * Monday 2026-11-23 00:00 to Monday 2026-11-30 00:00 (UTC+8). Cases:
 *   F  b2/g1 fire (urgent), opened Sun 22 23:00 (before the week), closed Mon 00:20, due Mon 02:00
 *   A  b1/g1 fire (urgent), opened Mon 10:00, auto-dispatched, accepted 10:20, fed back 11:00, closed 11:30, due 13:00
 *   B  b1/g1 manual (normal), opened Mon 14:00, dispatched 14:20, returned 14:30, re-dispatched 14:40,
 *      accepted 15:00, fed back Tue 16:00 (due Tue 14:20: late), rework, closed Tue 17:30 (due 15:20: late)
 *   C  b3/g2 manual, opened Wed 10:00, cancelled while verifying
 *   D  b3/g2 battery (case_due), opened Thu 10:00, dispatched 10:40, accepted 11:00, extension approved to Mon 30 18:00
 *   E  b1/g1 fire (urgent), opened Sat 20:00, never accepted (accept due 21:00: overdue at the week's end)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { computeKpis, kpisOf } from '../../../gateway/src/domain/cases/kpis.js';
import { buildReport, reportMarkdown, reportWindow } from '../../../gateway/src/domain/cases/reports.js';
import type { CaseAction, CaseActor, CaseChange, GridCase } from '../../../gateway/src/domain/cases/types.js';
import { COMMUNITY, PLACE_B1, PLACE_B2, PLACE_B3, WORKER, alert, book, calendar, changeOf, local } from './support.js';

const FROM = local('2026-11-23 00:00');
const TO = local('2026-11-30 00:00');
let cases: GridCase[];

beforeAll(() => {
  const b = book();
  const ids: Record<string, string> = {};
  // The latest version of every case, from the changes (a cancelled case leaves the book).
  const latest = new Map<string, GridCase>();
  const keep = (changes: CaseChange[]) => {
    for (const c of changes) latest.set(c.case.id, c.case);
    return changes;
  };
  const act = (key: string, action: CaseAction, actor: CaseActor, at: string, extra: Record<string, unknown> = {}) => keep(b.act(ids[key]!, { action, ...extra }, actor, local(at)));
  const fire = (key: string, at: string, place = PLACE_B1) => {
    const changes = keep(b.onAlertChange(changeOf(alert('smoke.alarm', local(at), { buildingId: place.buildingId })), place, local(at)));
    ids[key] = changes.at(-1)!.case.id;
  };
  const walk = (key: string, steps: Array<[CaseAction, CaseActor, string]>) => {
    for (const [action, actor, at] of steps) act(key, action, actor, at);
  };

  fire('F', '2026-11-22 23:00', PLACE_B2);
  walk('F', [['accept', WORKER, '2026-11-22 23:10'], ['start', WORKER, '2026-11-22 23:10'], ['feedback', WORKER, '2026-11-22 23:50'], ['check', COMMUNITY, '2026-11-23 00:10'], ['close', COMMUNITY, '2026-11-23 00:20']]);

  fire('A', '2026-11-23 10:00');
  walk('A', [['accept', WORKER, '2026-11-23 10:20'], ['start', WORKER, '2026-11-23 10:20'], ['feedback', WORKER, '2026-11-23 11:00'], ['check', COMMUNITY, '2026-11-23 11:10'], ['close', COMMUNITY, '2026-11-23 11:30']]);

  ids.B = keep(b.open({ place: PLACE_B1, category: 'other', urgency: 'normal', title: 'Blocked exit', description: '' }, WORKER, local('2026-11-23 14:00'))).at(-1)!.case.id;
  walk('B', [['verify', WORKER, '2026-11-23 14:05'], ['register', COMMUNITY, '2026-11-23 14:10'], ['dispatch', COMMUNITY, '2026-11-23 14:20']]);
  act('B', 'return', WORKER, '2026-11-23 14:30', { note: 'wrong worker' });
  walk('B', [['dispatch', COMMUNITY, '2026-11-23 14:40'], ['accept', WORKER, '2026-11-23 15:00'], ['start', WORKER, '2026-11-23 15:00'], ['feedback', WORKER, '2026-11-24 16:00'], ['check', COMMUNITY, '2026-11-24 16:10']]);
  act('B', 'rework', COMMUNITY, '2026-11-24 16:20', { note: 'still blocked' });
  walk('B', [['start', WORKER, '2026-11-24 16:30'], ['feedback', WORKER, '2026-11-24 17:00'], ['check', COMMUNITY, '2026-11-24 17:10'], ['close', COMMUNITY, '2026-11-24 17:30']]);

  ids.C = keep(b.open({ place: PLACE_B3, category: 'other', urgency: 'normal', title: 'Noise', description: '' }, WORKER, local('2026-11-25 10:00'))).at(-1)!.case.id;
  act('C', 'verify', WORKER, '2026-11-25 10:10');
  act('C', 'cancel', COMMUNITY, '2026-11-25 10:30', { note: 'not a hazard' });

  const battery = alert('battery.low', local('2026-11-26 10:00'), { buildingId: 'b3', signalClass: 'trouble' });
  ids.D = keep(b.onAlertChange(changeOf(battery, 'case_due'), PLACE_B3, local('2026-11-26 10:00'))).at(-1)!.case.id;
  walk('D', [['dispatch', COMMUNITY, '2026-11-26 10:40'], ['accept', WORKER, '2026-11-26 11:00']]);
  act('D', 'request_extension', WORKER, '2026-11-26 11:10', { note: 'battery model discontinued', extendUntil: local('2026-11-30 18:00') });
  act('D', 'approve_extension', COMMUNITY, '2026-11-26 11:20');

  fire('E', '2026-11-28 20:00');

  cases = Object.values(ids).map((id) => latest.get(id)!);
});

describe('case KPIs against hand-computed values', () => {
  it('sanity: the seeded cases are where the story says', () => {
    const byCode = new Map(cases.map((c) => [c.title.startsWith('Noise') ? 'C' : c.code, c]));
    expect(byCode.size).toBe(6);
    const states = cases.map((c) => c.state).sort();
    expect(states).toEqual(['cancelled', 'closed', 'closed', 'closed', 'dispatched', 'accepted'].sort());
  });

  it('totals over the week', () => {
    const k = kpisOf(cases, FROM, TO);
    expect(k).toMatchObject({
      opened: 5,
      registered: 4,
      registrationRate: 0.8,
      dispatches: 5,
      returns: 1,
      disposals: 2,
      onTimeDisposals: 1,
      onTimeDisposalRate: 0.5,
      due: 4,
      dueClosed: 3,
      dueClosedOnTime: 2,
      closureRate: 0.75,
      onTimeClosureRate: 0.5,
      closed: 3,
      reworked: 1,
      firstTimeFixed: 2,
      extended: 0,
      extensionRate: 0,
      overdueOpen: 1,
      meanMinutesToDispatch: 15,
      meanMinutesToAccept: 20,
    });
    expect(k.dispatchAccuracy).toBeCloseTo(0.8, 10);
    expect(k.reworkRate).toBeCloseTo(1 / 3, 10);
    expect(k.firstTimeFixRate).toBeCloseTo(2 / 3, 10);
    expect(k.meanMinutesToClose).toBeCloseTo(1820 / 3, 10);
  });

  it('per grid', () => {
    const result = computeKpis(cases, { from: FROM, to: TO }, 'grid');
    expect(result.groups.map((g) => g.id)).toEqual(['g1', 'g2']);
    const [g1, g2] = result.groups.map((g) => g.kpis);
    expect(g1).toMatchObject({ opened: 3, registrationRate: 1, dispatches: 4, returns: 1, dispatchAccuracy: 0.75, onTimeDisposalRate: 0.5, due: 4, closureRate: 0.75, onTimeClosureRate: 0.5, closed: 3, overdueOpen: 1 });
    expect(g2).toMatchObject({ opened: 2, registered: 1, registrationRate: 0.5, dispatches: 1, dispatchAccuracy: 1, disposals: 0, onTimeDisposalRate: null, due: 0, closureRate: null, closed: 0, reworkRate: null, overdueOpen: 0, meanMinutesToDispatch: 40, meanMinutesToAccept: 20, meanMinutesToClose: null });
    expect(computeKpis(cases, { from: FROM, to: TO }, 'street').groups.map((g) => g.id)).toEqual(['s1']);
  });

  it('a period with nothing in it has null rates, not zeros', () => {
    const k = kpisOf(cases, local('2026-10-01 00:00'), local('2026-10-02 00:00'));
    expect(k).toMatchObject({ opened: 0, registrationRate: null, dispatchAccuracy: null, closureRate: null, meanMinutesToClose: null });
  });

  it('reports cover the last complete local period and render as Markdown', () => {
    const cal = calendar();
    expect(reportWindow('daily', local('2026-11-24 08:00'), cal)).toEqual({ from: local('2026-11-23 00:00'), to: local('2026-11-24 00:00') });
    expect(reportWindow('weekly', local('2026-11-30 09:00'), cal)).toEqual({ from: FROM, to: TO });
    expect(reportWindow('weekly', local('2026-12-02 09:00'), cal)).toEqual({ from: FROM, to: TO });
    expect(reportWindow('monthly', local('2026-12-01 09:00'), cal)).toEqual({ from: local('2026-11-01 00:00'), to: local('2026-12-01 00:00') });
    expect(reportWindow('monthly', local('2026-01-01 09:00'), cal)).toEqual({ from: local('2025-12-01 00:00'), to: local('2026-01-01 00:00') });
    const report = buildReport('weekly', local('2026-11-30 09:00'), cases, cal);
    expect(report).toMatchObject({ period: 'weekly', titleZh: '周会商', label: '2026-11-23 – 2026-11-29', level: 'community' });
    expect(report.total.opened).toBe(5);
    expect(report.notable[0]).toMatchObject({ why: 'overdue: accept, handle', urgency: 'urgent' });
    expect(report.notable.map((n) => n.why)).toContain('rework');
    const md = reportMarkdown(report);
    expect(md).toContain('# 周会商 Weekly review: 2026-11-23 – 2026-11-29');
    expect(md).toContain('registered 立案: 4 (80.0%)');
    expect(md).toContain('| c1 | 3 | 3 | 50.0% | 75.0% | 1 |');
    expect(md).toContain('Overdue open cases 超期未结: 1');
  });
});
