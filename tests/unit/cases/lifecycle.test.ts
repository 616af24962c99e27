import { describe, expect, it } from 'vitest';
import { CaseActionError, type CaseChange, type GridCase } from '../../../gateway/src/domain/cases/types.js';
import { resolveActingRole, rolesForToken } from '../../../gateway/src/domain/cases/lifecycle.js';
import { COMMUNITY, HOUR, MIN, PLACE_B1, STREET, WORKER, alert, book, changeOf, local } from './support.js';

const T = local('2026-11-26 10:00');

function last(changes: CaseChange[]): GridCase {
  const c = changes[changes.length - 1]?.case;
  if (c === undefined) throw new Error('no change');
  return c;
}

function refused(run: () => unknown, code: CaseActionError['code']): void {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CaseActionError);
    expect((err as CaseActionError).code).toBe(code);
    return;
  }
  throw new Error(`expected a ${code} refusal`);
}

function manual(b = book(), at = T) {
  const changes = b.open({ place: PLACE_B1, category: 'other', urgency: 'normal', title: 'Blocked fire exit', description: 'bikes in the stairwell', evidence: ['https://photos.example/1.jpg'] }, WORKER, at);
  return { b, c: last(changes) };
}

describe('a smoke alarm opens an urgent case at once', () => {
  it('passes reported and verifying on sensor evidence, registers and dispatches to the grid worker with deadlines', () => {
    const b = book();
    const a = alert('smoke.alarm', T);
    const changes = b.onAlertChange(changeOf(a), PLACE_B1, T);
    expect(changes.map((c) => c.action)).toEqual(['opened', 'verify', 'register', 'dispatch']);
    const c = last(changes);
    expect(c).toMatchObject({ state: 'dispatched', urgency: 'urgent', category: 'fire', source: 'sensor', assignee: 'worker-1', alertIds: [a.id], code: 'GW-20261126-0001' });
    expect(c.history.map((h) => [h.from, h.to])).toEqual([[null, 'reported'], ['reported', 'verifying'], ['verifying', 'registered'], ['registered', 'dispatched']]);
    expect(c.history[0]?.evidence).toEqual([`alert:${a.id}`]);
    // Urgent steps run on the wall clock: dispatch 10 min (met), accept 60 min, handle 2 h, closure due handle + 1 h check.
    expect(c.deadlines.dispatch).toMatchObject({ dueAt: T + 10 * MIN, metAt: T, basis: 'clock' });
    expect(c.deadlines.accept).toMatchObject({ dueAt: T + HOUR, metAt: null });
    expect(c.deadlines.handle).toMatchObject({ dueAt: T + 2 * HOUR, metAt: null });
    expect(c.dueAt).toBe(T + 3 * HOUR);
    const notice = changes[3]?.notify[0];
    expect(notice).toMatchObject({ caseId: c.id, audience: 'grid_worker', personId: 'worker-1', reason: 'dispatched', lifeSafety: true });
  });

  it('opens nothing for alerts the policy does not name on raise, nor for other alert events', () => {
    const b = book();
    expect(b.onAlertChange(changeOf(alert('battery.low', T, { signalClass: 'trouble' })), PLACE_B1, T)).toEqual([]);
    expect(b.onAlertChange(changeOf(alert('smoke.alarm', T), 'acknowledged'), PLACE_B1, T)).toEqual([]);
  });

  it('a forced door opens a normal security case dispatched at once; a trouble case_due starts registered and tells the dispatchers', () => {
    const b = book();
    const door = last(b.onAlertChange(changeOf(alert('door.forced_open', T, { kind: 'door' })), PLACE_B1, T));
    expect(door).toMatchObject({ category: 'security', urgency: 'normal', state: 'dispatched' });
    const changes = b.onAlertChange(changeOf(alert('battery.low', T, { signalClass: 'trouble' }), 'case_due'), PLACE_B1, T);
    expect(last(changes)).toMatchObject({ category: 'battery', state: 'registered', assignee: null });
    expect(changes.at(-1)?.notify).toEqual([expect.objectContaining({ audience: 'community', reason: 'registered' })]);
    const camera = last(b.onAlertChange(changeOf(alert('device.offline', T, { kind: 'camera', signalClass: 'trouble' }), 'case_due'), PLACE_B1, T));
    expect(camera.category).toBe('camera_offline');
    const other = last(b.onAlertChange(changeOf(alert('chamber.dirty', T, { signalClass: 'trouble' }), 'case_due'), PLACE_B1, T));
    expect(other.category).toBe('equipment_fault');
  });
});

