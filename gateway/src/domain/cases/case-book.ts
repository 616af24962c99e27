/**
 * The case book: the grid cases that still need someone (plus recently closed ones, which an
 * alert may reopen), every transition between their states, the SLA deadlines of each step and
 * their overdue escalation. Pure: callers pass `now`; it returns CaseChanges (one per history
 * entry) with the notices they call for, and the app saves and sends them.
 */
import type { AlertChange } from '../alerts/types.js';
import type { BusinessCalendar } from './calendar.js';
import { TRANSITIONS, roleMayTake } from './lifecycle.js';
import { ruleFor, slaFor, type CasePolicy, type CaseRule } from './policy.js';
import {
  CASE_STEPS,
  CLOSED_STATES,
  FINAL_STATES,
  CaseActionError,
  SYSTEM_ACTOR,
  type CaseActor,
  type CaseAudience,
  type CaseChange,
  type CaseDeadlines,
  type CaseNotice,
  type CasePlace,
  type CaseState,
  type CaseStep,
  type CaseTransitionRequest,
  type GridCase,
  type NewCaseInput,
  type StepDeadline,
} from './types.js';

export interface CaseBookOptions {
  readonly policy: CasePolicy;
  readonly calendar: BusinessCalendar;
  readonly newId: () => string;
  /** A unique human-readable code for a case opened at this time ('GW-20261126-0001'). */
  readonly newCode: (openedAt: number) => string;
  /** The person a case in this place is dispatched to by default (the grid worker), or null. */
  readonly assigneeFor: (place: CasePlace) => string | null;
  /** Cases to resume with: the open ones and those closed within the reopen window. */
  readonly cases?: readonly GridCase[];
}

export const NOTE_MAX = 1000;
export const EVIDENCE_MAX_ITEMS = 20;
export const EVIDENCE_MAX_LENGTH = 500;
const TITLE_MAX = 200;
const DESCRIPTION_MAX = 2000;
const CATEGORY_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** Actions that must say why. */
const NOTE_REQUIRED: ReadonlySet<string> = new Set(['cancel', 'return', 'rework', 'park', 'request_extension', 'reject_extension']);

interface Entry {
  readonly action: string;
  readonly actor: CaseActor;
  readonly to?: CaseState;
  readonly note?: string | null;
  readonly evidence?: readonly string[];
}

export class CaseBook {
  private readonly cases = new Map<string, GridCase>();

  constructor(private readonly o: CaseBookOptions) {
    for (const c of o.cases ?? []) if (c.state !== 'cancelled') this.cases.set(c.id, c);
  }

  get(id: string): GridCase | undefined {
    return this.cases.get(id);
  }

  /** Cases held: open ones and those closed within the reopen window. */
  held(): GridCase[] {
    return [...this.cases.values()];
  }

  /**
   * Opens, links or reopens a case for an alert change, per the policy: a new alert ('raised') of
   * an alarm type, or any alert whose escalation reached 'case_due'. Other changes do nothing.
   */
  onAlertChange(change: AlertChange, place: CasePlace, now: number): CaseChange[] {
    const event = change.event === 'raised' || change.event === 'case_due' ? change.event : null;
    if (event === null) return [];
    const alert = change.alert;
    const rule = ruleFor(this.o.policy, alert, event);
    if (rule === undefined) return [];
    // One alert, one case: a case_due for an alert that already has its case changes nothing.
    for (const c of this.cases.values()) if (c.alertIds.includes(alert.id)) return [];

    const evidence = [`alert:${alert.id}`];
    const open = this.latest((c) => !FINAL_STATES.has(c.state) && c.buildingId === alert.source.buildingId && c.category === rule.category && (c.lastAlertAt ?? c.openedAt) >= now - this.o.policy.linkWindowMs);
    if (open !== undefined) {
      const linked = this.apply(open, { action: 'linked', actor: SYSTEM_ACTOR, note: `${alert.type}: ${alert.detail}`.slice(0, NOTE_MAX), evidence }, { alertIds: [...open.alertIds, alert.id], lastAlertAt: now }, now);
      this.cases.set(linked.id, linked);
      return [this.change(linked, 'linked', [])];
    }
    const closed = this.latest((c) => CLOSED_STATES.has(c.state) && c.buildingId === alert.source.buildingId && c.category === rule.category && (c.times.closed ?? 0) >= now - this.o.policy.reopenWindowMs);
    if (closed !== undefined) return [this.reopen(closed, alert.id, `${alert.type}: ${alert.detail}`, now)];
    return this.openFromAlert(rule, change, place, now);
  }

