/**
 * `eventAlarm()`: a device event that is itself the condition (duress, video loss, sensor fault).
 *
 * How the condition ends, since the shipped kinds report no "restored" events:
 * - `clearAfterS` 0 (default for alarm-class events): momentary. The event raises and clears at
 *   once; a latched alert still stays until reset, an unlatched one waits for acknowledgement as
 *   returned-unacknowledged (ISA-18.2).
 * - `clearAfterS` > 0: the condition holds while the device keeps repeating the event. It clears
 *   once the device has gone `clearAfterS` without repeating it *and* has sent other data since
 *   (a silent device proves nothing; silence is the offline rule's business).
 * - any event listed in `clearOn` clears it at once.
 * Every repeat of the event raises again, so the alert lifecycle counts repeats.
 */
import type { EventSpec } from '../kind.js';
import type { SignalClass } from '../signal.js';
import { defineRule, type RuleDefinition } from './definition.js';
import { eventAttrs, eventOf, eventPlace, int, isData, params, words } from './rule-kit.js';

export interface EventAlarmOptions {
  /** Alert type / rule id; defaults to the event type. */
  readonly id?: string;
  /** Defaults to the event's class. */
  readonly signalClass?: SignalClass;
  readonly latched?: boolean;
  /** Default quiet period before the condition counts as ended; 0 = momentary. */
  readonly clearAfterS?: number;
  /** Events that end the condition at once. */
  readonly clearOn?: readonly string[];
  readonly description?: string;
}

type EventAlarmParams = { readonly clearAfterS: number };

interface EventAlarmState {
  active: boolean;
  lastEventAt: number | null;
  /** The device sent other data after the last event. */
  spokeSince: boolean;
}

const DEFAULT_CLEAR_AFTER_S: Readonly<Record<SignalClass, number>> = { alarm: 0, supervisory: 600, trouble: 3600, info: 0 };

export function eventAlarm(spec: EventSpec, options: EventAlarmOptions = {}): RuleDefinition<EventAlarmState, EventAlarmParams> {
  const signalClass = options.signalClass ?? spec.signalClass;
  const clearOn = options.clearOn ?? [];
  const latched = options.latched ?? false;
  const clearAfterS = options.clearAfterS ?? DEFAULT_CLEAR_AFTER_S[signalClass];
  return defineRule<EventAlarmState, EventAlarmParams>({
    id: options.id ?? spec.type,
    title: spec.title,
    titleZh: spec.titleZh,
    description:
      options.description ??
      `${spec.title}: raised by the device's '${spec.type}' event` +
        (clearAfterS === 0 ? ' (momentary).' : `; ends when the device reports other data and has not repeated it for clearAfterS.`),
    signalClass,
    latched,
    handles: [spec.type, ...clearOn],
    paramSchema: params({
      clearAfterS: int(0, 30 * 86_400, 'Quiet period after the last event before the condition counts as ended; 0 = momentary'),
    }),
    defaults: { clearAfterS },
    initial: () => ({ active: false, lastEventAt: null, spokeSince: false }),
    onMessage(ctx, state, accepted) {
      const event = eventOf(accepted, [spec.type]);
      if (event) {
        const detail = words(spec.title, eventPlace(event), ctx.where, typeof event.attrs.detail === 'string' ? `"${event.attrs.detail}"` : null);
        ctx.raise({ at: event.ts, detail, attrs: eventAttrs(event) });
        if (ctx.params.clearAfterS === 0) {
          ctx.clear({ at: event.ts, detail: `${spec.title}: momentary event, over`, attrs: eventAttrs(event) });
          return { active: false, lastEventAt: ctx.now, spokeSince: false };
        }
        return { active: true, lastEventAt: ctx.now, spokeSince: false };
      }
      if (!state.active) return state;
      const ending = eventOf(accepted, clearOn);
      if (ending) {
        ctx.clear({ at: ending.ts, detail: words(`${spec.title} ended`, eventPlace(ending), ctx.where) });
        return { active: false, lastEventAt: state.lastEventAt, spokeSince: false };
      }
      if (isData(accepted)) {
        const due = (state.lastEventAt ?? ctx.now) + ctx.params.clearAfterS * 1000;
        if (ctx.now < due) return { ...state, spokeSince: true };
        ctx.clear({ at: ctx.now, detail: words(`${spec.title} not repeated for ${ctx.params.clearAfterS} s`, ctx.where) });
        return { active: false, lastEventAt: state.lastEventAt, spokeSince: false };
      }
      return state;
    },
    wakeAt(ctx, state) {
      if (!state.active || !state.spokeSince || state.lastEventAt === null) return null;
      return state.lastEventAt + ctx.params.clearAfterS * 1000;
    },
    onTimer(ctx, state) {
      if (!state.active || !state.spokeSince || state.lastEventAt === null) return state;
      const due = state.lastEventAt + ctx.params.clearAfterS * 1000;
      if (ctx.now < due) return state;
      ctx.clear({ at: due, detail: words(`${spec.title} not repeated for ${ctx.params.clearAfterS} s`, ctx.where) });
      return { active: false, lastEventAt: state.lastEventAt, spokeSince: false };
    },
  });
}

/** Looks up an event a kind declares; a typo fails at start-up. */
export function eventSpec(events: readonly EventSpec[], type: string): EventSpec {
  const spec = events.find((e) => e.type === type);
  if (!spec) throw new Error(`event '${type}' is not declared by this kind`);
  return spec;
}

/** One `eventAlarm()` per listed event type, sharing options. */
export function eventAlarms(
  events: readonly EventSpec[],
  types: readonly string[],
  options: Omit<EventAlarmOptions, 'id'> = {},
): RuleDefinition<EventAlarmState, EventAlarmParams>[] {
  return types.map((t) => eventAlarm(eventSpec(events, t), options));
}
