import { describe, expect, it } from 'vitest';
import { advanceTo, at, clear, events, failureCode, intents, newBook, raise, runClock, T0 } from './support.js';

const held = { deviceId: 'door-1', kind: 'door', type: 'door.held_open', signalClass: 'supervisory' as const };

describe('shelving (timed, ISA-18.2)', () => {
  it('a shelved alert neither notifies nor escalates; it auto-unshelves and, still active, is announced again', () => {
    const book = newBook();
    book.apply(raise(held), T0);
    const shelved = book.shelve('a1', 'captain-wang', 3600, 'door wedged for a delivery', at(10));
    expect(shelved.alert).toMatchObject({ shelvedUntil: at(3610), nextEscalationAt: null });
    expect(shelved.alert.history.at(-1)).toEqual({ at: at(10), event: 'shelved', actor: 'captain-wang', note: 'door wedged for a delivery (3600 s)' });
    expect(book.nextWakeAt()).toBe(at(3610));

    // Repeats while shelved are recorded, nobody is told, no escalation at T1 (30 min).
    const repeat = book.apply(raise(held), at(20));
    expect(intents(repeat)).toEqual([]);
    expect(advanceTo(book, at(3609))).toEqual([]);

    const unshelved = advanceTo(book, at(3610));
    expect(events(unshelved)).toEqual(['unshelved']);
    expect(unshelved[0]!.alert).toMatchObject({ shelvedUntil: null, state: 'active_unack', escalationLevel: 0, nextEscalationAt: at(3610 + 1800) });
    expect(unshelved[0]!.alert.history.at(-1)).toMatchObject({ actor: 'system', note: 'shelve expired; condition still active: announced again' });
    expect(intents(unshelved)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'raised', lifeSafety: false }]);
  });

  it('an acknowledged alert shelved and still active comes back unacknowledged', () => {
    const book = newBook();
    book.apply(raise(held), T0);
    book.acknowledge('a1', 'captain-wang', null, at(5));
    book.shelve('a1', 'captain-wang', 60, 'nuisance', at(10));
    const back = book.unshelve('a1', 'captain-wang', at(20));
    expect(back.alert).toMatchObject({ state: 'active_unack', acknowledgedAt: null });
    expect(intents([back])).toHaveLength(1);
  });

  it('a shelved alert whose condition clears stays in the book (in normal) and closes on unshelve', () => {
    const book = newBook();
    book.apply(raise(held), T0);
    book.acknowledge('a1', 'captain-wang', null, at(5));
    book.shelve('a1', 'captain-wang', 600, 'nuisance', at(10));
    const cleared = book.apply(clear(held), at(20));
    expect(cleared[0]!.alert).toMatchObject({ state: 'normal', closedAt: null });
    // It came back while shelved: the same alert catches it, nobody is told.
    const again = book.apply(raise(held), at(30));
    expect(events(again)).toEqual(['reactivated']);
    expect(again[0]!.alert.id).toBe('a1');
    expect(intents(again)).toEqual([]);
    book.apply(clear(held), at(40));
    book.acknowledge('a1', 'captain-wang', null, at(45));
    const unshelved = advanceTo(book, at(610));
    expect(events(unshelved)).toEqual(['unshelved']);
    expect(unshelved[0]!.alert).toMatchObject({ state: 'normal', closedAt: at(610) });
    expect(intents(unshelved)).toEqual([]);
    expect(book.open()).toEqual([]);
  });

  it('refuses a shelve without a reason, of zero length, or longer than the maximum', () => {
    const book = newBook({ maxShelveS: 8 * 3600 });
    book.apply(raise(held), T0);
    expect(failureCode(() => book.shelve('a1', 'captain-wang', 600, '  ', at(1)))).toBe('invalid_argument');
    expect(failureCode(() => book.shelve('a1', 'captain-wang', 0, 'x', at(1)))).toBe('invalid_argument');
    expect(failureCode(() => book.shelve('a1', 'captain-wang', 8 * 3600 + 1, 'x', at(1)))).toBe('invalid_argument');
    expect(book.shelve('a1', 'captain-wang', 8 * 3600, 'x', at(1)).alert.shelvedUntil).toBe(at(1 + 8 * 3600));
  });

  it('unshelving an alert that is not shelved is an invalid transition', () => {
    const book = newBook();
    book.apply(raise(held), T0);
    expect(failureCode(() => book.unshelve('a1', 'captain-wang', at(1)))).toBe('invalid_transition');
  });
});