  /** A case reported by a person (上报): it starts at 'reported' and walks every step. */
  open(input: NewCaseInput, actor: CaseActor, now: number): CaseChange[] {
    if (actor.role === 'system' || !['grid_worker', 'community_staff', 'street_dispatcher', 'admin'].includes(actor.role)) {
      throw new CaseActionError('forbidden_role', `role '${actor.role}' may not report a case`);
    }
    if (!CATEGORY_PATTERN.test(input.category)) throw invalid(`category '${input.category}' must be lower-case letters, digits and underscores`);
    if (input.title.trim() === '' || input.title.length > TITLE_MAX) throw invalid(`title must be 1–${TITLE_MAX} characters`);
    if (input.description.length > DESCRIPTION_MAX) throw invalid(`description must be at most ${DESCRIPTION_MAX} characters`);
    const evidence = checkEvidence(input.evidence ?? []);
    const c = this.newCase(input.place, { category: input.category, urgency: input.urgency, title: input.title, description: input.description, source: 'manual', alertIds: [...(input.alertIds ?? [])], lastAlertAt: null }, now);
    const opened = this.apply(c, { action: 'opened', actor, to: 'reported', note: null, evidence }, {}, now);
    this.cases.set(opened.id, opened);
    return [this.change(opened, 'opened', [])];
  }

  /** One action of the transition table, as `actor`. Throws CaseActionError and changes nothing when refused. */
  act(id: string, request: CaseTransitionRequest, actor: CaseActor, now: number): CaseChange[] {
    const c = this.cases.get(id);
    if (c === undefined) throw new CaseActionError('not_found', `case '${id}' is not open`);
    const action = request.action;
    const rule = TRANSITIONS[action];
    if (rule === undefined) throw invalid(`unknown action '${String(action)}'`);
    if (!roleMayTake(actor.role, action)) {
      throw new CaseActionError('forbidden_role', `role '${actor.role}' may not ${action} a case (allowed: ${rule.roles.join(', ')})`);
    }
    if (c.parked !== null && action !== 'resume') throw new CaseActionError('invalid_transition', `case ${c.code} is parked (挂账); resume it first`);
    if (action === 'resume' && c.parked === null) throw new CaseActionError('invalid_transition', `case ${c.code} is not parked`);
    if (!rule.from.includes(c.state)) {
      throw new CaseActionError('invalid_transition', `case ${c.code} is '${c.state}'; '${action}' needs ${rule.from.map((s) => `'${s}'`).join(' or ')}`);
    }
    const note = request.note ?? null;
    if (note !== null && (note.trim() === '' || note.length > NOTE_MAX)) throw invalid(`note must be 1–${NOTE_MAX} characters`);
    if (NOTE_REQUIRED.has(action) && note === null) throw invalid(`'${action}' needs a note saying why`);
    const evidence = checkEvidence(request.evidence ?? []);
    const entry: Entry = { action, actor, note, evidence, ...(rule.to === null ? {} : { to: rule.to }) };
    const next = this.transition(c, entry, request, now);
    if (FINAL_STATES.has(next.case.state) && !CLOSED_STATES.has(next.case.state)) this.cases.delete(id);
    return [next];
  }

