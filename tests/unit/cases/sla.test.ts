import { describe, expect, it } from 'vitest';
import type { CaseChange, GridCase } from '../../../gateway/src/domain/cases/types.js';
import { COMMUNITY, MIN, PLACE_B1, WORKER, alert, book, calendar, changeOf, local } from './support.js';

function last(changes: CaseChange[]): GridCase {
  return changes[changes.length - 1]!.case;
}

describe('overdue escalation on the business calendar', () => {
  it('a camera-offline case raised Friday afternoon escalates over a weekend and a holiday Monday in working time', () => {
    const b = book({ calendar: calendar({ holidays: ['2026-11-30'] }) });
    const fri = local('2026-11-27 16:00');
    const camera = alert('device.offline', fri, { kind: 'camera', signalClass: 'trouble' });
    const opened = last(b.onAlertChange(changeOf(camera, 'case_due'), PLACE_B1, fri));
    expect(opened).toMatchObject({ state: 'registered', category: 'camera_offline', urgency: 'normal' });
    expect(opened.deadlines.dispatch).toMatchObject({ dueAt: local('2026-11-27 16:30'), basis: 'working' });
    expect(b.nextWakeAt()).toBe(local('2026-11-27 16:30'));

    expect(b.tick(local('2026-11-27 16:29'))).toEqual([]);
    const overdue = b.tick(local('2026-11-27 16:30'));
    expect(overdue.map((c) => c.action)).toEqual(['overdue']);
    expect(overdue[0]?.notify).toEqual([expect.objectContaining({ audience: 'community', reason: 'overdue', step: 'dispatch', lifeSafety: false })]);
    // Next rung: 60 working minutes after the deadline tells the street.
    expect(b.nextWakeAt()).toBe(local('2026-11-27 17:30'));
    const street = b.tick(local('2026-11-27 17:30'));
    expect(street.map((c) => [c.action, c.notify[0]?.audience])).toEqual([['overdue_escalated', 'street']]);
    expect(b.nextWakeAt()).toBeNull();

    // Dispatched Friday 17:45: accept due 60 working minutes later = Tuesday 09:45 (Monday is a holiday);
    // three working days to fix = Thursday 17:45.
    const dispatched = last(b.act(opened.id, { action: 'dispatch' }, COMMUNITY, local('2026-11-27 17:45')));
    expect(dispatched.deadlines.accept?.dueAt).toBe(local('2026-12-01 09:45'));
    expect(dispatched.deadlines.handle?.dueAt).toBe(local('2026-12-03 17:45'));
    expect(dispatched.dueAt).toBe(local('2026-12-04 09:45'));
    expect(b.tick(local('2026-11-28 12:00'))).toEqual([]);
    expect(b.tick(local('2026-11-30 17:00'))).toEqual([]);
    expect(b.nextWakeAt()).toBe(local('2026-12-01 09:45'));

    // One late sweep fires every rung that came due, in order: worker at 09:45, community at 10:45, street at 15:15.
    const late = b.tick(local('2026-12-01 16:00'));
    expect(late.map((c) => [c.action, c.notify[0]?.audience, c.notify[0]?.personId])).toEqual([
      ['overdue', 'grid_worker', 'worker-1'],
      ['overdue_escalated', 'community', null],
      ['overdue_escalated', 'street', null],
    ]);
    const after = last(late);
    expect(after.deadlines.accept).toMatchObject({ overdueLevel: 3, nextEscalationAt: null });
    expect(after.counters.overdueCount).toBe(5);
    expect(after.history.at(-1)?.note).toContain('accept was due 2026-12-01T01:45:00.000Z');

    b.act(opened.id, { action: 'accept' }, WORKER, local('2026-12-01 16:05'));
    expect(b.nextWakeAt()).toBe(local('2026-12-03 17:45'));
    expect(b.tick(local('2026-12-03 17:45')).map((c) => c.notify[0]?.step)).toEqual(['handle']);
  });

  it('urgent cases escalate on the wall clock, at night and at weekends', () => {
    const b = book();
    const sat = local('2026-11-28 02:00');
    const c = last(b.onAlertChange(changeOf(alert('smoke.alarm', sat)), PLACE_B1, sat));
    expect(c.deadlines.accept?.dueAt).toBe(sat + 60 * MIN);
    const changes = b.tick(sat + 90 * MIN);
    expect(changes.map((x) => [x.action, x.notify[0]?.audience, x.notify[0]?.lifeSafety])).toEqual([
      ['overdue', 'grid_worker', true],
      ['overdue_escalated', 'community', true],
      ['overdue_escalated', 'street', true],
    ]);
    // The handle deadline (2 h) is a separate step with its own ladder.
    expect(b.nextWakeAt()).toBe(sat + 120 * MIN);
  });
});
