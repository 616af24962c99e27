/**
 * `repeatedWithin()`: N occurrences of an event for the same key within a sliding window
 * (repeated access denials per credential or per reader, repeated face failures per gate).
 *
 * Window: an occurrence counts while it is at most `windowS` old (inclusive), on the gateway
 * clock. Each counter has its own threshold parameter; 0 switches that counter off. Every
 * occurrence that leaves a key at or above its threshold raises (so the lifecycle counts the
 * repeats). The condition clears one window after the last occurrence that raised it (so a burst
 * that keeps going is one alert with repeats, not raise/clear chatter). Events listed in `direct`
 * are the condition already (a device that counts for itself): they raise at once and hold for one
 * window.
 */
import type { SignalClass } from '../signal.js';
import { defineRule, type RuleDefinition, type RuleParams } from './definition.js';
import { attr, eventAttrs, eventOf, eventPlace, int, num, params, words } from './rule-kit.js';

export interface RepeatCounter {
  /** Parameter name of its threshold: 'perCredential'. */
  readonly name: string;
  /** Event attribute that keys it ('credentialRef'); occurrences without it are not counted. Null: one count per device. */
  readonly attr: string | null;
  readonly count: number;
  /** Count occurrences without the attribute under the device itself (a single-lane gate sends no gateId). */
  readonly orDevice?: boolean;
  /** Words for a detail: 'for one credential', 'at one reader'. */
  readonly label: string;
}

export interface RepeatedWithinOptions {
  readonly id: string;
  readonly title: string;
  readonly titleZh: string;
  readonly signalClass: SignalClass;
  readonly latched?: boolean;
  /** The event counted, and how a detail names it ('access denials'). */
  readonly event: string;
  readonly eventWords: string;
  readonly counters: readonly RepeatCounter[];
  readonly windowS: number;
  readonly direct?: readonly string[];
}

export interface RepeatedWithinState {
  /** Counter → key → gateway times of its recent occurrences, oldest first (at most its threshold). */
  stamps: Record<string, Record<string, number[]>>;
  active: boolean;
  /** A direct event holds the condition until this time. */
  directUntil: number | null;
  /** Gateway time of the last occurrence that raised. */
  lastRaiseAt: number | null;
}

export function repeatedWithin(o: RepeatedWithinOptions): RuleDefinition<RepeatedWithinState, RuleParams> {
  const direct = o.direct ?? [];
  const threshold = (p: RuleParams, c: RepeatCounter) => p[c.name] as number;
  const windowMs = (p: RuleParams) => (p.windowS as number) * 1000;

  /** The last instant at which the condition still holds: one window after the last raise. */
  function holdsUntil(p: RuleParams, state: RepeatedWithinState): number | null {
    const candidates = [state.directUntil, state.lastRaiseAt === null ? null : state.lastRaiseAt + windowMs(p)].filter((t): t is number => t !== null);
    return candidates.length === 0 ? null : Math.max(...candidates);
  }

  const counterParams = Object.fromEntries(
    o.counters.map((c) => [c.name, int(0, 1000, `Occurrences ${c.label} within windowS that raise; 0 = off`)]),
  );

  return defineRule<RepeatedWithinState, RuleParams>({
    id: o.id,
    title: o.title,
    titleZh: o.titleZh,
    description:
      `${o.title}: ${o.counters.map((c) => `${c.name} ${o.eventWords} ${c.label}`).join(' or ')} within windowS raise; ` +
      'clears windowS after the last occurrence that raised.',
    signalClass: o.signalClass,
    latched: o.latched ?? false,
    handles: [o.event, ...direct],
    paramSchema: params({ windowS: num(1, 86_400, 'Sliding window (s), inclusive'), ...counterParams }),
    defaults: { windowS: o.windowS, ...Object.fromEntries(o.counters.map((c) => [c.name, c.count])) },
    initial: () => ({ stamps: {}, active: false, directUntil: null, lastRaiseAt: null }),
    onMessage(ctx, state, accepted) {
      const p = ctx.params;
      const d = eventOf(accepted, direct);
      if (d) {
        ctx.raise({ at: d.ts, detail: words(o.title, 'reported by the device', eventPlace(d), ctx.where), attrs: eventAttrs(d) });
        return { ...state, active: true, directUntil: ctx.now + windowMs(p) };
      }
      const event = eventOf(accepted, [o.event]);
      if (!event) return state;
      const stamps: RepeatedWithinState['stamps'] = {};
      const hits: string[] = [];
      for (const c of o.counters) {
        const n = threshold(p, c);
        const byKey: Record<string, number[]> = {};
        for (const [key, list] of Object.entries(state.stamps[c.name] ?? {})) {
          const kept = list.filter((t) => t >= ctx.now - windowMs(p));
          if (kept.length > 0) byKey[key] = kept;
        }
        const key = c.attr === null ? 'device' : (attr(event, c.attr) ?? (c.orDevice ? 'device' : null));
        if (n > 0 && key !== null) {
          const list = [...(byKey[key] ?? []), ctx.now].slice(-n);
          byKey[key] = list;
          if (list.length >= n) hits.push(`${n} ${o.eventWords} ${c.label} within ${p.windowS} s`);
        }
        stamps[c.name] = byKey;
      }
      if (hits.length === 0) return { ...state, stamps };
      ctx.raise({ at: event.ts, detail: words(...hits, eventPlace(event), ctx.where), attrs: { ...eventAttrs(event), windowS: p.windowS as number } });
      return { ...state, stamps, active: true, lastRaiseAt: ctx.now };
    },
    wakeAt(ctx, state) {
      if (!state.active) return null;
      const until = holdsUntil(ctx.params, state);
      return until === null ? ctx.now : until + 1;
    },
    onTimer(ctx, state) {
      if (!state.active) return state;
      const until = holdsUntil(ctx.params, state);
      if (until !== null && ctx.now <= until) return state;
      ctx.clear({ at: until ?? ctx.now, detail: words(`No more ${o.eventWords} within ${ctx.params.windowS} s`, ctx.where) });
      // Occurrences still inside the window keep counting towards the next alarm.
      const stamps: RepeatedWithinState['stamps'] = {};
      for (const [name, byKey] of Object.entries(state.stamps)) {
        stamps[name] = {};
        for (const [key, list] of Object.entries(byKey)) {
          const kept = list.filter((t) => t >= ctx.now - windowMs(ctx.params));
          if (kept.length > 0) stamps[name][key] = kept;
        }
      }
      return { stamps, active: false, directUntil: null, lastRaiseAt: null };
    },
  });
}
