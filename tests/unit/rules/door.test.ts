/**
 * Door access controller rules (domain.md §3): forced open with debounce, held open with
 * pre-warning by occupancy, repeated denials per credential and per reader, duress.
 */
import { describe, expect, it } from 'vitest';
import type { OccupancySchedule } from '../../../gateway/src/domain/rules/occupancy.js';
import { brief, device, Harness, NIGHT, of, S, T0 } from './harness.js';

const door = () => device('DC1', 'door', { floor: 1 });
const CRED_A = 'a'.repeat(64);
const CRED_B = 'b'.repeat(64);

describe('door.forced_open', () => {
  it('raises after the 1 s debounce, latched, and clears when the door closes', () => {
    const h = new Harness({ devices: [door()] });
    expect(h.event('DC1', 'door.forced_open', T0, { doorId: 'D1' })).toEqual([]);
    expect(h.advance(T0 + 999)).toEqual([]);
    const raised = h.advance(T0 + 1000);
    expect(brief(raised, T0)).toEqual(['raise door.forced_open alarm @1000']);
    expect(raised[0]).toMatchObject({ latched: true, attrs: { doorId: 'D1' } });
    expect(raised[0]!.detail).toBe('Door D1 forced open, floor 1');
    // Reported again while open: a repeat.
    expect(brief(h.event('DC1', 'door.forced_open', T0 + 5 * S, { doorId: 'D1' }), T0)).toEqual(['raise door.forced_open alarm @5000']);
    expect(brief(h.event('DC1', 'door.closed', T0 + 9 * S, { doorId: 'D1' }), T0)).toEqual(['clear door.forced_open alarm @9000']);
  });

  it('a door.closed strictly within the debounce cancels it; at the debounce it is too late', () => {
    const cancelled = new Harness({ devices: [door()] });
    cancelled.event('DC1', 'door.forced_open', T0, { doorId: 'D1' });
    expect(cancelled.event('DC1', 'door.closed', T0 + 999, { doorId: 'D1' })).toEqual([]);
    cancelled.advance(T0 + 60 * S);
    expect(of(cancelled.signals, 'door.forced_open')).toEqual([]);

    const late = new Harness({ devices: [door()] });
    late.event('DC1', 'door.forced_open', T0, { doorId: 'D1' });
    expect(brief(late.event('DC1', 'door.closed', T0 + 1000, { doorId: 'D1' }), T0)).toEqual([
      'raise door.forced_open alarm @1000',
      'clear door.forced_open alarm @1000',
    ]);
  });

  it('a closed other door does not cancel', () => {
    const h = new Harness({ devices: [door()] });
    h.event('DC1', 'door.forced_open', T0, { doorId: 'D1' });
    h.event('DC1', 'door.closed', T0 + 500, { doorId: 'D2' });
    expect(of(h.advance(T0 + 1000), 'door.forced_open')).toHaveLength(1);
  });
});

