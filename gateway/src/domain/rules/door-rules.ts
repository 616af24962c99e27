/**
 * Door rules (domain.md §3, door access controller). A controller drives up to four doors, so the
 * state is kept per door (the event's doorId; controllers without door ids count as one door),
 * while the alert stays one per (device, rule): each door's transition raises again, and the
 * alert clears when no door holds the condition any more.
 *
 * - `forcedOpen()`: 'door.forced_open' raises after a debounce (0.5–1 s). A 'door.closed' for the
 *   same door strictly before the debounce ends cancels it (a bounced contact, not a break-in).
 *   Latched; the condition clears when the door closes.
 * - `heldOpen()`: 'door.opened' without 'door.closed' for `heldOpenS`. At `prewarnPct` % of it a
 *   supervisory pre-warning (alert type 'door.held_open.prewarning') tells the captain to get the
 *   door shut; it clears when the door closes or the held-open alert supersedes it. The held-open
 *   alert is an alarm outside the building's occupied hours and supervisory inside them; one
 *   raised supervisory is raised again as an alarm when the building becomes unoccupied while the
 *   door is still open (never the other way). The kind's own 'door.held_open' event raises the same
 *   alert at once. 'door.closed' clears.
 */
import type { DeviceEvent } from '../message.js';
import type { SignalClass } from '../signal.js';
import { defineRule, type RuleContext, type RuleDefinition } from './definition.js';
import { attr, duration, eventAttrs, eventOf, int, num, params, words } from './rule-kit.js';

/** The door an event is about: its doorId, or the controller's only door. */
function doorOf(event: DeviceEvent): string {
  return attr(event, 'doorId') ?? 'door';
}

function doorName(door: string): string {
  return door === 'door' ? 'Door' : `Door ${door}`;
}

// ---------------------------------------------------------------------------------------------

export type ForcedOpenParams = { readonly debounceS: number };

export interface ForcedOpenState {
  /** Door → gateway time the forced-open report arrived, while its debounce runs. */
  pending: Record<string, number>;
  /** Doors forced open and not closed since. */
  open: string[];
}

export function forcedOpen(): RuleDefinition<ForcedOpenState, ForcedOpenParams> {
  const raise = (ctx: RuleContext<ForcedOpenParams>, door: string, at: number, repeat: boolean) =>
    ctx.raise({ at, detail: words(`${doorName(door)} forced open`, ctx.where, repeat ? 'reported again' : null), attrs: { doorId: door } });
  return defineRule<ForcedOpenState, ForcedOpenParams>({
    id: 'door.forced_open',
    title: 'Door forced open',
    titleZh: '强行开门',
    description: 'door.forced_open not followed by door.closed within debounceS (0.5–1 s contact debounce) raises a latched alarm; door.closed clears.',
    signalClass: 'alarm',
    latched: true,
    handles: ['door.forced_open', 'door.closed'],
    paramSchema: params({ debounceS: num(0, 5, 'A door.closed within this long cancels the report (s)') }),
    defaults: { debounceS: 1 },
    initial: () => ({ pending: {}, open: [] }),
    onMessage(ctx, state, accepted) {
      const forced = eventOf(accepted, ['door.forced_open']);
      if (forced) {
        const door = doorOf(forced);
        if (state.open.includes(door)) {
          raise(ctx, door, forced.ts, true);
          return state;
        }
        if (door in state.pending) return state;
        if (ctx.params.debounceS === 0) {
          raise(ctx, door, forced.ts, false);
          return { ...state, open: [...state.open, door] };
        }
        return { ...state, pending: { ...state.pending, [door]: ctx.now } };
      }
      const closed = eventOf(accepted, ['door.closed']);
      if (!closed) return state;
      const door = doorOf(closed);
      if (door in state.pending) {
        const pending = { ...state.pending };
        delete pending[door];
        return { ...state, pending };
      }
      if (!state.open.includes(door)) return state;
      const open = state.open.filter((d) => d !== door);
      if (open.length === 0) ctx.clear({ at: closed.ts, detail: words(`${doorName(door)} closed`, ctx.where), attrs: { doorId: door } });
      return { ...state, open };
    },
    wakeAt(ctx, state) {
      const times = Object.values(state.pending);
      return times.length === 0 ? null : Math.min(...times) + ctx.params.debounceS * 1000;
    },
    onTimer(ctx, state) {
      const pending = { ...state.pending };
      const open = [...state.open];
      for (const [door, since] of Object.entries(state.pending)) {
        const due = since + ctx.params.debounceS * 1000;
        if (ctx.now < due) continue;
        delete pending[door];
        open.push(door);
        raise(ctx, door, due, false);
      }
      return { pending, open };
    },
  });
}

