/**
 * Carbon monoxide as exposure, not a fixed line (UL 2034; domain.md §3).
 *
 * Model: a first-order exposure index E, in the manner of the carboxyhaemoglobin (COHb) uptake
 * curves UL 2034's alarm points were drawn from. E rises towards c / floorPpm with time constant
 * τ while the air holds c ppm, and decays towards it when c falls:
 *
 *     dE/dt = (c / floorPpm − E) / τ,   alarm when E ≥ 1.
 *
 * At a constant concentration c from clean air the alarm comes after t = τ · ln(c / (c − floorPpm)),
 * and never when c ≤ floorPpm. With the defaults (floorPpm 50, τ 75 min):
 *
 * | ppm | time to alarm | UL 2034 window |
 * |---:|---:|---|
 * | 30 | never | no alarm (30 days) |
 * | 50 | never | — |
 * | 70 | 94 min | 60–240 min |
 * | 100 | 52 min | — |
 * | 150 | 30 min | 10–50 min |
 * | 400 | 10 min | 4–15 min |
 *
 * Between readings the last concentration is held for `holdS` (a detector reports changes, not a
 * stream), then taken as 0 so a detector that fell silent does not alarm on an old value. The
 * alarm time is computed exactly for piecewise-constant input, so the rule wakes itself at the
 * crossing instead of waiting for the next reading. The device's own 'co.alarm' event raises at
 * once (it ran its own curve). The condition clears when a reading is below floorPpm and E has
 * fallen to `clearIndex` (deadband). Latched, like every fire-panel alarm.
 */
import { defineRule, type RuleDefinition } from './definition.js';
import { eventAttrs, eventOf, eventPlace, fmt, num, params, valueOf, words } from './rule-kit.js';

export type CoExposureParams = {
  readonly floorPpm: number;
  readonly timeConstantMin: number;
  readonly clearIndex: number;
  readonly holdS: number;
};

export const CO_EXPOSURE_DEFAULTS: CoExposureParams = Object.freeze({ floorPpm: 50, timeConstantMin: 75, clearIndex: 0.8, holdS: 900 });

export interface CoExposureState {
  active: boolean;
  /** Exposure index at `at`. */
  index: number;
  at: number;
  /** Last reported concentration and when it was reported (gateway clock). */
  ppm: number;
  ppmAt: number;
}

const EPSILON = 1e-9;

/** E after `ms` at a constant target `target`, from `index`. */
function decay(index: number, target: number, ms: number, tauMs: number): number {
  return target + (index - target) * Math.exp(-ms / tauMs);
}

/** Exposure index at `to`, holding the last concentration for holdS and then assuming clean air. */
export function exposureAt(state: CoExposureState, p: CoExposureParams, to: number): number {
  const tau = p.timeConstantMin * 60_000;
  const holdEnd = state.ppmAt + p.holdS * 1000;
  let index = state.index;
  let t = state.at;
  if (to <= t) return index;
  const heldUntil = Math.min(to, holdEnd);
  if (heldUntil > t) {
    index = decay(index, state.ppm / p.floorPpm, heldUntil - t, tau);
    t = heldUntil;
  }
  if (to > t) index = decay(index, 0, to - t, tau);
  return index;
}

/** Milliseconds from `index` until E reaches `goal` at constant `target`, or null if it never does. */
function timeTo(index: number, target: number, goal: number, tauMs: number): number | null {
  if (index === goal) return 0;
  if ((goal - index) * (target - index) <= 0) return null; // moving away from the goal
  if ((target - goal) * (target - index) <= 0) return null; // settles before reaching it
  return tauMs * Math.log((index - target) / (goal - target));
}

/** When E next crosses `goal`, or null within the horizon of the current reading and after it. */
function crossing(state: CoExposureState, p: CoExposureParams, goal: number): number | null {
  const tau = p.timeConstantMin * 60_000;
  const holdEnd = state.ppmAt + p.holdS * 1000;
  const start = state.at;
  if (start < holdEnd) {
    const dt = timeTo(state.index, state.ppm / p.floorPpm, goal, tau);
    if (dt !== null && start + dt <= holdEnd) return Math.ceil(start + dt);
  }
  const from = Math.max(start, holdEnd);
  const indexAtFrom = exposureAt(state, p, from);
  const dt = timeTo(indexAtFrom, 0, goal, tau);
  return dt === null ? null : Math.ceil(from + dt);
}

export interface CoExposureOptions {
  readonly id?: string;
  readonly measurement?: string;
  /** Device events that are a CO alarm already. */
  readonly events?: readonly string[];
  readonly defaults?: Partial<CoExposureParams>;
}