describe('door.held_open', () => {
  it('in occupied hours: pre-warning at 75 % (22.5 s), supervisory at 30 s, cleared by door.closed', () => {
    const h = new Harness({ devices: [door()] });
    h.event('DC1', 'door.opened', T0, { doorId: 'D1' });
    expect(h.advance(T0 + 22_499)).toEqual([]);
    const warn = h.advance(T0 + 22_500);
    expect(brief(warn, T0)).toEqual(['raise door.held_open.prewarning supervisory @22500']);
    expect(h.advance(T0 + 29_999)).toEqual([]);
    const held = h.advance(T0 + 30_000);
    expect(brief(held, T0)).toEqual(['raise door.held_open supervisory @30000', 'clear door.held_open.prewarning supervisory @30000']);
    expect(held[0]!.attrs).toMatchObject({ doorId: 'D1', openS: 30, occupied: true });
    expect(held[0]!.detail).toBe('Door D1 held open 30 s, floor 1, in occupied hours');
    expect(brief(h.event('DC1', 'door.closed', T0 + 40 * S, { doorId: 'D1' }), T0)).toEqual(['clear door.held_open supervisory @40000']);
  });

  it('after hours it is an alarm', () => {
    const h = new Harness({ devices: [door()], startedAt: NIGHT });
    h.event('DC1', 'door.opened', NIGHT, { doorId: 'D1' });
    const out = h.advance(NIGHT + 30 * S);
    expect(brief(out, NIGHT)).toEqual([
      'raise door.held_open.prewarning supervisory @22500',
      'raise door.held_open alarm @30000',
      'clear door.held_open.prewarning supervisory @30000',
    ]);
  });

  it('closing before the pre-warning raises nothing; closing after it clears only the pre-warning', () => {
    const h = new Harness({ devices: [door()] });
    h.event('DC1', 'door.opened', T0, { doorId: 'D1' });
    h.event('DC1', 'door.closed', T0 + 22_499, { doorId: 'D1' });
    h.event('DC1', 'door.opened', T0 + 100 * S, { doorId: 'D1' });
    h.advance(T0 + 125 * S);
    expect(brief(h.event('DC1', 'door.closed', T0 + 126 * S, { doorId: 'D1' }), T0)).toEqual([
      'clear door.held_open.prewarning supervisory @126000',
    ]);
    h.advance(T0 + 300 * S);
    expect(brief(h.signals, T0)).toEqual(['raise door.held_open.prewarning supervisory @122500', 'clear door.held_open.prewarning supervisory @126000']);
  });

  it('a supervisory held-open becomes an alarm when the building becomes unoccupied', () => {
    const evening = Date.UTC(2025, 5, 2, 13, 55, 0); // 21:55 China time
    const h = new Harness({ devices: [door()], startedAt: evening });
    h.event('DC1', 'door.opened', evening, { doorId: 'D1' });
    h.advance(evening + 30 * S);
    expect(of(h.signals, 'door.held_open', 'raise').map((s) => s.signalClass)).toEqual(['supervisory']);
    const tenPm = Date.UTC(2025, 5, 2, 14, 0, 0);
    expect(h.advance(tenPm - 1).filter((s) => s.type === 'door.held_open')).toEqual([]);
    const escalated = of(h.advance(tenPm), 'door.held_open');
    expect(escalated).toHaveLength(1);
    expect(escalated[0]).toMatchObject({ action: 'raise', signalClass: 'alarm', at: tenPm, attrs: { escalated: true, occupied: false } });
  });

  it('follows the building occupancy schedule it is given', () => {
    const alwaysOccupied: OccupancySchedule = { utcOffsetMinutes: 480, weekly: Array.from({ length: 7 }, () => [{ from: '00:00', to: '24:00' }]) };
    const h = new Harness({ devices: [door()], startedAt: NIGHT, occupancy: alwaysOccupied });
    h.event('DC1', 'door.opened', NIGHT, { doorId: 'D1' });
    expect(of(h.advance(NIGHT + 30 * S), 'door.held_open')[0]!.signalClass).toBe('supervisory');
  });

  it("maps the controller's door.held_open event the same way, and keeps one alert across doors", () => {
    const h = new Harness({ devices: [door()], startedAt: NIGHT });
    const r = h.event('DC1', 'door.held_open', NIGHT, { doorId: 'D2', openDurationS: 45 });
    expect(brief(r, NIGHT)).toEqual(['raise door.held_open alarm @0']);
    expect(r[0]!.attrs).toMatchObject({ doorId: 'D2', openS: 45 });
    h.event('DC1', 'door.opened', NIGHT + S, { doorId: 'D1' });
    h.advance(NIGHT + 31 * S);
    // D2 closing leaves D1 held: nothing clears yet.
    expect(of(h.event('DC1', 'door.closed', NIGHT + 40 * S, { doorId: 'D2' }), 'door.held_open')).toEqual([]);
    expect(brief(of(h.event('DC1', 'door.closed', NIGHT + 41 * S, { doorId: 'D1' }), 'door.held_open'), NIGHT)).toEqual([
      'clear door.held_open alarm @41000',
    ]);
  });

  it('honours heldOpenS and prewarnPct overrides', () => {
    const h = new Harness({ devices: [door()], perDevice: { DC1: { 'door.held_open': { params: { heldOpenS: 60, prewarnPct: 0 } } } } });
    h.event('DC1', 'door.opened', T0, { doorId: 'D1' });
    expect(h.advance(T0 + 59_999)).toEqual([]);
    expect(brief(h.advance(T0 + 60 * S), T0)).toEqual(['raise door.held_open supervisory @60000']);
  });
});

