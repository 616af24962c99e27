/**
 * device.offline (domain.md §3, offline detection): silence after the kind's heartbeat contract,
 * the Last Will at once, the start-up grace (no storm after a restart), parent suppression.
 */
import { describe, expect, it } from 'vitest';
import { brief, device, Harness, of, S, T0 } from './harness.js';

const camera = (id: string, more = {}) => device(id, 'camera', more);
/** Camera: heartbeat 60 s, offline after 180 s; grace max(180, 120) = 180 s. */
const AFTER = 180 * S;

describe('device.offline', () => {
  it('raises exactly offlineAfterS after the last data, and any data clears it', () => {
    const h = new Harness({ devices: [camera('C1')] });
    h.advance(T0 + 10 * 60 * S); // past the start-up grace
    h.event('C1', 'heartbeat', T0 + 600 * S);
    expect(of(h.advance(T0 + 600 * S + AFTER - 1), 'device.offline')).toEqual([]);
    const raised = of(h.advance(T0 + 600 * S + AFTER), 'device.offline');
    expect(brief(raised, T0)).toEqual(['raise device.offline trouble @780000']);
    expect(raised[0]!.detail).toBe('No data for 3 min, floor 3');
    expect(raised[0]!.titleZh).toBe('设备离线');
    // Nothing more while it stays silent.
    expect(h.advance(T0 + 3600 * S)).toEqual([]);
    expect(brief(h.reading('C1', { fps: 25 }, T0 + 3601 * S), T0)).toEqual(['clear device.offline trouble @3601000']);
  });

  it("raises at once on the Last Will, even during the grace, and clears on 'online'", () => {
    const h = new Harness({ devices: [camera('C1')] });
    h.event('C1', 'heartbeat', T0 + S);
    const r = h.status('C1', 'offline', T0 + 2 * S);
    expect(brief(r, T0)).toEqual(['raise device.offline trouble @2000']);
    expect(r[0]!.attrs).toMatchObject({ reason: 'last_will' });
    // A redelivered retained 'offline' raises nothing twice.
    expect(h.status('C1', 'offline', T0 + 3 * S)).toEqual([]);
    expect(brief(h.status('C1', 'online', T0 + 10 * S), T0)).toEqual(['clear device.offline trouble @10000']);
  });

  it('raises nothing for silence during the start-up grace; a device silent since start is raised when it ends', () => {
    const started = T0;
    const h = new Harness({ devices: [camera('C1'), device('SD1', 'smoke')], startedAt: started, known: true });
    // Camera grace = 180 s; smoke grace = max(10800, 120) s.
    expect(h.advance(started + 180 * S - 1)).toEqual([]);
    const cam = h.advance(started + 180 * S);
    expect(brief(cam, T0)).toEqual(['raise device.offline trouble @180000']);
    expect(cam[0]!.detail).toBe('No data since monitoring started, floor 3');
    expect(h.advance(started + 10_800 * S - 1)).toEqual([]);
    expect(of(h.advance(started + 10_800 * S), 'device.offline').map((s) => s.source.deviceId)).toEqual(['SD1']);
  });

  it('a device heard just before a restart gets the full grace after it (no storm)', () => {
    const before = new Harness({ devices: [camera('C1')], startedAt: T0 - 3600 * S });
    before.advance(T0 - 3600 * S + 600 * S);
    before.event('C1', 'heartbeat', T0 - 170 * S);
    const snapshot = before.engine.snapshot();
    // Down for 170 s: without the grace C1 would be due at T0 + 10 s.
    const after = new Harness({ devices: [camera('C1')], startedAt: T0, snapshot, known: true });
    expect(after.advance(T0 + 180 * S - 1)).toEqual([]);
    expect(brief(after.advance(T0 + 180 * S), T0)).toEqual(['raise device.offline trouble @180000']);
  });

  it('honours offlineAfterS overrides', () => {
    const h = new Harness({ devices: [camera('C1')], perDevice: { C1: { 'device.offline': { params: { offlineAfterS: 600, startupGraceS: 0 } } } } });
    h.event('C1', 'heartbeat', T0);
    expect(h.advance(T0 + 600 * S - 1)).toEqual([]);
    expect(of(h.advance(T0 + 600 * S), 'device.offline')).toHaveLength(1);
  });
});

describe('device.offline under an offline parent', () => {
  const fleet = () => [camera('NVR1'), camera('C1', { parentId: 'NVR1' }), camera('C2', { parentId: 'NVR1' })];

  it('children of an offline parent are raised suppressed by it', () => {
    const h = new Harness({ devices: fleet(), known: true });
    h.advance(T0 + 170 * S);
    for (const id of ['NVR1', 'C1', 'C2']) h.event(id, 'heartbeat', T0 + 170 * S);
    h.status('NVR1', 'offline', T0 + 200 * S);
    const out = h.advance(T0 + 170 * S + AFTER);
    out.sort((a, b) => a.source.deviceId.localeCompare(b.source.deviceId));
    expect(out.map((s) => [s.source.deviceId, s.action, s.suppressedBy])).toEqual([
      ['C1', 'raise', 'NVR1'],
      ['C2', 'raise', 'NVR1'],
    ]);
    expect(out[0]!.detail).toContain('parent NVR1 is offline');
  });

  it('when the parent comes back, a child that reports clears, a child that stays silent is raised again unsuppressed', () => {
    const h = new Harness({ devices: fleet(), known: true });
    h.advance(T0 + 170 * S);
    for (const id of ['NVR1', 'C1', 'C2']) h.event(id, 'heartbeat', T0 + 170 * S);
    h.status('NVR1', 'offline', T0 + 200 * S);
    h.advance(T0 + 1000 * S);
    const back = T0 + 1000 * S;
    expect(brief(h.status('NVR1', 'online', back), T0)).toEqual(['clear device.offline trouble @1000000']);
    expect(brief(h.reading('C1', { fps: 25 }, back + 5 * S), T0)).toEqual(['clear device.offline trouble @1005000']);
    h.event('NVR1', 'heartbeat', back + 100 * S);
    h.event('C1', 'heartbeat', back + 100 * S);
    expect(h.advance(back + AFTER - 1)).toEqual([]);
    const again = h.advance(back + AFTER);
    expect(again.map((s) => [s.source.deviceId, s.action, s.suppressedBy])).toEqual([['C2', 'raise', undefined]]);
  });

  it('a child still reporting when its parent returns gets a fresh period from the return', () => {
    const h = new Harness({ devices: fleet(), known: true });
    h.advance(T0 + 170 * S);
    for (const id of ['NVR1', 'C1', 'C2']) h.event(id, 'heartbeat', T0 + 170 * S);
    h.status('NVR1', 'offline', T0 + 200 * S);
    h.event('C1', 'heartbeat', T0 + 210 * S);
    h.event('C2', 'heartbeat', T0 + 210 * S);
    h.status('NVR1', 'online', T0 + 300 * S);
    h.event('NVR1', 'heartbeat', T0 + 400 * S);
    // C1 and C2 last spoke at 210 s, but the parent came back at 300 s: due at 480 s, not 390 s.
    expect(h.advance(T0 + 480 * S - 1)).toEqual([]);
    expect(h.advance(T0 + 480 * S).map((s) => [s.source.deviceId, s.suppressedBy]).sort()).toEqual([['C1', undefined], ['C2', undefined]]);
  });
});
