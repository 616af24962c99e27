/**
 * Rules on analog telemetry, with the nuisance controls of ISA-18.2 / IEC 62682 §"alarm
 * deadband and delay": an on-delay (the value must stay past the level for a while, so one noisy
 * sample does not alarm) and a deadband (it must come back past level ∓ deadband to clear, so a
 * value hovering at the level does not chatter).
 *
 * - `threshold()`: heat fixed temperature, low battery, low frame rate, stalled stream.
 * - `rateOfRise()`: heat rate of rise (°C/min over a window).
 *
 * Boundaries: 'above' raises at value ≥ level and clears at value ≤ level − deadband; 'below'
 * raises at value < level and clears at value ≥ level + deadband. The on-delay counts from the
 * first sample of an unbroken run of samples past the level, on the gateway clock; it is checked
 * when samples arrive (a value is only known when it is reported).
 */
import type { SignalClass } from '../signal.js';
import { defineRule, type RuleDefinition, type RuleParams } from './definition.js';
import { eventAttrs, eventOf, eventPlace, fmt, num, params, valueOf, words } from './rule-kit.js';

export interface ThresholdOptions {
  readonly id: string;
  readonly title: string;
  readonly titleZh: string;
  readonly description: string;
  readonly signalClass: SignalClass;
  readonly latched?: boolean;
  readonly measurement: string;
  /** How the value is named in a detail: 'Temperature'. */
  readonly label: string;
  readonly unit: string;
  readonly direction: 'above' | 'below';
  /** Parameter names, so overrides read naturally ('fixedC', 'lowPct', 'minFps'). */
  readonly names: { readonly level: string; readonly deadband: string; readonly onDelayS: string };
  readonly defaults: { readonly level: number; readonly deadband: number; readonly onDelayS: number };
  /** Range a level may be set to (usually the measurement's range). */
  readonly range: { readonly min: number; readonly max: number };
  /** Device events that report the same condition: they raise at once; a reading back past the deadband clears. */
  readonly events?: readonly string[];
}

const EPSILON = 1e-9;

interface ThresholdState {
  active: boolean;
  /** Gateway time of the first sample of the current run past the level. */
  runFrom: number | null;
}

export function threshold(o: ThresholdOptions): RuleDefinition<ThresholdState, RuleParams> {
  const { names } = o;
  const events = o.events ?? [];
  const level = (p: RuleParams) => p[names.level] as number;
  const deadband = (p: RuleParams) => p[names.deadband] as number;
  const onDelayS = (p: RuleParams) => p[names.onDelayS] as number;
  const span = o.range.max - o.range.min;
  return defineRule<ThresholdState, RuleParams>({
    id: o.id,
    title: o.title,
    titleZh: o.titleZh,
    description: o.description,
    signalClass: o.signalClass,
    latched: o.latched ?? false,
    handles: events,
    reads: [o.measurement],
    paramSchema: params({
      [names.level]: num(o.range.min, o.range.max, `Level (${o.unit}): ${o.direction === 'above' ? 'raises at or above' : 'raises below'}`),
      [names.deadband]: num(0, span, `Deadband (${o.unit}): clears only once back past the level by this much`),
      [names.onDelayS]: num(0, 86_400, 'On-delay (s): the value must stay past the level this long'),
    }),
    defaults: { [names.level]: o.defaults.level, [names.deadband]: o.defaults.deadband, [names.onDelayS]: o.defaults.onDelayS },
    check(p) {
      const clearAt = o.direction === 'above' ? level(p) - deadband(p) : level(p) + deadband(p);
      return clearAt < o.range.min || clearAt > o.range.max
        ? [`param '${names.deadband}': level ∓ deadband (${fmt(clearAt)} ${o.unit}) lies outside ${o.range.min}…${o.range.max} ${o.unit}, so it would never clear`]
        : [];
    },
    initial: () => ({ active: false, runFrom: null }),
    onMessage(ctx, state, accepted) {
      const event = eventOf(accepted, events);
      if (event) {
        const value = typeof event.attrs.value === 'number' ? `${fmt(event.attrs.value)} ${o.unit}` : null;
        ctx.raise({ at: event.ts, detail: words(`${o.title} reported by the device`, value, eventPlace(event), ctx.where), attrs: eventAttrs(event) });
        return { active: true, runFrom: state.runFrom };
      }
      const v = valueOf(accepted, o.measurement);
      if (v === null || accepted.channel !== 'telemetry') return state;
      const at = accepted.reading.ts;
      const p = ctx.params;
      const past = o.direction === 'above' ? v >= level(p) : v < level(p);
      // Tolerance: 0.15 − 0.05 is 0.0999… in binary floating point, and 0.1 must clear.
      const back = o.direction === 'above' ? v <= level(p) - deadband(p) + EPSILON : v >= level(p) + deadband(p) - EPSILON;
      const attrs = { measurement: o.measurement, value: v, level: level(p) };
      if (state.active) {
        if (!back) return state;
        ctx.clear({ at, detail: words(`${o.label} ${fmt(v)} ${o.unit}, back to normal`, ctx.where), attrs });
        return { active: false, runFrom: null };
      }
      if (!past) return { active: false, runFrom: null };
      const runFrom = state.runFrom ?? ctx.now;
      if (ctx.now - runFrom < onDelayS(p) * 1000) return { active: false, runFrom };
      const word = o.direction === 'above' ? 'at or above' : 'below';
      ctx.raise({ at, detail: words(`${o.label} ${fmt(v)} ${o.unit}`, ctx.where, `${word} ${fmt(level(p))} ${o.unit}`), attrs });
      return { active: true, runFrom };
    },
  });
}

