import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ESCALATION_POLICY,
  escalationPlanFor,
  validateEscalationPolicy,
  type EscalationPolicy,
} from '../../../gateway/src/domain/alerts/escalation.js';
import { advanceTo, at, clear, events, intents, newBook, raise, runClock, T0, when } from './support.js';

/** Every escalation change of a run as [seconds after T0, event, level, audience]. */
function ladder(changes: ReturnType<typeof runClock>): [number, string, number, string | undefined][] {
  return changes
    .filter((c) => c.event === 'escalated' || c.event === 'case_due')
    .map((c) => [(when(c) - T0) / 1000, c.event, c.alert.escalationLevel, c.notify[0]?.audience]);
}

describe('escalation timing per class (domain.md §4 defaults, fake time)', () => {
  it('fire alarm: captain at once, grid worker at 60 s, community at 180 s, grid case after that', () => {
    const book = newBook();
    book.apply(raise(), T0);
    const changes = runClock(book, 1, 700);
    expect(ladder(changes)).toEqual([
      [60, 'escalated', 1, 'grid_worker'],
      [180, 'escalated', 2, 'community'],
      [600, 'case_due', 3, 'street'],
    ]);
    expect(intents(changes).every((i) => i.reason === 'escalated' && i.lifeSafety)).toBe(true);
    expect(book.get('a1')?.nextEscalationAt).toBeNull();
    expect(book.nextWakeAt()).toBeNull();
  });

  it('security alarm (door, face gate): 2 min / 10 min', () => {
    const book = newBook();
    book.apply(raise({ deviceId: 'door-1', kind: 'door', type: 'door.forced_open', latched: true }), T0);
    book.apply(raise({ deviceId: 'gate-1', kind: 'face-gate', type: 'face.blocklist_match' }), T0);
    const changes = runClock(book, 1, 700);
    for (const id of ['a1', 'a2']) {
      expect(ladder(changes.filter((c) => c.alert.id === id))).toEqual([
        [120, 'escalated', 1, 'grid_worker'],
        [600, 'escalated', 2, 'community'],
      ]);
    }
  });

  it('supervisory: 30 min / 4 h', () => {
    const book = newBook();
    book.apply(raise({ deviceId: 'door-1', kind: 'door', type: 'door.held_open', signalClass: 'supervisory' }), T0);
    expect(book.nextWakeAt()).toBe(at(1800));
    const changes = advanceTo(book, at(5 * 3600));
    expect(ladder(changes)).toEqual([
      [1800, 'escalated', 1, 'grid_worker'],
      [14400, 'escalated', 2, 'community'],
    ]);
    expect(intents(changes).every((i) => !i.lifeSafety)).toBe(true);
  });

  it('trouble: no T1/T2, a grid case after 24 h unresolved, even if acknowledged', () => {
    const book = newBook();
    book.apply(raise({ deviceId: 'cam-1', kind: 'camera', type: 'device.offline', signalClass: 'trouble' }), T0);
    book.acknowledge('a1', 'grid-li', 'known outage', at(600));
    expect(book.get('a1')?.nextEscalationAt).toBe(at(86_400));
    expect(ladder(advanceTo(book, at(86_399)))).toEqual([]);
    expect(ladder(advanceTo(book, at(90_000)))).toEqual([[86_400, 'case_due', 3, 'street']]);
  });

  it('trouble that clears in time opens no case', () => {
    const book = newBook();
    book.apply(raise({ deviceId: 'cam-1', kind: 'camera', type: 'device.offline', signalClass: 'trouble' }), T0);
    book.apply(clear({ deviceId: 'cam-1', kind: 'camera', type: 'device.offline', signalClass: 'trouble' }), at(3600));
    expect(book.get('a1')).toMatchObject({ state: 'returned_unack', nextEscalationAt: null });
    expect(advanceTo(book, at(2 * 86_400))).toEqual([]);
  });

  it('uses the policy it is given (configurable by class)', () => {
    const policy: EscalationPolicy = {
      ...DEFAULT_ESCALATION_POLICY,
      byClass: { ...DEFAULT_ESCALATION_POLICY.byClass, alarm: { steps: [{ level: 1, afterS: 10, until: 'acknowledged' }] } },
    };
    const book = newBook({ policy });
    book.apply(raise(), T0);
    expect(ladder(runClock(book, 1, 300))).toEqual([[10, 'escalated', 1, 'grid_worker']]);
  });

  it('catches up in order when ticked late (after a pause or restart)', () => {
    const book = newBook();
    book.apply(raise(), T0);
    const changes = book.tick(at(1000));
    expect(events(changes)).toEqual(['escalated', 'escalated', 'case_due']);
    expect(changes.map((c) => c.alert.escalationLevel)).toEqual([1, 2, 3]);
  });
});

