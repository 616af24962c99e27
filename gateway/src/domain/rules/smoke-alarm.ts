/**
 * `smokeAlarm()`: the smoke fire alarm, from the detector's 'smoke.alarm' event or from its
 * obscuration telemetry, with optional alarm verification (NFPA 72 §"alarm verification feature";
 * domain.md §3).
 *
 * Sources of the condition:
 * - a 'smoke.alarm' event: raises at once; every repeat raises again. The event condition ends
 *   once the detector has not repeated it for `clearAfterS`.
 * - obscuration ≥ `obscuration.alarmDbPerM` in an unbroken run of samples lasting at least
 *   `obscuration.onDelayS` (so one noisy sample never alarms); it ends at or below
 *   level − `obscuration.deadbandDbPerM`.
 * The alert clears when both sources have ended. It is latched: it stays until reset.
 *
 * Verification (when `verification.enabled`): the first raise says 'verifying'. The building
 * captain is told at once either way; verification only decides the escalation path. It becomes
 * 'confirmed' (raised again with verification 'confirmed' and attrs.confirmedBy):
 * - by persistence: a 'smoke.alarm' event or an obscuration sample past the level at or after
 *   `verification.windowS` from the first raise;
 * - at once by agreement: another detector in the building (or on the same floor when
 *   `verification.sameFloorOnly`) raises smoke, or any device raises heat, CO or a manual call
 *   point, within `verification.agreeWithinS` before or at any time during the verification.
 *   An agreeing alarm already present when the first raise happens makes it 'confirmed' at once.
 * If nothing confirms it, it stays 'verifying' until the condition ends; the clear then carries
 * attrs.verification = 'unconfirmed' (a nuisance alarm candidate for the KPI "nuisance vs confirmed").
 */
import type { AttributeValue } from '../message.js';
import { defineRule, type BuildingAlarm, type RuleContext, type RuleDefinition } from './definition.js';
import { bool, eventAttrs, eventOf, eventPlace, fmt, num, params, valueOf, words } from './rule-kit.js';

export type SmokeAlarmParams = {
  readonly 'obscuration.alarmDbPerM': number;
  readonly 'obscuration.deadbandDbPerM': number;
  readonly 'obscuration.onDelayS': number;
  readonly clearAfterS: number;
  readonly 'verification.enabled': boolean;
  readonly 'verification.windowS': number;
  readonly 'verification.agreeWithinS': number;
  readonly 'verification.sameFloorOnly': boolean;
};

export interface SmokeAlarmState {
  active: boolean;
  /** Gateway time of the first raise. */
  since: number | null;
  verification: 'verifying' | 'confirmed' | null;
  lastEventAt: number | null;
  /** Start of the current run of obscuration samples past the level. */
  runFrom: number | null;
  /** The obscuration condition holds (past the on-delay, not yet back past the deadband). */
  high: boolean;
}

/** Alert types that count as another fire source agreeing, and the word for each. */
const AGREEING: Readonly<Record<string, string>> = {
  'smoke.alarm': 'second_detector',
  'heat.fixed': 'heat',
  'heat.rate_of_rise': 'heat',
  'co.exposure': 'co',
  manual_call_point: 'manual_call_point',
};

export interface SmokeAlarmOptions {
  readonly defaults?: Partial<SmokeAlarmParams>;
}

