import { describe, expect, it } from 'vitest';
import type { CaseChange, GridCase } from '../../../gateway/src/domain/cases/types.js';
import { CaseBook } from '../../../gateway/src/domain/cases/case-book.js';
import { DEFAULT_CASE_POLICY } from '../../../gateway/src/domain/cases/policy.js';
import { COMMUNITY, HOUR, MIN, PLACE_B1, PLACE_B2, WORKER, alert, book, calendar, changeOf, local } from './support.js';

const T = local('2026-11-26 10:00');

function last(changes: CaseChange[]): GridCase {
  return changes[changes.length - 1]!.case;
}

function close(b: CaseBook, id: string, at: number): GridCase {
  let c: GridCase | undefined;
  for (const [action, actor] of [['accept', WORKER], ['start', WORKER], ['feedback', WORKER], ['check', COMMUNITY], ['close', COMMUNITY]] as const) c = last(b.act(id, { action }, actor, at));
  return c!;
}

describe('one case per incident', () => {
  it('links alarms of the same building and category within the window to the open case', () => {
    const b = book();
    const first = last(b.onAlertChange(changeOf(alert('smoke.alarm', T)), PLACE_B1, T));
    const heat = alert('heat.alarm', T + 30 * MIN);
    const linked = b.onAlertChange(changeOf(heat), PLACE_B1, T + 30 * MIN);
    expect(linked.map((c) => c.action)).toEqual(['linked']);
    expect(last(linked)).toMatchObject({ id: first.id, alertIds: [first.alertIds[0], heat.id], lastAlertAt: T + 30 * MIN, state: 'dispatched' });
    expect(linked[0]?.notify).toEqual([]);
    // The same alert reaching case_due later finds its case: nothing new.
    expect(b.onAlertChange(changeOf(heat, 'case_due'), PLACE_B1, T + 40 * MIN)).toEqual([]);
    // Another building, or another category, is another case.
    expect(last(b.onAlertChange(changeOf(alert('smoke.alarm', T + 31 * MIN, { buildingId: 'b2' })), PLACE_B2, T + 31 * MIN)).id).not.toBe(first.id);
    expect(last(b.onAlertChange(changeOf(alert('door.forced_open', T + 32 * MIN, { kind: 'door' })), PLACE_B1, T + 32 * MIN)).id).not.toBe(first.id);
    // The window slides on the last linked alert: 2 h after it, a new alarm is a new incident.
    expect(last(b.onAlertChange(changeOf(alert('smoke.alarm', T + 2 * HOUR + 20 * MIN)), PLACE_B1, T + 2 * HOUR + 20 * MIN)).id).toBe(first.id);
    const fresh = last(b.onAlertChange(changeOf(alert('smoke.alarm', T + 5 * HOUR)), PLACE_B1, T + 5 * HOUR));
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.code).toBe('GW-20261126-0004');
  });

  it('an alarm re-firing within 24 h of closure reopens the case into rework (counted); later it is a new case', () => {
    const b = book();
    const c = last(b.onAlertChange(changeOf(alert('smoke.alarm', T)), PLACE_B1, T));
    close(b, c.id, T + HOUR);
    const again = b.onAlertChange(changeOf(alert('smoke.alarm', T + 20 * HOUR)), PLACE_B1, T + 20 * HOUR);
    expect(again.map((x) => x.action)).toEqual(['reopened']);
    const reopened = last(again);
    expect(reopened).toMatchObject({ id: c.id, state: 'rework', counters: expect.objectContaining({ reopenCount: 1, reworkCount: 0 }) });
    expect(reopened.alertIds).toHaveLength(2);
    expect(reopened.deadlines.handle).toMatchObject({ startedAt: T + 20 * HOUR, metAt: null });
    expect(again[0]?.notify).toEqual([expect.objectContaining({ audience: 'grid_worker', personId: 'worker-1', reason: 'reopened' })]);
    last(b.act(c.id, { action: 'start' }, WORKER, T + 21 * HOUR));
    for (const [action, actor] of [['feedback', WORKER], ['check', COMMUNITY], ['close', COMMUNITY]] as const) b.act(c.id, { action }, actor, T + 22 * HOUR);

    // Past the reopen window the closed case is forgotten by the sweep and a new case opens.
    const t2 = T + 22 * HOUR + 25 * HOUR;
    b.tick(t2);
    expect(b.get(c.id)).toBeUndefined();
    const next = last(b.onAlertChange(changeOf(alert('smoke.alarm', t2)), PLACE_B1, t2));
    expect(next.id).not.toBe(c.id);
  });

  it('resumes from stored cases: an open case keeps linking and escalating after a restart', () => {
    const before = book();
    const c = last(before.onAlertChange(changeOf(alert('smoke.alarm', T)), PLACE_B1, T));
    const after = new CaseBook({ policy: DEFAULT_CASE_POLICY, calendar: calendar(), newId: () => 'x', newCode: () => 'GW-X', assigneeFor: () => null, cases: before.held() });
    expect(after.nextWakeAt()).toBe(T + HOUR);
    expect(last(after.onAlertChange(changeOf(alert('co.alarm', T + MIN)), PLACE_B1, T + MIN)).id).toBe(c.id);
  });
});
