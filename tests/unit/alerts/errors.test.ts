import { describe, expect, it } from 'vitest';
import type { AlertSignal } from '../../../gateway/src/domain/alerts/types.js';
import { at, clear, failureCode, newBook, raise, T0 } from './support.js';

describe('invalid actions throw AlertActionError with a stable code', () => {
  it('not_found: no open alert with that id (never raised, or closed)', () => {
    const book = newBook();
    expect(failureCode(() => book.acknowledge('nope', 'captain-wang', null, T0))).toBe('not_found');
    book.apply(raise(), T0);
    book.acknowledge('a1', 'captain-wang', null, at(1));
    book.apply(clear(), at(2));
    for (const action of [
      () => book.acknowledge('a1', 'captain-wang', null, at(3)),
      () => book.shelve('a1', 'captain-wang', 60, 'x', at(3)),
      () => book.unshelve('a1', 'captain-wang', at(3)),
      () => book.disable('a1', 'admin', 'x', at(100), at(3)),
      () => book.enable('a1', 'admin', at(3)),
      () => book.reset('a1', 'admin', null, at(3)),
    ]) {
      expect(failureCode(action)).toBe('not_found');
    }
  });

  it('invalid_transition: acknowledging twice, or an alert already back to normal', () => {
    const book = newBook();
    book.apply(raise(), T0);
    book.acknowledge('a1', 'captain-wang', null, at(1));
    expect(failureCode(() => book.acknowledge('a1', 'grid-li', null, at(2)))).toBe('invalid_transition');

    book.shelve('a1', 'captain-wang', 600, 'nuisance', at(3));
    book.apply(clear(), at(4));
    expect(book.get('a1')?.state).toBe('normal');
    expect(failureCode(() => book.acknowledge('a1', 'captain-wang', null, at(5)))).toBe('invalid_transition');
  });

  it('invalid_transition: reset of a latched alert twice (kept open by a shelve)', () => {
    const book = newBook();
    book.apply(raise({ latched: true }), T0);
    book.shelve('a1', 'captain-wang', 600, 'nuisance', at(1));
    book.apply(clear(), at(2));
    book.reset('a1', 'captain-wang', null, at(3));
    expect(failureCode(() => book.reset('a1', 'captain-wang', null, at(4)))).toBe('invalid_transition');
  });

  it('invalid_argument: missing actor, bad time', () => {
    const book = newBook();
    book.apply(raise(), T0);
    expect(failureCode(() => book.acknowledge('a1', '', null, at(1)))).toBe('invalid_argument');
    expect(failureCode(() => book.acknowledge('a1', 'captain-wang', null, Number.NaN))).toBe('invalid_argument');
    expect(failureCode(() => book.tick(Number.POSITIVE_INFINITY))).toBe('invalid_argument');
    expect(failureCode(() => book.suppress('', 'nvr-1', at(1)))).toBe('invalid_argument');
    expect(failureCode(() => book.suppress('smoke-1', '', at(1)))).toBe('invalid_argument');
    expect(book.get('a1')?.state).toBe('active_unack');
  });

  it('invalid_argument: a malformed signal, with nothing changed', () => {
    const book = newBook();
    const bad: unknown[] = [
      null,
      { ...raise(), action: 'toggle' },
      { ...raise(), type: '' },
      { ...raise(), signalClass: 'panic' },
      { ...raise(), source: { ...raise().source, deviceId: '' } },
      { ...raise(), source: undefined },
      { ...raise(), title: undefined },
      { ...raise(), verification: 'maybe' },
    ];
    for (const signal of bad) expect(failureCode(() => book.apply(signal as AlertSignal, T0))).toBe('invalid_argument');
    expect(book.open()).toEqual([]);
  });

  it('rejects bad options at construction, listing every problem', () => {
    expect(() => newBook({ chattering: { activations: 0, windowS: 60 }, flood: { maxAlerts: 1.5, windowS: -1 }, historyLimit: 1 })).toThrow(
      /chattering.activations must be a positive integer; flood.maxAlerts must be a positive integer; flood.windowS must be a positive number; historyLimit must be an integer ≥ 2/,
    );
  });
});
