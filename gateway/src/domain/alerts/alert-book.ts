/**
 * The alert book: every open alert and the ISA-18.2 / IEC 62682 lifecycle that moves it
 * (domain.md §4). Rules send signals (raise / clear), operators act (acknowledge, shelve, disable,
 * reset), the app calls tick() when nextWakeAt() says so; every call answers with the changes it
 * made and whom to tell. Pure: no clock of its own (callers pass `now`, epoch ms), no I/O.
 *
 * States: active_unack → active_ack → normal; active_unack → returned_unack (cleared before anyone
 * acknowledged) → normal on acknowledge. Latched alerts stay active until reset. Shelved,
 * suppressed by design and disabled (屏蔽) are side states: while in one an alert neither notifies
 * nor escalates, and on leaving the last one its condition is re-evaluated.
 */
import { AlertActionError } from '../../ports.js';
import { SIGNAL_CLASSES } from '../signal.js';
import {
  DEFAULT_VERIFICATION_HOLD_S,
  ESCALATION_AUDIENCE,
  escalationPlanFor,
  nextLiveStep,
  validateEscalationPolicy,
  type EscalationPlan,
  type EscalationPolicy,
} from './escalation.js';
import { ChatterWatch, FloodGate, type PendingDigest } from './nuisance.js';
import type { Alert, AlertChange, AlertHistoryEntry, AlertSignal, NotificationIntent } from './types.js';

export interface AlertBookOptions {
  readonly policy: EscalationPolicy;
  readonly newId: () => string;
  /** Open alerts restored from storage: escalation, shelving and disablement resume where they were. */
  readonly open?: readonly Alert[];
  /** Chattering (ISA-18.2): this many activations of one source within windowS. Default 3 in 60 s. */
  readonly chattering?: { readonly activations: number; readonly windowS: number };
  /** Flood: more than maxAlerts new alerts for one building within windowS. Default 10 in 600 s. */
  readonly flood?: { readonly maxAlerts: number; readonly windowS: number };
  /** Longest shelve an operator may ask for (ISA-18.2: timed shelving). Default 24 h. */
  readonly maxShelveS?: number;
  /** History entries kept per alert. Default 200. */
  readonly historyLimit?: number;
}

const SYSTEM = 'system';
const MS = 1000;
/** Events that mark an activation (a transition into alarm), for chattering after a restart. */
const ACTIVATIONS = new Set(['raised', 'reactivated']);

type Draft = { -readonly [K in keyof Alert]: Alert[K] };
type Due = { at: number; rank: number; kind: 'unshelve' | 'enable' | 'escalate' | 'digest'; alertId: string };

export class AlertBook {
  private readonly alerts = new Map<string, Alert>();
  private readonly idBySource = new Map<string, string>();
  /** Suppression by design per device (parent offline, maintenance), set by suppress(). */
  private readonly deviceSuppressions = new Map<string, string>();
  private readonly policy: EscalationPolicy;
  private readonly newId: () => string;
  private readonly chatter: ChatterWatch;
  private readonly flood: FloodGate;
  private readonly chatterThreshold: number;
  private readonly chatterWindowS: number;
  private readonly maxShelveS: number;
  private readonly historyLimit: number;
  private readonly verificationHoldMs: number;

  constructor(options: AlertBookOptions) {
    const chattering = options.chattering ?? { activations: 3, windowS: 60 };
    const flood = options.flood ?? { maxAlerts: 10, windowS: 600 };
    const problems = validateEscalationPolicy(options.policy).map((p) => `policy.${p}`);
    const positive = (name: string, v: number, integer: boolean): void => {
      if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) problems.push(`${name} must be a positive ${integer ? 'integer' : 'number'}`);
    };
    positive('chattering.activations', chattering.activations, true);
    positive('chattering.windowS', chattering.windowS, false);
    positive('flood.maxAlerts', flood.maxAlerts, true);
    positive('flood.windowS', flood.windowS, false);
    positive('maxShelveS', options.maxShelveS ?? 24 * 3600, false);
    const historyLimit = options.historyLimit ?? 200;
    if (!Number.isInteger(historyLimit) || historyLimit < 2) problems.push('historyLimit must be an integer ≥ 2');
    if (typeof options.newId !== 'function') problems.push('newId must be a function');
    if (problems.length > 0) throw new RangeError(`alert book options are invalid: ${problems.join('; ')}`);