describe('acknowledgement stops escalation', () => {
  it('before T1: nobody else is told', () => {
    const book = newBook();
    book.apply(raise(), T0);
    const ack = book.acknowledge('a1', 'captain-wang', null, at(30));
    expect(ack.alert.nextEscalationAt).toBeNull();
    expect(runClock(book, 31, 1000)).toEqual([]);
  });

  it('between T1 and T2: the community is not told', () => {
    const book = newBook();
    book.apply(raise(), T0);
    expect(ladder(runClock(book, 1, 100))).toEqual([[60, 'escalated', 1, 'grid_worker']]);
    book.acknowledge('a1', 'grid-li', null, at(101));
    expect(runClock(book, 102, 1000)).toEqual([]);
    expect(book.get('a1')?.escalationLevel).toBe(1);
  });
});

describe('alarm verification and escalation', () => {
  it('a verifying alarm waits for confirmation before T1, at most the verification hold (60 s)', () => {
    const book = newBook();
    book.apply(raise({ verification: 'verifying' }), T0);
    expect(book.get('a1')?.nextEscalationAt).toBe(at(120));
    expect(ladder(runClock(book, 1, 130))).toEqual([[120, 'escalated', 1, 'grid_worker']]);
  });

  it('confirmation starts the clock: T1 is measured from the confirmation', () => {
    const book = newBook();
    book.apply(raise({ verification: 'verifying' }), T0);
    book.apply(raise({ verification: 'confirmed' }), at(20));
    expect(book.get('a1')?.nextEscalationAt).toBe(at(80));
    expect(ladder(runClock(book, 21, 300))).toEqual([
      [80, 'escalated', 1, 'grid_worker'],
      [200, 'escalated', 2, 'community'],
    ]);
  });

  it('a verifying alarm that clears unconfirmed was a nuisance: no escalation', () => {
    const book = newBook();
    book.apply(raise({ verification: 'verifying' }), T0);
    const cleared = book.apply(clear(), at(30));
    expect(cleared[0]!.alert).toMatchObject({ state: 'returned_unack', nextEscalationAt: null });
    expect(runClock(book, 31, 1000)).toEqual([]);
  });

  it('a confirmed or unverified alarm escalates at once on the normal path', () => {
    const book = newBook();
    book.apply(raise({ verification: 'confirmed' }), T0);
    expect(book.get('a1')?.nextEscalationAt).toBe(at(60));
  });

  it('a verification hold of 0 escalates verifying alarms like confirmed ones', () => {
    const book = newBook({ policy: { ...DEFAULT_ESCALATION_POLICY, verificationHoldS: 0 } });
    book.apply(raise({ verification: 'verifying' }), T0);
    expect(book.get('a1')?.nextEscalationAt).toBe(at(60));
  });
});

describe('escalation policy', () => {
  const subject = (kind: string, type: string, signalClass: 'alarm' | 'supervisory') => ({
    signalClass,
    type,
    source: { deviceId: 'x', kind, buildingId: 'b1', floor: null },
  });

  it('picks the first matching override, else the class plan', () => {
    const security = DEFAULT_ESCALATION_POLICY.overrides![0]!.plan;
    expect(escalationPlanFor(DEFAULT_ESCALATION_POLICY, subject('door', 'tailgating', 'alarm'))).toBe(security);
    expect(escalationPlanFor(DEFAULT_ESCALATION_POLICY, subject('building', 'door.forced_open', 'alarm'))).toBe(security);
    expect(escalationPlanFor(DEFAULT_ESCALATION_POLICY, subject('camera', 'illegal_login', 'alarm'))).toBe(security);
    expect(escalationPlanFor(DEFAULT_ESCALATION_POLICY, subject('smoke', 'smoke.alarm', 'alarm'))).toBe(DEFAULT_ESCALATION_POLICY.byClass.alarm);
    // door.held_open is supervisory: the security override is for alarms only.
    expect(escalationPlanFor(DEFAULT_ESCALATION_POLICY, subject('door', 'door.held_open', 'supervisory'))).toBe(
      DEFAULT_ESCALATION_POLICY.byClass.supervisory,
    );
  });

  it('the defaults are valid', () => {
    expect(validateEscalationPolicy(DEFAULT_ESCALATION_POLICY)).toEqual([]);
  });

  it('lists every problem of a bad policy at once', () => {
    const bad = {
      byClass: {
        ...DEFAULT_ESCALATION_POLICY.byClass,
        alarm: {
          steps: [
            { level: 2, afterS: 60, until: 'acknowledged' },
            { level: 1, afterS: -1, until: 'whenever' },
          ],
        },
      },
      overrides: [{ name: '', plan: { steps: [] } }],
      verificationHoldS: -5,
    } as unknown as EscalationPolicy;
    const problems = validateEscalationPolicy(bad);
    expect(problems).toEqual([
      'byClass.alarm.steps[1].afterS must be a number ≥ 0',
      "byClass.alarm.steps[1].until must be 'acknowledged' or 'resolved'",
      'byClass.alarm.steps[1] must come after the step before it (higher level, not earlier)',
      'overrides[0].name is required',
      'verificationHoldS must be a number ≥ 0',
    ]);
    expect(() => newBook({ policy: bad })).toThrow(RangeError);
  });
});