  /**
   * Fires every overdue rung that has come due (a late tick fires them all, in order), and forgets
   * closed cases past the reopen window.
   */
  tick(now: number): CaseChange[] {
    const changes: CaseChange[] = [];
    for (const c of [...this.cases.values()]) {
      if (FINAL_STATES.has(c.state)) {
        if ((c.times.closed ?? c.updatedAt) + this.o.policy.reopenWindowMs < now) this.cases.delete(c.id);
        continue;
      }
      if (c.parked !== null) continue;
      let current = c;
      for (const step of CASE_STEPS) {
        let d = current.deadlines[step];
        while (d !== null && d.metAt === null && d.nextEscalationAt !== null && d.nextEscalationAt <= now) {
          const level = d.overdueLevel + 1;
          const audience = this.o.policy.ladders[step][level - 1] ?? 'street';
          d = { ...d, overdueLevel: level, nextEscalationAt: this.escalationAt(d, current.urgency, step, level) };
          current = this.apply(
            current,
            { action: level === 1 ? 'overdue' : 'overdue_escalated', actor: SYSTEM_ACTOR, note: `${step} was due ${new Date(d.dueAt).toISOString()}; told ${audience}` },
            { deadlines: { ...current.deadlines, [step]: d }, counters: { ...current.counters, overdueCount: current.counters.overdueCount + 1 } },
            now,
          );
          changes.push(this.change(current, level === 1 ? 'overdue' : 'overdue_escalated', [this.notice(current, audience, 'overdue', step)]));
        }
      }
      if (current !== c) this.cases.set(current.id, current);
    }
    return changes;
  }

  /** The earliest time tick() has something to do, or null. */
  nextWakeAt(): number | null {
    let next: number | null = null;
    for (const c of this.cases.values()) {
      if (FINAL_STATES.has(c.state) || c.parked !== null) continue;
      for (const step of CASE_STEPS) {
        const at = c.deadlines[step]?.nextEscalationAt ?? null;
        if (at !== null && (next === null || at < next)) next = at;
      }
    }
    return next;
  }

  // ---- internals ----------------------------------------------------------------------------

  private latest(match: (c: GridCase) => boolean): GridCase | undefined {
    let found: GridCase | undefined;
    for (const c of this.cases.values()) if (match(c) && (found === undefined || c.openedAt > found.openedAt)) found = c;
    return found;
  }

  private openFromAlert(rule: CaseRule, change: AlertChange, place: CasePlace, now: number): CaseChange[] {
    const alert = change.alert;
    const evidence = [`alert:${alert.id}`];
    let c = this.newCase(place, { category: rule.category, urgency: rule.urgency, title: `${alert.title} (${alert.titleZh})`, description: alert.detail, source: 'sensor', alertIds: [alert.id], lastAlertAt: now }, now);
    const changes: CaseChange[] = [];
    const step = (entry: Entry, notify: CaseNotice[] = []) => {
      c = this.apply(c, entry, {}, now);
      changes.push(this.change(c, entry.action, notify));
    };
    // A sensor alarm is its own evidence (domain.md §5): reported and verifying pass at once.
    step({ action: 'opened', actor: SYSTEM_ACTOR, to: 'reported', note: `opened from alert ${alert.type} (${change.event})`, evidence });
    step({ action: 'verify', actor: SYSTEM_ACTOR, to: 'verifying', note: 'sensor evidence', evidence });
    if (rule.autoDispatch) {
      step({ action: 'register', actor: SYSTEM_ACTOR, to: 'registered', note: null });
      const dispatched = this.transition(c, { action: 'dispatch', actor: SYSTEM_ACTOR, to: 'dispatched', note: 'dispatched automatically to the grid worker' }, { action: 'dispatch' }, now);
      c = dispatched.case;
      changes.push(dispatched);
    } else {
      // Registered, waiting for a dispatcher: the dispatchers hear of it.
      step({ action: 'register', actor: SYSTEM_ACTOR, to: 'registered', note: null }, [this.notice(c, 'community', 'registered')]);
    }
    this.cases.set(c.id, c);
    return changes;
  }