// ---------------------------------------------------------------------------------------------

export type HeldOpenParams = { readonly heldOpenS: number; readonly prewarnPct: number };

interface HeldDoor {
  /** Gateway time the door opened. */
  openedAt: number;
  stage: 'open' | 'prewarned' | 'held';
  /** Class it was raised with, once held. */
  raisedAs: 'alarm' | 'supervisory' | null;
  /** When a supervisory held-open becomes an alarm (the building's next unoccupied time). */
  escalateAt: number | null;
}

export interface HeldOpenState {
  doors: Record<string, HeldDoor>;
  prewarnActive: boolean;
  heldActive: boolean;
}

export const PREWARNING_TYPE = 'door.held_open.prewarning';

export function heldOpen(): RuleDefinition<HeldOpenState, HeldOpenParams> {
  const heldAt = (p: HeldOpenParams, d: HeldDoor) => d.openedAt + p.heldOpenS * 1000;
  const prewarnAt = (p: HeldOpenParams, d: HeldDoor) => (p.prewarnPct > 0 ? d.openedAt + (p.heldOpenS * 1000 * p.prewarnPct) / 100 : null);

  function raiseHeld(ctx: RuleContext<HeldOpenParams>, door: string, d: HeldDoor, at: number, attrs: Record<string, string | number | boolean> = {}): void {
    const occupied = ctx.occupied(at);
    const cls: SignalClass = occupied ? 'supervisory' : 'alarm';
    d.stage = 'held';
    d.raisedAs = cls;
    d.escalateAt = occupied ? ctx.nextOccupancyChange(at) : null;
    const openS = Math.max(0, (at - d.openedAt) / 1000);
    ctx.raise({
      at,
      signalClass: cls,
      detail: words(`${doorName(door)} held open ${duration(openS)}`, ctx.where, occupied ? 'in occupied hours' : 'after hours'),
      attrs: { ...attrs, doorId: door, openS: Math.round(openS), occupied },
    });
  }

  /** Clears what no door holds any more. */
  function settle(ctx: RuleContext<HeldOpenParams>, state: HeldOpenState, at: number, door: string, closed: boolean, was?: HeldDoor): HeldOpenState {
    const stages = Object.values(state.doors).map((d) => d.stage);
    if (state.prewarnActive && !stages.includes('prewarned')) {
      ctx.clear({
        type: PREWARNING_TYPE,
        signalClass: 'supervisory',
        title: 'Door open too long (pre-warning)',
        titleZh: '门未关预警',
        at,
        detail: words(`${doorName(door)} ${closed ? 'closed' : 'now held open'}`, ctx.where),
        attrs: { doorId: door },
      });
      state.prewarnActive = false;
    }
    if (state.heldActive && !stages.includes('held')) {
      // Cleared in the class it was last raised with, so the clear reads like the alert it ends.
      ctx.clear({ at, signalClass: was?.raisedAs ?? 'supervisory', detail: words(`${doorName(door)} closed`, ctx.where), attrs: { doorId: door } });
      state.heldActive = false;
    }
    return state;
  }

  return defineRule<HeldOpenState, HeldOpenParams>({
    id: 'door.held_open',
    title: 'Door held open',
    titleZh: '门长时间未关',
    description:
      'door.opened without door.closed for heldOpenS: pre-warning (door.held_open.prewarning, supervisory) at prewarnPct %, then ' +
      "an alarm outside the building's occupied hours or supervisory inside them; door.held_open events raise it at once; door.closed clears.",
    signalClass: 'supervisory',
    latched: false,
    handles: ['door.opened', 'door.closed', 'door.held_open'],
    alsoEmits: [PREWARNING_TYPE],
    paramSchema: params({
      heldOpenS: num(1, 86_400, 'A door open this long is held open (s)'),
      prewarnPct: int(0, 99, 'Pre-warning at this percentage of heldOpenS; 0 = none'),
    }),
    defaults: { heldOpenS: 30, prewarnPct: 75 },
    initial: () => ({ doors: {}, prewarnActive: false, heldActive: false }),
    onMessage(ctx, state, accepted) {
      const opened = eventOf(accepted, ['door.opened']);
      if (opened) {
        const door = doorOf(opened);
        if (state.doors[door]) return state;
        return { ...state, doors: { ...state.doors, [door]: { openedAt: ctx.now, stage: 'open', raisedAs: null, escalateAt: null } } };
      }
      const held = eventOf(accepted, ['door.held_open']);
      if (held) {
        const door = doorOf(held);
        const reported = typeof held.attrs.openDurationS === 'number' ? ctx.now - held.attrs.openDurationS * 1000 : ctx.now - ctx.params.heldOpenS * 1000;
        const prev = state.doors[door];
        const d: HeldDoor = prev ? { ...prev, openedAt: Math.min(prev.openedAt, reported) } : { openedAt: reported, stage: 'open', raisedAs: null, escalateAt: null };
        const next = { ...state, doors: { ...state.doors, [door]: d } };
        raiseHeld(ctx, door, d, held.ts, eventAttrs(held));
        next.heldActive = true;
        return settle(ctx, next, held.ts, door, false);
      }
      const closed = eventOf(accepted, ['door.closed']);
      if (!closed) return state;
      const door = doorOf(closed);
      if (!state.doors[door]) return state;
      const doors = { ...state.doors };
      const was = doors[door];
      delete doors[door];
      return settle(ctx, { ...state, doors }, closed.ts, door, true, was);
    },
    wakeAt(ctx, state) {
      let next: number | null = null;
      const consider = (t: number | null) => {
        if (t !== null && (next === null || t < next)) next = t;
      };
      for (const d of Object.values(state.doors)) {
        if (d.stage === 'open') consider(prewarnAt(ctx.params, d) ?? heldAt(ctx.params, d));
        else if (d.stage === 'prewarned') consider(heldAt(ctx.params, d));
        else if (d.raisedAs === 'supervisory') consider(d.escalateAt);
      }
      return next;
    },
    onTimer(ctx, state) {
      const p = ctx.params;
      const next: HeldOpenState = { ...state, doors: { ...state.doors } };
      for (const [door, prev] of Object.entries(state.doors)) {
        const d = { ...prev };
        next.doors[door] = d;
        const due = heldAt(p, d);
        const warn = prewarnAt(p, d);
        if (d.stage !== 'held' && ctx.now >= due) {
          raiseHeld(ctx, door, d, due);
          next.heldActive = true;
          settle(ctx, next, due, door, false);
        } else if (d.stage === 'open' && warn !== null && ctx.now >= warn) {
          d.stage = 'prewarned';
          next.prewarnActive = true;
          ctx.raise({
            type: PREWARNING_TYPE,
            signalClass: 'supervisory',
            title: 'Door open too long (pre-warning)',
            titleZh: '门未关预警',
            at: warn,
            detail: words(`${doorName(door)} open ${duration((warn - d.openedAt) / 1000)}`, ctx.where, `held-open alert in ${duration((due - warn) / 1000)}`),
            attrs: { doorId: door },
          });
        } else if (d.stage === 'held' && d.raisedAs === 'supervisory' && d.escalateAt !== null && ctx.now >= d.escalateAt) {
          if (ctx.occupied(d.escalateAt)) d.escalateAt = ctx.nextOccupancyChange(d.escalateAt);
          else raiseHeld(ctx, door, d, d.escalateAt, { escalated: true });
        }
      }
      return next;
    },
  });
}
