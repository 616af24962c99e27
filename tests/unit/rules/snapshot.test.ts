/**
 * Snapshot → restore: timers and windows resume after a restart at the right time, and nothing is
 * raised twice.
 */
import { describe, expect, it } from 'vitest';
import { brief, device, Harness, of, S, T0 } from './harness.js';

const door = () => device('DC1', 'door', { floor: 1 });
const CRED = 'a'.repeat(64);

/** Snapshot through JSON, as the store keeps it. */
function restart(before: Harness, at: number, more: Partial<ConstructorParameters<typeof Harness>[0]> = {}): Harness {
  const snapshot = JSON.parse(JSON.stringify(before.engine.snapshot())) as unknown;
  return new Harness({ devices: before.options.devices, startedAt: at, snapshot, known: true, ...more });
}

describe('rule engine snapshot', () => {
  it('a held-open timer started before the restart fires at the right time after it', () => {
    const before = new Harness({ devices: [door()] });
    before.event('DC1', 'door.opened', T0, { doorId: 'D1' });
    before.advance(T0 + 10 * S);
    const after = restart(before, T0 + 15 * S);
    expect(after.engine.nextWakeAt()).toBe(T0 + 22_500);
    expect(brief(after.advance(T0 + 30 * S), T0)).toEqual([
      'raise door.held_open.prewarning supervisory @22500',
      'raise door.held_open supervisory @30000',
      'clear door.held_open.prewarning supervisory @30000',
    ]);
    expect(brief(after.event('DC1', 'door.closed', T0 + 40 * S, { doorId: 'D1' }), T0)).toEqual(['clear door.held_open supervisory @40000']);
  });

  it('nothing already raised is raised again: pre-warning, held-open, offline, verification', () => {
    const before = new Harness({ devices: [door(), device('SD1', 'smoke'), device('C1', 'camera')], known: true });
    before.event('DC1', 'door.opened', T0, { doorId: 'D1' });
    before.event('SD1', 'smoke.alarm', T0 + S);
    before.status('C1', 'offline', T0 + 2 * S);
    before.advance(T0 + 25 * S);
    expect(of(before.signals, 'door.held_open.prewarning', 'raise')).toHaveLength(1);
    const after = restart(before, T0 + 26 * S);
    // The retained Last Will is redelivered on reconnect: the device is already offline.
    expect(after.status('C1', 'offline', T0 + 27 * S)).toEqual([]);
    const out = after.advance(T0 + 30 * S);
    expect(brief(out, T0)).toEqual(['raise door.held_open supervisory @30000', 'clear door.held_open.prewarning supervisory @30000']);
    // The smoke alarm is still verifying: persistence after the window confirms it, once.
    expect(of(after.event('SD1', 'smoke.alarm', T0 + 61 * S), 'smoke.alarm').map((s) => s.verification)).toEqual(['confirmed']);
    expect(of(after.event('SD1', 'smoke.alarm', T0 + 62 * S), 'smoke.alarm').map((s) => s.verification)).toEqual(['confirmed']);
  });

  it('a repeated-denials window spans the restart', () => {
    const before = new Harness({ devices: [door()] });
    before.event('DC1', 'access.denied', T0, { credentialRef: CRED, readerId: 'R1' });
    before.event('DC1', 'access.denied', T0 + 20 * S, { credentialRef: CRED, readerId: 'R1' });
    const after = restart(before, T0 + 30 * S);
    expect(of(after.event('DC1', 'access.denied', T0 + 40 * S, { credentialRef: CRED, readerId: 'R1' }), 'door.repeated_denials')).toHaveLength(1);
  });

  it('corroboration survives: a second detector after the restart confirms the first', () => {
    const before = new Harness({ devices: [device('SD1', 'smoke'), device('SD2', 'smoke')] });
    before.event('SD1', 'smoke.alarm', T0);
    const after = restart(before, T0 + 10 * S);
    const out = of(after.event('SD2', 'smoke.alarm', T0 + 20 * S), 'smoke.alarm');
    expect(out.map((s) => [s.source.deviceId, s.verification])).toEqual([
      ['SD2', 'confirmed'],
      ['SD1', 'confirmed'],
    ]);
  });

  it('an unreadable snapshot starts fresh instead of failing', () => {
    for (const snapshot of [null, 42, 'x', { format: 'other' }, { format: 'gridwatch.rules/1', devices: [{}], journal: {} }]) {
      const h = new Harness({ devices: [door()], snapshot });
      expect(h.engine.deviceCount()).toBe(0);
      h.event('DC1', 'door.opened', T0, { doorId: 'D1' });
      expect(of(h.advance(T0 + 30 * S), 'door.held_open')).toHaveLength(1);
    }
  });

  it('a device removed from the registry while down takes its state with it', () => {
    const before = new Harness({ devices: [door()] });
    before.event('DC1', 'door.opened', T0, { doorId: 'D1' });
    const after = restart(before, T0 + 5 * S, { devices: [] });
    expect(after.engine.deviceCount()).toBe(0);
    expect(after.engine.nextWakeAt()).toBeNull();
  });

  it('a rule that throws is reported and does not stop the others', () => {
    const before = new Harness({ devices: [door()] });
    before.event('DC1', 'door.opened', T0, { doorId: 'D1' });
    const snap = JSON.parse(JSON.stringify(before.engine.snapshot())) as { devices: Array<{ states: Record<string, unknown> }> };
    // A corrupt held-open state: its doors are not an object of doors.
    snap.devices[0]!.states['door.held_open'] = { doors: null, prewarnActive: false, heldActive: false };
    const after = new Harness({ devices: [door()], startedAt: T0 + S, snapshot: snap });
    after.event('DC1', 'door.opened', T0 + 2 * S, { doorId: 'D2' });
    const out = after.event('DC1', 'duress', T0 + 3 * S);
    expect(of(out, 'duress', 'raise')).toHaveLength(1);
    const faults = after.faults as Array<{ ruleId: string; phase: string }>;
    expect(faults.map((f) => [f.ruleId, f.phase])).toContainEqual(['door.held_open', 'message']);
    expect(faults.every((f) => f.ruleId === 'door.held_open')).toBe(true);
  });
});
