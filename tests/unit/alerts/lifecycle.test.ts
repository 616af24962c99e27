import { describe, expect, it } from 'vitest';
import { AlertActionError } from '../../../gateway/src/ports.js';
import { at, clear, events, failureCode, intents, newBook, raise, T0 } from './support.js';

describe('alert lifecycle (ISA-18.2 states)', () => {
  it('raises a new alert active and unacknowledged, and tells the building captain', () => {
    const book = newBook();
    const changes = book.apply(raise(), T0);
    expect(events(changes)).toEqual(['raised']);
    const alert = changes[0]!.alert;
    expect(alert).toMatchObject({
      id: 'a1',
      state: 'active_unack',
      type: 'smoke.alarm',
      signalClass: 'alarm',
      count: 1,
      raisedAt: T0,
      lastSeenAt: T0,
      escalationLevel: 0,
      nextEscalationAt: at(60),
      closedAt: null,
    });
    expect(alert.history).toEqual([{ at: T0, event: 'raised', actor: 'system', note: 'Smoke 0.15 dB/m on floor 3' }]);
    expect(intents(changes)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'raised', lifeSafety: true }]);
    expect(book.findOpen('smoke-1', 'smoke.alarm')?.id).toBe('a1');
  });

  it('de-duplicates: 50 repeats make one alert with count 51 and one notification', () => {
    const book = newBook();
    const changes = [book.apply(raise(), T0)];
    for (let i = 1; i <= 50; i++) changes.push(book.apply(raise({ detail: `Smoke reading ${i}` }), at(i)));
    const all = changes.flat();
    expect(book.open()).toHaveLength(1);
    expect(book.get('a1')).toMatchObject({ count: 51, lastSeenAt: at(50), detail: 'Smoke reading 50', state: 'active_unack' });
    expect(intents(all)).toHaveLength(1);
    expect(events(all).filter((e) => e === 'repeated')).toHaveLength(50);
  });

  it('active_unack → returned_unack when the condition clears, then normal (closed) on acknowledge', () => {
    const book = newBook();
    book.apply(raise(), T0);
    const cleared = book.apply(clear(), at(10));
    expect(events(cleared)).toEqual(['returned']);
    // Nobody has acknowledged it yet, so the escalation clock keeps running (grid worker at T1).
    expect(cleared[0]!.alert).toMatchObject({ state: 'returned_unack', clearedAt: at(10), closedAt: null, nextEscalationAt: at(60) });
    expect(intents(cleared)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'cleared', lifeSafety: true }]);
    // Still waiting for somebody: it stays in the book.
    expect(book.get('a1')?.state).toBe('returned_unack');

    const ack = book.acknowledge('a1', 'captain-wang', 'checked, cooking smoke', at(20));
    expect(ack.alert).toMatchObject({ state: 'normal', acknowledgedAt: at(20), acknowledgedBy: 'captain-wang', closedAt: at(20), nextEscalationAt: null });
    expect(ack.alert.history.at(-1)).toEqual({ at: at(20), event: 'acknowledged', actor: 'captain-wang', note: 'checked, cooking smoke' });
    expect(book.get('a1')).toBeUndefined();
    expect(book.open()).toEqual([]);
  });

  it('active_unack → active_ack on acknowledge → normal (closed) when the condition clears', () => {
    const book = newBook();
    book.apply(raise(), T0);
    const ack = book.acknowledge('a1', 'captain-wang', null, at(5));
    expect(ack.alert).toMatchObject({ state: 'active_ack', nextEscalationAt: null });
    const cleared = book.apply(clear(), at(30));
    expect(events(cleared)).toEqual(['cleared']);
    expect(cleared[0]!.alert).toMatchObject({ state: 'normal', clearedAt: at(30), closedAt: at(30) });
    expect(intents(cleared)).toEqual([]);
    expect(book.open()).toEqual([]);
  });

  it('a raise after an acknowledged alert cleared and closed is a new alert', () => {
    const book = newBook();
    book.apply(raise(), T0);
    book.acknowledge('a1', 'captain-wang', null, at(5));
    book.apply(clear(), at(30));
    const again = book.apply(raise(), at(40));
    expect(events(again)).toEqual(['raised']);
    expect(again[0]!.alert).toMatchObject({ id: 'a2', count: 1, state: 'active_unack' });
    expect(intents(again)).toHaveLength(1);
  });

  it('returned_unack + raise: the same alert goes back to active_unack, notifies again, keeps its escalation clock', () => {
    const book = newBook();
    book.apply(raise(), T0);
    book.apply(clear(), at(10));
    const back = book.apply(raise(), at(20));
    expect(events(back)).toEqual(['reactivated']);
    expect(back[0]!.alert).toMatchObject({ id: 'a1', state: 'active_unack', clearedAt: null, count: 2, nextEscalationAt: at(60) });
    expect(intents(back)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'raised', lifeSafety: true }]);
  });

  it('a clear for a source with no open alert, or a second clear, changes nothing', () => {
    const book = newBook();
    expect(book.apply(clear(), T0)).toEqual([]);
    book.apply(raise(), T0);
    book.apply(clear(), at(1));
    expect(book.apply(clear(), at(2))).toEqual([]);
  });

  it('keeps one alert per (device, type): another type or device is another alert', () => {
    const book = newBook();
    book.apply(raise(), T0);
    book.apply(raise({ type: 'heat.alarm' }), T0);
    book.apply(raise({ deviceId: 'smoke-2' }), T0);
    expect(book.open().map((a) => a.id)).toEqual(['a1', 'a2', 'a3']);
  });

  it('a verifying alarm that gets confirmed records it and tells the captain', () => {
    const book = newBook();
    const first = book.apply(raise({ verification: 'verifying' }), T0);
    expect(first[0]!.alert.verification).toBe('verifying');
    expect(intents(first)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'raised', lifeSafety: true }]);
    const confirmed = book.apply(raise({ verification: 'confirmed', detail: 'Second detector on floor 3 agrees' }), at(15));
    expect(events(confirmed)).toEqual(['confirmed']);
    expect(confirmed[0]!.alert).toMatchObject({ verification: 'confirmed', count: 2 });
    expect(intents(confirmed)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'confirmed', lifeSafety: true }]);
  });

  it('info-class alerts are recorded but tell nobody and never escalate', () => {
    const book = newBook();
    const changes = book.apply(raise({ type: 'self_test', signalClass: 'info' }), T0);
    expect(intents(changes)).toEqual([]);
    expect(changes[0]!.alert.nextEscalationAt).toBeNull();
  });
});

