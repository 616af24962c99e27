/**
 * Smoke detector rules at their boundaries (domain.md §3): smoke with verification, heat fixed
 * and rate of rise, CO exposure (UL 2034 points), manual call point, battery, trouble events.
 */
import { describe, expect, it } from 'vitest';
import { CO_EXPOSURE_DEFAULTS, exposureAt } from '../../../gateway/src/domain/rules/co-exposure.js';
import { brief, device, Harness, MIN, of, S, T0 } from './harness.js';

const smoke = (id = 'SD1', more = {}) => device(id, 'smoke', more);
/** The detector's clock and the gateway's agree in these tests. */
const at = (ms: number) => T0 + ms;

describe('smoke.alarm from the event, with verification', () => {
  it('raises verifying at once and latched, repeats as raises, confirms on persistence at exactly the window', () => {
    const h = new Harness({ devices: [smoke()] });
    const first = of(h.event('SD1', 'smoke.alarm', at(0), { zone: 'Z3' }), 'smoke.alarm');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ action: 'raise', signalClass: 'alarm', latched: true, verification: 'verifying', at: at(0) });
    expect(first[0]!.detail).toContain('floor 3');
    expect(first[0]!.titleZh).toBe('烟雾报警');

    // A repeat inside the window is a repeat, still verifying.
    expect(brief(of(h.event('SD1', 'smoke.alarm', at(59_999)), 'smoke.alarm'), T0)).toEqual(['raise smoke.alarm[verifying] alarm @59999']);
    // At the window: persistence confirms.
    const confirmed = of(h.event('SD1', 'smoke.alarm', at(60 * S)), 'smoke.alarm');
    expect(confirmed).toHaveLength(1);
    expect(confirmed[0]).toMatchObject({ verification: 'confirmed', attrs: { confirmedBy: 'persistence' } });
    // Later repeats stay confirmed.
    expect(of(h.event('SD1', 'smoke.alarm', at(90 * S)), 'smoke.alarm')[0]?.verification).toBe('confirmed');
  });

  it('clears once the detector has been quiet for clearAfterS, noting a never-confirmed alarm as unconfirmed', () => {
    const h = new Harness({ devices: [smoke()] });
    h.event('SD1', 'smoke.alarm', at(0));
    expect(of(h.advance(at(180 * S - 1)), 'smoke.alarm')).toEqual([]);
    const cleared = of(h.advance(at(180 * S)), 'smoke.alarm', 'clear');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({ at: at(180 * S), attrs: { verification: 'unconfirmed' } });
  });

  it('is confirmed at once when a second detector in the building alarms', () => {
    const h = new Harness({ devices: [smoke('SD1'), smoke('SD2', { floor: 5 })] });
    h.event('SD1', 'smoke.alarm', at(0));
    const out = h.event('SD2', 'smoke.alarm', at(10 * S));
    // SD2 finds SD1's alarm and is confirmed from the start; SD1 is confirmed by SD2.
    expect(out.filter((s) => s.type === 'smoke.alarm').map((s) => [s.source.deviceId, s.verification, s.attrs?.confirmedBy])).toEqual([
      ['SD2', 'confirmed', 'second_detector'],
      ['SD1', 'confirmed', 'second_detector'],
    ]);
  });

  it('with sameFloorOnly, a detector on another floor does not confirm', () => {
    const h = new Harness({
      devices: [smoke('SD1'), smoke('SD2', { floor: 5 })],
      building: { 'smoke.alarm': { params: { 'verification.sameFloorOnly': true } } },
    });
    h.event('SD1', 'smoke.alarm', at(0));
    const out = of(h.event('SD2', 'smoke.alarm', at(10 * S)), 'smoke.alarm');
    expect(out.map((s) => [s.source.deviceId, s.verification])).toEqual([['SD2', 'verifying']]);
  });

  it('is confirmed at once by heat on the same detector, and heat itself never waits', () => {
    const h = new Harness({ devices: [smoke()] });
    h.event('SD1', 'smoke.alarm', at(0));
    const out = h.reading('SD1', { temperature: 60 }, at(5 * S));
    expect(brief(out, T0)).toEqual(['raise heat.fixed alarm @5000', 'raise smoke.alarm[confirmed] alarm @5000']);
    expect(of(out, 'heat.fixed')[0]!.verification).toBeUndefined();
    expect(of(out, 'smoke.alarm')[0]!.attrs).toMatchObject({ confirmedBy: 'heat', confirmedByDevice: 'SD1' });
  });

  it('is confirmed by the CO exposure rule of another device', () => {
    const h = new Harness({ devices: [smoke('SD1'), smoke('SD2')] });
    h.event('SD1', 'smoke.alarm', at(0));
    const out = h.event('SD2', 'co.alarm', at(20 * S));
    expect(brief(out, T0)).toEqual(['raise co.exposure alarm @20000', 'raise smoke.alarm[confirmed] alarm @20000']);
    expect(of(out, 'smoke.alarm')[0]!.attrs?.confirmedBy).toBe('co');
  });

  it('without verification raises plainly', () => {
    const h = new Harness({ devices: [smoke()], building: { 'smoke.alarm': { params: { 'verification.enabled': false } } } });
    const out = of(h.event('SD1', 'smoke.alarm', at(0)), 'smoke.alarm');
    expect(out[0]!.verification).toBeUndefined();
    h.advance(at(180 * S));
    expect(of(h.signals, 'smoke.alarm', 'clear')[0]!.attrs?.verification).toBe('not_verified');
  });
});