describe('disablement (屏蔽, out of service)', () => {
  it('needs a reason and an expiry in the future', () => {
    const book = newBook();
    book.apply(raise(), T0);
    expect(failureCode(() => book.disable('a1', 'admin', '', at(3600), at(1)))).toBe('invalid_argument');
    expect(failureCode(() => book.disable('a1', 'admin', 'detector replaced', at(1), at(1)))).toBe('invalid_argument');
    expect(failureCode(() => book.disable('a1', 'admin', 'detector replaced', Number.NaN, at(1)))).toBe('invalid_argument');
  });

  it('records raises without notifying or escalating, and re-enables with re-evaluation on expiry', () => {
    const book = newBook();
    book.apply(raise(), T0);
    const disabled = book.disable('a1', 'admin', 'renovation on floor 3', at(7200), at(10));
    expect(disabled.alert).toMatchObject({ disabled: { reason: 'renovation on floor 3', until: at(7200), by: 'admin' }, nextEscalationAt: null });
    expect(disabled.alert.history.at(-1)).toMatchObject({ event: 'disabled', actor: 'admin', note: 'renovation on floor 3' });

    book.apply(clear(), at(20));
    book.acknowledge('a1', 'admin', null, at(25));
    // Back to normal, but the disablement belongs to the source: the alert stays to catch the next raise.
    expect(book.get('a1')).toMatchObject({ state: 'normal', closedAt: null });
    const raised = book.apply(raise(), at(100));
    expect(raised[0]!.alert.id).toBe('a1');
    expect(intents(raised)).toEqual([]);
    expect(runClock(book, 101, 1000)).toEqual([]);

    const expired = advanceTo(book, at(7200));
    expect(events(expired)).toEqual(['enabled']);
    expect(expired[0]!.alert).toMatchObject({ disabled: null, state: 'active_unack', nextEscalationAt: at(7260) });
    expect(expired[0]!.alert.history.at(-1)).toMatchObject({ actor: 'system', note: 'disablement expired; condition still active: announced again' });
    expect(intents(expired)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'raised', lifeSafety: true }]);
  });

  it('enable by an operator; a condition that has cleared closes the alert', () => {
    const book = newBook();
    book.apply(raise(), T0);
    book.acknowledge('a1', 'captain-wang', null, at(1));
    book.disable('a1', 'admin', 'faulty detector', at(86_400), at(2));
    book.apply(clear(), at(3));
    const enabled = book.enable('a1', 'admin', at(4));
    expect(enabled.alert).toMatchObject({ state: 'normal', closedAt: at(4) });
    expect(book.open()).toEqual([]);
    expect(failureCode(() => book.enable('a1', 'admin', at(5)))).toBe('not_found');
  });

  it('enabling an alert that is not disabled is an invalid transition', () => {
    const book = newBook();
    book.apply(raise(), T0);
    expect(failureCode(() => book.enable('a1', 'admin', at(1)))).toBe('invalid_transition');
  });
});

describe('suppression by design (parent offline, maintenance)', () => {
  const child = { deviceId: 'cam-7', kind: 'camera', type: 'video.loss', signalClass: 'trouble' as const };

  it('signals with suppressedBy arrive suppressed: recorded, not notified, not escalated', () => {
    const book = newBook();
    const changes = book.apply(raise({ ...child, suppressedBy: 'nvr-1' }), T0);
    expect(changes[0]!.alert).toMatchObject({ suppressedBy: 'nvr-1', nextEscalationAt: null });
    expect(changes[0]!.alert.history[0]!.note).toContain('suppressed by nvr-1');
    expect(intents(changes)).toEqual([]);
    expect(advanceTo(book, at(2 * 86_400))).toEqual([]);
  });

  it('suppress(device) mutes its open and future alerts; unsuppress re-evaluates them', () => {
    const book = newBook();
    book.apply(raise(), T0);
    const suppressed = book.suppress('smoke-1', 'maintenance window', at(1));
    expect(events(suppressed)).toEqual(['suppressed']);
    expect(suppressed[0]!.alert).toMatchObject({ suppressedBy: 'maintenance window', nextEscalationAt: null });
    expect(book.suppressions()).toEqual([{ deviceId: 'smoke-1', by: 'maintenance window' }]);

    const other = book.apply(raise({ type: 'heat.alarm' }), at(2));
    expect(other[0]!.alert.suppressedBy).toBe('maintenance window');
    expect(intents(other)).toEqual([]);
    // A repeat of a device-suppressed alert does not lift the suppression.
    expect(events(book.apply(raise(), at(3)))).toEqual(['repeated']);
    expect(runClock(book, 4, 400)).toEqual([]);

    const lifted = book.unsuppress('smoke-1', at(500));
    expect(events(lifted)).toEqual(['unsuppressed', 'unsuppressed']);
    expect(lifted.map((c) => c.alert.nextEscalationAt)).toEqual([at(560), at(560)]);
    expect(intents(lifted).map((i) => [i.alertId, i.reason])).toEqual([
      ['a1', 'raised'],
      ['a2', 'raised'],
    ]);
    expect(book.suppressions()).toEqual([]);
  });

  it('a raise without suppressedBy lifts a suppression that came with a signal', () => {
    const book = newBook();
    book.apply(raise({ ...child, suppressedBy: 'nvr-1' }), T0);
    const changes = book.apply(raise(child), at(30));
    expect(events(changes)).toEqual(['repeated', 'unsuppressed']);
    expect(changes[1]!.alert.suppressedBy).toBeNull();
    expect(intents(changes)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'raised', lifeSafety: false }]);
  });

  it('unsuppressBy(parent) lifts every suppression the parent caused; cleared ones just stay for acknowledgement', () => {
    const book = newBook();
    book.apply(raise({ ...child, suppressedBy: 'nvr-1' }), T0);
    book.apply(raise({ ...child, deviceId: 'cam-8', suppressedBy: 'nvr-1' }), T0);
    book.apply(clear({ ...child, deviceId: 'cam-8' }), at(5));
    book.apply(raise({ ...child, deviceId: 'cam-9', suppressedBy: 'nvr-2' }), T0);
    const lifted = book.unsuppressBy('nvr-1', at(60));
    expect(lifted.map((c) => [c.alert.source.deviceId, c.alert.state, c.notify.length])).toEqual([
      ['cam-7', 'active_unack', 1],
      ['cam-8', 'returned_unack', 0],
    ]);
    expect(book.findOpen('cam-9', 'video.loss')?.suppressedBy).toBe('nvr-2');
  });

  it('a raise that names a suppression mutes an alert that was not suppressed', () => {
    const book = newBook();
    book.apply(raise(child), T0);
    const changes = book.apply(raise({ ...child, suppressedBy: 'nvr-1' }), at(10));
    expect(events(changes)).toEqual(['suppressed', 'repeated']);
    expect(changes[1]!.alert).toMatchObject({ suppressedBy: 'nvr-1', nextEscalationAt: null });
  });
});
