/**
 * `offline()`: device.offline, the trouble every kind declares (domain.md §3, offline detection).
 *
 * - Silence: no data (telemetry or event; a TCP keepalive proves nothing) for `offlineAfterS`
 *   raises it, on the gateway clock, at the instant the silence reached the limit.
 * - Last Will: an 'offline' status raises it at once, even during the start-up grace.
 * - Any data or an 'online' status clears it and restarts the silence clock.
 * - Start-up grace: for `startupGraceS` after the gateway starts, silence raises nothing; every
 *   device gets at least that long to be heard again, so a gateway restart raises no storm.
 *   Default max(offlineAfterS, 120 s).
 * - Parents: a device whose parent (panel, NVR, gateway) is offline is still raised, with
 *   `suppressedBy: parentId`, so the lifecycle files it under the parent without notifying anyone
 *   and the operator still sees which children are dark. When the parent comes back, each child
 *   gets a fresh `offlineAfterS` to report: data clears it; silence raises it again without
 *   suppressedBy (a repeat that the lifecycle reads as unsuppressed).
 * Only transitions raise: a retained 'offline' status redelivered after a restart raises nothing
 * for a device already offline.
 */
import type { HeartbeatContract } from '../kind.js';
import { defineRule, type RuleContext, type RuleDefinition } from './definition.js';
import { duration, int, params, words } from './rule-kit.js';

export const OFFLINE_RULE_ID = 'device.offline';

/** At least this long after start-up before silence counts, whatever the kind. */
export const MIN_STARTUP_GRACE_S = 120;

export type OfflineParams = { readonly offlineAfterS: number; readonly startupGraceS: number };

export interface OfflineState {
  /** Gateway time of the last data or 'online' status. */
  lastDataAt: number | null;
  /** Silence is counted from here when nothing was ever heard (first sight or start-up). */
  watchFrom: number;
  offline: boolean;
  reason: 'silence' | 'last_will' | null;
  /** When it went offline or came back (what children see of their parent). */
  changedAt: number | null;
  suppressedBy: string | null;
  /** The parent came back at this time: the child gets a fresh offlineAfterS from here. */
  parentBackAt: number | null;
}

/** Whether a stored state says offline (the engine asks this of a parent). */
export function isOfflineState(state: unknown): { offline: boolean; changedAt: number | null } {
  if (typeof state !== 'object' || state === null) return { offline: false, changedAt: null };
  const s = state as Partial<OfflineState>;
  return { offline: s.offline === true, changedAt: typeof s.changedAt === 'number' ? s.changedAt : null };
}

export function offline(heartbeat: HeartbeatContract): RuleDefinition<OfflineState, OfflineParams> {
  function silenceDue(ctx: RuleContext<OfflineParams>, s: OfflineState): number {
    const base = Math.max(s.lastDataAt ?? s.watchFrom, s.parentBackAt ?? Number.NEGATIVE_INFINITY);
    return Math.max(base + ctx.params.offlineAfterS * 1000, ctx.startedAt + ctx.params.startupGraceS * 1000);
  }

  function suppressor(ctx: RuleContext<OfflineParams>): string | null {
    const parent = ctx.parent();
    return parent?.offline ? parent.id : null;
  }

  return defineRule<OfflineState, OfflineParams>({
    id: OFFLINE_RULE_ID,
    title: 'Device offline',
    titleZh: '设备离线',
    description:
      "No data for offlineAfterS, or the device's Last Will ('offline' status). Cleared by any data or 'online'. Nothing is raised " +
      'for silence during startupGraceS after the gateway starts; children of an offline parent are raised suppressed by it.',
    signalClass: 'trouble',
    latched: false,
    paramSchema: params({
      offlineAfterS: int(10, 30 * 86_400, 'Offline after this long without data (s)'),
      startupGraceS: int(0, 30 * 86_400, 'After the gateway starts, silence raises nothing for this long (s)'),
    }),
    defaults: { offlineAfterS: heartbeat.offlineAfterS, startupGraceS: Math.max(heartbeat.offlineAfterS, MIN_STARTUP_GRACE_S) },
    initial: (ctx) => ({ lastDataAt: null, watchFrom: ctx.now, offline: false, reason: null, changedAt: null, suppressedBy: null, parentBackAt: null }),
    onMessage(ctx, state, accepted) {
      if (accepted.channel === 'status' && accepted.status.status === 'offline') {
        if (state.offline) return state;
        const by = suppressor(ctx);
        ctx.raise({
          at: ctx.now,
          detail: words('Device disconnected (last will)', ctx.where, by ? `parent ${by} is offline` : null),
          attrs: { reason: 'last_will' },
          ...(by ? { suppressedBy: by } : {}),
        });
        return { ...state, offline: true, reason: 'last_will', changedAt: ctx.now, suppressedBy: by, parentBackAt: null };
      }
      // Data, or an 'online' status: the device is heard from.
      const next: OfflineState = { ...state, lastDataAt: ctx.now, parentBackAt: null };
      if (!state.offline) return next;
      const at = accepted.channel === 'telemetry' ? accepted.reading.ts : accepted.channel === 'event' ? accepted.event.ts : ctx.now;
      const how = accepted.channel === 'status' ? 'reconnected' : 'reporting again';
      ctx.clear({ at, detail: words(`Device ${how}`, ctx.where), attrs: { reason: state.reason ?? 'silence' } });
      return { ...next, offline: false, reason: null, changedAt: ctx.now, suppressedBy: null };
    },
    wakeAt(ctx, state) {
      if (!state.offline) return silenceDue(ctx, state);
      if (state.suppressedBy !== null && state.parentBackAt !== null) return state.parentBackAt + ctx.params.offlineAfterS * 1000;
      return null;
    },
    onTimer(ctx, state) {
      const p = ctx.params;
      if (!state.offline) {
        const due = silenceDue(ctx, state);
        if (ctx.now < due) return state;
        const by = suppressor(ctx);
        const silent = state.lastDataAt === null ? 'No data since monitoring started' : `No data for ${duration((due - state.lastDataAt) / 1000)}`;
        ctx.raise({
          at: due,
          detail: words(silent, ctx.where, by ? `parent ${by} is offline` : null),
          attrs: { reason: 'silence', offlineAfterS: p.offlineAfterS, ...(state.lastDataAt !== null ? { lastDataAt: state.lastDataAt } : {}) },
          ...(by ? { suppressedBy: by } : {}),
        });
        return { ...state, offline: true, reason: 'silence', changedAt: due, suppressedBy: by, parentBackAt: null };
      }
      if (state.suppressedBy !== null && state.parentBackAt !== null) {
        const due = state.parentBackAt + p.offlineAfterS * 1000;
        if (ctx.now < due) return state;
        // The parent is back but this device still says nothing: it is dark in its own right.
        ctx.raise({
          at: due,
          detail: words(`Still no data ${duration(p.offlineAfterS)} after parent ${state.suppressedBy} came back`, ctx.where),
          attrs: { reason: state.reason ?? 'silence' },
        });
        return { ...state, suppressedBy: null, parentBackAt: null };
      }
      return state;
    },
    onParentChange(ctx, state, parent) {
      if (parent.offline) return state;
      return { ...state, parentBackAt: parent.changedAt ?? ctx.now };
    },
  });
}