    this.policy = options.policy;
    this.newId = options.newId;
    this.chatterThreshold = chattering.activations;
    this.chatterWindowS = chattering.windowS;
    this.chatter = new ChatterWatch(chattering.activations, chattering.windowS * MS);
    this.flood = new FloodGate(flood.maxAlerts, flood.windowS * MS);
    this.maxShelveS = options.maxShelveS ?? 24 * 3600;
    this.historyLimit = historyLimit;
    this.verificationHoldMs = (options.policy.verificationHoldS ?? DEFAULT_VERIFICATION_HOLD_S) * MS;

    const restored = [...(options.open ?? [])].sort((a, b) => a.raisedAt - b.raisedAt || a.id.localeCompare(b.id));
    for (const a of restored) this.restore(a);
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  get(id: string): Alert | undefined {
    return this.alerts.get(id);
  }

  /** Open alerts, oldest first. Closed alerts leave the book; the store keeps them. */
  open(): Alert[] {
    return [...this.alerts.values()].sort((a, b) => a.raisedAt - b.raisedAt || a.id.localeCompare(b.id));
  }

  /** The one open alert for (device, type), if any. */
  findOpen(deviceId: string, type: string): Alert | undefined {
    const id = this.idBySource.get(sourceKey(deviceId, type));
    return id === undefined ? undefined : this.alerts.get(id);
  }

  /** Devices suppressed by design right now (not persisted: the app re-applies them at start). */
  suppressions(): { deviceId: string; by: string }[] {
    return [...this.deviceSuppressions].map(([deviceId, by]) => ({ deviceId, by }));
  }

  /** When tick() next has something to do: an escalation, an expiry or a flood digest. */
  nextWakeAt(): number | null {
    let next = this.flood.nextDueAt();
    const consider = (t: number | null): void => {
      if (t !== null && (next === null || t < next)) next = t;
    };
    for (const a of this.alerts.values()) {
      consider(a.nextEscalationAt);
      consider(a.shelvedUntil);
      consider(a.disabled?.until ?? null);
    }
    return next;
  }

  // -------------------------------------------------------------------------------------------
  // Signals from the rules