export function coExposure(options: CoExposureOptions = {}): RuleDefinition<CoExposureState, CoExposureParams> {
  const measurement = options.measurement ?? 'co';
  const events = options.events ?? ['co.alarm'];
  const describe = (ppm: number, index: number, where: string) =>
    words(`CO ${fmt(ppm, 0)} ppm`, `exposure ${fmt(index * 100, 0)} % of the alarm dose`, where);

  return defineRule<CoExposureState, CoExposureParams>({
    id: options.id ?? 'co.exposure',
    title: 'Carbon monoxide alarm',
    titleZh: '一氧化碳报警',
    description:
      'CO as time-weighted exposure (UL 2034): the exposure index rises towards ppm / floorPpm with time constant ' +
      'timeConstantMin and alarms at 1 (70 ppm ≈ 94 min, 150 ppm ≈ 30 min, 400 ppm ≈ 10 min, never at or below floorPpm). ' +
      "The device's co.alarm event raises at once. Clears below floorPpm once the index is down to clearIndex.",
    signalClass: 'alarm',
    latched: true,
    handles: events,
    reads: [measurement],
    paramSchema: params({
      floorPpm: num(1, 1000, 'Concentration that never alarms however long it lasts (ppm)'),
      timeConstantMin: num(1, 1440, 'Time constant of the exposure curve (min)'),
      clearIndex: num(0, 0.99, 'Exposure index (fraction of the alarm dose) the condition must fall to before it clears'),
      holdS: num(0, 86_400, 'How long a reading is taken to hold before the air is assumed clean (s)'),
    }),
    defaults: { ...CO_EXPOSURE_DEFAULTS, ...options.defaults },
    initial: (ctx) => ({ active: false, index: 0, at: ctx.now, ppm: 0, ppmAt: ctx.now }),
    onMessage(ctx, state, accepted) {
      const p = ctx.params;
      const event = eventOf(accepted, events);
      if (event) {
        const value = typeof event.attrs.value === 'number' ? `CO ${fmt(event.attrs.value, 0)} ppm` : null;
        ctx.raise({ at: event.ts, detail: words('CO alarm reported by the detector', value, eventPlace(event), ctx.where), attrs: eventAttrs(event) });
        return { ...state, active: true };
      }
      const c = valueOf(accepted, measurement);
      if (c === null || accepted.channel !== 'telemetry') return state;
      const at = accepted.reading.ts;
      const index = exposureAt(state, p, ctx.now);
      let active = state.active;
      // The crossing may fall just before this reading if the timer had not run yet.
      if (!active && index >= 1 - EPSILON) {
        ctx.raise({ at, detail: describe(state.ppm, index, ctx.where), attrs: { measurement, value: state.ppm, exposureIndex: round(index) } });
        active = true;
      }
      const next: CoExposureState = { active, index, at: ctx.now, ppm: c, ppmAt: ctx.now };
      if (active && c < p.floorPpm && index <= p.clearIndex + EPSILON) {
        ctx.clear({ at, detail: words(`CO ${fmt(c, 0)} ppm, exposure down to ${fmt(index * 100, 0)} %`, ctx.where), attrs: { measurement, value: c, exposureIndex: round(index) } });
        return { ...next, active: false };
      }
      return next;
    },
    wakeAt(ctx, state) {
      const p = ctx.params;
      return crossing(state, p, state.active ? p.clearIndex : 1);
    },
    onTimer(ctx, state) {
      const p = ctx.params;
      const index = exposureAt(state, p, ctx.now);
      const due = crossing(state, p, state.active ? p.clearIndex : 1) ?? ctx.now;
      const at = Math.min(due, ctx.now);
      const next = { ...state, index, at: ctx.now };
      if (!state.active && index >= 1 - EPSILON) {
        ctx.raise({ at, detail: describe(state.ppm, index, ctx.where), attrs: { measurement, value: state.ppm, exposureIndex: round(index) } });
        return { ...next, active: true };
      }
      const clean = state.ppm < p.floorPpm || ctx.now >= state.ppmAt + p.holdS * 1000;
      if (state.active && clean && index <= p.clearIndex + EPSILON) {
        ctx.clear({ at, detail: words(`CO exposure down to ${fmt(index * 100, 0)} %`, ctx.where), attrs: { measurement, exposureIndex: round(index) } });
        return { ...next, active: false };
      }
      return next;
    },
  });
}

function round(x: number): number {
  return Number(x.toFixed(3));
}