describe('door.repeated_denials', () => {
  const denied = (h: Harness, at: number, credentialRef: string, readerId = 'R1') =>
    of(h.event('DC1', 'access.denied', at, { credentialRef, readerId, result: 'denied' }), 'door.repeated_denials');

  it('3 denials of one credential within 60 s (inclusive) raise an alarm; it clears one window after the last', () => {
    const h = new Harness({ devices: [door()] });
    expect(denied(h, T0, CRED_A)).toEqual([]);
    expect(denied(h, T0 + 30 * S, CRED_A)).toEqual([]);
    const r = denied(h, T0 + 60 * S, CRED_A);
    expect(brief(r, T0)).toEqual(['raise door.repeated_denials alarm @60000']);
    expect(r[0]!.detail).toBe('3 access denials for one credential within 60 s, reader R1, floor 1');
    // A fourth is a repeat.
    expect(brief(denied(h, T0 + 61 * S, CRED_A), T0)).toEqual(['raise door.repeated_denials alarm @61000']);
    // Holds for one window after the last raising denial (61 s): until 121 s inclusive.
    expect(h.advance(T0 + 121 * S)).toEqual([]);
    expect(brief(h.advance(T0 + 121 * S + 1), T0)).toEqual(['clear door.repeated_denials alarm @121000']);
    // The window restarts: one more denial is not three.
    expect(denied(h, T0 + 150 * S, CRED_A)).toEqual([]);
  });

  it('the window slides: a denial just over 60 s old does not count', () => {
    const h = new Harness({ devices: [door()] });
    denied(h, T0, CRED_A);
    denied(h, T0 + 30 * S, CRED_A);
    expect(denied(h, T0 + 60 * S + 1, CRED_A)).toEqual([]);
    // 30 s, 60.001 s, 89 s: three within 60 s.
    expect(denied(h, T0 + 89 * S, CRED_A)).toHaveLength(1);
  });

  it('different credentials do not add up per credential, but 5 at one reader do', () => {
    const h = new Harness({ devices: [door()] });
    const creds = [CRED_A, CRED_B, 'c'.repeat(64), 'd'.repeat(64)];
    creds.forEach((c, i) => expect(denied(h, T0 + i * S, c)).toEqual([]));
    const r = denied(h, T0 + 4 * S, 'e'.repeat(64));
    expect(r).toHaveLength(1);
    expect(r[0]!.detail).toContain('5 access denials at one reader within 60 s');
  });

  it('per-reader counts keep readers apart', () => {
    const h = new Harness({ devices: [door()] });
    for (let i = 0; i < 8; i++) expect(denied(h, T0 + i * S, `${i}`.repeat(64), i % 2 ? 'R1' : 'R2')).toEqual([]);
  });
});

describe('door alarms and troubles from events', () => {
  it('duress is a latched momentary alarm, tailgating an unlatched one, lock.fault trouble', () => {
    const h = new Harness({ devices: [door()] });
    h.event('DC1', 'duress', T0, { doorId: 'D1' });
    h.event('DC1', 'tailgating', T0 + S, { doorId: 'D1' });
    h.event('DC1', 'lock.fault', T0 + 2 * S, { doorId: 'D1' });
    expect(h.signals.filter((s) => s.action === 'raise').map((s) => [s.type, s.signalClass, s.latched])).toEqual([
      ['duress', 'alarm', true],
      ['tailgating', 'alarm', false],
      ['lock.fault', 'trouble', false],
    ]);
  });
});