describe('latched alerts', () => {
  it('stay active when the condition clears, recording that it cleared', () => {
    const book = newBook();
    book.apply(raise({ latched: true }), T0);
    book.acknowledge('a1', 'captain-wang', null, at(5));
    const cleared = book.apply(clear(), at(30));
    expect(events(cleared)).toEqual(['cleared']);
    expect(cleared[0]!.alert).toMatchObject({ state: 'active_ack', clearedAt: at(30), closedAt: null });
    expect(cleared[0]!.alert.history.at(-1)?.note).toContain('latched');
    expect(book.get('a1')).toBeDefined();
  });

  it('an unacknowledged latched alert stays active_unack after clearing, and keeps escalating', () => {
    const book = newBook();
    book.apply(raise({ latched: true }), T0);
    const cleared = book.apply(clear(), at(30));
    expect(cleared[0]!.alert).toMatchObject({ state: 'active_unack', clearedAt: at(30), nextEscalationAt: at(60) });
  });

  it('reset only after the condition has cleared, then the alert closes', () => {
    const book = newBook();
    book.apply(raise({ latched: true }), T0);
    book.acknowledge('a1', 'captain-wang', null, at(5));
    expect(failureCode(() => book.reset('a1', 'captain-wang', null, at(10)))).toBe('invalid_transition');
    book.apply(clear(), at(30));
    const reset = book.reset('a1', 'captain-wang', 'detector replaced', at(60));
    expect(reset.event).toBe('reset');
    expect(reset.alert).toMatchObject({ state: 'normal', closedAt: at(60) });
    expect(reset.alert.history.at(-1)).toEqual({ at: at(60), event: 'reset', actor: 'captain-wang', note: 'detector replaced' });
    expect(book.open()).toEqual([]);
  });

  it('resetting an unacknowledged latched alert acknowledges it too (fire panel reset)', () => {
    const book = newBook();
    book.apply(raise({ latched: true }), T0);
    book.apply(clear(), at(30));
    const reset = book.reset('a1', 'grid-li', null, at(40));
    expect(reset.alert).toMatchObject({ state: 'normal', acknowledgedAt: at(40), acknowledgedBy: 'grid-li', closedAt: at(40) });
  });

  it('a non-latched alert cannot be reset', () => {
    const book = newBook();
    book.apply(raise(), T0);
    book.apply(clear(), at(5));
    let error: unknown;
    try {
      book.reset('a1', 'captain-wang', null, at(10));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AlertActionError);
    expect((error as AlertActionError).code).toBe('invalid_transition');
  });

  it('a return to alarm after an acknowledged latched alert cleared is a new activation', () => {
    const book = newBook();
    book.apply(raise({ latched: true }), T0);
    book.acknowledge('a1', 'captain-wang', null, at(5));
    book.apply(clear(), at(30));
    const back = book.apply(raise(), at(100));
    expect(events(back)).toEqual(['reactivated']);
    expect(back[0]!.alert).toMatchObject({
      id: 'a1',
      state: 'active_unack',
      acknowledgedAt: null,
      acknowledgedBy: null,
      clearedAt: null,
      escalationLevel: 0,
      nextEscalationAt: at(160),
      count: 2,
    });
    expect(intents(back)).toEqual([{ alertId: 'a1', audience: 'captain', reason: 'raised', lifeSafety: true }]);
  });
});

describe('history', () => {
  it('is bounded: the raise is kept, the oldest entries after it go, and they are counted', () => {
    const book = newBook({ historyLimit: 5 });
    book.apply(raise(), T0);
    for (let i = 1; i <= 10; i++) book.apply(raise(), at(i));
    const a = book.get('a1')!;
    expect(a.history).toHaveLength(5);
    expect(a.history[0]!.event).toBe('raised');
    expect(a.history.slice(1).map((h) => h.at)).toEqual([at(7), at(8), at(9), at(10)]);
    expect(a.historyDropped).toBe(6);
    expect(a.count).toBe(11);
  });
});
