/**
 * The case policy: which alerts open cases and how, the SLA of each step per category and
 * urgency, and the overdue escalation ladder. Everything here is data with defaults from
 * domain.md §4–§5, configurable as a whole.
 */
import type { Alert } from '../alerts/types.js';
import type { CaseAudience, CaseStep, CaseUrgency, TimeBasis } from './types.js';

/** A duration on the clock or in working minutes of the business calendar. */
export interface SlaDuration {
  readonly minutes: number;
  readonly basis: TimeBasis;
}

/**
 * Which alerts open a case. `types` are alert types, exact or with a trailing `*`
 * ('heat.*' matches 'heat.alarm'); `kinds` narrows to source kinds. First match wins.
 */
export interface CaseRule {
  readonly types: readonly string[];
  readonly kinds?: readonly string[];
  readonly category: string;
  readonly urgency: CaseUrgency;
  /**
   * sensor evidence: the alarm itself is the verification, so reported and verifying pass at once
   * and the case starts registered; autoDispatch then dispatches it to the grid worker too.
   */
  readonly autoDispatch: boolean;
}

export interface CasePolicy {
  /** On a new alert ('raised'): life-safety and security alarms become cases at once. */
  readonly onRaised: readonly CaseRule[];
  /**
   * On an alert's 'case_due' (its escalation reached level 3 unresolved: trouble after 24 h,
   * unacknowledged alarms, …). Checked after onRaised, so a fire alarm's case_due finds the fire
   * case; the last rule should match everything.
   */
  readonly onCaseDue: readonly CaseRule[];
  /** Alerts of the same building and category this close to the case's last alert join it. */
  readonly linkWindowMs: number;
  /** An alert this soon after its case closed reopens the case into rework. */
  readonly reopenWindowMs: number;
  /** Step durations: `default` per urgency, then overrides per category. */
  readonly sla: {
    readonly default: Readonly<Record<CaseUrgency, Readonly<Record<CaseStep, SlaDuration>>>>;
    readonly byCategory: Readonly<Record<string, Partial<Readonly<Record<CaseUrgency, Partial<Readonly<Record<CaseStep, SlaDuration>>>>>>>>;
  };
  /**
   * Overdue ladder: rung n fires `offsets[n]` minutes (in the step's basis) after the deadline,
   * telling `audiences[n]`. Rung 0 is the deadline itself.
   */
  readonly escalation: Readonly<Record<CaseUrgency, readonly number[]>>;
  /** Who each rung tells, per step (dispatch is the dispatchers' own step, so it starts at community). */
  readonly ladders: Readonly<Record<CaseStep, readonly CaseAudience[]>>;
}

const clock = (minutes: number): SlaDuration => ({ minutes, basis: 'clock' });
const working = (minutes: number): SlaDuration => ({ minutes, basis: 'working' });

/** One working day with the default calendar (09:00–12:00, 13:30–18:00). */
export const WORKING_DAY_MINUTES = 450;

export const DEFAULT_CASE_POLICY: CasePolicy = {
  onRaised: [
    { types: ['smoke.alarm', 'heat.*', 'co.*', 'manual_call_point'], category: 'fire', urgency: 'urgent', autoDispatch: true },
    { types: ['door.forced_open'], category: 'security', urgency: 'normal', autoDispatch: true },
  ],
  onCaseDue: [
    { types: ['device.offline', 'video.loss'], kinds: ['camera'], category: 'camera_offline', urgency: 'normal', autoDispatch: false },
    { types: ['battery.low', 'end_of_life'], category: 'battery', urgency: 'normal', autoDispatch: false },
    { types: ['device.offline', 'mains.lost'], category: 'device_offline', urgency: 'normal', autoDispatch: false },
    { types: ['door.*', 'face.*', 'access.*', 'illegal_login'], category: 'security', urgency: 'normal', autoDispatch: false },
    { types: ['*'], category: 'equipment_fault', urgency: 'normal', autoDispatch: false },
  ],
  linkWindowMs: 2 * 3600_000,
  reopenWindowMs: 24 * 3600_000,
  sla: {
    default: {
      // Urgent hazards run on the wall clock: a fire at 02:00 on a Sunday cannot wait for Monday.
      urgent: { dispatch: clock(10), accept: clock(60), handle: clock(120), check: clock(60) },
      // Normal cases count working time (domain.md §5: "counted in working hours / working days").
      normal: { dispatch: working(30), accept: working(60), handle: working(WORKING_DAY_MINUTES), check: working(60) },
    },
    byCategory: {
      equipment_fault: { normal: { handle: working(WORKING_DAY_MINUTES) } },
      camera_offline: { normal: { handle: working(3 * WORKING_DAY_MINUTES) } },
      // A forced door is secured the same afternoon.
      security: { normal: { handle: working(120) } },
    },
  },
  escalation: { urgent: [0, 10, 30], normal: [0, 60, 240] },
  ladders: {
    dispatch: ['community', 'street'],
    accept: ['grid_worker', 'community', 'street'],
    handle: ['grid_worker', 'community', 'street'],
    check: ['community', 'street'],
  },
};

export function slaFor(policy: CasePolicy, category: string, urgency: CaseUrgency, step: CaseStep): SlaDuration {
  return policy.sla.byCategory[category]?.[urgency]?.[step] ?? policy.sla.default[urgency][step];
}

function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function ruleMatches(rule: CaseRule, alert: Pick<Alert, 'type' | 'source'>): boolean {
  if (rule.kinds !== undefined && !rule.kinds.includes(alert.source.kind)) return false;
  return rule.types.some((p) => typeMatches(p, alert.type));
}

/** The rule an alert change calls for, or undefined when it opens no case. */
export function ruleFor(policy: CasePolicy, alert: Pick<Alert, 'type' | 'source'>, event: 'raised' | 'case_due'): CaseRule | undefined {
  const raised = policy.onRaised.find((r) => ruleMatches(r, alert));
  if (event === 'raised') return raised;
  return raised ?? policy.onCaseDue.find((r) => ruleMatches(r, alert));
}

/** Every problem with a policy, at once. */
export function validateCasePolicy(policy: CasePolicy): string[] {
  const problems: string[] = [];
  const positive = (n: number) => Number.isFinite(n) && n > 0;
  if (!positive(policy.linkWindowMs)) problems.push('linkWindowMs must be > 0');
  if (!(policy.reopenWindowMs >= 0)) problems.push('reopenWindowMs must be ≥ 0');
  for (const urgency of ['urgent', 'normal'] as const) {
    for (const [step, d] of Object.entries(policy.sla.default[urgency] ?? {})) if (!positive(d.minutes)) problems.push(`sla.default.${urgency}.${step} must be > 0 minutes`);
    const ladder = policy.escalation[urgency] ?? [];
    if (ladder.length === 0 || ladder[0] !== 0) problems.push(`escalation.${urgency} must start with 0 (the deadline itself)`);
    for (let i = 1; i < ladder.length; i++) if (!((ladder[i] ?? 0) > (ladder[i - 1] ?? 0))) problems.push(`escalation.${urgency} must grow`);
  }
  for (const [category, byUrgency] of Object.entries(policy.sla.byCategory)) {
    for (const [urgency, steps] of Object.entries(byUrgency ?? {})) {
      for (const [step, d] of Object.entries(steps ?? {})) if (!positive(d.minutes)) problems.push(`sla.byCategory.${category}.${urgency}.${step} must be > 0 minutes`);
    }
  }
  for (const rule of [...policy.onRaised, ...policy.onCaseDue]) {
    if (rule.types.length === 0) problems.push(`a rule for '${rule.category}' names no alert types`);
  }
  return problems;
}
