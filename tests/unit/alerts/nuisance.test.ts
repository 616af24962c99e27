import { describe, expect, it } from 'vitest';
import { advanceTo, at, clear, events, intents, newBook, raise, T0 } from './support.js';

const held = { deviceId: 'door-1', kind: 'door', type: 'door.held_open', signalClass: 'supervisory' as const };

describe('chattering (3 or more activations in 60 s)', () => {
  it('flags a chattering supervisory alert, records every activation, and stops re-notifying', () => {
    const book = newBook();
    const notified: number[] = [];
    for (let i = 0; i < 5; i++) {
      const up = book.apply(raise(held), at(i * 10));
      if (intents(up).length > 0) notified.push(i);
      if (i === 2) expect(events(up)).toEqual(['reactivated', 'chattering']);
      const down = book.apply(clear(held), at(i * 10 + 5));
      if (i >= 2) expect(intents(down)).toEqual([]);
    }
    expect(notified).toEqual([0, 1]);
    const a = book.get('a1')!;
    expect(a).toMatchObject({ chattering: true, count: 5 });
    expect(a.history.filter((h) => h.event === 'raised' || h.event === 'reactivated')).toHaveLength(5);
    expect(a.history.filter((h) => h.event === 'chattering')).toHaveLength(1);
  });

  it('never silently drops a life-safety alarm: every activation still notifies', () => {
    const book = newBook();
    const notices: number[] = [];
    for (let i = 0; i < 5; i++) {
      notices.push(intents(book.apply(raise(), at(i * 10))).length);
      book.apply(clear(), at(i * 10 + 5));
    }
    expect(notices).toEqual([1, 1, 1, 1, 1]);
    expect(book.get('a1')?.chattering).toBe(true);
  });

  it('ends the flag at an activation once the window holds fewer than 3, which notifies again', () => {
    const book = newBook();
    for (let i = 0; i < 3; i++) {
      book.apply(raise(held), at(i * 10));
      book.apply(clear(held), at(i * 10 + 5));
    }
    const later = book.apply(raise(held), at(200));
    expect(events(later)).toEqual(['reactivated', 'chattering_ended']);
    expect(later[1]!.alert.chattering).toBe(false);
    expect(intents(later)).toHaveLength(1);
  });

  it('counts activations of one source across alerts that closed in between', () => {
    const book = newBook();
    for (let i = 0; i < 2; i++) {
      book.apply(raise(held), at(i * 10));
      book.acknowledge(`a${i + 1}`, 'captain-wang', null, at(i * 10 + 1));
      book.apply(clear(held), at(i * 10 + 2));
    }
    const third = book.apply(raise(held), at(20));
    expect(third[0]!.alert.id).toBe('a3');
    expect(events(third)).toEqual(['raised', 'chattering']);
    expect(intents(third)).toEqual([]);
  });

  it('uses the configured threshold and window', () => {
    const book = newBook({ chattering: { activations: 2, windowS: 10 } });
    book.apply(raise(held), T0);
    book.apply(clear(held), at(1));
    expect(events(book.apply(raise(held), at(20)))).toEqual(['reactivated']);
    book.apply(clear(held), at(21));
    expect(events(book.apply(raise(held), at(25)))).toEqual(['reactivated', 'chattering']);
  });
});

describe('flood grouping (more than 10 new alerts per building in 10 min)', () => {
  const door = (n: number, building = 'b1') => ({ ...held, deviceId: `door-${n}`, buildingId: building });

  it('the first 10 notify, the rest go into ONE digest per building per window', () => {
    const book = newBook();
    const raised = [];
    for (let n = 1; n <= 15; n++) raised.push(...book.apply(raise(door(n)), at(n)));
    expect(intents(raised).map((i) => i.alertId)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10']);
    expect(raised.filter((c) => c.event === 'flood_held').map((c) => c.alert.id)).toEqual(['a11', 'a12', 'a13', 'a14', 'a15']);
    // Another building is not affected by b1's flood.
    expect(intents(book.apply(raise(door(99, 'b2')), at(20)))).toHaveLength(1);

    expect(book.nextWakeAt()).toBe(at(600));
    expect(advanceTo(book, at(599)).filter((c) => c.event === 'digest')).toEqual([]);
    const digest = advanceTo(book, at(600)).filter((c) => c.event === 'digest');
    expect(digest.map((c) => c.alert.id)).toEqual(['a11', 'a12', 'a13', 'a14', 'a15']);
    expect(intents(digest)).toEqual([
      { alertId: 'a11', audience: 'captain', reason: 'digest', lifeSafety: false, relatedAlertIds: ['a12', 'a13', 'a14', 'a15'] },
    ]);
  });

  it('alarm-class alerts always notify individually (life-safety lane), and still count towards the flood', () => {
    const book = newBook();
    for (let n = 1; n <= 10; n++) book.apply(raise(door(n)), at(n));
    const alarms = [];
    for (let n = 1; n <= 3; n++) alarms.push(...book.apply(raise({ deviceId: `smoke-${n}` }), at(20 + n)));
    expect(intents(alarms).map((i) => [i.alertId, i.reason, i.lifeSafety])).toEqual([
      ['a11', 'raised', true],
      ['a12', 'raised', true],
      ['a13', 'raised', true],
    ]);
    expect(events(alarms)).not.toContain('flood_held');
    expect(events(book.apply(raise(door(11)), at(30)))).toEqual(['raised', 'flood_held']);
  });

  it('leaves out alerts somebody acknowledged meanwhile, and sends no digest when none are left', () => {
    const book = newBook();
    for (let n = 1; n <= 13; n++) book.apply(raise(door(n)), at(n));
    book.acknowledge('a12', 'captain-wang', null, at(100));
    const digest = advanceTo(book, at(600)).filter((c) => c.event === 'digest');
    expect(intents(digest)).toEqual([
      { alertId: 'a11', audience: 'captain', reason: 'digest', lifeSafety: false, relatedAlertIds: ['a13'] },
    ]);

    const quiet = newBook();
    for (let n = 1; n <= 11; n++) quiet.apply(raise(door(n)), at(n));
    quiet.acknowledge('a11', 'captain-wang', null, at(100));
    expect(advanceTo(quiet, at(700))).toEqual([]);
  });

  it('a new window starts a new count', () => {
    const book = newBook({ flood: { maxAlerts: 2, windowS: 600 } });
    for (let n = 1; n <= 3; n++) book.apply(raise(door(n)), at(n));
    const next = book.apply(raise(door(4)), at(601));
    expect(intents(next)).toHaveLength(1);
  });

  it('repeats are not new alerts and do not count', () => {
    const book = newBook({ flood: { maxAlerts: 2, windowS: 600 } });
    book.apply(raise(door(1)), at(1));
    for (let i = 0; i < 20; i++) book.apply(raise(door(1)), at(2 + i));
    expect(intents(book.apply(raise(door(2)), at(30)))).toHaveLength(1);
  });
});
