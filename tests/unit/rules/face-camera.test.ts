/**
 * Face-recognition gate and camera rules (domain.md §3).
 */
import { describe, expect, it } from 'vitest';
import { brief, device, Harness, of, S, T0 } from './harness.js';

describe('face-gate', () => {
  const gate = () => device('FG1', 'face-gate', { floor: 0 });

  it('a blocklist match is a momentary alarm; a stranger is supervisory, as the kind classes it', () => {
    const h = new Harness({ devices: [gate()] });
    const r = h.event('FG1', 'face.blocklist_match', T0, { gateId: 'G1', personRef: 'B001', score: 91 });
    expect(brief(r, T0)).toEqual(['raise face.blocklist_match alarm @0', 'clear face.blocklist_match alarm @0']);
    expect(r[0]!.detail).toBe('Blocklist match, gate G1, floor 0');
    expect(r[0]!.attrs).toMatchObject({ personRef: 'B001', score: 91 });
    expect(brief(h.event('FG1', 'face.stranger', T0 + S, { gateId: 'G1' }), T0)).toEqual([
      'raise face.stranger supervisory @1000',
      'clear face.stranger supervisory @1000',
    ]);
  });

  it('liveness failure and forced passage are alarms, tamper is trouble', () => {
    const h = new Harness({ devices: [gate()] });
    h.event('FG1', 'face.liveness_failed', T0, { gateId: 'G1' });
    h.event('FG1', 'forced_passage', T0 + S, { gateId: 'G1' });
    h.event('FG1', 'device.tamper', T0 + 2 * S, { gateId: 'G1' });
    expect(h.signals.filter((s) => s.action === 'raise').map((s) => [s.type, s.signalClass])).toEqual([
      ['face.liveness_failed', 'alarm'],
      ['forced_passage', 'alarm'],
      ['device.tamper', 'trouble'],
    ]);
  });

  it('5 failed checks at one gate within 60 s raise repeated failures; other gates count apart', () => {
    const h = new Harness({ devices: [gate()] });
    for (let i = 0; i < 4; i++) h.event('FG1', 'face.failed', T0 + i * S, { gateId: 'G1' });
    expect(of(h.event('FG1', 'face.failed', T0 + 4 * S, { gateId: 'G2' }), 'face.repeated_failures')).toEqual([]);
    const r = of(h.event('FG1', 'face.failed', T0 + 5 * S, { gateId: 'G1' }), 'face.repeated_failures');
    expect(brief(r, T0)).toEqual(['raise face.repeated_failures alarm @5000']);
    expect(brief(h.advance(T0 + 65 * S + 1), T0)).toEqual(['clear face.repeated_failures alarm @65000']);
  });

  it("the gate's own face.repeated_failures event raises at once", () => {
    const h = new Harness({ devices: [gate()] });
    expect(brief(h.event('FG1', 'face.repeated_failures', T0, { gateId: 'G1' }), T0)).toEqual(['raise face.repeated_failures alarm @0']);
  });
});

describe('camera', () => {
  const cam = () => device('CAM1', 'camera');

  it('video loss is trouble until the camera reports without it for 5 min; occlusion is supervisory; illegal login an alarm', () => {
    const h = new Harness({ devices: [cam()] });
    h.event('CAM1', 'video.loss', T0, { channel: 1 });
    h.event('CAM1', 'heartbeat', T0 + 60 * S);
    expect(of(h.advance(T0 + 300 * S - 1), 'video.loss')).toEqual([]);
    expect(brief(of(h.advance(T0 + 300 * S), 'video.loss'), T0)).toEqual(['clear video.loss trouble @300000']);
    expect(of(h.event('CAM1', 'video.occluded', T0 + 400 * S), 'video.occluded')[0]!.signalClass).toBe('supervisory');
    expect(of(h.event('CAM1', 'illegal_login', T0 + 401 * S, { detail: '5 failed admin logins' }), 'illegal_login')[0]).toMatchObject({
      signalClass: 'alarm',
      detail: 'Illegal login attempt, floor 3, "5 failed admin logins"',
    });
  });

  it('low fps: below minFps over samples spanning forS raises; clears at minFps + deadband', () => {
    const h = new Harness({ devices: [cam()] });
    h.reading('CAM1', { fps: 9.9 }, T0);
    expect(of(h.reading('CAM1', { fps: 4 }, T0 + 59_999), 'camera.low_fps')).toEqual([]);
    expect(brief(of(h.reading('CAM1', { fps: 8 }, T0 + 60 * S), 'camera.low_fps'), T0)).toEqual(['raise camera.low_fps trouble @60000']);
    expect(of(h.reading('CAM1', { fps: 11.9 }, T0 + 120 * S), 'camera.low_fps')).toEqual([]);
    expect(of(h.reading('CAM1', { fps: 12 }, T0 + 180 * S), 'camera.low_fps', 'clear')).toHaveLength(1);
  });

  it('a fps sample at minFps breaks the run', () => {
    const h = new Harness({ devices: [cam()] });
    h.reading('CAM1', { fps: 5 }, T0);
    h.reading('CAM1', { fps: 10 }, T0 + 30 * S);
    expect(of(h.reading('CAM1', { fps: 5 }, T0 + 60 * S), 'camera.low_fps')).toEqual([]);
  });

  it('a stalled stream (last frame 10 s old or more) is trouble at once; clears at 5 s', () => {
    const h = new Harness({ devices: [cam()] });
    expect(of(h.reading('CAM1', { last_frame_age: 9.9 }, T0), 'camera.stalled')).toEqual([]);
    expect(of(h.reading('CAM1', { last_frame_age: 10 }, T0 + S), 'camera.stalled')).toHaveLength(1);
    expect(of(h.reading('CAM1', { last_frame_age: 5.1 }, T0 + 2 * S), 'camera.stalled')).toEqual([]);
    expect(of(h.reading('CAM1', { last_frame_age: 5 }, T0 + 3 * S), 'camera.stalled', 'clear')).toHaveLength(1);
  });
});
