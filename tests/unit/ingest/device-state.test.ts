import { describe, expect, it } from 'vitest';
import { DeviceStates, presentStatus } from '../../../gateway/src/domain/device-state.js';
import type { Accepted } from '../../../gateway/src/domain/message.js';

const place = { deviceId: 'd1', kind: 'smoke', buildingId: 'b1', floor: 1 };
const T0 = 1_800_000_000_000;

function reading(ts: number, receivedAt: number, values: Record<string, number>): Accepted {
  return { channel: 'telemetry', reading: { ...place, ts, receivedAt, seq: null, values } };
}

describe('device state', () => {
  it('tracks last seen, online status and the latest value per measurement', () => {
    const s = new DeviceStates();
    s.apply(reading(T0, T0, { temperature: 20, battery: 90 }));
    s.apply(reading(T0 + 1000, T0 + 1000, { temperature: 21 }));
    expect(s.get('d1')).toMatchObject({ status: 'online', lastSeen: T0 + 1000, latest: { temperature: { value: 21, ts: T0 + 1000 }, battery: { value: 90, ts: T0 } } });
  });

  it('does not let a late, buffered reading overwrite a newer value', () => {
    const s = new DeviceStates();
    s.apply(reading(T0 + 5000, T0 + 5000, { temperature: 25 }));
    s.apply(reading(T0, T0 + 6000, { temperature: 19 }));
    expect(s.get('d1')?.latest.temperature).toEqual({ value: 25, ts: T0 + 5000 });
    expect(s.get('d1')?.lastSeen).toBe(T0 + 6000);
  });

  it('follows the status topic (Last Will) and records when the status changed', () => {
    const s = new DeviceStates();
    s.apply(reading(T0, T0, { battery: 50 }));
    s.apply({ channel: 'status', status: { ...place, status: 'offline', receivedAt: T0 + 10_000 } });
    expect(s.get('d1')).toMatchObject({ status: 'offline', statusChangedAt: T0 + 10_000, lastSeen: T0 });
    s.apply({ channel: 'status', status: { ...place, status: 'online', receivedAt: T0 + 20_000 } });
    expect(s.get('d1')).toMatchObject({ status: 'online', statusChangedAt: T0 + 20_000, lastSeen: T0 + 20_000 });
  });

  it('hands out changed entries once for persisting', () => {
    const s = new DeviceStates();
    s.apply(reading(T0, T0, { battery: 50 }));
    expect(s.takeDirty().map((d) => d.deviceId)).toEqual(['d1']);
    expect(s.takeDirty()).toEqual([]);
  });

  it('presents a silent online device as stale once its offline threshold has passed', () => {
    const s = new DeviceStates();
    expect(presentStatus(undefined, 60, T0)).toBe('never_seen');
    s.apply(reading(T0, T0, { battery: 50 }));
    expect(presentStatus(s.get('d1'), 60, T0 + 60_000)).toBe('online');
    expect(presentStatus(s.get('d1'), 60, T0 + 60_001)).toBe('stale');
  });
});