  private newCase(place: CasePlace, fields: Pick<GridCase, 'category' | 'urgency' | 'title' | 'description' | 'source' | 'alertIds' | 'lastAlertAt'>, now: number): GridCase {
    const deadlines: CaseDeadlines = { dispatch: null, accept: null, handle: null, check: null };
    const draft: GridCase = {
      id: this.o.newId(),
      code: this.o.newCode(now),
      state: 'reported',
      ...fields,
      buildingId: place.buildingId,
      gridId: place.gridId,
      communityId: place.communityId,
      streetId: place.streetId,
      assignee: null,
      openedAt: now,
      times: {},
      disposal: null,
      deadlines,
      dueAt: null,
      extension: null,
      parked: null,
      counters: { returnCount: 0, reworkCount: 0, reopenCount: 0, extensionCount: 0, overdueCount: 0 },
      history: [],
      updatedAt: now,
    };
    // Register and dispatch are one clock from the report (domain.md §5: "within 10 / 30 min").
    return { ...draft, deadlines: { ...deadlines, dispatch: this.deadline(draft, 'dispatch', now) } };
  }

  private reopen(c: GridCase, alertId: string, detail: string, now: number): CaseChange {
    const reopened = this.apply(
      c,
      { action: 'reopened', actor: SYSTEM_ACTOR, to: 'rework', note: `re-fired within ${Math.round(this.o.policy.reopenWindowMs / 60_000)} min of closing: ${detail}`.slice(0, NOTE_MAX), evidence: [`alert:${alertId}`] },
      {
        alertIds: [...c.alertIds, alertId],
        lastAlertAt: now,
        counters: { ...c.counters, reopenCount: c.counters.reopenCount + 1 },
        deadlines: { ...c.deadlines, handle: this.deadline(c, 'handle', now), check: null },
      },
      now,
    );
    this.cases.set(reopened.id, reopened);
    return this.change(reopened, 'reopened', [this.notice(reopened, 'grid_worker', 'reopened')]);
  }