describe('smoke.alarm from obscuration', () => {
  it('a single noisy sample does not alarm; a run past the on-delay does; it clears only past the deadband', () => {
    const h = new Harness({ devices: [smoke()] });
    expect(h.reading('SD1', { obscuration: 0.3 }, at(0))).toEqual([]);
    // Broken run: a sample under the level restarts the on-delay.
    expect(h.reading('SD1', { obscuration: 0.149 }, at(5 * S))).toEqual([]);
    expect(h.reading('SD1', { obscuration: 0.15 }, at(10 * S))).toEqual([]);
    expect(h.reading('SD1', { obscuration: 0.16 }, at(19_999))).toEqual([]);
    const raised = of(h.reading('SD1', { obscuration: 0.18 }, at(20 * S)), 'smoke.alarm');
    expect(raised).toHaveLength(1);
    expect(raised[0]!.detail).toBe('Smoke 0.18 dB/m, floor 3, verifying');
    // Inside the deadband: stays.
    expect(h.reading('SD1', { obscuration: 0.1001 }, at(40 * S))).toEqual([]);
    // Persists past the window from the first raise (20 s + 60 s): confirmed.
    expect(of(h.reading('SD1', { obscuration: 0.2 }, at(80 * S)), 'smoke.alarm')[0]?.verification).toBe('confirmed');
    const cleared = of(h.reading('SD1', { obscuration: 0.1 }, at(90 * S)), 'smoke.alarm', 'clear');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]!.attrs?.verification).toBe('confirmed');
  });
});

describe('heat.fixed', () => {
  it('raises at 57 °C (not 56.9), latched, and clears at 55 °C (not 55.1)', () => {
    const h = new Harness({ devices: [smoke()] });
    expect(of(h.reading('SD1', { temperature: 56.9 }, at(0)), 'heat.fixed')).toEqual([]);
    const r = of(h.reading('SD1', { temperature: 57 }, at(10 * S)), 'heat.fixed');
    expect(r[0]).toMatchObject({ action: 'raise', latched: true, signalClass: 'alarm' });
    expect(r[0]!.detail).toBe('Temperature 57 °C, floor 3, at or above 57 °C');
    expect(of(h.reading('SD1', { temperature: 55.1 }, at(20 * S)), 'heat.fixed')).toEqual([]);
    expect(of(h.reading('SD1', { temperature: 55 }, at(30 * S)), 'heat.fixed', 'clear')).toHaveLength(1);
  });

  it("takes the detector's heat.alarm event as the same alarm", () => {
    const h = new Harness({ devices: [smoke()] });
    const r = of(h.event('SD1', 'heat.alarm', at(0), { measurement: 'temperature', value: 63 }), 'heat.fixed');
    expect(r[0]!.detail).toContain('63 °C');
  });
});

describe('heat.rate_of_rise', () => {
  it('raises at 8.3 °C/min over the window, not at 8.2, and clears when the rise slows past the deadband', () => {
    const slow = new Harness({ devices: [smoke()] });
    slow.reading('SD1', { temperature: 20 }, at(0));
    expect(of(slow.reading('SD1', { temperature: 28.2 }, at(60 * S)), 'heat.rate_of_rise')).toEqual([]);

    const h = new Harness({ devices: [smoke()] });
    h.reading('SD1', { temperature: 20 }, at(0));
    // Too short a span says nothing.
    expect(of(h.reading('SD1', { temperature: 25 }, at(10 * S)), 'heat.rate_of_rise')).toEqual([]);
    const r = of(h.reading('SD1', { temperature: 28.3 }, at(60 * S)), 'heat.rate_of_rise');
    expect(r[0]).toMatchObject({ action: 'raise', latched: true });
    expect(r[0]!.attrs?.ratePerMin).toBe(8.3);
    // Over the last minute (10 s → 70 s: 25 → 31.3 °C) still 6.3 °C/min: at the deadband line, so it clears.
    expect(of(h.reading('SD1', { temperature: 31.3 }, at(70 * S)), 'heat.rate_of_rise', 'clear')).toHaveLength(1);
  });
});