describe('the lifecycle walked by people', () => {
  it('reported → verifying → registered → dispatched → accepted → handling → feedback → checking → closed → evaluated', () => {
    const { b, c } = manual();
    expect(c).toMatchObject({ state: 'reported', source: 'manual', code: 'GW-20261126-0001' });
    let at = T;
    const step = (action: Parameters<typeof b.act>[1]['action'], actor = WORKER, extra = {}) => last(b.act(c.id, { action, ...extra }, actor, (at += 5 * MIN)));
    step('verify');
    step('register', COMMUNITY);
    const dispatched = step('dispatch', COMMUNITY);
    expect(dispatched.assignee).toBe('worker-1');
    step('accept');
    step('start');
    const fed = step('feedback', WORKER, { evidence: ['sha256:ab12'] });
    expect(fed.disposal).toEqual({ at, onTime: true });
    step('check', COMMUNITY);
    const closed = step('close', COMMUNITY);
    expect(closed.state).toBe('closed');
    const evaluated = step('evaluate', STREET, { note: 'residents satisfied' });
    expect(evaluated.state).toBe('evaluated');
    expect(evaluated.history.map((h) => h.to)).toEqual(['reported', 'verifying', 'registered', 'dispatched', 'accepted', 'handling', 'feedback', 'checking', 'closed', 'evaluated']);
    expect(evaluated.history.at(-1)).toMatchObject({ actor: 'tok-street', role: 'street_dispatcher', note: 'residents satisfied' });
    expect(Object.values(evaluated.deadlines).every((d) => d === null || d.metAt !== null)).toBe(true);
  });

  it('cancel from verifying voids the running deadline and leaves the book', () => {
    const { b, c } = manual();
    b.act(c.id, { action: 'verify' }, WORKER, T + MIN);
    const cancelled = last(b.act(c.id, { action: 'cancel', note: 'duplicate report' }, COMMUNITY, T + 2 * MIN));
    expect(cancelled).toMatchObject({ state: 'cancelled' });
    expect(cancelled.deadlines.dispatch).toBeNull();
    expect(b.get(c.id)).toBeUndefined();
    refused(() => b.act(c.id, { action: 'register' }, COMMUNITY, T), 'not_found');
  });

  it('a returned dispatch waits for a re-dispatch (counted), with a fresh dispatch deadline', () => {
    const { b, c } = manual();
    b.act(c.id, { action: 'verify' }, WORKER, T);
    b.act(c.id, { action: 'register' }, COMMUNITY, T);
    b.act(c.id, { action: 'dispatch' }, COMMUNITY, T);
    refused(() => b.act(c.id, { action: 'return' }, WORKER, T), 'invalid_argument');
    const returned = last(b.act(c.id, { action: 'return', note: 'not my grid' }, WORKER, T + 10 * MIN));
    expect(returned).toMatchObject({ state: 'returned', assignee: null, counters: expect.objectContaining({ returnCount: 1 }) });
    expect(returned.deadlines.accept).toBeNull();
    expect(returned.deadlines.dispatch).toMatchObject({ startedAt: T + 10 * MIN, metAt: null });
    refused(() => b.act(c.id, { action: 'return', note: 'again' }, WORKER, T), 'invalid_transition');
    const again = last(b.act(c.id, { action: 'dispatch', assignee: 'worker-9' }, COMMUNITY, T + 20 * MIN));
    expect(again).toMatchObject({ state: 'dispatched', assignee: 'worker-9' });
    // The disposal clock started at the first dispatch.
    expect(again.deadlines.handle?.startedAt).toBe(T);
  });

  it('rework sends a checked case back to handling with a new disposal deadline (counted)', () => {
    const { b, c } = manual();
    for (const [action, actor] of [['verify', WORKER], ['register', COMMUNITY], ['dispatch', COMMUNITY], ['accept', WORKER], ['start', WORKER], ['feedback', WORKER], ['check', COMMUNITY]] as const) b.act(c.id, { action }, actor, T);
    const rework = last(b.act(c.id, { action: 'rework', note: 'door still blocked' }, COMMUNITY, T + HOUR));
    expect(rework).toMatchObject({ state: 'rework', counters: expect.objectContaining({ reworkCount: 1 }) });
    expect(rework.deadlines.handle).toMatchObject({ startedAt: T + HOUR, metAt: null });
    expect(rework.deadlines.check?.metAt).toBe(T + HOUR);
    expect(last(b.act(c.id, { action: 'start' }, WORKER, T + 2 * HOUR)).state).toBe('handling');
  });

  it('extension: approved moves the disposal deadline and the due time; rejected leaves them', () => {
    const { b, c } = manual();
    for (const [action, actor] of [['verify', WORKER], ['register', COMMUNITY], ['dispatch', COMMUNITY], ['accept', WORKER]] as const) b.act(c.id, { action }, actor, T);
    const due = b.get(c.id)!.deadlines.handle!.dueAt;
    refused(() => b.act(c.id, { action: 'request_extension', note: 'parts on order' }, WORKER, T), 'invalid_argument');
    refused(() => b.act(c.id, { action: 'request_extension', note: 'too early', extendUntil: due - MIN }, WORKER, T), 'invalid_argument');
    const until = local('2026-12-01 18:00');
    const requested = b.act(c.id, { action: 'request_extension', note: 'parts on order', extendUntil: until }, WORKER, T + MIN);
    expect(last(requested).extension).toMatchObject({ until, approved: null, by: 'tok-worker', reason: 'parts on order' });
    expect(requested[0]?.notify[0]).toMatchObject({ audience: 'community', reason: 'extension_requested' });
    refused(() => b.act(c.id, { action: 'request_extension', note: 'again', extendUntil: until + HOUR }, WORKER, T), 'invalid_transition');
    refused(() => b.act(c.id, { action: 'approve_extension' }, WORKER, T), 'forbidden_role');
    const approved = last(b.act(c.id, { action: 'approve_extension' }, COMMUNITY, T + 2 * MIN));
    expect(approved.extension).toMatchObject({ approved: true, decidedBy: 'tok-community' });
    expect(approved.deadlines.handle).toMatchObject({ dueAt: until, overdueLevel: 0, nextEscalationAt: until });
    expect(approved.dueAt).toBe(local('2026-12-02 10:00'));
    expect(approved.counters.extensionCount).toBe(1);
    refused(() => b.act(c.id, { action: 'reject_extension', note: 'no' }, COMMUNITY, T), 'invalid_transition');

    const later = until + HOUR;
    b.act(c.id, { action: 'request_extension', note: 'still waiting', extendUntil: later }, WORKER, T + 3 * MIN);
    const rejected = last(b.act(c.id, { action: 'reject_extension', note: 'fix it now' }, STREET, T + 4 * MIN));
    expect(rejected.extension).toMatchObject({ approved: false, until: later });
    expect(rejected.deadlines.handle?.dueAt).toBe(until);
    expect(rejected.counters.extensionCount).toBe(1);
  });

  it('parked (挂账) stops the SLA clocks and refuses other actions; resume restarts them with what was left', () => {
    const { b, c } = manual();
    for (const [action, actor] of [['verify', WORKER], ['register', COMMUNITY], ['dispatch', COMMUNITY], ['accept', WORKER]] as const) b.act(c.id, { action }, actor, T);
    // Dispatched Thursday 10:00: disposal due one working day later, Friday 10:00.
    expect(b.get(c.id)!.deadlines.handle!.dueAt).toBe(local('2026-11-27 10:00'));
    const parked = last(b.act(c.id, { action: 'park', note: 'needs the owner association vote' }, COMMUNITY, local('2026-11-26 17:00')));
    expect(parked.parked).toMatchObject({ reason: 'needs the owner association vote', remaining: { handle: 120 } });
    expect(parked.deadlines.handle?.nextEscalationAt).toBeNull();
    expect(b.nextWakeAt()).toBeNull();
    expect(b.tick(local('2026-12-10 12:00'))).toEqual([]);
    refused(() => b.act(c.id, { action: 'start' }, WORKER, T), 'invalid_transition');
    refused(() => b.act(c.id, { action: 'park', note: 'again' }, COMMUNITY, T), 'invalid_transition');
    const resumed = last(b.act(c.id, { action: 'resume' }, COMMUNITY, local('2026-12-10 14:00')));
    expect(resumed.parked).toBeNull();
    expect(resumed.deadlines.handle).toMatchObject({ dueAt: local('2026-12-10 16:00'), nextEscalationAt: local('2026-12-10 16:00') });
    expect(resumed.dueAt).toBe(local('2026-12-10 17:00'));
    refused(() => b.act(c.id, { action: 'resume' }, COMMUNITY, T), 'invalid_transition');
  });

  it('refuses what the table does not allow, with clear codes', () => {
    const { b, c } = manual();
    refused(() => b.act(c.id, { action: 'close' }, COMMUNITY, T), 'invalid_transition');
    refused(() => b.act(c.id, { action: 'register' }, WORKER, T), 'forbidden_role');
    refused(() => b.act(c.id, { action: 'verify', evidence: ['data:image/png;base64,AAAA'] }, WORKER, T), 'invalid_argument');
    refused(() => b.act(c.id, { action: 'verify', note: '' }, WORKER, T), 'invalid_argument');
    refused(() => b.act('nope', { action: 'verify' }, WORKER, T), 'not_found');
    refused(() => b.open({ place: PLACE_B1, category: 'Bad Category', urgency: 'normal', title: 'x', description: '' }, WORKER, T), 'invalid_argument');
    refused(() => b.open({ place: PLACE_B1, category: 'other', urgency: 'normal', title: 'x', description: '' }, { id: 'sys', role: 'system' }, T), 'forbidden_role');
    // Nothing changed by the refusals.
    expect(b.get(c.id)?.history).toHaveLength(1);
  });
});