  /** One table action on a held case; validation has been done. */
  private transition(c: GridCase, entry: Entry, request: CaseTransitionRequest, now: number): CaseChange {
    const d = c.deadlines;
    const save = (patch: Partial<GridCase>, notify: CaseNotice[] = []): CaseChange => {
      const next = this.apply(c, entry, patch, now);
      this.cases.set(next.id, next);
      return this.change(next, entry.action, notify.map((n) => ({ ...n, caseId: next.id })));
    };
    switch (request.action) {
      case 'verify':
      case 'register':
      case 'check':
      case 'start':
      case 'evaluate':
        return save({});
      case 'cancel':
        return save({ deadlines: voidAll(d) });
      case 'dispatch': {
        const assignee = request.assignee ?? c.assignee ?? this.o.assigneeFor(placeOf(c));
        // The disposal clock starts at the first dispatch; a return and re-dispatch does not restart it.
        const handle = d.handle ?? this.deadline(c, 'handle', now);
        const next = { ...c, assignee };
        return save(
          { assignee, deadlines: { ...d, dispatch: met(d.dispatch, now), accept: this.deadline(c, 'accept', now), handle }, dueAt: c.dueAt ?? this.dueAfter(c, handle.dueAt) },
          [this.notice(next, 'grid_worker', 'dispatched')],
        );
      }
      case 'accept':
        return save({ deadlines: { ...d, accept: met(d.accept, now) } });
      case 'return':
        return save(
          { assignee: null, counters: { ...c.counters, returnCount: c.counters.returnCount + 1 }, deadlines: { ...d, accept: null, dispatch: this.deadline(c, 'dispatch', now) } },
          [this.notice(c, 'community', 'returned')],
        );
      case 'feedback': {
        const disposal = c.disposal ?? { at: now, onTime: d.handle === null || now <= d.handle.dueAt };
        return save({ disposal, deadlines: { ...d, handle: met(d.handle, now), check: this.deadline(c, 'check', now) } }, [this.notice(c, 'community', 'feedback')]);
      }
      case 'close':
        return save({ deadlines: { ...d, check: met(d.check, now) } });
      case 'rework':
        return save(
          { counters: { ...c.counters, reworkCount: c.counters.reworkCount + 1 }, deadlines: { ...d, check: met(d.check, now), handle: this.deadline(c, 'handle', now) } },
          [this.notice(c, 'grid_worker', 'rework')],
        );
      case 'request_extension': {
        const until = request.extendUntil;
        if (until === undefined || !Number.isFinite(until)) throw invalid("'request_extension' needs extendUntil");
        const current = d.handle?.dueAt ?? now;
        if (until <= Math.max(now, current)) throw invalid(`extendUntil must be later than the current disposal deadline ${new Date(current).toISOString()} and now`);
        if (c.extension !== null && c.extension.approved === null) throw new CaseActionError('invalid_transition', `case ${c.code} already has an extension request waiting for a decision`);
        return save(
          { extension: { requestedAt: now, by: entry.actor.id, reason: entry.note ?? '', until, approved: null, decidedAt: null, decidedBy: null } },
          [this.notice(c, 'community', 'extension_requested')],
        );
      }
      case 'approve_extension':
      case 'reject_extension': {
        const ext = c.extension;
        if (ext === null || ext.approved !== null) throw new CaseActionError('invalid_transition', `case ${c.code} has no extension request waiting for a decision`);
        const approved = request.action === 'approve_extension';
        const decided = { ...ext, approved, decidedAt: now, decidedBy: entry.actor.id };
        if (!approved) return save({ extension: decided }, [this.notice(c, 'grid_worker', 'extension_decided')]);
        // The dispatcher's approval moves the disposal deadline and with it the case's due time.
        const handle: StepDeadline = { ...(d.handle ?? this.deadline(c, 'handle', now)), dueAt: ext.until, metAt: null, overdueLevel: 0, nextEscalationAt: ext.until };
        return save(
          { extension: decided, deadlines: { ...d, handle }, dueAt: this.dueAfter(c, ext.until), counters: { ...c.counters, extensionCount: c.counters.extensionCount + 1 } },
          [this.notice(c, 'grid_worker', 'extension_decided')],
        );
      }
      case 'park': {
        // 挂账: the SLA clocks stop; what was left of each running step is kept for the resume.
        const remaining: Partial<Record<CaseStep, number>> = {};
        const frozen: Record<CaseStep, StepDeadline | null> = { ...d };
        for (const step of CASE_STEPS) {
          const s = d[step];
          if (s === null || s.metAt !== null) continue;
          remaining[step] = Math.max(0, this.o.calendar.between(now, s.dueAt, s.basis));
          frozen[step] = { ...s, nextEscalationAt: null };
        }
        return save({ parked: { at: now, by: entry.actor.id, reason: entry.note ?? '', remaining }, deadlines: frozen });
      }
      case 'resume': {
        const parked = c.parked;
        const resumed: Record<CaseStep, StepDeadline | null> = { ...d };
        for (const step of CASE_STEPS) {
          const s = d[step];
          const left = parked?.remaining[step];
          if (s === null || s.metAt !== null || left === undefined) continue;
          const moved = { ...s, dueAt: this.o.calendar.add(now, left, s.basis) };
          resumed[step] = { ...moved, nextEscalationAt: this.escalationAt(moved, c.urgency, step, s.overdueLevel) };
        }
        const handle = resumed.handle;
        const dueAt = handle !== null && parked?.remaining.handle !== undefined ? this.dueAfter(c, handle.dueAt) : c.dueAt;
        return save({ parked: null, deadlines: resumed, dueAt });
      }
    }
  }