  /** A rule's decision: the condition started (raise) or ended (clear). */
  apply(signal: AlertSignal, now: number): AlertChange[] {
    checkTime(now);
    checkSignal(signal);
    const out: AlertChange[] = [];
    const open = this.findOpen(signal.source.deviceId, signal.type);
    if (signal.action === 'clear') {
      if (open !== undefined) this.clearCondition(open, signal, now, out);
    } else if (open === undefined) {
      this.raiseNew(signal, now, out);
    } else {
      this.raiseAgain(open, signal, now, out);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Operator actions: each returns the one change it made, or throws AlertActionError.

  acknowledge(id: string, actor: string, note: string | null, now: number): AlertChange {
    const a = this.mustGet(id, actor, now);
    if (a.state !== 'active_unack' && a.state !== 'returned_unack') {
      throw new AlertActionError('invalid_transition', `alert '${id}' is ${a.state}: only unacknowledged alerts can be acknowledged`);
    }
    const d: Draft = { ...a, acknowledgedAt: now, acknowledgedBy: actor };
    if (a.state === 'active_unack') {
      d.state = 'active_ack';
      d.nextEscalationAt = this.reschedule(a, d);
    } else {
      // returned_unack: the condition is gone and now somebody has seen it (ISA-18.2).
      d.state = 'normal';
      d.nextEscalationAt = null;
      closeIfDone(d, now);
    }
    return this.single(d, 'acknowledged', actor, note, now, []);
  }

  /** Timed shelve (ISA-18.2): no notifications or escalation until it ends; auto-unshelves in tick(). */
  shelve(id: string, actor: string, durationS: number, reason: string, now: number): AlertChange {
    const a = this.mustGet(id, actor, now);
    checkText('reason', reason);
    if (!Number.isFinite(durationS) || durationS <= 0 || durationS > this.maxShelveS) {
      throw new AlertActionError('invalid_argument', `durationS must be more than 0 and at most ${this.maxShelveS} s`);
    }
    const d: Draft = { ...a, shelvedUntil: now + durationS * MS, nextEscalationAt: null };
    const renewed = a.shelvedUntil !== null ? 'renewed: ' : '';
    return this.single(d, 'shelved', actor, `${renewed}${reason} (${durationS} s)`, now, []);
  }

  unshelve(id: string, actor: string, now: number): AlertChange {
    const a = this.mustGet(id, actor, now);
    if (a.shelvedUntil === null) throw new AlertActionError('invalid_transition', `alert '${id}' is not shelved`);
    return this.leaveSideState(a, { shelvedUntil: null }, 'unshelved', actor, null, now);
  }

  /** 屏蔽 / out of service: a reason and an expiry are required; raises are recorded, nobody is told. */
  disable(id: string, actor: string, reason: string, until: number, now: number): AlertChange {
    const a = this.mustGet(id, actor, now);
    checkText('reason', reason);
    if (!Number.isFinite(until) || until <= now) throw new AlertActionError('invalid_argument', 'until must be a time after now');
    const d: Draft = { ...a, disabled: { reason, until, by: actor }, nextEscalationAt: null };
    const renewed = a.disabled !== null ? 'renewed: ' : '';
    return this.single(d, 'disabled', actor, `${renewed}${reason}`, now, []);
  }

  enable(id: string, actor: string, now: number): AlertChange {
    const a = this.mustGet(id, actor, now);
    if (a.disabled === null) throw new AlertActionError('invalid_transition', `alert '${id}' is not disabled`);
    return this.leaveSideState(a, { disabled: null }, 'enabled', actor, null, now);
  }

  /**
   * Ends a latched alert (fire, forced door) once its condition has cleared. Like a fire panel's
   * reset, it also acknowledges the alert if nobody had.
   */
  reset(id: string, actor: string, note: string | null, now: number): AlertChange {
    const a = this.mustGet(id, actor, now);
    if (!a.latched) throw new AlertActionError('invalid_transition', `alert '${id}' is not latched: it ends when acknowledged and cleared`);
    if (a.clearedAt === null) throw new AlertActionError('invalid_transition', `alert '${id}' cannot be reset while its condition is still active`);
    if (a.state === 'normal') throw new AlertActionError('invalid_transition', `alert '${id}' has already been reset`);
    const d: Draft = {
      ...a,
      state: 'normal',
      acknowledgedAt: a.acknowledgedAt ?? now,
      acknowledgedBy: a.acknowledgedBy ?? actor,
      nextEscalationAt: null,
    };
    closeIfDone(d, now);
    return this.single(d, 'reset', actor, note, now, []);
  }

  // -------------------------------------------------------------------------------------------
  // Suppression by design (parent offline, maintenance window)

  /** Suppresses a device's alerts, open and future, until unsuppress(); `by` says why (e.g. the parent's id). */
  suppress(deviceId: string, by: string, now: number): AlertChange[] {
    checkText('deviceId', deviceId);
    checkText('by', by);
    checkTime(now);
    this.deviceSuppressions.set(deviceId, by);
    const out: AlertChange[] = [];
    for (const a of this.alertsOf(deviceId)) {
      if (a.suppressedBy === null) this.suppressAlert(a, by, now, out);
    }
    return out;
  }

  /** Lifts every suppression of a device's alerts (device-wide and signal-borne) and re-evaluates them. */
  unsuppress(deviceId: string, now: number): AlertChange[] {
    checkText('deviceId', deviceId);
    checkTime(now);
    this.deviceSuppressions.delete(deviceId);
    const out: AlertChange[] = [];
    for (const a of this.alertsOf(deviceId)) {
      if (a.suppressedBy !== null) this.liftSuppression(a, now, out);
    }
    return out;
  }

  /** Lifts every suppression made for one reason, e.g. when the parent panel or NVR `by` is back. */
  unsuppressBy(by: string, now: number): AlertChange[] {
    checkText('by', by);
    checkTime(now);
    for (const [deviceId, reason] of [...this.deviceSuppressions]) if (reason === by) this.deviceSuppressions.delete(deviceId);
    const out: AlertChange[] = [];
    for (const a of this.open()) {
      if (a.suppressedBy !== by) continue;
      const still = this.deviceSuppressions.get(a.source.deviceId);
      if (still !== undefined) this.record({ ...a, suppressedBy: still }, 'suppressed', SYSTEM, `suppressed by ${still}`, now, [], out);
      else this.liftSuppression(a, now, out);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Time

  /** Does what is due at or before `now`: escalations, auto-unshelve, disable expiry, flood digests. */
  tick(now: number): AlertChange[] {
    checkTime(now);
    const out: AlertChange[] = [];
    // Earliest first, across alerts. A step may make the next one due too (catching up after a
    // restart) and an expiry restarts an escalation clock, so handled alerts are queued again;
    // entries that no longer match their alert are stale and skipped.
    const queue = new DueQueue();
    for (const a of this.alerts.values()) queue.addAll(dueItems(a, now));
    const digestAt = this.flood.nextDueAt();
    if (digestAt !== null && digestAt <= now) queue.add({ at: digestAt, rank: 2, kind: 'digest', alertId: '' });
    for (let due = queue.next(); due !== undefined; due = queue.next()) {
      if (due.kind === 'digest') {
        for (const digest of this.flood.takeDue(due.at)) this.sendDigest(digest, now, out);
        const again = this.flood.nextDueAt();
        if (again !== null && again <= now) queue.add({ at: again, rank: 2, kind: 'digest', alertId: '' });
        continue;
      }
      const a = this.alerts.get(due.alertId);
      if (a === undefined || !stillDue(a, due)) continue;
      if (due.kind === 'unshelve') this.leaveSideState(a, { shelvedUntil: null }, 'unshelved', SYSTEM, 'shelve expired', now, out);
      else if (due.kind === 'enable') this.leaveSideState(a, { disabled: null }, 'enabled', SYSTEM, 'disablement expired', now, out);
      else this.escalate(a, now, out);
      const after = this.alerts.get(a.id);
      if (after !== undefined) queue.addAll(dueItems(after, now));
    }
    this.chatter.prune(now);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle internals

  private raiseNew(signal: AlertSignal, now: number, out: AlertChange[]): void {
    const { source } = signal;
    const suppressedBy = signal.suppressedBy ?? this.deviceSuppressions.get(source.deviceId) ?? null;
    const d: Draft = {
      id: this.newId(),
      source: { deviceId: source.deviceId, kind: source.kind, buildingId: source.buildingId, floor: source.floor },
      type: signal.type,
      signalClass: signal.signalClass,
      title: signal.title,
      titleZh: signal.titleZh,
      detail: signal.detail,
      attrs: { ...(signal.attrs ?? {}) },
      state: 'active_unack',
      latched: signal.latched === true,
      verification: signal.verification ?? null,
      raisedAt: now,
      lastSeenAt: now,
      count: 1,
      clearedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      shelvedUntil: null,
      suppressedBy,
      disabled: null,
      escalationLevel: 0,
      nextEscalationAt: null,
      chattering: false,
      closedAt: null,
      history: [],
      historyDropped: 0,
    };
    d.nextEscalationAt = this.startClock(d, now);
    const chattering = this.chatter.activate(sourceKey(source.deviceId, signal.type), now);
    const tell = this.mayNotify(d) && (!chattering || isLifeSafety(d));
    // Flood grouping counts only alerts that would notify; life-safety ones never wait for a digest.
    const held = tell && this.flood.admit(source.buildingId, d.id, now, isLifeSafety(d)) === 'hold';
    const notify = tell && !held ? [intent(d, 'captain', 'raised')] : [];
    const note = suppressedBy === null ? signal.detail : `${signal.detail} (suppressed by ${suppressedBy})`;
    let a = this.record(d, 'raised', SYSTEM, note, now, notify, out);
    a = this.flagChattering(a, chattering, now, out);
    if (held) this.record({ ...a }, 'flood_held', SYSTEM, `held for building ${source.buildingId}'s flood digest`, now, [], out);
  }

  private raiseAgain(open: Alert, signal: AlertSignal, now: number, out: AlertChange[]): void {
    let a = open;
    // Suppression follows the signals: a raise that names a suppression (or whose device is
    // suppressed) suppresses the alert; a raise with neither means the reason has gone, which
    // errs on the side of telling people rather than keeping a fire alarm quiet.
    const suppressedBy = signal.suppressedBy ?? this.deviceSuppressions.get(a.source.deviceId) ?? null;
    if (suppressedBy !== null && a.suppressedBy === null) a = this.suppressAlert(a, suppressedBy, now, out);
    a = a.clearedAt === null ? this.repeat(a, signal, now, out) : this.reactivate(a, signal, now, out);
    if (suppressedBy === null && a.suppressedBy !== null) this.liftSuppression(a, now, out);
  }

  /** One active alert per (source, type): repeats update it and tell nobody (domain.md §4). */
  private repeat(a: Alert, signal: AlertSignal, now: number, out: AlertChange[]): Alert {
    const d: Draft = {
      ...a,
      count: a.count + 1,
      lastSeenAt: now,
      detail: signal.detail,
      attrs: signal.attrs !== undefined ? { ...signal.attrs } : a.attrs,
      latched: a.latched || signal.latched === true,
    };
    if (a.verification === 'verifying' && signal.verification === 'confirmed') {
      // Confirmation starts the escalation clock now, unless the verification hold already did.
      d.verification = 'confirmed';
      d.nextEscalationAt = this.reschedule(a, d, now);
      const notify = this.mayNotify(d) ? [intent(d, 'captain', 'confirmed')] : [];
      return this.record(d, 'confirmed', SYSTEM, signal.detail, now, notify, out);
    }
    return this.record(d, 'repeated', SYSTEM, null, now, [], out);
  }

  /**
   * A return to alarm of an open alert whose condition had cleared. If nobody has acknowledged it
   * since it was raised (returned_unack, or latched and unacknowledged) it is the same episode:
   * it goes back to active_unack and its escalation keeps running. If it had been acknowledged
   * (latched awaiting reset, or kept open by a shelve/disablement) it is a new activation
   * (ISA-18.2): unacknowledged again, escalation from the start.
   */
  private reactivate(a: Alert, signal: AlertSignal, now: number, out: AlertChange[]): Alert {
    const sameEpisode = a.acknowledgedAt === null;
    const d: Draft = {
      ...a,
      state: 'active_unack',
      clearedAt: null,
      count: a.count + 1,
      lastSeenAt: now,
      detail: signal.detail,
      attrs: signal.attrs !== undefined ? { ...signal.attrs } : a.attrs,
      latched: a.latched || signal.latched === true,
      verification: signal.verification ?? null,
    };
    if (sameEpisode) {
      d.nextEscalationAt = a.nextEscalationAt !== null ? this.reschedule(a, d) : this.startClock(d, now);
    } else {
      d.acknowledgedAt = null;
      d.acknowledgedBy = null;
      d.escalationLevel = 0;
      d.nextEscalationAt = this.startClock(d, now);
    }
    const chattering = this.chatter.activate(sourceKey(a.source.deviceId, a.type), now);
    const notify = this.mayNotify(d) && (!chattering || isLifeSafety(d)) ? [intent(d, 'captain', 'raised')] : [];
    const why = sameEpisode ? 'returned to alarm before anyone acknowledged it' : 'returned to alarm after it had cleared: a new activation';
    const next = this.record(d, 'reactivated', SYSTEM, `${why}: ${signal.detail}`, now, notify, out);
    return this.flagChattering(next, chattering, now, out);
  }

  private clearCondition(a: Alert, signal: AlertSignal, now: number, out: AlertChange[]): void {
    if (a.clearedAt !== null) return; // already clear: a repeated clear changes nothing
    const d: Draft = { ...a, clearedAt: now };
    const detail = typeof signal.detail === 'string' && signal.detail !== '' ? signal.detail : 'condition cleared';
    if (a.latched) {
      d.nextEscalationAt = this.reschedule(a, d);
      this.record(d, 'cleared', SYSTEM, `${detail} (latched: stays active until reset)`, now, [], out);
    } else if (a.state === 'active_unack') {
      d.state = 'returned_unack';
      d.nextEscalationAt = this.reschedule(a, d);
      // The captain was told it started; tell them it stopped, unless the source is chattering or
      // the condition was momentary (a one-off event such as duress or an illegal login clears in the
      // same instant it is raised: "it stopped" would read as "all clear" a second after the alarm).
      const momentary = now === a.lastSeenAt;
      const notify = this.mayNotify(d) && !momentary && (!d.chattering || isLifeSafety(d)) ? [intent(d, 'captain', 'cleared')] : [];
      this.record(d, 'returned', SYSTEM, detail, now, notify, out);
    } else {
      d.state = 'normal';
      d.nextEscalationAt = null;
      closeIfDone(d, now);
      this.record(d, 'cleared', SYSTEM, detail, now, [], out);
    }
  }

  private suppressAlert(a: Alert, by: string, now: number, out: AlertChange[]): Alert {
    return this.record({ ...a, suppressedBy: by, nextEscalationAt: null }, 'suppressed', SYSTEM, `suppressed by ${by}`, now, [], out);
  }

  private liftSuppression(a: Alert, now: number, out: AlertChange[]): AlertChange {
    return this.leaveSideState(a, { suppressedBy: null }, 'unsuppressed', SYSTEM, `was suppressed by ${a.suppressedBy}`, now, out);
  }

  /** Leaves shelved / disabled / suppressed; if no side state remains, re-evaluates the condition. */
  private leaveSideState(a: Alert, patch: Partial<Draft>, event: string, actor: string, note: string | null, now: number, out: AlertChange[] = []): AlertChange {
    const d: Draft = { ...a, ...patch };
    let notify: NotificationIntent[] = [];
    let outcome: string | null = null;
    if (!isMuted(d)) ({ notify, outcome } = this.reevaluate(d, now));
    const text = [note, outcome].filter((s): s is string => s !== null).join('; ');
    this.record(d, event, actor, text === '' ? null : text, now, notify, out);
    return out[out.length - 1]!;
  }

  /**
   * ISA-18.2: on leaving shelved / suppressed / out of service the alert is re-evaluated as if it
   * had just been seen. Still active: announced again as unacknowledged, escalation from the
   * start. Cleared and already back to normal: closed. Cleared but still open (returned_unack,
   * latched awaiting reset): stays, and escalates again while unacknowledged.
   */
  private reevaluate(d: Draft, now: number): { notify: NotificationIntent[]; outcome: string } {
    if (d.state === 'normal') {
      d.nextEscalationAt = null;
      closeIfDone(d, now);
      return { notify: [], outcome: 'condition had cleared: closed' };
    }
    d.escalationLevel = 0;
    if (d.clearedAt === null) {
      d.state = 'active_unack';
      d.acknowledgedAt = null;
      d.acknowledgedBy = null;
      d.nextEscalationAt = this.startClock(d, now);
      return { notify: d.signalClass === 'info' ? [] : [intent(d, 'captain', 'raised')], outcome: 'condition still active: announced again' };
    }
    d.nextEscalationAt = this.startClock(d, now);
    return { notify: [], outcome: 'condition has cleared' };
  }

  private escalate(a: Alert, now: number, out: AlertChange[]): void {
    const plan = this.planOf(a);
    const step = nextLiveStep(plan, a);
    if (step === undefined || a.nextEscalationAt === null) {
      // Nothing left to do (e.g. the policy changed across a restart): stop quietly.
      this.put({ ...a, nextEscalationAt: null });
      return;
    }
    const start = a.nextEscalationAt - step.afterS * MS;
    const d: Draft = { ...a, escalationLevel: step.level };
    const next = nextLiveStep(plan, d);
    d.nextEscalationAt = next === undefined ? null : start + next.afterS * MS;
    const audience = ESCALATION_AUDIENCE[step.level];
    const why = step.until === 'acknowledged' ? `not acknowledged within ${step.afterS} s` : `unresolved after ${step.afterS} s`;
    // Level 3: a grid case is due; the case engine opens it from this change, the street office is told.
    const event = step.level === 3 ? 'case_due' : 'escalated';
    this.record(d, event, SYSTEM, `${why}: ${audience} told`, now, [intent(d, audience, 'escalated')], out);
  }

  private sendDigest(digest: PendingDigest, now: number, out: AlertChange[]): void {
    // Only alerts still waiting for somebody: acknowledged, closed or muted ones need no notice.
    const waiting = digest.alertIds
      .map((id) => this.alerts.get(id))
      .filter((a): a is Alert => a !== undefined && a.acknowledgedAt === null && !isMuted(a));
    const [first, ...rest] = waiting;
    if (first === undefined) return;
    const digestIntent: NotificationIntent = { ...intent(first, 'captain', 'digest'), lifeSafety: false, relatedAlertIds: rest.map((a) => a.id) };
    const note = `flood: ${waiting.length} alerts in building ${digest.buildingId} summarised in one notification`;
    this.record({ ...first }, 'digest', SYSTEM, note, now, [digestIntent], out);
    for (const a of rest) this.record({ ...a }, 'digest', SYSTEM, `summarised in the digest sent with alert ${first.id}`, now, [], out);
  }

  private flagChattering(a: Alert, chattering: boolean, now: number, out: AlertChange[]): Alert {
    if (chattering === a.chattering) return a;
    const note = chattering
      ? `${this.chatterThreshold} or more activations within ${this.chatterWindowS} s${isLifeSafety(a) ? '' : ': further activations are recorded, not notified'}`
      : `fewer than ${this.chatterThreshold} activations within ${this.chatterWindowS} s`;
    return this.record({ ...a, chattering }, chattering ? 'chattering' : 'chattering_ended', SYSTEM, note, now, [], out);
  }

  // -------------------------------------------------------------------------------------------
  // Escalation clock

  private planOf(a: Alert): EscalationPlan {
    return escalationPlanFor(this.policy, a);
  }

  /** Starts the escalation clock now (a verifying alarm waits for confirmation or the hold). */
  private startClock(d: Alert, now: number): number | null {
    if (isMuted(d)) return null;
    const step = nextLiveStep(this.planOf(d), d);
    if (step === undefined) return null;
    const start = d.verification === 'verifying' && d.clearedAt === null ? now + this.verificationHoldMs : now;
    return start + step.afterS * MS;
  }

  /**
   * The next due time after a change, on the same clock: the clock's start is recovered from the
   * step `before` was waiting for. `latestStart` moves the start earlier (a confirmation).
   */
  private reschedule(before: Alert, after: Alert, latestStart = Number.POSITIVE_INFINITY): number | null {
    if (isMuted(after) || before.nextEscalationAt === null) return null;
    const plan = this.planOf(after);
    const waitingFor = nextLiveStep(plan, before);
    if (waitingFor === undefined) return null;
    const start = Math.min(before.nextEscalationAt - waitingFor.afterS * MS, latestStart);
    const next = nextLiveStep(plan, after);
    return next === undefined ? null : start + next.afterS * MS;
  }

  // -------------------------------------------------------------------------------------------
  // Bookkeeping

  private mayNotify(a: Alert): boolean {
    // Info is audit only (domain.md §2): it may be recorded as an alert but tells nobody.
    return !isMuted(a) && a.signalClass !== 'info';
  }

  private record(
    d: Draft,
    event: string,
    actor: string,
    note: string | null,
    now: number,
    notify: NotificationIntent[],
    out: AlertChange[],
  ): Alert {
    const next = withHistory(d, { at: now, event, actor, note }, this.historyLimit);
    this.put(next);
    out.push({ alert: next, event, notify });
    return next;
  }

  private single(d: Draft, event: string, actor: string, note: string | null, now: number, notify: NotificationIntent[]): AlertChange {
    const out: AlertChange[] = [];
    this.record(d, event, actor, note, now, notify, out);
    return out[0]!;
  }

  private put(a: Alert): void {
    const key = sourceKey(a.source.deviceId, a.type);
    if (a.closedAt !== null) {
      this.alerts.delete(a.id);
      if (this.idBySource.get(key) === a.id) this.idBySource.delete(key);
      return;
    }
    this.alerts.set(a.id, a);
    this.idBySource.set(key, a.id);
  }

  private alertsOf(deviceId: string): Alert[] {
    return this.open().filter((a) => a.source.deviceId === deviceId);
  }

  private mustGet(id: string, actor: string, now: number): Alert {
    checkText('actor', actor);
    checkTime(now);
    const a = this.alerts.get(id);
    if (a === undefined) throw new AlertActionError('not_found', `no open alert '${id}'`);
    return a;
  }

  /**
   * Rebuilds the in-memory side of an alert restored from storage: chattering windows from its
   * activation history, flood counts and any digest it was still waiting for.
   */
  private restore(stored: Alert): void {
    if (stored.closedAt !== null) return;
    const a: Alert = { ...stored, historyDropped: stored.historyDropped ?? 0 };
    this.put(a);
    const key = sourceKey(a.source.deviceId, a.type);
    this.chatter.seed(key, a.history.filter((h) => ACTIVATIONS.has(h.event)).map((h) => h.at));
    if (a.signalClass !== 'info') this.flood.seedCount(a.source.buildingId, a.raisedAt);
    const heldAt = lastIndexOf(a.history, 'flood_held');
    if (heldAt >= 0 && !a.history.slice(heldAt + 1).some((h) => h.event === 'digest')) {
      this.flood.seedHeld(a.source.buildingId, a.id, a.history[heldAt]!.at);
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** What an alert has due at or before `now`; expiries rank before escalation at the same time. */
function dueItems(a: Alert, now: number): Due[] {
  const items: Due[] = [];
  const add = (at: number | null, rank: number, kind: Due['kind']): void => {
    if (at !== null && at <= now) items.push({ at, rank, kind, alertId: a.id });
  };
  add(a.shelvedUntil, 0, 'unshelve');
  add(a.disabled?.until ?? null, 0, 'enable');
  add(a.nextEscalationAt, 1, 'escalate');
  return items;
}

function stillDue(a: Alert, due: Due): boolean {
  if (due.kind === 'unshelve') return a.shelvedUntil === due.at;
  if (due.kind === 'enable') return a.disabled?.until === due.at;
  return a.nextEscalationAt === due.at;
}

/** Due items in order of time, then rank, then alert id (deterministic across restarts). */
class DueQueue {
  /** Sorted latest first, so the earliest is popped from the end. */
  private readonly items: Due[] = [];

  add(item: Due): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareDue(this.items[mid]!, item) > 0) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
  }

  addAll(items: readonly Due[]): void {
    for (const item of items) this.add(item);
  }

  next(): Due | undefined {
    return this.items.pop();
  }
}

function compareDue(a: Due, b: Due): number {
  return a.at - b.at || a.rank - b.rank || (a.alertId < b.alertId ? -1 : a.alertId > b.alertId ? 1 : 0);
}

function sourceKey(deviceId: string, type: string): string {
  return `${deviceId}\u0000${type}`;
}

function isMuted(a: Alert): boolean {
  return a.shelvedUntil !== null || a.disabled !== null || a.suppressedBy !== null;
}

/** Alarm class takes the life-safety lane: never digested, never silenced by chattering. */
function isLifeSafety(a: Alert): boolean {
  return a.signalClass === 'alarm';
}

/**
 * An alert back to normal closes, unless an operator's shelve or disablement still holds it: those
 * belong to the source, so the book keeps the alert (in state normal) to catch the next raise.
 */
function closeIfDone(d: Draft, now: number): void {
  if (d.state === 'normal' && d.shelvedUntil === null && d.disabled === null) d.closedAt = now;
}

function intent(a: Alert, audience: NotificationIntent['audience'], reason: NotificationIntent['reason']): NotificationIntent {
  return { alertId: a.id, audience, reason, lifeSafety: isLifeSafety(a) };
}

/** Appends an entry, keeping at most `limit`: the first ('raised') stays, the oldest after it go. */
function withHistory(d: Draft, entry: AlertHistoryEntry, limit: number): Alert {
  let history = [...d.history, entry];
  let dropped = d.historyDropped ?? 0;
  if (history.length > limit) {
    const excess = history.length - limit;
    history = [history[0]!, ...history.slice(1 + excess)];
    dropped += excess;
  }
  return { ...d, history, historyDropped: dropped };
}

function lastIndexOf(history: readonly AlertHistoryEntry[], event: string): number {
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.event === event) return i;
  return -1;
}

function checkTime(now: number): void {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new AlertActionError('invalid_argument', 'now must be a finite epoch-millisecond time');
}

function checkText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') throw new AlertActionError('invalid_argument', `${name} is required`);
}

function checkSignal(s: AlertSignal): void {
  if (s === null || typeof s !== 'object') throw new AlertActionError('invalid_argument', 'signal must be an object');
  if (s.action !== 'raise' && s.action !== 'clear') throw new AlertActionError('invalid_argument', "signal.action must be 'raise' or 'clear'");
  if (s.source === null || typeof s.source !== 'object') throw new AlertActionError('invalid_argument', 'signal.source is required');
  checkText('signal.source.deviceId', s.source.deviceId);
  checkText('signal.source.buildingId', s.source.buildingId);
  checkText('signal.type', s.type);
  if (!SIGNAL_CLASSES.includes(s.signalClass)) throw new AlertActionError('invalid_argument', `signal.signalClass must be one of ${SIGNAL_CLASSES.join(', ')}`);
  if (s.action === 'raise') {
    if (typeof s.title !== 'string' || typeof s.titleZh !== 'string' || typeof s.detail !== 'string') {
      throw new AlertActionError('invalid_argument', 'a raise needs title, titleZh and detail');
    }
    if (s.verification !== undefined && s.verification !== 'verifying' && s.verification !== 'confirmed') {
      throw new AlertActionError('invalid_argument', "signal.verification must be 'verifying' or 'confirmed'");
    }
  }
}