describe('token roles (asRole)', () => {
  it('maps a staff token scope level to the person-level roles it may take', () => {
    expect(rolesForToken('staff', ['grid'])).toEqual(['grid_worker']);
    expect(rolesForToken('staff', ['community'])).toEqual(['community_staff', 'grid_worker']);
    expect(rolesForToken('staff', ['street'])).toEqual(['street_dispatcher', 'community_staff', 'grid_worker']);
    expect(rolesForToken('staff', [])).toEqual(['street_dispatcher', 'community_staff', 'grid_worker']);
    expect(rolesForToken('staff', ['building'])).toEqual([]);
    expect(rolesForToken('captain', ['building'])).toEqual([]);
    expect(rolesForToken('admin', [])).toContain('admin');
  });

  it('resolves asRole, or the first role the token may take for the action', () => {
    expect(resolveActingRole(['community_staff', 'grid_worker'], 'accept', undefined)).toBe('grid_worker');
    expect(resolveActingRole(['community_staff', 'grid_worker'], 'dispatch', undefined)).toBe('community_staff');
    expect(resolveActingRole(['grid_worker'], 'dispatch', undefined)).toBeUndefined();
    expect(resolveActingRole(['grid_worker'], 'dispatch', 'street_dispatcher')).toBeUndefined();
    expect(resolveActingRole(['community_staff', 'grid_worker'], 'dispatch', 'grid_worker')).toBe('grid_worker');
  });
});