  private deadline(c: Pick<GridCase, 'category' | 'urgency'>, step: CaseStep, now: number): StepDeadline {
    const sla = slaFor(this.o.policy, c.category, c.urgency, step);
    const dueAt = this.o.calendar.add(now, sla.minutes, sla.basis);
    return { startedAt: now, dueAt, basis: sla.basis, metAt: null, overdueLevel: 0, nextEscalationAt: dueAt };
  }

  /** 应结时间: the disposal deadline plus the check allowance. */
  private dueAfter(c: Pick<GridCase, 'category' | 'urgency'>, handleDueAt: number): number {
    const check = slaFor(this.o.policy, c.category, c.urgency, 'check');
    return this.o.calendar.add(handleDueAt, check.minutes, check.basis);
  }

  /** When rung `level` (0-based: 0 is the deadline) of a step's ladder fires, or null past the top. */
  private escalationAt(d: StepDeadline, urgency: GridCase['urgency'], step: CaseStep, level: number): number | null {
    const offsets = this.o.policy.escalation[urgency];
    const rungs = Math.min(offsets.length, this.o.policy.ladders[step].length);
    if (level >= rungs) return null;
    return this.o.calendar.add(d.dueAt, offsets[level] ?? 0, d.basis);
  }

  private apply(c: GridCase, entry: Entry, patch: Partial<GridCase>, now: number): GridCase {
    const to = entry.to ?? c.state;
    const moved = to !== c.state || c.history.length === 0;
    return {
      ...c,
      ...patch,
      state: to,
      times: moved ? { ...c.times, [to]: now } : c.times,
      history: [
        ...c.history,
        {
          at: now,
          action: entry.action,
          actor: entry.actor.id,
          role: entry.actor.role,
          from: c.history.length === 0 ? null : c.state,
          to,
          note: entry.note ?? null,
          evidence: [...(entry.evidence ?? [])],
        },
      ],
      updatedAt: now,
    };
  }

  private notice(c: GridCase, audience: CaseAudience, reason: CaseNotice['reason'], step?: CaseStep): CaseNotice {
    return { caseId: c.id, audience, personId: audience === 'grid_worker' ? c.assignee : null, reason, lifeSafety: c.urgency === 'urgent', ...(step === undefined ? {} : { step }) };
  }

  private change(c: GridCase, action: string, notify: readonly CaseNotice[]): CaseChange {
    return { case: c, action, notify };
  }
}

function placeOf(c: GridCase): CasePlace {
  return { buildingId: c.buildingId, gridId: c.gridId, communityId: c.communityId, streetId: c.streetId };
}

function met(d: StepDeadline | null, now: number): StepDeadline | null {
  return d === null || d.metAt !== null ? d : { ...d, metAt: now, nextEscalationAt: null };
}

function voidAll(d: CaseDeadlines): CaseDeadlines {
  const out: Record<CaseStep, StepDeadline | null> = { ...d };
  for (const step of CASE_STEPS) if (out[step]?.metAt === null) out[step] = null;
  return out;
}

function invalid(message: string): CaseActionError {
  return new CaseActionError('invalid_argument', message);
}

/** Evidence is references (URLs, alert ids, hashes), never the file: a data: URI or a long blob is refused. */
export function checkEvidence(evidence: readonly string[]): string[] {
  if (evidence.length > EVIDENCE_MAX_ITEMS) throw invalid(`at most ${EVIDENCE_MAX_ITEMS} evidence references`);
  for (const e of evidence) {
    if (typeof e !== 'string' || e.trim() === '' || e.length > EVIDENCE_MAX_LENGTH) throw invalid(`evidence must be references of 1–${EVIDENCE_MAX_LENGTH} characters`);
    if (/^data:/i.test(e)) throw invalid('evidence must be a reference (URL, hash, id), not an embedded file');
  }
  return [...evidence];
}

/** 'GW-20261126-0001': the local date of opening and the sequence number of that day. */
export function caseCode(localDate: string, seq: number, prefix = 'GW'): string {
  return `${prefix}-${localDate.replaceAll('-', '')}-${String(seq).padStart(4, '0')}`;
}