export function smokeAlarm(options: SmokeAlarmOptions = {}): RuleDefinition<SmokeAlarmState, SmokeAlarmParams> {
  const ID = 'smoke.alarm';

  function agrees(ctx: RuleContext<SmokeAlarmParams>, alarm: BuildingAlarm): boolean {
    if (!(alarm.type in AGREEING)) return false;
    if (alarm.deviceId === ctx.device.id && alarm.type === ID) return false;
    return !ctx.params['verification.sameFloorOnly'] || alarm.floor === ctx.device.floor;
  }

  function start(ctx: RuleContext<SmokeAlarmParams>, state: SmokeAlarmState, at: number, cause: string, attrs: Record<string, AttributeValue>): SmokeAlarmState {
    const p = ctx.params;
    let verification: SmokeAlarmState['verification'] = null;
    const extra: Record<string, AttributeValue> = {};
    if (p['verification.enabled']) {
      const agreeing = ctx.buildingAlarms(ctx.now - p['verification.agreeWithinS'] * 1000).find((a) => agrees(ctx, a));
      verification = agreeing ? 'confirmed' : 'verifying';
      if (agreeing) Object.assign(extra, { confirmedBy: AGREEING[agreeing.type]!, confirmedByDevice: agreeing.deviceId });
    }
    const note = verification === 'verifying' ? 'verifying' : verification === 'confirmed' ? `confirmed by ${extra.confirmedBy}` : null;
    ctx.raise({ at, detail: words(cause, ctx.where, note), attrs: { ...attrs, ...extra }, ...(verification ? { verification } : {}) });
    return { ...state, active: true, since: ctx.now, verification };
  }

  /** Evidence the smoke is still there: confirms once the window has passed. True when it raised. */
  function persists(ctx: RuleContext<SmokeAlarmParams>, state: SmokeAlarmState, at: number, cause: string, attrs: Record<string, AttributeValue>): boolean {
    if (state.verification !== 'verifying' || state.since === null) return false;
    if (ctx.now < state.since + ctx.params['verification.windowS'] * 1000) return false;
    state.verification = 'confirmed';
    ctx.raise({ at, detail: words(cause, ctx.where, `still present after ${ctx.params['verification.windowS']} s: confirmed`), attrs: { ...attrs, confirmedBy: 'persistence' }, verification: 'confirmed' });
    return true;
  }

  function endIfOver(ctx: RuleContext<SmokeAlarmParams>, state: SmokeAlarmState, at: number): SmokeAlarmState {
    if (!state.active || state.high) return state;
    if (state.lastEventAt !== null && ctx.now < state.lastEventAt + ctx.params.clearAfterS * 1000) return state;
    const outcome = state.verification === 'verifying' ? 'unconfirmed' : (state.verification ?? 'not_verified');
    ctx.clear({
      at,
      detail: words('Smoke alarm condition over', ctx.where, outcome === 'unconfirmed' ? 'it was never confirmed' : null),
      attrs: { verification: outcome },
    });
    return { active: false, since: null, verification: null, lastEventAt: null, runFrom: state.runFrom, high: false };
  }

  return defineRule<SmokeAlarmState, SmokeAlarmParams>({
    id: ID,
    title: 'Smoke alarm',
    titleZh: '烟雾报警',
    description:
      "Smoke from the detector's smoke.alarm event or obscuration past the level (with on-delay and deadband). Latched. " +
      'With verification on, a single alarm is raised as verifying and confirmed by persistence past the window or at once by another ' +
      'detector, heat, CO or a manual call point in the building.',
    signalClass: 'alarm',
    latched: true,
    handles: [ID],
    reads: ['obscuration'],
    paramSchema: params({
      'obscuration.alarmDbPerM': num(0.01, 4, 'Obscuration that raises (dB/m); photoelectric detectors alarm around 0.1–0.2'),
      'obscuration.deadbandDbPerM': num(0, 4, 'Clears only at or below level − deadband (dB/m)'),
      'obscuration.onDelayS': num(0, 600, 'Obscuration must stay past the level this long, over at least two samples (s)'),
      clearAfterS: num(0, 86_400, 'The event condition ends when the detector has not repeated smoke.alarm for this long (s)'),
      'verification.enabled': bool('Hold a single smoke alarm as verifying until it persists or another source agrees'),
      'verification.windowS': num(0, 300, 'Persistence at or after this long from the first alarm confirms it (s); NFPA 72 uses up to 60 s'),
      'verification.agreeWithinS': num(0, 3600, 'Another fire alarm this recent before the first one counts as agreement (s)'),
      'verification.sameFloorOnly': bool('Only detectors on the same floor agree (default: the whole building)'),
    }),
    defaults: {
      'obscuration.alarmDbPerM': 0.15,
      'obscuration.deadbandDbPerM': 0.05,
      'obscuration.onDelayS': 10,
      clearAfterS: 180,
      'verification.enabled': true,
      'verification.windowS': 60,
      'verification.agreeWithinS': 300,
      'verification.sameFloorOnly': false,
      ...options.defaults,
    },
    check: (p) =>
      p['obscuration.deadbandDbPerM'] >= p['obscuration.alarmDbPerM']
        ? [`param 'obscuration.deadbandDbPerM' (${p['obscuration.deadbandDbPerM']}) must be below 'obscuration.alarmDbPerM' (${p['obscuration.alarmDbPerM']}), or it never clears`]
        : [],
    initial: () => ({ active: false, since: null, verification: null, lastEventAt: null, runFrom: null, high: false }),
    onMessage(ctx, state, accepted) {
      const event = eventOf(accepted, [ID]);
      if (event) {
        const cause = words('Smoke alarm', eventPlace(event), typeof event.attrs.value === 'number' ? `${fmt(event.attrs.value)} dB/m` : null);
        const attrs = eventAttrs(event);
        const next = { ...state, lastEventAt: ctx.now };
        if (!state.active) return start(ctx, next, event.ts, cause, attrs);
        if (!persists(ctx, next, event.ts, cause, attrs)) {
          ctx.raise({ at: event.ts, detail: words(cause, ctx.where, next.verification), attrs, ...(next.verification ? { verification: next.verification } : {}) });
        }
        return next;
      }
      const v = valueOf(accepted, 'obscuration');
      if (v === null || accepted.channel !== 'telemetry') return state;
      const p = ctx.params;
      const at = accepted.reading.ts;
      const level = p['obscuration.alarmDbPerM'];
      const attrs = { measurement: 'obscuration', value: v };
      const cause = `Smoke ${fmt(v, 3)} dB/m`;
      if (v >= level) {
        const next = { ...state, runFrom: state.runFrom ?? ctx.now };
        // The on-delay guards the start; once the condition holds, every sample past the level is evidence.
        if (!state.high && ctx.now - next.runFrom < p['obscuration.onDelayS'] * 1000) return next;
        next.high = true;
        if (!next.active) return start(ctx, next, at, cause, attrs);
        persists(ctx, next, at, cause, attrs);
        return next;
      }
      const next = { ...state, runFrom: null, high: state.high && v > level - p['obscuration.deadbandDbPerM'] + 1e-9 };
      return endIfOver(ctx, next, at);
    },
    wakeAt(ctx, state) {
      if (!state.active || state.high || state.lastEventAt === null) return null;
      return state.lastEventAt + ctx.params.clearAfterS * 1000;
    },
    onTimer(ctx, state) {
      if (state.lastEventAt === null) return state;
      return endIfOver(ctx, state, state.lastEventAt + ctx.params.clearAfterS * 1000);
    },
    onBuildingAlarm(ctx, state, alarm) {
      if (!state.active || state.verification !== 'verifying' || !agrees(ctx, alarm)) return state;
      const by = AGREEING[alarm.type]!;
      ctx.raise({
        at: ctx.now,
        detail: words('Smoke alarm', ctx.where, `confirmed by ${by.replace(/_/g, ' ')} (${alarm.deviceId})`),
        attrs: { confirmedBy: by, confirmedByDevice: alarm.deviceId },
        verification: 'confirmed',
      });
      return { ...state, verification: 'confirmed' };
    },
  });
}