// ---------------------------------------------------------------------------------------------

export interface RateOfRiseOptions {
  readonly id: string;
  readonly title: string;
  readonly titleZh: string;
  readonly measurement: string;
  readonly label: string;
  readonly unit: string;
  readonly defaults: { readonly ratePerMin: number; readonly windowS: number; readonly minSpanS: number; readonly deadbandPerMin: number };
  readonly latched?: boolean;
}

type RateParams = { readonly ratePerMin: number; readonly windowS: number; readonly minSpanS: number; readonly deadbandPerMin: number };

interface RateState {
  active: boolean;
  /** [gateway time, value], oldest first, within the window. */
  samples: Array<[number, number]>;
}

/** Enough samples to compute a rate over any sane window without growing without bound. */
const MAX_SAMPLES = 64;

/**
 * Rate of rise: (newest − oldest) / elapsed over the samples of the last `windowS`, once they span
 * at least `minSpanS` (two samples a second apart say little). Heat detectors use 8.3 °C/min
 * (15 °F/min, UL 521 / NFPA 72 rate-of-rise). Clears when the rate falls to rate − deadband.
 */
export function rateOfRise(o: RateOfRiseOptions): RuleDefinition<RateState, RateParams> {
  return defineRule<RateState, RateParams>({
    id: o.id,
    title: o.title,
    titleZh: o.titleZh,
    description: `${o.title}: ${o.label} rising at ratePerMin ${o.unit}/min or faster over windowS; clears at ratePerMin − deadbandPerMin.`,
    signalClass: 'alarm',
    latched: o.latched ?? true,
    reads: [o.measurement],
    paramSchema: params({
      ratePerMin: num(0.1, 1000, `Rise that raises (${o.unit}/min)`),
      windowS: num(10, 3600, 'Window the rate is measured over (s)'),
      minSpanS: num(1, 3600, 'The samples must span at least this long (s)'),
      deadbandPerMin: num(0, 1000, `Clears once the rate is this much below the level (${o.unit}/min)`),
    }),
    defaults: o.defaults,
    check: (p) => (p.minSpanS > p.windowS ? [`param 'minSpanS' (${p.minSpanS}) must not exceed 'windowS' (${p.windowS})`] : []),
    initial: () => ({ active: false, samples: [] }),
    onMessage(ctx, state, accepted) {
      const v = valueOf(accepted, o.measurement);
      if (v === null || accepted.channel !== 'telemetry') return state;
      const p = ctx.params;
      const samples = state.samples.filter(([t]) => t >= ctx.now - p.windowS * 1000 && t <= ctx.now);
      samples.push([ctx.now, v]);
      while (samples.length > MAX_SAMPLES) samples.shift();
      const first = samples[0]!;
      const spanMs = ctx.now - first[0];
      if (spanMs < p.minSpanS * 1000) return { active: state.active, samples };
      const rate = ((v - first[1]) / spanMs) * 60_000;
      const attrs = { measurement: o.measurement, value: v, ratePerMin: Number(rate.toFixed(2)) };
      const at = accepted.reading.ts;
      if (!state.active && rate >= p.ratePerMin - EPSILON) {
        ctx.raise({ at, detail: words(`${o.label} rising ${fmt(rate, 1)} ${o.unit}/min (now ${fmt(v, 1)} ${o.unit})`, ctx.where), attrs });
        return { active: true, samples };
      }
      if (state.active && rate <= p.ratePerMin - p.deadbandPerMin + EPSILON) {
        ctx.clear({ at, detail: words(`${o.label} rise slowed to ${fmt(rate, 1)} ${o.unit}/min`, ctx.where), attrs });
        return { active: false, samples };
      }
      return { active: state.active, samples };
    },
  });
}