describe('co.exposure (UL 2034 points)', () => {
  /** Minutes until the alarm at a constant concentration, reported every minute. */
  function minutesToAlarm(ppm: number, horizonMin: number): number | null {
    const h = new Harness({ devices: [smoke()] });
    for (let m = 0; m <= horizonMin; m++) {
      h.reading('SD1', { co: ppm }, at(m * MIN));
      const raised = of(h.signals, 'co.exposure', 'raise');
      if (raised.length > 0) return (raised[0]!.at - T0) / MIN;
    }
    return null;
  }

  it('does not alarm at 30 ppm (checked over 30 days of readings every 10 min)', () => {
    const h = new Harness({ devices: [smoke()] });
    for (let m = 0; m <= 30 * 24 * 60; m += 10) h.reading('SD1', { co: 30 }, at(m * MIN));
    expect(of(h.signals, 'co.exposure')).toEqual([]);
  });

  it('alarms at 70 ppm within 60–240 min', () => {
    const t = minutesToAlarm(70, 300);
    expect(t).not.toBeNull();
    expect(t!).toBeGreaterThanOrEqual(60);
    expect(t!).toBeLessThanOrEqual(240);
  });

  it('alarms at 150 ppm within 10–50 min', () => {
    const t = minutesToAlarm(150, 60);
    expect(t!).toBeGreaterThanOrEqual(10);
    expect(t!).toBeLessThanOrEqual(50);
  });

  it('alarms at 400 ppm within 4–15 min, from a timer between readings', () => {
    const h = new Harness({ devices: [smoke()] });
    h.reading('SD1', { co: 400 }, at(0));
    h.advance(at(15 * MIN));
    const raised = of(h.signals, 'co.exposure', 'raise');
    expect(raised).toHaveLength(1);
    const minutes = (raised[0]!.at - T0) / MIN;
    expect(minutes).toBeGreaterThanOrEqual(4);
    expect(minutes).toBeLessThanOrEqual(15);
    // The documented curve: τ · ln(c / (c − floor)) = 75 · ln(400 / 350) ≈ 10.0 min.
    expect(minutes).toBeCloseTo(75 * Math.log(400 / 350), 2);
  });

  it('clears once the air is clean and the exposure has decayed to the clear index', () => {
    const h = new Harness({ devices: [smoke()] });
    h.reading('SD1', { co: 400 }, at(0));
    h.advance(at(11 * MIN));
    expect(of(h.signals, 'co.exposure', 'raise')).toHaveLength(1);
    h.reading('SD1', { co: 0 }, at(12 * MIN));
    h.advance(at(60 * MIN));
    const clear = of(h.signals, 'co.exposure', 'clear');
    expect(clear).toHaveLength(1);
    const state = { active: true, index: 1, at: 0, ppm: 0, ppmAt: 0 };
    // Sanity of the model the clear relies on.
    expect(exposureAt(state, CO_EXPOSURE_DEFAULTS, 75 * MIN)).toBeCloseTo(Math.exp(-1), 6);
  });
});

describe('other smoke events', () => {
  it('manual call point is a latched momentary alarm', () => {
    const h = new Harness({ devices: [smoke()] });
    expect(brief(h.event('SD1', 'manual_call_point', at(0)), T0)).toEqual([
      'raise manual_call_point alarm @0',
      'clear manual_call_point alarm @0',
    ]);
    expect(of(h.signals, 'manual_call_point', 'raise')[0]!.latched).toBe(true);
  });

  it('a trouble event holds while repeated and clears after two quiet heartbeats once the device has spoken', () => {
    const h = new Harness({ devices: [smoke()] });
    expect(brief(h.event('SD1', 'chamber.dirty', at(0)), T0)).toEqual(['raise chamber.dirty trouble @0']);
    h.event('SD1', 'heartbeat', at(3600 * S));
    expect(brief(h.event('SD1', 'chamber.dirty', at(3601 * S)), T0)).toEqual(['raise chamber.dirty trouble @3601000']);
    h.event('SD1', 'heartbeat', at(7200 * S));
    expect(of(h.advance(at(3601 * S + 7200 * S - 1)), 'chamber.dirty')).toEqual([]);
    expect(brief(of(h.advance(at(3601 * S + 7200 * S)), 'chamber.dirty'), T0)).toEqual(['clear chamber.dirty trouble @10801000']);
  });

  it('a silent device does not clear its fault', () => {
    const h = new Harness({ devices: [smoke()] });
    h.event('SD1', 'sensor.fault', at(0));
    h.advance(at(5 * 3600 * S));
    expect(of(h.signals, 'sensor.fault', 'clear')).toEqual([]);
    // The first data after the quiet period clears it.
    expect(brief(of(h.event('SD1', 'heartbeat', at(5 * 3600 * S + 1)), 'sensor.fault'), T0)).toEqual(['clear sensor.fault trouble @18000001']);
  });

  it('battery below 15 % is trouble; it clears at 20 %, not 19', () => {
    const h = new Harness({ devices: [smoke()] });
    expect(of(h.reading('SD1', { battery: 15 }, at(0)), 'battery.low')).toEqual([]);
    expect(of(h.reading('SD1', { battery: 14 }, at(S)), 'battery.low')[0]).toMatchObject({ action: 'raise', signalClass: 'trouble' });
    expect(of(h.reading('SD1', { battery: 19 }, at(2 * S)), 'battery.low')).toEqual([]);
    expect(of(h.reading('SD1', { battery: 20 }, at(3 * S)), 'battery.low', 'clear')).toHaveLength(1);
  });
});
